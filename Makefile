# The two commands of the README. Both set up a virtual environment in .venv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

# llama-cpp-python compiles llama.cpp for this CPU (-march=native). Where a virtual machine's CPU
# advertises Intel AMX but the kernel does not enable it, that build dies with "Illegal
# instruction" at the first matrix product; AMX brings nothing to a 2-core CPU inference anyway,
# so it is left out. Set CMAKE_ARGS yourself to override.
ifeq ($(shell uname -m),x86_64)
NO_AMX := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
export CMAKE_ARGS ?= -DCMAKE_C_FLAGS='$(NO_AMX)' -DCMAKE_CXX_FLAGS='$(NO_AMX)'
endif

.PHONY: serve test install install-test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install -e .

install-test: $(BIN)/python
	$(BIN)/pip install -e '.[test]'

serve: install
	$(BIN)/sovrag serve

test: install-test
	$(BIN)/python -m pytest

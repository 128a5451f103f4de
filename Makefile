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

# pip's wheel cache is keyed by the source archive alone: a wheel it built earlier with other flags
# (for instance with AMX) would be reused whatever CMAKE_ARGS says. So llama-cpp-python is built
# here with pip's cache off, into a folder named after the version, the flags and this CPU's
# feature list, and installed only from there.
LLAMA_CPP ?= llama-cpp-python==0.3.36
WHEEL_KEY := $(shell (echo '$(LLAMA_CPP) $(CMAKE_ARGS)'; grep -m1 '^flags' /proc/cpuinfo 2>/dev/null) | sha256sum | cut -c1-16)
WHEELS ?= $(HOME)/.cache/sovrag/wheels/$(WHEEL_KEY)

.PHONY: serve test lint install install-test llama-cpp

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --upgrade pip

$(WHEELS)/.complete: | $(BIN)/python
	$(BIN)/pip wheel --no-cache-dir --no-deps --wheel-dir '$(WHEELS)' '$(LLAMA_CPP)'
	touch '$@'

llama-cpp: $(WHEELS)/.complete
	$(BIN)/pip install --find-links '$(WHEELS)' --only-binary llama-cpp-python '$(LLAMA_CPP)'

install: llama-cpp
	$(BIN)/pip install --find-links '$(WHEELS)' --only-binary llama-cpp-python -e .

install-test: llama-cpp
	$(BIN)/pip install --find-links '$(WHEELS)' --only-binary llama-cpp-python -e '.[test]'

serve: install
	$(BIN)/sovrag serve

test: install-test
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check rag ui tests bench
	$(BIN)/ruff format --check rag ui tests bench

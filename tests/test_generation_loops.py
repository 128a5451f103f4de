"""A reply that starts copying itself is cut where the repeat begins (small models loop to the cap)."""

from __future__ import annotations

from rag.assistant import Assistant
from rag.generator import LOOP_SPAN, loop_start

try:
    from tests.test_api_fixtures import ScriptedGenerator, tiny_runtime
except ImportError:  # run from inside tests/
    from test_api_fixtures import ScriptedGenerator, tiny_runtime

BLOCK = (
    "Interoperability solutions shall be made available through the portal [1]. "
    "Public sector bodies shall share them with other entities on request [1]. "
)


def test_short_or_varied_replies_are_not_loops():
    assert loop_start("The fine is up to EUR 35 000 000 [1].") is None
    varied = " ".join(
        f"Point {i} of Article {i + 3} sets out a separate obligation [1]." for i in range(12)
    )
    assert loop_start(varied) is None


def test_a_repeated_block_is_cut_before_the_repeat_at_a_sentence_end():
    looping = (BLOCK * 4)[: len(BLOCK) + LOOP_SPAN + 5]
    cut = loop_start(looping)
    assert cut is not None
    assert looping[:cut].strip() == BLOCK.strip()


def test_a_short_sentence_repeated_many_times_keeps_one_copy():
    looping = "The answer follows. " + "It applies [1]. " * 40
    assert looping[: loop_start(looping)].strip() == "The answer follows. It applies [1]."


def test_a_clause_shared_by_two_provisions_is_not_a_loop():
    clause = "of its total worldwide annual turnover for the preceding financial year, whichever is higher"
    answer = (
        f"Under the AI Act the cap is EUR 35 000 000 or 7 % {clause} [1]. "
        f"Under the GDPR it is EUR 20 000 000 or 4 % {clause} [2]."
    )
    assert loop_start(answer) is None


def test_a_repeat_shorter_than_the_span_is_kept():
    text = BLOCK + BLOCK[: LOOP_SPAN - 10]
    assert loop_start(text) is None


def test_the_assistant_stops_a_looping_model_and_keeps_one_copy(tmp_path):
    runtime = tiny_runtime(tmp_path)
    runtime._generator = generator = ScriptedGenerator(BLOCK * 10)
    answer = Assistant(runtime).answer("What do public sector bodies share on request?")
    assert generator.closed.is_set()
    assert answer.raw_text == BLOCK.strip()
    assert answer.text.count("portal") <= 1

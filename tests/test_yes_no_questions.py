"""A question the model declines, yes/no or not, abstains after one draft; replay's parameters.

A declined yes/no question used to be drafted again for "the rule that decides it". On dev2 those
second drafts gave 15 answers, 3 right and 12 wrong, against about half right overall: gone.
"""

from __future__ import annotations

import pytest

from rag.assistant import Assistant
from rag.prompts import NOT_FOUND

try:
    from tests.test_api_fixtures import ScriptedGenerator, tiny_runtime
except ImportError:  # run from inside tests/
    from test_api_fixtures import ScriptedGenerator, tiny_runtime


class DecliningGenerator(ScriptedGenerator):
    """Replies NOT_FOUND whenever that option is offered, else quotes source [1] (which verifies)."""

    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[str] = []

    def _reply_to(self, messages):
        prompt = messages[-1]["content"]
        self.prompts.append(prompt)
        return NOT_FOUND if f"Write {NOT_FOUND}" in prompt else super()._reply_to(messages)


@pytest.mark.parametrize(
    "question",
    [
        "Does the Interoperable Europe Act apply to public sector bodies?",
        "Which bodies does the Interoperable Europe Act apply to?",
    ],
)
def test_a_declined_question_abstains_after_one_draft(tmp_path, question):
    runtime = tiny_runtime(tmp_path)
    runtime._generator = generator = DecliningGenerator()
    answer = Assistant(runtime).answer(question)
    assert len(generator.prompts) == 1
    assert answer.abstained and answer.abstain_reason == "the model found no answer in the passages"


class RecordingGenerator(ScriptedGenerator):
    """Quotes source [1]; remembers each call's parameters and the shared settings it ran under."""

    def __init__(self, runtime) -> None:
        super().__init__()
        self.runtime = runtime
        self.params = []
        self.settings_seen = []

    def stream_chat(self, messages, params):
        self.params.append(params)
        self.settings_seen.append(self.runtime.settings.max_tokens)
        return super().stream_chat(messages, params)


def test_replay_uses_the_logged_parameters_without_changing_the_settings(tmp_path):
    """Replay passes the logged parameters to its own answer; the shared settings, which
    concurrent requests read, stay as they are."""
    runtime = tiny_runtime(tmp_path)
    runtime._generator = generator = RecordingGenerator(runtime)
    assistant = Assistant(runtime)
    answer = assistant.answer("Which bodies does the Interoperable Europe Act apply to?")
    entry = runtime.provenance.get(answer.id)
    entry["params"] = {"max_tokens": 77, "temperature": 0.5, "seed": 7}
    settings = runtime.settings
    result = assistant.replay(entry)
    assert runtime.settings is settings and settings.max_tokens != 77
    assert set(generator.settings_seen) == {settings.max_tokens}
    last = generator.params[-1]
    assert (last.max_tokens, last.temperature, last.seed) == (77, 0.5, 7)
    assert result["replayed_answer"] == answer.text

"""A yes/no question the model declines is asked again, for the rule that decides it (no verdict)."""

from __future__ import annotations

from rag.assistant import Assistant
from rag.prompts import NOT_FOUND, RULE_NOT_VERDICT

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


def _ask(tmp_path, question):
    runtime = tiny_runtime(tmp_path)
    runtime._generator = generator = DecliningGenerator()
    return Assistant(runtime).answer(question), generator


def test_a_declined_yes_no_question_is_answered_with_the_rule(tmp_path):
    answer, generator = _ask(
        tmp_path, "Does the Interoperable Europe Act apply to public sector bodies?"
    )
    assert len(generator.prompts) == 2
    assert RULE_NOT_VERDICT not in generator.prompts[0] and RULE_NOT_VERDICT in generator.prompts[1]
    assert f"Write {NOT_FOUND}" not in generator.prompts[1]
    assert not answer.abstained and answer.citations, answer.abstain_reason
    assert NOT_FOUND not in answer.text


def test_other_questions_are_not_asked_twice(tmp_path):
    answer, generator = _ask(tmp_path, "Which bodies does the Interoperable Europe Act apply to?")
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

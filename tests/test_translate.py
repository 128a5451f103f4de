"""The query translator's prompts, its clean-up of the model's reply, and its cache (fake model)."""

from __future__ import annotations

from rag.translate import QueryTranslator


class FakeGenerator:
    def __init__(self, reply: str) -> None:
        self.reply, self.messages = reply, []

    def stream_chat(self, messages, params):
        self.messages.append(messages)
        yield self.reply


def test_translation_prompt_names_both_languages():
    model = FakeGenerator("When must a breach be notified?")
    translator = QueryTranslator(lambda: model)
    assert translator("Wann muss gemeldet werden?", "de", "en") == "When must a breach be notified?"
    assert "from German into English" in model.messages[0][1]["content"]


def test_translation_is_cleaned_and_cached():
    model = FakeGenerator('Translation: "When must a breach be notified?"')
    translator = QueryTranslator(lambda: model)
    for _ in range(2):
        assert translator("Wann muss gemeldet werden?", "de") == "When must a breach be notified?"
    assert translator.calls == 1 and len(model.messages) == 1


def test_unusable_replies_give_none():
    question = "Wann muss eine Verletzung gemeldet werden?"
    assert QueryTranslator(lambda: FakeGenerator(question))(question, "de") is None
    assert QueryTranslator(lambda: FakeGenerator(""))(question, "de") is None
    rambling = "word " * 200
    assert QueryTranslator(lambda: FakeGenerator(rambling))(question, "de") is None

"""The real llm and embeddings adapters through the providers' own libraries, against recorded responses
(tests/fixtures/anthropic, tests/fixtures/openai) served by an httpx2 MockTransport: no network."""
from __future__ import annotations

import json
from pathlib import Path

import httpx2
import pytest

from nexdrive.adapters import embeddings, llm
from nexdrive.adapters import choose_adapters
from nexdrive.settings import Settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def recorded(provider: str, name: str, status: int = 200):
    body = (FIXTURES / provider / name).read_text()
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return httpx2.Response(status, content=body.encode(), headers={"content-type": "application/json"})

    return httpx2.Client(transport=httpx2.MockTransport(handler)), seen


PASSAGES = [llm.Passage(1, "Standard lesson", "Standard lesson, 60 minutes. Price: {{price:standard-lesson}}."),
            llm.Passage(2, "Cancellation policy", "{{policy:cancellation}}")]


def test_claude_answers_from_the_passages_and_cites_them():
    client, seen = recorded("anthropic", "messages_answer.json")
    model = llm.AnthropicModel(Settings(anthropic_api_key="sk-ant-test"), http_client=client)
    answer = model.answer("How much is a lesson?", PASSAGES)
    assert answer is not None and answer.cited == [1, 2]
    assert "{{price:standard-lesson}}" in answer.text and "[1]" not in answer.text
    [request] = seen
    auth = request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    assert request.url.path == "/v1/messages" and "sk-ant-test" in auth
    sent = json.loads(request.content)
    assert sent["model"] == llm.DEFAULT_MODEL and "ONLY from the numbered passages" in sent["system"]
    assert "<question>How much is a lesson?</question>" in sent["messages"][0]["content"]
    assert "[1] Standard lesson" in sent["messages"][0]["content"]


def test_claude_saying_no_answer_gives_none():
    client, _ = recorded("anthropic", "messages_no_answer.json")
    model = llm.AnthropicModel(Settings(anthropic_api_key="sk-ant-test"), http_client=client)
    assert model.answer("What is the capital of France?", PASSAGES) is None


def test_claude_classifies_into_the_given_labels_only():
    client, seen = recorded("anthropic", "messages_classify.json")
    model = llm.AnthropicModel(Settings(anthropic_api_key="sk-ant-test"), http_client=client)
    assert model.classify("any spots saturday?", ("question", "booking")) == "booking"
    assert model.classify("any spots saturday?", ("question", "complaint")) is None  # not one of ours


def test_claude_errors_surface_as_the_library_error():
    import anthropic
    client, _ = recorded("anthropic", "error_overloaded.json", status=529)
    model = llm.AnthropicModel(Settings(anthropic_api_key="sk-ant-test"), http_client=client)
    with pytest.raises(anthropic.APIStatusError):
        model.answer("How much is a lesson?", PASSAGES)


def test_offline_extractive_model_quotes_the_best_sentences_with_sources():
    model = llm.ExtractiveModel()
    passages = [llm.Passage(1, "Log book hours", "If you are under 25, you need 100 hours. Including 10 at night. "
                                                "Older learners need 50 hours."),
                llm.Passage(2, "What to bring", "Bring your learner licence.")]
    answer = model.answer("How many log book hours do I need if I'm under 25?", passages)
    assert answer is not None and answer.cited == [1] and "100 hours" in answer.text
    assert model.answer("capital of France", passages) is None
    assert model.classify("anything", ("question",)) is None


def test_openai_embeddings_ask_for_1536_dimensions():
    client, seen = recorded("openai", "embeddings_two.json")
    port = embeddings.OpenAIEmbeddings(Settings(openai_api_key="sk-test"), http_client=client)
    vectors = port.embed(["first", "second"])
    assert vectors is not None and len(vectors) == 2 and all(len(v) == 1536 for v in vectors)
    [request] = seen
    sent = json.loads(request.content)
    assert request.url.path == "/v1/embeddings"
    assert sent["model"] == "text-embedding-3-large" and sent["dimensions"] == 1536 and sent["input"] == ["first",
                                                                                                         "second"]


def test_offline_embeddings_are_none_and_the_choice_follows_the_keys():
    assert embeddings.NoEmbeddings().embed(["x"]) is None
    live = {c.port: c.mode for c in choose_adapters(Settings(anthropic_api_key="k", openai_api_key="k"))}
    assert live["llm"] == "live" and live["embeddings"] == "live"
    off = {c.port: c.mode for c in choose_adapters(Settings(anthropic_api_key="", openai_api_key=""))}
    assert off["llm"] == "offline" and off["embeddings"] == "offline"

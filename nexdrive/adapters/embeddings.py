"""The embeddings port: OpenAI ``text-embedding-3-large`` at 1,536 dimensions when OPENAI_API_KEY is set.

Offline there are no embeddings (``NoEmbeddings.embed`` returns None) and retrieval is
PostgreSQL full-text search alone; with embeddings it is hybrid (docs/decisions/0010-vectors.md:
pgvector cannot index 3,072 dimensions, so we ask the API for 1,536).

``OpenAIEmbeddings`` takes an optional ``http_client`` (an ``httpx2.Client``) so tests serve
recorded API responses through the ``openai`` library itself, with no network.
"""
from __future__ import annotations

from typing import Any, Protocol

from nexdrive.settings import Settings

MODEL = "text-embedding-3-large"
DIMENSIONS = 1536
BATCH = 96


class Embeddings(Protocol):
    model: str | None
    live: bool

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        """One vector per text, or None when this port has no embeddings."""


class NoEmbeddings:
    model = None
    live = False

    def __init__(self, settings: Settings | None = None):
        pass

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        return None


class OpenAIEmbeddings:
    live = True
    model = MODEL

    def __init__(self, settings: Settings, *, http_client: Any = None, base_url: str | None = None,
                 timeout: float = 20.0):
        import openai

        kwargs: dict[str, Any] = {"api_key": settings.openai_api_key, "max_retries": 1, "timeout": timeout}
        if http_client is not None:
            kwargs["http_client"] = http_client
        if base_url:
            kwargs["base_url"] = base_url
        self.client = openai.OpenAI(**kwargs)

    def embed(self, texts: list[str]) -> list[list[float]] | None:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            batch = texts[i:i + BATCH]
            result = self.client.embeddings.create(model=MODEL, input=batch, dimensions=DIMENSIONS)
            ordered = sorted(result.data, key=lambda d: d.index)
            if len(ordered) != len(batch) or any(len(d.embedding) != DIMENSIONS for d in ordered):
                raise ValueError("the embeddings API returned an unexpected shape")
            vectors += [list(d.embedding) for d in ordered]
        return vectors

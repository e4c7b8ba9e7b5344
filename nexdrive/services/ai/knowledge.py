"""The knowledge engine (C07): what the assistant knows, indexed in PostgreSQL, and answers with sources.

Documents come from a few sources, each under a stable ``source_key`` so re-indexing updates in place:

* ``faq:*`` — the FAQ page's questions and answers (passed in by the wiring layer, which owns the page);
* ``service:<id>`` and ``prices:list`` — the lesson types from the ``services`` table. Their prices are
  never copied into the text: the text holds ``{{price:<id>}}`` / ``{{price_list}}`` and the price is
  read from the table when an answer is given;
* ``policy:*`` — cancellation, payment, contact, booking notice and lesson hours, as placeholders filled
  from ``business_settings`` and the availability rules at answer time;
* ``act:*`` — ACT learner-licence and CBT&A facts from ``act_facts.json``, each with its public source;
* ``hub:<slug>`` — the Competency Hub's pages (``compliance.hub``, read from its data files), source type
  ``hub``, each citing its public page ``/hub/<slug>``. Re-indexing follows the files: a corrected page is
  re-chunked, an unchanged one skipped, a removed one pruned.

Private notes, lesson comments and anyone's personal data are never indexed: no source reads those
tables, and a document that contains an email address or a phone number is refused.

Retrieval is full-text search always (``content_tsv`` with its GIN index) and, when the embeddings port
has embeddings, pgvector (1,536 dimensions, HNSW cosine) too, fused by reciprocal rank fusion.
``answer_question`` passes the best passages to the llm port (Claude live, extractive offline); an
answer below ``CONFIDENCE_THRESHOLD`` is marked ``needs_handoff`` and the conversation passes it on.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, select

from nexdrive.adapters import get_adapter
from nexdrive.adapters.llm import ModelAnswer, Passage
from nexdrive.errors import NotFound, ValidationFailed
from nexdrive.formats import au_when, aud
from nexdrive.models import BusinessSettings, RagChunk, RagDocument, Service
from nexdrive.services.compliance import hub
from nexdrive.services.core import access, clock
from nexdrive.services.core.actors import Actor
from nexdrive.services.messaging import notify
from nexdrive.services.scheduling import catalogue

ACT_FACTS_PATH = Path(__file__).with_name("act_facts.json")
CONFIDENCE_THRESHOLD = 0.5
# Confidence (issue 15): the passage must cover the question's content words, and a question about something
# the school does not teach (out_of_scope lexicon) is never answered from a passage that doesn't name it.
# False = the first version's word overlap alone (scripts/eval_assistant.py prints both).
CONFIDENCE_RULES = True
# Words a question about anything here may use: they do not say what the question is about.
GENERIC_WORDS = (
    "lesson lessons driving drive drives driver drivers licence license licences learner learners car cars "
    "book booking much cost costs price prices need needs get want wanted instead also please like know tell "
    "help question school nexdrive academy canberra act offer offers teach teaches take make many long one "
    "someone son daughter child kid kids mum dad parent thanks thank hi hello hey")
# What the school does not do: a question naming one of these is answered only from a passage naming it too.
OUT_OF_SCOPE = re.compile(
    r"\b(motor ?bikes?|dirt ?bikes?|motor ?cycl\w*|scooters?|mopeds?|trucks?|lorr(?:y|ies)|heavy (?:rigid|vehicles?|"
    r"combination)|semi[- ]?trailers?|(?:hr|mr|hc|lr|mc) (?:class |licen[cs]e)|buses|bus (?:licen[cs]e|driver)|"
    r"taxis?|uber|rideshare|boats?|boating|jet ?skis?|forklifts?|tractors?|caravans?|aeroplanes?|planes?|"
    r"aircraft|pilots?)\b", re.I)
RRF_K = 60
CHUNK_CHARS = 700
MAX_QUESTION = 500
ALLOWED_SOURCE_TYPES = ("faq", "business", "regulation", "educational", "blog", "hub")
CUSTOM_SOURCE_TYPES = ("faq", "business", "regulation", "educational", "blog")  # "hub" comes from its data files
BUILTIN_FAMILIES = ("service:", "prices:", "policy:", "act:", "hub:")
HUB_PREFIX = "hub:"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_PHONE = re.compile(r"(?:\+?61 ?|0)[2-478](?:[ -]?\d){8}")
_PLACEHOLDER = re.compile(r"\{\{(price|policy|setting|price_list|hours)(?::([\w-]+))?\}\}")
_MONEY = re.compile(r"\$\s?\d")
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")


@dataclass(frozen=True)
class SourceDocument:
    key: str  # stable: 'faq:logbook-0', 'service:<id>', 'policy:cancellation', 'act:learner-hours'
    title: str
    source_type: str  # rag_documents.source_type
    text: str  # may hold {{price:<service id>}}, {{policy:<key>}}, {{setting:<column>}}, {{price_list}}, {{hours}}
    url: str | None = None  # the public page an answer cites


@dataclass
class Hit:
    chunk_id: uuid.UUID
    document_id: uuid.UUID
    title: str
    content: str  # as stored: placeholders not yet filled
    source_key: str | None
    source_url: str | None
    coverage: float = 0.0  # share of the question's words found in the passage
    title_coverage: float = 0.0  # share of them in the document's title
    similarity: float | None = None  # cosine similarity, when vectors were searched
    score: float = 0.0  # reciprocal rank fusion
    content_coverage: float | None = None  # share of the question's content words (not generic ones) found

    @property
    def confidence(self) -> float:
        vector = 0.0 if self.similarity is None else min(1.0, max(0.0, (self.similarity - 0.25) / 0.5))
        overlap = max(self.coverage, vector)
        if not CONFIDENCE_RULES or self.content_coverage is None:
            return round(overlap, 2)
        # The passage must cover what the question is about, not just its generic words ("licence", "lesson"):
        # "a motorbike licence instead?" shares two words with the CBT&A passage but not the one that matters.
        return round(min(overlap, max(self.content_coverage, vector)), 2)


@dataclass(frozen=True)
class Answer:
    text: str
    sources: list[dict] = field(default_factory=list)  # {"title", "url", "key"}
    confidence: float = 0.0
    needs_handoff: bool = False


# ─────────────────────────────────────────────────────────────────────────────
# Sources
# ─────────────────────────────────────────────────────────────────────────────

def act_facts() -> list[SourceDocument]:
    data = json.loads(ACT_FACTS_PATH.read_text())
    return [SourceDocument(f"act:{f['key']}", f["title"], "regulation", f["text"], f["source_url"])
            for f in data["facts"]]


def service_documents(session: Session) -> list[SourceDocument]:
    """One document per active lesson type, and a price list; prices stay placeholders."""
    docs = []
    services = session.exec(select(Service).where(Service.is_active.is_(True))
                            .order_by(Service.sort_order, Service.name)).all()
    for s in services:
        label = catalogue.CATEGORY_LABELS.get(s.category, "Lessons")
        note = catalogue.ELIGIBILITY_NOTES.get(s.eligibility_kind or "", "")
        how = "Book it online." if s.is_bookable_online else "Book it by phone."
        text = (f"{s.name} ({label}, {s.duration_minutes} minutes) costs {{{{price:{s.id}}}}}: the price, how much "
                f"it costs, the fee. {(s.description or '').strip()} {note} {how}")
        docs.append(SourceDocument(f"service:{s.id}", s.name, "business", " ".join(text.split()), "/lessons"))
    if services:
        docs.append(SourceDocument("prices:list", "Lesson prices (price list)", "business",
                                   "Our lesson prices, what each lesson costs: {{price_list}}. {{policy:gst_note}}",
                                   "/lessons"))
    return docs


def policy_documents() -> list[SourceDocument]:
    return [
        SourceDocument("policy:cancellation", "Cancelling or moving a lesson (cancellation policy)", "business",
                       "{{policy:cancellation}} {{policy:late_cancellation}} To cancel or reschedule a lesson, use "
                       "the link in your booking confirmation, or ask us here.", "/terms"),
        SourceDocument("policy:payment", "Paying for lessons (payment policy)", "business",
                       "{{policy:payment_terms}} {{policy:gst_note}} {{policy:confirmation_terms}}", "/terms"),
        SourceDocument("policy:contact", "Contacting NexDrive Academy (phone and email)", "business",
                       "You can call or text us on {{policy:phone_display}}. Our email address is {{policy:email}}.",
                       "/contact"),
        SourceDocument("policy:notice", "How far ahead to book a lesson (booking notice)", "business",
                       "Lessons can be booked online at least {{setting:min_booking_notice_hours}} hours ahead, and "
                       "up to {{setting:booking_horizon_days}} days ahead.", "/book"),
        SourceDocument("policy:hours", "Lesson hours (when lessons run, opening hours)", "business",
                       "Our lesson hours (opening hours, business hours): lessons run {{hours}}. The free times for "
                       "each day are shown when you book.", "/book"),
    ]


def hub_documents() -> list[SourceDocument]:
    """The Competency Hub's pages (public content from its data files), each citing ``/hub/<slug>``."""
    return [SourceDocument(f"{HUB_PREFIX}{slug}", title, "hub", text, f"{hub.ROUTE}/{slug}")
            for slug, title, text in hub.hub_documents()]


def builtin_documents(session: Session) -> list[SourceDocument]:
    return service_documents(session) + policy_documents() + act_facts() + hub_documents()


def faq_documents(entries: list[dict]) -> list[SourceDocument]:
    """The FAQ page's entries ({"key", "question", "answer", "url"}) as documents."""
    return [SourceDocument(f"faq:{e['key']}", e["question"], "faq", e["answer"], e.get("url")) for e in entries]


# ─────────────────────────────────────────────────────────────────────────────
# Indexing
# ─────────────────────────────────────────────────────────────────────────────

def check_public(doc: SourceDocument) -> None:
    """Refuse anything that could carry personal data or isn't one of the public source types."""
    if doc.source_type not in ALLOWED_SOURCE_TYPES:
        raise ValidationFailed("That kind of document can't be added to the assistant.", field="source_type")
    if not doc.key or not doc.title.strip() or not doc.text.strip():
        raise ValidationFailed("A document needs a key, a title and some text.", field="text")
    for part in (doc.title, doc.text):
        # Placeholders are ours (``{{price:<service uuid>}}``): a uuid such as ...0439-5497-45... reads as a phone.
        part = _PLACEHOLDER.sub(" ", part)
        if _EMAIL.search(part) or _PHONE.search(part):
            raise ValidationFailed("Documents for the assistant must not contain email addresses or phone "
                                   "numbers (use {{policy:email}} or {{policy:phone_display}}).", field="text")


def chunk_text(title: str, text: str, limit: int = CHUNK_CHARS) -> list[str]:
    """Paragraph- then sentence-sized pieces of at most ``limit`` characters, each starting with the title."""
    pieces: list[str] = []
    current = ""
    for sentence in re.split(r"(?<=[.!?])\s+|\n{2,}", " ".join(text.split("\n\n"))):
        sentence = " ".join(sentence.split())
        if not sentence:
            continue
        if current and len(current) + 1 + len(sentence) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return [f"{title}.\n{p}" for p in pieces]


def _hash(doc: SourceDocument) -> str:
    return hashlib.sha256(json.dumps([doc.title, doc.source_type, doc.text, doc.url]).encode()).hexdigest()


def index_documents(session: Session, actor: Actor, documents: list[SourceDocument] | None = None, *,
                    include_builtin: bool = True, prune: bool = True, force: bool = False) -> dict:
    """Add or update documents (by key), chunk and index them; remove built-in ones whose source is gone.

    Unchanged documents are skipped (unless ``force``). With the embeddings port live, chunks get vectors too."""
    access.require_manage_knowledge(actor)
    docs = list(documents or []) + (builtin_documents(session) if include_builtin else [])
    seen: dict[str, SourceDocument] = {}
    for doc in docs:
        check_public(doc)
        seen[doc.key] = doc
    session.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('nexdrive:knowledge-index'))"))
    existing = {d.source_key: d for d in session.exec(select(RagDocument).where(RagDocument.source_key.is_not(None)))}
    embedder = get_adapter("embeddings")
    stats = {"added": 0, "updated": 0, "unchanged": 0, "removed": 0, "chunks": 0}
    for key, doc in seen.items():
        digest = _hash(doc)
        row = existing.get(key)
        if row is not None and row.content_hash == digest and row.status == "indexed" and not force:
            stats["unchanged"] += 1
            continue
        if row is None:
            row = RagDocument(title=doc.title, source_type=doc.source_type, source_key=key)
            stats["added"] += 1
        else:
            session.execute(sa.delete(RagChunk).where(RagChunk.document_id == row.id))
            stats["updated"] += 1
        chunks = chunk_text(doc.title, doc.text)
        vectors = embedder.embed(chunks) if chunks else None
        row.title, row.source_type, row.source_url, row.content_hash = doc.title, doc.source_type, doc.url, digest
        row.status, row.chunk_count = "indexed", len(chunks)
        if key.startswith(CUSTOM_PREFIX):
            row.meta = {**(row.meta or {}), "text": doc.text}  # the admin's own words, to edit and re-index
        row.last_indexed_at = session.execute(sa.text("SELECT now()")).scalar_one()
        session.add(row)
        session.flush()
        for i, content in enumerate(chunks):
            session.add(RagChunk(document_id=row.id, chunk_index=i, content=content,
                                 embedding=vectors[i] if vectors else None,
                                 embedding_model=embedder.model if vectors else None,
                                 meta={"source_key": key}))
        stats["chunks"] += len(chunks)
    if prune:
        families = BUILTIN_FAMILIES if include_builtin else ()
        if any(k.startswith("faq:") for k in seen):
            families += ("faq:",)
        for key, row in existing.items():
            if key not in seen and key.startswith(families):
                session.delete(row)  # chunks go with it (ON DELETE CASCADE)
                stats["removed"] += 1
    session.flush()
    return stats


def index_faq(session: Session, actor: Actor, entries: list[dict]) -> dict:
    """Re-index the FAQ alone, after the owner edits it: new and changed entries (re)indexed, unchanged ones
    left, entries no longer given (deleted or unpublished) removed. ``entries`` as for ``faq_documents``."""
    access.require_manage_knowledge(actor)
    docs = faq_documents(entries)
    stats = index_documents(session, actor, docs, include_builtin=False, prune=False)
    keep = {d.key for d in docs}
    for row in session.exec(select(RagDocument).where(RagDocument.source_key.like("faq:%"))).all():
        if row.source_key not in keep:
            session.delete(row)  # chunks go with it (ON DELETE CASCADE)
            stats["removed"] += 1
    session.flush()
    return stats


def ensure_indexed(session: Session) -> None:
    """Index the built-in sources if nothing is indexed yet (a fresh database still answers)."""
    indexed = session.execute(sa.text("SELECT 1 FROM rag_documents WHERE source_key IS NOT NULL AND "
                                      "status = 'indexed' LIMIT 1")).first()
    if indexed is None:
        from nexdrive.services.core.actors import SYSTEM
        index_documents(session, SYSTEM, prune=False)


# ─────────────────────────────────────────────────────────────────────────────
# The admin's knowledge page: list, read, add, edit, remove, re-index
# ─────────────────────────────────────────────────────────────────────────────

CUSTOM_PREFIX = "custom:"
MAX_TITLE = 160
MAX_TEXT = 12000
MAX_URL = 300
SOURCE_TYPE_LABELS = {"faq": "FAQ", "business": "Business", "regulation": "ACT rules", "educational": "Guide",
                      "blog": "Article", "hub": "Competency Hub"}
_URL = re.compile(r"^(/[\w\-./#?=&%]*|https://[\w\-.]+(/[\w\-./#?=&%]*)?)$")
_KEY = re.compile(r"[^a-z0-9]+")


def family(key: str) -> str:
    """Where a document comes from: 'custom' (the admin's own), 'faq' (the FAQ page), 'hub' (the Competency
    Hub's data files) or 'builtin'."""
    if key.startswith(CUSTOM_PREFIX):
        return "custom"
    if key.startswith(HUB_PREFIX):
        return "hub"
    return "faq" if key.startswith("faq:") else "builtin"


def validate_custom(title: str, source_type: str, text: str, url: str) -> tuple[str, str, str, str]:
    """The admin's document, cleaned and checked: lengths, a public source type, a site path or https link,
    and no personal data (``check_public``)."""
    title = " ".join((title or "").split())
    text = "\n\n".join(" ".join(p.split()) for p in (text or "").replace("\x00", "").split("\n\n") if p.strip())
    url = (url or "").strip()
    if not title:
        raise ValidationFailed("Give the document a title.", field="title")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"Keep the title under {MAX_TITLE} characters.", field="title")
    if len(text) < 20:
        raise ValidationFailed("Write at least a sentence (20 characters).", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"Keep the text under {MAX_TEXT:,} characters (split it into documents).",
                               field="text")
    if source_type not in CUSTOM_SOURCE_TYPES:
        raise ValidationFailed("That kind of document can't be added here (Hub pages come from their data "
                               "files).", field="source_type")
    if url and (len(url) > MAX_URL or not _URL.match(url)):
        raise ValidationFailed("The source must be a page of this site (starting with /) or an https:// link.",
                               field="url")
    check_public(SourceDocument("custom:check", title, source_type, text, url or None))
    return title, source_type, text, url


def save_document(session: Session, actor: Actor, *, title: str, source_type: str, text: str, url: str = "",
                  key: str = "") -> dict:
    """Add one of the admin's own documents (no ``key``) or change one (``custom:...``), and index it now."""
    access.require_manage_knowledge(actor)
    title, source_type, text, url = validate_custom(title, source_type, text, url)
    if key:
        if not key.startswith(CUSTOM_PREFIX):
            raise ValidationFailed("Built-in documents change where they come from (the lesson types, settings "
                                   "or FAQ page); re-index to pick the change up.", field="key")
        if session.exec(select(RagDocument).where(RagDocument.source_key == key)).first() is None:
            raise NotFound("That document is not in the knowledge base.")
    else:
        base = CUSTOM_PREFIX + (_KEY.sub("-", title.lower()).strip("-")[:60] or "document")
        taken = set(session.execute(sa.text("SELECT source_key FROM rag_documents WHERE source_key LIKE :p"),
                                    {"p": base.replace("%", "") + "%"}).scalars())
        key, n = base, 2
        while key in taken:
            key, n = f"{base}-{n}", n + 1
    stats = index_documents(session, actor, [SourceDocument(key, title, source_type, text, url or None)],
                            include_builtin=False, prune=False)
    return {"key": key, **stats}


def get_document(session: Session, actor: Actor, key: str) -> dict:
    """One document with its chunks as indexed (and, for the admin's own, its text to edit)."""
    access.require_manage_knowledge(actor)
    row = session.exec(select(RagDocument).where(RagDocument.source_key == key)).first()
    if row is None:
        raise NotFound("That document is not in the knowledge base.")
    chunks = session.exec(select(RagChunk).where(RagChunk.document_id == row.id).order_by(RagChunk.chunk_index)).all()
    return {"key": key, "title": row.title, "source_type": row.source_type,
            "source_label": SOURCE_TYPE_LABELS.get(row.source_type, row.source_type), "url": row.source_url or "",
            "status": row.status, "family": family(key), "text": (row.meta or {}).get("text", ""),
            "indexed": au_when(row.last_indexed_at) if row.last_indexed_at else "",
            "chunks": [{"index": c.chunk_index + 1, "content": c.content, "chars": len(c.content),
                        "vector": c.embedding is not None} for c in chunks]}


def custom_documents(session: Session) -> list[SourceDocument]:
    rows = session.exec(select(RagDocument).where(RagDocument.source_key.like(CUSTOM_PREFIX + "%"))).all()
    return [SourceDocument(r.source_key, r.title, r.source_type, (r.meta or {}).get("text", ""), r.source_url)
            for r in rows if (r.meta or {}).get("text")]


def reindex_all(session: Session, actor: Actor, faq: list[dict] | None = None, *, force: bool = True) -> dict:
    """Re-index everything: the built-in sources (live lesson types, settings, ACT facts), the FAQ page's
    entries when given, and the admin's own documents."""
    access.require_manage_knowledge(actor)
    docs = faq_documents(faq or []) + custom_documents(session)
    return index_documents(session, actor, docs, force=force)


def remove_document(session: Session, actor: Actor, key: str) -> bool:
    access.require_manage_knowledge(actor)
    row = session.exec(select(RagDocument).where(RagDocument.source_key == key)).first()
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def list_documents(session: Session, actor: Actor) -> list[dict]:
    access.require_manage_knowledge(actor)
    rows = session.exec(select(RagDocument).order_by(RagDocument.source_key)).all()
    return [{"id": str(r.id), "key": r.source_key or "", "title": r.title, "source_type": r.source_type,
             "source_label": SOURCE_TYPE_LABELS.get(r.source_type, r.source_type), "family": family(r.source_key or ""),
             "status": r.status, "chunks": r.chunk_count, "url": r.source_url or ""} for r in rows]


# ─────────────────────────────────────────────────────────────────────────────
# Retrieval
# ─────────────────────────────────────────────────────────────────────────────


# One statement does the whole search (scripts/bench_retrieval.py): full-text candidates, ranked, the HNSW
# nearest neighbours when a query vector is given, and their reciprocal rank fusion; the chunk and document
# columns are read for the fused few only.
#
# * Full-text: a question's words all match (AND) first; only when that finds fewer than :k, any of them (OR).
#   Each list reads at most :cap candidates (the GIN index finds them; for a very common word the planner may
#   scan until it has :cap, which is cheaper than reading the word's whole posting list) and ranks those only,
#   from the candidate row itself (no second visit per candidate), so a search stays fast however big the corpus.
# * Vectors: the HNSW index answers ``ORDER BY embedding <=> :v LIMIT :k`` on rag_chunks alone, with
#   ``hnsw.ef_search`` set for this transaction (``set_config(..., true)`` = ``SET LOCAL``) with the lexemes.
# * Fusion: each list's rank r (from 0) scores 1 / (RRF_K + r + 1), summed over the lists a chunk is in.
_FTS_PART = """
    fts_all AS MATERIALIZED (
        SELECT id, ts_rank_cd(content_tsv, CAST(:tsq_and AS tsquery), 1) AS rank
        FROM rag_chunks WHERE content_tsv @@ CAST(:tsq_and AS tsquery) LIMIT :cap),
    fts_any AS MATERIALIZED (
        SELECT id, ts_rank_cd(content_tsv, CAST(:tsq_or AS tsquery), 1) AS rank
        FROM rag_chunks WHERE :use_or AND content_tsv @@ CAST(:tsq_or AS tsquery)
          AND (SELECT count(*) FROM fts_all) < :k
        LIMIT :cap),
    ranked AS (
        (SELECT id, row_number() OVER (ORDER BY rank DESC, id) AS pos FROM fts_all ORDER BY rank DESC, id LIMIT :k)
        UNION ALL
        (SELECT id, row_number() OVER (ORDER BY rank DESC, id) FROM fts_any ORDER BY rank DESC, id LIMIT :k)"""
_VECTOR_PART = """
        UNION ALL
        SELECT id, row_number() OVER (ORDER BY distance) FROM nearest)"""
_NEAREST = """
    nearest AS MATERIALIZED (
        SELECT id, embedding <=> CAST(:v AS vector) AS distance FROM rag_chunks
        WHERE embedding IS NOT NULL ORDER BY embedding <=> CAST(:v AS vector) LIMIT :k),"""
_FUSE = """
    fused AS (SELECT id, sum(1.0 / ({rrf} + pos)) AS score FROM ranked GROUP BY id)
    SELECT c.id, c.document_id, c.content, d.title, d.source_key, d.source_url, f.score,
           tsvector_to_array(c.content_tsv) AS lexemes, tsvector_to_array(to_tsvector('english', d.title)) AS tlex,
           {similarity} AS similarity
    FROM fused f JOIN rag_chunks c ON c.id = f.id JOIN rag_documents d ON d.id = c.document_id {join}
    WHERE d.status = 'indexed'
""".replace("{rrf}", str(RRF_K))
_SEARCH_FTS = sa.text("WITH" + _FTS_PART + ")," + _FUSE.format(similarity="NULL::float8", join=""))
_SEARCH_HYBRID = sa.text("WITH" + _NEAREST + _FTS_PART + _VECTOR_PART + "," + _FUSE.format(
    similarity="1 - n.distance", join="LEFT JOIN nearest n ON n.id = f.id"))
_LEXEMES = sa.text("SELECT tsvector_to_array(to_tsvector('english', :q)), set_config('hnsw.ef_search', :ef, true)")
FTS_CANDIDATES = 200
# HNSW candidate list for a search (pgvector's default is 40): it must be at least the number of neighbours
# asked for (:k = 20); 40 keeps recall on the synthetic 100,000-chunk corpus while halving the graph walk of 100.
EF_SEARCH = 40


def query_lexemes(session: Session, query: str) -> set[str]:
    return set(session.execute(sa.text("SELECT tsvector_to_array(to_tsvector('english', :q))"),
                               {"q": query}).scalar_one() or [])


def _lexeme_query(lexemes: set[str], op: str) -> str:
    """A tsquery of these (already stemmed) lexemes, each quoted so no character is read as an operator."""
    return op.join("'" + w.replace("\\", "").replace("'", "''") + "'" for w in sorted(lexemes))


def search(session: Session, query: str, *, limit: int = 5, vector: list[float] | None = None,
           use_embeddings: bool = True) -> list[Hit]:
    """The best chunks for ``query``: full-text always, fused with vector search when there are vectors.

    Two round trips: the question's lexemes (stemmed by the database, as the index is), then one statement."""
    query = (query or "")[:MAX_QUESTION]
    wanted = set(session.execute(_LEXEMES, {"q": query, "ef": str(EF_SEARCH)}).scalar_one() or [])
    if vector is None and use_embeddings:
        embedder = get_adapter("embeddings")
        if embedder.live and _has_vectors(session):
            vector = (embedder.embed([query]) or [None])[0]
    if not wanted and vector is None:
        return []
    depth = max(limit * 4, 20)
    params = {"tsq_and": _lexeme_query(wanted, " & ") if wanted else None,
              "tsq_or": _lexeme_query(wanted, " | ") if wanted else None,
              "use_or": len(wanted) > 1, "k": depth, "cap": FTS_CANDIDATES}
    if vector is not None:
        params["v"] = _vector_literal(vector)
    rows = session.execute(_SEARCH_HYBRID if vector is not None else _SEARCH_FTS, params).all()
    content = wanted - generic_lexemes(session)
    hits = []
    for r in rows:
        found, in_title = set(r.lexemes or []), set(r.tlex or [])
        hits.append(Hit(r.id, r.document_id, r.title, r.content, r.source_key, r.source_url,
                        coverage=len(wanted & found) / len(wanted) if wanted else 0.0,
                        title_coverage=len(wanted & in_title) / len(wanted) if wanted else 0.0,
                        content_coverage=len(content & (found | in_title)) / len(content) if content else None,
                        similarity=None if r.similarity is None else float(r.similarity), score=float(r.score)))
    # Reciprocal rank fusion, with a small lift for passages whose document title names the question's words.
    hits.sort(key=lambda h: (-(h.coverage + 0.5 * h.title_coverage + 20 * h.score), str(h.chunk_id)))
    return hits[:limit]


_GENERIC: set[str] | None = None


def generic_lexemes(session: Session) -> set[str]:
    """GENERIC_WORDS as the database's own lexemes (stemmed the way the index is), read once."""
    global _GENERIC
    if _GENERIC is None:
        _GENERIC = query_lexemes(session, GENERIC_WORDS)
    return _GENERIC


def off_topic(question: str, hit: Hit) -> bool:
    """The question names something the school does not do (OUT_OF_SCOPE) and the passage does not name it."""
    if not CONFIDENCE_RULES:
        return False
    named = {m.group(0).lower() for m in OUT_OF_SCOPE.finditer(question or "")}
    passage = (hit.title + " " + hit.content).lower()
    return any(word not in passage for word in named)


def _has_vectors(session: Session) -> bool:
    return session.execute(sa.text("SELECT 1 FROM rag_chunks WHERE embedding IS NOT NULL LIMIT 1")).first() is not None


def _vector_literal(vector: list[float]) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in vector) + "]"


# ─────────────────────────────────────────────────────────────────────────────
# Live facts: prices and policy numbers come from the database at answer time
# ─────────────────────────────────────────────────────────────────────────────

class LiveFacts:
    """Fills placeholders from the database, reading each source at most once per answer."""

    def __init__(self, session: Session):
        self.session = session
        self._policy: dict | None = None
        self._settings: BusinessSettings | None = None
        self._services: dict[str, Service] | None = None

    def policy(self) -> dict:
        if self._policy is None:
            self._policy = catalogue.booking_policy(self.session)
        return self._policy

    def services(self) -> dict[str, Service]:
        if self._services is None:
            rows = self.session.exec(select(Service).where(Service.is_active.is_(True))
                                     .order_by(Service.sort_order, Service.name)).all()
            self._services = {str(s.id): s for s in rows}
        return self._services

    def value(self, kind: str, key: str | None) -> str:
        if kind == "price":
            service = self.services().get(key or "")
            return aud(service.price_cents) if service else "(price on request)"
        if kind == "price_list":
            return "; ".join(f"{s.name} ({s.duration_minutes} min) {aud(s.price_cents)}"
                             for s in self.services().values() if s.is_bookable_online)
        if kind == "policy":
            return str(self.policy().get(key or "", "") or "")
        if kind == "setting":
            if self._settings is None:
                self._settings = self.session.get(BusinessSettings, 1) or BusinessSettings()
            return str(getattr(self._settings, key or "", "") or "")
        if kind == "hours":
            return lesson_hours(self.session)
        return ""

    def render(self, text: str) -> str:
        filled = _PLACEHOLDER.sub(lambda m: self.value(m.group(1), m.group(2)), text)
        return " ".join(filled.split())


def lesson_hours(session: Session) -> str:
    """The active instructors' weekly hours, e.g. 'Monday to Friday 8:00 am to 6:00 pm; Saturday ...'."""
    rows = session.execute(sa.text("""
        SELECT r.day_of_week, min(r.start_time) AS start, max(r.end_time) AS end
        FROM availability_rules r JOIN instructors i ON i.id = r.instructor_id
        WHERE i.status = 'active' AND r.is_active
          AND r.effective_from <= :today AND (r.effective_until IS NULL OR r.effective_until >= :today)
        GROUP BY r.day_of_week ORDER BY r.day_of_week"""), {"today": clock.today()}).all()
    if not rows:
        return "by appointment"

    def hm(t) -> str:
        return t.strftime("%-I:%M %p").lower()

    parts = [f"{_DAYS[r.day_of_week]} {hm(r.start)} to {hm(r.end)}" for r in rows]
    return "; ".join(parts)


# ─────────────────────────────────────────────────────────────────────────────
# Answers
# ─────────────────────────────────────────────────────────────────────────────

def _sources(hits: list[Hit], cited: list[int]) -> list[dict]:
    out = []
    for ref in cited:
        if 1 <= ref <= len(hits):
            h = hits[ref - 1]
            item = {"title": h.title, "url": h.source_url or "", "key": h.source_key or ""}
            if item not in out:
                out.append(item)
    return out


def answer_question(session: Session, question: str, channel: str = "web_chat", *, limit: int = 4) -> Answer:
    """An answer from the knowledge base with its sources and confidence; below the threshold, a handoff.

    The model sees only the retrieved passages (placeholders unfilled); prices and policy numbers are filled
    from the database afterwards, and a model answer that writes a dollar amount itself is not used."""
    question = " ".join((question or "").split())[:MAX_QUESTION]
    ensure_indexed(session)
    hits = search(session, question, limit=limit)
    hits = [h for h in hits if h.confidence > 0]
    facts = LiveFacts(session)
    confidence = hits[0].confidence if hits else 0.0
    if hits and off_topic(question, hits[0]):
        confidence = 0.0
    if confidence < CONFIDENCE_THRESHOLD:
        return _handoff(session, confidence)
    passages = [Passage(i + 1, h.title, h.content.split("\n", 1)[-1]) for i, h in enumerate(hits)]
    model = get_adapter("llm")
    result: ModelAnswer | None
    try:
        result = model.answer(question, passages)
    except Exception:  # the provider failing must not leave the person without an answer
        result = None
    if result is not None and model.live and _MONEY.search(result.text):
        result = None  # a price the model wrote itself: never shown
    if result is None and model.live:
        from nexdrive.adapters.llm import ExtractiveModel
        result = ExtractiveModel().answer(question, passages)
    if result is None or not result.cited:
        return _handoff(session, min(confidence, CONFIDENCE_THRESHOLD - 0.01))
    text = facts.render(result.text)
    if channel == "sms":
        text = text[:480]
    return Answer(text, _sources(hits, result.cited), confidence, False)


def _handoff(session: Session, confidence: float) -> Answer:
    words = notify.render_message(session, "assistant_reply", {"reply": "unsure"}).in_app
    return Answer(words, [], round(confidence, 2), True)

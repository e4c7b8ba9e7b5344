#!/usr/bin/env python3
"""Retrieval benchmark: search p95 at 100,000 chunks (full-text alone, and hybrid with synthetic vectors),
and indexing throughput.

    .venv/bin/python scripts/bench_retrieval.py                    # 100,000 chunks, all with vectors
    .venv/bin/python scripts/bench_retrieval.py --chunks 20000 --vector-chunks 5000 --reps 50

Starts its own embedded PostgreSQL in a temporary directory and migrates a fresh database. Then:

* indexing throughput: ``knowledge.index_documents`` (chunking, the tsvector, one transaction) over
  ``--docs`` synthetic FAQ-like documents, offline (no embeddings) — documents and chunks per second;
* a corpus of ``--chunks`` chunks written in bulk (60-100 words each: a fifth drawn from a driving-school
  vocabulary, the rest from 5,000 other words, so a common word like "lesson" is in ~15 % of chunks), of
  which ``--vector-chunks`` get a synthetic unit vector of 1,536 dimensions; the HNSW and GIN indexes are
  built as the migration defines them;
* ``knowledge.search`` for ``--reps`` questions (each in a fresh session, as a request would be): full-text
  alone, then hybrid (full-text + the HNSW nearest neighbours of a synthetic query vector, fused by
  reciprocal rank fusion) — p50, p95 and max.

``--baseline FILE`` times another version of ``knowledge.py`` interleaved with the current one, for a fair
before/after on a busy machine::

    git show <commit>:nexdrive/services/ai/knowledge.py > /tmp/knowledge_before.py
    .venv/bin/python scripts/bench_retrieval.py --baseline /tmp/knowledge_before.py

``--chunks 10000`` builds in well under a minute for quick iteration. Also printed: the HNSW recall@20 at the
``hnsw.ef_search`` used (``--ef-search``) against an exact scan.

Goal: p95 <= 20 ms. A benchmark prints figures; it does not pass or fail. Everything is deleted at the end.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("NEXDRIVE_DATA_DIR", tempfile.mkdtemp(prefix="nx-bench-rag-"))
for key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY"):
    os.environ.pop(key, None)

import sqlalchemy as sa  # noqa: E402

from nexdrive import db as nxdb  # noqa: E402
from nexdrive import migrations  # noqa: E402
from nexdrive.data import seed  # noqa: E402
from nexdrive.services.ai import knowledge  # noqa: E402
from nexdrive.services.core.actors import SYSTEM  # noqa: E402

WORDS = ("lesson learner licence log book hours night supervised instructor accredited review task competency "
         "final drive parking reverse parallel hill start give way roundabout freeway merge lane overtaking "
         "hazard observation vulnerable road users cabin drill steering gears speed slowing stopping turns "
         "u-turn three-point pick-up suburb belconnen gungahlin woden tuggeranong payment card cancel move "
         "reschedule notice fee price package voucher parent coaching nervous automatic car dual controls "
         "glasses shoes weather rain dark canberra territory provisional plates assessment certificate").split()
QUESTIONS = [
    "How many supervised hours do I need at night?", "What does review 2 check?", "How much is a lesson?",
    "Can I cancel a lesson without a fee?", "Where do you pick up in Gungahlin?", "What is task 23?",
    "Do you teach reverse parallel parking?", "Is the car automatic with dual controls?",
    "How long between the last task and the review?", "Can my parent come to a coaching lesson?",
]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(round(q * len(ordered))) - 1)]


def unit_vector(rng: random.Random, dims: int = 1536) -> list[float]:
    v = [rng.gauss(0, 1) for _ in range(dims)]
    norm = sum(x * x for x in v) ** 0.5
    return [x / norm for x in v]


def bulk_corpus(engine, chunks: int, vector_chunks: int) -> dict[str, float]:
    """Write ``chunks`` chunks (documents of 10 chunks) in bulk, the first ``vector_chunks`` with a synthetic
    vector, everything generated inside PostgreSQL in one INSERT (no UPDATE pass, no Python round trips); then
    build the GIN and HNSW indexes once, as a restore would, with enough ``maintenance_work_mem`` for the HNSW
    graph to be built in memory (pgvector slows down sharply once it no longer fits) and parallel workers.
    Returns the seconds each phase took."""
    phases: dict[str, float] = {}
    started = time.perf_counter()
    words = "{" + ",".join(f'"{w}"' for w in WORDS) + "}"
    with engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX idx_rag_chunks_embedding"))
        conn.execute(sa.text("DROP INDEX idx_rag_chunks_content_tsv"))
        conn.execute(sa.text("""
            INSERT INTO rag_documents (id, title, source_type, status, chunk_count, source_key)
            SELECT gen_random_uuid(), 'Synthetic document ' || g, 'educational', 'indexed', 10, 'bench:' || g
            FROM generate_series(1, :docs) g"""), {"docs": (chunks + 9) // 10})
        # Each row's text and vector come from correlated subqueries (they name the outer row, so PostgreSQL
        # evaluates them per row instead of once).
        conn.execute(sa.text("""
            INSERT INTO rag_chunks (document_id, chunk_index, content, embedding, embedding_model)
            SELECT s.document_id, s.i,
                   (SELECT string_agg(CASE WHEN random() < 0.2
                                           THEN ws.w[1 + floor(random() * array_length(ws.w, 1))::int]
                                           ELSE 'filler' || floor(random() * 5000)::int END, ' ')
                    FROM generate_series(1, 60 + (s.n % 40)) g2, (SELECT CAST(:words AS text[]) AS w) ws
                    WHERE g2 > 0 AND s.n > 0),
                   CASE WHEN s.n <= :vectors THEN
                        (SELECT CAST(array_agg(random() - 0.5) AS vector)
                         FROM generate_series(1, 1536) k WHERE k > 0 AND s.n > 0) END,
                   CASE WHEN s.n <= :vectors THEN 'synthetic' END
            FROM (SELECT d.id AS document_id, i, row_number() OVER () AS n
                  FROM (SELECT id FROM rag_documents WHERE source_key LIKE 'bench:%') d,
                       generate_series(0, 9) i
                  LIMIT :chunks) s"""), {"words": words, "chunks": chunks, "vectors": vector_chunks})
    phases["rows"] = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("SET maintenance_work_mem = '2GB'"))
        conn.execute(sa.text("SET max_parallel_maintenance_workers = 2"))
        t = time.perf_counter()
        conn.execute(sa.text("CREATE INDEX idx_rag_chunks_content_tsv ON rag_chunks USING gin (content_tsv)"))
        phases["gin"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(sa.text("CREATE INDEX idx_rag_chunks_embedding ON rag_chunks "
                             "USING hnsw (embedding vector_cosine_ops)"))
        phases["hnsw"] = time.perf_counter() - t
        t = time.perf_counter()
        conn.execute(sa.text("VACUUM ANALYZE rag_chunks"))
        conn.execute(sa.text("VACUUM ANALYZE rag_documents"))
        phases["analyze"] = time.perf_counter() - t
    phases["total"] = time.perf_counter() - started
    return phases


def time_search(engine, rng: random.Random, reps: int, hybrid: bool, impls: dict) -> dict[str, list[float]]:
    """``reps`` searches with each implementation in ``impls`` (name -> search function), the same question and
    query vector for each, taking turns who goes first, so a busy machine slows them alike."""
    timings: dict[str, list[float]] = {name: [] for name in impls}
    for i in range(reps):
        question = QUESTIONS[i % len(QUESTIONS)]
        vector = unit_vector(rng) if hybrid else None
        order = list(impls.items())
        for name, search in (order if i % 2 == 0 else order[::-1]):
            with nxdb.session_scope(engine) as s:
                started = time.perf_counter()
                hits = search(s, question, limit=5, vector=vector, use_embeddings=False)
                timings[name].append((time.perf_counter() - started) * 1000)
                assert hits, question
    return timings


def hnsw_recall(engine, rng: random.Random, queries: int = 10, k: int = 20) -> float:
    """Share of the exact 20 nearest neighbours (a sequential scan) the HNSW index returns at EF_SEARCH."""
    found = 0
    for _ in range(queries):
        v = knowledge._vector_literal(unit_vector(rng))
        sql = sa.text("SELECT id FROM rag_chunks WHERE embedding IS NOT NULL "
                      "ORDER BY embedding <=> CAST(:v AS vector) LIMIT :k")
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(knowledge.EF_SEARCH)})
            approx = set(conn.execute(sql, {"v": v, "k": k}).scalars())
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL enable_indexscan = off"))
            exact = set(conn.execute(sql, {"v": v, "k": k}).scalars())
        found += len(approx & exact)
    return found / (queries * k)


def load_baseline(path: str):
    """Another version of the knowledge module (e.g. ``git show <commit>:nexdrive/services/ai/knowledge.py``)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("baseline_knowledge", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=100_000)
    ap.add_argument("--vector-chunks", type=int, default=None,
                    help="chunks given a synthetic vector (default: all of them)")
    ap.add_argument("--docs", type=int, default=500, help="documents for the indexing-throughput run")
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--ef-search", type=int, default=knowledge.EF_SEARCH, help="hnsw.ef_search for the searches")
    ap.add_argument("--baseline", metavar="FILE",
                    help="also time this version of knowledge.py, interleaved with the current one (before/after)")
    args = ap.parse_args()
    knowledge.EF_SEARCH = args.ef_search
    impls = {"now": knowledge.search}
    if args.baseline:
        impls = {"baseline": load_baseline(args.baseline).search, **impls}
    rng = random.Random(args.seed)
    if args.vector_chunks is None:
        args.vector_chunks = args.chunks
    tmp = Path(tempfile.mkdtemp(prefix="nxbr-", dir="/tmp"))
    os.chmod(tmp, 0o777)
    pgdata = tmp / "data"
    engine = None
    try:
        print("[bench-retrieval] starting an embedded PostgreSQL and migrating a fresh database ...", flush=True)
        url = nxdb.start_embedded_postgres(pgdata, "nexdrive_bench_rag")
        engine = nxdb.make_engine(url, pool_size=2, max_overflow=2)
        nxdb.set_engine(engine)
        migrations.upgrade(engine)
        with nxdb.session_scope(engine) as s:
            seed.load_reference_data(s)

        docs = [knowledge.SourceDocument(
            f"faq:bench-{i}", f"Question {i} about {rng.choice(WORDS)} and {rng.choice(WORDS)}", "faq",
            ". ".join(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize()
                      for _ in range(rng.randint(3, 12))) + ".") for i in range(args.docs)]
        started = time.perf_counter()
        with nxdb.session_scope(engine) as s:
            stats = knowledge.index_documents(s, SYSTEM, docs, include_builtin=False, prune=False)
        secs = time.perf_counter() - started
        print(f"[bench-retrieval] indexing: {stats['added']} documents, {stats['chunks']} chunks in {secs:.2f} s "
              f"= {stats['added'] / secs:.0f} documents/s, {stats['chunks'] / secs:.0f} chunks/s (offline, "
              "full-text only)", flush=True)

        total = args.chunks - stats["chunks"]
        print(f"[bench-retrieval] writing {total:,} more chunks ({args.vector_chunks:,} with 1,536-dim vectors) "
              "and building the indexes ...", flush=True)
        build = bulk_corpus(engine, total, args.vector_chunks)
        with engine.connect() as conn:
            n, nv = conn.execute(sa.text("SELECT count(*), count(embedding) FROM rag_chunks")).one()
        print(f"[bench-retrieval] corpus: {n:,} chunks, {nv:,} with vectors, built in {build['total']:.0f} s ("
              + ", ".join(f"{k} {v:.1f} s" for k, v in build.items() if k != "total") + ")", flush=True)

        time_search(engine, rng, 5, False, impls)  # warm the caches and the pool
        fts = time_search(engine, rng, args.reps, False, impls)
        hybrid = time_search(engine, rng, args.reps, True, impls) if nv else {}
        print(f"[bench-retrieval] {args.reps} searches each, top 5 (hnsw.ef_search {knowledge.EF_SEARCH}):")
        for kind, results in (("full-text", fts), ("hybrid (RRF)", hybrid)):
            for impl, t in results.items():
                label = f"{kind} [{impl}]" if len(impls) > 1 else kind
                print(f"  {label:<24} p50 {statistics.median(t):6.1f} ms   p95 {percentile(t, 0.95):6.1f} ms   "
                      f"max {max(t):6.1f} ms")
        if nv:
            print(f"[bench-retrieval] HNSW recall@20 at ef_search {knowledge.EF_SEARCH}: "
                  f"{100 * hnsw_recall(engine, rng):.0f} % of the exact nearest neighbours", flush=True)
        return 0
    finally:
        if engine is not None:
            engine.dispose()
        nxdb.stop_embedded_postgres(pgdata)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

"""Backup and restore (C23): ``manage.py backup`` / ``manage.py restore``.

A backup is one folder (``nexdrive-backup-<UTC time>/``) holding:

* ``database.dump``: ``pg_dump --format=custom`` of the whole database (schema, triggers, functions,
  every row, the hash-chain heads);
* ``files/``: the stored files (signature images, invoice PDFs, ...) copied from the local storage
  folder (with S3 storage, the bucket is backed up by the provider instead and ``files/`` is empty);
* ``manifest.json``: the SHA-256 of the dump and of every file, and the chain heads at backup time.

Restore checks every hash in the manifest before touching anything, then wipes the database's
``public`` schema, ``pg_restore``s the dump, puts the files back, and verifies: every hash chain
(audit log, signatures, competencies) from its first record, the chain heads against the manifest,
every file against its manifest hash, and every signature image against the hash its row recorded.
The PostgreSQL client tools are the ones bundled with ``pgserver`` (the same major version as the
embedded server) unless ``PG_BIN`` names another folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import sqlalchemy as sa

from nexdrive import db
from nexdrive.services.core import audit
from nexdrive.services.core.actors import SYSTEM
from nexdrive.settings import get_settings

DUMP = "database.dump"
MANIFEST = "manifest.json"
FILES = "files"


class BackupError(RuntimeError):
    pass


def _tool(name: str) -> str:
    folder = os.environ.get("PG_BIN")
    if folder:
        return str(Path(folder) / name)
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:  # an external PostgreSQL without pgserver installed
        pass
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools or set PG_BIN.")
    return found


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq takes it (no driver name)."""
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path) -> dict[str, str]:
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(root.rglob("*")) if p.is_file()}


def _heads(engine: sa.Engine) -> list[dict]:
    with db.session_scope(engine) as s:
        rows = s.execute(sa.text("SELECT chain, seq, head_hash FROM chain_heads ORDER BY chain")).all()
    return [{"chain": r.chain, "seq": int(r.seq), "hash": r.head_hash} for r in rows]


def backup(dest: Path | str, *, url: str | None = None, storage_dir: Path | None = None,
           now: datetime | None = None) -> Path:
    """Write a backup folder under ``dest``; returns its path."""
    url = url or db.database_url()
    storage_dir = Path(storage_dir or get_settings().storage_dir)
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    out = Path(dest) / f"nexdrive-backup-{stamp}"
    if out.exists():
        raise BackupError(f"{out} already exists.")
    out.mkdir(parents=True)
    dump = out / DUMP
    done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                           f"--file={dump}", f"--dbname={libpq_url(url)}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    if storage_dir.exists():
        shutil.copytree(storage_dir, out / FILES)
    else:
        (out / FILES).mkdir()
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        heads = _heads(engine)
    finally:
        engine.dispose()
    manifest = {"format": 1, "created_at": (now or datetime.now(timezone.utc)).isoformat(),
                "database": {"file": DUMP, "sha256": sha256_file(dump)}, "files": _files(out / FILES),
                "chain_heads": heads}
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return out


@dataclass
class RestoreReport:
    chains: int = 0
    records: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_backup(folder: Path | str) -> dict:
    """The manifest, once the dump and every file match their hashes (else BackupError)."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"no readable {MANIFEST} in {folder}") from exc
    if sha256_file(folder / DUMP) != manifest["database"]["sha256"]:
        raise BackupError("the database dump does not match its hash in the manifest")
    actual = _files(folder / FILES)
    if actual != manifest["files"]:
        changed = sorted(set(actual.items()) ^ set(manifest["files"].items()))
        raise BackupError(f"stored files differ from the manifest: {changed[:3]}")
    return manifest


def verify(engine: sa.Engine, storage_dir: Path, manifest: dict | None = None) -> RestoreReport:
    """Every chain verifies from its first record; heads, files and signature images match the hashes."""
    report = RestoreReport()
    with db.session_scope(engine) as s:
        chains = audit.verify_all_chains(s, SYSTEM)
        report.chains, report.records = len(chains), sum(r.checked for r in chains)
        report.problems += [f"chain {r.chain} broken at #{r.broken_seq}: {r.reason}" for r in chains if not r.ok]
        images = s.execute(sa.text("SELECT signature_url, signature_image_sha256 FROM signatures "
                                   "WHERE signature_image_sha256 IS NOT NULL")).all()
    if manifest is not None:
        now_heads = _heads(engine)
        if now_heads != manifest["chain_heads"]:
            report.problems.append("chain heads differ from the ones recorded at backup time")
        actual = _files(storage_dir)
        report.files = len(actual)
        for name, digest in manifest["files"].items():
            if actual.get(name) != digest:
                report.problems.append(f"stored file {name} does not match its hash")
    for key, digest in images:
        path = storage_dir / key
        if not path.is_file() or sha256_file(path) != digest:
            report.problems.append(f"signature image {key} is missing or does not match its recorded hash")
    return report


def wipe_database(url: str) -> None:
    """Drop everything in the public schema (the tables' append-only triggers don't stop a DROP)."""
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def restore(folder: Path | str, *, url: str | None = None, storage_dir: Path | None = None) -> RestoreReport:
    """Replace the database and the stored files with the backup's, then verify everything."""
    folder = Path(folder)
    manifest = check_backup(folder)  # nothing is touched unless the backup is whole
    url = url or db.database_url()
    storage_dir = Path(storage_dir or get_settings().storage_dir)
    wipe_database(url)
    done = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                           "--single-transaction", f"--dbname={libpq_url(url)}", str(folder / DUMP)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    if storage_dir.exists():
        shutil.rmtree(storage_dir)
    shutil.copytree(folder / FILES, storage_dir)
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    try:
        return verify(engine, storage_dir, manifest)
    finally:
        engine.dispose()


__all__ = ["BackupError", "RestoreReport", "backup", "check_backup", "libpq_url", "restore", "sha256_file",
           "verify", "wipe_database"]

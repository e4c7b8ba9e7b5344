"""The Competency Hub: one public page per CBT&A task and review, read from data files.

The words live in ``nexdrive/data/hub/*.md`` (front matter + four ``## `` sections) so the owner can
correct them; the task's number and name come from ``nexdrive/data/cbta_catalogue.json`` (the same
file the catalogue is seeded from). Slugs: ``task-<n>-<name in kebab case>``, ``review-1``,
``review-2`` (:func:`hub_slug`, the one place that makes them: bridge forms and the workstation's
locked-task reasons link with it).

Public reads (:func:`hub_pages`, :func:`hub_page`, :func:`hub_documents`, :func:`page_dict`) need no
actor: the Hub is public. :func:`learner_statuses` (a signed-in learner's own status on each page) and
:func:`supervision_guide` (what a supervising driver should practise next) go through the engine's
``student_matrix``, which checks access.
"""
from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from nexdrive.errors import NotFound
from nexdrive.formats import au_date, au_time
from nexdrive.services.compliance import competencies
from nexdrive.services.core import access
from nexdrive.services.core.actors import Actor

DATA_DIR = Path(__file__).resolve().parents[2] / "data"
HUB_DIR = DATA_DIR / "hub"
CATALOGUE_FILE = DATA_DIR / "cbta_catalogue.json"
ROUTE = "/hub"
REVIEW_NUMBERS = {101: 1, 102: 2}  # the catalogue numbers of Review 1 and Review 2

SECTIONS = (
    ("what", "What it is"),
    ("assessed", "How it is assessed"),
    ("mistakes", "Common mistakes"),
    ("help", "How a supervising driver can help"),
)
LOCKS = ("PREREQUISITES", "REVIEW_TASKS", "REVIEW_GAP")  # what keeps a task from being started yet
STATUS_LABELS = {
    "not_started": "Not started", "taught": "Taught", "assessed": "Assessed",
    "competent": "Competent", "not_yet_competent": "Not yet competent",
}


@dataclass(frozen=True)
class Block:
    """A paragraph (``kind='p'``, one text) or a bulleted list (``kind='ul'``, several items)."""
    kind: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class HubPage:
    task_number: int
    slug: str
    name: str
    kind: str  # competency | review | final_drive
    label: str  # "Task 7" / "Review 1"
    title: str
    description: str
    sections: dict[str, tuple[Block, ...]] = field(default_factory=dict)
    related: tuple[int, ...] = ()
    covers: tuple[int, ...] = ()

    @property
    def route(self) -> str:
        return f"{ROUTE}/{self.slug}"

    def text(self, key: str) -> str:
        return "\n".join(" ".join(b.items) if b.kind == "p" else "\n".join(f"- {i}" for i in b.items)
                         for b in self.sections.get(key, ()))


# ─────────────────────────────────────────────────────────────────────────────
# Slugs
# ─────────────────────────────────────────────────────────────────────────────


def _kebab(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@functools.lru_cache(maxsize=1)
def _catalogue() -> tuple[dict[str, Any], ...]:
    data = json.loads(CATALOGUE_FILE.read_text(encoding="utf-8"))
    return tuple(sorted(data["tasks"], key=lambda t: (t["sort_order"], t["task_number"])))


def hub_slug(task_number: int, name: str | None = None) -> str:
    """The Hub page's slug for a catalogue task: ``task-7-turns-left-and-right``, ``review-1``.

    The one slug function: bridge forms (``bridge_forms.hub_slug``) and the workstation link with it."""
    task_number = int(task_number)
    if task_number in REVIEW_NUMBERS:
        return f"review-{REVIEW_NUMBERS[task_number]}"
    # The page is made from the catalogue's name, so that name wins over one a caller has at hand.
    name = next((t["name"] for t in _catalogue() if t["task_number"] == task_number), None) or name
    if not name:
        raise NotFound(f"There is no task {task_number} in the catalogue.")
    return f"task-{task_number}-{_kebab(name)}"


def hub_path(task_number: int, name: str | None = None) -> str:
    """The page's path, e.g. ``/hub/review-1`` (for links from bridge forms and locked-task reasons)."""
    return f"{ROUTE}/{hub_slug(task_number, name)}"


# ─────────────────────────────────────────────────────────────────────────────
# The data files
# ─────────────────────────────────────────────────────────────────────────────


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    if not text.startswith("---"):
        return {}, text
    _, head, body = text.split("---", 2)
    meta: dict[str, str] = {}
    for line in head.strip().splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            key, value = line.split(":", 1)
            value = value.split(" #", 1)[0].strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            meta[key.strip()] = value
    return meta, body


def _blocks(text: str) -> tuple[Block, ...]:
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [ln.strip() for ln in chunk.strip().splitlines() if ln.strip()]
        if not lines:
            continue
        if all(ln.startswith("- ") for ln in lines):
            blocks.append(Block("ul", tuple(ln[2:].strip() for ln in lines)))
        else:
            blocks.append(Block("p", (" ".join(lines),)))
    return tuple(blocks)


def _sections(body: str) -> dict[str, tuple[Block, ...]]:
    by_heading = {heading.lower(): key for key, heading in SECTIONS}
    found: dict[str, tuple[Block, ...]] = {}
    for part in re.split(r"^## ", body, flags=re.MULTILINE)[1:]:
        heading, _, text = part.partition("\n")
        key = by_heading.get(heading.strip().lower())
        if key:
            found[key] = _blocks(text)
    return found


def _file_for(task_number: int) -> Path:
    if task_number in REVIEW_NUMBERS:
        return HUB_DIR / f"review-{REVIEW_NUMBERS[task_number]}.md"
    return HUB_DIR / f"task-{task_number:02d}.md"


def _label(task: dict[str, Any]) -> str:
    if task["task_number"] in REVIEW_NUMBERS:
        return f"Review {REVIEW_NUMBERS[task['task_number']]}"
    return f"Task {task['task_number']}"


def _files_signature() -> tuple[tuple[str, int], ...]:
    """Names and modification times of the data files: a corrected page is read again, not served stale."""
    files = [CATALOGUE_FILE, *sorted(HUB_DIR.glob("*.md"))]
    return tuple((f.name, f.stat().st_mtime_ns) for f in files if f.exists())


def hub_pages() -> tuple[HubPage, ...]:
    """Every Hub page in catalogue order (23 tasks and 2 reviews), re-read when a data file changes."""
    signature = _files_signature()
    if signature != _loaded_signature[0]:
        _catalogue.cache_clear()
        _load_pages.cache_clear()
        _loaded_signature[0] = signature
    return _load_pages()


_loaded_signature: list[tuple] = [()]


@functools.lru_cache(maxsize=1)
def _load_pages() -> tuple[HubPage, ...]:
    pages = []
    for task in _catalogue():
        number = task["task_number"]
        path = _file_for(number)
        meta, body = _front_matter(path.read_text(encoding="utf-8")) if path.exists() else ({}, "")
        sections = _sections(body)
        if not sections.get("what"):
            sections["what"] = (Block("p", (task.get("description") or task["name"],)),)
        related = tuple(int(n) for n in re.findall(r"\d+", meta.get("related", "")) if int(n) != number)
        label = _label(task)
        pages.append(HubPage(
            task_number=number, slug=hub_slug(number, task["name"]), name=task["name"], kind=task["kind"],
            label=label, title=meta.get("title") or f"{label}: {task['name']}",
            description=meta.get("description") or (task.get("description") or task["name"])[:160],
            sections=sections, related=related, covers=tuple(task.get("covers") or ())))
    return tuple(pages)


def _by_number() -> dict[int, HubPage]:
    return {p.task_number: p for p in hub_pages()}


def hub_page(ref: str | int) -> HubPage:
    """One page by slug, by catalogue number (``7``, ``101``) or ``review-1``; NotFound otherwise."""
    text = str(ref).strip().lower()
    for page in hub_pages():
        if text in (page.slug, str(page.task_number)):
            return page
    raise NotFound("There is no Competency Hub page with that name.")


def related_pages(page: HubPage) -> list[HubPage]:
    index = _by_number()
    return [index[n] for n in page.related if n in index]


def page_dict(page: HubPage, *, full: bool = True) -> dict[str, Any]:
    """A page as plain data (the content API, the knowledge engine)."""
    data: dict[str, Any] = {
        "task_number": page.task_number, "slug": page.slug, "label": page.label, "name": page.name,
        "kind": page.kind, "title": page.title, "description": page.description, "path": page.route,
    }
    if full:
        data["sections"] = [{"key": key, "heading": heading,
                             "blocks": [{"kind": b.kind, "items": list(b.items)} for b in page.sections.get(key, ())]}
                            for key, heading in SECTIONS if page.sections.get(key)]
        data["related"] = [{"task_number": r.task_number, "slug": r.slug, "label": r.label, "name": r.name,
                            "path": r.route} for r in related_pages(page)]
        data["covers"] = list(page.covers)
    return data


def hub_documents() -> list[tuple[str, str, str]]:
    """(slug, title, plain text) of every page, for the AI knowledge engine to index.

    The text is whole sentences: each paragraph after its section's heading, and each list item as its own
    sentence naming the section and the task ("Common mistakes (hill starts): Rolling back ..."), so a
    passage quoted on its own still says what it is about."""
    docs = []
    for page in hub_pages():
        parts = [page.description]
        topic = page.name if page.name == page.label else f"{page.label.lower()}, {page.name.lower()}"
        for key, heading in SECTIONS:
            for block in page.sections.get(key, ()):
                if block.kind == "p":
                    parts.append(f"{heading}: {' '.join(block.items)}")
                else:
                    parts.extend(f"{heading} ({topic}): {_sentence(item)}" for item in block.items)
        docs.append((page.slug, page.title, "\n\n".join(parts)))
    return docs


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


# ─────────────────────────────────────────────────────────────────────────────
# A learner's own status, and what a supervisor should practise next
# ─────────────────────────────────────────────────────────────────────────────


def _status_detail(row: competencies.MatrixRow) -> str:
    if row.status == "competent" and row.achieved_at:
        return f"Achieved on {au_date(row.achieved_at)}."
    if row.status == "taught" and row.taught_at:
        return f"Taught on {au_date(row.taught_at)}; it is assessed in a later lesson."
    if row.status == "not_yet_competent":
        return "Assessed, not yet competent: practise it and it is assessed again."
    if row.kind == "review" and row.review_opens_at and row.status != "competent":
        return f"Opens on {au_date(row.review_opens_at)}, {au_time(row.review_opens_at)}."
    locks = [b for b in row.blocked_by if b.rule in LOCKS]
    if locks and row.status == "not_started":
        return "Locked: " + locks[0].message[:1].lower() + locks[0].message[1:] + "."
    return ""


def matrix_statuses(matrix: competencies.Matrix) -> dict[str, dict[str, str]]:
    """slug -> {status, label, detail} from an engine matrix."""
    index = _by_number()
    out = {}
    for row in matrix.rows:
        page = index.get(row.task_number)
        if page is None:
            continue
        out[page.slug] = {"status": row.status, "label": STATUS_LABELS.get(row.status, row.status),
                          "detail": _status_detail(row)}
    return out


def learner_statuses(session: Session, actor: Actor) -> dict[str, dict[str, str]]:
    """A signed-in learner's own status on every Hub page; {} for anyone else (the Hub stays public)."""
    if not actor.is_student or actor.student_id is None:
        return {}
    return matrix_statuses(competencies.student_matrix(session, actor, actor.student_id))


def supervision_guide(session: Session, actor: Actor, student_id: uuid.UUID) -> list[dict[str, Any]]:
    """What to practise next with this learner: the engine's ``next_tasks``, each with its Hub page's
    "how a supervising driver can help" tips. Needs the learner's progress (parents: "Progress")."""
    access.require_student(session, actor, student_id, "competencies")
    matrix = competencies.student_matrix(session, actor, student_id)
    index = _by_number()
    guide = []
    for number in matrix.next_tasks:
        page = index.get(number)
        if page is None:
            continue
        row = matrix.row(number)
        tips = [item for block in page.sections.get("help", ()) for item in block.items]
        guide.append({"task_number": number, "label": page.label, "name": page.name, "slug": page.slug,
                      "path": page.route, "status": row.status, "status_label": STATUS_LABELS.get(row.status, ""),
                      "detail": _status_detail(row), "tips": tips})
    return guide


__all__ = ["Block", "HubPage", "SECTIONS", "STATUS_LABELS", "hub_documents", "hub_page", "hub_pages", "hub_path",
           "hub_slug", "learner_statuses", "matrix_statuses", "page_dict", "related_pages", "supervision_guide"]

"""/api/v1/content: the public website's content (architecture §4.2.11). For now the Competency Hub:
the listing and one task's page (by slug such as ``task-7-turns-left-and-right`` or ``review-1``, or by
catalogue number such as ``7`` or ``101``). Public, read only; errors in the envelope."""
from __future__ import annotations

from fastapi import APIRouter, Path

from nexdrive.api.deps import ok
from nexdrive.api.envelope import EnvelopeRoute
from nexdrive.services.compliance import hub

router = APIRouter(tags=["content"], route_class=EnvelopeRoute)


@router.get("/content/competency-hub")
def competency_hub():
    """Every Hub page (23 tasks and 2 reviews) in catalogue order: number, slug, label, name, title, description."""
    return ok([hub.page_dict(p, full=False) for p in hub.hub_pages()])


@router.get("/content/competency-hub/{task}")
def competency_hub_task(task: str = Path(..., min_length=1, max_length=120, pattern=r"^[A-Za-z0-9-]+$")):
    """One Hub page with its sections (what it is, how it is assessed, common mistakes, how to help) and
    related tasks."""
    return ok(hub.page_dict(hub.hub_page(task)))

"""The parents' centre ``/parent``: switch between linked learners and see, per each learner's switches,
their progress map, what to practise next (from the Competency Hub), lessons (comments only with the
lesson-notes switch), practice guides (bridge forms), bookings (and booking for them with "Book lessons"),
payments and the log book's drives, confirming the ones this parent supervised.

Thin over ``compliance.parent_centre``: every visit, learner switch and handler reloads from the
services, so a switch the learner turns off takes the view away on the next load. The views are in
``views/centre.py``.
"""
from __future__ import annotations


from nexdrive.components import brand
from nexdrive.pages.parent.centre_state import ParentCentreState
from nexdrive.pages.parent.views.centre import parent_centre_page
from nexdrive.state.auth import require_role

ROUTE = brand.ROUTE_PARENT
TITLE = "Parents' centre | NexDrive Academy"
DESCRIPTION = (
    "The NexDrive Academy centre for parents and supervising drivers: a learner's CBT&A progress, lessons, "
    "practice guides, bookings and log book, as the learner chooses to share them."
)

parent_dashboard_page = parent_centre_page
ON_LOAD = [*require_role("parent"), ParentCentreState.load]

"""Who is acting. Every use case receives one and checks it (docs/architecture.md)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass

ROLES = ("admin", "instructor", "student", "parent", "visitor", "system")


@dataclass(frozen=True)
class Actor:
    role: str
    user_id: uuid.UUID | None = None
    instructor_id: uuid.UUID | None = None
    student_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    ip_address: str | None = None
    user_agent: str | None = None

    def __post_init__(self):
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    # Roles as named predicates: every access rule reads these, never role strings.
    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_instructor(self) -> bool:
        return self.role == "instructor"

    @property
    def is_student(self) -> bool:
        return self.role == "student"

    @property
    def is_parent(self) -> bool:
        return self.role == "parent"

    @property
    def is_visitor(self) -> bool:
        """Not signed in."""
        return self.role == "visitor"

    @property
    def is_system(self) -> bool:
        """The app itself (jobs, webhooks)."""
        return self.role == "system"

    @property
    def is_staff(self) -> bool:
        """A person who works for the school."""
        return self.role in ("admin", "instructor")

    @property
    def sees_everything(self) -> bool:
        """The owner's office or the app itself: every record of the school."""
        return self.role in ("admin", "system")

    @property
    def is_school(self) -> bool:
        """Acting for the school: staff or the app itself (may waive fees, record no-shows...)."""
        return self.role in ("admin", "instructor", "system")

    @property
    def is_family(self) -> bool:
        """A learner or a parent: sees only their own (or their linked learner's) records."""
        return self.role in ("student", "parent")


SYSTEM = Actor(role="system")
VISITOR = Actor(role="visitor")

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

    @property
    def is_staff(self) -> bool:
        return self.role in ("admin", "instructor")


SYSTEM = Actor(role="system")
VISITOR = Actor(role="visitor")

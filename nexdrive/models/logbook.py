"""The learner's log book: supervised practice drives (migration 0011).

One row per drive with a supervising driver (a linked parent, or a supervisor typed by name and
licence number). ``day_minutes`` / ``night_minutes`` are computed from Canberra's sunrise and
sunset when the drive is saved (``services.compliance.logbook``). No totals are stored anywhere:
the log-book summary adds up these rows and the signed lessons each time.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from nexdrive.models.base import (
    check,
    check_in,
    created_at_field,
    fk_field,
    int_field,
    text_field,
    ts_field,
    updated_at_field,
    uuid_pk,
)

ROAD_CONDITIONS = ("residential", "main_road", "highway", "rural", "city", "gravel", "car_park")
WEATHER = ("dry", "wet", "fog", "wind", "storm")
ENTRANT_ROLES = ("student", "parent")
MAX_DRIVE_MINUTES = 720
MAX_ODOMETER = 9_999_999
MAX_NOTES = 1000
MAX_SUPERVISOR_NAME = 100
MAX_LICENCE_NUMBER = 20


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


class SupervisedDrive(SQLModel, table=True):
    __tablename__ = "supervised_drives"
    __table_args__ = (
        sa.Index("idx_supervised_drives_student_start", "student_id", "start_time"),
        check_in("entered_by_role", ENTRANT_ROLES),
        check("end_time > start_time", "time_order"),
        check("end_time - start_time <= interval '12 hours'", "max_length"),
        check(f"total_minutes > 0 AND total_minutes <= {MAX_DRIVE_MINUTES}", "total_minutes"),
        check("day_minutes >= 0 AND night_minutes >= 0 AND day_minutes + night_minutes = total_minutes", "day_night"),
        check(f"odo_start IS NULL OR odo_start BETWEEN 0 AND {MAX_ODOMETER}", "odo_start"),
        check(f"odo_end IS NULL OR odo_end BETWEEN 0 AND {MAX_ODOMETER}", "odo_end"),
        check("odo_end IS NULL OR odo_start IS NULL OR odo_end >= odo_start", "odometer"),
        check(f"char_length(supervisor_name) BETWEEN 1 AND {MAX_SUPERVISOR_NAME}", "supervisor_name"),
        check(f"char_length(supervisor_licence_number) BETWEEN 1 AND {MAX_LICENCE_NUMBER}",
              "supervisor_licence_number"),
        check(f"notes IS NULL OR char_length(notes) <= {MAX_NOTES}", "notes"),
        check(f"road_conditions <@ ARRAY[{_in(ROAD_CONDITIONS)}]::text[]", "road_conditions"),
        check_in("weather", WEATHER),
        check("(confirmed_at IS NULL) = (confirmed_by_user_id IS NULL)", "confirmation"),
        check("confirmed_at IS NULL OR supervisor_parent_id IS NOT NULL", "confirmed_by_linked_supervisor"),
    )

    id: uuid.UUID = uuid_pk()
    student_id: uuid.UUID = fk_field("students.id", nullable=False, index=False)
    entered_by_user_id: uuid.UUID = fk_field("users.id", nullable=False)
    entered_by_role: str = text_field(nullable=False)
    supervisor_parent_id: Optional[uuid.UUID] = fk_field("parents.id")  # a linked parent, who may confirm
    supervisor_name: str = text_field(nullable=False)
    supervisor_licence_number: str = text_field(nullable=False)
    start_time: datetime = ts_field(nullable=False)
    end_time: datetime = ts_field(nullable=False)
    total_minutes: int = int_field(nullable=False)
    day_minutes: int = int_field(nullable=False)
    night_minutes: int = int_field(nullable=False)
    odo_start: Optional[int] = int_field()
    odo_end: Optional[int] = int_field()
    road_conditions: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(sa.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'::text[]")),
    )
    weather: Optional[str] = text_field()
    notes: Optional[str] = text_field()
    confirmed_at: Optional[datetime] = ts_field()
    confirmed_by_user_id: Optional[uuid.UUID] = fk_field("users.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()

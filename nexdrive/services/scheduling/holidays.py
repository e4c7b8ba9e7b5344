"""ACT public holidays and business days: the pure calendar lives in ``services.core.holidays`` (compliance's
final-drive rule needs it too, and compliance never imports scheduling); re-exported here for scheduling."""
from __future__ import annotations

from nexdrive.services.core.holidays import (  # noqa: F401
    act_public_holidays,
    add_business_days,
    business_days_between,
    easter_sunday,
    is_act_public_holiday,
    is_business_day,
)

__all__ = [
    "act_public_holidays",
    "add_business_days",
    "business_days_between",
    "easter_sunday",
    "is_act_public_holiday",
    "is_business_day",
]

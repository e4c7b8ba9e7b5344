"""The instructor's accreditation warning (60/30/7 days before it lapses, or lapsed), on the day sheet and the
bookings page. The rule and its wording are the admin service's (``accreditation_banner``)."""
from __future__ import annotations

import reflex as rx

from nexdrive.errors import ServiceError
from nexdrive.services.admin import instructors as instructor_admin
from nexdrive.services.identity.accounts import AuthRequired
from nexdrive.state.auth import run_as_actor


class AccreditationBannerState(rx.State):
    banner: str = ""
    banner_tone: str = "amber"

    @rx.event
    async def load(self):
        try:
            data = await run_as_actor(self, instructor_admin.accreditation_banner)
        except (AuthRequired, ServiceError):
            data = None
        data = data or {}
        self.banner, self.banner_tone = data.get("text", ""), data.get("tone", "amber")


def accreditation_banner() -> rx.Component:
    return rx.cond(
        AccreditationBannerState.banner != "",
        rx.callout(AccreditationBannerState.banner, icon="triangle-alert", id="accreditation-banner",
                   color_scheme=rx.cond(AccreditationBannerState.banner_tone == "red", "red", "amber"),
                   width="100%", margin_bottom="0.75rem"),
    )

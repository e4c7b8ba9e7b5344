"""Notification preferences: who may change what, and what can never be turned off."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from nexdrive.db import session_scope
from nexdrive.services.messaging import preferences
from nexdrive.services.identity.accounts import actor_for_user
from nexdrive.services.core.actors import SYSTEM, VISITOR
from nexdrive.errors import Forbidden, ValidationFailed
from tests.factories import make_user


def test_a_person_turns_optional_notifications_off_and_on_again(engine):
    with session_scope(engine) as s:
        user, _ = make_user(s, "student", "Ava")
        me = actor_for_user(s, user.id)
        prefs = {p["type"]: p for p in preferences.get_preferences(s, me)}
        assert prefs["booking_reminder_24h"]["channels"] == {"sms": True} and prefs["booking_reminder_24h"]["optional"]
        assert not prefs["booking_confirmation"]["optional"]
        preferences.set_preference(s, me, notification_type="waitlist_available", channel="email", enabled=False)
        preferences.set_preference(s, me, notification_type="waitlist_available", channel="email", enabled=False)
        prefs = {p["type"]: p for p in preferences.get_preferences(s, me)}
        assert prefs["waitlist_available"]["channels"] == {"sms": True, "email": False}
        assert not preferences.is_enabled(s, user.id, "waitlist_available", "email")
        assert preferences.is_enabled(s, user.id, "waitlist_available", "sms")
        preferences.set_preference(s, me, notification_type="waitlist_available", channel="email", enabled=True)
        assert preferences.is_enabled(s, user.id, "waitlist_available", "email")
        assert s.execute(sa.text("SELECT count(*) FROM notification_preferences")).scalar() == 1


def test_must_haves_cannot_be_turned_off_and_nobody_changes_someone_elses(engine):
    with session_scope(engine) as s:
        ava, _ = make_user(s, "student", "Ava")
        ben, _ = make_user(s, "student", "Ben")
        admin, _ = make_user(s, "admin", "Olive")
        me = actor_for_user(s, ava.id)
        for kind in ("booking_confirmation", "booking_cancelled", "payment_failed", "payment_received"):
            with pytest.raises(ValidationFailed):
                preferences.set_preference(s, me, notification_type=kind, channel="email", enabled=False)
        with pytest.raises(ValidationFailed):  # reminders only go by SMS
            preferences.set_preference(s, me, notification_type="booking_reminder_2h", channel="email", enabled=False)
        with pytest.raises(Forbidden):
            preferences.set_preference(s, me, notification_type="waitlist_available", channel="sms", enabled=False,
                                       user_id=ben.id)
        with pytest.raises(Forbidden):
            preferences.get_preferences(s, VISITOR)
        preferences.set_preference(s, actor_for_user(s, admin.id), notification_type="waitlist_available",
                                   channel="sms", enabled=False, user_id=ben.id)
        assert not preferences.is_enabled(s, ben.id, "waitlist_available", "sms")
        assert preferences.is_enabled(s, ava.id, "waitlist_available", "sms")


def test_consent_only_for_your_own_number_and_visitors_cannot_revoke_without_the_link(engine):
    with session_scope(engine) as s:
        ava, profile = make_user(s, "student", "Ava")
        s.execute(sa.text("UPDATE profiles SET phone = '+61412888001' WHERE id = :p"), {"p": profile.id})
        me = actor_for_user(s, ava.id)
        with pytest.raises(Forbidden):
            preferences.record_marketing_consent(s, me, channel="sms", recipient="+61412888002",
                                                 source="account_settings", consent_text="Offers please")
        with pytest.raises(ValidationFailed):
            preferences.record_marketing_consent(s, me, channel="sms", recipient="+61412888001",
                                                 source="account_settings", consent_text="  ")
        consent = preferences.record_marketing_consent(s, me, channel="sms", recipient="0412 888 001",
                                                       source="account_settings", consent_text="Offers please")
        assert consent.user_id == ava.id and consent.recipient == "+61412888001" and consent.unsubscribe_token
        with pytest.raises(Forbidden):
            preferences.revoke_marketing_consent(s, VISITOR, channel="sms", recipient="+61412888001",
                                                 source="unsubscribe_link")
        assert preferences.revoke_marketing_consent(s, me, channel="sms", recipient="+61412888001",
                                                    source="account_settings") == 1
        assert preferences.revoke_marketing_consent(s, SYSTEM, channel="sms", recipient="+61412888001",
                                                    source="sms_stop") == 0

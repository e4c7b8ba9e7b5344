"""The assistant's "no personal data" check reads the text people see, not our own placeholders."""
from __future__ import annotations

import pytest

from nexdrive.errors import ValidationFailed
from nexdrive.services.ai import knowledge


def doc(text: str) -> knowledge.SourceDocument:
    return knowledge.SourceDocument("service:x", "Review 1 (60 min)", "business", text, "/lessons")


def test_a_price_placeholder_whose_service_id_reads_like_a_phone_number_is_accepted():
    # d1950439-5497-45f8-...: "0439-5497-45" is 04 and eight digits, the shape of an Australian mobile.
    knowledge.check_public(doc("Review 1 costs {{price:d1950439-5497-45f8-a166-a87f2ac056e6}}. Book it online."))


@pytest.mark.parametrize("text", ["Call Sam on 0412 345 678.", "Email sam@example.com.au for a time.",
                                  "Text +61 412 345 678 after five."])
def test_a_real_phone_number_or_email_is_refused(text):
    with pytest.raises(ValidationFailed):
        knowledge.check_public(doc(text))

"""One message catalogue: every text the school sends lives in messaging/message_templates.py.

The AST check keeps the rule: no service module passes a literal or f-string as a message's
body or subject (nor a name it built from one) to a queueing call, nor builds an OutboxMessage
with one. And every template in the catalogue renders from sample data, naming the sender.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from nexdrive.services.messaging import message_templates as mt

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ROOT / "nexdrive" / "services"
CATALOGUE = SERVICES / "messaging" / "message_templates.py"
TEXT_KEYWORDS = {"body", "subject", "sms", "email_body", "text"}


def _is_text(node: ast.AST, built: set[str]) -> bool:
    """A literal string, an f-string, a concatenation/conditional of them, or a name built from one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.BinOp):
        return _is_text(node.left, built) or _is_text(node.right, built)
    if isinstance(node, ast.IfExp):
        return _is_text(node.body, built) or _is_text(node.orelse, built)
    if isinstance(node, ast.Name):
        return node.id in built
    return False


def _built_names(func: ast.AST) -> set[str]:
    """Names assigned a text in this function (``body = f"..."``), to catch ``body=body``."""
    built: set[str] = set()
    for _ in range(3):  # names built from names built from literals
        for node in ast.walk(func):
            if isinstance(node, ast.Assign) and _is_text(node.value, built):
                built |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and _is_text(node.value, built):
                built.add(node.target.id)
    return built


def _callee(call: ast.Call) -> str:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else ""


def inline_message_texts(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))] or [tree]
    for scope in scopes:
        built = _built_names(scope)
        for node in ast.walk(scope):
            if not isinstance(node, ast.Call):
                continue
            for kw in node.keywords:
                if kw.arg in TEXT_KEYWORDS and _is_text(kw.value, built):
                    where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                    found.append(f"{where}:{node.lineno} {_callee(node)}({kw.arg}=...)")
    return sorted(set(found))


def test_no_service_builds_a_message_text_outside_the_catalogue():
    found = []
    for path in sorted(SERVICES.rglob("*.py")):
        if path != CATALOGUE:
            found += inline_message_texts(path)
    assert not found, "message texts built outside message_templates.py:\n" + "\n".join(found)


def test_the_check_catches_the_shapes_it_is_for(tmp_path):
    sample = tmp_path / "nexdrive" / "services" / "x.py"
    sample.parent.mkdir(parents=True)
    sample.write_text(
        "def a(s, who):\n"
        "    notify.queue(s, channel='sms', recipient='x', body=f'Hi {who}', template='t')\n"
        "def b(s):\n"
        "    body = 'Hello' + chr(10)\n"
        "    s.add(OutboxMessage(channel='email', recipient='x', subject='Hi', body=body))\n"
        "def c(s, texts):\n"
        "    notify.queue(s, channel='sms', recipient='x', body=texts.sms, template='t')\n")
    found = inline_message_texts(sample)
    assert [f.split(" ", 1)[1] for f in found] == ["queue(body=...)", "OutboxMessage(body=...)",
                                                   "OutboxMessage(subject=...)"]


# Enough plain data for every template (each reads only what it needs).
SAMPLE = {
    "first_name": "Ava", "learner_first_name": "Ava", "service_name": "60-minute lesson",
    "when": "Tue 3 March 2026, 9:30 am", "instructor_name": "Jordan Ellis", "pickup_address": "1 Test St",
    "suburb": "Belconnen", "reference": "NXD-1A2B3C4D", "duration_minutes": 60, "price_display": "$85.00",
    "manage_url": "https://x/m", "previous": "Mon 2 March 2026, 9:30 am", "fee": "$40.00",
    "book_url": "https://x/book", "minutes": 60, "url": "https://x/f", "amount_display": "$85.00",
    "description": "a 60-minute lesson", "paid_on": "3/3/2026", "invoice_number": "NXD-2026-0001",
    "retry_url": "https://x/pay", "package_name": "5-lesson pack", "credits": 5, "credits_remaining": 2,
    "buy_url": "https://x/buy", "learner_name": "Ava Nguyen", "relationship": "mother", "accept_url": "https://x/a",
    "task_number": 7, "task_name": "Turns", "achieved": 7, "total": 23, "progress_url": "https://x/p",
    "learner": "Ava Nguyen", "instructor": "Jordan Ellis", "lesson_number": 4, "lesson_date": "Tue 3 March 2026",
    "staff_name": "Jordan", "business_name": "NexDrive Academy", "business_phone": "(02) 6100 0000",
    "link": "https://x/link", "minutes_valid": 15, "hours_valid": 72, "days_valid": 7, "role": "instructor",
    "sign_in_url": "https://x/sign-in", "forgot_url": "https://x/forgot", "name": "Ava Nguyen",
    "phone": "0412 345 678", "email": "ava@example.com", "message": "Do you teach in Belconnen?",
    "reply": "stop", "subject": "2 callers waiting for a call back", "text": "Something happened.",
    "amount_words": "AUD, no GST", "credits_used": 3, "credits_total": 5, "expires_on": "3/3/2027",
    "refund_display": "$20.00", "reason": "Lesson cancelled", "held_until": "Tue 3 March 2026, 10:00 am",
    "test_mode": True, "discount_display": "$10.00", "hours": 72, "booker": "Ava Nguyen", "date": "Tue 3 March 2026",
    "time": "9:30 am", "who": "Ava", "what": "booking confirmation", "channel": "sms", "recipient": "+6141234\u2026",
    "calls": [{"caller": "Sam Lee", "phone": "+61412000001", "called": "Mon 2 March 2026, 9:00 am",
               "reason": "Prices", "call_back_at": ""}],
    "broken": [{"chain": "audit_log", "seq": 3, "reason": "hash mismatch"}],
    "day_label": "Tue 3 March 2026", "yesterday_label": "Mon 2 March 2026",
    "lessons": {"taught": 1, "taught_minutes": 60, "no_shows": 0, "cancelled": 0,
                "items": [{"time": "9:30 am", "learner": "Ava Nguyen", "service": "60-minute lesson",
                           "instructor": "Jordan Ellis", "status": "completed"}]},
    "takings": {"received": "$85.00", "payments": 1, "refunded": "$0.00", "net": "$85.00"},
    "today": [], "new_leads": [], "failed_messages": {"count": 0, "total_failed": 0, "items": []},
    "chain_heads": [{"chain": "audit_log", "seq": 3, "hash": "ab12"}],
    "amount": "$105.00", "declined": "The card was closed.",
    "number": "ACT-12345", "expiry": "31/03/2027", "days_left": 30,
}


@pytest.mark.parametrize("kind", sorted(mt.TEMPLATES))
def test_every_template_renders_with_sample_data_and_names_the_sender(kind):
    template = mt.TEMPLATES[kind]
    assert template.name == kind and template.channels
    texts = mt.render(kind, SAMPLE)
    if "sms" in template.channels:
        assert texts.sms and "{" not in texts.sms
    if "email" in template.channels:
        assert texts.subject and texts.text and "{" not in texts.text
    if "in_app" in template.channels:
        assert texts.subject and (texts.in_app or texts.text)
    outward = [t for t in (texts.sms, texts.text) if t]
    if template.audience != "staff":  # what the school sends to people names the school
        assert all("NexDrive Academy" in t for t in outward), outward


def test_the_notification_types_are_in_the_catalogue():
    assert set(mt.RENDERERS) <= set(mt.TEMPLATES)
    assert all(mt.TEMPLATES[k].channels == t.channels for k, t in mt.NOTIFICATION_TYPES.items() if k in mt.TEMPLATES)

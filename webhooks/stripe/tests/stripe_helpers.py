"""Stripe in tests: signed webhook events from fixtures, and a local stub of Stripe's API.

The stub serves recorded Stripe responses (webhooks/stripe/fixtures/api_*.json) over real
HTTP to the real stripe-python client, echoing the values of each request into them
(ids, amounts, metadata) as Stripe does, and keeps every request so tests can check
what was sent. Like Stripe, a repeated Idempotency-Key gets the first response again.
"""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
WEBHOOK_SECRET = "whsec_test_nexdrive_5f0c2b7e9a1d4c6b8e3f"
API_KEY = "sk_test_51NexDriveTestKey000000000000"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def event(name: str, *, event_id: str | None = None, **fields) -> dict:
    """A webhook event from its fixture with our values in ``data.object`` (metadata merged)."""
    ev = fixture(name)
    obj = ev["data"]["object"]
    meta = fields.pop("metadata", None)
    obj.update(fields)
    if meta is not None:
        obj["metadata"] = {**(obj.get("metadata") or {}), **meta}
    if event_id:
        ev["id"] = event_id
    return ev


def sign(body: bytes, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """Stripe's signature header: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<body>")."""
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def signed(ev: dict, **kw) -> tuple[bytes, dict]:
    body = json.dumps(ev).encode()
    return body, {"Stripe-Signature": sign(body, **kw), "Content-Type": "application/json"}


class StripeStub:
    """A local stand-in for api.stripe.com serving the recorded responses."""

    def __init__(self):
        self.requests: list[dict] = []
        self.by_key: dict[str, tuple[int, dict]] = {}
        self.sessions: dict[str, dict] = {}
        self.not_open: set[str] = set()  # sessions that completed: expire is refused
        self.fail_refunds = False
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = dict(parse_qsl(raw, keep_blank_values=True))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, body = stub._answer(self.path, headers, form)
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Request-Id", f"req_stub{len(stub.requests):06d}")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StripeStub":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path_prefix: str) -> list[dict]:
        return [r for r in self.requests if r["path"].startswith(path_prefix)]

    def _answer(self, path: str, headers: dict, form: dict) -> tuple[int, dict]:
        with self._lock:
            self.requests.append({"path": path, "headers": headers, "form": form})
            key = headers.get("idempotency-key")
            if key and key in self.by_key:
                return copy.deepcopy(self.by_key[key])
            answer = self._new_answer(path, form)
            if key and answer[0] == 200:
                self.by_key[key] = copy.deepcopy(answer)
            return answer

    def _new_answer(self, path: str, form: dict) -> tuple[int, dict]:
        n = len(self.requests)
        if path == "/v1/checkout/sessions":
            body = fixture("api_checkout_session_create")
            cs_id = f"cs_test_stub{n:04d}{hashlib.sha1(str(form).encode()).hexdigest()[:20]}"
            body.update(
                id=cs_id, url=f"https://checkout.stripe.com/c/pay/{cs_id}",
                amount_total=int(form["line_items[0][price_data][unit_amount]"]),
                amount_subtotal=int(form["line_items[0][price_data][unit_amount]"]),
                expires_at=int(form["expires_at"]), currency=form["currency"],
                client_reference_id=form.get("client_reference_id"),
                customer_email=form.get("customer_email"),
                success_url=form["success_url"], cancel_url=form["cancel_url"],
                metadata={k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")},
            )
            self.sessions[cs_id] = body
            return 200, body
        m = re.fullmatch(r"/v1/checkout/sessions/([^/]+)/expire", path)
        if m:
            if m.group(1) in self.not_open or m.group(1) not in self.sessions:
                return 400, fixture("api_checkout_session_expire_error")
            body = fixture("api_checkout_session_expire")
            body.update(id=m.group(1), metadata=self.sessions[m.group(1)]["metadata"])
            self.not_open.add(m.group(1))
            return 200, body
        if path == "/v1/refunds":
            if self.fail_refunds:
                return 402, {"error": {"type": "card_error", "message": "The refund could not be processed."}}
            body = fixture("api_refund_create")
            body.update(id=f"re_test_stub{n:06d}", amount=int(form["amount"]), payment_intent=form["payment_intent"],
                        metadata={k[len("metadata["):-1]: v for k, v in form.items() if k.startswith("metadata[")})
            return 200, body
        return 404, {"error": {"type": "invalid_request_error", "message": f"Unrecognized request URL (POST: {path})."}}

"""Invoices and receipts (DESIGN.md §3.8): gap-free numbers, GST, PDF through the storage adapter.

Contract used by the payments service: ``issue_invoice(session, payment_id)`` is
called in the same transaction that marks a payment completed, and is idempotent
(one invoice per payment).
"""
from __future__ import annotations

import uuid

from sqlmodel import Session

from nexdrive.models import Invoice


def issue_invoice(session: Session, payment_id: uuid.UUID) -> Invoice | None:
    """Issue (or return the existing) invoice for a completed payment. Implemented in the invoices work."""
    return None

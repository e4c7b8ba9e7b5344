"""Electronic signatures from a signature pad: checked, stored, bound to what was signed, chained.

A signature arrives as a base64 PNG (optionally a ``data:image/png;base64,`` URL). It must be a real PNG
(magic bytes and a decodable image), within size limits, and not blank (a pad submitted without a
stroke is one colour, or fully transparent). The image goes to the storage adapter under
``signatures/<document type>/<document id>/<signature id>.png``; the ``signatures`` row binds the signer,
their role, the document (type and id), the SHA-256 of the document's canonical content at the moment
of signing, the SHA-256 of the image, the server's time and the device's, IP, user agent and optional
GPS. The database chains the row (chain ``signatures``, migration 0002) and refuses changes to it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlmodel import Session

from nexdrive.adapters.storage import ObjectMissing, Storage, StorageError
from nexdrive.errors import ValidationFailed
from nexdrive.models import Signature
from nexdrive.services.core import clock

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_BASE64_CHARS = 700_000
MAX_IMAGE_BYTES = 512 * 1024
MIN_IMAGE_BYTES = 67
MAX_SIDE = 4000
MIN_SIDE = 20
MIN_INK_PIXELS = 20
MAX_PIXELS = 4_000_000


def canonical_json(document: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTC ISO timestamps, UUIDs as strings."""
    def plain(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.astimezone(timezone.utc).isoformat()
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, (uuid.UUID, Decimal)):
            return str(v)
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, dict):
            return {str(k): plain(x) for k, x in v.items()}
        return v
    return json.dumps(plain(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def document_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def _png_dimensions(data: bytes) -> tuple[int, int]:
    # IHDR is the first chunk: length(4) 'IHDR'(4) width(4) height(4)
    if len(data) < 33 or data[12:16] != b"IHDR":
        raise ValidationFailed("The signature is not a valid PNG image.", field="signature_image")
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def decode_signature_image(value: str | bytes) -> bytes:
    """The PNG bytes of a signature-pad image, or ValidationFailed saying what is wrong with it."""
    if isinstance(value, bytes):
        data = value
    else:
        if not isinstance(value, str) or not value.strip():
            raise ValidationFailed("Please sign before submitting.", field="signature_image")
        text = value.strip()
        if len(text) > MAX_BASE64_CHARS:
            raise ValidationFailed("The signature image is too large.", field="signature_image")
        if text.startswith("data:"):
            head, _, text = text.partition(",")
            if head.lower() not in ("data:image/png;base64",):
                raise ValidationFailed("The signature must be a PNG image.", field="signature_image")
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed("The signature image is not valid base64.", field="signature_image") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise ValidationFailed("The signature image is too large.", field="signature_image")
    if len(data) < MIN_IMAGE_BYTES or not data.startswith(PNG_MAGIC):
        raise ValidationFailed("The signature must be a PNG image.", field="signature_image")
    width, height = _png_dimensions(data)
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise ValidationFailed("The signature image has an unusual size.", field="signature_image")
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as img:
            if img.format != "PNG":
                raise ValidationFailed("The signature must be a PNG image.", field="signature_image")
            img.load()
            rgba = img.convert("RGBA")
    except ValidationFailed:
        raise
    except Exception:
        raise ValidationFailed("The signature image could not be read.", field="signature_image") from None
    if _ink_pixels(rgba) < MIN_INK_PIXELS:
        raise ValidationFailed("The signature is blank. Please sign in the box.", field="signature_image")
    return data


def _ink_pixels(rgba) -> int:
    """Pixels that differ from the background (the most common colour); transparent pixels are background."""
    alpha = rgba.getchannel("A")
    if alpha.getextrema()[1] == 0:
        return 0
    colours = rgba.getcolors(maxcolors=rgba.width * rgba.height)
    visible: dict[tuple, int] = {}
    for count, (r, g, b, a) in colours:
        key = (0, 0, 0, 0) if a == 0 else (r, g, b, a)
        visible[key] = visible.get(key, 0) + count
    background = max(visible.values())
    return sum(visible.values()) - background


def image_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Gps:
    latitude: Decimal
    longitude: Decimal


def parse_gps(latitude: Any, longitude: Any) -> Gps | None:
    if latitude is None and longitude is None:
        return None
    try:
        lat, lon = Decimal(str(latitude)), Decimal(str(longitude))
    except (InvalidOperation, ValueError):
        raise ValidationFailed("GPS coordinates must be numbers.", field="gps") from None
    if not (lat.is_finite() and lon.is_finite() and -90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed("GPS coordinates are out of range.", field="gps")
    return Gps(lat.quantize(Decimal("0.0000001")), lon.quantize(Decimal("0.0000001")))


def storage_key(document_type: str, document_id: uuid.UUID, signature_id: uuid.UUID) -> str:
    return f"signatures/{document_type}/{document_id}/{signature_id}.png"


def get_storage(storage: Storage | None = None) -> Storage:
    if storage is not None:
        return storage
    from nexdrive.adapters import get_adapter

    return get_adapter("storage")


def store_signature(session: Session, *, signer_id: uuid.UUID, signer_role: str, document_type: str,
                    document_id: uuid.UUID, document_sha256: str, image: bytes, device_time: datetime | None = None,
                    ip_address: str | None = None, user_agent: str | None = None, gps: Gps | None = None,
                    device_info: dict | None = None, storage: Storage | None = None) -> Signature:
    """Store the (already checked) image and append the signature row to the chain, in the caller's
    transaction. The image is written first: a rolled-back transaction leaves at most an unreferenced file."""
    if device_time is not None and device_time.tzinfo is None:
        raise ValidationFailed("The device time needs a time zone.", field="device_time")
    signature_id = uuid.uuid4()
    key = storage_key(document_type, document_id, signature_id)
    try:
        get_storage(storage).put(key, image, content_type="image/png")
    except StorageError as exc:
        raise ValidationFailed("The signature could not be stored; please try again.", field="signature_image",
                               reason=str(exc)) from None
    row = Signature(id=signature_id, signer_id=signer_id, signer_role=signer_role, document_type=document_type,
                    document_id=document_id, signature_url=key, signature_image_sha256=image_hash(image),
                    timestamp_utc=clock.now(session),  # the server's time (the pinned clock in tests and demos)
                    document_sha256=document_sha256, device_time=device_time, ip_address=ip_address,
                    user_agent=(user_agent or None) and user_agent[:500], device_info=device_info,
                    gps_latitude=gps.latitude if gps else None, gps_longitude=gps.longitude if gps else None)
    session.add(row)
    session.flush()
    return row


def read_image(signature: Signature, storage: Storage | None = None) -> bytes | None:
    """The stored image, or None when it is missing."""
    try:
        return get_storage(storage).get(signature.signature_url)
    except ObjectMissing:
        return None


def signature_dict(signature: Signature, *, staff: bool) -> dict:
    """What a viewer is shown of a signature (no image bytes; family members don't get IP/GPS/device)."""
    data = {"id": signature.id, "signer_id": signature.signer_id, "signer_role": signature.signer_role,
            "document_type": signature.document_type, "document_id": signature.document_id,
            "signed_at": signature.timestamp_utc, "device_time": signature.device_time,
            "document_sha256": signature.document_sha256, "image_sha256": signature.signature_image_sha256,
            "seq": signature.seq, "record_hash": signature.record_hash}
    if staff:
        data.update(ip_address=str(signature.ip_address) if signature.ip_address else None,
                    user_agent=signature.user_agent, gps_latitude=signature.gps_latitude,
                    gps_longitude=signature.gps_longitude, device_info=signature.device_info)
    return data


__all__ = ["Gps", "canonical_json", "decode_signature_image", "document_hash", "get_storage", "image_hash",
           "parse_gps", "read_image", "signature_dict", "storage_key", "store_signature"]

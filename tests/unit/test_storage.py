"""The storage port: LocalStorage keeps keys inside its folder; S3Storage speaks S3 through boto3.

S3Storage runs against recorded responses with botocore's own Stubber (no
network): the calls, their parameters, and how S3's errors map to ours.
"""
from __future__ import annotations

import io
import os
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from nexdrive import adapters
from nexdrive.adapters.storage import (
    LocalStorage,
    ObjectMissing,
    S3Storage,
    Storage,
    StorageError,
    UnsafeKey,
    clean_key,
)
from nexdrive.settings import Settings

UNSAFE_KEYS = ["", "../secret", "invoices/../../etc/passwd", "/etc/passwd", "a//b", "./a", "a/./b", ".hidden",
               "invoices/.env", "a\\..\\b", "a\x00b", "a/", "with space", "x" * 600, "caf\u00e9", "a/b?c"]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_are_refused(key):
    with pytest.raises(UnsafeKey):
        clean_key(key)


def test_safe_keys_pass_unchanged():
    for key in ("invoices/2026/NXD-2026-0001.pdf", "a", "receipts/x_y-z.1.pdf"):
        assert clean_key(key) == key


def test_local_storage_round_trip(tmp_path):
    store = LocalStorage(root=tmp_path)
    assert isinstance(store, Storage)
    key = "invoices/2026/NXD-2026-0001.pdf"
    assert not store.exists(key)
    assert store.put(key, b"%PDF-1 first", "application/pdf") == key
    assert store.exists(key) and store.get(key) == b"%PDF-1 first"
    store.put(key, b"%PDF-1 second")  # a retry replaces by key
    assert store.get(key) == b"%PDF-1 second"
    assert (tmp_path / "invoices" / "2026" / "NXD-2026-0001.pdf").read_bytes() == b"%PDF-1 second"
    assert not [p for p in (tmp_path / "invoices" / "2026").iterdir() if p.name.startswith(".tmp-")]
    assert store.url(key) is None  # served through the app only
    store.delete(key)
    store.delete(key)  # deleting what is gone is fine
    assert not store.exists(key)
    with pytest.raises(ObjectMissing):
        store.get(key)


def test_local_storage_uses_the_settings_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("NEXDRIVE_DATA_DIR", str(tmp_path))
    store = LocalStorage(Settings())
    store.put("a/b.txt", b"x")
    assert (tmp_path / "storage" / "a" / "b.txt").read_bytes() == b"x"


@pytest.mark.parametrize("key", ["../outside.txt", "sub/../../outside.txt", "/tmp/outside.txt"])
def test_local_storage_never_writes_outside_its_folder(tmp_path, key):
    root = tmp_path / "root"
    store = LocalStorage(root=root)
    for call in (lambda: store.put(key, b"x"), lambda: store.get(key), lambda: store.exists(key),
                 lambda: store.delete(key)):
        with pytest.raises(UnsafeKey):
            call()
    assert not (tmp_path / "outside.txt").exists()


def test_local_storage_refuses_a_symlink_out_of_its_folder(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    os.symlink(outside, root / "link")
    store = LocalStorage(root=root)
    with pytest.raises(UnsafeKey):
        store.get("link/secret.txt")
    with pytest.raises(UnsafeKey):
        store.put("link/new.txt", b"x")
    assert not (outside / "new.txt").exists()


# ─────────────────────────────────────────────────────────────────────────────
# S3Storage against recorded S3 responses (botocore Stubber)
# ─────────────────────────────────────────────────────────────────────────────

S3_SETTINGS = Settings(s3_bucket="nexdrive-docs", s3_endpoint_url="https://acc123.r2.cloudflarestorage.com")
KEY = "invoices/2026/NXD-2026-0007.pdf"


@pytest.fixture
def s3(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "auto")
    store = S3Storage(S3_SETTINGS)
    with Stubber(store.client) as stub:
        yield store, stub
        stub.assert_no_pending_responses()


def test_s3_client_points_at_the_configured_endpoint(s3):
    store, _ = s3
    assert store.bucket == "nexdrive-docs"
    assert store.client.meta.endpoint_url == "https://acc123.r2.cloudflarestorage.com"


def test_s3_put_sends_bucket_key_body_and_content_type(s3):
    store, stub = s3
    stub.add_response(
        "put_object",
        {"ETag": '"9b2cf535f27731c974343645a3985328"'},
        {"Bucket": "nexdrive-docs", "Key": KEY, "Body": b"%PDF-1.7 ...", "ContentType": "application/pdf"},
    )
    assert store.put(KEY, b"%PDF-1.7 ...", "application/pdf") == KEY


def test_s3_get_reads_the_body(s3):
    store, stub = s3
    data = b"%PDF-1.7 invoice bytes"
    stub.add_response("get_object", {"Body": StreamingBody(io.BytesIO(data), len(data)), "ContentLength": len(data),
                                     "ContentType": "application/pdf"}, {"Bucket": "nexdrive-docs", "Key": KEY})
    assert store.get(KEY) == data


def test_s3_missing_object_is_object_missing(s3):
    store, stub = s3
    stub.add_client_error(
        "get_object",
        service_error_code="NoSuchKey",
        service_message="The specified key does not exist.",
        http_status_code=404,
        expected_params={"Bucket": "nexdrive-docs", "Key": KEY},
    )
    with pytest.raises(ObjectMissing):
        store.get(KEY)


def test_s3_exists_uses_head_object(s3):
    store, stub = s3
    stub.add_response("head_object", {"ContentLength": 12, "ContentType": "application/pdf"},
                      {"Bucket": "nexdrive-docs", "Key": KEY})
    stub.add_client_error("head_object", service_error_code="404", service_message="Not Found",
                          http_status_code=404, expected_params={"Bucket": "nexdrive-docs", "Key": "a/b.pdf"})
    assert store.exists(KEY) is True
    assert store.exists("a/b.pdf") is False


def test_s3_other_errors_are_storage_errors(s3):
    store, stub = s3
    stub.add_client_error("put_object", service_error_code="AccessDenied", service_message="Access Denied",
                          http_status_code=403)
    stub.add_client_error("head_object", service_error_code="403", service_message="Forbidden", http_status_code=403)
    with pytest.raises(StorageError) as refused:
        store.put(KEY, b"x")
    assert not isinstance(refused.value, ObjectMissing)
    with pytest.raises(StorageError):
        store.exists(KEY)


def test_s3_delete(s3):
    store, stub = s3
    stub.add_response("delete_object", {}, {"Bucket": "nexdrive-docs", "Key": KEY})
    store.delete(KEY)


def test_s3_refuses_unsafe_keys_before_calling_s3(s3):
    store, _ = s3  # no responses queued: any call to S3 would fail the stub
    for key in ("../x", "/etc/passwd", "a//b"):
        with pytest.raises(UnsafeKey):
            store.put(key, b"x")
        with pytest.raises(UnsafeKey):
            store.get(key)


def test_s3_presigned_url_is_short_lived_and_signed(s3):
    store, _ = s3
    url = store.url(KEY, expires_in=120)
    parts = urlsplit(url)
    assert parts.netloc.startswith("acc123.r2.cloudflarestorage.com") or parts.netloc.startswith("nexdrive-docs.")
    assert KEY in parts.path
    query = parse_qs(parts.query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query


def test_wiring_chooses_s3_only_with_a_bucket(tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "auto")
    try:
        adapters.reset_adapters()
        assert isinstance(adapters.get_adapter("storage", Settings(s3_bucket="")), LocalStorage)
        adapters.reset_adapters()
        assert isinstance(adapters.get_adapter("storage", Settings(s3_bucket="b")), S3Storage)
    finally:
        adapters.reset_adapters()

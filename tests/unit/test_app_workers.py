"""How many app workers production starts (issue 17): one without Redis, two with REDIS_URL."""
from __future__ import annotations

from nexdrive.cli import app_workers


def test_one_worker_without_redis():
    assert app_workers({}) == 1
    assert app_workers({"REDIS_URL": "  "}) == 1


def test_two_workers_when_redis_holds_the_state():
    assert app_workers({"REDIS_URL": "redis://127.0.0.1:6379/0"}) == 2


def test_the_operator_may_choose():
    assert app_workers({"REDIS_URL": "redis://x", "GRANIAN_WORKERS": "4"}) == 4
    assert app_workers({"GRANIAN_WORKERS": "0"}) == 1
    assert app_workers({"REDIS_URL": "redis://x", "GRANIAN_WORKERS": "many"}) == 2

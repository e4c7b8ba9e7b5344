"""Run by test_dispatch_crash.py in a child process: dispatch with offline adapters and SIGKILL this process
at the k-th send — after the provider accepted it (``after``) or just before (``before``)."""
from __future__ import annotations

import os
import signal
import sys
from datetime import datetime

import sqlalchemy as sa

from nexdrive import db
from nexdrive.adapters.email import OutboxEmail
from nexdrive.adapters.sms import OutboxSms
from nexdrive.services.messaging.dispatch import dispatch_due
from nexdrive.settings import get_settings


class Killing:
    sends = 0

    def __init__(self, inner, kill_at: int, when: str):
        self.inner, self.kill_at, self.when = inner, kill_at, when

    def send(self, message):
        Killing.sends += 1
        if Killing.sends == self.kill_at and self.when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        receipt = self.inner.send(message)
        if Killing.sends == self.kill_at and self.when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return receipt


def main(url: str, kill_at: int, when: str, now: str, batch_size: int) -> None:
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    db.set_engine(engine)
    settings = get_settings()
    sms = Killing(OutboxSms(settings, engine=engine), kill_at, when)
    email = Killing(OutboxEmail(settings, engine=engine), kill_at, when)
    stats = dispatch_due(engine, batch_size=batch_size, now=datetime.fromisoformat(now), worker_id="crashy",
                         sms=sms, email=email, time_budget=None)
    print(stats.as_dict(), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]))

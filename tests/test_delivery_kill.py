"""Kill the Celery worker in the middle of a batch of deliveries: nothing is lost.

Real worker processes, real Redis broker, the test database; the provider is a real HTTP
server in this process (a signed-webhook receiver that takes 0.2 s per request), reached
through the project's HTTP client like any webhook. The worker is killed with SIGKILL
while requests are in flight; a second worker and the re-queue task (what beat runs every
minute) must finish the batch: every delivery delivered, in-app ones exactly once, the
webhook at most once more per kill.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from apps.notifications.delivery import deliveries_requeue
from apps.notifications.models import (
    AttemptStatus,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Destination,
    DestinationKind,
)
from apps.notifications.services import notification_send
from config.celery import app
from tests.workers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
BATCH = 12
LEASE_SECONDS = 2


class Receiver(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.received: Counter[str] = Counter()  # delivery id → requests
        self.lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.server.lock:
            self.server.received[str(body["delivery_id"])] += 1
        time.sleep(0.2)  # a slow provider: the kill lands while requests are in flight
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _wait(check: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_killing_a_worker_mid_batch_loses_no_delivery_and_duplicates_at_most_one(
    user: Any, receiver: Receiver, settings: Any, tmp_path: Path
) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_URLS = True
    settings.NOTIFICATIONS_LEASE_SECONDS = LEASE_SECONDS
    app.control.purge()
    port = receiver.server_address[1]
    Destination.objects.create(
        user=user, kind=DestinationKind.WEBHOOK, label="automation",
        config={"url": f"http://127.0.0.1:{port}/hook", "secret": "s3cret"},
        verified_at=timezone.now(),
    )
    env = {"NOTIFICATIONS_ALLOW_PRIVATE_URLS": "true"}

    with celery_worker(tmp_path / "first.log", "doomed", env) as first:
        for n in range(BATCH):
            notification_send(user=user, message=f"RELIANCE crossed ₹{2500 + n}",
                              channels=["in_app", "webhook"], priority="high")
        _wait(lambda: sum(receiver.received.values()) >= 3, 60, "the worker never started")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = time.monotonic()
    assert Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists(), (
        "the batch finished before the kill; the test proves nothing"
    )

    with celery_worker(tmp_path / "second.log", "survivor", env):
        def finished() -> bool:
            # What beat does every minute: re-queue what the dead worker left behind.
            if time.monotonic() - killed_at > LEASE_SECONDS:
                deliveries_requeue()
            return not Delivery.objects.exclude(status=DeliveryStatus.DELIVERED).exists()

        _wait(finished, 90, "deliveries left undelivered")

    deliveries = Delivery.objects.select_related("destination")
    assert deliveries.count() == 2 * BATCH
    for delivery in deliveries:
        delivered = DeliveryAttempt.objects.filter(delivery=delivery,
                                                   status=AttemptStatus.DELIVERED).count()
        assert delivered == 1, delivery  # recorded once, even when sent twice
    webhook_ids = {str(d.pk) for d in deliveries if d.destination.kind == DestinationKind.WEBHOOK}
    assert set(receiver.received) == webhook_ids  # none lost
    duplicates = sum(count - 1 for count in receiver.received.values())
    assert duplicates <= 1  # one kill: at most the request that was in flight

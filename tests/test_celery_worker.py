"""A task runs through a real Celery worker process over real Redis (not eager mode)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.mail import EmailMessage

from apps.core.mail.backends import message_to_dict
from apps.core.tasks import send_email
from config.celery import app
from tests.workers import celery_worker


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    app.control.purge()
    log = tmp_path / "worker.log"
    with celery_worker(log, "pytest"):
        yield log


@pytest.mark.slow
def test_queued_email_is_delivered_by_a_real_worker(worker: Path) -> None:
    message = EmailMessage(
        "Your StockSense digest", "NIFTY 50 closed up 0.8%.", "no-reply@stocksense.in",
        ["asha@example.in"],
    )
    result = send_email.delay(message_to_dict(message))
    assert result.get(timeout=60) == 1
    output = worker.read_text()
    # Routed to the notifications queue, delivered through the marked console backend.
    assert "NOT SENT (no SENDGRID_API_KEY)" in output
    assert "Your StockSense digest" in output
    assert "apps.core.tasks.send_email" in output

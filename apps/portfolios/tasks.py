"""Background work of portfolios: daily snapshot rebuilds."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.db import transaction
from django.db.models import Exists, OuterRef

from apps.portfolios.models import Portfolio, Transaction
from apps.portfolios.snapshots import portfolio_snapshots_rebuild as snapshots_rebuild


@shared_task(name="apps.portfolios.tasks.portfolio_snapshots_rebuild", ignore_result=True)
def portfolio_snapshots_rebuild(portfolio_id: int) -> int | None:
    """Bring one portfolio's snapshots up to date. Idempotent; a run that finds the portfolio
    locked by an edit or another rebuild returns None at once (the edit queues its own run)."""
    portfolio = Portfolio.objects.filter(pk=portfolio_id).first()
    if portfolio is None:
        return None
    return snapshots_rebuild(portfolio=portfolio)


@shared_task(name="apps.portfolios.tasks.portfolios_snapshot_daily", ignore_result=True)
def portfolios_snapshot_daily() -> int:
    """After the close: queue a rebuild (up to today) for every portfolio with transactions."""
    ids = list(
        Portfolio.objects.filter(
            Exists(Transaction.objects.filter(portfolio=OuterRef("pk")))
        ).values_list("pk", flat=True)
    )
    for portfolio_id in ids:
        transaction.on_commit(partial(portfolio_snapshots_rebuild.delay, portfolio_id))
    return len(ids)

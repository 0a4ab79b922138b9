"""Portfolios: transactions are the record; holdings, lots and snapshots are derived from them."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.market.models import Instrument

MAX_PORTFOLIOS_PER_OWNER = 20

ZERO = Decimal("0")


class Currency(models.TextChoices):
    INR = "INR", _("Indian rupee (INR)")


class Portfolio(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolios"
    )
    name = models.CharField(_("name"), max_length=80)
    description = models.CharField(_("description"), max_length=500, blank=True)
    base_currency = models.CharField(
        _("base currency"), max_length=3, choices=Currency.choices, default=Currency.INR
    )
    # Null means "no benchmark"; the services default new portfolios to NIFTY 50.
    benchmark = models.ForeignKey(
        Instrument,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("benchmark"),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # Earliest date whose daily snapshots no longer match the transactions (an edit in the
    # past); the background recomputation rebuilds from here and clears it.
    snapshots_stale_from = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ("position", "id")
        verbose_name = _("portfolio")
        verbose_name_plural = _("portfolios")
        constraints = [
            models.UniqueConstraint(
                F("owner"), Lower("name"), name="portfolios_portfolio_owner_name_ci_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TransactionKind(models.TextChoices):
    BUY = "buy", _("Buy")
    SELL = "sell", _("Sell")
    DIVIDEND = "dividend", _("Dividend")
    SPLIT = "split", _("Split")
    BONUS = "bonus", _("Bonus issue")
    FEE = "fee", _("Fee")
    DEPOSIT = "deposit", _("Deposit")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


# Kinds that name an instrument; the others are cash movements of the portfolio.
INSTRUMENT_KINDS = frozenset(
    {
        TransactionKind.BUY,
        TransactionKind.SELL,
        TransactionKind.DIVIDEND,
        TransactionKind.SPLIT,
        TransactionKind.BONUS,
    }
)
TRADE_KINDS = frozenset({TransactionKind.BUY, TransactionKind.SELL})
RATIO_KINDS = frozenset({TransactionKind.SPLIT, TransactionKind.BONUS})
# Kinds whose money is `amount` (not quantity × price).
AMOUNT_KINDS = frozenset(
    {
        TransactionKind.DIVIDEND,
        TransactionKind.FEE,
        TransactionKind.DEPOSIT,
        TransactionKind.WITHDRAWAL,
    }
)


class TransactionSource(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    CSV = "csv", _("StockSense CSV")
    ZERODHA = "zerodha", _("Zerodha tradebook")


class Transaction(models.Model):
    """One event of a portfolio.

    buy/sell: `quantity` × `price`, charges on top (buy) or deducted (sell).
    dividend: `amount` received for `instrument` (cash, total, not per share).
    split: `ratio_from` old shares become `ratio_to` new shares (face value 10 → 2 is 1:5).
    bonus: `ratio_from` bonus shares for every `ratio_to` held (1:1 doubles the count).
    fee / deposit / withdrawal: `amount` of cash, no instrument.
    Charges may be entered one by one or as one total in `other_charges`.
    """

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="transactions")
    kind = models.CharField(_("kind"), max_length=10, choices=TransactionKind.choices)
    instrument = models.ForeignKey(
        Instrument,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("instrument"),
    )
    executed_at = models.DateTimeField(_("date and time"))
    quantity = models.DecimalField(_("quantity"), default=ZERO, max_digits=20, decimal_places=6)
    price = models.DecimalField(_("price"), default=ZERO, max_digits=20, decimal_places=4)
    amount = models.DecimalField(_("amount"), default=ZERO, max_digits=20, decimal_places=4)
    ratio_from = models.PositiveIntegerField(
        _("ratio from"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    ratio_to = models.PositiveIntegerField(
        _("ratio to"), null=True, blank=True, validators=[MinValueValidator(1)]
    )
    brokerage = models.DecimalField(_("brokerage"), default=ZERO, max_digits=20, decimal_places=4)
    stt = models.DecimalField(_("STT"), default=ZERO, max_digits=20, decimal_places=4)
    exchange_fees = models.DecimalField(
        _("exchange fees"), default=ZERO, max_digits=20, decimal_places=4
    )
    gst = models.DecimalField(_("GST"), default=ZERO, max_digits=20, decimal_places=4)
    stamp_duty = models.DecimalField(_("stamp duty"), default=ZERO, max_digits=20, decimal_places=4)
    other_charges = models.DecimalField(
        _("other charges"), default=ZERO, max_digits=20, decimal_places=4
    )
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    # Broker trade id for imported rows: a re-import skips rows already present.
    external_id = models.CharField(_("trade id"), max_length=64, blank=True)
    source = models.CharField(
        max_length=10, choices=TransactionSource.choices, default=TransactionSource.MANUAL
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("executed_at", "id")
        verbose_name = _("transaction")
        verbose_name_plural = _("transactions")
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "external_id"],
                condition=~Q(external_id=""),
                name="portfolios_transaction_external_id_uniq",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=0) & Q(price__gte=0) & Q(amount__gte=0),
                name="portfolios_transaction_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["portfolio", "executed_at"], name="portfolios_tx_port_time_idx"),
            models.Index(fields=["portfolio", "instrument"], name="portfolios_tx_port_instr_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.instrument or ''} {self.executed_at:%Y-%m-%d}"

    @property
    def charges(self) -> Decimal:
        return (
            self.brokerage
            + self.stt
            + self.exchange_fees
            + self.gst
            + self.stamp_duty
            + self.other_charges
        )


class DailySnapshot(models.Model):
    """A portfolio at the close of one trading day, so history needs no replay.

    `value` is the market value of the holdings; `net_flow` is the money that entered the
    holdings that day (buys in, sells and dividends out), used by the time-weighted return.
    """

    portfolio = models.ForeignKey(Portfolio, on_delete=models.CASCADE, related_name="snapshots")
    date = models.DateField()
    value = models.DecimalField(max_digits=20, decimal_places=4)
    cash = models.DecimalField(default=ZERO, max_digits=20, decimal_places=4)
    net_invested = models.DecimalField(max_digits=20, decimal_places=4)
    net_flow = models.DecimalField(max_digits=20, decimal_places=4)
    realised_pl = models.DecimalField(max_digits=20, decimal_places=4)
    unrealised_pl = models.DecimalField(max_digits=20, decimal_places=4)
    charges = models.DecimalField(max_digits=20, decimal_places=4)
    benchmark_close = models.DecimalField(max_digits=16, decimal_places=4, null=True, blank=True)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("portfolio", "date")
        verbose_name = _("daily snapshot")
        verbose_name_plural = _("daily snapshots")
        constraints = [
            models.UniqueConstraint(
                fields=["portfolio", "date"], name="portfolios_snapshot_portfolio_date_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.portfolio_id} {self.date} {self.value}"

"""Exchanges, the instruments listed on them, and exchange trading holidays."""

from __future__ import annotations

import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from apps.accounts.validators import validate_time_zone

# ISIN: 2-letter country, 9 alphanumerics, 1 check digit (e.g. INE002A01018).
ISIN_RE = re.compile(r"^[A-Z]{2}[A-Z0-9]{9}[0-9]$")


def isin_is_valid(value: str) -> bool:
    """Format and the ISO 6166 check digit (Luhn over the letters-as-numbers expansion)."""
    if not ISIN_RE.match(value):
        return False
    digits = "".join(str(int(char, 36)) for char in value[:-1])
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(value[-1])


def validate_isin(value: str) -> None:
    if value and not isin_is_valid(value):
        raise ValidationError(
            _("Enter a valid 12-character ISIN, e.g. INE002A01018."), code="invalid_isin"
        )


class Exchange(models.Model):
    code = models.CharField(_("code"), max_length=10, unique=True, help_text=_("e.g. NSE, BSE"))
    name = models.CharField(_("name"), max_length=100)
    timezone = models.CharField(
        _("time zone"), max_length=64, default="Asia/Kolkata", validators=[validate_time_zone]
    )

    class Meta:
        ordering = ("code",)
        verbose_name = _("exchange")
        verbose_name_plural = _("exchanges")

    def __str__(self) -> str:
        return self.code


class InstrumentKind(models.TextChoices):
    EQUITY = "equity", _("Equity")
    INDEX = "index", _("Index")
    ETF = "etf", _("ETF")


class MarketCap(models.TextChoices):
    """SEBI's categories (AMFI's half-yearly list): large = top 100 by full market
    capitalisation, mid = 101st-250th, small = the rest."""

    LARGE = "large", _("Large cap")
    MID = "mid", _("Mid cap")
    SMALL = "small", _("Small cap")


class Instrument(models.Model):
    exchange = models.ForeignKey(Exchange, on_delete=models.PROTECT, related_name="instruments")
    symbol = models.CharField(_("symbol"), max_length=32)
    name = models.CharField(_("name"), max_length=200)
    isin = models.CharField(
        _("ISIN"),
        max_length=12,
        blank=True,
        validators=[validate_isin],
        help_text=_("Blank for indices."),
    )
    sector = models.CharField(_("sector"), max_length=100, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    lot_size = models.PositiveIntegerField(
        _("lot size"), default=1, validators=[MinValueValidator(1)]
    )
    tick_size = models.DecimalField(
        _("tick size (INR)"),
        max_digits=10,
        decimal_places=4,
        default=Decimal("0.05"),
        validators=[MinValueValidator(Decimal("0.0001"))],
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=InstrumentKind.choices, default=InstrumentKind.EQUITY
    )
    market_cap = models.CharField(
        _("market-cap category"),
        max_length=5,
        choices=MarketCap.choices,
        blank=True,
        help_text=_("SEBI category from AMFI's list; blank when unknown (and for indices)."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ("symbol", "exchange")
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "symbol"], name="market_instrument_exchange_symbol_uniq"
            ),
        ]
        indexes = [
            # Case-insensitive prefix search (`UPPER(symbol) LIKE 'RELI%'`). Migration 0001
            # creates these two with the text_pattern_ops operator class, so LIKE prefixes use
            # them under any database collation (OpClass needs django.contrib.postgres).
            # pg_trgm is not available on every PostgreSQL we run (not the embedded dev one),
            # so a name substring search scans the table: ~2,000 NSE rows.
            models.Index(Upper("symbol"), name="market_instr_symbol_upper_idx"),
            models.Index(Upper("name"), name="market_instr_name_upper_idx"),
            models.Index(fields=["sector"], name="market_instr_sector_idx"),
            models.Index(fields=["isin"], name="market_instr_isin_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange.code}:{self.symbol}"


class MarketHoliday(models.Model):
    exchange = models.ForeignKey(Exchange, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField(_("date"))
    description = models.CharField(_("description"), max_length=200)

    class Meta:
        ordering = ("date",)
        verbose_name = _("market holiday")
        verbose_name_plural = _("market holidays")
        constraints = [
            models.UniqueConstraint(
                fields=["exchange", "date"], name="market_holiday_exchange_date_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.description}"


class Timeframe(models.TextChoices):
    M1 = "1m", _("1 minute")
    M3 = "3m", _("3 minutes")
    M5 = "5m", _("5 minutes")
    M15 = "15m", _("15 minutes")
    M30 = "30m", _("30 minutes")
    H1 = "1h", _("1 hour")
    D1 = "1d", _("1 day")
    W1 = "1w", _("1 week")


class DataSource(models.IntegerChoices):
    SIMULATED = 1, _("Simulated feed")
    CSV = 2, _("CSV file")
    YAHOO = 3, _("Yahoo Finance")
    NSE = 4, _("NSE")




class Candle(models.Model):
    """One OHLCV bar. Raw (unadjusted) prices; adjustment for splits/bonuses happens on read.

    The unique (instrument, timeframe, start) index also serves "the last N bars", read
    backwards. 1-minute bars come from quotes; the other timeframes are rolled up from the
    same ticks as they arrive, or loaded directly as history (1d, 1w).
    """

    id = models.BigAutoField(primary_key=True)
    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    timeframe = models.CharField(max_length=3, choices=Timeframe.choices)
    start = models.DateTimeField()
    open = models.DecimalField(max_digits=16, decimal_places=4)
    high = models.DecimalField(max_digits=16, decimal_places=4)
    low = models.DecimalField(max_digits=16, decimal_places=4)
    close = models.DecimalField(max_digits=16, decimal_places=4)
    volume = models.BigIntegerField(default=0)
    source = models.PositiveSmallIntegerField(choices=DataSource.choices)

    class Meta:
        verbose_name = _("candle")
        verbose_name_plural = _("candles")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "timeframe", "start"], name="market_candle_key"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.timeframe} {self.start:%Y-%m-%d %H:%M}"


class LatestQuote(models.Model):
    """The durable copy of each instrument's latest quote (Redis holds the hot copy)."""

    instrument = models.OneToOneField(
        Instrument, on_delete=models.CASCADE, primary_key=True, related_name="latest_quote"
    )
    last_price = models.DecimalField(max_digits=16, decimal_places=4)
    open = models.DecimalField(max_digits=16, decimal_places=4)
    high = models.DecimalField(max_digits=16, decimal_places=4)
    low = models.DecimalField(max_digits=16, decimal_places=4)
    prev_close = models.DecimalField(max_digits=16, decimal_places=4)
    volume = models.BigIntegerField()
    at = models.DateTimeField()
    source = models.PositiveSmallIntegerField(choices=DataSource.choices)

    class Meta:
        verbose_name = _("latest quote")
        verbose_name_plural = _("latest quotes")

    def __str__(self) -> str:
        return f"{self.instrument_id} {self.last_price} @ {self.at:%H:%M:%S}"


class CorporateActionKind(models.TextChoices):
    SPLIT = "split", _("Split")
    BONUS = "bonus", _("Bonus issue")


class CorporateAction(models.Model):
    """A split or bonus issue. Prices before `ex_date` are divided by `factor()`.

    Split `ratio_from:ratio_to` = old shares : new shares (face value 10 → 2 is 1:5).
    Bonus `ratio_from:ratio_to` = bonus shares : held shares (1:1 doubles the count).
    """

    instrument = models.ForeignKey(
        Instrument, on_delete=models.CASCADE, related_name="corporate_actions"
    )
    kind = models.CharField(max_length=8, choices=CorporateActionKind.choices)
    ex_date = models.DateField(_("ex-date"))
    ratio_from = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    ratio_to = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ("instrument", "ex_date")
        verbose_name = _("corporate action")
        verbose_name_plural = _("corporate actions")
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "kind", "ex_date"], name="market_corpaction_uniq"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} {self.kind} {self.ratio_from}:{self.ratio_to} {self.ex_date}"

    def factor(self) -> Decimal:
        """How many shares one share before the ex-date became."""
        if self.kind == CorporateActionKind.SPLIT:
            return Decimal(self.ratio_to) / Decimal(self.ratio_from)
        return (Decimal(self.ratio_from) + Decimal(self.ratio_to)) / Decimal(self.ratio_to)

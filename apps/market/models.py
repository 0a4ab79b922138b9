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

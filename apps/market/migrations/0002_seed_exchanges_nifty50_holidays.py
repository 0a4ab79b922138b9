"""Seed NSE/BSE, the NIFTY 50 constituents, three indices and NSE holidays for 2025-2026.

Idempotent: rows are matched on their natural keys and updated in place, so running it on a
database that already has them (or re-running after a fake-unapply) changes nothing.
The data lives in apps/market/seed/*.csv.
"""

import csv
import datetime
from pathlib import Path

from django.db import migrations

SEED_DIR = Path(__file__).resolve().parent.parent / "seed"

EXCHANGES = [
    ("NSE", "National Stock Exchange of India", "Asia/Kolkata"),
    ("BSE", "BSE (Bombay Stock Exchange)", "Asia/Kolkata"),
]


def _read(name):
    with (SEED_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def seed(apps, schema_editor):
    Exchange = apps.get_model("market", "Exchange")
    Instrument = apps.get_model("market", "Instrument")
    MarketHoliday = apps.get_model("market", "MarketHoliday")

    exchanges = {}
    for code, name, tz in EXCHANGES:
        exchanges[code], _ = Exchange.objects.update_or_create(
            code=code, defaults={"name": name, "timezone": tz}
        )

    for row in _read("nifty50.csv"):
        Instrument.objects.update_or_create(
            exchange=exchanges["NSE"],
            symbol=row["symbol"],
            defaults={
                "name": row["name"],
                "isin": row["isin"],
                "sector": row["sector"],
                "industry": row["industry"],
                "kind": "equity",
                "active": True,
            },
        )
    for row in _read("indices.csv"):
        Instrument.objects.update_or_create(
            exchange=exchanges[row["exchange"]],
            symbol=row["symbol"],
            defaults={"name": row["name"], "isin": "", "kind": "index", "active": True},
        )
    for row in _read("holidays.csv"):
        MarketHoliday.objects.update_or_create(
            exchange=exchanges[row["exchange"]],
            date=datetime.date.fromisoformat(row["date"]),
            defaults={"description": row["description"]},
        )


class Migration(migrations.Migration):
    dependencies = [("market", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]

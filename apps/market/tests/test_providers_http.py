"""The CSV, Yahoo Finance and NSE providers: files on disk, HTTP stubbed with `responses`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured

from apps.market.providers import (
    CsvFormatError,
    CsvProvider,
    InstrumentRef,
    NseProvider,
    ProviderError,
    YahooProvider,
    get_provider,
    parse_ohlcv_csv,
)
from apps.market.providers.nse import HISTORY_URL, HOME_URL, INDICES_URL
from apps.market.providers.nse import QUOTE_URL as NSE_QUOTE_URL
from apps.market.providers.yahoo import QUOTE_URL, yahoo_ticker

IST = ZoneInfo("Asia/Kolkata")
RELIANCE = InstrumentRef("RELIANCE", "NSE", "Energy")
TCS = InstrumentRef("TCS", "NSE", "IT")
RELIANCE_BSE = InstrumentRef("RELIANCE", "BSE")
MM = InstrumentRef("M&M", "NSE")
NIFTY = InstrumentRef("NIFTY 50", "NSE", kind="index", tick_size=Decimal("0.01"))
NIFTY_BANK = InstrumentRef("NIFTY BANK", "NSE", kind="index", tick_size=Decimal("0.01"))
SENSEX = InstrumentRef("SENSEX", "BSE", kind="index", tick_size=Decimal("0.01"))


def ist(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=IST)


def params(index: int) -> dict[str, str]:
    """The query parameters of the `index`-th stubbed request."""
    return dict(parse_qsl(urlsplit(url(index)).query))


def url(index: int) -> str:
    return str(responses.calls[index].request.url)


def urls() -> list[str]:
    return [str(call.request.url) for call in responses.calls]


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def test_get_provider_knows_every_provider(settings: Any, tmp_path: Path) -> None:
    settings.MARKET_CSV_DIR = str(tmp_path)
    assert isinstance(get_provider("csv"), CsvProvider)
    assert get_provider("csv").directory == tmp_path  # type: ignore[attr-defined]
    assert isinstance(get_provider("yahoo"), YahooProvider)
    assert isinstance(get_provider("NSE"), NseProvider)
    assert get_provider("simulated").name == "simulated"
    with pytest.raises(ImproperlyConfigured, match="csv, nse, simulated, yahoo"):
        get_provider("bloomberg")


def test_csv_directory_defaults_under_local(settings: Any) -> None:
    del settings.MARKET_CSV_DIR
    assert CsvProvider().directory == Path(settings.BASE_DIR) / ".local" / "market-csv"


# --- CSV ---------------------------------------------------------------------------------


class TestParseOhlcvCsv:
    def test_a_yahoo_style_daily_export_is_read_at_midnight_ist(self) -> None:
        text = (
            "Date,Open,High,Low,Close,Adj Close,Volume\n"
            "2026-11-23,2920.00,2955.50,2911.05,2950.20,2950.20,5123400\n"
            "2026-11-24,2950.20,2962.00,2931.00,2940.00,2940.00,4012000\n"
        )
        rows = parse_ohlcv_csv(text)
        assert [r.start for r in rows] == [ist(2026, 11, 23), ist(2026, 11, 24)]
        assert rows[0].open == Decimal("2920.00")
        assert rows[0].close == Decimal("2950.20")  # Close, not Adj Close
        assert rows[1].volume == 4_012_000

    def test_header_names_are_matched_in_any_case_order_and_spelling(self) -> None:
        text = (
            "\ufefftimestamp, close ,LOW,High,open,vol\n"
            "2026-11-24T09:15:00+05:30,101.5,100,102,100.5,1200\n"
        )
        (row,) = parse_ohlcv_csv(text)
        assert row.start == ist(2026, 11, 24, 9, 15)
        assert (row.open, row.high, row.low, row.close) == (
            Decimal("100.5"),
            Decimal("102"),
            Decimal("100"),
            Decimal("101.5"),
        )
        assert row.volume == 1200

    def test_separate_date_and_time_columns_are_combined_in_ist(self) -> None:
        text = "date,time,open,high,low,close,volume\n24-11-2026,09:16,10,11,9,10.5,5\n"
        (row,) = parse_ohlcv_csv(text)
        assert row.start == ist(2026, 11, 24, 9, 16)

    def test_naive_datetimes_are_ist_and_offsets_are_kept(self) -> None:
        text = (
            "datetime,open,high,low,close\n"
            "2026-11-24 09:15:00,10,11,9,10\n"
            "2026-11-24T03:46:00Z,10,11,9,10\n"
            f"{epoch(ist(2026, 11, 24, 9, 17))},10,11,9,10\n"
        )
        rows = parse_ohlcv_csv(text)
        assert rows[0].start == ist(2026, 11, 24, 9, 15)
        assert rows[0].start.utcoffset() == timedelta(hours=5, minutes=30)
        assert rows[1].start == ist(2026, 11, 24, 9, 16)
        assert rows[2].start == ist(2026, 11, 24, 9, 17)
        assert rows[2].start.tzinfo == UTC
        assert all(r.volume == 0 for r in rows)  # no volume column

    def test_another_time_zone_can_be_named(self) -> None:
        (row,) = parse_ohlcv_csv("date,open,high,low,close\n2026-11-24,1,1,1,1\n", tz="UTC")
        assert row.start == datetime(2026, 11, 24, tzinfo=UTC)

    def test_rows_come_back_oldest_first_and_blank_lines_are_skipped(self) -> None:
        text = "date,open,high,low,close\n2026-11-24,1,1,1,1\n\n2026-11-23,2,2,2,2\n"
        assert [r.close for r in parse_ohlcv_csv(text)] == [Decimal(2), Decimal(1)]

    @pytest.mark.parametrize(
        ("bad_row", "message"),
        [
            ("2026-11-24,abc,11,9,10,1", "open is not a number"),
            ("yesterday,10,11,9,10,1", "unrecognised date/time"),
            ("2026-11-24,10,11,9", "expected 6 columns"),
            ("2026-11-24,10,9,8,10,1", "low <= open, close <= high"),
            ("2026-11-24,10,11,9,10,-5", "volume must be a whole number"),
            ("2026-11-24,0,11,0,10,1", "must be a positive number"),
        ],
    )
    def test_the_first_bad_row_is_named_by_its_line(self, bad_row: str, message: str) -> None:
        text = "date,open,high,low,close,volume\n2026-11-23,10,11,9,10,1\n" + bad_row + "\n"
        with pytest.raises(CsvFormatError) as info:
            parse_ohlcv_csv(text)
        assert info.value.line == 3
        assert message in info.value.message
        assert str(info.value).startswith("line 3: ")

    def test_a_repeated_timestamp_names_both_lines(self) -> None:
        text = (
            "date,open,high,low,close\n2026-11-23,1,1,1,1\n2026-11-24,1,1,1,1\n2026-11-23,1,1,1,1\n"
        )
        with pytest.raises(CsvFormatError, match="line 4: .* repeats line 2"):
            parse_ohlcv_csv(text)

    def test_a_header_without_prices_or_time_is_rejected_on_its_line(self) -> None:
        with pytest.raises(CsvFormatError) as info:
            parse_ohlcv_csv("\nsymbol,price,qty\nRELIANCE,1,2\n")
        assert info.value.line == 2
        assert "date/datetime/timestamp, open, high, low, close" in info.value.message

    def test_an_empty_file_is_rejected(self) -> None:
        with pytest.raises(CsvFormatError, match="line 1: the file is empty"):
            parse_ohlcv_csv("")

    def test_bytes_and_open_files_are_accepted(self, tmp_path: Path) -> None:
        path = tmp_path / "x.csv"
        path.write_text("date,open,high,low,close\n2026-11-24,1,2,1,2\n")
        with path.open() as handle:
            assert parse_ohlcv_csv(handle)[0].close == Decimal(2)
        assert parse_ohlcv_csv(path.read_bytes())[0].high == Decimal(2)


MINUTES = (
    "datetime,open,high,low,close,volume\n"
    "2026-11-23 15:29,2940.00,2941.00,2939.00,2940.50,900\n"
    "2026-11-24 09:15,2945.00,2950.00,2944.00,2948.00,1000\n"
    "2026-11-24 09:16,2948.00,2952.03,2947.00,2951.00,700\n"
    "2026-11-24 09:17,2951.00,2953.00,2930.00,2935.00,300\n"
)


class TestCsvProvider:
    def test_history_reads_the_named_file_within_the_range_rounded_to_ticks(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "NSE_RELIANCE_1m.csv").write_text(MINUTES)
        bars = CsvProvider(tmp_path).history(
            RELIANCE, "1m", ist(2026, 11, 24, 9, 15), ist(2026, 11, 24, 9, 17)
        )
        assert [b.start for b in bars] == [ist(2026, 11, 24, 9, 15), ist(2026, 11, 24, 9, 16)]
        assert bars[1].high == Decimal("2952.05")  # 2952.03 to the 0.05 tick
        assert bars[0].symbol == "RELIANCE"
        assert bars[0].timeframe == "1m"

    def test_an_index_file_may_use_underscores_for_spaces(self, tmp_path: Path) -> None:
        (tmp_path / "NSE_NIFTY_50_1d.csv").write_text(
            "Date,Open,High,Low,Close\n2026-11-24,24000.10,24100.25,23950.00,24050.55\n"
        )
        (bar,) = CsvProvider(tmp_path).history(NIFTY, "1d", ist(2026, 11, 1), ist(2026, 12, 1))
        assert bar.close == Decimal("24050.55")

    def test_a_missing_file_or_bad_file_is_a_permanent_error(self, tmp_path: Path) -> None:
        provider = CsvProvider(tmp_path)
        with pytest.raises(ProviderError, match="No CSV file for NSE:TCS 1d") as info:
            provider.history(TCS, "1d", ist(2026, 1, 1), ist(2026, 2, 1))
        assert not info.value.transient
        (tmp_path / "NSE_TCS_1d.csv").write_text("date,open,high,low,close\n2026-01-02,x,1,1,1\n")
        with pytest.raises(ProviderError, match=r"NSE_TCS_1d.csv: line 2: open is not"):
            provider.history(TCS, "1d", ist(2026, 1, 1), ist(2026, 2, 1))

    def test_quotes_replay_the_latest_bar_at_or_before_now(self, tmp_path: Path) -> None:
        (tmp_path / "NSE_RELIANCE_1m.csv").write_text(MINUTES)
        now = ist(2026, 11, 24, 9, 16, 40)
        (quote,) = CsvProvider(tmp_path, now=lambda: now).latest_quotes([RELIANCE])
        assert quote.at == ist(2026, 11, 24, 9, 16)
        assert quote.last_price == Decimal("2951.00")
        assert quote.open == Decimal("2945.00")
        assert quote.high == Decimal("2952.05")
        assert quote.low == Decimal("2944.00")
        assert quote.prev_close == Decimal("2940.50")
        assert quote.volume == 1700
        assert quote.simulated is False

    def test_a_symbol_with_no_bar_yet_is_named(self, tmp_path: Path) -> None:
        (tmp_path / "NSE_RELIANCE_1m.csv").write_text(MINUTES)
        provider = CsvProvider(tmp_path)
        with pytest.raises(ProviderError, match="NSE:RELIANCE"):
            provider.latest_quotes([RELIANCE], at=ist(2026, 1, 1, 10, 0))

    def test_a_changed_file_is_read_again(self, tmp_path: Path) -> None:
        path = tmp_path / "NSE_RELIANCE_1m.csv"
        path.write_text(MINUTES)
        provider = CsvProvider(tmp_path)
        at = ist(2026, 11, 24, 10, 0)
        assert provider.latest_quotes([RELIANCE], at)[0].last_price == Decimal("2935.00")
        path.write_text(MINUTES + "2026-11-24 09:18,2935,2936,2934,2936.00,10\n")
        assert provider.latest_quotes([RELIANCE], at)[0].last_price == Decimal("2936.00")


# --- Yahoo Finance -------------------------------------------------------------------------

CHART_RELIANCE = "https://query1.finance.yahoo.com/v8/finance/chart/RELIANCE.NS"
CHART_NIFTY = "https://query1.finance.yahoo.com/v8/finance/chart/%5ENSEI"


def chart_payload(ticker: str, stamps: list[int], closes: list[float | None]) -> dict[str, Any]:
    return {
        "chart": {
            "result": [
                {
                    "meta": {
                        "currency": "INR",
                        "symbol": ticker,
                        "exchangeName": "NSI",
                        "instrumentType": "EQUITY",
                        "regularMarketTime": stamps[-1] if stamps else 0,
                        "gmtoffset": 19800,
                        "timezone": "IST",
                        "exchangeTimezoneName": "Asia/Kolkata",
                        "regularMarketPrice": 2951.2,
                        "regularMarketDayHigh": 2960.0,
                        "regularMarketDayLow": 2930.1,
                        "regularMarketVolume": 4123456,
                        "chartPreviousClose": 2940.0,
                        "priceHint": 2,
                        "dataGranularity": "1m",
                    },
                    "timestamp": stamps,
                    "indicators": {
                        "quote": [
                            {
                                "open": [None if c is None else c - 1 for c in closes],
                                "high": [None if c is None else c + 2.02 for c in closes],
                                "low": [None if c is None else c - 3 for c in closes],
                                "close": closes,
                                "volume": [None if c is None else 1500 for c in closes],
                            }
                        ]
                    },
                }
            ],
            "error": None,
        }
    }


def v7_item(ticker: str, price: float, time: int) -> dict[str, Any]:
    return {
        "language": "en-US",
        "region": "US",
        "quoteType": "EQUITY",
        "currency": "INR",
        "exchange": "NSI",
        "symbol": ticker,
        "regularMarketPrice": price,
        "regularMarketOpen": price - 10,
        "regularMarketDayHigh": price + 5.03,
        "regularMarketDayLow": price - 12,
        "regularMarketPreviousClose": price - 4,
        "regularMarketVolume": 3210000,
        "regularMarketTime": time,
        "exchangeTimezoneName": "Asia/Kolkata",
    }


class TestYahoo:
    def test_symbols_map_to_yahoo_tickers(self) -> None:
        assert yahoo_ticker(RELIANCE) == "RELIANCE.NS"
        assert yahoo_ticker(RELIANCE_BSE) == "RELIANCE.BO"
        assert yahoo_ticker(NIFTY) == "^NSEI"
        assert yahoo_ticker(NIFTY_BANK) == "^NSEBANK"
        assert yahoo_ticker(SENSEX) == "^BSESN"
        with pytest.raises(ProviderError, match="No Yahoo ticker for index 'NIFTY IT'"):
            yahoo_ticker(InstrumentRef("NIFTY IT", kind="index"))

    @responses.activate
    def test_history_reads_the_chart_and_skips_empty_minutes(self) -> None:
        t0 = ist(2026, 11, 24, 9, 15)
        stamps = [epoch(t0 + timedelta(minutes=i)) for i in range(4)]
        responses.get(
            CHART_RELIANCE,
            json=chart_payload("RELIANCE.NS", stamps, [2950.0, None, 2951.13, 2949.0]),
        )
        bars = YahooProvider().history(RELIANCE, "1m", t0, t0 + timedelta(minutes=3))
        assert params(0) == {
            "interval": "1m",
            "period1": str(epoch(t0)),
            "period2": str(epoch(t0) + 180),
            "includePrePost": "false",
        }
        assert [b.start for b in bars] == [t0, t0 + timedelta(minutes=2)]
        assert bars[0].start.tzinfo is not None
        assert bars[1].close == Decimal("2951.15")  # rounded to the 0.05 tick
        assert bars[1].high == Decimal("2953.15")
        assert bars[0].volume == 1500

    @responses.activate
    def test_weekly_bars_use_the_1wk_interval_and_index_tickers_are_escaped(self) -> None:
        start = ist(2026, 11, 2, 9, 15)
        responses.get(CHART_NIFTY, json=chart_payload("^NSEI", [epoch(start)], [24050.5]))
        (bar,) = YahooProvider().history(NIFTY, "1w", start, start + timedelta(days=7))
        assert params(0)["interval"] == "1wk"
        assert bar.close == Decimal("24050.50")

    @responses.activate
    def test_an_empty_range_is_no_bars(self) -> None:
        payload = chart_payload("RELIANCE.NS", [], [])
        del payload["chart"]["result"][0]["timestamp"]
        responses.get(CHART_RELIANCE, json=payload)
        assert YahooProvider().history(RELIANCE, "1d", ist(2026, 1, 1), ist(2026, 1, 2)) == []

    def test_an_unknown_timeframe_is_refused_without_a_call(self) -> None:
        with pytest.raises(ProviderError, match="unsupported timeframe '5m'"):
            YahooProvider().history(RELIANCE, "5m", ist(2026, 1, 1), ist(2026, 1, 2))

    @responses.activate
    def test_quotes_for_many_symbols_come_from_one_call_in_the_order_asked(self) -> None:
        at = epoch(ist(2026, 11, 24, 11, 30, 5))
        responses.get(
            QUOTE_URL,
            json={
                "quoteResponse": {
                    "result": [v7_item("TCS.NS", 4100.0, at), v7_item("RELIANCE.NS", 2951.2, at)],
                    "error": None,
                }
            },
        )
        quotes = YahooProvider().latest_quotes([RELIANCE, TCS])
        assert len(responses.calls) == 1
        assert params(0) == {"symbols": "RELIANCE.NS,TCS.NS"}
        assert [q.symbol for q in quotes] == ["RELIANCE", "TCS"]
        reliance = quotes[0]
        assert reliance.last_price == Decimal("2951.20")
        assert reliance.open == Decimal("2941.20")
        assert reliance.high == Decimal("2956.25")
        assert reliance.low == Decimal("2939.20")
        assert reliance.prev_close == Decimal("2947.20")
        assert reliance.volume == 3210000
        assert reliance.at == ist(2026, 11, 24, 11, 30, 5)
        assert reliance.simulated is False

    @responses.activate
    def test_quotes_fall_back_to_chart_meta_when_yahoo_wants_a_crumb(self) -> None:
        responses.get(
            QUOTE_URL,
            status=401,
            json={"finance": {"result": None, "error": {"code": "Unauthorized"}}},
        )
        t0 = ist(2026, 11, 24, 9, 15)
        responses.get(CHART_RELIANCE, json=chart_payload("RELIANCE.NS", [epoch(t0)], [2950.0]))
        (quote,) = YahooProvider().latest_quotes([RELIANCE])
        assert params(1) == {"interval": "1m", "range": "1d"}
        assert quote.last_price == Decimal("2951.20")
        assert quote.open == Decimal("2949.00")  # the day's first 1m open
        assert quote.high == Decimal("2960.00")
        assert quote.low == Decimal("2930.10")
        assert quote.prev_close == Decimal("2940.00")
        assert quote.volume == 4123456
        assert quote.at == t0

    @responses.activate
    @pytest.mark.parametrize(("status", "transient"), [(404, False), (400, False)])
    def test_client_errors_are_permanent(self, status: int, transient: bool) -> None:
        responses.get(
            CHART_RELIANCE,
            status=status,
            json={"chart": {"result": None, "error": {"code": "Not Found"}}},
        )
        with pytest.raises(ProviderError) as info:
            YahooProvider().history(RELIANCE, "1d", ist(2026, 1, 1), ist(2026, 2, 1))
        assert info.value.transient is transient
        assert str(status) in info.value.message

    @responses.activate
    @pytest.mark.parametrize("status", [429, 500, 503])
    def test_rate_limits_and_server_errors_are_transient(self, status: int) -> None:
        responses.get(QUOTE_URL, status=status, body="Service Unavailable")
        with pytest.raises(ProviderError) as info:
            YahooProvider().latest_quotes([RELIANCE])
        assert info.value.transient

    @responses.activate
    def test_a_timeout_is_transient(self) -> None:
        responses.get(QUOTE_URL, body=requests.exceptions.ReadTimeout("read timed out"))
        with pytest.raises(ProviderError, match="Timed out") as info:
            YahooProvider().latest_quotes([RELIANCE])
        assert info.value.transient

    @responses.activate
    def test_an_html_page_instead_of_json_is_transient(self) -> None:
        responses.get(QUOTE_URL, body="<html>Will be right back</html>", status=200)
        with pytest.raises(ProviderError, match="did not answer JSON") as info:
            YahooProvider().latest_quotes([RELIANCE])
        assert info.value.transient

    @responses.activate
    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            ({"finance": {}}, "Yahoo quote answer is missing 'quoteResponse'"),
            ({"quoteResponse": {"error": None}}, "quoteResponse is missing 'result'"),
            ({"quoteResponse": {"result": []}}, "no quote for RELIANCE.NS"),
        ],
    )
    def test_malformed_quote_answers_name_what_is_missing(
        self, payload: dict[str, Any], message: str
    ) -> None:
        responses.get(QUOTE_URL, json=payload)
        with pytest.raises(ProviderError, match=message) as info:
            YahooProvider().latest_quotes([RELIANCE])
        assert not info.value.transient

    @responses.activate
    def test_a_quote_missing_its_price_names_the_field(self) -> None:
        item = v7_item("RELIANCE.NS", 2951.2, 1764000000)
        del item["regularMarketPrice"]
        responses.get(QUOTE_URL, json={"quoteResponse": {"result": [item]}})
        with pytest.raises(ProviderError, match="RELIANCE.NS is missing 'regularMarketPrice'"):
            YahooProvider().latest_quotes([RELIANCE])

    @responses.activate
    def test_a_chart_missing_its_close_series_names_it(self) -> None:
        payload = chart_payload("RELIANCE.NS", [epoch(ist(2026, 11, 24, 9, 15))], [1.0])
        del payload["chart"]["result"][0]["indicators"]["quote"][0]["close"]
        responses.get(CHART_RELIANCE, json=payload)
        with pytest.raises(ProviderError, match="quote is missing 'close'"):
            YahooProvider().history(RELIANCE, "1m", ist(2026, 11, 24), ist(2026, 11, 25))


# --- NSE -----------------------------------------------------------------------------------


def nse_quote(symbol: str, last: float) -> dict[str, Any]:
    return {
        "info": {
            "symbol": symbol,
            "companyName": "Reliance Industries Limited",
            "isFNOSec": True,
            "identifier": f"{symbol}EQN",
        },
        "metadata": {
            "series": "EQ",
            "symbol": symbol,
            "isin": "INE002A01018",
            "status": "Listed",
            "lastUpdateTime": "24-Nov-2026 11:42:07",
            "pdSectorInd": "NIFTY 50",
        },
        "priceInfo": {
            "lastPrice": last,
            "change": 11.2,
            "pChange": 0.38,
            "previousClose": 2940.0,
            "open": 2945.0,
            "close": 0,
            "vwap": 2948.62,
            "lowerCP": "2646.00",
            "upperCP": "3234.00",
            "basePrice": 2940.0,
            "intraDayHighLow": {"min": 2930.1, "max": 2960.0, "value": last},
            "weekHighLow": {"min": 2220.3, "max": 3217.9, "value": last},
        },
        "preOpenMarket": {
            "IEP": 2945.0,
            "totalTradedVolume": 182345,
            "finalPrice": 2945.0,
            "finalQuantity": 182345,
            "lastUpdateTime": "24-Nov-2026 09:07:59",
        },
    }


def nse_history_row(day: str, close: float) -> dict[str, Any]:
    return {
        "_id": "6565a1b2c3d4e5f6a7b8c9d0",
        "CH_SYMBOL": "RELIANCE",
        "CH_SERIES": "EQ",
        "CH_MARKET_TYPE": "N",
        "CH_TIMESTAMP": day,
        "TIMESTAMP": f"{day}T18:30:00.000Z",
        "CH_TRADE_HIGH_PRICE": close + 20.03,
        "CH_TRADE_LOW_PRICE": close - 15,
        "CH_OPENING_PRICE": close - 5,
        "CH_CLOSING_PRICE": close,
        "CH_LAST_TRADED_PRICE": close + 0.5,
        "CH_PREVIOUS_CLS_PRICE": close - 7,
        "CH_TOT_TRADED_QTY": 6543210,
        "CH_TOT_TRADED_VAL": 19234567890.5,
        "CH_52WEEK_HIGH_PRICE": 3217.9,
        "CH_52WEEK_LOW_PRICE": 2220.3,
        "VWAP": close - 1,
        "mTIMESTAMP": "24-Nov-2026",
    }


def prime_ok() -> None:
    responses.get(
        HOME_URL,
        body="<html>NSE</html>",
        headers={"Set-Cookie": "nsit=abc123; Path=/; Secure"},
    )


class TestNse:
    @responses.activate
    def test_the_home_page_is_fetched_first_and_its_cookies_sent_to_the_api(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, json=nse_quote("RELIANCE", 2951.23))
        (quote,) = NseProvider().latest_quotes([RELIANCE])
        home, api = (call.request for call in responses.calls)
        assert url(0).rstrip("/") == HOME_URL
        assert "Mozilla/5.0" in home.headers["User-Agent"]
        assert params(1) == {"symbol": "RELIANCE"}
        assert "nsit=abc123" in api.headers["Cookie"]
        assert api.headers["Referer"].startswith("https://www.nseindia.com/get-quotes/equity")
        assert quote.last_price == Decimal("2951.25")
        assert quote.open == Decimal("2945.00")
        assert quote.high == Decimal("2960.00")
        assert quote.low == Decimal("2930.10")
        assert quote.prev_close == Decimal("2940.00")
        assert quote.volume == 182345  # preOpenMarket.totalTradedVolume
        assert quote.at == ist(2026, 11, 24, 11, 42, 7)
        assert quote.simulated is False

    @responses.activate
    def test_cookies_are_primed_once_for_many_calls(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, json=nse_quote("RELIANCE", 2951.2))
        NseProvider().latest_quotes([RELIANCE, TCS, MM])
        assert sum(u.rstrip("/") == HOME_URL for u in urls()) == 1
        assert params(3) == {"symbol": "M&M"}

    @responses.activate
    def test_a_401_primes_again_and_retries_once(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, status=401, json={})
        responses.get(NSE_QUOTE_URL, json=nse_quote("RELIANCE", 2951.2))
        (quote,) = NseProvider().latest_quotes([RELIANCE])
        assert [u.split("?")[0].rstrip("/") for u in urls()] == [
            HOME_URL,
            NSE_QUOTE_URL,
            HOME_URL,
            NSE_QUOTE_URL,
        ]
        assert quote.last_price == Decimal("2951.20")

    @responses.activate
    def test_a_second_403_is_a_permanent_error(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, status=403, body="Access Denied")
        with pytest.raises(ProviderError, match="403") as info:
            NseProvider().latest_quotes([RELIANCE])
        assert not info.value.transient
        assert len(responses.calls) == 4  # prime, call, prime, call: no more

    @responses.activate
    def test_a_404_is_permanent_and_not_retried(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, status=404, json={"msg": "no such symbol"})
        with pytest.raises(ProviderError) as info:
            NseProvider().latest_quotes([RELIANCE])
        assert not info.value.transient
        assert len(responses.calls) == 2

    @responses.activate
    def test_a_503_or_timeout_is_transient(self) -> None:
        prime_ok()
        responses.get(NSE_QUOTE_URL, status=503, body="Service Unavailable")
        with pytest.raises(ProviderError) as info:
            NseProvider().latest_quotes([RELIANCE])
        assert info.value.transient
        responses.replace(
            responses.GET, NSE_QUOTE_URL, body=requests.exceptions.ConnectTimeout("slow")
        )
        with pytest.raises(ProviderError) as info:
            NseProvider().latest_quotes([RELIANCE])
        assert info.value.transient

    @responses.activate
    def test_a_failed_priming_is_classified_like_any_call(self) -> None:
        responses.get(HOME_URL, status=502)
        with pytest.raises(ProviderError, match="cookie priming") as info:
            NseProvider().latest_quotes([RELIANCE])
        assert info.value.transient

    @responses.activate
    def test_a_quote_without_price_info_names_it(self) -> None:
        prime_ok()
        payload = nse_quote("RELIANCE", 1.0)
        del payload["priceInfo"]["intraDayHighLow"]
        responses.get(NSE_QUOTE_URL, json=payload)
        with pytest.raises(ProviderError, match="priceInfo is missing 'intraDayHighLow'"):
            NseProvider().latest_quotes([RELIANCE])

    @responses.activate
    def test_index_quotes_come_from_all_indices_in_one_call(self) -> None:
        prime_ok()
        responses.get(
            INDICES_URL,
            json={
                "data": [
                    {
                        "key": "BROAD MARKET INDICES",
                        "index": "NIFTY 50",
                        "indexSymbol": "NIFTY 50",
                        "last": 24050.55,
                        "variation": 50.4,
                        "percentChange": 0.21,
                        "open": 24001.2,
                        "high": 24100.25,
                        "low": 23950.0,
                        "previousClose": 24000.15,
                    },
                    {
                        "index": "NIFTY BANK",
                        "last": 52000.1,
                        "open": 51900.0,
                        "high": 52100.0,
                        "low": 51800.0,
                        "previousClose": 51950.0,
                    },
                ],
                "timestamp": "24-Nov-2026 11:42",
            },
        )
        nifty, bank = NseProvider().latest_quotes([NIFTY, NIFTY_BANK])
        assert sum("allIndices" in u for u in urls()) == 1
        assert nifty.last_price == Decimal("24050.55")
        assert nifty.prev_close == Decimal("24000.15")
        assert nifty.volume == 0
        assert nifty.at == ist(2026, 11, 24, 11, 42)
        assert bank.high == Decimal("52100.00")

    def test_bse_instruments_are_refused(self) -> None:
        with pytest.raises(ProviderError, match="NSE instruments only") as info:
            NseProvider().latest_quotes([RELIANCE_BSE])
        assert not info.value.transient

    @responses.activate
    def test_daily_history_is_read_oldest_first_at_the_open(self) -> None:
        prime_ok()
        responses.get(
            HISTORY_URL,
            json={
                "data": [
                    nse_history_row("2026-11-24", 2951.2),
                    nse_history_row("2026-11-21", 2940.0),
                    nse_history_row("2026-11-20", 2911.0),
                ],
                "meta": {"series": ["EQ"], "fromDate": "20-11-2026", "toDate": "24-11-2026"},
            },
        )
        bars = NseProvider().history(RELIANCE, "1d", ist(2026, 11, 21), ist(2026, 11, 25))
        assert params(1) == {
            "symbol": "RELIANCE",
            "series": '["EQ"]',
            "from": "21-11-2026",
            "to": "24-11-2026",
        }
        assert [b.start for b in bars] == [ist(2026, 11, 21, 9, 15), ist(2026, 11, 24, 9, 15)]
        latest = bars[-1]
        assert latest.open == Decimal("2946.20")
        assert latest.high == Decimal("2971.25")
        assert latest.low == Decimal("2936.20")
        assert latest.close == Decimal("2951.20")
        assert latest.volume == 6543210

    @responses.activate
    def test_long_ranges_are_asked_in_windows_of_a_year(self) -> None:
        prime_ok()
        responses.get(HISTORY_URL, json={"data": []})
        NseProvider().history(RELIANCE, "1d", ist(2024, 1, 1), ist(2026, 1, 1))
        windows = [
            (params(i)["from"], params(i)["to"]) for i, u in enumerate(urls()) if "historical" in u
        ]
        assert windows == [
            ("01-01-2024", "30-12-2024"),
            ("31-12-2024", "30-12-2025"),
            ("31-12-2025", "31-12-2025"),
        ]

    @responses.activate
    def test_a_history_row_missing_its_close_names_the_row_and_field(self) -> None:
        prime_ok()
        row = nse_history_row("2026-11-24", 2951.2)
        del row["CH_CLOSING_PRICE"]
        responses.get(HISTORY_URL, json={"data": [row]})
        with pytest.raises(ProviderError, match="row 2026-11-24 is missing 'CH_CLOSING_PRICE'"):
            NseProvider().history(RELIANCE, "1d", ist(2026, 11, 1), ist(2026, 11, 25))

    def test_history_serves_daily_bars_only(self) -> None:
        with pytest.raises(ProviderError, match="'1d' only"):
            NseProvider().history(RELIANCE, "1m", ist(2026, 11, 1), ist(2026, 11, 25))


def test_payload_fixtures_are_json_serialisable() -> None:
    json.dumps([nse_quote("RELIANCE", 1.0), chart_payload("X", [1], [1.0])])

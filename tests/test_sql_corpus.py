"""A corpus of analyst-style queries, each answer computed independently in Python.

The data is generated here; every expected answer is worked out from that data with plain
Python (``decimal`` for MySQL's exact arithmetic), never by the emulator or SQLite. The
queries are what a user's dashboard tests typically ask: grouped counts and sums, date
bucketing, ratios, filters on text, numbers and dates, top-N.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest

UTC = dt.UTC


@dataclass(frozen=True)
class Row:
    id: int
    region: str
    product: str | None
    qty: int | None
    discount: float
    day: dt.date
    ts: dt.datetime
    note: str | None


def _rows() -> list[Row]:
    rng = random.Random(13)
    regions = ["North", "South", "East", "West"]
    products = ["Widget", "Gadget", "Gizmo", None]
    notes = ["alpha", "Bravo", "charlie delta", "Échelle", "zulu", None]
    out = []
    for i in range(1, 61):
        day = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 730))
        out.append(
            Row(
                id=i,
                region=rng.choice(regions),
                product=rng.choice(products),
                qty=None if rng.random() < 0.1 else rng.randrange(1, 21),
                # Quarters add exactly in binary, so a float sum is the exact sum.
                discount=rng.randrange(0, 41) / 4,
                day=day,
                ts=dt.datetime(day.year, day.month, day.day, rng.randrange(24), tzinfo=UTC),
                note=rng.choice(notes),
            )
        )
    return out


ROWS = _rows()
SCHEMA = {
    "id": "LONG",
    "region": "STRING",
    "product": "STRING",
    "qty": "LONG",
    "discount": "DOUBLE",
    "day": "DATE",
    "ts": "DATETIME",
    "note": "STRING",
}
ARROW = pa.schema(
    [
        ("id", pa.int64()),
        ("region", pa.string()),
        ("product", pa.string()),
        ("qty", pa.int64()),
        ("discount", pa.float64()),
        ("day", pa.date32()),
        ("ts", pa.timestamp("us", tz="UTC")),
        ("note", pa.string()),
    ]
)


def mysql_div(a: int, b: int, scale: int = 4) -> Decimal | None:
    """MySQL's exact `/`: rounded half up to the dividend's scale + 4."""
    if b == 0:
        return None
    return (Decimal(a) / Decimal(b)).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)


def day_of_week(d: dt.date) -> int:
    """MySQL DAYOFWEEK: 1 = Sunday ... 7 = Saturday."""
    return d.isoweekday() % 7 + 1


def null_first(k: Any) -> tuple[bool, Any]:
    return (k is not None, k)


Key = tuple[str, Callable[[Row], Any]]
KEYS: list[Key] = [
    ("`region`", lambda r: r.region),
    ("`product`", lambda r: r.product),
    ("YEAR(`day`)", lambda r: r.day.year),
    ("MONTH(`day`)", lambda r: r.day.month),
    ("QUARTER(`day`)", lambda r: (r.day.month - 1) // 3 + 1),
    ("DAYOFWEEK(`day`)", lambda r: day_of_week(r.day)),
    ("DATE_FORMAT(`day`, '%Y-%m')", lambda r: r.day.strftime("%Y-%m")),
    ("WEEKDAY(`day`)", lambda r: r.day.weekday()),
    ("LEFT(`region`, 1)", lambda r: r.region[0]),
    ("`qty` DIV 5", lambda r: None if r.qty is None else r.qty // 5),
    ("UPPER(`product`)", lambda r: None if r.product is None else r.product.upper()),
]


def _qty(rs: list[Row]) -> list[int]:
    return [r.qty for r in rs if r.qty is not None]


Agg = tuple[str, Callable[[list[Row]], Any]]
AGGS: list[Agg] = [
    ("COUNT(*)", len),
    ("COUNT(`qty`)", lambda rs: len(_qty(rs))),
    ("SUM(`qty`)", lambda rs: sum(_qty(rs)) if _qty(rs) else None),
    ("MIN(`qty`)", lambda rs: min(_qty(rs), default=None)),
    ("MAX(`qty`)", lambda rs: max(_qty(rs), default=None)),
    ("AVG(`qty`)", lambda rs: mysql_div(sum(_qty(rs)), len(_qty(rs))) if _qty(rs) else None),
    ("SUM(`qty`) / COUNT(*)", lambda rs: mysql_div(sum(_qty(rs)), len(rs)) if _qty(rs) else None),
    ("COUNT(DISTINCT `product`)", lambda rs: len({r.product for r in rs if r.product})),
    ("SUM(`discount`)", lambda rs: sum(r.discount for r in rs)),
]


def grouped(key: Key, agg: Agg) -> tuple[str, list[dict[str, Any]]]:
    sql = f"SELECT {key[0]} AS k, {agg[0]} AS v FROM table GROUP BY {key[0]} ORDER BY {key[0]}"
    groups: dict[Any, list[Row]] = {}
    for r in ROWS:
        groups.setdefault(key[1](r), []).append(r)
    expected = [{"k": k, "v": agg[1](groups[k])} for k in sorted(groups, key=null_first)]
    return sql, expected


FILTERS: list[tuple[str, Callable[[Row], bool]]] = [
    ("`region` = 'north'", lambda r: r.region.lower() == "north"),
    ("`region` <> 'NORTH'", lambda r: r.region.lower() != "north"),
    ("LOWER(`region`) = 'south'", lambda r: r.region == "South"),
    ("`region` IN ('east', 'WEST')", lambda r: r.region in ("East", "West")),
    ("`qty` > 10", lambda r: r.qty is not None and r.qty > 10),
    ("`qty` IS NULL", lambda r: r.qty is None),
    ("`qty` BETWEEN 5 AND 10", lambda r: r.qty is not None and 5 <= r.qty <= 10),
    ("`qty` IN (1, 2, 3)", lambda r: r.qty in (1, 2, 3)),
    ("`qty` NOT IN (1, 2, 3)", lambda r: r.qty is not None and r.qty not in (1, 2, 3)),
    ("`qty` % 2 = 0", lambda r: r.qty is not None and r.qty % 2 == 0),
    ("`qty` DIV 3 = 2", lambda r: r.qty is not None and r.qty // 3 == 2),
    ("COALESCE(`qty`, 0) = 0", lambda r: r.qty is None),
    ("IF(`qty` > 5, 1, 0) = 1", lambda r: r.qty is not None and r.qty > 5),
    ("`product` LIKE 'g%'", lambda r: r.product is not None and r.product.lower().startswith("g")),
    ("`product` NOT LIKE '%o'", lambda r: r.product is not None and not r.product.endswith("o")),
    ("`day` >= '2024-01-01'", lambda r: r.day >= dt.date(2024, 1, 1)),
    (
        "`day` BETWEEN '2023-06-01' AND '2023-06-30'",
        lambda r: dt.date(2023, 6, 1) <= r.day <= dt.date(2023, 6, 30),
    ),
    ("`ts` < '2024-01-01 12:00:00'", lambda r: r.ts < dt.datetime(2024, 1, 1, 12, tzinfo=UTC)),
    ("`note` IS NULL", lambda r: r.note is None),
    (
        "`note` REGEXP '^[a-c]'",
        lambda r: r.note is not None and re.match("[a-c]", r.note, re.IGNORECASE) is not None,
    ),
    ("CHAR_LENGTH(`note`) > 5", lambda r: r.note is not None and len(r.note) > 5),
    ("LENGTH(`note`) = 8", lambda r: r.note is not None and len(r.note.encode()) == 8),
    (
        "YEAR(`day`) = 2023 AND MONTH(`day`) IN (1, 2, 3)",
        lambda r: r.day.year == 2023 and r.day.month <= 3,
    ),
    (
        "`day` + INTERVAL 30 DAY > '2024-12-01'",
        lambda r: r.day + dt.timedelta(days=30) > dt.date(2024, 12, 1),
    ),
    (
        "DATEDIFF('2024-12-31', `day`) < 100",
        lambda r: (dt.date(2024, 12, 31) - r.day).days < 100,
    ),
    ("`discount` >= 5.5", lambda r: r.discount >= 5.5),
    (
        "NOT (`region` = 'East' OR `qty` < 5)",
        lambda r: r.region != "East" and r.qty is not None and r.qty >= 5,
    ),
]


def filtered(where: str, pred: Callable[[Row], bool]) -> tuple[str, list[dict[str, Any]]]:
    sql = f"SELECT COUNT(*) AS v FROM table WHERE {where}"
    return sql, [{"v": sum(1 for r in ROWS if pred(r))}]


def _ratio_by_region() -> list[dict[str, Any]]:
    out = []
    for region in sorted({r.region for r in ROWS}):
        rs = [r for r in ROWS if r.region == region]
        big = sum(1 for r in rs if r.qty is not None and r.qty > 10)
        out.append({"region": region, "share": mysql_div(big, len(rs))})
    return out


def _buckets() -> list[dict[str, Any]]:
    def bucket(r: Row) -> str:
        if r.qty is None:
            return "none"
        return "small" if r.qty < 5 else "medium" if r.qty < 15 else "large"

    counts: dict[str, int] = {}
    for r in ROWS:
        counts[bucket(r)] = counts.get(bucket(r), 0) + 1
    return [{"bucket": b, "n": counts[b]} for b in sorted(counts)]


def _top3() -> list[dict[str, Any]]:
    rs = sorted((r for r in ROWS if r.qty is not None), key=lambda r: (-r.qty, r.id))[:3]
    return [{"id": r.id, "qty": r.qty} for r in rs]


def _monthly_2024() -> list[dict[str, Any]]:
    out: dict[str, int] = {}
    for r in ROWS:
        if r.day.year == 2024 and r.qty is not None:
            m = r.day.strftime("%Y-%m")
            out[m] = out.get(m, 0) + r.qty
    return [{"month": m, "total": out[m]} for m in sorted(out)]


def _having() -> list[dict[str, Any]]:
    counts: dict[str | None, int] = {}
    for r in ROWS:
        counts[r.product] = counts.get(r.product, 0) + 1
    return [
        {"product": p, "n": n}
        for p, n in sorted(counts.items(), key=lambda kv: null_first(kv[0]))
        if n > 12
    ]


def _clean_notes() -> list[dict[str, Any]]:
    notes = {r.note.strip().upper() for r in ROWS if r.note is not None}
    return [{"clean": n} for n in sorted(notes)]


def _last_days() -> list[dict[str, Any]]:
    def last_day(d: dt.date) -> dt.date:
        nxt = dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)

    rs = sorted(ROWS, key=lambda r: r.id)[:5]
    return [{"id": r.id, "eom": last_day(r.day)} for r in rs]


BESPOKE: list[tuple[str, list[dict[str, Any]]]] = [
    (
        "SELECT `region`, SUM(IF(`qty` > 10, 1, 0)) / COUNT(*) AS share FROM table "
        "GROUP BY `region` ORDER BY `region`",
        _ratio_by_region(),
    ),
    (
        "SELECT CASE WHEN `qty` IS NULL THEN 'none' WHEN `qty` < 5 THEN 'small' "
        "WHEN `qty` < 15 THEN 'medium' ELSE 'large' END AS bucket, COUNT(*) AS n "
        "FROM table GROUP BY bucket ORDER BY bucket",
        _buckets(),
    ),
    (
        "SELECT `id`, `qty` FROM table WHERE `qty` IS NOT NULL ORDER BY `qty` DESC, `id` LIMIT 3",
        _top3(),
    ),
    (
        "SELECT DATE_FORMAT(`day`, '%Y-%m') AS month, SUM(`qty`) AS total FROM table "
        "WHERE YEAR(`day`) = 2024 AND `qty` IS NOT NULL GROUP BY month ORDER BY month",
        _monthly_2024(),
    ),
    (
        "SELECT `product`, COUNT(*) AS n FROM table GROUP BY `product` HAVING COUNT(*) > 12 "
        "ORDER BY `product`",
        _having(),
    ),
    (
        "SELECT DISTINCT UPPER(TRIM(`note`)) AS clean FROM table WHERE `note` IS NOT NULL "
        "ORDER BY clean",
        _clean_notes(),
    ),
    ("SELECT `id`, LAST_DAY(`day`) AS eom FROM table ORDER BY `id` LIMIT 5", _last_days()),
    (
        "SELECT COUNT(*) AS n FROM (SELECT `region`, COUNT(*) AS c FROM table "
        "GROUP BY `region`) AS per_region WHERE c > 0",
        [{"n": len({r.region for r in ROWS})}],
    ),
    (
        "WITH big AS (SELECT * FROM table WHERE `qty` > 15) SELECT COUNT(*) AS n FROM big",
        [{"n": sum(1 for r in ROWS if r.qty is not None and r.qty > 15)}],
    ),
    (
        "SELECT MAX(`day`) AS last, MIN(`day`) AS first FROM table",
        [{"last": max(r.day for r in ROWS), "first": min(r.day for r in ROWS)}],
    ),
]

CORPUS: list[tuple[str, list[dict[str, Any]]]] = (
    [grouped(k, a) for k in KEYS for a in AGGS] + [filtered(w, p) for w, p in FILTERS] + BESPOKE
)


@pytest.fixture
def sales(domo_client: dd.Client) -> dd.Dataset:
    ds = domo_client.create_dataset("sales", SCHEMA)
    ds.upload(pa.Table.from_pylist([r.__dict__ for r in ROWS], schema=ARROW))
    return ds


def test_the_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 100


def test_every_corpus_query_answers_as_computed(sales: dd.Dataset) -> None:
    wrong = []
    for sql, expected in CORPUS:
        got = pa.table(sales.query(sql)).to_pylist()
        if got != expected:
            wrong.append(f"{sql}\n  got      {got}\n  expected {expected}")
    assert not wrong, f"{len(wrong)} of {len(CORPUS)} queries differ:\n" + "\n".join(wrong)


async def test_corpus_queries_answer_the_same_async(sales: dd.Dataset) -> None:
    for sql, expected in CORPUS[::10]:
        table = await sales.query_async(sql)
        assert pa.table(table).to_pylist() == expected, sql

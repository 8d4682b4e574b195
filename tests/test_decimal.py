"""Exact DECIMAL: stored, computed and answered digit for digit, as MySQL does.

Expected values come from Python's ``decimal`` module with MySQL's precision-math rules
(MySQL 8.0 manual, 14.24 "Precision Math"): ``a + b`` and ``a - b`` keep the larger scale,
``a * b`` adds the scales, ``a / b`` has the dividend's scale plus 4
(``div_precision_increment``), SUM keeps the scale, AVG adds 4, ROUND and TRUNCATE of an
exact value round half away from zero or cut. A DECIMAL column is decimal(38,10).
"""

from __future__ import annotations

import decimal
import random
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest

DECIMAL = pa.decimal128(38, 10)
EDGE = Decimal("9999999999999999999999999999.9999999999")
LONG_DIGITS = Decimal("12345678.0123456789")
SCHEMA = {"id": "LONG", "m": "DECIMAL"}
ARROW = pa.schema([("id", pa.int64()), ("m", DECIMAL)])
# Exact to the last digit only as decimals: a double holds 12345678.01234568.
# (`-EDGE` would round to the default context's 28 digits.)
VALUES = [EDGE, EDGE.copy_negate(), LONG_DIGITS, Decimal("0.1"), Decimal("2.65"), None]

# Enough digits for every intermediate value below (decimal(38,10) times itself is 76).
CONTEXT = decimal.Context(prec=100, rounding=ROUND_HALF_UP)


def _q(value: Decimal, scale: int, rounding: str = ROUND_HALF_UP) -> Decimal:
    """``value`` at ``scale`` places, as MySQL rounds an exact value."""
    return value.quantize(Decimal(1).scaleb(-scale), rounding=rounding, context=CONTEXT)


def _div(a: Decimal, b: Decimal, scale: int) -> Decimal | None:
    """MySQL's ``a / b`` (NULL for a zero divisor): ``scale`` is the dividend's scale
    plus 4."""
    return None if b == 0 else _q(CONTEXT.divide(a, b), scale)


@pytest.fixture
def edge_ds(domo_client: dd.Client) -> dd.Dataset:
    ds = domo_client.create_dataset("decimal edge", SCHEMA)
    rows = [{"id": i, "m": v} for i, v in enumerate(VALUES)]
    ds.upload(_rows_table(rows, ARROW))
    return ds


def _rows_table(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.Table:
    """Rows as Arrow, column by column."""
    return pa.table(
        [pa.array([r[f.name] for r in rows], type=f.type) for f in schema],
        schema=schema,
    )


def _column(table: Any, name: str) -> list[Any]:
    return pa.table(table).column(name).to_pylist()


def test_edge_values_round_trip_through_query_and_export(edge_ds: dd.Dataset) -> None:
    assert _column(edge_ds.query("SELECT * FROM table ORDER BY `id`"), "m") == VALUES
    exported = edge_ds.export().read_all().to_pyarrow().sort_by("id")
    assert exported.column("m").to_pylist() == VALUES
    assert exported.schema.field("m").type == DECIMAL


async def test_edge_values_round_trip_async(edge_ds: dd.Dataset) -> None:
    answer = await edge_ds.query_async("SELECT `m` FROM table ORDER BY `id`")
    assert _column(answer, "m") == VALUES
    exported = (await edge_ds.export_async()).read_all().to_pyarrow().sort_by("id")
    assert exported.column("m").to_pylist() == VALUES


# (expression over the edge dataset, expected value, expected Arrow type). Worked out by
# hand from the rules in the module's docstring.
EXACT_CASES: list[tuple[str, Any, pa.DataType]] = [
    # Every value but NULL: EDGE and -EDGE cancel.
    ("SUM(`m`)", Decimal("12345680.7623456789"), DECIMAL),
    ("MAX(`m`)", EDGE, DECIMAL),
    ("MIN(`m`)", EDGE.copy_negate(), DECIMAL),
    ("COUNT(DISTINCT `m`)", 5, pa.int64()),
    # 12345680.7623456789 / 5 = 2469136.15246913578 at scale 10 + 4, then 10 places.
    ("ROUND(AVG(`m`), 10)", Decimal("2469136.1524691358"), DECIMAL),
    ("SUM(`m`) - MAX(`m`)", Decimal("-9999999999999999999987654319.2376543210"), DECIMAL),
]


@pytest.mark.parametrize(
    ("expression", "expected", "arrow_type"), EXACT_CASES, ids=[c[0] for c in EXACT_CASES]
)
def test_aggregates_of_decimals_are_exact(
    edge_ds: dd.Dataset, expression: str, expected: Any, arrow_type: pa.DataType
) -> None:
    table = pa.table(edge_ds.query(f"SELECT {expression} AS v FROM table"))
    assert table.schema.field("v").type == arrow_type
    assert table.column("v").to_pylist() == [expected]


# (expression over the row whose m is 12345678.0123456789, expected value).
ROW_CASES: list[tuple[str, Any]] = [
    ("`m` + 0.0000000001", Decimal("12345678.0123456790")),
    ("`m` - 12345678", Decimal("0.0123456789")),
    ("-`m`", -LONG_DIGITS),
    ("ABS(-`m`)", LONG_DIGITS),
    # Scale 10 + 10 = 20 exactly; the answer's decimal(38,10) holds it.
    ("`m` * 2", Decimal("24691356.0246913578")),
    # Scale 10 + 4 = 14, rounded half up: 4115226.00411522630000.
    ("ROUND(`m` / 3, 10)", Decimal("4115226.0041152263")),
    ("ROUND(`m`, 9)", Decimal("12345678.012345679")),
    ("ROUND(`m`, -2)", Decimal("12345700")),
    ("TRUNCATE(`m`, 9)", Decimal("12345678.012345678")),
    ("CAST(`m` AS DECIMAL(20, 4))", Decimal("12345678.0123")),
    ("`m` = 12345678.0123456789", 1),
    ("`m` = 12345678.01234568", 0),
    ("`m` > 12345678.01234567", 1),
    ("`m` < 12345678.012345679", 1),
    ("`m` <=> 12345678.0123456789", 1),
    ("`m` BETWEEN 12345678.0123456788 AND 12345678.0123456789", 1),
    ("`m` NOT BETWEEN 12345678.0123456788 AND 12345678.0123456789", 0),
    ("`m` IN (1, 12345678.01234567890)", 1),
    ("`m` IN (1, 12345678.0123456788)", 0),
    ("GREATEST(`m`, 12345678.0123456788)", LONG_DIGITS),
    ("MOD(`m`, 10)", Decimal("8.0123456789")),
]


@pytest.mark.parametrize(("expression", "expected"), ROW_CASES, ids=[c[0] for c in ROW_CASES])
def test_row_arithmetic_and_comparison_are_exact(
    edge_ds: dd.Dataset, expression: str, expected: Any
) -> None:
    got = _column(edge_ds.query(f"SELECT {expression} AS v FROM table WHERE `id` = 2"), "v")
    assert got == [expected], expression


async def test_row_arithmetic_is_exact_async(edge_ds: dd.Dataset) -> None:
    for expression, expected in ROW_CASES[:8]:
        answer = await edge_ds.query_async(f"SELECT {expression} AS v FROM table WHERE `id` = 2")
        assert _column(answer, "v") == [expected], expression


def test_order_group_and_distinct_see_values_not_storage(edge_ds: dd.Dataset) -> None:
    # Values held as digits and values held as doubles sort together by value.
    got = _column(edge_ds.query("SELECT `id` FROM table ORDER BY `m` DESC, `id`"), "id")
    assert got == [0, 2, 4, 3, 1, 5]
    got = _column(edge_ds.query("SELECT `m` FROM table WHERE `m` IS NOT NULL ORDER BY `m`"), "m")
    assert got == sorted(v for v in VALUES if v is not None)
    more = [{"id": 6, "m": LONG_DIGITS}, {"id": 7, "m": Decimal("2.650")}]
    edge_ds.upload(_rows_table(more, ARROW))
    # Text is read digit for digit on the append route too.
    edge_ds.append_rows([{"id": 8, "m": "12345678.01234567890"}])
    answer = edge_ds.query(
        "SELECT `m`, COUNT(*) AS c FROM table WHERE `m` IS NOT NULL GROUP BY `m` ORDER BY `m`"
    )
    counts = dict(zip(_column(answer, "m"), _column(answer, "c"), strict=True))
    assert counts == {
        EDGE.copy_negate(): 1,
        Decimal("0.1"): 1,
        Decimal("2.65"): 2,
        LONG_DIGITS: 3,
        EDGE: 1,
    }


def _upload_csv(ds: dd.Dataset, tmp_path: Path, text: str) -> None:
    path = tmp_path / "values.csv"
    path.write_text(f"id,m\n{text}\n")
    ds.upload(path)


@pytest.mark.parametrize(
    "text",
    [
        "10000000000000000000000000000",  # 29 digits before the point
        "9999999999999999999999999999.99999999995",  # rounds past the edge
        "1e30",
        "-1e300",
    ],
)
def test_values_past_decimal_38_10_are_refused(
    domo_client: dd.Client, tmp_path: Path, text: str
) -> None:
    ds = domo_client.create_dataset("out of range", SCHEMA)
    with pytest.raises(dd.BadRequestError) as raised:
        _upload_csv(ds, tmp_path, f"1,{text}")
    assert "out of range for DECIMAL" in raised.value.message
    # The dataset stays readable.
    assert _column(ds.query("SELECT COUNT(*) AS c FROM table"), "c") == [0]


async def test_values_past_decimal_38_10_are_refused_async(
    domo_client: dd.Client,
) -> None:
    ds = await domo_client.create_dataset_async("out of range", SCHEMA)
    with pytest.raises(dd.BadRequestError) as raised:
        await ds.append_rows_async([{"id": 1, "m": "1e30"}])
    assert "out of range for DECIMAL" in raised.value.message


def test_extra_places_round_half_away_from_zero_on_upload(
    domo_client: dd.Client, tmp_path: Path
) -> None:
    ds = domo_client.create_dataset("rounded", SCHEMA)
    _upload_csv(ds, tmp_path, "1,1.00000000005\n2,-1.00000000005\n3,1.00000000004")
    got = _column(ds.query("SELECT `m` FROM table ORDER BY `id`"), "m")
    assert got == [Decimal("1.0000000001"), Decimal("-1.0000000001"), Decimal("1.0000000000")]


# The property test: random decimals, every operator and aggregate, against `decimal`.
SEED = 20240613
PAIRS = 80


def _random_decimal(rng: random.Random) -> Decimal:
    """Up to 8 digits before the point and up to 10 after: many have more significant
    digits than a double holds."""
    integer = rng.randrange(0, 10 ** rng.randint(0, 8))
    places = rng.randint(0, 10)
    fraction = rng.randrange(0, 10**places) if places else 0
    value = Decimal(integer) + Decimal(fraction).scaleb(-places)
    return -value if rng.random() < 0.4 else value


def _pairs() -> list[tuple[Decimal, Decimal]]:
    rng = random.Random(SEED)
    pairs = []
    for i in range(PAIRS):
        a = _random_decimal(rng)
        b = a if i % 10 == 0 else _random_decimal(rng)
        pairs.append((a, Decimal(0) if i % 17 == 3 else b))
    return pairs


@pytest.fixture
def pairs_ds(domo_client: dd.Client) -> tuple[dd.Dataset, list[tuple[Decimal, Decimal]]]:
    pairs = _pairs()
    ds = domo_client.create_dataset("decimal pairs", {"id": "LONG", "a": "DECIMAL", "b": "DECIMAL"})
    schema = pa.schema([("id", pa.int64()), ("a", DECIMAL), ("b", DECIMAL)])
    rows = [{"id": i, "a": a, "b": b} for i, (a, b) in enumerate(pairs)]
    ds.upload(_rows_table(rows, schema))
    return ds, pairs


ROW_SQL = (
    "SELECT `id`, `a` + `b` AS s, `a` - `b` AS d, ROUND(`a` * `b`, 10) AS p, "
    "ROUND(`a` / `b`, 10) AS q, `a` < `b` AS lt, `a` = `b` AS eq, `a` >= `b` AS ge, "
    "-`a` AS na, ROUND(`a`, 3) AS r3, TRUNCATE(`a`, 3) AS t3, ROUND(`a`, -1) AS rm1, "
    "`a` + 0.5 AS half, ROUND(`a` * 1.25, 10) AS scaled FROM table ORDER BY `id`"
)
AGG_SQL = (
    "SELECT SUM(`a`) AS s, ROUND(AVG(`a`), 10) AS av, MIN(`a`) AS mn, MAX(`b`) AS mx, "
    "SUM(`a` - `b`) AS sd FROM table"
)


def _expected_rows(pairs: list[tuple[Decimal, Decimal]]) -> list[dict[str, Any]]:
    out = []
    for i, (a, b) in enumerate(pairs):
        # Columns are decimal(38,10): `/` has scale 14, `*` scale 20, then ROUND to 10.
        q = _div(a, b, 14)
        out.append(
            {
                "id": i,
                "s": CONTEXT.add(a, b),
                "d": CONTEXT.subtract(a, b),
                "p": _q(CONTEXT.multiply(a, b), 10),
                "q": None if q is None else _q(q, 10),
                "lt": int(a < b),
                "eq": int(a == b),
                "ge": int(a >= b),
                "na": -a,
                "r3": _q(a, 3),
                "t3": _q(a, 3, ROUND_DOWN),
                "rm1": _q(a / 10, 0) * 10,
                "half": CONTEXT.add(a, Decimal("0.5")),
                "scaled": _q(CONTEXT.multiply(a, Decimal("1.25")), 10),
            }
        )
    return out


def _expected_aggregates(pairs: list[tuple[Decimal, Decimal]]) -> dict[str, Any]:
    a_values = [a for a, _ in pairs]
    total = sum(a_values, Decimal(0))
    return {
        "s": total,
        "av": _q(_q(CONTEXT.divide(total, len(a_values)), 14), 10),
        "mn": min(a_values),
        "mx": max(b for _, b in pairs),
        "sd": sum((a - b for a, b in pairs), Decimal(0)),
    }


def test_decimal_arithmetic_matches_python_decimal(
    pairs_ds: tuple[dd.Dataset, list[tuple[Decimal, Decimal]]],
) -> None:
    ds, pairs = pairs_ds
    got = pa.table(ds.query(ROW_SQL)).to_pylist()
    for row, want in zip(got, _expected_rows(pairs), strict=True):
        assert row == want, pairs[row["id"]]
    assert pa.table(ds.query(AGG_SQL)).to_pylist() == [_expected_aggregates(pairs)]
    ordered = _column(ds.query("SELECT `id` FROM table ORDER BY `a`, `id`"), "id")
    assert ordered == sorted(range(len(pairs)), key=lambda i: (pairs[i][0], i))
    # An aggregate sorted by its alias.
    totals: dict[int, Decimal] = {}
    for i, (a, _) in enumerate(pairs):
        totals[i % 7] = totals.get(i % 7, Decimal(0)) + a
    grouped = ds.query(
        "SELECT `id` % 7 AS g, SUM(`a`) AS total FROM table GROUP BY g ORDER BY total DESC"
    )
    assert pa.table(grouped).to_pylist() == [
        {"g": g, "total": t} for g, t in sorted(totals.items(), key=lambda kv: -kv[1])
    ]


async def test_decimal_arithmetic_matches_python_decimal_async(
    pairs_ds: tuple[dd.Dataset, list[tuple[Decimal, Decimal]]],
) -> None:
    ds, pairs = pairs_ds
    got = pa.table(await ds.query_async(ROW_SQL)).to_pylist()
    assert got == _expected_rows(pairs)
    assert pa.table(await ds.query_async(AGG_SQL)).to_pylist() == [_expected_aggregates(pairs)]


def test_doubles_stored_before_stay_readable(domo_client: dd.Client) -> None:
    # A DECIMAL that a double holds exactly is stored as one, as every earlier emulator
    # stored all of them: both forms compute together.
    ds = domo_client.create_dataset("mixed", SCHEMA)
    ds.upload(_rows_table([{"id": 1, "m": Decimal("1690.57")}], ARROW))
    ds.upload(_rows_table([{"id": 2, "m": LONG_DIGITS}], ARROW))
    got = _column(ds.query("SELECT SUM(`m`) AS s FROM table"), "s")
    assert got == [Decimal("12347368.5823456789")]

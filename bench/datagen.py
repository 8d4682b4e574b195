"""Deterministic benchmark data: one table of mixed Domo types, as Arrow and as pandas.

Every column but ``id`` is about 10% null. Strings carry commas, quotes, newlines, tabs
and non-ASCII text, so CSV quoting and JSON escaping are exercised on every path. The same
seed always gives the same bytes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    import pandas as pd
    from domo_datasets._domo import DomoType

SCHEMA: dict[str, DomoType] = {
    "id": "LONG",
    "qty": "LONG",
    "price": "DOUBLE",
    "amount": "DECIMAL",
    "day": "DATE",
    "ts": "DATETIME",
    "name": "STRING",
    "city": "STRING",
}
"""Column name -> Domo type, in order."""

NULL_FRACTION = 0.10
DECIMAL_TYPE = pa.decimal128(38, 10)  # what the client reads DECIMAL as
_SCALE = 10**8  # amount is drawn in cents: cents * 10**8 = value at scale 10

_NAMES = [
    "plain ascii",
    "comma, separated",
    'say "hello"',
    'both, "quoted", and commas',
    "two\nlines",
    "crlf\r\nline",
    "tab\tseparated",
    "Café crème",
    "naïve façade",
    "Zürich Straße",
    "東京都",
    "Москва",
    "emoji 🎉 party",
    "backslash \\ here",
    "trailing space ",
    "'single' quotes",
]
_CITIES = [
    "Paris",
    "São Paulo",
    "Kraków",
    "Reykjavík",
    "New York, NY",
    "Springfield",
    "Zürich",
    "Montréal",
    "Ōsaka",
    "Århus",
    'The "Big" Apple',
]


def _decimal_from_cents(cents: np.ndarray, mask: np.ndarray) -> pa.Array:
    """decimal128(38, 10) from int64 cents, built from buffers (no Python objects)."""
    scaled = cents.astype(np.int64) * _SCALE  # |cents| < 9.2e10 keeps this in int64
    words = np.empty(2 * len(scaled), dtype=np.int64)
    words[0::2] = scaled  # little-endian 128-bit: low word, then sign extension
    words[1::2] = scaled >> 63
    valid = pa.array(~mask).buffers()[1]
    return pa.Array.from_buffers(
        DECIMAL_TYPE, len(scaled), [valid, pa.py_buffer(words)], null_count=int(mask.sum())
    )


def make_table(rows: int, seed: int = 20261129) -> pa.Table:
    """Generate ``rows`` rows of the benchmark schema, deterministically from ``seed``."""
    rng = np.random.default_rng(seed)
    n = rows

    def nulls() -> np.ndarray:
        """A fresh null mask: True where the value is null."""
        return rng.random(n) < NULL_FRACTION

    def masked(values: np.ndarray, arrow_type: pa.DataType) -> pa.Array:
        return pa.array(values, type=arrow_type, mask=nulls())

    def masked_strings(values: pa.Array) -> pa.Array:
        return pc.if_else(pa.array(nulls()), pa.scalar(None, pa.string()), values)

    ids = np.arange(1, n + 1, dtype=np.int64)
    qty = masked(rng.integers(-1_000, 1_000_000, n), pa.int64())
    price = masked(np.round(rng.uniform(-1e6, 1e6, n), 4), pa.float64())
    amount = _decimal_from_cents(rng.integers(-(10**9), 10**10, n), nulls())
    day = masked(rng.integers(10_957, 21_915, n).astype(np.int32), pa.date32())  # 2000..2030
    # Whole seconds: Domo's DATETIME keeps no fraction, and uploads refuse one.
    micros = rng.integers(946_684_800, 1_893_456_000, n) * 1_000_000
    ts = masked(micros, pa.timestamp("us", tz="UTC"))
    templates = pa.array(_NAMES)
    name = pc.binary_join_element_wise(
        pc.take(templates, pa.array(rng.integers(0, len(_NAMES), n))),
        pc.cast(pa.array(ids), pa.string()),
        " #",
    )
    city = pc.take(pa.array(_CITIES), pa.array(rng.integers(0, len(_CITIES), n)))
    columns = [
        pa.array(ids),
        qty,
        price,
        amount,
        day,
        ts,
        masked_strings(name),
        masked_strings(city),
    ]
    return pa.Table.from_arrays(columns, names=list(SCHEMA))


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """The DataFrame a pandas user would hold for ``table``.

    LONG columns become nullable ``Int64`` (plain ``int64`` cannot hold nulls, and
    ``float64`` would change the type), so both clients see integer columns. The rest is
    pyarrow's default conversion: dates and decimals as Python objects, timestamps as
    ``datetime64[us, UTC]``, strings as pandas' string dtype.
    """
    import pandas as pd

    def mapper(arrow_type: pa.DataType) -> object:
        return pd.Int64Dtype() if arrow_type == pa.int64() else None

    return table.to_pandas(types_mapper=mapper)

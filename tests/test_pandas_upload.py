"""pandas uploads read a slice of rows at a time: every slice of a column has the column's
one type (a column null in its first slice, Decimal columns, Arrow-backed and pandas'
string columns), and a value that fails in a later slice fails the upload with nothing
committed. Sync and async, against the emulator.

The frames span several slices of ``domo_datasets._pandas_upload.SLICE_ROWS`` rows (65,536,
read here only to size the frames). Expected values are computed by hand below.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import domo_datasets as dd
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from domo_datasets._pandas_upload import SLICE_ROWS
from domo_datasets.testing import LocalDomo
from support import UPLOAD_PATH

ROWS = 2 * SLICE_ROWS + 1000
"""Three slices, the last a short one."""

LATE = SLICE_ROWS + 7
"""A row in the second slice."""

SCHEMA = {
    "id": "LONG",
    "late": "STRING",
    "price": "DECIMAL",
    "chunked": "STRING",
    "text": "STRING",
    "python_text": "STRING",
    "day": "DATE",
    "amount": "DOUBLE",
}


def _copy_on_write() -> bool:
    """Whether pandas copies a frame's data when it is written (always from pandas 3; in
    pandas 2 only with the option on)."""
    if int(pd.__version__.split(".")[0]) >= 3:
        return True
    return pd.options.mode.copy_on_write is True


def _frame() -> pd.DataFrame:
    ids = np.arange(ROWS, dtype=np.int64)
    # Strings only from the second slice on: the first slice is all None.
    late = np.array([None] * ROWS, dtype=object)
    late[LATE:] = [f"late {i}" for i in range(LATE, ROWS)]
    # Decimals, every tenth missing; one with eleven places in the third slice.
    price = np.array([None if i % 10 == 3 else Decimal(i) / 100 for i in range(ROWS)], dtype=object)
    price[ROWS - 5] = Decimal("2.00000000005")
    # An Arrow column in chunks whose ends fall inside slices.
    cut = [0, 1000, SLICE_ROWS + 5, ROWS]
    chunks = [
        pa.array([f"c{i}" if i % 7 else None for i in range(a, b)], pa.large_string())
        for a, b in itertools.pairwise(cut)
    ]
    chunked = pd.Series(pd.arrays.ArrowExtensionArray(pa.chunked_array(chunks)))
    day = np.array(
        [dt.date(2024, 1, 1) + dt.timedelta(days=i % 400) if i % 5 else None for i in range(ROWS)],
        dtype=object,
    )
    return pd.DataFrame(
        {
            "id": ids,
            "late": pd.Series(late, dtype=object),
            "price": price,
            "chunked": chunked,
            # pandas 3's default for strings (Arrow-backed).
            "text": pd.Series([f"t{i}" for i in range(ROWS)], dtype="str"),
            "python_text": pd.Series(
                [None if i % 2 else f"p{i}" for i in range(ROWS)], dtype=pd.StringDtype("python")
            ),
            "day": day,
            "amount": np.where(ids % 9 == 0, np.nan, ids * 0.5),
        }
    )


def _expected_summary() -> dict[str, Any]:
    """The summary query's answer, worked out from the rules that built the frame."""
    prices = [Decimal(i) / 100 for i in range(ROWS) if i % 10 != 3 and i != ROWS - 5]
    # 2.00000000005 rounds half away from zero to ten places.
    prices.append(Decimal("2.0000000001"))
    return {
        "n": ROWS,
        "late": ROWS - LATE,
        "price": ROWS - len([i for i in range(ROWS) if i % 10 == 3]),
        "price_sum": sum(prices),
        "chunked": len([i for i in range(ROWS) if i % 7]),
        "text": ROWS,
        "python_text": len([i for i in range(ROWS) if i % 2 == 0]),
        "day": len([i for i in range(ROWS) if i % 5]),
        "amount": len([i for i in range(ROWS) if i % 9]),
    }


SUMMARY = (
    "SELECT COUNT(*) AS n, COUNT(`late`) AS late, COUNT(`price`) AS price, "
    "SUM(`price`) AS price_sum, COUNT(`chunked`) AS chunked, COUNT(`text`) AS text, "
    "COUNT(`python_text`) AS python_text, COUNT(`day`) AS day, COUNT(`amount`) AS amount "
    "FROM table"
)
PICKS = (0, SLICE_ROWS + 4, LATE, ROWS - 5)
PICKED = f"SELECT * FROM table WHERE `id` IN {PICKS} ORDER BY `id`"


def _expected_picked() -> list[dict[str, Any]]:
    def row(i: int) -> dict[str, Any]:
        return {
            "id": i,
            "late": f"late {i}" if i >= LATE else None,
            "price": None if i % 10 == 3 else Decimal(i) / 100,
            "chunked": f"c{i}" if i % 7 else None,
            "text": f"t{i}",
            "python_text": None if i % 2 else f"p{i}",
            "day": dt.date(2024, 1, 1) + dt.timedelta(days=i % 400) if i % 5 else None,
            "amount": None if i % 9 == 0 else i * 0.5,
        }

    rows = [row(i) for i in PICKS]
    rows[-1]["price"] = Decimal("2.0000000001")
    return rows


def _check(summary: list[dict[str, Any]], picked: list[dict[str, Any]]) -> None:
    assert summary == [_expected_summary()]
    assert picked == _expected_picked()


def test_slices_of_a_frame_agree_on_every_column_type(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("slices", SCHEMA)
    result = ds.upload(_frame())
    assert result["rows"] == ROWS
    _check(ds.query(SUMMARY).to_pyarrow().to_pylist(), ds.query(PICKED).to_pyarrow().to_pylist())


async def test_slices_of_a_frame_agree_on_every_column_type_async(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("slices", SCHEMA)
    result = await ds.upload_async(_frame())
    assert result["rows"] == ROWS
    summary = (await ds.query_async(SUMMARY)).to_pyarrow().to_pylist()
    _check(summary, (await ds.query_async(PICKED)).to_pyarrow().to_pylist())


def test_a_null_first_slice_still_gives_the_type_of_the_values(domo_client: dd.Client) -> None:
    """A new dataset's schema comes from the frame: a column of None in its first slice
    and dates after is a DATE column, not a STRING one."""
    day = np.array([None] * ROWS, dtype=object)
    day[LATE] = dt.date(2024, 2, 29)
    frame = pd.DataFrame({"id": np.arange(ROWS), "day": day})
    ds = domo_client.create_dataset("late dates", frame)
    assert ds.schema() == [{"name": "id", "type": "LONG"}, {"name": "day", "type": "DATE"}]
    ds.upload(frame)
    got = ds.query("SELECT `id`, `day` FROM table WHERE `day` IS NOT NULL").to_pyarrow()
    assert got.to_pylist() == [{"id": LATE, "day": dt.date(2024, 2, 29)}]


# -- a value that fails in a later slice -------------------------------------------------------


def _filled(domo_client: dd.Client, name: str, schema: dict[str, str]) -> dd.Dataset:
    """A dataset holding one row, which a failed replace must leave in place."""
    ds = domo_client.create_dataset(name, schema)
    ds.upload(pd.DataFrame({c: [v] for c, v in _ONE_ROW.items() if c in schema}))
    return ds


_ONE_ROW: dict[str, Any] = {"id": 1, "name": "kept", "price": Decimal("1.5"), "amount": 2.0}


def _bad_frames() -> dict[str, tuple[dict[str, str], pd.DataFrame, str]]:
    """Frames whose one bad value sits in the second slice, with what the error says."""
    ids = np.arange(ROWS)
    names = np.array([f"n{i}" for i in range(ROWS)], dtype=object)
    names[LATE] = "\ud800"  # a lone surrogate: no UTF-8 encodes it
    prices = np.array([Decimal(i) for i in range(ROWS)], dtype=object)
    prices[LATE] = Decimal("1e30")
    amounts = ids * 1.0
    amounts[LATE] = np.inf
    return {
        "a string no UTF-8 holds": (
            {"id": "LONG", "name": "STRING"},
            pd.DataFrame({"id": ids, "name": pd.Series(names, dtype=object)}),
            rf"column 'name', rows {SLICE_ROWS} to {2 * SLICE_ROWS - 1}: .*surrogates",
        ),
        "a decimal past 28 digits": (
            {"id": "LONG", "price": "DECIMAL"},
            pd.DataFrame({"id": ids, "price": prices}),
            rf"column 'price', rows {SLICE_ROWS} to {2 * SLICE_ROWS - 1}: .*precision",
        ),
        "infinity": (
            {"id": "LONG", "amount": "DOUBLE"},
            pd.DataFrame({"id": ids, "amount": amounts}),
            rf'column "amount", row {LATE}: infinity',
        ),
    }


BAD = ["a string no UTF-8 holds", "a decimal past 28 digits", "infinity"]


def _kept(rows: list[dict[str, Any]], schema: dict[str, str]) -> None:
    assert rows == [{c: v for c, v in _ONE_ROW.items() if c in schema}]


@pytest.mark.parametrize("case", BAD)
def test_a_bad_value_in_a_later_slice_commits_nothing(case: str, domo_client: dd.Client) -> None:
    schema, frame, message = _bad_frames()[case]
    ds = _filled(domo_client, "bad", schema)
    versions = len(ds.data_versions())
    with pytest.raises(ValueError, match=message):
        ds.upload(frame, mode="replace")
    assert len(ds.data_versions()) == versions
    _kept(ds.query("SELECT * FROM table").to_pyarrow().to_pylist(), schema)


@pytest.mark.parametrize("case", BAD)
async def test_a_bad_value_in_a_later_slice_commits_nothing_async(
    case: str, domo_client: dd.Client
) -> None:
    schema, frame, message = _bad_frames()[case]
    ds = _filled(domo_client, "bad", schema)
    versions = len(await ds.data_versions_async())
    with pytest.raises(ValueError, match=message):
        await ds.upload_async(frame, mode="replace")
    assert len(await ds.data_versions_async()) == versions
    _kept((await ds.query_async("SELECT * FROM table")).to_pyarrow().to_pylist(), schema)


def _mixed_frame() -> pd.DataFrame:
    """Strings with an int in the second slice: no one Arrow type holds the column, which
    is known from the whole column before the first slice."""
    names = np.array([f"n{i}" for i in range(ROWS)], dtype=object)
    names[LATE] = 42
    return pd.DataFrame({"id": np.arange(ROWS), "name": pd.Series(names, dtype=object)})


def test_a_column_of_mixed_values_fails_before_anything_is_sent(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("mixed", {"id": "LONG", "name": "STRING"})
    domo_emulator.clear_requests()
    with pytest.raises(TypeError, match="Expected bytes, got a 'int' object"):
        ds.upload(_mixed_frame())
    assert domo_emulator.requests(UPLOAD_PATH) == []


async def test_a_column_of_mixed_values_fails_before_anything_is_sent_async(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = await domo_client.create_dataset_async("mixed", {"id": "LONG", "name": "STRING"})
    domo_emulator.clear_requests()
    with pytest.raises(TypeError, match="Expected bytes, got a 'int' object"):
        await ds.upload_async(_mixed_frame())
    assert domo_emulator.requests(UPLOAD_PATH) == []


@pytest.mark.skipif(
    not _copy_on_write(),
    reason="pandas 2 without copy-on-write changes a frame's data in place when written",
)
def test_a_frame_written_to_during_its_upload_uploads_as_it_was(domo_client: dd.Client) -> None:
    """The frame is read while the upload runs. A write to it meanwhile (here from the
    progress callback, after the first part, when the upload has read at most four
    slices) leaves the rows uploaded as they were at the call: pandas copies on write."""
    rows = 5 * SLICE_ROWS
    last = rows - 1
    ds = domo_client.create_dataset("written", {"id": "LONG", "name": "STRING"})
    frame = pd.DataFrame(
        {"id": np.arange(rows), "name": pd.Series([f"n{i}" for i in range(rows)], dtype=object)}
    )

    def write(progress: Any) -> None:
        frame.loc[last, "name"] = "written"
        frame.loc[last, "id"] = -1

    ds.upload(frame, part_size=64 * 1024, progress=write)
    assert frame.loc[last, "name"] == "written"
    got = ds.query(f"SELECT `id`, `name` FROM table WHERE `id` IN (-1, {last})").to_pyarrow()
    assert got.to_pylist() == [{"id": last, "name": f"n{last}"}]

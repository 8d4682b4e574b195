"""Schema errors name every missing or extra column, by position as by name (sync and
async); nothing is sent."""

from __future__ import annotations

import datetime as dt

import domo_datasets as dd
import pyarrow as pa
import pytest

SCHEMA = {"id": "LONG", "name": "STRING", "amount": "DOUBLE", "day": "DATE", "at": "DATETIME"}


def _table() -> pa.Table:
    return pa.table(
        {
            "id": pa.array([1], pa.int64()),
            "name": ["east"],
            "amount": [1.5],
            "day": pa.array([dt.date(2024, 1, 2)]),
            "at": pa.array([dt.datetime(2024, 1, 2, 10, 30)], pa.timestamp("us")),
        }
    )


def test_missing_columns_are_named_by_position(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("s", SCHEMA)
    with pytest.raises(ValueError) as info:
        ds.upload(_table().drop_columns(["day", "at"]))
    message = str(info.value)
    assert "the data has 3 columns, the dataset 5" in message
    assert 'dataset column 3 "day" (DATE) is missing from the data' in message
    assert 'dataset column 4 "at" (DATETIME) is missing from the data' in message
    assert "match_by_name" not in message


async def test_extra_columns_are_named_by_position_async(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("s", {"id": "LONG"})
    table = pa.table({"id": pa.array([1], pa.int64()), "note": ["x"], "more": [1.5]})
    with pytest.raises(ValueError) as info:
        await ds.upload_async(table)
    message = str(info.value)
    assert 'data column 1 "note" (Utf8) is extra' in message
    assert 'data column 2 "more" (Float64) is extra' in message


def test_missing_and_extra_columns_are_named_by_name(domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("s", {"id": "LONG", "name": "STRING"})
    table = pa.table({"id": pa.array([1], pa.int64()), "nom": ["x"]})
    with pytest.raises(ValueError) as info:
        ds.upload(table, match_by_name=True)
    message = str(info.value)
    assert 'column "name" is missing from the data' in message
    assert 'the data has column "nom", which the dataset does not' in message

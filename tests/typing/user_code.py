"""Common user code: it must pass ``mypy --strict`` with no error and no cast."""

from __future__ import annotations

import asyncio
import os

import domo_datasets as dd
import pandas as pd
import polars as pl
import pyarrow as pa
from domo_datasets import Column, DomoType, Schema, UploadProgress, UploadResult

SCHEMA = {"region": "STRING", "amount": "DOUBLE"}
PAIRS = [("region", "STRING"), ("amount", "DOUBLE")]
DICTS = [{"name": "region", "type": "STRING"}]
COLUMNS: list[Column] = [{"name": "region", "type": "STRING"}]
TYPED: dict[str, DomoType] = {"region": "STRING"}


def make(client: dd.Client) -> list[dd.Dataset]:
    return [
        client.create_dataset("a", SCHEMA),
        client.create_dataset("b", PAIRS),
        client.create_dataset("c", DICTS),
        client.create_dataset("d", COLUMNS),
        client.create_dataset("e", TYPED),
        client.create_dataset("f", pa.schema([("x", pa.int64())])),
    ]


def schema_of(frame: pl.DataFrame) -> Schema:
    return {name: "STRING" for name in frame.columns}


def on_progress(event: UploadProgress) -> None:
    print(event["rows_sent"], event["done"])


def load(ds: dd.Dataset, frame: pd.DataFrame, lazy: pl.LazyFrame) -> int:
    results: list[UploadResult] = [
        ds.upload(frame, progress=on_progress),
        ds.upload(pl.DataFrame({"region": ["x"]})),
        ds.upload(lazy),
        ds.upload({"region": ["x"], "amount": [1.5]}),
        ds.upload("rows.csv", mode="replace"),
        ds.upload(os.path.join("data", "rows.parquet")),
        ds.upload(iter([frame, frame])),
    ]
    return sum(result["rows"] for result in results)


def read(ds: dd.Dataset) -> float:
    df = ds.query("SELECT * FROM table").to_pandas()
    polars_frame = pl.DataFrame(ds.query("SELECT * FROM table"))
    names: list[str] = ds.query("SELECT 1").column_names
    return float(len(df) + polars_frame.height + len(names))


async def read_async(ds: dd.Dataset) -> int:
    table = await ds.query_async("SELECT COUNT(*) FROM table")
    return table.num_rows


def main() -> None:
    client = dd.Client("acme", token=os.environ.get("DOMO_TOKEN", ""))
    ds = client.dataset("44c5d1b9")
    print(asyncio.run(read_async(ds)), read(ds))
    for column in ds.schema():
        kind: DomoType | str = column["type"]
        print(column["name"], kind)

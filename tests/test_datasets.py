"""Creating datasets, reading their metadata and schema; bad input never reaches Domo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from support import CREATE_PATH, METADATA_PATH, SCHEMA_PATH

COLUMNS: list[dict[str, str]] = [
    {"name": "Region Name", "type": "STRING"},
    {"name": "units", "type": "LONG"},
    {"name": "share", "type": "DOUBLE"},
    {"name": "amount", "type": "DECIMAL"},
    {"name": "day", "type": "DATE"},
    {"name": "at", "type": "DATETIME"},
]

SCHEMA_FORMS: dict[str, Any] = {
    "dict": {c["name"]: c["type"] for c in COLUMNS},
    "pairs": [(c["name"], c["type"]) for c in COLUMNS],
    "column_dicts": [dict(c) for c in COLUMNS],
    "pyarrow_schema": pa.schema(
        [
            ("Region Name", pa.string()),
            ("units", pa.int64()),
            ("share", pa.float64()),
            ("amount", pa.decimal128(38, 10)),
            ("day", pa.date32()),
            ("at", pa.timestamp("us", tz="UTC")),
        ]
    ),
}


def _check_created(domo: LocalDomo, ds: dd.Dataset, name: str) -> None:
    """The emulator holds exactly this dataset, empty, with the COLUMNS schema."""
    state = domo.state()
    [held] = [d for d in state["datasets"] if d["id"] == ds.id]
    assert held["name"] == name
    assert held["rowCount"] == 0
    creates = domo.requests(CREATE_PATH, "POST")
    assert len(creates) == 1
    assert creates[0]["auth"] == "developer"


@pytest.mark.parametrize("form", list(SCHEMA_FORMS))
def test_create_dataset_schema_forms(
    domo_client: dd.Client, domo_emulator: LocalDomo, form: str
) -> None:
    name = f"created from {form}"
    ds = domo_client.create_dataset(name, SCHEMA_FORMS[form], description="a test")
    assert isinstance(ds, dd.Dataset)
    assert ds.id
    assert ds.client.base_url == domo_client.base_url
    _check_created(domo_emulator, ds, name)
    assert ds.schema() == COLUMNS
    meta = ds.metadata()
    assert meta["id"] == ds.id
    assert meta["name"] == name


@pytest.mark.parametrize("form", ["dict", "pyarrow_schema"])
async def test_create_dataset_async(
    domo_client: dd.Client, domo_emulator: LocalDomo, form: str
) -> None:
    ds = await domo_client.create_dataset_async("async created", SCHEMA_FORMS[form])
    _check_created(domo_emulator, ds, "async created")
    assert await ds.schema_async() == COLUMNS
    meta = await ds.metadata_async()
    assert (meta["id"], meta["name"]) == (ds.id, "async created")


def test_schema_from_arrow_table_and_polars_frame(domo_client: dd.Client) -> None:
    import polars as pl

    table = pa.table({"a": pa.array([1], pa.int64()), "b": pa.array(["x"], pa.string())})
    ds = domo_client.create_dataset("from table schema", table.schema)
    assert ds.schema() == [{"name": "a", "type": "LONG"}, {"name": "b", "type": "STRING"}]
    frame = pl.DataFrame({"c": [1.5], "d": ["y"]})
    ds2 = domo_client.create_dataset("from polars schema", frame.to_arrow().schema)
    assert ds2.schema() == [{"name": "c", "type": "DOUBLE"}, {"name": "d", "type": "STRING"}]


def test_dataset_handle_for_existing_id(domo_client: dd.Client) -> None:
    created = domo_client.create_dataset("existing", {"x": "LONG"})
    again = domo_client.dataset(created.id)
    assert again.id == created.id
    assert again.metadata()["name"] == "existing"
    assert again.schema() == [{"name": "x", "type": "LONG"}]


BAD_SCHEMAS: dict[str, tuple[str, Any]] = {
    "empty name": ("", {"x": "LONG"}),
    "empty schema dict": ("t", {}),
    "empty schema list": ("t", []),
    "unknown type": ("t", {"x": "INTEGER"}),
    "empty column name": ("t", {"": "LONG"}),
    "duplicate columns": ("t", [("x", "LONG"), ("x", "STRING")]),
    "duplicate column dicts": ("t", [{"name": "x", "type": "LONG"}, {"name": "x", "type": "LONG"}]),
    "column dict without type": ("t", [{"name": "x"}]),
    "nested arrow type": ("t", pa.schema([("x", pa.list_(pa.int64()))])),
    "struct arrow type": ("t", pa.schema([("x", pa.struct([("y", pa.int64())]))])),
}


@pytest.mark.parametrize("case", list(BAD_SCHEMAS))
def test_invalid_create_raises_value_error_before_any_request(
    domo_client: dd.Client, domo_emulator: LocalDomo, case: str
) -> None:
    name, schema = BAD_SCHEMAS[case]
    with pytest.raises(ValueError):
        domo_client.create_dataset(name, schema)
    assert domo_emulator.requests() == []
    assert domo_emulator.state()["datasets"] == []


async def test_invalid_create_async_raises_before_any_request(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    with pytest.raises(ValueError):
        await domo_client.create_dataset_async("", {"x": "LONG"})
    with pytest.raises(ValueError):
        await domo_client.create_dataset_async("t", {"x": "BOGUS"})
    assert domo_emulator.requests() == []


def test_bad_input_raises_before_any_request(
    domo_client: dd.Client, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    ds = domo_client.create_dataset("t", {"x": "LONG"})
    domo_emulator.clear_requests()
    table = pa.table({"x": pa.array([1, 2], pa.int64())})

    with pytest.raises(ValueError):
        domo_client.dataset("")
    with pytest.raises(ValueError):
        ds.query("")
    with pytest.raises(ValueError):
        ds.query("   ")
    with pytest.raises(ValueError):
        ds.upload(table, mode="upsert")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ds.upload(table, part_size=0)
    with pytest.raises(ValueError):
        ds.upload(table, concurrency=0)
    with pytest.raises(FileNotFoundError):
        ds.upload(tmp_path / "does-not-exist.csv")
    with pytest.raises(FileNotFoundError):
        ds.upload(str(tmp_path / "does-not-exist.csv"))
    assert domo_emulator.requests() == []
    assert domo_emulator.state()["uploads"] == []


async def test_bad_input_async_raises_before_any_request(
    domo_client: dd.Client, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    ds = domo_client.create_dataset("t", {"x": "LONG"})
    domo_emulator.clear_requests()
    table = pa.table({"x": pa.array([1], pa.int64())})
    with pytest.raises(ValueError):
        await ds.query_async("")
    with pytest.raises(ValueError):
        await ds.upload_async(table, mode="upsert")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        await ds.upload_async(table, part_size=0)
    with pytest.raises(ValueError):
        await ds.upload_async(table, concurrency=0)
    with pytest.raises(FileNotFoundError):
        await ds.upload_async(tmp_path / "missing.csv")
    assert domo_emulator.requests() == []


def test_bad_client_settings_raise_value_error() -> None:
    with pytest.raises(ValueError):
        dd.Client("", token="t")
    with pytest.raises(ValueError):
        dd.Client("acme")  # no credentials
    with pytest.raises(ValueError):
        dd.Client("acme", token="t", session_token="s")  # both
    with pytest.raises(ValueError):
        dd.Client("acme", token="t", connect_timeout=0)
    with pytest.raises((ValueError, OverflowError)):
        dd.Client("acme", token="t", max_retries=-1)


def test_create_is_not_retried(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    domo_emulator.inject_fault(CREATE_PATH, method="POST", status=503, retry_after=0, count=5)
    with pytest.raises(dd.ServerError) as info:
        domo_client.create_dataset("never twice", {"x": "LONG"})
    assert info.value.status == 503
    assert len(domo_emulator.requests(CREATE_PATH, "POST")) == 1


def test_metadata_and_schema_requests(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("paths", {"x": "LONG"})
    domo_emulator.clear_requests()
    ds.metadata()
    ds.schema()
    log = domo_emulator.requests()
    assert [(e["method"], e["status"]) for e in log] == [("GET", 200), ("GET", 200)]
    assert domo_emulator.requests(METADATA_PATH, "GET")[0]["path"].endswith(ds.id)
    assert len(domo_emulator.requests(SCHEMA_PATH, "GET")) == 1

"""Progress of reads: export, export_to and query_pages report rows handed on, with the
dataset's row count as the total where it is known; a callback's exception stops the read
(no file is written) and is raised with a note."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo

ROWS = 50_000
# Every 7th text holds a line break inside its quotes: a record is not a line.
SCHEMA = {"id": "LONG", "text": "STRING"}


def _table(n: int = ROWS) -> pa.Table:
    texts = [f"line {i}\nmore" if i % 7 == 0 else f"row {i}" for i in range(n)]
    return pa.table({"id": pa.array(range(n), pa.int64()), "text": texts})


@pytest.fixture
def seeded(domo_client: dd.Client) -> dd.Dataset:
    ds = domo_client.create_dataset("progress", SCHEMA)
    ds.upload(_table())
    return ds


def _collect(events: list[dict[str, Any]]) -> Any:
    return lambda event: events.append(dict(event))


def _assert_rows_reported(events: list[dict[str, Any]], total: int | None) -> None:
    assert len(events) >= 2, events
    assert [e["done"] for e in events] == [False] * (len(events) - 1) + [True]
    read = [e["rows_read"] for e in events]
    assert read == sorted(read)
    assert read[-1] == ROWS
    assert all(e["rows_total"] == total for e in events)


def test_export_reports_rows_against_the_row_count(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    with seeded.export(batch_size=4096, progress=_collect(events)) as stream:
        rows = sum(batch.num_rows for batch in stream)
    assert rows == ROWS
    _assert_rows_reported(events, ROWS)
    assert all(e["bytes_read"] is None for e in events)


async def test_export_async_reports_rows(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    stream = await seeded.export_async(batch_size=4096, progress=_collect(events))
    rows = 0
    async for batch in stream:
        rows += batch.num_rows
    assert rows == ROWS
    _assert_rows_reported(events, ROWS)


def test_export_read_by_an_arrow_consumer_reports_rows(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    table = pa.RecordBatchReader.from_stream(seeded.export(progress=_collect(events))).read_all()
    assert table.num_rows == ROWS
    _assert_rows_reported(events, ROWS)


def test_export_to_reports_records_and_bytes(seeded: dd.Dataset, tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    path = tmp_path / "out.csv"
    written = seeded.export_to(path, progress=_collect(events))
    _assert_rows_reported(events, ROWS)
    assert events[-1]["bytes_read"] == written == os.path.getsize(path)
    bytes_read = [e["bytes_read"] for e in events]
    assert bytes_read == sorted(bytes_read)


async def test_export_to_async_reports_records(seeded: dd.Dataset, tmp_path: Path) -> None:
    events: list[dict[str, Any]] = []
    path = tmp_path / "out.csv"
    written = await seeded.export_to_async(path, progress=_collect(events))
    _assert_rows_reported(events, ROWS)
    assert events[-1]["bytes_read"] == written


def test_query_pages_reports_rows_without_a_total(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    sql = "SELECT id FROM table ORDER BY id"
    with seeded.query_pages(sql, page_size=20_000, progress=_collect(events)) as stream:
        rows = sum(batch.num_rows for batch in stream)
    assert rows == ROWS
    _assert_rows_reported(events, None)


async def test_query_pages_async_reports_rows(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    sql = "SELECT id FROM table ORDER BY id"
    stream = await seeded.query_pages_async(sql, page_size=20_000, progress=_collect(events))
    rows = 0
    async for batch in stream:
        rows += batch.num_rows
    assert rows == ROWS
    _assert_rows_reported(events, None)


class Stop(Exception):
    pass


def _stop_after_first(event: dd.ReadProgress) -> None:
    if event["rows_read"] > 0:
        raise Stop("enough")


def test_callback_exception_stops_an_export_stream(seeded: dd.Dataset) -> None:
    taken = 0
    with pytest.raises(Stop) as caught:
        for batch in seeded.export(batch_size=1000, progress=_stop_after_first):
            taken += batch.num_rows
    assert taken == 0, "the batch whose report failed is not handed on"
    assert any("export was stopped" in note for note in caught.value.__notes__)


async def test_callback_exception_stops_a_query_pages_stream_async(seeded: dd.Dataset) -> None:
    sql = "SELECT id FROM table ORDER BY id"
    stream = await seeded.query_pages_async(sql, page_size=1000, progress=_stop_after_first)
    with pytest.raises(Stop) as caught:
        async for _ in stream:
            pass
    assert any("query was stopped" in note for note in caught.value.__notes__)
    assert [batch async for batch in stream] == [], "nothing follows the error"


def test_callback_exception_leaves_no_file(seeded: dd.Dataset, tmp_path: Path) -> None:
    path = tmp_path / "out.csv"
    with pytest.raises(Stop) as caught:
        seeded.export_to(path, progress=_stop_after_first)
    assert any("no file was written" in note for note in caught.value.__notes__)
    assert list(tmp_path.iterdir()) == []


async def test_callback_exception_at_the_end_leaves_no_file_async(
    seeded: dd.Dataset, tmp_path: Path
) -> None:
    def stop_when_done(event: dd.ReadProgress) -> None:
        if event["done"]:
            raise Stop("at the end")

    path = tmp_path / "out.csv"
    with pytest.raises(Stop):
        await seeded.export_to_async(path, progress=stop_when_done)
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_shows_the_total(
    seeded: dd.Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("tqdm")
    seeded.export_to(tmp_path / "out.csv", progress=True)
    err = capsys.readouterr().err
    assert f"{ROWS // 1000}.0k/{ROWS // 1000}.0k" in err, err


def test_bad_progress_is_refused_before_any_request(
    seeded: dd.Dataset, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    domo_emulator.clear_requests()
    with pytest.raises(TypeError, match="progress must be"):
        seeded.export(progress="yes")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="progress must be"):
        seeded.export_to(tmp_path / "x.csv", progress=1)  # type: ignore[arg-type]
    assert domo_emulator.requests() == []


def test_a_stream_closed_early_is_never_reported_done(seeded: dd.Dataset) -> None:
    events: list[dict[str, Any]] = []
    stream = seeded.export(batch_size=1000, progress=_collect(events))
    first = next(iter(stream))
    stream.close()
    assert first.num_rows > 0
    assert events and not any(e["done"] for e in events)
    assert events[-1]["rows_read"] < ROWS


def test_an_oauth_client_reports_against_the_public_row_count(
    domo_emulator: LocalDomo, seeded: dd.Dataset, tmp_path: Path
) -> None:
    oauth = dd.Client.oauth(domo_emulator.email, domo_emulator.password, api_host=domo_emulator.url)
    ds = oauth.dataset(seeded.id)
    streamed: list[dict[str, Any]] = []
    with ds.export(progress=_collect(streamed)) as stream:
        assert sum(batch.num_rows for batch in stream) == ROWS
    _assert_rows_reported(streamed, ROWS)
    written: list[dict[str, Any]] = []
    ds.export_to(tmp_path / "public.csv", progress=_collect(written))
    _assert_rows_reported(written, ROWS)

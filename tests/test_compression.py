"""Compressed answers and the row cap, through the public API against the emulator.

The client asks for gzip and decodes while bytes arrive; the emulator compresses query
answers and exports when asked (as Domo does). Expected rows are the ones the test
uploads, written out in Python.
"""

from __future__ import annotations

import gzip
import json
import urllib.request
import warnings
from pathlib import Path

import domo_datasets as dd
import polars as pl
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo
from hostile import (
    DATASET_ID,
    EXPORT_SUFFIX,
    SCHEMA_SUFFIX,
    Handler,
    Hostile,
    gzipped,
    query_answer,
    schema_answer,
)
from support import EXPORT_PATH, QUERY_PATH

ROWS = 3000
LABELS = [f"label {i % 7} " * 6 for i in range(ROWS)]


@pytest.fixture
def ds(domo_client: dd.Client, domo_emulator: LocalDomo) -> dd.Dataset:
    ds = domo_client.create_dataset("wire", {"n": "LONG", "label": "STRING"})
    ds.upload(pa.table({"n": pa.array(range(ROWS), pa.int64()), "label": LABELS}))
    domo_emulator.clear_requests()
    return ds


def only(entries: list[dict[str, object]]) -> dict[str, object]:
    assert len(entries) == 1, entries
    return entries[0]


def assert_gzip_both_ways(entry: dict[str, object]) -> None:
    assert "gzip" in str(entry["accept_encoding"])
    assert entry["answer_encoding"] == "gzip"


def check_rows(table: pa.Table) -> None:
    got = sorted(zip(table.column("n").to_pylist(), table.column("label").to_pylist(), strict=True))
    assert got == list(zip(range(ROWS), LABELS, strict=True))


# -- gzip on the query and export paths ------------------------------------------------


def test_query_answers_come_gzipped(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    check_rows(ds.query("SELECT * FROM table").to_pyarrow())
    assert_gzip_both_ways(only(domo_emulator.requests(QUERY_PATH)))


async def test_query_answers_come_gzipped_async(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    check_rows((await ds.query_async("SELECT * FROM table")).to_pyarrow())
    assert_gzip_both_ways(only(domo_emulator.requests(QUERY_PATH)))


def test_exports_come_gzipped(ds: dd.Dataset, domo_emulator: LocalDomo, tmp_path: Path) -> None:
    check_rows(ds.export(batch_size=1000).read_all().to_pyarrow())
    assert_gzip_both_ways(only(domo_emulator.requests(EXPORT_PATH)))
    # export_to writes the CSV as Domo means it, decompressed.
    domo_emulator.clear_requests()
    path = tmp_path / "out.csv"
    written = ds.export_to(path)
    expected = "n,label\n" + "".join(f"{i},{LABELS[i]}\n" for i in range(ROWS))
    assert path.read_text() == expected
    assert written == len(expected.encode())
    assert_gzip_both_ways(only(domo_emulator.requests(EXPORT_PATH)))


async def test_exports_come_gzipped_async(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    stream = await ds.export_async(batch_size=1000)
    check_rows(pa.concat_tables([b.to_pyarrow() async for b in stream]))
    assert_gzip_both_ways(only(domo_emulator.requests(EXPORT_PATH)))


def raw_query(domo: LocalDomo, dataset_id: str, accept_encoding: str | None) -> bytes:
    """The query answer's bytes as they cross the wire."""
    request = urllib.request.Request(
        f"{domo.url}/api/query/v1/execute/{dataset_id}",
        data=json.dumps({"sql": "SELECT * FROM table"}).encode(),
        headers={"X-DOMO-Developer-Token": domo.token, "Content-Type": "application/json"},
    )
    if accept_encoding:
        request.add_header("Accept-Encoding", accept_encoding)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        assert response.headers.get("Content-Encoding") == ("gzip" if accept_encoding else None)
        return bytes(response.read())


def limit_between(domo: LocalDomo, ds: dd.Dataset) -> int:
    """A max_answer_bytes above the compressed answer and below the decoded one."""
    wire = raw_query(domo, ds.id, "gzip")
    plain = raw_query(domo, ds.id, None)
    assert gzip.decompress(wire) == plain
    assert len(wire) * 3 < len(plain)
    return len(plain) // 2


def test_max_answer_bytes_bounds_the_decoded_answer(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    limit = limit_between(domo_emulator, ds)
    small = domo_emulator.client(max_answer_bytes=limit, max_retries=0).dataset(ds.id)
    with pytest.raises(dd.AnswerTooLargeError, match="max_answer_bytes"):
        small.query("SELECT * FROM table")
    # The same limit reads a smaller answer.
    got = small.query("SELECT * FROM table WHERE `n` < 10").to_pyarrow()
    assert got.column("n").to_pylist() == list(range(10))


async def test_max_answer_bytes_bounds_the_decoded_answer_async(
    ds: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    limit = limit_between(domo_emulator, ds)
    small = domo_emulator.client(max_answer_bytes=limit, max_retries=0).dataset(ds.id)
    with pytest.raises(dd.AnswerTooLargeError, match="max_answer_bytes"):
        await small.query_async("SELECT * FROM table")


# -- the row cap -----------------------------------------------------------------------


def test_an_answer_at_the_cap_warns(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_answer_row_cap(40)
    with pytest.warns(dd.RowCapWarning, match="query_pages") as caught:
        got = ds.query("SELECT * FROM table")
    assert got.num_rows == 40
    assert "40 rows" in str(caught[0].message)
    # The warning names the caller's line, not the package's.
    assert caught[0].filename == __file__


async def test_an_answer_at_the_cap_warns_async(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    domo_emulator.set_answer_row_cap(40)
    with pytest.warns(dd.RowCapWarning, match="query_pages"):
        got = await ds.query_async("SELECT * FROM table")
    assert got.num_rows == 40


def test_answers_below_the_cap_do_not_warn(ds: dd.Dataset, domo_emulator: LocalDomo) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", dd.RowCapWarning)
        # Under the live cap (1,000,000): 3000 rows is a whole answer.
        assert ds.query("SELECT * FROM table").num_rows == ROWS
        domo_emulator.set_answer_row_cap(40)
        assert ds.query("SELECT * FROM table LIMIT 39").num_rows == 39
        # Paging reads past the cap on purpose: its pages never warn.
        pages = ds.query_pages("SELECT * FROM table ORDER BY `n`", page_size=40)
        assert sum(b.num_rows for b in pages) == ROWS
        # Nor does a scan, which pages past the cap itself.
        assert dd.scan(ds, max_rows_per_query=40).filter(pl.col("n") < 100).collect().height == 100


# -- compressed bodies cut short (a local script as the server) ------------------------

HOSTILE_COLUMNS = {"id": "LONG", "s": "STRING"}
HOSTILE_ROWS = [[i, f"value {i}"] for i in range(2000)]
HOSTILE_CSV = ("id,s\n" + "".join(f"{i},{s}\n" for i, s in HOSTILE_ROWS)).encode()
HOSTILE_ANSWER = json.dumps(query_answer(HOSTILE_COLUMNS, HOSTILE_ROWS)).encode()


def hostile_dataset(cut: int | None) -> tuple[Hostile, str]:
    """A server answering the query and the export gzipped, cut to ``cut`` bytes of the
    compressed body when given (Content-Length says the cut length: the HTTP message is
    whole, the gzip stream is not)."""

    def script(h: Handler) -> None:
        path = h.path.split("?")[0]
        if path.endswith(SCHEMA_SUFFIX):
            h.reply_json(200, schema_answer(HOSTILE_COLUMNS))
            return
        body, kind = (
            (HOSTILE_CSV, "text/csv")
            if path.endswith(EXPORT_SUFFIX)
            else (HOSTILE_ANSWER, "application/json")
        )
        wire = gzipped(body)
        h.reply(200, wire[:cut] if cut else wire, kind, {"Content-Encoding": "gzip"})

    return Hostile(script), "tok-compression-0b1c"


EXPECTED_HOSTILE = [{"id": i, "s": s} for i, s in HOSTILE_ROWS]


def test_whole_gzip_bodies_decode() -> None:
    server, token = hostile_dataset(None)
    with server:
        ds = dd.Client(server.url, token=token, max_retries=0).dataset(DATASET_ID)
        assert ds.query("SELECT * FROM table").to_pyarrow().to_pylist() == EXPECTED_HOSTILE
        assert ds.export().read_all().to_pyarrow().to_pylist() == EXPECTED_HOSTILE


@pytest.mark.parametrize("cut", ["trailer", "middle"])
def test_cut_gzip_bodies_are_errors(cut: str) -> None:
    # Without its trailer the deflate data is whole (every row is there): only the gzip
    # end tells that the body is complete, so a reader that stops at the data's end
    # would return rows silently.
    for body in (HOSTILE_CSV, HOSTILE_ANSWER):
        wire = len(gzipped(body))
        length = wire - 8 if cut == "trailer" else wire // 2
        server, token = hostile_dataset(length)
        with server:
            ds = dd.Client(server.url, token=token, max_retries=0).dataset(DATASET_ID)
            with pytest.raises(dd.DomoError):
                if body is HOSTILE_CSV:
                    ds.export().read_all()
                else:
                    ds.query("SELECT * FROM table")


async def test_cut_gzip_bodies_are_errors_async() -> None:
    for body in (HOSTILE_CSV, HOSTILE_ANSWER):
        server, token = hostile_dataset(len(gzipped(body)) - 8)
        with server:
            ds = dd.Client(server.url, token=token, max_retries=0).dataset(DATASET_ID)
            with pytest.raises(dd.DomoError):
                if body is HOSTILE_CSV:
                    async for _ in await ds.export_async():
                        pass
                else:
                    await ds.query_async("SELECT * FROM table")

"""STRING columns as Arrow string views, through every consumer.

Query results and exports hold strings as views, which polars holds natively: polars
imports them without building any. pyarrow's kernels and pandas take plain strings, so
pyarrow (``pyarrow.table(t)``, ``to_pyarrow``) and ``to_pandas`` get those; a consumer that
asks for a schema through the PyCapsule interface's requested schema gets it, views or
plain. Every check compares with the Python strings the test uploaded.
"""

from __future__ import annotations

import domo_datasets as dd
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

# Views keep strings of up to 12 bytes inline and point into a data buffer for longer
# ones: both sides of that boundary, in bytes (not characters), plus empty and null.
WORDS: list[str | None] = [
    "",
    None,
    "a",
    "twelve bytes",  # 12 bytes: inline
    "thirteen byte",  # 13 bytes: in a buffer
    "é" * 6,  # 12 bytes in 6 characters
    "é" * 7,  # 14 bytes
    "日本語テキスト",  # 21 bytes
    'comma, "quote" and\nnew line',
    "\\N",
    "x" * 5000,
]
ROWS = 3000  # more string bytes than one view data block holds


def _expected() -> tuple[list[int], list[str | None]]:
    ids = list(range(ROWS))
    return ids, [WORDS[i % len(WORDS)] if i % 7 else f"row {i} " * (i % 5) for i in ids]


@pytest.fixture
def words_ds(domo_client: dd.Client) -> dd.Dataset:
    ds = domo_client.create_dataset("words", {"id": "LONG", "word": "STRING"})
    ids, words = _expected()
    ds.upload(pa.table({"id": pa.array(ids, pa.int64()), "word": pa.array(words, pa.string())}))
    return ds


def _sorted_words(table: pa.Table) -> list[str | None]:
    return table.sort_by("id").column("word").to_pylist()


def test_pyarrow_gets_plain_strings_it_can_filter(words_ds: dd.Dataset) -> None:
    got = pa.table(words_ds.query("SELECT * FROM table"))
    assert got.schema.field("word").type == pa.string()
    assert _sorted_words(got) == _expected()[1]
    assert pa.schema(words_ds.query("SELECT * FROM table")).field("word").type == pa.string()
    # the kernels pyarrow lacks for views: filter, take, compare
    hits = got.filter(pa.compute.equal(got["word"], "twelve bytes"))
    assert hits.num_rows == sum(1 for w in _expected()[1] if w == "twelve bytes")


def test_polars_reads_query_strings(words_ds: dd.Dataset) -> None:
    frame = pl.DataFrame(words_ds.query("SELECT * FROM table ORDER BY id"))
    assert frame.schema["word"] == pl.String
    assert frame["word"].to_list() == _expected()[1]
    assert (
        words_ds.query("SELECT * FROM table ORDER BY id").to_polars()["word"].to_list()
        == (_expected()[1])
    )


def test_to_pyarrow_gives_plain_strings(words_ds: dd.Dataset) -> None:
    got = words_ds.query("SELECT * FROM table").to_pyarrow()
    assert got.schema.field("word").type == pa.string()
    assert _sorted_words(got) == _expected()[1]
    # plain strings concatenate with a table built in pyarrow
    extra = pa.table({"id": pa.array([ROWS], pa.int64()), "word": ["more"]})
    assert pa.concat_tables([got, extra]).num_rows == ROWS + 1


def test_to_pandas_reads_strings(words_ds: dd.Dataset) -> None:
    frame = words_ds.query("SELECT * FROM table ORDER BY id").to_pandas()
    got = [None if pd.isna(w) else w for w in frame["word"]]
    assert got == _expected()[1]
    arrow_backed = words_ds.query("SELECT * FROM table ORDER BY id").to_pandas(
        types_mapper=pd.ArrowDtype
    )
    assert arrow_backed["word"].dtype == pd.ArrowDtype(pa.string())


def test_requested_schema_is_what_a_consumer_gets(words_ds: dd.Dataset) -> None:
    for word_type in (pa.string(), pa.string_view(), pa.large_string()):
        wanted = pa.schema([("id", pa.int64()), ("word", word_type)])
        got = pa.table(words_ds.query("SELECT * FROM table"), schema=wanted)
        assert got.schema == wanted
        assert (
            _sorted_words(got.cast(pa.schema([("id", pa.int64()), ("word", pa.string())])))
            == (_expected()[1])
        )
        reader = pa.RecordBatchReader.from_stream(words_ds.export(), schema=wanted)
        exported = reader.read_all()
        assert exported.schema == wanted
        assert exported.num_rows == ROWS


def test_export_streams_strings(words_ds: dd.Dataset) -> None:
    exported = pa.RecordBatchReader.from_stream(words_ds.export(batch_size=500)).read_all()
    assert exported.schema.field("word").type == pa.string()
    assert _sorted_words(exported) == _expected()[1]
    frame = pl.DataFrame(words_ds.export(batch_size=500)).sort("id")
    assert frame["word"].to_list() == _expected()[1]
    batches = list(words_ds.export(batch_size=500))
    assert len(batches) >= ROWS // 500
    assert _sorted_words(pa.concat_tables([b.to_pyarrow() for b in batches])) == _expected()[1]


def test_string_views_upload_back(words_ds: dd.Dataset, domo_client: dd.Client) -> None:
    copy = domo_client.create_dataset("copy", {"id": "LONG", "word": "STRING"})
    copy.upload(words_ds.query("SELECT * FROM table"))
    assert _sorted_words(copy.query("SELECT * FROM table").to_pyarrow()) == _expected()[1]
    again = domo_client.create_dataset("again", {"id": "LONG", "word": "STRING"})
    again.upload(pl.DataFrame(words_ds.export()))
    assert _sorted_words(again.query("SELECT * FROM table").to_pyarrow()) == _expected()[1]


def test_query_pages_hand_string_views(words_ds: dd.Dataset) -> None:
    pages = words_ds.query_pages("SELECT * FROM table ORDER BY id", page_size=700)
    frame = pl.DataFrame(pages)
    assert frame["word"].to_list() == _expected()[1]


async def test_async_query_and_export_read_as_views(words_ds: dd.Dataset) -> None:
    table = await words_ds.query_async("SELECT * FROM table ORDER BY id")
    assert pl.DataFrame(table)["word"].to_list() == _expected()[1]
    stream = await words_ds.export_async()
    got = pa.concat_tables([t.to_pyarrow() async for t in stream])
    assert _sorted_words(got) == _expected()[1]

"""How clients, datasets, streams and results look in a terminal and a notebook.

Expected texts are written by hand from the data each test uploads: Domo's type words
(LONG, STRING, ...), "1 row" against "2 rows", never a token.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import domo_datasets as dd
import pyarrow as pa
from domo_datasets.testing import LocalDomo

SCHEMA = {"n": "LONG", "name": "STRING", "x": "DOUBLE", "day": "DATE"}


class _Cells(HTMLParser):
    """The text of every <th> and <td>, row by row, and the caption."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.caption = ""
        self._in: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th", "caption"):
            self._in, self._text = tag, ""
        elif tag == "br" and self._in:
            self._text += "|"

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            if tag == "caption":
                self.caption = self._text
            else:
                self.rows[-1].append(self._text)
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in:
            self._text += data


def _cells(html: str) -> _Cells:
    parser = _Cells()
    parser.feed(html)
    return parser


def _dataset(client: dd.Client, rows: int) -> dd.Dataset:
    ds = client.create_dataset("reprs", SCHEMA)
    ds.upload(
        pa.table(
            {
                "n": pa.array(range(1, rows + 1), pa.int64()),
                "name": [f"<b>{i}</b>" for i in range(1, rows + 1)],
                "x": [i / 2 for i in range(1, rows + 1)],
                "day": [dt.date(2024, 1, i) for i in range(1, rows + 1)],
            }
        )
    )
    return ds


def test_table_repr_in_domo_words(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client, 2)
    two = ds.query("SELECT * FROM table ORDER BY n")
    assert repr(two) == "Table(2 rows; n: LONG, name: STRING, x: DOUBLE, day: DATE)"
    one = ds.query("SELECT n FROM table WHERE n = 1")
    assert repr(one) == "Table(1 row; n: LONG)"
    none = ds.query("SELECT name FROM table WHERE n = 0")
    assert repr(none) == "Table(0 rows; name: STRING)"


def test_table_html_shows_schema_and_first_rows(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client, 12)
    cells = _cells(ds.query("SELECT * FROM table ORDER BY n")._repr_html_())
    assert cells.caption == "Table (12 rows, 4 columns; the first 10 shown)"
    header, *body = cells.rows
    assert header == ["n|LONG", "name|STRING", "x|DOUBLE", "day|DATE"]
    assert len(body) == 10
    # Values are escaped text, not markup.
    assert body[0] == ["1", "<b>1</b>", "0.5", "2024-01-01"]
    assert body[9] == ["10", "<b>10</b>", "5.0", "2024-01-10"]


def test_small_table_html_shows_every_row(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client, 1)
    cells = _cells(ds.query("SELECT n, name FROM table")._repr_html_())
    assert cells.caption == "Table (1 row, 2 columns)"
    assert cells.rows == [["n|LONG", "name|STRING"], ["1", "<b>1</b>"]]


def test_batch_stream_says_its_state(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client, 3)
    stream = ds.export()
    assert repr(stream) == "BatchStream(open; n: LONG, name: STRING, x: DOUBLE, day: DATE)"
    assert _cells(stream._repr_html_()).caption == "BatchStream (open, 4 columns)"
    assert stream.read_all().num_rows == 3
    assert repr(stream).startswith("BatchStream(consumed; ")
    assert _cells(stream._repr_html_()).caption == "BatchStream (consumed, 4 columns)"

    closed = ds.export()
    closed.close()
    assert repr(closed).startswith("BatchStream(closed; ")
    assert _cells(closed._repr_html_()).rows[0][0] == "n|LONG"


async def test_batch_stream_state_async(domo_client: dd.Client) -> None:
    ds = _dataset(domo_client, 3)
    stream = await ds.export_async()
    assert repr(stream).startswith("BatchStream(open; ")
    rows = 0
    async for table in stream:
        rows += table.num_rows
    assert rows == 3
    assert repr(stream).startswith("BatchStream(consumed; ")


def test_handles_show_base_url_and_id_never_token(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("handle", SCHEMA)
    base = domo_client.base_url
    assert repr(ds) == f'Dataset("{ds.id}", base_url="{base}")'
    stream = domo_client.stream(42)
    assert repr(stream) == f'Stream(42, base_url="{base}")'
    assert base in repr(domo_client)
    for text in (repr(domo_client), repr(ds), repr(stream)):
        assert domo_emulator.token not in text


def test_datasets_equal_and_hash_by_base_url_and_id(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("same", SCHEMA)
    again = domo_client.dataset(ds.id)
    assert ds == again and hash(ds) == hash(again)
    assert len({ds, again}) == 1
    other = domo_client.create_dataset("other", SCHEMA)
    assert ds != other
    # The same id on another instance is another dataset.
    elsewhere = dd.Client("http://127.0.0.1:9", token="t").dataset(ds.id)
    assert ds != elsewhere
    # A second client of the same instance names the same dataset.
    assert domo_emulator.client().dataset(ds.id) == ds
    assert ds != ds.id


async def test_dataset_from_async_call_equals(domo_client: dd.Client) -> None:
    ds = await domo_client.create_dataset_async("async same", SCHEMA)
    found = await domo_client.dataset_by_name_async("async same")
    assert found == ds and hash(found) == hash(ds)


def test_streams_equal_and_hash_by_base_url_and_id(domo_client: dd.Client) -> None:
    assert domo_client.stream(7) == domo_client.stream(7)
    assert hash(domo_client.stream(7)) == hash(domo_client.stream(7))
    assert domo_client.stream(7) != domo_client.stream(8)
    assert dd.Client("http://127.0.0.1:9", token="t").stream(7) != domo_client.stream(7)

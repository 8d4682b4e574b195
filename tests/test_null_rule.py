"""One null rule for every reader: the export's unquoted ``\\N`` is a null, a quoted
``"\\N"`` is that string, as in query answers (sync and async)."""

from __future__ import annotations

import domo_datasets as dd
import pyarrow as pa

TEXTS = ["\\N", None, "", "N", "\\N\\N"]


def _text_dataset(client: dd.Client) -> dd.Dataset:
    ds = client.create_dataset("texts", {"id": "LONG", "text": "STRING"})
    ds.upload(pa.table({"id": pa.array(range(len(TEXTS)), pa.int64()), "text": TEXTS}))
    return ds


def test_a_quoted_null_marker_is_a_string_in_export_as_in_query(domo_client: dd.Client) -> None:
    ds = _text_dataset(domo_client)
    queried = ds.query("SELECT `text` FROM table ORDER BY `id`").to_pyarrow()
    assert queried.column("text").to_pylist() == TEXTS
    exported = pa.concat_tables([b.to_pyarrow() for b in ds.export()]).sort_by("id")
    assert exported.column("text").to_pylist() == TEXTS


async def test_a_quoted_null_marker_is_a_string_in_export_async(domo_client: dd.Client) -> None:
    ds = _text_dataset(domo_client)
    batches = [b.to_pyarrow() async for b in await ds.export_async()]
    assert pa.concat_tables(batches).sort_by("id").column("text").to_pylist() == TEXTS

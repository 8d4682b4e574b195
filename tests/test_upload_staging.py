"""Where upload parts wait until their commit, seen from the API: parts sent in any order,
re-sent, or belonging to uploads open side by side land in part order, only when their
own upload commits, and a REPLACE or an APPEND to an empty dataset leaves exactly the
upload's rows.

The upload protocol is driven over raw HTTP (``http.client``) so that parts can be sent
out of order; rows are read back with the client's export, which keeps stored order.
Expected rows are written out by hand.
"""

from __future__ import annotations

import base64
import http.client
import json
from typing import Any

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo

SCHEMA = {"id": "LONG", "code": "STRING"}


class Uploads:
    """The instance API's upload routes for one dataset, over raw HTTP."""

    def __init__(self, domo: LocalDomo, dataset_id: str) -> None:
        self.domo = domo
        self.base = f"/api/data/v3/datasources/{dataset_id}/uploads"

    def _send(self, method: str, path: str, body: Any, content_type: str) -> tuple[int, Any]:
        headers = {"X-DOMO-Developer-Token": self.domo.token, "Content-Type": content_type}
        return _raw(self.domo, method, self.base + path, body, headers)

    def start(self, **body: Any) -> int:
        status, answer = self._send("POST", "", body, "application/json")
        assert status == 200, answer
        upload: int = answer["uploadId"]
        return upload

    def part(self, upload: int, part: int, csv: str) -> tuple[int, Any]:
        return self._send("PUT", f"/{upload}/parts/{part}", csv, "text/csv")

    def commit(self, upload: int, **body: Any) -> tuple[int, Any]:
        return self._send("PUT", f"/{upload}/commit", body, "application/json")


def _raw(
    domo: LocalDomo, method: str, path: str, body: Any, headers: dict[str, str]
) -> tuple[int, Any]:
    """One request to the emulator: the status of its answer, and its JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", domo.port, timeout=30)
    try:
        data = body if isinstance(body, str) else json.dumps(body)
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, json.loads(text) if text else None
    finally:
        conn.close()


def _csv(ids: range, code: str) -> str:
    return "".join(f"{i},{code}{i}\n" for i in ids)


def _expected(*runs: tuple[range, str]) -> list[tuple[int, str]]:
    return [(i, f"{code}{i}") for ids, code in runs for i in ids]


def _stored(ds: dd.Dataset) -> list[tuple[int, str]]:
    table = pa.table(ds.export())
    return list(zip(table.column("id").to_pylist(), table.column("code").to_pylist(), strict=True))


@pytest.fixture
def dataset(domo_client: dd.Client) -> dd.Dataset:
    return domo_client.create_dataset("staging", SCHEMA)


@pytest.fixture
def uploads(domo_emulator: LocalDomo, dataset: dd.Dataset) -> Uploads:
    return Uploads(domo_emulator, dataset.id)


@pytest.mark.parametrize("action", ["REPLACE", "APPEND"])
def test_parts_out_of_order_and_resent_land_in_part_order(
    dataset: dd.Dataset, uploads: Uploads, action: str
) -> None:
    upload = uploads.start()
    for part, ids in [(3, range(20, 30)), (1, range(0, 10)), (2, range(100, 105))]:
        assert uploads.part(upload, part, _csv(ids, "x"))[0] == 200
    # Part 2 sent again: the second copy replaces the first.
    assert uploads.part(upload, 2, _csv(range(10, 20), "y"))[0] == 200
    status, answer = uploads.commit(upload, action=action)
    assert status == 200, answer
    assert _stored(dataset) == _expected(
        (range(0, 10), "x"), (range(10, 20), "y"), (range(20, 30), "x")
    )
    assert dataset.metadata()["rowCount"] == 30


def test_replace_leaves_only_the_uploads_rows_and_append_adds_after_them(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    dataset.upload(pa.table({"id": [1, 2], "code": ["old1", "old2"]}))
    upload = uploads.start()
    uploads.part(upload, 2, _csv(range(50, 53), "b"))
    uploads.part(upload, 1, _csv(range(40, 42), "a"))
    assert uploads.commit(upload, action="REPLACE")[0] == 200
    assert _stored(dataset) == _expected((range(40, 42), "a"), (range(50, 53), "b"))
    # An APPEND after the replace adds behind the rows the replace left.
    upload = uploads.start()
    uploads.part(upload, 1, _csv(range(60, 62), "c"))
    assert uploads.commit(upload, action="APPEND")[0] == 200
    assert _stored(dataset) == _expected(
        (range(40, 42), "a"), (range(50, 53), "b"), (range(60, 62), "c")
    )
    # And the dataset is still queryable, filtered, by SQL.
    answer = dataset.query("SELECT `id` FROM table WHERE `code` LIKE 'b%' ORDER BY `id`")
    assert answer.to_pyarrow().column("id").to_pylist() == [50, 51, 52]


def test_append_to_a_non_empty_dataset_keeps_its_rows(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    dataset.upload(pa.table({"id": [1], "code": ["kept"]}))
    upload = uploads.start()
    uploads.part(upload, 2, _csv(range(5, 7), "n"))
    uploads.part(upload, 1, _csv(range(3, 5), "n"))
    assert uploads.commit(upload, action="APPEND")[0] == 200
    assert _stored(dataset) == [(1, "kept"), *_expected((range(3, 7), "n"))]


def test_uploads_open_side_by_side_see_only_their_own_parts(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    first, second, third = uploads.start(), uploads.start(), uploads.start()
    uploads.part(first, 1, _csv(range(0, 3), "f"))
    uploads.part(second, 1, _csv(range(10, 12), "s"))
    uploads.part(third, 1, _csv(range(20, 22), "t"))
    uploads.part(first, 2, _csv(range(3, 5), "f"))
    # The second replaces everything while the others are open: their parts wait on.
    assert uploads.commit(second, action="REPLACE")[0] == 200
    assert _stored(dataset) == _expected((range(10, 12), "s"))
    assert uploads.commit(first, action="APPEND")[0] == 200
    assert _stored(dataset) == _expected((range(10, 12), "s"), (range(0, 5), "f"))
    # The third's part waited through both commits; its own commit brings it.
    assert uploads.commit(third, action="APPEND")[0] == 200
    assert _stored(dataset) == _expected(
        (range(10, 12), "s"), (range(0, 5), "f"), (range(20, 22), "t")
    )
    # A committed upload takes no more parts and no second commit.
    assert uploads.part(third, 2, _csv(range(30, 31), "t"))[0] == 409
    assert uploads.commit(third, action="APPEND")[0] == 409
    assert dataset.metadata()["rowCount"] == 9


def test_empty_replace_empties_the_dataset(dataset: dd.Dataset, uploads: Uploads) -> None:
    dataset.upload(pa.table({"id": [1, 2], "code": ["a", "b"]}))
    upload = uploads.start()
    assert uploads.commit(upload, action="REPLACE")[0] == 200
    assert _stored(dataset) == []
    assert dataset.metadata()["rowCount"] == 0


def test_a_bad_part_leaves_the_staged_ones_and_the_data_as_they_were(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    dataset.upload(pa.table({"id": [9], "code": ["before"]}))
    upload = uploads.start()
    uploads.part(upload, 1, _csv(range(0, 2), "ok"))
    status, answer = uploads.part(upload, 2, "3,fine\nnot-a-number,bad\n")
    assert status == 400 and "line 2" in json.dumps(answer)
    assert _stored(dataset) == [(9, "before")]
    # The part is sent again, right this time; the upload goes on.
    assert uploads.part(upload, 2, _csv(range(2, 4), "ok"))[0] == 200
    assert uploads.commit(upload, action="REPLACE")[0] == 200
    assert _stored(dataset) == _expected((range(0, 4), "ok"))


def test_part_numbers_past_the_limit_are_refused(uploads: Uploads) -> None:
    upload = uploads.start()
    status, answer = uploads.part(upload, 2**31, "1,a\n")
    assert status == 400 and "2147483647" in json.dumps(answer)
    assert uploads.part(upload, 2**31 - 1, "1,a\n")[0] == 200


def test_commit_without_index_waits_for_the_index(
    dataset: dd.Dataset, uploads: Uploads, domo_client: dd.Client
) -> None:
    dataset.upload(pa.table({"id": [1], "code": ["old"]}))
    upload = uploads.start()
    uploads.part(upload, 1, _csv(range(5, 8), "new"))
    assert uploads.commit(upload, action="REPLACE", index=False)[0] == 200
    assert _stored(dataset) == [(1, "old")]
    dataset.index()
    assert _stored(dataset) == _expected((range(5, 8), "new"))


def test_public_schema_change_carries_an_open_uploads_parts(
    dataset: dd.Dataset, uploads: Uploads, domo_emulator: LocalDomo
) -> None:
    dataset.upload(pa.table({"id": [7], "code": ["seven"]}))
    upload = uploads.start()
    uploads.part(upload, 1, _csv(range(0, 2), "p"))
    # The public API's dataset update (what pydomo's ds_update sends) changes the schema.
    columns = [
        {"name": n, "type": t} for n, t in [("id", "LONG"), ("code", "STRING"), ("x", "DOUBLE")]
    ]
    status, answer = _raw(
        domo_emulator,
        "PUT",
        f"/v1/datasets/{dataset.id}",
        {"schema": {"columns": columns}},
        {
            "Authorization": f"Bearer {_access_token(domo_emulator)}",
            "Content-Type": "application/json",
        },
    )
    assert status == 200, answer
    assert pa.table(dataset.export()).to_pylist() == [{"id": 7, "code": "seven", "x": None}]
    assert uploads.commit(upload, action="APPEND")[0] == 200
    assert pa.table(dataset.export()).to_pylist() == [
        {"id": 7, "code": "seven", "x": None},
        {"id": 0, "code": "p0", "x": None},
        {"id": 1, "code": "p1", "x": None},
    ]


def test_alter_schema_ends_open_uploads_and_converts_the_data(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    dataset.upload(pa.table({"id": [7], "code": ["seven"]}))
    upload = uploads.start()
    uploads.part(upload, 1, _csv(range(0, 2), "p"))
    dataset.alter_schema({"id": "DOUBLE", "code": "STRING"})
    # Parts staged for the old schema go with their upload.
    assert uploads.commit(upload, action="REPLACE")[0] == 409
    assert pa.table(dataset.export()).to_pylist() == [{"id": 7.0, "code": "seven"}]


def test_alter_schema_keeps_and_converts_an_upload_waiting_for_its_index(
    dataset: dd.Dataset, uploads: Uploads
) -> None:
    dataset.upload(pa.table({"id": [7], "code": ["seven"]}))
    upload = uploads.start()
    uploads.part(upload, 2, _csv(range(2, 4), "w"))
    uploads.part(upload, 1, _csv(range(0, 2), "w"))
    assert uploads.commit(upload, action="REPLACE", index=False)[0] == 200
    dataset.alter_schema({"id": "DOUBLE", "code": "STRING"})
    assert pa.table(dataset.export()).to_pylist() == [{"id": 7.0, "code": "seven"}]
    # The committed upload was sent for the old schema; it is kept, converted, and its
    # REPLACE brings its rows when the dataset is indexed.
    dataset.index()
    assert pa.table(dataset.export()).to_pylist() == [
        {"id": 0.0, "code": "w0"},
        {"id": 1.0, "code": "w1"},
        {"id": 2.0, "code": "w2"},
        {"id": 3.0, "code": "w3"},
    ]


def _access_token(domo: LocalDomo) -> str:
    credentials = base64.b64encode(f"{domo.email}:{domo.password}".encode()).decode()
    status, answer = _raw(
        domo,
        "GET",
        "/oauth/token?grant_type=client_credentials&scope=data",
        "",
        {"Authorization": f"Basic {credentials}"},
    )
    assert status == 200, answer
    token: str = answer["access_token"]
    return token


@pytest.mark.parametrize("concurrency", [1, 2, 4])
@pytest.mark.parametrize("mode", ["replace", "append"])
def test_client_upload_in_many_concurrent_parts_keeps_row_order(
    dataset: dd.Dataset, mode: str, concurrency: int
) -> None:
    # About 2.5 MB of CSV in 64 KiB parts: some 40 parts, `concurrency` in flight at a time.
    ids = list(range(200_000))
    table = pa.table({"id": ids, "code": [f"r{i}" for i in ids]})
    dataset.upload(table, mode=mode, part_size=64 * 1024, concurrency=concurrency)
    assert _stored(dataset) == [(i, f"r{i}") for i in ids]


@pytest.mark.parametrize("concurrency", [1, 4])
async def test_async_upload_in_many_concurrent_parts_keeps_row_order(
    dataset: dd.Dataset, concurrency: int
) -> None:
    dataset.upload(pa.table({"id": [-1], "code": ["replaced"]}))
    ids = list(range(100_000))
    table = pa.table({"id": ids, "code": [f"r{i}" for i in ids]})
    await dataset.upload_async(table, mode="replace", part_size=64 * 1024, concurrency=concurrency)
    assert _stored(dataset) == [(i, f"r{i}") for i in ids]


class Executions:
    """The public API's stream execution routes for one dataset's stream, over raw HTTP."""

    def __init__(self, domo: LocalDomo, dataset: dd.Dataset) -> None:
        self.domo = domo
        self.base = f"/v1/streams/{dataset.stream().id}/executions"
        self.token = _access_token(domo)

    def _send(self, method: str, path: str, body: Any, content_type: str) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": content_type}
        return _raw(self.domo, method, self.base + path, body, headers)

    def start(self) -> int:
        status, answer = self._send("POST", "", {}, "application/json")
        assert status in (200, 201), answer
        execution: int = answer["id"]
        return execution

    def part(self, execution: int, part: int, csv: str) -> tuple[int, Any]:
        return self._send("PUT", f"/{execution}/part/{part}", csv, "text/csv")

    def commit(self, execution: int) -> tuple[int, Any]:
        return self._send("PUT", f"/{execution}/commit", {}, "application/json")


def test_stream_execution_parts_land_in_part_order(
    dataset: dd.Dataset, domo_emulator: LocalDomo
) -> None:
    dataset.upload(pa.table({"id": [-1], "code": ["old"]}))
    executions = Executions(domo_emulator, dataset)
    execution = executions.start()
    assert executions.part(execution, 3, _csv(range(20, 30), "c"))[0] == 200
    assert executions.part(execution, 1, _csv(range(0, 5), "wrong"))[0] == 200
    assert executions.part(execution, 2, _csv(range(10, 20), "b"))[0] == 200
    assert executions.part(execution, 1, _csv(range(0, 10), "a"))[0] == 200
    status, answer = executions.part(execution, 4, "1,x\nnot a number,y\n")
    assert status == 400, answer
    assert executions.commit(execution)[0] == 200
    # The stream replaces (its default update method) with parts 1-3, part 1 as re-sent.
    assert _stored(dataset) == _expected(
        (range(0, 10), "a"), (range(10, 20), "b"), (range(20, 30), "c")
    )
    status, answer = executions.part(execution, 5, _csv(range(90, 91), "late"))
    assert status == 409, answer
    assert "committed" in json.dumps(answer)
    assert _stored(dataset)[-1] == (29, "c29")

"""Testing aids: a client keeps its LocalDomo alive, and emulator snapshots give a
seed-once, restore-before-each-test pattern (also through the pytest plugin's marker)."""

from __future__ import annotations

import gc
import weakref

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets.testing import LocalDomo


def test_a_client_keeps_its_local_domo_alive() -> None:
    # No retries: a stopped emulator would fail the first call at once.
    client = LocalDomo().client(max_retries=0)
    gc.collect()
    ds = client.create_dataset("kept", {"x": "LONG"})
    ds.upload(pa.table({"x": pa.array([1, 2], pa.int64())}))
    assert ds.query("SELECT SUM(`x`) AS s FROM table").to_pyarrow().to_pylist() == [{"s": 3}]


async def test_a_client_keeps_its_local_domo_alive_async() -> None:
    client = LocalDomo().client(max_retries=0)
    gc.collect()
    ds = await client.create_dataset_async("kept", {"x": "LONG"})
    assert await ds.schema_async() == [{"name": "x", "type": "LONG"}]


def test_the_local_domo_goes_with_its_last_client() -> None:
    domo = LocalDomo()
    alive = weakref.ref(domo)
    client = domo.client()
    del domo
    gc.collect()
    assert alive() is not None
    del client
    gc.collect()
    assert alive() is None


def test_stop_still_stops_a_local_domo_with_clients() -> None:
    domo = LocalDomo()
    client = domo.client(max_retries=0)
    domo.stop()
    with pytest.raises(dd.TransportError):
        client.create_dataset("late", {"x": "LONG"})


def _seed(client: dd.Client) -> dd.Dataset:
    ds = client.create_dataset("sales", {"region": "STRING", "n": "LONG"})
    ds.upload(pa.table({"region": ["east", "west"], "n": pa.array([1, 2], pa.int64())}))
    ds.upload(pa.table({"region": ["north"], "n": pa.array([4], pa.int64())}), partition="p1")
    return ds


def _total(ds: dd.Dataset) -> int:
    rows = ds.query("SELECT SUM(`n`) AS s FROM table").to_pyarrow().to_pylist()
    return int(rows[0]["s"])


def test_restore_puts_back_the_snapshot() -> None:
    with LocalDomo() as domo:
        client = domo.client()
        ds = _seed(client)
        versions = ds.data_versions()
        domo.snapshot("seeded")

        ds.upload(pa.table({"region": ["south"], "n": pa.array([8], pa.int64())}), mode="replace")
        other = client.create_dataset("other", {"x": "LONG"})
        domo.inject_fault("/api/data/v3/datasources/*", method="GET", status=500)
        assert _total(ds) == 8

        domo.restore("seeded")
        assert _total(ds) == 1 + 2 + 4
        assert ds.data_versions() == versions
        assert [d["name"] for d in domo.state()["datasets"]] == ["sales"]
        with pytest.raises(dd.NotFoundError):
            other.schema()
        assert domo.state()["faults"] == []
        # Restored twice, the same state; new datasets and uploads still work.
        domo.restore("seeded")
        again = client.create_dataset("after", {"x": "LONG"})
        assert again.id != ds.id
        again.upload(pa.table({"x": pa.array([5], pa.int64())}))
        assert _total(ds) == 7


async def test_restore_async_clients_see_the_snapshot() -> None:
    with LocalDomo() as domo:
        client = domo.client()
        ds = _seed(client)
        domo.snapshot()
        await ds.delete_async()
        domo.restore()
        assert (await ds.schema_async())[0]["name"] == "region"


def test_snapshot_names_are_checked() -> None:
    with LocalDomo() as domo:
        with pytest.raises(RuntimeError, match="snapshot name"):
            domo.snapshot("../escape")
        with pytest.raises(RuntimeError, match="no snapshot named"):
            domo.restore("never-saved")


def test_the_seed_once_pattern_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pyarrow as pa
        import pytest

        pytestmark = pytest.mark.domo_snapshot("sales")

        @pytest.fixture(scope="module", autouse=True)
        def seed_sales(domo_emulator):
            domo_emulator.reset()
            ds = domo_emulator.client().create_dataset("sales", {"region": "STRING"})
            ds.upload({"region": ["east", "west"]})
            domo_emulator.snapshot("sales")

        def _ds(domo_client):
            (summary,) = domo_client.datasets()
            return domo_client.dataset(summary["id"])

        def test_delete(domo_client):
            _ds(domo_client).delete()
            assert domo_client.datasets() == []

        def test_append(domo_client):
            ds = _ds(domo_client)
            ds.upload({"region": ["north"]})
            assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [
                {"n": 3}
            ]

        def test_still_seeded(domo_client):
            ds = _ds(domo_client)
            assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [
                {"n": 2}
            ]

        @pytest.mark.domo_snapshot("missing")
        def test_unknown_snapshot_fails(domo_client):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*no snapshot named*missing*"])

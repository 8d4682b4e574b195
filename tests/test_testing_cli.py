"""LocalDomo, the pytest plugin, and the ``domo-datasets`` command line."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import domo_datasets as dd
import pyarrow as pa
import pytest
from domo_datasets import testing
from domo_datasets._domo import Emulator
from domo_datasets.testing import LocalDomo
from support import CREATE_PATH, PART_PATH, QUERY_PATH

# -- LocalDomo -----------------------------------------------------------------------------


def _free_port() -> int:
    """A TCP port on loopback that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def test_local_domo_context_manager() -> None:
    with LocalDomo() as domo:
        assert domo.url.startswith("http://127.0.0.1:")
        assert domo.port > 0 and domo.url.endswith(f":{domo.port}")
        # The documented defaults, written out: the one definition is the emulator's.
        assert (domo.token, domo.email, domo.password) == (
            "local-domo-token",
            "admin@local.domo",
            "local-domo-password",
        )
        assert domo.token not in repr(domo)
        client = domo.client()
        ds = client.create_dataset("lm", {"x": "LONG"})
        ds.upload(pa.table({"x": pa.array([1, 2], pa.int64())}))
        assert ds.query("SELECT SUM(`x`) AS s FROM table").to_pyarrow().to_pylist() == [{"s": 3}]
        url = domo.url
    # Stopped: nothing listens any more.
    late = dd.Client(url, token=Emulator.DEFAULT_TOKEN, max_retries=0, connect_timeout=2)
    with pytest.raises(dd.TransportError):
        late.dataset(ds.id).metadata()
    domo.stop()  # idempotent


def test_local_domo_custom_credentials_and_fixed_port() -> None:
    port = _free_port()
    with LocalDomo(port=port, token="custom-tok", email="me@x.io", password="pw") as domo:
        assert domo.port == port
        assert domo.token == "custom-tok"
        ds = domo.client().create_dataset("c", {"x": "LONG"})
        logged_in = dd.Client.login(domo.url, "me@x.io", "pw")
        assert logged_in.dataset(ds.id).metadata()["id"] == ds.id
        with pytest.raises(dd.AuthError):
            dd.Client(domo.url, token=Emulator.DEFAULT_TOKEN).dataset(ds.id).metadata()


def test_local_domo_persists_with_data_dir(tmp_path: Path) -> None:
    table = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "s": ["a", None, "c,d"]})
    with LocalDomo(data_dir=tmp_path) as first:
        ds = first.client().create_dataset("durable", {"id": "LONG", "s": "STRING"})
        ds.upload(table)
        ds_id = ds.id
    with LocalDomo(data_dir=str(tmp_path)) as second:
        [held] = second.state()["datasets"]
        assert (held["id"], held["name"], held["rowCount"]) == (ds_id, "durable", 3)
        got = second.client().dataset(ds_id).query("SELECT * FROM table ORDER BY `id`")
        assert got.to_pyarrow().equals(table)


def test_local_domo_state_faults_and_request_log(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("logged", {"x": "LONG"})
    ds.upload(pa.table({"x": pa.array([5], pa.int64())}))
    domo_emulator.inject_fault(QUERY_PATH, method="POST", status=400, count=1, skip=1)
    state = domo_emulator.state()
    [held] = state["datasets"]
    assert held["rowCount"] == 1
    assert held["schema"]
    assert len(state["faults"]) == 1

    ds.query("SELECT 1 FROM table")  # skipped by the rule
    with pytest.raises(dd.BadRequestError):
        ds.query("SELECT 1 FROM table")  # faulted
    ds.query("SELECT 1 FROM table")  # rule used up

    assert [e["status"] for e in domo_emulator.requests(QUERY_PATH)] == [200, 400, 200]
    assert domo_emulator.requests(QUERY_PATH, method="GET") == []
    assert len(domo_emulator.requests("/api/**/parts/*", method="put")) == len(
        domo_emulator.requests(PART_PATH)
    )
    assert domo_emulator.requests(CREATE_PATH)[0]["method"] == "POST"
    domo_emulator.clear_requests()
    assert domo_emulator.requests() == []
    domo_emulator.inject_fault(QUERY_PATH, status=500, count=5)
    domo_emulator.clear_faults()
    assert domo_emulator.state()["faults"] == []
    ds.query("SELECT 1 FROM table")
    domo_emulator.reset()
    assert domo_emulator.state()["datasets"] == []
    with pytest.raises(dd.NotFoundError):
        ds.metadata()


# -- the pytest plugin ---------------------------------------------------------------------------


def test_plugin_is_registered_by_entry_point(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.pluginmanager.get_plugin("domo_datasets") is testing


def test_domo_client_fixture_starts_empty(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    assert isinstance(domo_client, dd.Client)
    assert isinstance(domo_emulator, LocalDomo)
    assert domo_client.base_url == domo_emulator.url.rstrip("/")
    assert domo_emulator.state()["datasets"] == []
    assert domo_emulator.state()["faults"] == []
    assert domo_emulator.requests() == []


def test_plugin_works_in_a_users_project(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pyarrow as pa

        def test_pipeline(domo_client, domo_emulator):
            ds = domo_client.create_dataset("sales", {"region": "STRING", "n": "LONG"})
            ds.upload(pa.table({"region": ["a", "b"], "n": pa.array([1, 2], pa.int64())}))
            got = ds.query("SELECT SUM(`n`) AS total FROM table").to_pyarrow()
            assert got.to_pylist() == [{"total": 3}]
            assert domo_emulator.state()["datasets"][0]["rowCount"] == 2

        def test_isolated(domo_client, domo_emulator):
            assert domo_emulator.state()["datasets"] == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=2)


# -- the command line ------------------------------------------------------------------------------


DEMO = [sys.executable, "-m", "domo_datasets", "demo"]


def _cli_env() -> dict[str, str]:
    """The environment for CLI subprocesses, without a real instance configured."""
    env = {k: v for k, v in os.environ.items() if k not in ("DOMO_INSTANCE", "DOMO_TOKEN")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _console_script() -> str:
    """Path of the installed ``domo-datasets`` console script."""
    found = shutil.which("domo-datasets", path=str(Path(sys.executable).parent))
    found = found or shutil.which("domo-datasets")
    assert found, "the domo-datasets console script is not installed"
    return found


def _wait_for_port(port: int, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Wait until something accepts connections on ``port`` (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"serve exited early with {proc.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listening on port {port} after {timeout} s")


@pytest.mark.timeout(60)
def test_cli_serve(tmp_path: Path) -> None:
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "domo_datasets",
            "serve",
            "--port",
            str(port),
            "--token",
            "serve-token",
            "--data-dir",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_cli_env(),
    )
    try:
        _wait_for_port(port, proc)
        client = dd.Client(f"http://127.0.0.1:{port}", token="serve-token")
        ds = client.create_dataset("served", {"x": "LONG"})
        ds.upload(pa.table({"x": pa.array([1, 2, 3], pa.int64())}))
        assert ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().to_pylist() == [{"n": 3}]
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert f"http://127.0.0.1:{port}" in out
    assert "serve-token" in out
    assert Emulator.DEFAULT_EMAIL in out

    # --data-dir kept the dataset.
    with LocalDomo(data_dir=tmp_path, token="serve-token") as domo:
        [held] = domo.state()["datasets"]
        assert (held["name"], held["rowCount"]) == ("served", 3)


def test_cli_serve_port_in_use_fails_cleanly() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "domo_datasets", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env=_cli_env(),
            check=False,
        )
    assert proc.returncode != 0
    assert "error" in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


@pytest.mark.timeout(120)
def test_cli_demo_with_embedded_emulator() -> None:
    proc = subprocess.run(
        [_console_script(), "demo", "--rows", "2000"],
        capture_output=True,
        text=True,
        timeout=110,
        env=_cli_env(),
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Uploaded 2,000 rows" in out
    assert "Revenue by region" in out
    for region in ("North", "South", "East", "West", "Central"):
        assert region in out
    assert "Top 5 orders" in out
    assert "Exported 2,000 rows" in out
    assert "(5 rows)" in out  # the regions table


@pytest.mark.timeout(120)
def test_cli_demo_against_an_instance(domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    env = _cli_env()
    env["DOMO_TOKEN"] = domo_emulator.token
    proc = subprocess.run(
        [*DEMO, "--rows", "500", "--instance", domo_emulator.url],
        capture_output=True,
        text=True,
        timeout=110,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    [held] = domo_emulator.state()["datasets"]
    assert held["name"].startswith("domo-datasets demo ")
    assert held["rowCount"] == 500
    assert {e["auth"] for e in domo_emulator.requests()} == {"developer"}


def test_cli_demo_wrong_token_fails_with_message(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    proc = subprocess.run(
        [*DEMO, "--rows", "10", "--instance", domo_emulator.url, "--token", "wrong-demo-token"],
        capture_output=True,
        text=True,
        timeout=60,
        env=_cli_env(),
        check=False,
    )
    assert proc.returncode == 1
    assert "AuthError" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "wrong-demo-token" not in proc.stdout + proc.stderr


def test_cli_main_in_process_version(capsys: pytest.CaptureFixture[str]) -> None:
    from domo_datasets.cli import main

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert dd.__version__ in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main([])
    assert info.value.code == 2

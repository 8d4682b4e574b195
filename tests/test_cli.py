"""The ``domo-datasets`` command line, run as a subprocess against the emulator.

Credentials reach the CLI through flags, the environment or a profile file; every command
is run, with its failures. Expected values are written out by hand from the data the tests
put in. No token ever shows in the CLI's output.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import domo_datasets as dd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from domo_datasets.testing import LocalDomo

SCHEMA = {"id": "LONG", "region": "STRING", "amount": "DECIMAL", "day": "DATE", "at": "DATETIME"}
CSV_TEXT = (
    "id,region,amount,day,at\n"
    "1,North,1.50,2024-01-02,2024-01-02 03:04:05\n"
    "2,South,,2024-02-03,\n"
    '3,"a,b",10,2024-03-04,2024-03-04T00:00:00\n'
)
"""Three rows: a decimal with a trailing zero, nulls, and a comma inside a string."""

_CRED_VARS = ("DOMO_INSTANCE", "DOMO_TOKEN", "DOMO_CLIENT_ID", "DOMO_CLIENT_SECRET")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """An environment with no Domo credentials and an empty config home, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in _CRED_VARS}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m domo_datasets ARGS``."""
    return subprocess.run(
        [sys.executable, "-m", "domo_datasets", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


class Cli:
    """The CLI pointed at one emulator through the environment (DOMO_INSTANCE/TOKEN)."""

    def __init__(self, domo: LocalDomo, tmp_path: Path) -> None:
        self.domo = domo
        self.tmp = tmp_path
        self.env = _env(tmp_path, DOMO_INSTANCE=domo.url, DOMO_TOKEN=domo.token)

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = run_cli(*args, env=self.env)
        # No token in anything the CLI prints, whatever happened.
        assert self.domo.token not in done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def ok(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = self(*args)
        assert done.returncode == 0, done.stderr
        return done


@pytest.fixture
def cli(domo_client: dd.Client, domo_emulator: LocalDomo, tmp_path: Path) -> Cli:
    return Cli(domo_emulator, tmp_path)


@pytest.fixture
def sales(domo_client: dd.Client, tmp_path: Path) -> dd.Dataset:
    """The dataset "sales" holding the three rows of ``CSV_TEXT``."""
    ds = domo_client.create_dataset("sales", SCHEMA)
    path = tmp_path / "sales.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    ds.upload(path, mode="replace")
    return ds


# -- credentials --------------------------------------------------------------------------


def test_credentials_from_flags(
    domo_client: dd.Client, domo_emulator: LocalDomo, sales: dd.Dataset, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    for flags in (
        ["--url", domo_emulator.url, "--token", domo_emulator.token],
        ["--instance", domo_emulator.url, f"--token={domo_emulator.token}"],
    ):
        done = run_cli("ls", *flags, env=env)
        assert done.returncode == 0, done.stderr
        assert "sales" in done.stdout
        assert domo_emulator.token not in done.stdout + done.stderr
    # A token from the environment goes with a URL from the flags.
    done = run_cli(
        "ls", "--url", domo_emulator.url, env=_env(tmp_path, DOMO_TOKEN=domo_emulator.token)
    )
    assert done.returncode == 0, done.stderr


def test_credentials_from_a_profile_file(
    domo_client: dd.Client, domo_emulator: LocalDomo, sales: dd.Dataset, tmp_path: Path
) -> None:
    config = tmp_path / "config" / "domo-datasets"
    config.mkdir(parents=True)
    (config / "config.toml").write_text(
        f'[local]\nurl = "{domo_emulator.url}"\ntoken = "{domo_emulator.token}"\n\n'
        '[other]\ninstance = "acme"\ntoken = "never-used-token"\n',
        encoding="utf-8",
    )
    env = _env(tmp_path)
    done = run_cli("schema", "sales", "--profile", "local", env=env)
    assert done.returncode == 0, done.stderr
    assert "amount  DECIMAL" in done.stdout
    # Without --profile and without a "default" profile there are no credentials.
    done = run_cli("schema", "sales", env=env)
    assert done.returncode == 2
    assert "--profile" in done.stderr
    # A "default" profile is used when nothing else names credentials.
    text = (config / "config.toml").read_text(encoding="utf-8").replace("[local]", "[default]")
    (config / "config.toml").write_text(text, encoding="utf-8")
    done = run_cli("schema", "sales", env=env)
    assert done.returncode == 0, done.stderr
    # An unknown profile is a usage error that lists the known ones.
    done = run_cli("schema", "sales", "--profile", "nope", env=env)
    assert done.returncode == 2
    assert "default" in done.stderr and "other" in done.stderr
    for out in (done.stdout, done.stderr):
        assert domo_emulator.token not in out and "never-used-token" not in out


def test_missing_or_partial_credentials_are_usage_errors(tmp_path: Path) -> None:
    done = run_cli("ls", env=_env(tmp_path))
    assert done.returncode == 2
    assert "DOMO_INSTANCE" in done.stderr and "--token" in done.stderr
    done = run_cli("ls", env=_env(tmp_path, DOMO_INSTANCE="acme"))
    assert done.returncode == 2
    assert "DOMO_TOKEN" in done.stderr
    done = run_cli("ls", env=_env(tmp_path, DOMO_CLIENT_SECRET="oauth-secret-value"))
    assert done.returncode == 2
    assert "OAuth" in done.stderr and "DOMO_CLIENT_ID" in done.stderr
    assert "oauth-secret-value" not in done.stderr
    done = run_cli("ls", "--profile", "x", env=_env(tmp_path))
    assert done.returncode == 2
    assert "config.toml" in done.stderr


def test_wrong_token_is_a_domo_error_and_never_printed(
    domo_client: dd.Client, domo_emulator: LocalDomo, tmp_path: Path
) -> None:
    env = _env(tmp_path)
    done = run_cli("ls", "--url", domo_emulator.url, "--token", "wrong-cli-token", env=env)
    assert done.returncode == 1
    assert "AuthError" in done.stderr
    assert "status: 401" in done.stderr
    assert "wrong-cli-token" not in done.stdout + done.stderr
    # A mistyped command line that echoes its arguments does not echo the token either.
    done = run_cli("ls", "--url", domo_emulator.url, "--token", "wrong-cli-token", "extra", env=env)
    assert done.returncode == 2
    assert "wrong-cli-token" not in done.stdout + done.stderr


# -- query --------------------------------------------------------------------------------


def test_query_csv_is_the_default_off_a_terminal(cli: Cli, sales: dd.Dataset) -> None:
    done = cli.ok("query", sales.id, "SELECT * FROM table ORDER BY `id`")
    assert done.stdout == (
        "id,region,amount,day,at\n"
        "1,North,1.5,2024-01-02,2024-01-02T03:04:05\n"
        "2,South,,2024-02-03,\n"
        '3,"a,b",10,2024-03-04,2024-03-04T00:00:00\n'
    )


def test_query_table_shows_first_rows_and_the_count(cli: Cli, sales: dd.Dataset) -> None:
    done = cli.ok(
        "query", "sales", "SELECT `id`, `region` FROM table ORDER BY `id`", "--format", "table"
    )
    assert done.stdout.splitlines() == [
        "id  region",
        "--  ------",
        " 1  North",
        " 2  South",
        " 3  a,b",
        "(3 rows)",
    ]
    done = cli.ok(
        "query",
        sales.id,
        "SELECT `id` FROM table ORDER BY `id`",
        "--format",
        "table",
        "--max-rows",
        "2",
    )
    assert done.stdout.splitlines()[-3:] == [" 1", " 2", "(3 rows, first 2 shown)"]


def test_query_json(cli: Cli, sales: dd.Dataset) -> None:
    done = cli.ok("query", sales.id, "SELECT * FROM table ORDER BY `id`", "--format", "json")
    assert json.loads(done.stdout) == [
        {
            "id": 1,
            "region": "North",
            "amount": 1.5,
            "day": "2024-01-02",
            "at": "2024-01-02T03:04:05",
        },
        {"id": 2, "region": "South", "amount": None, "day": "2024-02-03", "at": None},
        {"id": 3, "region": "a,b", "amount": 10, "day": "2024-03-04", "at": "2024-03-04T00:00:00"},
    ]


@pytest.mark.parametrize(("suffix", "fmt"), [(".parquet", "parquet"), (".arrow", "arrow")])
def test_query_to_a_file(cli: Cli, sales: dd.Dataset, suffix: str, fmt: str) -> None:
    out = cli.tmp / f"result{suffix}"
    done = cli.ok(
        "query", sales.id, "SELECT `id`, `region` FROM table ORDER BY `id`", "-o", str(out)
    )
    assert done.stdout == ""
    assert "3 rows" in done.stderr
    table = pq.read_table(out) if fmt == "parquet" else pa.ipc.open_file(out).read_all()
    assert table.to_pydict() == {"id": [1, 2, 3], "region": ["North", "South", "a,b"]}
    csv_out = cli.tmp / "result.csv"
    cli.ok("query", sales.id, "SELECT COUNT(*) AS n FROM table", "-o", str(csv_out))
    assert csv_out.read_text(encoding="utf-8") == "n\n3\n"


def test_query_failures(cli: Cli, sales: dd.Dataset) -> None:
    done = cli("query", sales.id, "SELECT `nope` FROM table")
    assert done.returncode == 1
    assert "BadRequestError" in done.stderr
    assert "status: 400" in done.stderr
    assert "nope" in done.stderr
    assert "toe: " in done.stderr
    done = cli("query", "00000000-0000-4000-8000-000000000000", "SELECT 1 FROM table")
    assert done.returncode == 1
    assert "NotFoundError" in done.stderr and "status: 404" in done.stderr
    done = cli("query", "no such dataset", "SELECT 1 FROM table")
    assert done.returncode == 1
    assert "NotFoundError" in done.stderr and "no such dataset" in done.stderr
    done = cli("query", sales.id, "SELECT 1 FROM table", "--format", "parquet")
    assert done.returncode == 2
    assert "-o FILE" in done.stderr
    done = cli("query", sales.id)
    assert done.returncode == 2
    done = cli("query", sales.id, "  ")
    assert done.returncode == 2
    assert "empty" in done.stderr


# -- export -------------------------------------------------------------------------------


def test_export_csv_is_domos_csv_undecoded(cli: Cli, sales: dd.Dataset) -> None:
    out = cli.tmp / "export.csv"
    done = cli.ok("export", sales.id, "-o", str(out), "--progress")
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    # Domo's export writes nulls as \N and the values as stored.
    assert rows == [
        ["id", "region", "amount", "day", "at"],
        ["1", "North", "1.5", "2024-01-02", "2024-01-02T03:04:05"],
        ["2", "South", "\\N", "2024-02-03", "\\N"],
        ["3", "a,b", "10", "2024-03-04", "2024-03-04T00:00:00"],
    ]
    assert "export " in done.stderr and "MB" in done.stderr  # the progress bar
    assert f"{out.stat().st_size:,} bytes" in done.stderr


@pytest.mark.parametrize("suffix", [".parquet", ".arrow"])
def test_export_parquet_and_arrow(cli: Cli, sales: dd.Dataset, suffix: str) -> None:
    out = cli.tmp / f"export{suffix}"
    done = cli.ok("export", "sales", "-o", str(out), "--progress")
    assert "100%" in done.stderr and "3 rows/3 rows" in done.stderr
    table = pq.read_table(out) if suffix == ".parquet" else pa.ipc.open_file(out).read_all()
    assert table.column_names == ["id", "region", "amount", "day", "at"]
    rows = table.sort_by("id").to_pylist()
    assert [r["id"] for r in rows] == [1, 2, 3]
    assert [r["region"] for r in rows] == ["North", "South", "a,b"]
    assert [None if r["amount"] is None else str(r["amount"].normalize()) for r in rows] == [
        "1.5",
        None,
        "1E+1",
    ]
    assert rows[1]["at"] is None and str(rows[0]["day"]) == "2024-01-02"


def test_export_failures(cli: Cli, sales: dd.Dataset) -> None:
    done = cli("export", "00000000-0000-4000-8000-000000000000", "-o", str(cli.tmp / "x.csv"))
    assert done.returncode == 1
    assert "status: 404" in done.stderr
    assert not (cli.tmp / "x.csv").exists()
    done = cli("export", sales.id)
    assert done.returncode == 2
    done = cli("export", sales.id, "-o", str(cli.tmp / "x.json"), "--format", "json")
    assert done.returncode == 2


# -- upload -------------------------------------------------------------------------------


def _count(ds: dd.Dataset) -> int:
    return int(ds.query("SELECT COUNT(*) AS n FROM table").to_pyarrow().column("n")[0].as_py())


def test_upload_csv_append_and_replace(cli: Cli, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("target", SCHEMA)
    path = cli.tmp / "in.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    done = cli.ok("upload", ds.id, str(path), "--progress")
    assert "Uploaded 3 rows (append)" in done.stderr
    assert "upload 3 rows" in done.stderr  # the progress bar
    cli.ok("upload", "target", str(path))
    assert _count(ds) == 6
    cli.ok("upload", ds.id, str(path), "--mode", "replace")
    assert _count(ds) == 3
    got = ds.query("SELECT `region` FROM table ORDER BY `id`").to_pyarrow()
    assert got.column("region").to_pylist() == ["North", "South", "a,b"]


def test_upload_parquet_and_arrow(cli: Cli, domo_client: dd.Client) -> None:
    ds = domo_client.create_dataset("small", {"id": "LONG", "name": "STRING"})
    table = pa.table({"id": pa.array([1, 2, 3, 4], pa.int64()), "name": ["a", None, "c", "d"]})
    pq.write_table(table, cli.tmp / "in.parquet", row_group_size=2)
    with (
        pa.OSFile(str(cli.tmp / "in.arrow"), "wb") as sink,
        pa.ipc.new_file(sink, table.schema) as writer,
    ):
        writer.write_table(table, max_chunksize=3)
    with (
        pa.OSFile(str(cli.tmp / "in.arrows"), "wb") as sink,
        pa.ipc.new_stream(sink, table.schema) as writer,
    ):
        writer.write_table(table)
    done = cli.ok("upload", ds.id, str(cli.tmp / "in.parquet"), "--mode", "replace", "--progress")
    assert "100%" in done.stderr and "4 rows/4 rows" in done.stderr
    cli.ok("upload", ds.id, str(cli.tmp / "in.arrow"))
    cli.ok("upload", ds.id, str(cli.tmp / "in.arrows"))
    got = ds.query("SELECT `id`, `name` FROM table ORDER BY `id`, `name`").to_pyarrow()
    assert got.column("id").to_pylist() == [1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4]
    assert got.column("name").to_pylist().count(None) == 3


def test_upload_partition_restates_with_append(
    cli: Cli, domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    ds = domo_client.create_dataset("parts", {"id": "LONG", "name": "STRING"})
    first = cli.tmp / "p.csv"
    first.write_text("id,name\n1,a\n2,b\n", encoding="utf-8")
    other = cli.tmp / "q.csv"
    other.write_text("id,name\n9,z\n", encoding="utf-8")
    cli.ok("upload", ds.id, str(first), "--partition", "2024-01")
    cli.ok("upload", ds.id, str(other), "--partition", "2024-02")
    domo_emulator.clear_requests()
    # Restating 2024-01 replaces its rows only.
    first.write_text("id,name\n3,c\n", encoding="utf-8")
    done = cli.ok("upload", ds.id, str(first), "--partition", "2024-01", "--mode", "append")
    assert "into partition '2024-01'" in done.stderr
    got = ds.query("SELECT `id` FROM table ORDER BY `id`").to_pyarrow()
    assert got.column("id").to_pylist() == [3, 9]
    commits = domo_emulator.requests("/api/data/v3/datasources/*/uploads/*/commit")
    assert len(commits) == 1
    # --partition never goes with replace: refused before anything is sent.
    domo_emulator.clear_requests()
    done = cli("upload", ds.id, str(first), "--partition", "2024-01", "--mode", "replace")
    assert done.returncode == 2
    assert "append" in done.stderr
    assert domo_emulator.requests() == []


def test_upload_failures(cli: Cli, domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("strict", {"id": "LONG", "name": "STRING"})
    bad = cli.tmp / "bad.csv"
    bad.write_text("id,name,extra\n1,a,x\n", encoding="utf-8")
    domo_emulator.clear_requests()
    done = cli("upload", ds.id, str(bad))
    assert done.returncode == 2  # the columns do not fit: refused before sending
    assert "extra" in done.stderr
    assert domo_emulator.requests("/api/data/v3/datasources/*/uploads**") == []
    done = cli("upload", ds.id, str(cli.tmp / "missing.csv"))
    assert done.returncode == 2
    assert "missing.csv" in done.stderr
    good = cli.tmp / "good.csv"
    good.write_text("id,name\n1,a\n", encoding="utf-8")
    domo_emulator.inject_fault(
        "/api/data/v3/datasources/*/uploads/*/commit", method="PUT", status=500, count=10
    )
    done = cli("upload", ds.id, str(good))
    assert done.returncode == 1
    assert "status: 500" in done.stderr
    assert _count(ds) == 0


# -- ls, schema, info ---------------------------------------------------------------------


def test_ls(cli: Cli, domo_client: dd.Client) -> None:
    ids = {name: domo_client.create_dataset(name, {"x": "LONG"}).id for name in ["beta", "alpha"]}
    done = cli.ok("ls", "--sort", "name")
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "rows", "columns", "last", "updated"]
    assert [line.split()[:4] for line in lines[2:4]] == [
        [ids["alpha"], "alpha", "0", "1"],
        [ids["beta"], "beta", "0", "1"],
    ]
    assert lines[-1] == "(2 datasets)"
    done = cli.ok("ls", "--name", "ALP", "--json")
    assert [(d["id"], d["name"]) for d in json.loads(done.stdout)] == [(ids["alpha"], "alpha")]
    assert cli.ok("ls", "--name", "gamma").stdout.splitlines()[-1] == "(0 datasets)"
    done = cli("ls", "--sort", "size")
    assert done.returncode == 2
    assert "sort" in done.stderr
    assert cli("ls", "--limit", "0").returncode == 2


def test_schema_and_info(cli: Cli, sales: dd.Dataset) -> None:
    done = cli.ok("schema", "sales")
    assert done.stdout.splitlines() == [
        "column  type",
        "------  --------",
        "id      LONG",
        "region  STRING",
        "amount  DECIMAL",
        "day     DATE",
        "at      DATETIME",
    ]
    assert json.loads(cli.ok("schema", sales.id, "--json").stdout) == [
        {"name": n, "type": t} for n, t in SCHEMA.items()
    ]
    info = dict(
        line.split(None, 1) if " " in line.strip() else (line.strip(), "")
        for line in cli.ok("info", sales.id).stdout.splitlines()
    )
    assert info["id"].strip() == sales.id
    assert info["name"].strip() == "sales"
    assert info["rows"].strip() == "3"
    assert info["columns"].strip() == "5"
    meta = json.loads(cli.ok("info", "sales", "--json").stdout)
    assert (meta["id"], meta["name"], meta["rowCount"]) == (sales.id, "sales", 3)
    assert cli("info", "00000000-0000-4000-8000-000000000000").returncode == 1
    assert cli("schema").returncode == 2


# -- create and delete --------------------------------------------------------------------


def test_create_from_a_schema_string_and_a_json_file(cli: Cli, domo_client: dd.Client) -> None:
    done = cli.ok("create", "made", "--schema", "id:long, name:STRING,when:DATETIME")
    ds_id = done.stdout.strip()
    ds = domo_client.dataset(ds_id)
    assert ds.schema() == [
        {"name": "id", "type": "LONG"},
        {"name": "name", "type": "STRING"},
        {"name": "when", "type": "DATETIME"},
    ]
    spec = cli.tmp / "schema.json"
    spec.write_text(json.dumps([{"name": "a b", "type": "DOUBLE"}]), encoding="utf-8")
    done = cli.ok("create", "from file", "--schema", str(spec), "--description", "described")
    meta = domo_client.dataset(done.stdout.strip()).metadata()
    assert (meta["name"], meta["description"]) == ("from file", "described")
    assert domo_client.dataset(meta["id"]).schema() == [{"name": "a b", "type": "DOUBLE"}]


def test_create_usage_errors(cli: Cli, domo_emulator: LocalDomo) -> None:
    domo_emulator.clear_requests()
    for schema in ("id", "id:NUMBER", "id:LONG,:STRING"):
        done = cli("create", "bad", "--schema", schema)
        assert done.returncode == 2, schema
    done = cli("create", "bad")
    assert done.returncode == 2
    done = cli("create", "dup", "--schema", "a:LONG,a:STRING")
    assert done.returncode == 2
    assert domo_emulator.requests() == []


def test_delete_needs_yes(cli: Cli, domo_client: dd.Client, domo_emulator: LocalDomo) -> None:
    ds = domo_client.create_dataset("doomed", {"x": "LONG"})
    domo_emulator.clear_requests()
    done = cli("delete", ds.id)
    assert done.returncode == 2
    assert "--yes" in done.stderr
    assert domo_emulator.requests() == []
    assert [d["id"] for d in domo_client.datasets()] == [ds.id]
    done = cli.ok("delete", "doomed", "--yes")
    assert ds.id in done.stderr
    assert domo_client.datasets() == []
    done = cli("delete", ds.id, "--yes")
    assert done.returncode == 1
    assert "NotFoundError" in done.stderr


def test_a_name_shared_by_two_datasets_lists_both(cli: Cli, domo_client: dd.Client) -> None:
    first = domo_client.create_dataset("twin", {"x": "LONG"}).id
    second = domo_client.create_dataset("twin", {"x": "LONG"}).id
    done = cli("schema", "twin")
    assert done.returncode == 2
    assert first in done.stderr and second in done.stderr


# -- the console script -------------------------------------------------------------------


def test_console_script_and_usage(tmp_path: Path) -> None:
    script = shutil.which("domo-datasets", path=str(Path(sys.executable).parent))
    assert script, "the domo-datasets console script is not installed"
    done = subprocess.run(
        [script, "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0
    for command in ("query", "export", "upload", "ls", "schema", "info", "create", "delete"):
        assert command in done.stdout
    assert run_cli("frobnicate", env=_env(tmp_path)).returncode == 2
    assert run_cli(env=_env(tmp_path)).returncode == 2


@pytest.mark.timeout(120)
def test_demo_takes_its_instance_from_the_environment(cli: Cli) -> None:
    done = cli.ok("demo", "--rows", "200")
    assert f"Using Domo instance {cli.domo.url}" in done.stdout
    [held] = cli.domo.state()["datasets"]
    assert held["name"].startswith("domo-datasets demo ")
    assert held["rowCount"] == 200

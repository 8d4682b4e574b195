"""The ``domo-datasets`` command line.

Commands that talk to Domo (``query``, ``export``, ``upload``, ``ls``, ``schema``,
``info``, ``create``, ``delete``) take credentials from ``--instance``/``--url`` and
``--token``, from a profile (``--profile NAME``, in
``$XDG_CONFIG_HOME/domo-datasets/config.toml``, default ``~/.config``), or from the
environment (``DOMO_INSTANCE``/``DOMO_TOKEN``, see ``Client.from_env``). A profile file
holds one table per profile; ``default`` is used when nothing else names credentials::

    [default]
    instance = "acme"
    token = "..."

    [local]
    url = "http://127.0.0.1:8080"
    token = "local-domo-token"

Data goes to stdout and messages to stderr. Exit status: 0 on success, 1 on a Domo or
transport error (its message, status and trace id ``toe`` are printed), 2 on a usage
error (nothing sent). No token is ever printed.

``domo-datasets serve``
    Run the local Domo emulator until Ctrl-C, e.g. for a notebook or another language's
    tests to talk to.
``domo-datasets demo``
    Create a dataset, upload generated rows, run SQL over them, print the results and
    export the data again, with timings. Uses an embedded emulator unless a real instance
    is given with ``--instance``/``--token`` or in the environment (``Client.from_env``).

Also runnable as ``python -m domo_datasets``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import json
import math
import os
import random
import re
import signal
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TextIO

from domo_datasets._domo import Client, Dataset, Emulator, Table, __version__
from domo_datasets.exceptions import DomoError

if TYPE_CHECKING:
    from domo_datasets._domo import DomoType, ReadProgress

__all__ = ["main"]

_DEFAULT_TOKEN = Emulator.DEFAULT_TOKEN
_DEFAULT_EMAIL = Emulator.DEFAULT_EMAIL
_DEFAULT_PASSWORD = Emulator.DEFAULT_PASSWORD

DEMO_SCHEMA: list[tuple[str, DomoType]] = [
    ("order_id", "LONG"),
    ("region", "STRING"),
    ("product", "STRING"),
    ("quantity", "LONG"),
    ("unit_price", "DOUBLE"),
    ("amount", "DECIMAL"),
    ("order_date", "DATE"),
    ("created_at", "DATETIME"),
]
"""The demo dataset's columns: one of every Domo type."""

DEMO_QUERIES: list[tuple[str, str]] = [
    ("Row count", "SELECT COUNT(*) AS `rows` FROM table"),
    (
        "Revenue by region",
        "SELECT `region`, COUNT(*) AS `orders`, SUM(`amount`) AS `revenue`, "
        "AVG(`unit_price`) AS `avg_price` FROM table GROUP BY `region` ORDER BY `revenue` DESC",
    ),
    (
        "Units by month (first 6 months)",
        "SELECT YEAR(`order_date`) AS `year`, MONTH(`order_date`) AS `month`, "
        "SUM(`quantity`) AS `units` FROM table "
        "GROUP BY YEAR(`order_date`), MONTH(`order_date`) ORDER BY `year`, `month` LIMIT 6",
    ),
    (
        "Top 5 orders",
        "SELECT `order_id`, `region`, `product`, `amount`, `created_at` FROM table "
        "ORDER BY `amount` DESC, `order_id` LIMIT 5",
    ),
]
"""The SQL the demo runs, with a title for each."""

_REGIONS = ["North", "South", "East", "West", "Central"]
_PRODUCTS = ["Widget", "Gadget", "Gizmo", "Doohickey", 'Thing "Pro", large', "Café crème"]


# -- helpers ------------------------------------------------------------------------------


def _say(text: str = "") -> None:
    """Print a line to stdout and flush, so output shows up promptly through pipes."""
    print(text, flush=True)


def _fail(text: str) -> int:
    """Print an error to stderr and return the exit status for failures."""
    print(f"domo-datasets: error: {text}", file=sys.stderr, flush=True)
    return 1


def write_demo_csv(path: Path, rows: int, *, seed: int = 42) -> int:
    """Write ``rows`` deterministic demo rows, with a header, to ``path``.

    Returns the size of the file in bytes.
    """
    rng = random.Random(seed)
    start = int(dt.datetime(2024, 1, 1, tzinfo=dt.UTC).timestamp())
    span = 2 * 365 * 24 * 3600
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow([name for name, _ in DEMO_SCHEMA])
        for i in range(rows):
            quantity = rng.randint(1, 20)
            price_cents = rng.randint(100, 50_000)
            amount_cents = quantity * price_cents
            created = time.gmtime(start + rng.randrange(span))
            writer.writerow(
                [
                    i + 1,
                    _REGIONS[rng.randrange(len(_REGIONS))],
                    _PRODUCTS[rng.randrange(len(_PRODUCTS))],
                    quantity,
                    f"{price_cents // 100}.{price_cents % 100:02d}",
                    f"{amount_cents // 100}.{amount_cents % 100:02d}",
                    time.strftime("%Y-%m-%d", created),
                    time.strftime("%Y-%m-%d %H:%M:%S", created),
                ]
            )
    return path.stat().st_size


def _rows_of(table: Table) -> tuple[list[str], list[tuple[Any, ...]]] | None:
    """Column names and rows of a result, via pyarrow or polars; ``None`` if neither."""
    if importlib.util.find_spec("pyarrow") is not None:
        pa_table = table.to_pyarrow()
        columns: list[str] = list(pa_table.column_names)
        return columns, [tuple(row.values()) for row in pa_table.to_pylist()]
    if importlib.util.find_spec("polars") is not None:
        df = table.to_polars()
        return list(df.columns), df.rows()
    return None


def _decimals(values: Sequence[Any]) -> int:
    """Decimal places (0 to 4) that show every float or Decimal in ``values`` well."""
    places = 0
    for v in values:
        if isinstance(v, float) and math.isfinite(v):
            text = f"{v:.4f}".rstrip("0")
        elif isinstance(v, Decimal) and v.is_finite():
            text = f"{round(v, 4):f}".rstrip("0") if "." in f"{v:f}" else f"{v:f}"
        else:
            continue
        if "." in text:
            places = max(places, len(text) - text.index(".") - 1)
    return places


def _cell(value: Any, places: int) -> str:
    """Render one value for a text table; floats and Decimals with ``places`` decimals."""
    if value is None:
        return "null"
    if isinstance(value, float | Decimal):
        return f"{value:,.{places}f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def format_table(table: Table) -> str:
    """Render a query result as an aligned text table (needs pyarrow or polars)."""
    rows_of = _rows_of(table)
    if rows_of is None:
        return (
            f"({table.num_rows} rows x {table.num_columns} columns; "
            "install pyarrow to print results: pip install 'domo-datasets[pyarrow]')"
        )
    columns, rows = rows_of
    return _aligned(columns, rows, f"({len(rows)} row{'s' if len(rows) != 1 else ''})")


def _aligned(columns: Sequence[str], rows: Sequence[Sequence[Any]], footer: str) -> str:
    """Rows as an aligned text table (numbers to the right), then ``footer``."""
    by_column = [[row[i] for row in rows] for i in range(len(columns))]
    places = [_decimals(values) for values in by_column]
    numeric = [
        all(
            (isinstance(v, int | float | Decimal) and not isinstance(v, bool)) or v is None
            for v in values
        )
        for values in by_column
    ]
    cells = [[_cell(v, places[i]) for i, v in enumerate(row)] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    out = [line(columns), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in cells)
    out.append(footer)
    return "\n".join(out)


def _mb(n_bytes: float) -> float:
    """Bytes to megabytes (10^6)."""
    return n_bytes / 1_000_000


# -- serve --------------------------------------------------------------------------------


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into the same clean shutdown as Ctrl-C."""
    raise KeyboardInterrupt


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the emulator in the foreground until interrupted."""
    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            data_dir=args.data_dir,
            token=args.token,
            email=_DEFAULT_EMAIL,
            password=_DEFAULT_PASSWORD,
        )
    except (OSError, RuntimeError, ValueError) as err:
        return _fail(f"cannot start the emulator on {args.host}:{args.port}: {err}")
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        _say(f"Local Domo emulator (domo-datasets {__version__}) listening on {emulator.url}")
        _say(f"  developer token: {emulator.token}")
        _say(f"  login:           {emulator.email} / {emulator.password}")
        _say(f"  state:           {args.data_dir if args.data_dir else 'this process only'}")
        _say(f"  python:          Client({emulator.url!r}, token={emulator.token!r})")
        if args.host not in ("127.0.0.1", "localhost", "::1"):
            _say("  warning: not bound to loopback; anyone who can reach this port can use it")
        _say("Press Ctrl-C to stop.")
        while True:
            time.sleep(0.5)
    except KeyboardInterrupt:
        _say("Stopping.")
        return 0
    finally:
        emulator.stop()
        signal.signal(signal.SIGTERM, previous)


# -- demo ---------------------------------------------------------------------------------


def _run_demo(client: Client, rows: int, dataset_name: str) -> int:
    """Create, upload, query and export; print what happens. Returns the exit status."""
    t0 = time.perf_counter()
    ds: Dataset = client.create_dataset(
        dataset_name, DEMO_SCHEMA, description="Created by `domo-datasets demo`"
    )
    _say(f"Created dataset {dataset_name!r} ({ds.id}) in {time.perf_counter() - t0:.2f} s")
    _say("  columns: " + ", ".join(f"{n} {t}" for n, t in DEMO_SCHEMA))

    with tempfile.TemporaryDirectory(prefix="domo-datasets-demo-") as tmp:
        path = Path(tmp) / "orders.csv"
        t0 = time.perf_counter()
        size = write_demo_csv(path, rows)
        _say(
            f"Generated {rows:,} rows ({_mb(size):.1f} MB of CSV) "
            f"in {time.perf_counter() - t0:.2f} s"
        )

        t0 = time.perf_counter()
        result = ds.upload(path, mode="replace")
        elapsed = time.perf_counter() - t0
        _say(
            f"Uploaded {result['rows']:,} rows in {result['parts']} part(s), "
            f"{_mb(result['bytes_sent']):.1f} MB sent (gzip), in {elapsed:.2f} s "
            f"({_mb(size) / max(elapsed, 1e-9):.1f} MB/s of CSV)"
        )

    for title, sql in DEMO_QUERIES:
        t0 = time.perf_counter()
        table = ds.query(sql)
        elapsed = time.perf_counter() - t0
        _say()
        _say(f"== {title} ({elapsed * 1000:.0f} ms)")
        _say(f"   {sql}")
        _say(format_table(table))

    count = ds.query("SELECT COUNT(*) AS n FROM table")
    counted = _rows_of(count)
    if counted is not None and counted[1][0][0] != rows:
        return _fail(f"dataset holds {counted[1][0][0]} rows, expected {rows}")

    _say()
    t0 = time.perf_counter()
    exported = 0
    batches = 0
    with ds.export() as stream:
        for batch in stream:
            exported += batch.num_rows
            batches += 1
    elapsed = time.perf_counter() - t0
    _say(
        f"Exported {exported:,} rows in {batches} batch(es) in {elapsed:.2f} s "
        f"({exported / max(elapsed, 1e-9):,.0f} rows/s, "
        f"~{_mb(size) / max(elapsed, 1e-9):.1f} MB/s of CSV)"
    )
    if exported != rows:
        return _fail(f"export returned {exported} rows, expected {rows}")
    _say()
    _say(f"Done. Dataset id: {ds.id}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Run the demo against a real instance or an embedded emulator."""
    if args.rows < 1:
        return _fail("--rows must be at least 1")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    name = f"domo-datasets demo {stamp}"
    try:
        client: Client | None = None
        if args.instance:
            token = args.token or os.environ.get("DOMO_TOKEN")
            if not token:
                return _fail("a token is needed with --instance (use --token or DOMO_TOKEN)")
            client = Client(args.instance, token=token)
        elif any(
            os.environ.get(v, "").strip()
            for v in ("DOMO_INSTANCE", "DOMO_TOKEN", "DOMO_CLIENT_ID", "DOMO_CLIENT_SECRET")
        ):
            client = Client.from_env()
        if client is not None:
            _say(f"Using Domo instance {client.base_url}")
            return _run_demo(client, args.rows, name)
        emulator = Emulator()
        try:
            _say(f"Started a local Domo emulator at {emulator.url} (no instance given)")
            return _run_demo(Client(emulator.url, token=emulator.token), args.rows, name)
        finally:
            emulator.stop()
    except DomoError as err:
        return _fail(f"{type(err).__name__}: {err}")
    except (OSError, RuntimeError, ValueError, TypeError) as err:
        return _fail(f"{type(err).__name__}: {err}")


# -- credentials --------------------------------------------------------------------------


class UsageError(Exception):
    """A command line that cannot run as given (exit status 2, nothing sent)."""


def config_path() -> Path:
    """The profile file: ``$XDG_CONFIG_HOME/domo-datasets/config.toml`` (default
    ``~/.config``)."""
    base = os.environ.get("XDG_CONFIG_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".config"
    return root / "domo-datasets" / "config.toml"


def _read_profiles(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"{path} is not valid TOML: {err}") from None
    return data


def _profile(name: str) -> tuple[str, str]:
    """The instance (or URL) and token of profile ``name`` in the profile file."""
    path = config_path()
    if not path.is_file():
        raise UsageError(
            f"profile {name!r} asked for, but {path} does not exist; it holds tables like\n"
            f'  [{name}]\n  instance = "acme"   # or url = "http://127.0.0.1:8080"\n'
            '  token = "..."'
        )
    profiles = _read_profiles(path)
    entry = profiles.get(name)
    if not isinstance(entry, dict):
        known = ", ".join(sorted(k for k, v in profiles.items() if isinstance(v, dict)))
        raise UsageError(f"no profile {name!r} in {path} (profiles: {known or 'none'})")
    instance = entry.get("url") or entry.get("instance")
    token = entry.get("token")
    if not isinstance(instance, str) or not instance.strip():
        raise UsageError(f"profile {name!r} in {path} has no instance or url")
    if not isinstance(token, str) or not token.strip():
        raise UsageError(f"profile {name!r} in {path} has no token")
    return instance, token


def connect(args: argparse.Namespace) -> Client:
    """The client the credentials on the command line, a profile or the environment name.

    In order: ``--profile`` (flags override its fields), ``--instance``/``--url`` with
    ``--token`` (or ``DOMO_TOKEN``), the environment (``Client.from_env``), then the
    profile file's ``default`` profile.
    """
    instance = args.url or args.instance
    token = args.token
    if args.profile:
        p_instance, p_token = _profile(args.profile)
        return Client(instance or p_instance, token=token or p_token)
    if instance or token:
        instance = instance or os.environ.get("DOMO_INSTANCE", "").strip()
        token = token or os.environ.get("DOMO_TOKEN", "").strip()
        if not instance:
            raise UsageError("--token needs --instance or --url (or DOMO_INSTANCE)")
        if not token:
            raise UsageError(f"{instance} needs a token: --token or DOMO_TOKEN")
        return Client(instance, token=token)
    if any(
        os.environ.get(v, "").strip()
        for v in ("DOMO_INSTANCE", "DOMO_TOKEN", "DOMO_CLIENT_ID", "DOMO_CLIENT_SECRET")
    ):
        try:
            return Client.from_env()
        except ValueError as err:
            raise UsageError(str(err)) from None
    path = config_path()
    if path.is_file() and isinstance(_read_profiles(path).get("default"), dict):
        p_instance, p_token = _profile("default")
        return Client(p_instance, token=p_token)
    raise UsageError(
        "no Domo credentials: give --instance NAME (or --url URL) and --token, set "
        f"DOMO_INSTANCE and DOMO_TOKEN, or use --profile NAME with profiles in {path}"
    )


_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def dataset_arg(client: Client, value: str) -> Dataset:
    """A dataset from its id (a UUID) or, failing that shape, its exact name."""
    if _UUID.match(value.strip()):
        return client.dataset(value.strip())
    return client.dataset_by_name(value)


# -- output -------------------------------------------------------------------------------


def _need_pyarrow(what: str) -> Any:
    """pyarrow, or a clear error saying ``what`` needs it."""
    try:
        import pyarrow
    except ImportError:
        raise UsageError(
            f"{what} needs pyarrow, which is not installed: pip install 'domo-datasets[pyarrow]'"
        ) from None
    return pyarrow


def _text_cell(value: Any) -> str:
    """One value as CSV text: nulls empty, times in Domo's format, decimals exact."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S")
    if isinstance(value, Decimal):
        return _decimal_text(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _decimal_text(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _json_cell(value: Any) -> str:
    """One value as JSON text; decimals stay exact numbers."""
    if isinstance(value, Decimal) and value.is_finite():
        return _decimal_text(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "null"
    if isinstance(value, dt.datetime | dt.date):
        return json.dumps(_text_cell(value))
    return json.dumps(value, ensure_ascii=False)


def _batches(table: Any) -> Iterator[list[dict[str, Any]]]:
    """The rows of a pyarrow table, one batch at a time, as dicts."""
    for batch in table.to_batches():
        yield batch.to_pylist()


def write_csv(table: Any, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(table.column_names)
    for rows in _batches(table):
        writer.writerows([_text_cell(v) for v in row.values()] for row in rows)


def write_json(table: Any, out: TextIO) -> None:
    """A JSON array of one object per row."""
    names = [json.dumps(n, ensure_ascii=False) for n in table.column_names]
    first = True
    out.write("[")
    for rows in _batches(table):
        for row in rows:
            cells = ", ".join(
                f"{n}: {_json_cell(v)}" for n, v in zip(names, row.values(), strict=True)
            )
            out.write(("\n  " if first else ",\n  ") + "{" + cells + "}")
            first = False
    out.write("\n]\n" if not first else "]\n")


def write_arrow_file(pa: Any, table_or_batches: Any, schema: Any, path: Path, fmt: str) -> int:
    """Writes batches as Parquet or an Arrow IPC file; returns the rows written."""
    rows = 0
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UsageError("Parquet needs pyarrow with Parquet support") from None
        with pq.ParquetWriter(str(path), schema) as writer:
            for batch in table_or_batches:
                writer.write_batch(batch)
                rows += batch.num_rows
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, schema) as writer:
            for batch in table_or_batches:
                writer.write_batch(batch)
                rows += batch.num_rows
    return rows


def _format_of(path: str | None, given: str | None, default: str) -> str:
    """The output format: the one given, else the file's extension, else ``default``."""
    if given:
        return given
    if path:
        suffix = Path(path).suffix.lower()
        for fmt, suffixes in _SUFFIXES.items():
            if suffix in suffixes:
                return fmt
    return default


_SUFFIXES = {
    "csv": (".csv", ".txt"),
    "json": (".json",),
    "parquet": (".parquet", ".pq"),
    "arrow": (".arrow", ".feather", ".ipc"),
}


class Progress:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, label: str, total: int | None, unit: str, enabled: bool) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.started = time.perf_counter()
        self.last = 0.0
        self.done = 0

    def _amount(self, n: int) -> str:
        if self.unit == "B":
            return f"{n / 1_000_000:,.1f} MB"
        return f"{n:,} {self.unit}"

    def update(self, done: int, *, force: bool = False) -> None:
        self.done = done
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.last < 0.1):
            return
        self.last = now
        elapsed = max(now - self.started, 1e-9)
        if self.total:
            frac = min(done / self.total, 1.0)
            filled = int(frac * 30)
            bar = "#" * filled + "-" * (30 - filled)
            text = (
                f"{self.label} [{bar}] {frac:4.0%} {self._amount(done)}/{self._amount(self.total)}"
            )
        else:
            text = f"{self.label} {self._amount(done)}"
        rate = done / elapsed
        text += f" ({self._amount(int(rate))}/s)" if self.unit == "B" else ""
        sys.stderr.write("\r" + text + "\x1b[K")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            self.update(self.done if self.total is None else max(self.done, self.total), force=True)
            sys.stderr.write("\n")
            sys.stderr.flush()


def _progress_on(args: argparse.Namespace) -> bool:
    """Bars show on a terminal unless turned off, and anywhere with ``--progress``."""
    if args.progress is None:
        return sys.stderr.isatty()
    return bool(args.progress)


# -- commands -----------------------------------------------------------------------------


def _preview(pa_table: Any, max_rows: int) -> str:
    """The first ``max_rows`` rows as an aligned text table, then the total row count."""
    shown = pa_table.slice(0, max_rows)
    columns = list(shown.column_names)
    rows = [tuple(r.values()) for r in shown.to_pylist()]
    total = pa_table.num_rows
    more = f", first {len(rows)} shown" if total > len(rows) else ""
    return _aligned(columns, rows, f"({total:,} row{'s' if total != 1 else ''}{more})")


def cmd_query(args: argparse.Namespace) -> int:
    fmt = _format_of(args.output, args.format, "table" if sys.stdout.isatty() else "csv")
    if fmt in ("parquet", "arrow") and not args.output:
        raise UsageError(f"--format {fmt} writes a file: give -o FILE")
    if args.max_rows < 1:
        raise UsageError("--max-rows must be at least 1")
    pa = _need_pyarrow(f"query output as {fmt}")
    client = connect(args)
    ds = dataset_arg(client, args.dataset)
    table = ds.query(args.sql).to_pyarrow()
    if fmt in ("parquet", "arrow"):
        rows = write_arrow_file(pa, table.to_batches(), table.schema, Path(args.output), fmt)
        _note(f"Wrote {rows:,} rows to {args.output}")
        return 0
    write: Callable[[Any, TextIO], None] = {
        "csv": write_csv,
        "json": write_json,
        "table": lambda t, out: out.write(_preview(t, args.max_rows) + "\n"),
    }[fmt]
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            write(table, f)
        _note(f"Wrote {table.num_rows:,} rows to {args.output}")
    else:
        write(table, sys.stdout)
    return 0


def _export_csv(ds: Dataset, path: Path, progress: Progress) -> int:
    """Downloads the CSV undecoded, drawing the bar (when shown) from the bytes written."""

    def report(event: ReadProgress) -> None:
        progress.update(event["bytes_read"] or 0)

    # A report costs a metadata request for the total: none when no bar is drawn.
    written = ds.export_to(path, progress=report if progress.enabled else None)
    progress.update(written, force=True)
    return written


def cmd_export(args: argparse.Namespace) -> int:
    fmt = _format_of(args.output, args.format, "csv")
    if fmt not in ("csv", "parquet", "arrow"):
        raise UsageError(f"export writes csv, parquet or arrow, not {fmt}")
    client = connect(args) if fmt == "csv" else None
    path = Path(args.output)
    if client is not None:
        ds = dataset_arg(client, args.dataset)
        progress = Progress("export", None, "B", _progress_on(args))
        size = _export_csv(ds, path, progress)
        progress.finish()
        _note(f"Exported {size:,} bytes of CSV to {path}")
        return 0
    pa = _need_pyarrow(f"export as {fmt}")
    ds = dataset_arg(connect(args), args.dataset)
    total = ds.metadata().get("rowCount")
    progress = Progress(
        "export",
        total if isinstance(total, int) and total > 0 else None,
        "rows",
        _progress_on(args),
    )
    with ds.export() as stream:
        reader = pa.RecordBatchReader.from_stream(stream)
        done = 0

        def counted() -> Iterator[Any]:
            nonlocal done
            for batch in reader:
                done += batch.num_rows
                progress.update(done)
                yield batch

        rows = write_arrow_file(pa, counted(), reader.schema, path, fmt)
    progress.finish()
    _note(f"Exported {rows:,} rows to {path} ({fmt})")
    return 0


def _file_kind(path: Path) -> str:
    """``parquet``, ``arrow`` (IPC file), ``arrows`` (IPC stream) or ``csv``, by content."""
    with path.open("rb") as f:
        head = f.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"ARROW1"):
        return "arrow"
    if head.startswith(b"\xff\xff\xff\xff"):
        return "arrows"
    return "csv"


def _upload_source(path: Path) -> tuple[Any, int | None]:
    """What to hand to ``Dataset.upload`` for a file, and its row count if known."""
    kind = _file_kind(path)
    if kind == "csv":
        return path, None
    pa = _need_pyarrow(f"uploading a {'Parquet' if kind == 'parquet' else 'Arrow'} file")
    if kind == "parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise UsageError("Parquet needs pyarrow with Parquet support") from None
        pf = pq.ParquetFile(str(path))
        reader = pa.RecordBatchReader.from_batches(pf.schema_arrow, pf.iter_batches())
        return reader, pf.metadata.num_rows
    if kind == "arrow":
        file_reader = pa.ipc.open_file(pa.memory_map(str(path)))
        batches = (file_reader.get_batch(i) for i in range(file_reader.num_record_batches))
        rows = sum(file_reader.get_batch(i).num_rows for i in range(file_reader.num_record_batches))
        return pa.RecordBatchReader.from_batches(file_reader.schema, batches), rows
    return pa.ipc.open_stream(pa.memory_map(str(path))), None


def cmd_upload(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    # A partition restates its own rows through an APPEND commit; REPLACE with a tag is
    # refused (what Domo does with it is undocumented).
    if args.partition is not None and args.mode == "replace":
        raise UsageError("--partition restates one partition: it takes --mode append")
    mode: Literal["append", "replace"] = "replace" if args.mode == "replace" else "append"
    client = connect(args)
    ds = dataset_arg(client, args.dataset)
    source, total = _upload_source(path)
    progress = Progress("upload", total, "rows", _progress_on(args))

    def report(p: Mapping[str, Any]) -> None:
        progress.update(int(p["rows_sent"]), force=bool(p.get("done")))

    result = ds.upload(
        source,
        mode=mode,
        partition=args.partition,
        match_by_name=args.match_by_name,
        progress=report,
    )
    progress.finish()
    where = f" into partition {args.partition!r}" if args.partition else ""
    _note(
        f"Uploaded {result['rows']:,} rows ({mode}){where} in {result['parts']} part(s), "
        f"{_mb(result['bytes_sent']):.1f} MB sent"
    )
    return 0


def _note(text: str) -> None:
    """A message about what happened, on stderr so stdout stays data."""
    print(text, file=sys.stderr, flush=True)


def _ms_text(value: Any) -> str:
    """Epoch milliseconds as UTC text (other values as they are)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        stamp = dt.datetime.fromtimestamp(value / 1000, dt.UTC)
        return stamp.strftime("%Y-%m-%d %H:%M:%S UTC")
    return "" if value is None else str(value)


def _columns_text(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def cmd_ls(args: argparse.Namespace) -> int:
    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    client = connect(args)
    found = client.datasets(name_like=args.name, sort=args.sort, limit=args.limit)
    if args.json:
        print(json.dumps(found, indent=2, ensure_ascii=False))
        return 0
    rows = [
        [
            str(d.get("id", "")),
            str(d.get("name", "")),
            str(d.get("rowCount", "")),
            str(d.get("columnCount", "")),
            _ms_text(d.get("lastModified", d.get("lastUpdated"))),
        ]
        for d in found
    ]
    print(_columns_text(["id", "name", "rows", "columns", "last updated"], rows))
    print(f"({len(found)} dataset{'s' if len(found) != 1 else ''})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    client = connect(args)
    columns = dataset_arg(client, args.dataset).schema()
    if args.json:
        print(json.dumps(columns, indent=2, ensure_ascii=False))
    else:
        print(_columns_text(["column", "type"], [[c["name"], c["type"]] for c in columns]))
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    client = connect(args)
    meta = dataset_arg(client, args.dataset).metadata()
    if args.json:
        print(json.dumps(meta, indent=2, ensure_ascii=False))
        return 0
    owner = meta.get("owner") if isinstance(meta.get("owner"), dict) else {}
    fields = [
        ("id", meta.get("id")),
        ("name", meta.get("name")),
        ("description", meta.get("description") or ""),
        ("rows", meta.get("rowCount")),
        ("columns", meta.get("columnCount")),
        ("owner", f"{owner.get('name', '')} ({owner.get('id', '')})" if owner else ""),
        ("created", _ms_text(meta.get("created"))),
        ("last updated", _ms_text(meta.get("lastUpdated"))),
        ("stream", meta.get("streamId")),
    ]
    width = max(len(k) for k, _ in fields)
    for key, value in fields:
        print(f"{key.ljust(width)}  {'' if value is None else value}")
    return 0


_DOMO_TYPES: tuple[DomoType, ...] = ("STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME")


def _domo_type(value: object) -> DomoType:
    """A Domo type name, upper-cased, or a usage error naming the valid ones."""
    text = str(value).strip().upper()
    for kind in _DOMO_TYPES:
        if kind == text:
            return kind
    raise UsageError(f"{value!r} is not a Domo type; use one of {', '.join(_DOMO_TYPES)}")


def parse_schema(text: str) -> list[tuple[str, DomoType]]:
    """Columns from ``'name:TYPE,...'`` or from a JSON file (a list of ``{"name", "type"}``
    or a mapping of name to type)."""
    candidate = Path(text.removeprefix("@"))
    if text.startswith("@") or (text.lower().endswith(".json") and candidate.is_file()):
        try:
            data = json.loads(candidate.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise UsageError(f"cannot read the schema file {candidate}: {err}") from None
        if isinstance(data, dict) and isinstance(data.get("columns"), list):
            data = data["columns"]
        if isinstance(data, dict):
            return [(str(k), _domo_type(v)) for k, v in data.items()]
        if isinstance(data, list) and all(
            isinstance(c, dict) and "name" in c and "type" in c for c in data
        ):
            return [(str(c["name"]), _domo_type(c["type"])) for c in data]
        raise UsageError(
            f'{candidate}: a schema file holds a list of {{"name", "type"}} objects '
            "or an object of name to type"
        )
    columns: list[tuple[str, DomoType]] = []
    for item in text.split(","):
        name, sep, kind = item.rpartition(":")
        if not sep or not name.strip() or not kind.strip():
            raise UsageError(f"--schema: {item.strip()!r} is not NAME:TYPE (as in 'id:LONG')")
        columns.append((name.strip(), _domo_type(kind)))
    return columns


def cmd_create(args: argparse.Namespace) -> int:
    columns = parse_schema(args.schema)
    client = connect(args)
    ds = client.create_dataset(args.name, columns, description=args.description)
    print(ds.id)
    _note(f"Created dataset {args.name!r} with {len(columns)} column(s)")
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    if not args.yes:
        raise UsageError(
            f"delete removes {args.dataset!r} and its data for good; add --yes to confirm"
        )
    client = connect(args)
    ds = dataset_arg(client, args.dataset)
    ds.delete()
    _note(f"Deleted dataset {ds.id}")
    return 0


# -- errors -------------------------------------------------------------------------------


def _secrets(argv: Sequence[str]) -> list[str]:
    """Token values this run knows of, to keep out of anything printed."""
    found = [os.environ.get(v, "") for v in ("DOMO_TOKEN", "DOMO_CLIENT_SECRET")]
    for i, arg in enumerate(argv):
        if arg == "--token" and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif arg.startswith("--token="):
            found.append(arg.split("=", 1)[1])
    return [s for s in found if len(s.strip()) >= 4]


def _redact(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


def _report(err: DomoError, secrets: Sequence[str]) -> int:
    """Prints a Domo or transport error (what, status, trace id, request); returns 1."""
    lines = [f"domo-datasets: error: {type(err).__name__}: {err.message}"]
    if err.status is not None:
        reason = f" {err.status_reason}" if err.status_reason else ""
        lines.append(f"  status: {err.status}{reason}")
    if err.toe:
        lines.append(f"  toe: {err.toe}")
    if err.method and err.url:
        lines.append(f"  request: {err.method} {err.url}")
    print(_redact("\n".join(lines), secrets), file=sys.stderr, flush=True)
    return 1


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors never show a token."""

    secrets: Sequence[str] = ()

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {_redact(message, self.secrets)}\n")


# -- entry point --------------------------------------------------------------------------


def _connection_options() -> _Parser:
    """Credential options every command that talks to Domo takes."""
    parent = _Parser(add_help=False)
    group = parent.add_argument_group("credentials (else DOMO_INSTANCE/DOMO_TOKEN, or a profile)")
    group.add_argument("--instance", default=None, help="instance name (acme) or base URL")
    group.add_argument("--url", default=None, help="base URL, e.g. http://127.0.0.1:8080")
    group.add_argument("--token", default=None, help="developer token (else DOMO_TOKEN)")
    group.add_argument(
        "--profile",
        default=None,
        help="profile NAME from $XDG_CONFIG_HOME/domo-datasets/config.toml",
    )
    return parent


def _progress_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--progress",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="progress bar on stderr (default: when stderr is a terminal)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``domo-datasets``."""
    parser = _Parser(
        prog="domo-datasets",
        description="Query, export, upload and manage Domo datasets; run a local Domo.",
        epilog="DATASET is a dataset id or an exact dataset name. Exit status: 0 success, "
        "1 Domo or transport error, 2 usage error.",
    )
    parser.add_argument("--version", action="version", version=f"domo-datasets {__version__}")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    conn = _connection_options()

    query = sub.add_parser("query", parents=[conn], help="run SQL against a dataset")
    query.add_argument("dataset", metavar="DATASET")
    query.add_argument("sql", metavar="SQL", help="SQL; the dataset is `table`")
    query.add_argument("-o", "--output", default=None, metavar="FILE", help="write to FILE")
    query.add_argument(
        "--format",
        choices=["table", "csv", "json", "parquet", "arrow"],
        default=None,
        help="output format (default: FILE's extension, else a table on a terminal, else csv)",
    )
    query.add_argument("--max-rows", type=int, default=20, help="rows a table shows (default 20)")
    query.set_defaults(func=cmd_query)

    export = sub.add_parser(
        "export", parents=[conn], help="download a dataset to CSV, Parquet or Arrow"
    )
    export.add_argument("dataset", metavar="DATASET")
    export.add_argument("-o", "--output", required=True, metavar="FILE")
    export.add_argument(
        "--format",
        choices=["csv", "parquet", "arrow"],
        default=None,
        help="default: FILE's extension, else csv (undecoded, nulls as \\N)",
    )
    _progress_option(export)
    export.set_defaults(func=cmd_export)

    upload = sub.add_parser(
        "upload", parents=[conn], help="upload a CSV, Parquet or Arrow IPC file"
    )
    upload.add_argument("dataset", metavar="DATASET")
    upload.add_argument("file", metavar="FILE", help="CSV with a header row, Parquet or Arrow")
    upload.add_argument(
        "--mode", choices=["append", "replace"], default=None, help="default append"
    )
    upload.add_argument(
        "--partition", default=None, metavar="TAG", help="restate this partition (append)"
    )
    upload.add_argument(
        "--match-by-name",
        action="store_true",
        help="match the file's columns to the dataset's by name rather than position",
    )
    _progress_option(upload)
    upload.set_defaults(func=cmd_upload)

    ls = sub.add_parser("ls", parents=[conn], help="list datasets")
    ls.add_argument("--name", default=None, metavar="PATTERN", help="names containing PATTERN")
    ls.add_argument(
        "--sort", default=None, help="name, createdAt or lastUpdated; '-' first for descending"
    )
    ls.add_argument("--limit", type=int, default=None, help="at most this many")
    ls.add_argument("--json", action="store_true", help="Domo's objects as JSON")
    ls.set_defaults(func=cmd_ls)

    schema = sub.add_parser("schema", parents=[conn], help="a dataset's columns")
    schema.add_argument("dataset", metavar="DATASET")
    schema.add_argument("--json", action="store_true", help="as JSON")
    schema.set_defaults(func=cmd_schema)

    info = sub.add_parser("info", parents=[conn], help="a dataset's metadata")
    info.add_argument("dataset", metavar="DATASET")
    info.add_argument("--json", action="store_true", help="everything Domo sends, as JSON")
    info.set_defaults(func=cmd_info)

    create = sub.add_parser("create", parents=[conn], help="create an empty dataset")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--schema",
        required=True,
        help="'col:TYPE,...' (STRING, LONG, DOUBLE, DECIMAL, DATE, DATETIME) or a JSON file",
    )
    create.add_argument("--description", default=None)
    create.set_defaults(func=cmd_create)

    delete = sub.add_parser("delete", parents=[conn], help="delete a dataset for good")
    delete.add_argument("dataset", metavar="DATASET")
    delete.add_argument("--yes", action="store_true", help="confirm the deletion")
    delete.set_defaults(func=cmd_delete)

    serve = sub.add_parser("serve", help="run the local Domo emulator until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8080, help="port, 0 = any (default 8080)")
    serve.add_argument("--data-dir", default=None, help="keep state in DIR (default: memory)")
    serve.add_argument(
        "--token", default=_DEFAULT_TOKEN, help=f"developer token (default {_DEFAULT_TOKEN})"
    )
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser(
        "demo", help="upload generated rows, run SQL and export (emulator unless --instance)"
    )
    demo.add_argument("--rows", type=int, default=100_000, help="rows to generate (100000)")
    demo.add_argument(
        "--instance", default=None, help="Domo instance name or URL (env DOMO_INSTANCE)"
    )
    demo.add_argument("--token", default=None, help="developer token (env DOMO_TOKEN)")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``domo-datasets`` with ``argv`` (default: ``sys.argv[1:]``); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    secrets = _secrets(argv)
    _Parser.secrets = secrets
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    except UsageError as err:
        print(f"domo-datasets: error: {_redact(str(err), secrets)}", file=sys.stderr, flush=True)
        return 2
    except DomoError as err:
        return _report(err, secrets)
    except (ValueError, TypeError) as err:
        # The library checks arguments before sending anything: a usage error.
        print(f"domo-datasets: error: {_redact(str(err), secrets)}", file=sys.stderr, flush=True)
        return 2
    except OSError as err:
        print(f"domo-datasets: error: {_redact(str(err), secrets)}", file=sys.stderr, flush=True)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())

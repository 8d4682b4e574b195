"""The ``domo-datasets`` command line.

``domo-datasets serve``
    Run the local Domo emulator until Ctrl-C, e.g. for a notebook or another language's
    tests to talk to.
``domo-datasets demo``
    Create a dataset, upload generated rows, run SQL over them, print the results and
    export the data again, with timings. Uses an embedded emulator unless a real instance
    is given with ``--instance``/``--token`` (or ``DOMO_INSTANCE``/``DOMO_TOKEN``).

Also runnable as ``python -m domo_datasets``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib.util
import math
import os
import random
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from domo_datasets._domo import Client, Dataset, Emulator, Table, __version__
from domo_datasets.exceptions import DomoError

if TYPE_CHECKING:
    from domo_datasets._domo import DomoType

__all__ = ["main"]

_DEFAULT_TOKEN = "local-domo-token"
_DEFAULT_EMAIL = "admin@local.domo"
_DEFAULT_PASSWORD = "local-domo-password"

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
    by_column = [[row[i] for row in rows] for i in range(len(columns))]
    places = [_decimals(values) for values in by_column]
    numeric = [
        all(isinstance(v, int | float | Decimal) or v is None for v in values)
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
    out.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
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
        _say(f"  state:           {args.data_dir if args.data_dir else 'in memory'}")
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
    instance = args.instance or os.environ.get("DOMO_INSTANCE")
    token = args.token or os.environ.get("DOMO_TOKEN")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    name = f"domo-datasets demo {stamp}"
    try:
        if instance:
            if not token:
                return _fail("a token is needed with --instance (use --token or DOMO_TOKEN)")
            client = Client(instance, token=token)
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


# -- entry point --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``domo-datasets``."""
    parser = argparse.ArgumentParser(
        prog="domo-datasets",
        description="Domo Datasets API client tools: a local Domo emulator and a demo.",
    )
    parser.add_argument("--version", action="version", version=f"domo-datasets {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
    except KeyboardInterrupt:
        return 130
    return status


if __name__ == "__main__":
    sys.exit(main())

"""Client-only export decoding against ``pyarrow.csv.read_csv`` on the same CSV bytes.

Writes the benchmark table to an emulator, saves its export CSV once, then, in one process
and interleaved (best of N each):

* ours: ``pa.RecordBatchReader.from_stream(ds.export()).read_all()`` with the emulator
  replaying the saved CSV verbatim (no SQL or rendering on its side): transfer over
  loopback, segmenting and decoding into Arrow;
* pyarrow: ``pyarrow.csv.read_csv`` of the same bytes from memory, with the same column
  types and null marker (``\\N``), ``newlines_in_values=True`` (the strings hold line
  breaks), on all cores (its default).

    python bench/export_decode.py                     # 1M rows, best of 5
    python bench/export_decode.py --rows 300000 --repeat 7 --csv SAVED.csv

``--fresh`` measures each read in a process of its own instead (as ``bench/run.py``
does), the two sides in turns, and prints the fastest and the median of each: a fresh
process pays for every page its buffers first touch, and both readers' times then vary
by more than their difference from one process to the next.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import datagen
import pyarrow as pa
import pyarrow.csv as pcsv

if TYPE_CHECKING:
    from run import EmulatorProcess

ARROW_TYPES = {
    "LONG": pa.int64(),
    "DOUBLE": pa.float64(),
    "DECIMAL": pa.decimal128(38, 10),
    "DATE": pa.date32(),
    # pyarrow refuses zone-less text for a zoned type; the instants are the same.
    "DATETIME": pa.timestamp("us"),
    "STRING": pa.string(),
}


def read_with_pyarrow(body: bytes) -> pa.Table:
    """The export CSV through pyarrow's reader, typed as the dataset's schema."""
    convert = pcsv.ConvertOptions(
        column_types={name: ARROW_TYPES[t] for name, t in datagen.SCHEMA.items()},
        null_values=["\\N"],
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    parse = pcsv.ParseOptions(newlines_in_values=True)
    return pcsv.read_csv(pa.py_buffer(body), parse_options=parse, convert_options=convert)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--csv", type=Path, default=None, help="a saved export CSV to replay")
    p.add_argument("--fresh", action="store_true", help="each read in a fresh process")
    args = p.parse_args()

    import domo_datasets as dd
    import run as bench  # (here, so that worker.py can import this module's reader)

    with tempfile.TemporaryDirectory() as tmp:
        emulator = bench.EmulatorProcess(Path(tmp))
        try:
            client = dd.Client(emulator.url, token=emulator.token, read_timeout=600.0)
            ds = client.create_dataset("export decode", datagen.SCHEMA)
            if args.csv is not None:
                body = args.csv.read_bytes()
            else:
                ds.upload(datagen.make_table(args.rows), mode="replace")
                saved = Path(tmp) / "export.csv"
                ds.export_to(str(saved))
                body = saved.read_bytes()
            route = bench.EXPORT_ROUTE.format(id=ds.id)
            if args.fresh:
                saved = Path(tmp) / "replayed.csv"
                saved.write_bytes(body)
                fresh(emulator, ds.id, route, body, saved, args.repeat)
                return
            best_ours = best_arrow = float("inf")
            rows = (0, 0)
            for _ in range(args.repeat):
                emulator.serve_verbatim(route, body, 1, "GET", "text/csv")
                t0 = time.perf_counter()
                ours = pa.RecordBatchReader.from_stream(ds.export()).read_all()
                best_ours = min(best_ours, time.perf_counter() - t0)
                t0 = time.perf_counter()
                theirs = read_with_pyarrow(body)
                best_arrow = min(best_arrow, time.perf_counter() - t0)
                rows = (ours.num_rows, theirs.num_rows)
                del ours, theirs
        finally:
            emulator.stop()
    if rows[0] != rows[1]:
        raise SystemExit(f"row counts differ: ours {rows[0]}, pyarrow {rows[1]}")
    mb = len(body) / 1e6
    print(f"export CSV {mb:.1f} MB, {rows[0]:,} rows, best of {args.repeat}")
    print(f"  ours, replayed over HTTP   {best_ours:7.3f} s  {mb / best_ours:7.1f} MB/s")
    print(f"  pyarrow.csv.read_csv       {best_arrow:7.3f} s  {mb / best_arrow:7.1f} MB/s")
    print(f"  ours / pyarrow time        {best_ours / best_arrow:7.2f}x")


# One read in a process of its own: ours over HTTP, or pyarrow's of the saved bytes, read
# into memory before the clock starts. Prints the wall time in seconds.
_FRESH_READ = """
import sys, time
import pyarrow as pa
sys.path.insert(0, sys.argv[1])
import export_decode
import domo_datasets as dd
url, token, dataset, csv, side = sys.argv[2:7]
ds = dd.Client(url, token=token, read_timeout=600.0).dataset(dataset)
body = open(csv, "rb").read()
start = time.perf_counter()
if side == "ours":
    table = pa.RecordBatchReader.from_stream(ds.export()).read_all()
else:
    table = export_decode.read_with_pyarrow(body)
print(time.perf_counter() - start, table.num_rows)
"""


def fresh(
    emulator: EmulatorProcess, dataset: str, route: str, body: bytes, csv: Path, n: int
) -> None:
    """``n`` reads by each side, each in a fresh process, in turns."""
    times: dict[str, list[float]] = {"ours": [], "pyarrow": []}
    for _ in range(n):
        for side in times:
            if side == "ours":
                emulator.serve_verbatim(route, body, 1, "GET", "text/csv")
            here = str(Path(__file__).resolve().parent)
            argv = [here, emulator.url, emulator.token, dataset, str(csv), side]
            out = subprocess.run(
                [sys.executable, "-c", _FRESH_READ, *argv],
                capture_output=True,
                text=True,
                timeout=300,
                check=True,
            )
            times[side].append(float(out.stdout.split()[0]))
    mb = len(body) / 1e6
    print(f"export CSV {mb:.1f} MB, each read in a fresh process, {n} of each in turns")
    for side, label in (("ours", "ours, replayed over HTTP"), ("pyarrow", "pyarrow.csv.read_csv")):
        t = times[side]
        print(f"  {label:<25}  fastest {min(t):.3f} s  median {statistics.median(t):.3f} s")
    ours, theirs = times["ours"], times["pyarrow"]
    print(
        f"  ours / pyarrow time        fastest {min(ours) / min(theirs):.2f}x  "
        f"median {statistics.median(ours) / statistics.median(theirs):.2f}x"
    )


if __name__ == "__main__":
    main()

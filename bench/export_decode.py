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
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import datagen
import pyarrow as pa
import pyarrow.csv as pcsv

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


if __name__ == "__main__":
    main()

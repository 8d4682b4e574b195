"""One measured client operation, run by ``run.py`` in a fresh Python process.

Usage (internal): ``python bench/worker.py '<json spec>'``. The spec names an operation
(see :data:`OPERATIONS`) and its parameters. The worker imports what the operation needs,
loads its input data and connects, then takes the memory baseline, runs the operation
(``repeat`` times, keeping the fastest) and prints one line::

    RESULT {"wall_s": ..., "peak_delta_kib": ..., "baseline_kib": ..., "info": {...}}

Peak memory is the process's RSS high-water mark after the operation minus the same
figure taken just before it. So that earlier work (imports, loading the input, transient
copies) does not hide in that baseline, the high-water mark is first reset to the current
RSS through ``/proc/self/clear_refs``, and read from ``VmHWM`` in ``/proc/self/status``
(Linux). Elsewhere it falls back to ``getrusage(RUSAGE_SELF).ru_maxrss``, whose baseline
is then a past peak (the result says so).
"""

from __future__ import annotations

import gc
import gzip
import io
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

Spec = dict[str, Any]
Info = dict[str, Any]
Operation = Callable[[], Info]
"""A prepared operation: runs once, returns facts about its result (rows, bytes...)."""


# -- memory ---------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    """A ``/proc/self/status`` figure in KiB (``VmRSS``, ``VmHWM``), None where unavailable."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _peak_kib() -> int:
    """Peak RSS of this process so far, in KiB.

    The kernel's high-water mark of this process's memory (``VmHWM``) where Linux gives
    it; else ``getrusage(RUSAGE_SELF).ru_maxrss``, which is the same figure except that it
    starts at the parent's RSS (it is inherited through fork and exec) and keeps the peak
    of exited threads, so it cannot be reset.
    """
    hwm = _status_kib("VmHWM")
    return hwm if hwm is not None else int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _release_free_memory() -> None:
    """Collect garbage and hand pyarrow's freed pool memory back to the OS."""
    gc.collect()
    if "pyarrow" in sys.modules:
        sys.modules["pyarrow"].default_memory_pool().release_unused()


def _reset_peak() -> bool:
    """Reset the high-water mark to the current RSS; False if that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")
    except OSError:
        return False
    rss = _status_kib("VmRSS")
    return rss is not None and _peak_kib() <= rss + 1024


# -- inputs and clients -------------------------------------------------------------------


def _read_arrow(path: str) -> Any:
    """The benchmark table from an Arrow IPC file, read fully into memory."""
    import pyarrow as pa

    with pa.OSFile(path, "rb") as f:
        return pa.ipc.open_file(f).read_all()


def _read_pandas(path: str) -> Any:
    """The benchmark DataFrame from a pickle written by ``run.py``."""
    import pandas as pd

    return pd.read_pickle(path)


def _ours(spec: Spec) -> Any:
    """A domo_datasets client for the emulator (one pooled connection)."""
    import domo_datasets as dd

    return dd.Client(spec["url"], token=spec["token"], read_timeout=600.0)


def pydomo_client(url: str, client_id: str, client_secret: str) -> Any:
    """A pydomo client of the emulator's public API at ``url`` (gets an OAuth token now)."""
    from pydomo import Domo  # type: ignore[import-untyped]

    host = url.split("://", 1)[1]
    return Domo(client_id, client_secret, api_host=host, use_https=False, log_level=logging.ERROR)


def _pydomo(spec: Spec) -> Any:
    """The pydomo client a spec describes."""
    return pydomo_client(spec["url"], spec["client_id"], spec["client_secret"])


def _table_info(table: Any) -> Info:
    """Rows and Arrow size of a pyarrow table."""
    return {"rows": table.num_rows, "arrow_bytes": table.nbytes}


# -- operations -----------------------------------------------------------------------------


def ours_query(spec: Spec) -> Operation:
    """``ds.query(sql)`` into ``spec['into']``: table (no conversion), pyarrow, pandas (numpy
    or Arrow-backed columns: ``pandas-arrow``), polars."""
    import pandas  # (imported before the baseline, as a user would have)
    import polars as pl
    import pyarrow  # noqa: F401

    ds = _ours(spec).dataset(spec["dataset"])
    into = spec["into"]

    def run() -> Info:
        table = ds.query(spec["sql"])
        if into == "table":
            return {"rows": table.num_rows}
        if into == "pyarrow":
            return _table_info(table.to_pyarrow())
        if into == "pandas":
            return {"rows": len(table.to_pandas())}
        if into == "pandas-arrow":
            return {"rows": len(table.to_pandas(types_mapper=pandas.ArrowDtype))}
        return {"rows": pl.DataFrame(table).height}

    return run


def ours_polars_import(spec: Spec) -> Operation:
    """``pl.DataFrame(table)`` of a query result already in memory: what polars builds to
    hold it (the query itself runs before the baseline)."""
    import polars as pl
    import pyarrow as pa

    ds = _ours(spec).dataset(spec["dataset"])
    table = ds.query(spec["sql"])
    # polars' first import of a stream sets up about 2 MB once, whatever its size.
    pl.DataFrame(ds.query(f"{spec['sql']} LIMIT 1"))
    arrow = pa.table(table)
    string_bytes = sum(
        arrow.column(f.name).nbytes
        for f in arrow.schema
        if pa.types.is_string_view(f.type) or pa.types.is_string(f.type)
    )
    del arrow

    def run() -> Info:
        return {"rows": pl.DataFrame(table).height, "string_bytes": string_bytes}

    return run


def pydomo_query(spec: Spec) -> Operation:
    """pydomo's ``ds_query``: JSON answer -> Python lists -> pandas DataFrame."""
    domo = _pydomo(spec)

    def run() -> Info:
        df = domo.ds_query(spec["dataset"], spec["sql"])
        return {"rows": len(df)}

    return run


def ours_export(spec: Spec) -> Operation:
    """``ds.export()`` read into ``spec['into']``: pyarrow, pandas, pandas-arrow or polars."""
    import pandas  # (imported before the baseline, as a user would have)
    import polars as pl
    import pyarrow as pa

    ds = _ours(spec).dataset(spec["dataset"])
    into = spec["into"]
    batch_size = int(spec.get("batch_size", 65536))

    def run() -> Info:
        stream = ds.export(batch_size=batch_size)
        if into == "polars":
            return {"rows": pl.DataFrame(stream).height}
        if into == "pandas":
            return {"rows": len(stream.read_all().to_pandas())}
        if into == "pandas-arrow":
            frame = stream.read_all().to_pandas(types_mapper=pandas.ArrowDtype)
            return {"rows": len(frame)}
        return _table_info(pa.RecordBatchReader.from_stream(stream).read_all())

    return run


def ours_export_to(spec: Spec) -> Operation:
    """``ds.export_to(path)``: the CSV straight to disk, not decoded (transfer only)."""
    ds = _ours(spec).dataset(spec["dataset"])

    def run() -> Info:
        return {"bytes": ds.export_to(spec["path"])}

    return run


def pydomo_export_to(spec: Spec) -> Operation:
    """pydomo's ``datasets.data_export_to_file``: the CSV to disk in 1 KiB chunks."""
    domo = _pydomo(spec)

    def run() -> Info:
        domo.datasets.data_export_to_file(spec["dataset"], spec["path"], True).close()
        return {"bytes": os.path.getsize(spec["path"])}

    return run


def pydomo_get(spec: Spec) -> Operation:
    """pydomo's ``ds_get``: the whole CSV as one string, then ``pandas.read_csv``."""
    domo = _pydomo(spec)

    def run() -> Info:
        return {"rows": len(domo.ds_get(spec["dataset"]))}

    return run


def ours_upload(spec: Spec) -> Operation:
    """``ds.upload(data, mode='replace')`` from a pyarrow table or a pandas DataFrame.

    With ``create`` set, the dataset is created first (timed too), like pydomo's
    ``ds_create``.
    """
    data = _read_arrow(spec["arrow"]) if spec["source"] == "arrow" else _read_pandas(spec["pandas"])
    client = _ours(spec)
    options = {"part_size": spec["part_size"], "concurrency": spec["concurrency"]}

    def run() -> Info:
        if spec.get("create"):
            ds = client.create_dataset(spec["name"], spec["schema"])
        else:
            ds = client.dataset(spec["dataset"])
        result = ds.upload(data, mode="replace", **options)
        return {"rows": result["rows"], "parts": result["parts"], "dataset": ds.id}

    return run


def pydomo_upload(spec: Spec) -> Operation:
    """pydomo's ``ds_update`` (into an existing dataset) or ``ds_create`` (new one)."""
    df = _read_pandas(spec["pandas"])
    domo = _pydomo(spec)

    def run() -> Info:
        if spec.get("create"):
            return {"rows": len(df), "dataset": domo.ds_create(df, spec["name"])}
        domo.ds_update(spec["dataset"], df)
        return {"rows": len(df), "dataset": spec["dataset"]}

    return run


def pandas_batches(spec: Spec) -> Operation:
    """The Python side of ``ds.upload(df)``: the DataFrame's record batches as the upload
    reads them (object columns converted a slice at a time), read to the end without
    encoding. In an upload this runs alongside the encoder."""
    from domo_datasets._pandas_upload import to_batches

    df = _read_pandas(spec["pandas"])

    def run() -> Info:
        return _table_info(to_batches(df).read_all())

    return run


def pyarrow_read_csv(spec: Spec) -> Operation:
    """The peer of our export decoding: ``pyarrow.csv.read_csv`` of the same CSV bytes from
    memory, as ``export_decode.read_with_pyarrow`` reads them (every column's type given,
    ``\\N`` as null, on all cores like ours)."""
    from export_decode import read_with_pyarrow

    with open(spec["path"], "rb") as f:
        data = f.read()

    def run() -> Info:
        return _table_info(read_with_pyarrow(data))

    return run


def pyarrow_csv_gzip(spec: Spec) -> Operation:
    """The peer of our encoder: ``pyarrow.csv.write_csv`` then ``gzip.compress(level=1)``.

    With ``naive_ts``, timestamp columns lose their time zone first (same instants):
    pyarrow formats zoned timestamps through the time-zone database, value by value.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    table = _read_arrow(spec["arrow"])
    if spec.get("naive_ts"):
        fields = [
            f.with_type(pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) else f
            for f in table.schema
        ]
        table = table.cast(pa.schema(fields))

    def run() -> Info:
        t0 = time.perf_counter()
        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        csv = sink.getbuffer()
        t1 = time.perf_counter()
        packed = gzip.compress(csv, compresslevel=1)
        t2 = time.perf_counter()
        return {
            "csv_bytes": len(csv),
            "gzip_bytes": len(packed),
            "encode_s": t1 - t0,
            "gzip_s": t2 - t1,
        }

    return run


OPERATIONS: dict[str, Callable[[Spec], Operation]] = {
    "ours_query": ours_query,
    "pydomo_query": pydomo_query,
    "ours_export": ours_export,
    "pydomo_get": pydomo_get,
    "ours_export_to": ours_export_to,
    "pydomo_export_to": pydomo_export_to,
    "pandas_batches": pandas_batches,
    "ours_upload": ours_upload,
    "pydomo_upload": pydomo_upload,
    "pyarrow_csv_gzip": pyarrow_csv_gzip,
    "pyarrow_read_csv": pyarrow_read_csv,
    "ours_polars_import": ours_polars_import,
}


# -- the one measurement loop ------------------------------------------------------------


def measure(spec: Spec) -> Info:
    """Prepare ``spec``'s operation, then time it and take its peak RSS over the baseline."""
    operation = OPERATIONS[spec["op"]](spec)
    best: tuple[float, Info] | None = None
    _release_free_memory()
    exact = _reset_peak()
    baseline = _peak_kib()
    for _ in range(max(1, int(spec.get("repeat", 1)))):
        t0 = time.perf_counter()
        info = operation()
        wall = time.perf_counter() - t0
        if best is None or wall < best[0]:
            best = (wall, info)
        del info
    peak = _peak_kib()
    assert best is not None
    return {
        "wall_s": best[0],
        "peak_delta_kib": peak - baseline,
        "baseline_kib": baseline,
        "peak_kib": peak,
        "baseline_exact": exact,
        "info": best[1],
    }


def main(argv: list[str]) -> int:
    """Run the operation described by the JSON spec in ``argv[1]``; print its RESULT line."""
    if len(argv) != 2:
        print("usage: worker.py '<json spec>'", file=sys.stderr)
        return 2
    result = measure(json.loads(argv[1]))
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

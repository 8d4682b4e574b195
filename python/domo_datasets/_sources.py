"""What uploads accept, turned into what the Rust side reads.

:func:`upload_source` takes anything :meth:`Dataset.upload` accepts and gives back one of
three things: a CSV path (a ``str``), an object with ``__arrow_c_stream__`` or
``__arrow_c_array__``, or an iterator of such objects. Anything else is a ``TypeError``
that lists what is accepted.

:func:`plain_rows` turns the rows given to :meth:`Dataset.append_rows` (often
``df.to_dict("records")``) into plain Python values, under the same rules as uploads:

- missing values (``None``, ``NaN``, ``NaT``, ``pandas.NA``) are nulls;
- numpy scalars are their Python equivalents;
- a bool is the text ``"true"``/``"false"``, as an upload writes it (Domo creates no
  BOOLEAN column, so a bool column of a frame becomes a STRING column);
- infinity is refused (Domo stores no infinite number), as is a datetime with a fraction
  of a second (Domo's DATETIME keeps whole seconds): a ``ValueError`` names the row and
  the column, and nothing is sent.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

ACCEPTED = (
    "an Arrow table, record batch or stream (pyarrow, or anything with "
    "__arrow_c_stream__ / __arrow_c_array__), a pandas or polars DataFrame, a polars "
    "LazyFrame, a dict of columns, an iterator of tables, batches or DataFrames, or the "
    "path of a CSV file (with a header row) or a Parquet file"
)
"""What :meth:`Dataset.upload` accepts, as its TypeError says."""

_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


def upload_source(data: object) -> object:
    """``data`` as a CSV path, an Arrow-exportable object, or an iterator of those."""
    if isinstance(data, str | os.PathLike):
        path = os.fspath(data)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        if path.lower().endswith(_PARQUET_SUFFIXES):
            return _parquet(path)
        return path
    module = type(data).__module__ or ""
    if module.startswith("pandas") and hasattr(data, "columns"):
        return _pandas_frame(data)
    if module.startswith("polars") and type(data).__name__ == "LazyFrame":
        return _lazy_frame(data)
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        return data
    if isinstance(data, Mapping):
        return _dict_of_columns(data)
    if isinstance(data, bytes | bytearray | memoryview) or not _is_iterator(data):
        raise TypeError(f"cannot upload a {type(data).__name__}: give {ACCEPTED}")
    return data


def _lazy_frame(lazy: Any) -> object:
    """A polars LazyFrame collected in streamed batches, never as one frame (polars
    releases before ``collect_batches`` collect it whole, on the streaming engine)."""
    collect_batches = getattr(lazy, "collect_batches", None)
    if collect_batches is None:
        return lazy.collect(engine="streaming")
    return collect_batches(lazy=True)


def _is_iterator(data: object) -> bool:
    """Whether ``data`` is an iterator or generator (a list of rows is not a source)."""
    return isinstance(data, Iterator)


def _pyarrow(what: str) -> Any:
    try:
        import pyarrow
    except ImportError:
        raise TypeError(f"uploading {what} needs pyarrow (pip install pyarrow)") from None
    return pyarrow


def _pandas_frame(df: Any) -> Any:
    """A DataFrame as a stream of record batches, its object columns converted a slice
    at a time as the upload reads them."""
    _pyarrow("a pandas DataFrame")
    from domo_datasets._pandas_upload import to_batches

    return to_batches(df)


def _dict_of_columns(columns: Mapping[Any, Any]) -> Any:
    pa = _pyarrow("a dict of columns")
    bad = [repr(name) for name in columns if not isinstance(name, str)]
    if bad:
        raise TypeError(f"a dict of columns needs str names, not {', '.join(bad)}")
    try:
        return pa.table(dict(columns))
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError) as e:
        raise TypeError(
            f"cannot read the dict as columns ({e}); give each column as a list, an "
            "array or a Series of equal length"
        ) from None


def _parquet(path: str) -> Any:
    """A Parquet file as a stream of its row groups' batches (not read whole)."""
    _pyarrow("a Parquet file")
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    return _reader(file.schema_arrow, file.iter_batches())


def _reader(schema: Any, batches: Iterable[Any]) -> Any:
    import pyarrow as pa

    return pa.RecordBatchReader.from_batches(schema, batches)


# -- append_rows ---------------------------------------------------------------------------

_PLAIN = (str, int, type(None))


def plain_rows(rows: object) -> object:
    """``rows`` with every value a plain Python value (see the module's docstring).

    Anything that is not a sequence of dicts is given back as it is, for the Rust side
    to refuse with its own message.
    """
    if isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
        return rows
    out: list[object] = []
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            out.append(row)
            continue
        plain: dict[object, object] = {}
        for name, value in row.items():
            if type(value) in _PLAIN:
                plain[name] = value
                continue
            try:
                plain[name] = plain_value(value)
            except ValueError as e:
                raise ValueError(f"row {i}, column {name!r}: {e}") from None
        out.append(plain)
    return out


def plain_value(value: object) -> object:
    """One value of a row as str, int, float, date, datetime, Decimal or None."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            raise ValueError("infinity, which Domo cannot store; replace it first")
        return float(value)
    if isinstance(value, int):
        return int(value)
    if _is_missing(value):
        return None
    if isinstance(value, datetime.datetime):
        if value.microsecond or getattr(value, "nanosecond", 0):
            raise ValueError(
                f"{value} has a fraction of a second, which Domo's DATETIME does not "
                "keep; floor it to whole seconds first"
            )
        if value.tzinfo is not None:
            value = value.astimezone(datetime.UTC)
        return datetime.datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second
        )
    if isinstance(value, datetime.date):
        return value
    if type(value).__name__ == "Decimal":
        return value
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return _numpy_value(value)
    return value


def _is_missing(value: object) -> bool:
    """Whether ``value`` is pandas' NA or NaT, or numpy's NaT (without importing them)."""
    name = type(value).__name__
    if name in ("NAType", "NaTType"):
        return True
    if name in ("datetime64", "timedelta64"):
        return bool(value != value)  # NaT is not equal to itself
    return False


def _numpy_value(value: Any) -> object:
    """A numpy scalar as the Python value of the same meaning."""
    name = type(value).__name__
    if name == "datetime64":
        import numpy as np

        nanos = int(value.astype("datetime64[ns]").astype(np.int64))
        seconds, rest = divmod(nanos, 1_000_000_000)
        if rest:
            raise ValueError(
                f"{value} has a fraction of a second, which Domo's DATETIME does not "
                "keep; floor it to whole seconds first"
            )
        epoch = datetime.datetime(1970, 1, 1)
        return epoch + datetime.timedelta(seconds=seconds)
    return plain_value(value.item())

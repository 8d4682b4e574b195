"""The package surface: re-exports, lazy optional imports, exception hierarchy."""

from __future__ import annotations

import builtins
import subprocess
import sys

import domo_datasets as dd
from domo_datasets import exceptions
from domo_datasets.testing import LocalDomo


def test_all_names_exist_and_are_the_extension_classes() -> None:
    for name in dd.__all__:
        assert hasattr(dd, name), name
    from domo_datasets import _domo

    for name in ("Client", "Dataset", "Stream", "Table", "BatchStream", "refresh_log_levels"):
        assert getattr(dd, name) is getattr(_domo, name)
    assert dd.__version__ == _domo.__version__
    assert dd.__version__.count(".") >= 2


def test_exceptions_mix_in_builtins() -> None:
    assert issubclass(dd.NotFoundError, LookupError)
    assert issubclass(dd.AuthError, PermissionError)
    assert issubclass(dd.ForbiddenError, PermissionError)
    assert issubclass(dd.BadRequestError, ValueError)
    assert issubclass(dd.TransportError, ConnectionError)
    assert issubclass(dd.TimeoutError, builtins.TimeoutError)
    assert issubclass(dd.RowCapWarning, UserWarning)
    for name in exceptions.__all__:
        cls = getattr(exceptions, name)
        assert issubclass(cls, Warning) or issubclass(cls, dd.DomoError)
        assert getattr(dd, name) is cls


def _runs_clean(code: str) -> None:
    """Runs ``code`` in a fresh interpreter; it must print ``ok`` and exit 0."""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_import_does_not_import_dataframe_libraries() -> None:
    code = (
        "import sys, domo_datasets, domo_datasets.exceptions\n"
        "loaded = [m for m in ('pyarrow', 'polars', 'pandas', 'numpy') if m in sys.modules]\n"
        "assert not loaded, loaded\n"
        "print('ok')\n"
    )
    _runs_clean(code)


def test_reading_into_pyarrow_does_not_import_pandas(
    domo_client: dd.Client, domo_emulator: LocalDomo
) -> None:
    """pyarrow's own ``pa.table()`` imports pandas to ask whether its argument is a
    DataFrame; ``to_pyarrow`` and ``reader`` read without it."""
    ds = domo_client.create_dataset("no pandas", {"n": "LONG", "s": "STRING"})
    ds.upload({"n": [1, 2], "s": ["a", None]})
    code = (
        "import sys, domo_datasets as dd\n"
        f"ds = dd.Client({domo_emulator.url!r}, token={domo_emulator.token!r}).dataset({ds.id!r})\n"
        "t = ds.query('SELECT * FROM table ORDER BY `n`').to_pyarrow()\n"
        "assert t.to_pydict() == {'n': [1, 2], 's': ['a', None]}, t\n"
        "e = ds.export().read_all().to_pyarrow()\n"
        "assert e.num_rows == 2, e\n"
        "r = ds.reader(columns=['s'], where='`n` > 1').read_all()\n"
        "assert r.to_pydict() == {'s': [None]}, r\n"
        "r = ds.reader(key='n', max_rows_per_query=1).read_all()\n"
        "assert sorted(r.column('n').to_pylist()) == [1, 2], r\n"
        "assert 'pandas' not in sys.modules\n"
        "print('ok')\n"
    )
    _runs_clean(code)


def test_refresh_log_levels_runs() -> None:
    import logging

    logging.getLogger("domo_datasets").setLevel(logging.DEBUG)
    try:
        dd.refresh_log_levels()
    finally:
        logging.getLogger("domo_datasets").setLevel(logging.NOTSET)
        dd.refresh_log_levels()


def test_client_needs_no_network_until_used() -> None:
    # Nothing listens on port 9 of loopback; constructing handles must not connect.
    client = dd.Client("http://127.0.0.1:9/", token="t")
    assert client.base_url == "http://127.0.0.1:9"
    ds = client.dataset("abc-123")
    assert ds.id == "abc-123"
    assert client.stream(17).id == 17


def test_instance_name_becomes_domo_url() -> None:
    assert dd.Client("acme", token="t").base_url == "https://acme.domo.com"
    assert dd.Client("https://acme.domo.com///", token="t").base_url == "https://acme.domo.com"

"""domo-datasets: a fast, dependable client for the Domo Datasets API, with a local Domo.

Query results and exports are Arrow tables (``pyarrow``, ``polars`` and ``pandas`` read
them without copying); uploads take any Arrow source or a CSV file. Every network method
has an ``_async`` twin. :mod:`domo_datasets.testing` runs a faithful Domo emulator in
process for offline tests.

Example::

    import domo_datasets as dd

    client = dd.Client("acme", token="...")
    table = client.dataset("44c5d1b9-...").query("SELECT COUNT(*) FROM table")

Importing this package does not import pyarrow, polars or pandas.
"""

from __future__ import annotations

from domo_datasets._domo import (
    BatchStream,
    Client,
    Dataset,
    Stream,
    Table,
    __version__,
    refresh_log_levels,
)
from domo_datasets._scan import DatasetReader, explain_scan, scan
from domo_datasets.exceptions import (
    AnswerTooLargeError,
    AuthError,
    BadRequestError,
    CommitOutcomeUnknownError,
    ConflictError,
    DomoError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    RowCapWarning,
    ServerError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
)

__all__ = [
    "AnswerTooLargeError",
    "AuthError",
    "BadRequestError",
    "BatchStream",
    "Client",
    "CommitOutcomeUnknownError",
    "ConflictError",
    "Dataset",
    "DatasetReader",
    "DomoError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "RowCapWarning",
    "ServerError",
    "Stream",
    "Table",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "__version__",
    "explain_scan",
    "refresh_log_levels",
    "scan",
]

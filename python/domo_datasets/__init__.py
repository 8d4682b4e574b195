"""domo-datasets: a fast, dependable client for the Domo Datasets API, with a local Domo.

Query results and exports are Arrow tables (``pyarrow``, ``polars`` and ``pandas`` read
them without copying); uploads take any Arrow source or a CSV file. Every network method
has an ``_async`` twin. :mod:`domo_datasets.testing` runs a faithful Domo emulator in
process for offline tests.

Example::

    import domo_datasets as dd

    client = dd.Client("acme", token="...")
    table = client.dataset("44c5d1b9-...").query("SELECT COUNT(*) FROM table")

Importing this package does not import pyarrow, polars or pandas. The typing helpers
(:data:`DomoType`, :data:`Schema`, :data:`UploadSource` and the ``TypedDict`` s that
describe Domo's answers, such as :class:`Column` and :class:`UploadResult`) are importable
from here for annotations.
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
from domo_datasets._types import (
    AccessLevel,
    ArrowArrayExportable,
    ArrowSchemaExportable,
    ArrowStreamExportable,
    Card,
    CardOwner,
    Column,
    ConfigurationItem,
    CopyStatus,
    DatasetData,
    DatasetSort,
    DatasetSummary,
    DataVersion,
    DomoType,
    EntityType,
    HistoryEntry,
    IndexStatus,
    Owner,
    Partition,
    PartitionSort,
    PermissionEntry,
    PermissionGrant,
    Policy,
    PolicyFilter,
    PolicyOperator,
    ReadProgress,
    Schedule,
    Schema,
    SchemaChange,
    SchemaLike,
    StreamExecution,
    StreamInfo,
    UploadProgress,
    UploadResult,
    UploadSource,
)
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
    "AccessLevel",
    "AnswerTooLargeError",
    "ArrowArrayExportable",
    "ArrowSchemaExportable",
    "ArrowStreamExportable",
    "AuthError",
    "BadRequestError",
    "BatchStream",
    "Card",
    "CardOwner",
    "Client",
    "Column",
    "CommitOutcomeUnknownError",
    "ConfigurationItem",
    "ConflictError",
    "CopyStatus",
    "DataVersion",
    "Dataset",
    "DatasetData",
    "DatasetReader",
    "DatasetSort",
    "DatasetSummary",
    "DomoError",
    "DomoType",
    "EntityType",
    "ForbiddenError",
    "HistoryEntry",
    "IndexStatus",
    "NotFoundError",
    "Owner",
    "Partition",
    "PartitionSort",
    "PermissionEntry",
    "PermissionGrant",
    "Policy",
    "PolicyFilter",
    "PolicyOperator",
    "RateLimitError",
    "ReadProgress",
    "RowCapWarning",
    "Schedule",
    "Schema",
    "SchemaChange",
    "SchemaLike",
    "ServerError",
    "Stream",
    "StreamExecution",
    "StreamInfo",
    "Table",
    "TimeoutError",
    "TransportError",
    "UnexpectedResponseError",
    "UploadProgress",
    "UploadResult",
    "UploadSource",
    "__version__",
    "explain_scan",
    "refresh_log_levels",
    "scan",
]

"""Types of the public API: Domo column types, schemas, and the dicts Domo answers with.

Importable from :mod:`domo_datasets` (``from domo_datasets import DomoType, Schema``);
the extension's stubs use these same definitions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeAlias, TypedDict

if TYPE_CHECKING:
    import pandas
    import polars

__all__ = [
    "AccessLevel",
    "ArrowArrayExportable",
    "ArrowSchemaExportable",
    "ArrowStreamExportable",
    "Card",
    "CardOwner",
    "Column",
    "ConfigurationItem",
    "CopyStatus",
    "DataVersion",
    "DatasetData",
    "DatasetSort",
    "DatasetSummary",
    "DomoType",
    "EntityType",
    "HistoryEntry",
    "IndexStatus",
    "Owner",
    "Partition",
    "PartitionSort",
    "PermissionEntry",
    "PermissionGrant",
    "Policy",
    "PolicyFilter",
    "PolicyOperator",
    "ReadProgress",
    "Schedule",
    "Schema",
    "SchemaChange",
    "SchemaLike",
    "StreamExecution",
    "StreamInfo",
    "UploadProgress",
    "UploadResult",
    "UploadSource",
]

DomoType: TypeAlias = Literal["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME"]
"""The column types a dataset can be created with (Domo also reports BOOLEAN columns,
which only it creates)."""


class ArrowSchemaExportable(Protocol):
    def __arrow_c_schema__(self) -> object: ...


class ArrowStreamExportable(Protocol):
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...


class ArrowArrayExportable(Protocol):
    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...


Schema: TypeAlias = (
    "Mapping[str, str] | Sequence[tuple[str, str]] | Sequence[Column]"
    " | Sequence[Mapping[str, str]] | ArrowSchemaExportable | ArrowStreamExportable"
)
"""A dataset schema as ``create_dataset`` and friends take it: a mapping of column name
to Domo type (``{"region": "STRING"}``), a sequence of ``(name, type)`` pairs or of
``{"name", "type"}`` dicts, or an Arrow schema (``pyarrow.Schema``, anything with
``__arrow_c_schema__``, or a table or DataFrame, whose schema is taken). Types are
:data:`DomoType` names, checked when the call is made (so a plain ``dict[str, str]``
variable type-checks)."""

SchemaLike: TypeAlias = Schema
"""The same as :data:`Schema`."""

UploadSource: TypeAlias = (
    "ArrowStreamExportable | ArrowArrayExportable | pandas.DataFrame | polars.DataFrame"
    " | polars.LazyFrame | Mapping[str, Any] | Iterator[Any] | str | os.PathLike[str]"
)
"""What ``Dataset.upload`` takes: an Arrow source (pyarrow, polars, pandas, anything with
``__arrow_c_stream__`` or ``__arrow_c_array__``), a polars LazyFrame (collected in streamed
batches), a dict of columns, an iterator of Arrow sources or DataFrames, or the path of a
CSV file (with a header row) or a Parquet file."""


class Column(TypedDict):
    """One column of a dataset's schema."""

    name: str
    type: DomoType


class UploadResult(TypedDict):
    """What an upload did, once committed."""

    dataset_id: str
    upload_id: int
    mode: Literal["append", "replace"]
    parts: int
    rows: int
    bytes_sent: int


class UploadProgress(TypedDict):
    """Passed to an upload's ``progress`` callable after each part is sent.

    ``rows_total`` is the number of rows of the data when it is known before reading it
    (a pyarrow table or record batch, a polars or pandas DataFrame), ``None`` for an
    iterator, a stream or a CSV file. ``done`` is true once, after the commit.
    """

    parts_sent: int
    rows_sent: int
    rows_total: int | None
    bytes_sent: int
    done: bool


class ReadProgress(TypedDict):
    """Passed to the ``progress`` callable of an export, ``export_to`` or ``query_pages``
    as rows are handed on (after each batch; about every 256 KiB for ``export_to``),
    and once more at the end with ``done`` true.

    ``rows_total`` is the dataset's row count for an export (row-level policies can make
    the read less), ``None`` for a query. ``bytes_read`` counts the CSV written by
    ``export_to``, ``None`` for a stream of batches.
    """

    rows_read: int
    rows_total: int | None
    bytes_read: int | None
    done: bool


AccessLevel: TypeAlias = Literal["CAN_VIEW", "CAN_SHARE", "CAN_EDIT", "CO_OWNER"]
EntityType: TypeAlias = Literal[
    "USER",
    "GROUP",
    "CARD",
    "VIRTUAL_USER",
    "APPROVAL",
    "ENIGMA_FORM_INSTANCE",
    "DATA_APP",
    "DATA_APP_VIEW",
    "WORKFLOW",
    "REPORT_VIEW_PAGE",
]


class PermissionEntry(TypedDict):
    """One entry of a dataset's access list (the owner comes with level ``"OWNER"``)."""

    id: str
    type: str
    name: str
    accessLevel: str


class PermissionGrant(TypedDict, total=False):
    """A permission to grant: ``id`` and ``access_level`` are required, ``type`` is
    ``"USER"`` (default) or ``"GROUP"``."""

    id: str | int
    type: Literal["USER", "GROUP"]
    access_level: AccessLevel


class Owner(TypedDict):
    """A dataset's owner."""

    id: str
    name: str
    type: str
    group: bool


class HistoryEntry(TypedDict):
    """One change to a dataset (``timestamp`` is ISO-8601 UTC)."""

    timestamp: str
    action: str
    user: str
    details: str


class CopyStatus(TypedDict):
    """The status of the copy that made a dataset."""

    status: str
    message: str
    datasetId: str


class CardOwner(TypedDict):
    id: str
    type: str
    displayName: str


class Card(TypedDict, total=False):
    """A card built on a dataset (``drillPath`` only with ``drill=True``)."""

    id: int
    urn: str
    type: str
    chartType: str
    title: str
    ownerId: int | str
    owners: list[CardOwner]
    access: bool
    datasourceId: str
    drillPath: list[Any]


class DatasetData(TypedDict):
    """A dataset's rows as JSON: column names and rows of values."""

    columns: list[str]
    rows: list[list[Any]]


class SchemaChange(TypedDict, total=False):
    """A column of a new schema: ``name`` and ``type``, and ``id`` (its current name) to
    rename a column. A ``"from"`` key is accepted in place of ``id``."""

    name: str
    type: str
    id: str


# -- data versions, partitions, indexes, streams ---------------------------------------
# Domo's answers are passed through as dicts; these describe the fields the local Domo
# sends (the live service may send more, or fewer).


class DataVersion(TypedDict, total=False):
    """One data version of a dataset (every committed upload makes one). Times in epoch ms."""

    dataVersionId: int
    uploadId: int
    dataSourceId: str
    dataTag: str | None
    updateMethod: str | None
    status: str
    createTime: int
    committedTime: int | None
    rowCount: int | None
    indexed: bool
    deleted: bool


class Partition(TypedDict, total=False):
    """One partition of a dataset. ``rowCount``/``dateCompleted`` (epoch ms) come only
    from :meth:`Dataset.search_partitions`."""

    partitionId: str
    dataVersionId: int
    rowCount: int
    dateCompleted: int
    status: str


class IndexStatus(TypedDict, total=False):
    """An index request and its progress: ``status`` goes QUEUED, INDEXING, COMPLETE."""

    indexId: int
    dataSourceId: str
    dataIds: list[int | str]
    reindex: bool
    status: str
    requestedAt: int
    completedAt: int | None
    rowCount: int


class Schedule(TypedDict, total=False):
    """A stream schedule, sent as ``advancedScheduleJson``. ``type`` is required (MANUAL,
    ONCE, MINUTE, HOUR, DAY, WEEK, MONTH); ``interval`` is required for MINUTE and HOUR;
    ``timezone`` defaults to UTC. Other keys are passed through."""

    type: str
    timezone: str
    interval: int
    hour: int
    minute: int
    between: dict[str, Any] | None


class ConfigurationItem(TypedDict, total=False):
    """One item of a stream's connector configuration."""

    name: str
    value: str
    type: str
    category: str


class StreamExecution(TypedDict, total=False):
    """One run of a stream. Times in epoch seconds, as Domo sends them for streams."""

    streamId: int
    executionId: int
    currentState: str
    rowsInserted: int
    bytesInserted: int
    startedAt: int
    endedAt: int | None
    updateMethod: str | None
    peakMemoryUsedBytes: int


class StreamInfo(TypedDict, total=False):
    """A stream as :meth:`Stream.get` returns it (stream times in epoch seconds, the
    ``dataSource`` times in epoch ms)."""

    id: int
    valid: bool
    transport: dict[str, Any]
    updateMethod: str
    dataProvider: dict[str, Any]
    account: dict[str, Any] | None
    dataSource: dict[str, Any]
    schemaDefinition: dict[str, Any]
    advancedScheduleJson: str | None
    scheduleState: str
    lastExecution: StreamExecution | None
    lastSuccessfulExecution: StreamExecution | None
    currentExecution: StreamExecution | None
    createdAt: int
    modifiedAt: int
    configuration: list[ConfigurationItem]


PartitionSort: TypeAlias = Literal["datecompleted", "partitionid", "rowcount"]


class DatasetSummary(TypedDict, total=False):
    """A dataset as :meth:`Client.datasets` lists it: a search object of Domo's Data
    Center search (``POST /api/search/v1/query``). ``id`` is always the dataset id; other
    keys are as Domo sends them (times in epoch ms)."""

    id: str
    databaseId: str
    name: str
    description: str
    ownedById: str
    ownedByName: str
    rowCount: int
    columnCount: int
    createDate: int
    lastModified: int


DatasetSort: TypeAlias = Literal[
    "name",
    "-name",
    "createdAt",
    "-createdAt",
    "lastUpdated",
    "-lastUpdated",
    "lastTouched",
    "-lastTouched",
]


PolicyOperator: TypeAlias = Literal[
    "EQUALS",
    "LIKE",
    "GREATER_THAN",
    "LESS_THAN",
    "GREATER_THAN_EQUAL",
    "LESS_THAN_EQUAL",
    "BETWEEN",
    "BEGINS_WITH",
    "ENDS_WITH",
    "CONTAINS",
]

# One condition of a PDP policy: ``column`` and ``values`` are required (``not`` is a
# Python keyword, hence the functional form).
PolicyFilter = TypedDict(
    "PolicyFilter",
    {
        "column": str,
        "values": Sequence[str | int | float],
        "operator": PolicyOperator,
        "not": bool,
    },
    total=False,
)


class Policy(TypedDict, total=False):
    """A PDP policy as the public API describes it (``type`` is ``"open"`` for the
    ``"All Rows"`` policy a new dataset has)."""

    id: int
    type: str
    name: str
    filters: list[dict[str, Any]]
    users: list[int]
    virtualUsers: list[int]
    groups: list[int]

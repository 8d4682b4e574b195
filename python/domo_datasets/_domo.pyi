"""Type stubs for the Rust extension ``domo_datasets._domo``.

Every network method has a blocking form and an ``_async`` twin with the same
keyword-only signature; both drive the same Rust future. Blocking calls release the GIL
and can be interrupted with Ctrl-C.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeAlias, TypedDict, final

import pandas
import polars
import pyarrow

__version__: str

DomoType: TypeAlias = Literal["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME"]

class ArrowSchemaExportable(Protocol):
    def __arrow_c_schema__(self) -> object: ...

class ArrowStreamExportable(Protocol):
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...

class ArrowArrayExportable(Protocol):
    def __arrow_c_array__(
        self, requested_schema: object | None = None
    ) -> tuple[object, object]: ...

SchemaLike: TypeAlias = (
    Mapping[str, DomoType]
    | Sequence[tuple[str, DomoType]]
    | Sequence[Column]
    | ArrowSchemaExportable
)
UploadSource: TypeAlias = (
    ArrowStreamExportable
    | ArrowArrayExportable
    | Iterable[ArrowStreamExportable | ArrowArrayExportable]
    | str
    | os.PathLike[str]
)

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
    """Passed to an upload's ``progress`` callable after each part is sent."""

    parts_sent: int
    rows_sent: int
    bytes_sent: int
    done: bool

@final
class Client:
    """A connection to one Domo instance.

    Holds a pooled HTTP client; create one per instance and reuse it. Nothing is sent until
    a method that needs the network is called.

    Args:
        instance: An instance name (``"acme"`` for ``https://acme.domo.com``) or a full base
            URL such as ``"http://127.0.0.1:8080"``.
        token: A developer access token (sent as ``X-DOMO-Developer-Token``).
        session_token: A session token from a login (sent as ``X-DOMO-Authentication``).
            Give exactly one of ``token`` and ``session_token``.
        connect_timeout: Seconds to wait for a TCP/TLS connection.
        read_timeout: Seconds to wait for any read on an open connection.
        max_retries: Retries of a request that is safe to repeat, after a connection error,
            HTTP 429/502/503/504 or Domo's 403 rate limit. ``0`` disables retries.
        retry_max_elapsed: Upper bound, in seconds, on the time spent retrying one request.
        verify_tls: Verify the server's certificate. Turn off only for a trusted proxy.
        user_agent: Appended to the default ``domo-datasets/<version>`` User-Agent.

    Raises:
        ValueError: If the instance, token or a setting is not valid.
    """

    def __new__(
        cls,
        instance: str,
        *,
        token: str | None = None,
        session_token: str | None = None,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Self: ...
    @staticmethod
    def login(
        instance: str,
        email: str,
        password: str,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Client:
        """Log in with email and password and return a client using the session token.

        Raises:
            AuthError: If Domo refuses the credentials (also when it says so with HTTP 200).
        """
    @staticmethod
    async def login_async(
        instance: str,
        email: str,
        password: str,
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Client:
        """Async twin of :meth:`login`."""
    @property
    def base_url(self) -> str:
        """The base URL requests go to, without a trailing slash."""
    def dataset(self, dataset_id: str) -> Dataset:
        """A handle on an existing dataset. Sends no request.

        Raises:
            ValueError: If ``dataset_id`` is empty or not a plain id.
        """
    def stream(self, stream_id: int) -> Stream:
        """A handle on an existing stream. Sends no request."""
    def create_dataset(
        self, name: str, schema: SchemaLike, *, description: str | None = None
    ) -> Dataset:
        """Create an empty dataset with the given columns.

        ``schema`` is a mapping of column name to Domo type, a sequence of ``(name, type)``
        pairs or of :class:`Column` dicts, or any Arrow schema source (a ``pyarrow.Schema``,
        or a table/DataFrame's schema) whose types are mapped to Domo types.

        Raises:
            ValueError: If the name is empty or the schema is empty, has duplicate or empty
                column names, or has a type Domo cannot store.
        """
    async def create_dataset_async(
        self, name: str, schema: SchemaLike, *, description: str | None = None
    ) -> Dataset:
        """Async twin of :meth:`create_dataset`."""

@final
class Dataset:
    """A Domo dataset, addressed by id. Obtained from :meth:`Client.dataset`."""

    @property
    def id(self) -> str: ...
    @property
    def client(self) -> Client: ...
    def metadata(self) -> dict[str, Any]:
        """The dataset's metadata (name, owner, row count, timestamps in epoch ms, ...)."""
    async def metadata_async(self) -> dict[str, Any]:
        """Async twin of :meth:`metadata`."""
    def schema(self) -> list[Column]:
        """The dataset's columns, in order."""
    async def schema_async(self) -> list[Column]:
        """Async twin of :meth:`schema`."""
    def query(self, sql: str) -> Table:
        """Run SQL against the dataset (refer to it as ``table``) and return the result.

        Column types follow Domo's: LONG -> int64, DOUBLE -> float64, DECIMAL ->
        decimal128(38, 10), DATE -> date32, DATETIME -> timestamp[us, UTC], STRING -> utf8,
        BOOLEAN -> bool. Nulls are preserved.

        Raises:
            ValueError: If ``sql`` is empty.
            BadRequestError: If Domo rejects the SQL.
        """
    async def query_async(self, sql: str) -> Table:
        """Async twin of :meth:`query`."""
    def query_pages(self, sql: str, *, page_size: int = 100000, prefetch: int = 2) -> BatchStream:
        """Run a query too large for one answer, page by page, as a stream of batches.

        Domo has no cursor, so each page is ``sql`` with ``LIMIT page_size OFFSET n``
        appended, and ``prefetch`` pages are fetched ahead concurrently. The SQL must
        have an ORDER BY on columns that identify a row (else pages may overlap) and no
        LIMIT of its own. Each page is a separate query: if the dataset changes while
        pages are read, rows can be missed or repeated. Returns once the first page is in.

        Raises:
            ValueError: If the SQL has no ORDER BY or has a LIMIT/OFFSET, or a setting is
                out of range.
        """
    async def query_pages_async(
        self, sql: str, *, page_size: int = 100000, prefetch: int = 2
    ) -> BatchStream:
        """Async twin of :meth:`query_pages`."""
    def export(self, *, batch_size: int = 65536) -> BatchStream:
        """Stream the whole dataset as Arrow record batches, typed by its schema.

        The download proceeds while batches are consumed; at most a few batches are held
        in memory. Closing or dropping the stream stops the download.
        """
    async def export_async(self, *, batch_size: int = 65536) -> BatchStream:
        """Async twin of :meth:`export`: returns once the download has started."""
    def export_to(self, path: str | os.PathLike[str]) -> int:
        """Download the dataset as a CSV file (header row, nulls as ``\\N``), undecoded.

        The file appears only once complete (the data goes to a temporary file beside it
        first), so a failed download never leaves a partial file. Returns the bytes written.
        """
    async def export_to_async(self, path: str | os.PathLike[str]) -> int:
        """Async twin of :meth:`export_to`."""
    def upload(
        self,
        data: UploadSource,
        *,
        mode: Literal["append", "replace"] = "append",
        partition: str | None = None,
        partition_param: Literal["dataTag", "restateDataTag"] = "dataTag",
        part_size: int = 32 * 1024 * 1024,
        concurrency: int = 4,
        index: bool = True,
        match_by_name: bool = False,
        progress: bool | Callable[[UploadProgress], object] | None = None,
    ) -> UploadResult:
        """Upload data into the dataset and commit it.

        ``data`` is any Arrow source (``pyarrow.Table``/``RecordBatch``/
        ``RecordBatchReader``, ``polars.DataFrame``, ``pandas.DataFrame``, anything with
        ``__arrow_c_stream__`` or ``__arrow_c_array__``), an iterator of such objects
        (read one at a time, so a generator can produce data larger than memory), or the
        path of a CSV file with a header row.

        Before anything is sent, the data's columns are checked against the dataset's
        schema (names, order and types); every difference is reported in one ValueError.
        The data is then encoded as CSV, gzip-compressed and sent in parts of about
        ``part_size`` bytes, ``concurrency`` at a time; parts that fail with a retryable
        error are re-sent. Only when every part has arrived is the upload committed, once;
        on any failure nothing is committed and the dataset is unchanged.

        Args:
            mode: ``"append"`` adds the rows; ``"replace"`` replaces all rows (or, with
                ``partition``, only that partition's rows).
            partition: A partition tag to write into: the upload replaces that
                partition's rows and leaves the others alone.
            partition_param: Send the tag as ``dataTag`` (current Domo) or as the
                deprecated ``restateDataTag`` that older instances expect.
            part_size: Target size of one part's CSV before compression, in bytes.
            concurrency: Parts in flight at once.
            index: Ask Domo to index the data at commit.
            match_by_name: Match the data's columns to the dataset's by name (and reorder
                them) instead of by position.
            progress: ``True`` shows a tqdm bar (if tqdm is installed); a callable receives
                an :class:`UploadProgress` after each part.

        Raises:
            ValueError: For a bad mode, part size, concurrency or partition, or data that
                does not fit the dataset's schema, before any data is sent.
            FileNotFoundError: If a CSV path does not exist.
        """
    async def upload_async(
        self,
        data: UploadSource,
        *,
        mode: Literal["append", "replace"] = "append",
        partition: str | None = None,
        partition_param: Literal["dataTag", "restateDataTag"] = "dataTag",
        part_size: int = 32 * 1024 * 1024,
        concurrency: int = 4,
        index: bool = True,
        match_by_name: bool = False,
        progress: bool | Callable[[UploadProgress], object] | None = None,
    ) -> UploadResult:
        """Async twin of :meth:`upload`."""
    def append_rows(self, rows: Iterable[Mapping[str, object]]) -> dict[str, Any]:
        """Append a few rows given as dicts (Domo's "Append Row"), without the upload stages.

        Values may be str, int, float, bool, None, ``date``, ``datetime`` (sent in UTC) or
        ``Decimal``. For more than a few thousand rows, :meth:`upload` is much faster.

        Raises:
            ValueError: If there are no rows or a row names a column the dataset lacks.
            TypeError: If a row is not a dict or holds a value of another type.
        """
    async def append_rows_async(self, rows: Iterable[Mapping[str, object]]) -> dict[str, Any]:
        """Async twin of :meth:`append_rows`."""

@final
class Stream:
    """A Domo stream (connector), addressed by id. Obtained from :meth:`Client.stream`."""

    @property
    def id(self) -> int: ...

@final
class Table:
    """An Arrow table held in Rust memory; converts to pyarrow, polars or pandas.

    Implements the Arrow PyCapsule stream interface, so ``pyarrow.table(t)``,
    ``polars.DataFrame(t)`` and ``duckdb.sql("select * from t")`` read it without copying.
    """

    @property
    def num_rows(self) -> int: ...
    @property
    def num_columns(self) -> int: ...
    @property
    def column_names(self) -> list[str]: ...
    def __len__(self) -> int: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    def to_pyarrow(self) -> pyarrow.Table:
        """This table as a ``pyarrow.Table`` (zero-copy; needs pyarrow)."""
    def to_polars(self) -> polars.DataFrame:
        """This table as a ``polars.DataFrame`` (zero-copy; needs polars)."""
    def to_pandas(self) -> pandas.DataFrame:
        """This table as a ``pandas.DataFrame`` (through pyarrow; needs both)."""

@final
class BatchStream:
    """Record batches arriving from an export or a paged query, as :class:`Table` objects.

    Iterate it (``for``/``async for``), hand it to anything that reads Arrow streams
    (``pyarrow.RecordBatchReader.from_stream``, ``polars.DataFrame``), or collect it with
    :meth:`read_all`. It can be consumed once.
    """

    def __iter__(self) -> Iterator[Table]: ...
    def __next__(self) -> Table: ...
    def __aiter__(self) -> Self: ...
    async def __anext__(self) -> Table: ...
    def __arrow_c_schema__(self) -> object: ...
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object: ...
    @property
    def column_names(self) -> list[str]: ...
    def read_all(self) -> Table:
        """Read the remaining batches into one :class:`Table`."""
    def close(self) -> None:
        """Stop the download and release the connection. Idempotent."""
    def __enter__(self) -> Self: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None: ...

@final
class Emulator:
    """A local Domo emulator serving on a background thread.

    Prefer :class:`domo_datasets.testing.LocalDomo`, which wraps this.

    Args:
        host: Interface to bind; loopback by default.
        port: Port to bind; ``0`` picks a free one.
        data_dir: Keep state in this folder (survives restarts); in memory if ``None``.
        token: The developer token the emulator accepts.
        email: The email of the user who can log in.
        password: That user's password.
    """

    def __new__(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        token: str = "local-domo-token",
        email: str = "admin@local.domo",
        password: str = "local-domo-password",
    ) -> Self: ...
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
    @property
    def port(self) -> int: ...
    @property
    def token(self) -> str: ...
    @property
    def email(self) -> str: ...
    @property
    def password(self) -> str: ...
    def stop(self) -> None:
        """Stop serving; idempotent."""

def refresh_log_levels() -> None:
    """Re-read Python ``logging`` levels for the ``domo_datasets`` loggers.

    Levels are cached when the module is imported; call this after changing them.
    """

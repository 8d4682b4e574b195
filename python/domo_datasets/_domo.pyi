"""Type stubs for the Rust extension ``domo_datasets._domo``.

Every network method has a blocking form and an ``_async`` twin with the same
keyword-only signature; both drive the same Rust future. Blocking calls release the GIL
and can be interrupted with Ctrl-C.
"""

import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, ClassVar, Literal, Self, final

import pandas
import polars
import pyarrow

from domo_datasets._scan import DatasetReader

# The typing helpers (DomoType, Schema, the TypedDicts) are defined once, at runtime, in
# domo_datasets._types; the star import re-exports them here for the signatures below.
from domo_datasets._types import *  # noqa: F403

__version__: str

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
        deadline: Seconds one request may take in all, from its first attempt to the last
            byte of its answer, retries included; ``None`` (the default) for no limit. A
            server sending a byte now and then keeps a call alive past ``read_timeout``,
            never past ``deadline``: the call raises :class:`TimeoutError`. An export is
            one request, so its whole download (and its consumer's pace) counts.
        max_answer_bytes: The most bytes an answer read whole (a query's result, a JSON
            answer) may have once decompressed; more raises
            :class:`AnswerTooLargeError`. Default 2 GiB. Exports stream and are not
            limited by it.
        max_record_bytes: The longest one record (row) of an export may be, in bytes;
            a longer one (say, an unclosed quote) raises :class:`AnswerTooLargeError`
            instead of filling memory. Default 64 MiB.
        max_retries: Retries of a request that is safe to repeat, after a connection error,
            HTTP 429/502/503/504 or Domo's 403 rate limit. ``0`` disables retries.
        retry_max_elapsed: Upper bound, in seconds, on the time spent retrying one request.
        verify_tls: Verify the server's certificate. Turn off only for a trusted proxy.
        user_agent: Appended to the default ``domo-datasets/<version>`` User-Agent.

    Requests go to the instance's origin (scheme, host and port) only. A redirect is
    followed when it stays on that origin (checked at every hop, at most 5 hops); a
    redirect to any other origin is not followed and raises
    :class:`UnexpectedResponseError`, so the token and the request body never reach
    another server. Text a server sends back (error bodies, messages) is searched for the
    token, which is replaced by ``***`` in every exception.

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
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
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
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
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
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
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
    def create_stream(
        self,
        name: str,
        *,
        provider: str,
        configuration: Mapping[str, object] | Sequence[ConfigurationItem] | None = None,
        account: int | str | Mapping[str, Any] | None = None,
        update_method: Literal["APPEND", "REPLACE", "append", "replace"] = "REPLACE",
        transport: Mapping[str, Any] | None = None,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
        schema: SchemaLike | None = None,
        description: str | None = None,
    ) -> Stream:
        """Create a connector stream and the dataset it feeds (``POST /api/data/v1/streams``).

        Args:
            name: The dataset's name.
            provider: The data provider key (``dataProvider.key``), e.g. ``"snowflake-unload-v2"``.
            configuration: The connector's settings: a dict of name to value, or a list of
                ``{"name", "value", "type", "category"}`` items.
            account: The account id (or ``{"id": ...}``) the connector uses.
            update_method: ``"APPEND"`` or ``"REPLACE"``.
            transport: ``{"type", "description", "version"}``; by default
                ``{"type": "CONNECTOR", "description": provider, "version": "0"}``.
            schedule: A :class:`Schedule` dict (or its JSON text), checked and sent as
                ``advancedScheduleJson``; ``None`` leaves the stream unscheduled.
            schema: The dataset's columns (sent as ``schemaDefinition``). The local Domo
                needs it, having no connector to discover one.

        Raises:
            ValueError: For an empty name or provider, an update method other than APPEND
                or REPLACE, a malformed configuration or account, or an invalid schedule
                (a missing or unknown ``type``, a missing ``interval``, an hour outside
                0-23, ...): before anything is sent.
        """
    async def create_stream_async(
        self,
        name: str,
        *,
        provider: str,
        configuration: Mapping[str, object] | Sequence[ConfigurationItem] | None = None,
        account: int | str | Mapping[str, Any] | None = None,
        update_method: Literal["APPEND", "REPLACE", "append", "replace"] = "REPLACE",
        transport: Mapping[str, Any] | None = None,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
        schema: SchemaLike | None = None,
        description: str | None = None,
    ) -> Stream:
        """Async twin of :meth:`create_stream`."""
    def create_dataset(
        self, name: str, schema: SchemaLike, *, description: str | None = None
    ) -> Dataset:
        """Create an empty dataset with the given columns.

        ``schema`` is a mapping of column name to Domo type, a sequence of ``(name, type)``
        pairs or of :class:`Column` dicts, or any Arrow schema source (a ``pyarrow.Schema``,
        or a table/DataFrame's schema) whose types are mapped to Domo types (a bool
        column becomes STRING: bools are written as ``"true"``/``"false"``).

        Raises:
            ValueError: If the name is empty or the schema is empty, has duplicate or empty
                column names, or has a type Domo cannot store.
        """
    async def create_dataset_async(
        self, name: str, schema: SchemaLike, *, description: str | None = None
    ) -> Dataset:
        """Async twin of :meth:`create_dataset`."""
    @staticmethod
    def from_env(
        *,
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Client:
        """A client from the environment: ``DOMO_INSTANCE`` (an instance name or a base
        URL, as :class:`Client` takes) and ``DOMO_TOKEN`` (a developer token); or, when
        neither is set, ``DOMO_CLIENT_ID`` and ``DOMO_CLIENT_SECRET`` (an OAuth client of
        the public API, as :meth:`oauth` with the ``data`` scope) and optionally
        ``DOMO_API_HOST`` (``api.domo.com`` by default). Sends no request; the other
        arguments are :class:`Client`'s.

        Raises:
            ValueError: If no complete set is there (the message names the variables).
        """
    @staticmethod
    def oauth(
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = ["data"],
        api_host: str = "api.domo.com",
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Client:
        """A client of Domo's public API (``api.domo.com``, ``/v1/...``) that
        authenticates with an OAuth client id and secret (HTTP Basic on
        ``/oauth/token?grant_type=client_credentials``). An access token is obtained
        here, so wrong credentials raise here; it is kept, renewed a minute before it
        expires, and renewed once when Domo answers 401. Neither the secret nor the token
        appears in a repr, a log or an exception.

        ``api_host`` is a host name or a base URL (``http://127.0.0.1:8080`` for the
        local Domo, whose email and password are its client id and secret). Dataset
        and stream methods use the public API's routes where it has one (query, export,
        upload through the Streams API, metadata, schema, create, update, delete,
        listing, PDP policies); any other method raises :class:`ValueError` naming the
        instance-API alternative before anything is sent. The other arguments are
        :class:`Client`'s.

        Raises:
            ValueError: For an empty or malformed client id, secret or scope.
            AuthError: If Domo refuses the credentials.
        """
    @staticmethod
    async def oauth_async(
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = ["data"],
        api_host: str = "api.domo.com",
        connect_timeout: float = 10.0,
        read_timeout: float = 300.0,
        deadline: float | None = None,
        max_answer_bytes: int = 2147483648,
        max_record_bytes: int = 67108864,
        max_retries: int = 5,
        retry_max_elapsed: float = 120.0,
        verify_tls: bool = True,
        user_agent: str | None = None,
    ) -> Client:
        """Async twin of :meth:`oauth`."""
    def streams(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        """Streams as the public API describes them (``GET /v1/streams``, read 50 at a
        time), or those feeding ``dataset_id`` (``/v1/streams/search``). A token or
        session client answers the one stream of ``dataset_id`` (as :meth:`Stream.get`
        describes it) and needs ``dataset_id``.

        Raises:
            ValueError: Without ``dataset_id`` on a token or session client.
        """
    async def streams_async(self, dataset_id: str | None = None) -> list[dict[str, Any]]:
        """Async twin of :meth:`streams`."""
    def datasets(
        self,
        *,
        name_like: str | None = None,
        sort: DatasetSort | str | None = None,
        limit: int | None = None,
    ) -> list[DatasetSummary]:
        """The datasets this client can see, reading every page of Domo's dataset search
        (100 per request) until ``limit`` datasets, or all of them.

        Args:
            name_like: Keep names containing this text (case-insensitive); ``*`` and ``?``
                are wildcards, and a pattern with them is matched as given
                (``"sales*"``: names starting with "sales").
            sort: ``name``, ``createdAt``, ``lastUpdated`` (or ``lastTouched``), prefixed by
                ``-`` for descending. Default: Domo's order.
            limit: At most this many datasets.

        Raises:
            ValueError: On an empty ``name_like``, an unknown ``sort`` or a ``limit`` of 0
                (before any request).
        """
    async def datasets_async(
        self,
        *,
        name_like: str | None = None,
        sort: DatasetSort | str | None = None,
        limit: int | None = None,
    ) -> list[DatasetSummary]:
        """Async twin of :meth:`datasets`."""
    def datasets_table(
        self,
        *,
        name_like: str | None = None,
        sort: DatasetSort | str | None = None,
        limit: int | None = None,
    ) -> Table:
        """:meth:`datasets` as a table: id, name, description, owner_id, owner_name, rows,
        columns (int64), created, last_updated (timestamp[ms, UTC])."""
    async def datasets_table_async(
        self,
        *,
        name_like: str | None = None,
        sort: DatasetSort | str | None = None,
        limit: int | None = None,
    ) -> Table:
        """Async twin of :meth:`datasets_table`."""
    def dataset_by_name(self, name: str) -> Dataset:
        """The one dataset named exactly ``name`` (case-sensitive).

        Raises:
            NotFoundError: If no dataset this client can see has that name.
            ValueError: If the name is empty, or several datasets have it (the message
                lists their ids; pick one with :meth:`dataset`).
        """
    async def dataset_by_name_async(self, name: str) -> Dataset:
        """Async twin of :meth:`dataset_by_name`."""

@final
class Dataset:
    """A Domo dataset, addressed by id. Obtained from :meth:`Client.dataset`."""

    @property
    def id(self) -> str:
        """The dataset's id."""
    @property
    def client(self) -> Client:
        """The client this dataset's requests go through."""
    def __eq__(self, value: object, /) -> bool:
        """Equal when both name the same dataset of the same instance (base URL and id)."""
    def __hash__(self) -> int:
        """Hash of (base URL, id), so datasets work as dict keys and in sets."""
    def data_versions(self) -> list[DataVersion]:
        """Every data version of the dataset, with details (one request)."""
    async def data_versions_async(self) -> list[DataVersion]:
        """Async twin of :meth:`data_versions`."""
    def data_versions_table(self) -> Table:
        """:meth:`data_versions` as a table: data_version_id, upload_id, data_tag,
        update_method, status, row_count, created, committed (timestamp[ms, UTC]), deleted."""
    async def data_versions_table_async(self) -> Table:
        """Async twin of :meth:`data_versions_table`."""
    def partitions(self) -> list[Partition]:
        """The dataset's partition tags (no row counts; one request)."""
    async def partitions_async(self) -> list[Partition]:
        """Async twin of :meth:`partitions`."""
    def search_partitions(
        self,
        *,
        sort: PartitionSort = "datecompleted",
        descending: bool = True,
        min: int | str | None = None,
        max: int | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Partition]:
        """One page of the partition search, sorted by ``sort`` and filtered to
        ``min <= sort field <= max`` (inclusive; ``None`` for no bound).

        Raises:
            ValueError: For an unknown sort field, a bound that is not a number or string,
                or ``limit`` outside 1-1000, before anything is sent.
        """
    async def search_partitions_async(
        self,
        *,
        sort: PartitionSort = "datecompleted",
        descending: bool = True,
        min: int | str | None = None,
        max: int | str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Partition]:
        """Async twin of :meth:`search_partitions`."""
    def partitions_table(
        self,
        *,
        sort: PartitionSort = "datecompleted",
        descending: bool = True,
        min: int | str | None = None,
        max: int | str | None = None,
        max_items: int = 100000,
    ) -> Table:
        """Every partition the search finds, all pages read for you (100 a page), as a
        table: partition_id, data_version_id, row_count, date_completed, status.

        At most ``max_items`` partitions are collected; if there are more, the listing
        stops there and a warning is logged (``domo_core`` logger).
        """
    async def partitions_table_async(
        self,
        *,
        sort: PartitionSort = "datecompleted",
        descending: bool = True,
        min: int | str | None = None,
        max: int | str | None = None,
        max_items: int = 100000,
    ) -> Table:
        """Async twin of :meth:`partitions_table`."""
    def magic_data_versions(
        self, *, expression: str = "1=1", max_items: int = 100000
    ) -> list[dict[str, Any]]:
        """The data versions the MAGIC engine knows for this dataset, matching
        ``expression``; all pages read for you (500 a page), at most ``max_items``
        (a warning is logged if more exist)."""
    async def magic_data_versions_async(
        self, *, expression: str = "1=1", max_items: int = 100000
    ) -> list[dict[str, Any]]:
        """Async twin of :meth:`magic_data_versions`."""
    def delete_data_version(self, partition: str | int) -> dict[str, Any]:
        """Mark the data version behind a partition tag deleted (the local Domo also takes
        a data version id): its rows leave queries and exports. The version stays listed,
        with status DELETED.

        Raises:
            NotFoundError: If there is no such partition or data version.
        """
    async def delete_data_version_async(self, partition: str | int) -> dict[str, Any]:
        """Async twin of :meth:`delete_data_version`."""
    def delete_partition(self, partition: str) -> dict[str, Any]:
        """Remove a partition tag from the dataset; its rows leave queries and exports.

        Raises:
            NotFoundError: If the dataset has no such partition.
        """
    async def delete_partition_async(self, partition: str) -> dict[str, Any]:
        """Async twin of :meth:`delete_partition`."""
    def index(self, *, data_ids: Sequence[int | str] | None = None) -> IndexStatus:
        """Ask Domo to index data versions (``None``: every complete, unindexed one).
        Returns the index request, whose ``indexId`` :meth:`index_status` and
        :meth:`wait_for_index` follow. Sent once, never retried."""
    async def index_async(self, *, data_ids: Sequence[int | str] | None = None) -> IndexStatus:
        """Async twin of :meth:`index`."""
    def reindex(
        self, index_id: int | str, *, data_ids: Sequence[int | str] | None = None
    ) -> IndexStatus:
        """Re-run an index request (``PUT .../indexes/{index_id}`` with ``reindex: true``).

        Raises:
            NotFoundError: If there is no such index request.
        """
    async def reindex_async(
        self, index_id: int | str, *, data_ids: Sequence[int | str] | None = None
    ) -> IndexStatus:
        """Async twin of :meth:`reindex`."""
    def index_status(self, index_id: int | str) -> IndexStatus:
        """The progress of an index request."""
    async def index_status_async(self, index_id: int | str) -> IndexStatus:
        """Async twin of :meth:`index_status`."""
    def wait_for_index(self, index_id: int | str, *, timeout: float = 600.0) -> IndexStatus:
        """Poll an index request until it completes, pausing 0.2 s, then 1.5 times longer
        each time up to 5 s. Returns the final status.

        Raises:
            TimeoutError: If it has not completed within ``timeout`` seconds.
            DomoError: If it ends FAILED (or ERROR, CANCELLED).
            ValueError: If ``timeout`` is not positive or exceeds a day.
        """
    async def wait_for_index_async(
        self, index_id: int | str, *, timeout: float = 600.0
    ) -> IndexStatus:
        """Async twin of :meth:`wait_for_index`."""
    def stream(self) -> Stream:
        """The stream that feeds this dataset (from its metadata's ``streamId``)."""
    async def stream_async(self) -> Stream:
        """Async twin of :meth:`stream`."""
    def metadata(self, *, part: Sequence[str] | None = None) -> dict[str, Any]:
        """The dataset's metadata (name, owner, row count, timestamps in epoch ms, ...).

        Args:
            part: Metadata parts to ask for, among ``core``, ``permission``, ``status``,
                ``pdp``, ``rowcolcount``, ``certification``, ``sharecount``,
                ``alertcount``, ``dataprovider``, ``features``, ``impactcounts``,
                ``functions``, ``cryo``; by default ``core`` and ``rowcolcount``.

        Raises:
            ValueError: If a part is not one of those (nothing is sent).
        """
    async def metadata_async(self, *, part: Sequence[str] | None = None) -> dict[str, Any]:
        """Async twin of :meth:`metadata`."""
    def schema(self, *, include_hidden: bool = False) -> list[Column]:
        """The dataset's columns, in order (hidden ones too with ``include_hidden``)."""
    async def schema_async(self, *, include_hidden: bool = False) -> list[Column]:
        """Async twin of :meth:`schema`."""
    def query(self, sql: str) -> Table:
        """Run SQL against the dataset (refer to it as ``table``) and return the result.

        Column types follow Domo's: LONG -> int64, DOUBLE -> float64, DECIMAL ->
        decimal128(38, 10), DATE -> date32, DATETIME -> timestamp[us, UTC], STRING -> utf8,
        BOOLEAN -> bool. Nulls are preserved.

        Domo answers at most 1,000,000 rows and cuts the rest without an error: an answer
        of exactly that many rows comes with a
        :class:`~domo_datasets.exceptions.RowCapWarning` (``query_pages`` reads them all).

        Raises:
            ValueError: If ``sql`` is empty.
            BadRequestError: If Domo rejects the SQL.
            AnswerTooLargeError: If the answer is larger than the client's
                ``max_answer_bytes`` once decompressed.
        """
    async def query_async(self, sql: str) -> Table:
        """Async twin of :meth:`query`."""
    def query_pages(
        self,
        sql: str,
        *,
        page_size: int = 100000,
        prefetch: int = 2,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> BatchStream:
        """Run a query too large for one answer, page by page, as a stream of batches.

        Domo has no cursor, so each page is ``sql`` with ``LIMIT page_size OFFSET n``
        appended, and ``prefetch`` pages are fetched ahead concurrently. The SQL must
        have an ORDER BY on columns that identify a row (else pages may overlap) and no
        LIMIT of its own. Each page is a separate query: if the dataset changes while
        pages are read, rows can be missed or repeated. Returns once the first page is in.

        Args:
            progress: ``True`` shows a tqdm bar (if tqdm is installed), counting rows (a
                query's total is known only at its end); a callable receives a
                :class:`ReadProgress` as each batch is taken and once at the end. An
                exception raised by the callable (or the bar) stops the stream and is
                raised by the stream, with a note saying so (a reader through
                ``__arrow_c_stream__`` gets it as an Arrow error).

        Raises:
            ValueError: If the SQL has no ORDER BY or has a LIMIT/OFFSET, or a setting is
                out of range.
        """
    async def query_pages_async(
        self,
        sql: str,
        *,
        page_size: int = 100000,
        prefetch: int = 2,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> BatchStream:
        """Async twin of :meth:`query_pages`."""
    def scan(
        self, *, key: str | None = None, max_rows_per_query: int | None = None
    ) -> polars.LazyFrame:
        """A polars LazyFrame over the dataset that reads only what the query needs.

        The schema is read now; rows when the frame is collected. Selected columns, the
        filter's translatable parts and ``head(n)`` become the SQL sent; polars applies
        the whole filter to what comes back, so nothing it cannot translate is lost.
        Reads that may pass Domo's 1,000,000-row answer cap (``max_rows_per_query``) are
        split over ``key`` (a LONG column whose values identify rows; by default one found
        to be unique), or read through an export when nothing filters them.
        ``domo_datasets.explain_scan(frame)`` shows the SQL without sending it. Same as
        ``domo_datasets.scan(ds)``; needs polars.
        """
    def reader(
        self,
        *,
        columns: Sequence[str] | None = None,
        where: str | None = None,
        limit: int | None = None,
        key: str | None = None,
        max_rows_per_query: int | None = None,
    ) -> DatasetReader:
        """Rows as record batches: only ``columns``, only rows matching the SQL condition
        ``where``, at most ``limit``, split past Domo's answer cap as :meth:`scan` does.

        The result is an Arrow stream (``pa.RecordBatchReader.from_stream(r)``,
        ``pl.DataFrame(r)``, DuckDB's ``FROM r``) and an iterator of pyarrow tables; it
        is read once. Reads the schema now, the rows when consumed; needs pyarrow.

        Raises:
            ValueError: If a column or the key is not in the dataset, or ``limit`` < 0.
        """
    def export(
        self,
        *,
        batch_size: int = 65536,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> BatchStream:
        """Stream the whole dataset as Arrow record batches, typed by its schema.

        The download proceeds while batches are consumed; at most a few batches are held
        in memory. Closing or dropping the stream stops the download. A batch holds at
        most ``batch_size`` rows; batches also end where the download is cut for decoding
        on several cores (about 1 MB of CSV each), so most hold fewer.

        Args:
            batch_size: The most rows in one batch.
            progress: ``True`` shows a tqdm bar (if tqdm is installed) against the
                dataset's row count; a callable receives a :class:`ReadProgress` as each
                batch is taken and once at the end. An exception raised by the callable
                (or the bar) stops the stream and is raised by the stream, with a note
                saying so (a reader through ``__arrow_c_stream__`` gets it as an Arrow
                error).

        Raises:
            UnexpectedResponseError: If the answer is not the dataset's CSV: an HTML page
                (even after blank lines), JSON, a header row that does not name the
                schema's columns in order (the message names both), or CSV that cannot
                be read as the schema's types. Raised by the call or by the stream.
            AnswerTooLargeError: If a record is longer than the client's
                ``max_record_bytes``.
        """
    async def export_async(
        self,
        *,
        batch_size: int = 65536,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> BatchStream:
        """Async twin of :meth:`export`: returns once the download has started."""
    def export_to(
        self,
        path: str | os.PathLike[str],
        *,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> int:
        """Download the dataset as a CSV file (header row, nulls as ``\\N``), undecoded.

        The file appears only once complete: the data goes first to a new file with an
        unpredictable name in the same folder, created exclusively (an existing file or
        link of that name is never opened), and renamed to ``path`` at the end. That
        temporary file is removed on any failure, on cancellation of the ``_async`` twin
        and on Ctrl-C, so a failed download never leaves a partial file. Returns the
        bytes written.

        Args:
            path: Where the CSV goes.
            progress: ``True`` shows a tqdm bar (if tqdm is installed) against the
                dataset's row count; a callable receives a :class:`ReadProgress` about
                every 256 KiB written and once at the end. An exception raised by the
                callable (or the bar) stops the download and is raised and no file is
                written (the last report comes before the file appears), with a note
                saying so.

        Raises:
            UnexpectedResponseError: If the answer is an HTML page (even after blank
                lines) or JSON instead of CSV.
        """
    async def export_to_async(
        self,
        path: str | os.PathLike[str],
        *,
        progress: bool | Callable[[ReadProgress], object] | None = None,
    ) -> int:
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
        ``__arrow_c_stream__`` or ``__arrow_c_array__``), a ``polars.LazyFrame``
        (collected in streamed batches), a dict of columns, an iterator of such objects
        (read one at a time, so a generator can produce data larger than memory), or the
        path of a CSV file with a header row or of a Parquet file (read a row group at a
        time; needs pyarrow). Anything else is a TypeError listing these.

        Values follow one set of rules: NaN, ``NaT`` and ``pandas.NA`` are nulls; a
        timestamp at midnight goes into a DATE column as its date; a bool is written as
        ``"true"``/``"false"`` (into STRING columns only); infinity, a DATETIME value with
        a fraction of a second and a time of day for a DATE column are refused with a
        ValueError naming the column and row, and nothing is committed.

        A ``pandas.DataFrame`` is read as it is encoded: numpy and Arrow-backed columns
        as they are, columns of Python objects a slice of rows at a time. Under
        copy-on-write (always in pandas 3) a write to the frame during the upload is not
        sent; under pandas 2 without it, do not write to the frame until the upload
        returns. A column of ``decimal.Decimal`` is sent as ``decimal128(38, 10)``,
        DECIMAL's type (a value with more places is rounded half away from zero, as Domo
        stores it); an object
        value that cannot be converted fails the upload with a ValueError naming the
        column and rows, and nothing is committed.

        Before anything is sent, the data's columns are checked against the dataset's
        schema (names, order and types); every difference is reported in one ValueError,
        each missing or extra column named with its position.
        The data is then encoded as CSV, gzip-compressed and sent in parts of about
        ``part_size`` bytes, ``concurrency`` at a time; parts that fail with a retryable
        error are re-sent. Only when every part has arrived is the upload committed, once;
        on any failure nothing is committed and the dataset is unchanged.

        Args:
            mode: ``"append"`` adds the rows; ``"replace"`` replaces all rows. With
                ``partition``, only ``"append"`` is accepted.
            partition: A partition tag to write into: the upload restates that
                partition (its rows are replaced) and leaves the others alone. It is
                committed as Domo's partition flow commits it, ``APPEND`` with the tag.
                ``mode="replace"`` with a partition raises ValueError before anything
                is sent: replacing the whole dataset and restating one partition are
                different intents.
            partition_param: Send the tag as ``dataTag`` (current Domo) or as the
                deprecated ``restateDataTag`` that older instances expect.
            part_size: Target size of one part's CSV before compression, in bytes. The
                first part is a sixteenth of it (at least 64 KiB) and each next one
                twice the last, so Domo starts on the data while the rest is encoded.
            concurrency: Parts in flight at once.
            index: Ask Domo to index the data at commit.
            match_by_name: Match the data's columns to the dataset's by name (and reorder
                them) instead of by position.
            progress: ``True`` shows a tqdm bar (if tqdm is installed), with the total
                number of rows when the data knows it; a callable receives an
                :class:`UploadProgress` after each part. An exception raised by the
                callable (or the bar) before the commit stops the upload: nothing is
                committed and the exception is raised, with a note saying so. One raised
                by the last call (``done``, after the commit) is reported as unraisable
                and the result is returned, since the data is committed.

        Raises:
            ValueError: For a bad mode, part size, concurrency or partition,
                ``mode="replace"`` with a partition, or data that does not fit the
                dataset's schema, before any data is sent.
            FileNotFoundError: If a CSV path does not exist.
            CommitOutcomeUnknownError: If the connection was lost after the commit was
                sent: it is not re-sent, and may or may not have been applied (look for
                the upload in :meth:`data_versions` before uploading again).
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

        Values may be what a frame holds (``df.to_dict("records")`` works): str, int,
        float, bool, ``date``, ``datetime`` (sent in UTC) or ``Decimal``, numpy scalars,
        and ``None``, NaN, ``NaT`` or ``pandas.NA`` for null. A bool is sent as the text
        ``"true"``/``"false"``, as uploads write it; a datetime at midnight goes into a
        DATE column as its date. For more than a few thousand rows, :meth:`upload` is much
        faster.

        Raises:
            ValueError: If there are no rows, a row names a column the dataset lacks, or
                a value would lose data: infinity, a datetime with a fraction of a second,
                a time of day for a DATE column (the row and column are named).
            TypeError: If a row is not a dict or holds a value of another type.
        """
    async def append_rows_async(self, rows: Iterable[Mapping[str, object]]) -> dict[str, Any]:
        """Async twin of :meth:`append_rows`."""

    # -- administration -------------------------------------------------------------------

    def details(self) -> dict[str, Any]:
        """Details: the metadata plus ``properties`` and ``schema``."""
    async def details_async(self) -> dict[str, Any]:
        """Async twin of :meth:`details`."""
    def set_properties(self, properties: Mapping[str, Any]) -> None:
        """Change properties (``dataProviderType``, ``name``, ``description``, ...).

        Raises:
            ValueError: If there are none (nothing is sent).
        """
    async def set_properties_async(self, properties: Mapping[str, Any]) -> None:
        """Async twin of :meth:`set_properties`."""
    def history_table(self) -> Table:
        """:meth:`history` as a Table (timestamp, action, user, details)."""
    async def history_table_async(self) -> Table:
        """Async twin of :meth:`history_table`."""
    def history(self) -> list[HistoryEntry]:
        """Changes made to the dataset (creation, uploads, schema, access...), oldest first."""
    async def history_async(self) -> list[HistoryEntry]:
        """Async twin of :meth:`history`."""
    def copy_status(self) -> CopyStatus:
        """The status of the copy that made this dataset."""
    async def copy_status_async(self) -> CopyStatus:
        """Async twin of :meth:`copy_status`."""
    def copy_log(self) -> list[str]:
        """The log lines of the copy that made this dataset."""
    async def copy_log_async(self) -> list[str]:
        """Async twin of :meth:`copy_log`."""
    def cards_table(self, *, drill: bool = True) -> Table:
        """:meth:`cards` as a Table (id, title, type, chart_type, owner_id, datasource_id)."""
    async def cards_table_async(self, *, drill: bool = True) -> Table:
        """Async twin of :meth:`cards_table`."""
    def cards(self, *, drill: bool = True) -> list[Card]:
        """Cards built on the dataset, with their drill paths if ``drill``."""
    async def cards_async(self, *, drill: bool = True) -> list[Card]:
        """Async twin of :meth:`cards`."""
    def data(self) -> DatasetData:
        """All rows as JSON (for small datasets; :meth:`query` and :meth:`export` scale)."""
    async def data_async(self) -> DatasetData:
        """Async twin of :meth:`data`."""
    def replace_data(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Replace every row with ``rows`` (dicts of column name to value)."""
    async def replace_data_async(self, rows: Iterable[Mapping[str, object]]) -> None:
        """Async twin of :meth:`replace_data`."""
    def saved_query(self) -> str | None:
        """The query stored with the dataset, if any."""
    async def saved_query_async(self) -> str | None:
        """Async twin of :meth:`saved_query`."""
    def set_saved_query(self, query: str) -> None:
        """Store a query with the dataset. Raises ValueError if it is empty."""
    async def set_saved_query_async(self, query: str) -> None:
        """Async twin of :meth:`set_saved_query`."""
    def saved_sql(self) -> str | None:
        """The SQL stored with the dataset, if any."""
    async def saved_sql_async(self) -> str | None:
        """Async twin of :meth:`saved_sql`."""
    def set_saved_sql(self, sql: str) -> None:
        """Store SQL with the dataset. Raises ValueError if it is empty."""
    async def set_saved_sql_async(self, sql: str) -> None:
        """Async twin of :meth:`set_saved_sql`."""
    def dataflow(self) -> dict[str, Any]:
        """The dataflow this dataset is the output of (NotFoundError if none)."""
    async def dataflow_async(self) -> dict[str, Any]:
        """Async twin of :meth:`dataflow`."""
    def alter_schema(self, columns: Mapping[str, str] | Iterable[SchemaChange]) -> None:
        """Replace the schema: add, rename (``{"name": new, "id": old, "type": ...}``) and
        retype columns; stored values are converted, and columns left out are dropped.

        Raises:
            ValueError: For an empty schema, duplicate names or unknown types (nothing is
                sent), or when Domo refuses a change the data cannot take.
        """
    async def alter_schema_async(self, columns: Mapping[str, str] | Iterable[SchemaChange]) -> None:
        """Async twin of :meth:`alter_schema`."""
    def tags(self) -> list[str]:
        """The dataset's tags."""
    async def tags_async(self) -> list[str]:
        """Async twin of :meth:`tags`."""
    def add_tags(self, tags: Sequence[str]) -> None:
        """Add tags; those already there stay once.

        Reads the current tags and posts the merged list, which is right whether Domo's
        ``POST .../tags`` adds to the list (the contract's word) or replaces it (what the
        live service does); nothing is sent when every tag is already there. Raises
        ValueError for no tags or an empty one (nothing is sent).
        """
    async def add_tags_async(self, tags: Sequence[str]) -> None:
        """Async twin of :meth:`add_tags`."""
    def remove_tags(self, tags: Sequence[str]) -> None:
        """Remove tags. Raises ValueError for no tags or an empty one (nothing is sent)."""
    async def remove_tags_async(self, tags: Sequence[str]) -> None:
        """Async twin of :meth:`remove_tags`."""
    def permissions_table(self) -> Table:
        """:meth:`permissions` as a Table (id, type, name, access_level)."""
    async def permissions_table_async(self) -> Table:
        """Async twin of :meth:`permissions_table`."""
    def permissions(self) -> list[PermissionEntry]:
        """Users and groups with access, the owner first (either shape Domo answers)."""
    async def permissions_async(self) -> list[PermissionEntry]:
        """Async twin of :meth:`permissions`."""
    def update_permissions(self, permissions: Iterable[PermissionGrant]) -> None:
        """Grant or change access levels (``CAN_VIEW``, ``CAN_SHARE``, ``CAN_EDIT``,
        ``CO_OWNER``) for users or groups.

        Raises:
            ValueError: For an unknown type or access level, or a malformed id (nothing
                is sent).
        """
    async def update_permissions_async(self, permissions: Iterable[PermissionGrant]) -> None:
        """Async twin of :meth:`update_permissions`."""
    def share(self, permissions: Iterable[PermissionGrant], *, send_email: bool = False) -> None:
        """Share the dataset with users or groups, emailing them if ``send_email``.

        Raises:
            ValueError: As :meth:`update_permissions`.
            ForbiddenError: Without ``CAN_EDIT`` or ``CO_OWNER`` on the dataset.
        """
    async def share_async(
        self, permissions: Iterable[PermissionGrant], *, send_email: bool = False
    ) -> None:
        """Async twin of :meth:`share`."""
    def revoke(self, entity_type: EntityType | str, entity_id: str | int) -> None:
        """Revoke the access of one entity: ``USER``, ``GROUP``, ``CARD``,
        ``VIRTUAL_USER``, ``APPROVAL``, ``ENIGMA_FORM_INSTANCE``, ``DATA_APP``,
        ``DATA_APP_VIEW``, ``WORKFLOW`` or ``REPORT_VIEW_PAGE`` (others: ValueError)."""
    async def revoke_async(self, entity_type: EntityType | str, entity_id: str | int) -> None:
        """Async twin of :meth:`revoke`."""
    def remove_user(self, user_id: str | int) -> None:
        """Remove one user from the dataset's permissions."""
    async def remove_user_async(self, user_id: str | int) -> None:
        """Async twin of :meth:`remove_user`."""
    def remove_users(self, user_ids: Iterable[str | int]) -> None:
        """Remove several users from the dataset's permissions in one request."""
    async def remove_users_async(self, user_ids: Iterable[str | int]) -> None:
        """Async twin of :meth:`remove_users`."""
    def owner(self) -> Owner:
        """The dataset's owner."""
    async def owner_async(self) -> Owner:
        """Async twin of :meth:`owner`."""
    def set_owner(
        self, owner_id: str | int, *, owner_type: Literal["USER", "GROUP"] | str = "USER"
    ) -> None:
        """Give the dataset to another user or group (needs ``CO_OWNER``)."""
    async def set_owner_async(
        self, owner_id: str | int, *, owner_type: Literal["USER", "GROUP"] | str = "USER"
    ) -> None:
        """Async twin of :meth:`set_owner`."""
    def delete(self) -> None:
        """Delete the dataset and its data for good
        (``DELETE /api/data/v3/datasources/{id}?deleteMethod=hard``, sent once: a lost
        answer is not repeated, since the dataset may already be gone).

        Raises:
            NotFoundError: If there is no such dataset.
            ForbiddenError: If the caller is not an owner or co-owner.
        """
    async def delete_async(self) -> None:
        """Async twin of :meth:`delete`."""
    def update(self, *, name: str | None = None, description: str | None = None) -> None:
        """Rename the dataset and/or change its description (``PUT /v1/datasets/{id}``
        on the public API, the properties route on the instance API).

        Raises:
            ValueError: If neither is given, or the name is empty (nothing is sent).
        """
    async def update_async(
        self, *, name: str | None = None, description: str | None = None
    ) -> None:
        """Async twin of :meth:`update`."""
    def policies(self) -> list[Policy]:
        """The dataset's PDP policies (``GET /v1/datasets/{id}/policies``; an OAuth
        client only). A new dataset has the open ``"All Rows"`` policy.

        Raises:
            ValueError: On a token or session client (nothing is sent).
        """
    async def policies_async(self) -> list[Policy]:
        """Async twin of :meth:`policies`."""
    def policy(self, policy_id: int) -> Policy:
        """One PDP policy, by id."""
    async def policy_async(self, policy_id: int) -> Policy:
        """Async twin of :meth:`policy`."""
    def create_policy(
        self,
        name: str,
        *,
        filters: Sequence[PolicyFilter],
        users: Sequence[int] | None = None,
        groups: Sequence[int] | None = None,
        type: Literal["user", "system"] = "user",
    ) -> Policy:
        """Create a PDP policy: the rows matching every filter, for ``users`` and
        ``groups``. A filter is a dict with ``column``, ``values``, ``operator``
        (``EQUALS`` by default; ``LIKE``, ``GREATER_THAN``, ``LESS_THAN``,
        ``GREATER_THAN_EQUAL``, ``LESS_THAN_EQUAL``, ``BETWEEN`` with two values,
        ``BEGINS_WITH``, ``ENDS_WITH``, ``CONTAINS``) and ``not`` (False by default).
        Sent once. Returns the policy with its id.

        Raises:
            ValueError: For an unknown operator, a filter without values, a BETWEEN
                without exactly two, an unknown key, an id that is not positive, or on a
                token or session client (nothing is sent).
        """
    async def create_policy_async(
        self,
        name: str,
        *,
        filters: Sequence[PolicyFilter],
        users: Sequence[int] | None = None,
        groups: Sequence[int] | None = None,
        type: Literal["user", "system"] = "user",
    ) -> Policy:
        """Async twin of :meth:`create_policy`."""
    def update_policy(
        self,
        policy_id: int,
        *,
        name: str | None = None,
        filters: Sequence[PolicyFilter] | None = None,
        users: Sequence[int] | None = None,
        groups: Sequence[int] | None = None,
        type: Literal["user", "system"] | None = None,
    ) -> Policy:
        """Change a PDP policy: what is given replaces what it had; the rest stays.
        Returns the policy as changed.

        Raises:
            ValueError: As :meth:`create_policy`, or if nothing is given.
            NotFoundError: If there is no such policy.
        """
    async def update_policy_async(
        self,
        policy_id: int,
        *,
        name: str | None = None,
        filters: Sequence[PolicyFilter] | None = None,
        users: Sequence[int] | None = None,
        groups: Sequence[int] | None = None,
        type: Literal["user", "system"] | None = None,
    ) -> Policy:
        """Async twin of :meth:`update_policy`."""
    def delete_policy(self, policy_id: int) -> None:
        """Delete a PDP policy (sent once).

        Raises:
            NotFoundError: If there is no such policy.
        """
    async def delete_policy_async(self, policy_id: int) -> None:
        """Async twin of :meth:`delete_policy`."""

@final
class Stream:
    """A Domo stream (connector), addressed by id. Obtained from :meth:`Client.stream`."""

    @property
    def id(self) -> int:
        """The stream's id."""
    @property
    def client(self) -> Client:
        """The client this stream's requests go through."""
    def __eq__(self, value: object, /) -> bool:
        """Equal when both name the same stream of the same instance (base URL and id)."""
    def __hash__(self) -> int:
        """Hash of (base URL, id), so streams work as dict keys and in sets."""
    def get(self) -> StreamInfo:
        """The stream's configuration and state (``GET /api/data/v1/streams/{id}``).

        Raises:
            NotFoundError: If there is no such stream.
        """
    async def get_async(self) -> StreamInfo:
        """Async twin of :meth:`get`."""
    def update(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        provider: str | None = None,
        transport: Mapping[str, Any] | None = None,
        configuration: Mapping[str, object] | Sequence[ConfigurationItem] | None = None,
        account: int | str | Mapping[str, Any] | None = None,
        update_method: Literal["APPEND", "REPLACE", "append", "replace"] | None = None,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
    ) -> StreamInfo:
        """Change the stream; what is ``None`` stays as it is. Domo's update replaces the
        whole stream, so the stream is read first and sent back with these changes.
        ``configuration`` replaces the whole configuration list.

        Raises:
            ValueError: For an invalid schedule, update method or configuration, before
                anything is sent.
            NotFoundError: If there is no such stream.
        """
    async def update_async(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        provider: str | None = None,
        transport: Mapping[str, Any] | None = None,
        configuration: Mapping[str, object] | Sequence[ConfigurationItem] | None = None,
        account: int | str | Mapping[str, Any] | None = None,
        update_method: Literal["APPEND", "REPLACE", "append", "replace"] | None = None,
        schedule: Schedule | Mapping[str, Any] | str | None = None,
    ) -> StreamInfo:
        """Async twin of :meth:`update`."""
    def executions(self) -> list[StreamExecution]:
        """The stream's execution history, newest first."""
    async def executions_async(self) -> list[StreamExecution]:
        """Async twin of :meth:`executions`."""
    def executions_table(self) -> Table:
        """:meth:`executions` as a table: execution_id, stream_id, state, update_method,
        rows_inserted, bytes_inserted, started_at, ended_at (timestamp[ms, UTC])."""
    async def executions_table_async(self) -> Table:
        """Async twin of :meth:`executions_table`."""
    def execute(self) -> StreamExecution:
        """Run the stream now. Sent once, never retried (a lost answer must not start a
        second run). Returns Domo's answer (the local Domo: the execution).

        Raises:
            NotFoundError: If there is no such stream.
        """
    async def execute_async(self) -> StreamExecution:
        """Async twin of :meth:`execute`."""
    def delete(self) -> None:
        """Delete the stream (``DELETE /v1/streams/{id}``; an OAuth client only); its
        dataset stays. Sent once.

        Raises:
            ValueError: On a token or session client (nothing is sent).
            NotFoundError: If there is no such stream.
        """
    async def delete_async(self) -> None:
        """Async twin of :meth:`delete`."""

@final
class Table:
    """An Arrow table held in Rust memory; converts to pyarrow, polars or pandas.

    Implements the Arrow PyCapsule stream interface, so ``pyarrow.table(t)``,
    ``polars.DataFrame(t)`` and ``duckdb.sql("select * from t")`` read it without copying.
    STRING columns are held as Arrow string views, as polars holds them, so polars
    imports them without copying; every other consumer is handed plain strings
    (``pyarrow.string()``: pyarrow's filter, sort and compare kernels take no views),
    and one that asks for a schema through the interface's requested schema
    (``pyarrow.table(t, schema=...)``) gets that one.
    """

    @property
    def num_rows(self) -> int:
        """The number of rows."""
    @property
    def num_columns(self) -> int:
        """The number of columns."""
    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
    def _repr_html_(self) -> str:
        """The schema (names and Domo types) and the first 10 rows, for a notebook."""
    def __len__(self) -> int:
        """The number of rows."""
    def __arrow_c_schema__(self) -> object:
        """The schema as an Arrow PyCapsule: the one ``__arrow_c_stream__`` hands the same
        consumer (string views for polars, plain strings for anyone else)."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The rows as an Arrow stream PyCapsule.

        Cast to ``requested_schema`` where one is given. Otherwise polars gets the string
        views and copies nothing; other consumers get plain strings (the string bytes
        copied once), every other column without a copy.
        """
    def to_pyarrow(self) -> pyarrow.Table:
        """This table as a ``pyarrow.Table`` (needs pyarrow).

        STRING columns become ``pyarrow.string()``, pyarrow's default, so the table
        filters, sorts and concatenates with tables built in pyarrow; that copies the
        string bytes once, every other column is zero-copy.
        """
    def to_polars(self) -> polars.DataFrame:
        """This table as a ``polars.DataFrame`` (zero-copy, strings included; needs polars)."""
    def to_pandas(
        self, *, decimals: Literal["arrow", "object", "float"] = "arrow", **kwargs: Any
    ) -> pandas.DataFrame:
        """This table as a ``pandas.DataFrame`` (through pyarrow; needs both).

        LONG becomes ``Int64`` (nullable: a null stays ``<NA>``); DATE and DATETIME
        ``datetime64[us]``, naive, in UTC (DATE at midnight); DOUBLE float64; STRING
        pandas' string dtype. ``decimals`` says what DECIMAL columns become: ``"arrow"``
        (the default) ``pandas.ArrowDtype(decimal128(38, 10))``, exact and without a
        copy; ``"object"`` a ``decimal.Decimal`` per value, pyarrow's own default, which
        costs about a second per million values; ``"float"`` float64 (NaN for null), as
        pydomo's frames have them. Other keyword arguments go to
        ``pyarrow.Table.to_pandas``; a ``types_mapper`` given replaces the defaults above
        (``types_mapper=pandas.ArrowDtype`` keeps every column in Arrow memory).
        """

@final
class BatchStream:
    """Record batches arriving from an export or a paged query, as :class:`Table` objects.

    Iterate it (``for``/``async for``), hand it to anything that reads Arrow streams
    (``pyarrow.RecordBatchReader.from_stream``, ``polars.DataFrame``), or collect it with
    :meth:`read_all`. It can be consumed once.
    """

    def _repr_html_(self) -> str:
        """The state (open, consumed or closed) and the schema, for a notebook."""
    def __iter__(self) -> Iterator[Table]:
        """Iterate the batches, each as a :class:`Table`."""
    def __next__(self) -> Table:
        """The next batch; blocks without the GIL until it arrives."""
    def __aiter__(self) -> Self:
        """Iterate the batches with ``async for``."""
    async def __anext__(self) -> Table:
        """The next batch, awaited."""
    def __arrow_c_schema__(self) -> object:
        """The schema as an Arrow PyCapsule: the one ``__arrow_c_stream__`` hands the same
        consumer (string views for polars, plain strings for anyone else)."""
    def __arrow_c_stream__(self, requested_schema: object | None = None) -> object:
        """The remaining batches as an Arrow stream PyCapsule, pulled as the consumer reads.

        Cast to ``requested_schema`` where one is given
        (``pyarrow.RecordBatchReader.from_stream(s, schema=...)``); otherwise STRING
        columns are string views for polars and plain strings for anyone else, as
        :meth:`Table.__arrow_c_stream__` says.
        """
    @property
    def column_names(self) -> list[str]:
        """The column names, in order."""
    def read_all(self) -> Table:
        """Read the remaining batches into one :class:`Table`."""
    def close(self) -> None:
        """Stop the download and release the connection. Idempotent."""
    def __enter__(self) -> Self:
        """The stream itself; leaving the block closes it."""
    def __exit__(
        self,
        exc_type: type[BaseException] | None = None,
        exc: BaseException | None = None,
        tb: TracebackType | None = None,
    ) -> None:
        """Close the stream, whether or not the block raised."""

@final
class Emulator:
    """A local Domo emulator serving on a background thread.

    Prefer :class:`domo_datasets.testing.LocalDomo`, which wraps this.

    Args:
        host: Interface to bind; loopback by default.
        port: Port to bind; ``0`` picks a free one.
        data_dir: Keep state in this folder (survives restarts); in memory if ``None``.
        token: The developer token the emulator accepts (``DEFAULT_TOKEN`` if ``None``).
        email: The email of the user who can log in (``DEFAULT_EMAIL`` if ``None``).
        password: That user's password (``DEFAULT_PASSWORD`` if ``None``).
    """

    DEFAULT_TOKEN: ClassVar[str]
    """``"local-domo-token"``."""
    DEFAULT_EMAIL: ClassVar[str]
    """``"admin@local.domo"``."""
    DEFAULT_PASSWORD: ClassVar[str]
    """``"local-domo-password"``."""

    def __new__(
        cls,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        token: str | None = None,
        email: str | None = None,
        password: str | None = None,
    ) -> Self: ...
    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234``."""
    @property
    def port(self) -> int:
        """The port it serves on."""
    @property
    def token(self) -> str:
        """The developer token it accepts."""
    @property
    def email(self) -> str:
        """The email of the user who can log in."""
    @property
    def password(self) -> str:
        """That user's password."""
    def stop(self) -> None:
        """Stop serving; idempotent."""

def refresh_log_levels() -> None:
    """Re-read Python ``logging`` levels for the ``domo_datasets`` loggers.

    Levels are cached when the module is imported; call this after changing them.
    """

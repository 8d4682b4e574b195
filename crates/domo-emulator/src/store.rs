//! All state lives in one SQLite database: a metadata table of datasets, one data table
//! per dataset (plus a view without the hidden columns, which is what SQL sees), and one
//! staging table per dataset where upload parts wait, invisible, until their commit.
//! Both APIs share it: a dataset made through one is seen by the other.

use std::collections::HashSet;
use std::ffi::c_int;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use rand::Rng;
use rusqlite::hooks::{AuthAction, AuthContext, Authorization};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use serde_json::{Value as Json, json};

use crate::csv;
use crate::errors::ApiError;
use crate::policies::RowFilter;
use crate::sql;
use crate::text;
use crate::types::{DomoType, json_to_value, text_to_value};
pub(crate) use cells::Cells;

mod cells;
mod manage;
mod policies;
mod public;
mod versions;

pub use manage::{ACCESS_LEVELS, ADMIN_ID, GRANTEE_TYPES, Grant, REVOKE_TYPES, rank};
pub use public::{Execution, Stream};
pub use versions::{IndexRequest, Partition};

/// Domo's limit on partitions per dataset.
const MAX_PARTITIONS: i64 = 400;
/// Rows read per lock acquisition while exporting, so an export never holds the
/// database for long and memory stays bounded.
pub const EXPORT_CHUNK_ROWS: usize = 5_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub ty: DomoType,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub seq: i64,
    pub id: String,
    pub name: String,
    pub description: String,
    pub created: i64,
    pub last_updated: i64,
    pub columns: Vec<Column>,
    pub row_count: i64,
}

impl Dataset {
    fn data_table(&self) -> String {
        format!("\"d_{}\"", self.seq)
    }
    fn staging_table(&self) -> String {
        format!("\"s_{}\"", self.seq)
    }
    /// The name SQL queries see for `table`.
    pub fn view(&self) -> String {
        format!("\"v_{}\"", self.seq)
    }
    pub fn stream_id(&self) -> i64 {
        1000 + self.seq
    }
    fn column_list(&self) -> String {
        self.columns
            .iter()
            .map(|c| quote_ident(&c.name))
            .collect::<Vec<_>>()
            .join(", ")
    }
    pub fn schema_json(&self) -> Json {
        json!({
            "columns": self.columns.iter().map(|c| json!({"type": c.ty.name(), "name": c.name})).collect::<Vec<_>>()
        })
    }
}

pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// How a committed upload changes the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Append,
    Replace,
}

impl Action {
    pub fn parse(s: &str) -> Result<Action, ApiError> {
        match s.to_ascii_uppercase().as_str() {
            "APPEND" => Ok(Action::Append),
            "REPLACE" => Ok(Action::Replace),
            _ => Err(ApiError::bad_request(format!(
                "Unknown upload action '{s}'; expected APPEND or REPLACE"
            ))),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Action::Append => "APPEND",
            Action::Replace => "REPLACE",
        }
    }
}

pub struct CommitOutcome {
    pub rows_uploaded: i64,
    pub dataset_rows: i64,
    pub indexed: bool,
}

pub struct QueryResult {
    pub columns: Vec<String>,
    pub types: Vec<DomoType>,
    pub num_rows: usize,
    /// The rows as one JSON array of arrays, rendered as they were read: a large answer
    /// is never held as `serde_json::Value`s.
    pub rows_json: Vec<u8>,
}

/// A query's answer, piece by piece (see `Store::query_stream`).
pub enum QueryEvent {
    Columns {
        names: Vec<String>,
        types: Vec<DomoType>,
    },
    Rows(Vec<u8>),
    Done {
        num_rows: usize,
    },
}

/// Rows are handed on in chunks of about this size as they are rendered.
const QUERY_CHUNK_BYTES: usize = 1 << 20;

#[cfg(test)]
impl QueryResult {
    pub fn rows(&self) -> Vec<Vec<Json>> {
        serde_json::from_slice(&self.rows_json).expect("rendered rows are JSON")
    }
}

struct UploadRow {
    state: String,
    data_tag: Option<String>,
    action: Option<String>,
}

const OPEN: &str = "OPEN";
const PENDING_INDEX: &str = "PENDING_INDEX";
const COMMITTED: &str = "COMMITTED";
const ABORTED: &str = "ABORTED";

/// The writer connection makes every change; queries and exports run on reader
/// connections of the same database in WAL mode, so a long read never holds the lock an
/// upload waits for, and writes never stall a read (each read sees the last commit
/// before it started).
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
    /// Idle readers, ready for the next query or export chunk.
    readers: Mutex<Vec<Reader>>,
    timeout: Arc<Mutex<Option<Duration>>>,
    /// The private folder of a store kept for this process only, removed on drop.
    scratch: Option<PathBuf>,
}

/// Readers kept open between requests; more are opened when more reads run at once.
const IDLE_READERS: usize = 4;

/// A read-only connection with its own query limits (the authorizer and progress
/// handler are per connection, so each reader confines its own query).
struct Reader {
    conn: Connection,
    limits: Arc<QueryLimits>,
}

/// A reader lent out by `Store::reader`, given back to the pool when dropped.
struct Lent<'a> {
    store: &'a Store,
    reader: Option<Reader>,
}

impl std::ops::Deref for Lent<'_> {
    type Target = Reader;
    fn deref(&self) -> &Reader {
        // Taken only in drop.
        self.reader.as_ref().unwrap_or_else(|| unreachable!())
    }
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        if let Some(reader) = self.reader.take() {
            let mut idle = lock_any(&self.store.readers);
            if idle.len() < IDLE_READERS {
                idle.push(reader);
            }
        }
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if let Some(dir) = &self.scratch {
            // Open connections do not keep unlinked files from going (POSIX); elsewhere
            // the folder is left to the system's temporary-file cleaning.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// How long a query may run unless configured otherwise: about what the live service
/// allows (api-facts: "runs at most ~60 s").
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many SQLite virtual-machine steps pass between two looks at the clock.
const PROGRESS_STEPS: c_int = 10_000;

/// What a user's SQL may read and until when it may run. The authorizer and progress
/// handler that enforce it are installed on a reader once, at open; they act only while
/// a user's query is armed (`Armed`), so the store's own reads (exports) are unaffected.
#[derive(Default)]
struct QueryLimits {
    scope: Mutex<Option<Scope>>,
    /// Shared by every reader: the store's setting.
    timeout: Arc<Mutex<Option<Duration>>>,
    /// Set by the progress handler when it interrupts a query past its deadline.
    timed_out: AtomicBool,
    /// Set by the authorizer when it refuses something a query names.
    denied: AtomicBool,
}

/// The objects one armed query may read, and its deadline.
struct Scope {
    /// `v_N`: what `table` is rewritten to.
    view: String,
    /// `d_N`: the view's table.
    data: String,
    /// Every table, view and index of the database, lowercased (SQLite's names are
    /// case-insensitive): what a query may not read unless it is `view` or `data`.
    stored: HashSet<String>,
    deadline: Instant,
}

fn lock_any<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl QueryLimits {
    fn timeout(&self) -> Duration {
        lock_any(&self.timeout).unwrap_or(DEFAULT_QUERY_TIMEOUT)
    }

    /// Statement by statement, as SQLite compiles it: a user's query may select, call
    /// functions and recurse, and read its own dataset's view and the table under it.
    /// Anything else (another dataset, the emulator's tables, `sqlite_master`, PRAGMA,
    /// ATTACH, writes) is refused.
    fn authorize(&self, ctx: AuthContext<'_>) -> Authorization {
        let scope = lock_any(&self.scope);
        let Some(scope) = scope.as_ref() else {
            return Authorization::Allow;
        };
        let allowed = match ctx.action {
            AuthAction::Select | AuthAction::Recursive | AuthAction::Function { .. } => true,
            // The view's own table is read through it, but SQLite does not always name
            // the view as the accessor (a query reading no column checks the table
            // alone): that table holds only this dataset's rows, so it is allowed. A
            // name that is no stored object is a CTE's, whose reads are its own.
            AuthAction::Read { table_name, .. } => {
                let name = table_name.to_ascii_lowercase();
                name == scope.view
                    || name == scope.data
                    || !(scope.stored.contains(&name)
                        || name.starts_with("sqlite_")
                        || name.starts_with("pragma_"))
            }
            _ => false,
        };
        if allowed {
            Authorization::Allow
        } else {
            self.denied.store(true, Ordering::Relaxed);
            Authorization::Deny
        }
    }

    /// Called every `PROGRESS_STEPS` steps; `true` interrupts the statement.
    fn past_deadline(&self) -> bool {
        let late = lock_any(&self.scope)
            .as_ref()
            .is_some_and(|s| Instant::now() >= s.deadline);
        if late {
            self.timed_out.store(true, Ordering::Relaxed);
        }
        late
    }
}

/// A user's query in progress: its scope stays armed until this is dropped, even when
/// the query panics.
struct Armed<'a>(&'a QueryLimits);

impl<'a> Armed<'a> {
    fn new(limits: &'a QueryLimits, ds: &Dataset, stored: HashSet<String>) -> Self {
        limits.timed_out.store(false, Ordering::Relaxed);
        limits.denied.store(false, Ordering::Relaxed);
        *lock_any(&limits.scope) = Some(Scope {
            view: format!("v_{}", ds.seq),
            data: format!("d_{}", ds.seq),
            stored,
            deadline: Instant::now() + limits.timeout(),
        });
        Armed(limits)
    }
}

impl Drop for Armed<'_> {
    fn drop(&mut self) {
        *lock_any(&self.0.scope) = None;
    }
}

impl Store {
    /// Opens the durable store at `path`, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>) -> rusqlite::Result<Store> {
        let cannot = |what: &str, e: std::io::Error| {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                Some(format!("{what}: {e}")),
            )
        };
        // Readers and the writer share one database, which takes a file: a store kept
        // for this process only lives in a private temporary folder.
        let (path, scratch) = match path {
            Some(p) => (p.to_owned(), None),
            None => {
                let dir = std::env::temp_dir().join(format!(
                    "domo-emulator-{}-{}",
                    std::process::id(),
                    crate::auth::random_token(12)
                ));
                let mut builder = std::fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                builder
                    .create(&dir)
                    .map_err(|e| cannot(&format!("cannot create {}", dir.display()), e))?;
                (dir.join("domo.sqlite"), Some(dir))
            }
        };
        private_file(&path)
            .map_err(|e| cannot(&format!("cannot make {} private", path.display()), e))?;
        let conn = Connection::open(&path)?;
        // WAL lets readers and the writer work side by side, keeps a crash from losing
        // committed uploads, and lets the file be read while the emulator runs. A store
        // for this process only has no crash to survive.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let sync = if scratch.is_some() { "OFF" } else { "NORMAL" };
        conn.pragma_update(None, "synchronous", sync)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        sql::register_functions(&conn)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS _datasets (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                name TEXT NOT NULL,
                description TEXT NOT NULL DEFAULT '',
                created INTEGER NOT NULL,
                last_updated INTEGER NOT NULL,
                schema_json TEXT NOT NULL,
                row_count INTEGER NOT NULL DEFAULT 0
            );
            CREATE TABLE IF NOT EXISTS _uploads (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                dataset_id TEXT NOT NULL,
                data_tag TEXT,
                action TEXT,
                created INTEGER NOT NULL,
                state TEXT NOT NULL,
                committed_at INTEGER,
                row_count INTEGER
            );
            CREATE TABLE IF NOT EXISTS _upload_parts (
                upload_id INTEGER NOT NULL,
                part INTEGER NOT NULL,
                rows INTEGER NOT NULL,
                bytes INTEGER NOT NULL,
                first_rowid INTEGER,
                last_rowid INTEGER,
                PRIMARY KEY (upload_id, part)
            );
            CREATE TABLE IF NOT EXISTS _streams (
                dataset_id TEXT PRIMARY KEY,
                update_method TEXT NOT NULL,
                created INTEGER NOT NULL,
                modified INTEGER NOT NULL,
                deleted INTEGER NOT NULL DEFAULT 0
            );",
        )?;
        // Stores made before staged parts were located by rowid range.
        let has_ranges = conn
            .prepare("SELECT 1 FROM pragma_table_info('_upload_parts') WHERE name = 'first_rowid'")?
            .exists([])?;
        if !has_ranges {
            conn.execute_batch(
                "ALTER TABLE _upload_parts ADD COLUMN first_rowid INTEGER;
                 ALTER TABLE _upload_parts ADD COLUMN last_rowid INTEGER;",
            )?;
        }
        conn.execute_batch(manage::MANAGE_TABLES)?;
        manage::hash_stored_credentials(&conn)?;
        conn.execute_batch(versions::SCHEMA)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path,
            readers: Mutex::new(Vec::new()),
            timeout: Arc::default(),
            scratch,
        })
    }

    /// Sets how long later queries may run (`None`: the default).
    pub fn set_query_timeout(&self, timeout: Option<Duration>) {
        *lock_any(&self.timeout) = timeout;
    }

    /// An idle reader, or a new one.
    fn reader(&self) -> Result<Lent<'_>, ApiError> {
        let idle = lock_any(&self.readers).pop();
        let reader = match idle {
            Some(r) => r,
            None => self.open_reader()?,
        };
        Ok(Lent {
            store: self,
            reader: Some(reader),
        })
    }

    fn open_reader(&self) -> rusqlite::Result<Reader> {
        let mut conn = Connection::open(&self.path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Writes go through the writer only; the authorizer refuses them in user SQL too.
        conn.pragma_update(None, "query_only", true)?;
        sql::register_functions(&conn)?;
        let limits = Arc::new(QueryLimits {
            timeout: self.timeout.clone(),
            ..QueryLimits::default()
        });
        let l = limits.clone();
        conn.authorizer(Some(move |ctx: AuthContext<'_>| l.authorize(ctx)))?;
        let l = limits.clone();
        conn.progress_handler(PROGRESS_STEPS, Some(move || l.past_deadline()))?;
        Ok(Reader { conn, limits })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic mid-transaction rolls that transaction back when it unwinds, so the
        // connection behind a poisoned lock is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn create_dataset(
        &self,
        name: &str,
        description: &str,
        columns: Vec<Column>,
    ) -> Result<Dataset, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = create_dataset_in(&tx, name, description, columns)?;
        tx.commit()?;
        Ok(ds)
    }

    pub fn dataset(&self, id: &str) -> Result<Dataset, ApiError> {
        load_dataset(&self.lock(), id)
    }

    pub fn datasets(&self) -> Result<Vec<Dataset>, ApiError> {
        let conn = self.lock();
        let ids: Vec<String> = conn
            .prepare("SELECT id FROM _datasets ORDER BY seq")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        ids.iter().map(|id| load_dataset(&conn, id)).collect()
    }

    pub fn delete_dataset(&self, id: &str) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, id)?;
        drop_dataset(&tx, &ds)?;
        tx.commit()?;
        Ok(())
    }

    /// Wipes every dataset and upload; upload ids start again from 1.
    pub fn reset(&self) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ids: Vec<String> = tx
            .prepare("SELECT id FROM _datasets")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for id in ids {
            let ds = load_dataset(&tx, &id)?;
            drop_dataset(&tx, &ds)?;
        }
        tx.execute_batch(
            "DELETE FROM _uploads; DELETE FROM _upload_parts; DELETE FROM _streams;
             DELETE FROM sqlite_sequence WHERE name IN ('_uploads', '_datasets');",
        )?;
        tx.execute_batch(manage::MANAGE_RESET)?;
        tx.execute_batch(versions::RESET)?;
        tx.commit()?;
        self.set_query_timeout(None);
        Ok(())
    }

    // ---- SQL ----

    /// Runs a query and collects its answer.
    pub fn query(&self, id: &str, sql_text: &str) -> Result<QueryResult, ApiError> {
        let mut result = QueryResult {
            columns: Vec::new(),
            types: Vec::new(),
            num_rows: 0,
            rows_json: Vec::new(),
        };
        self.query_stream(id, sql_text, &mut |event| {
            match event {
                QueryEvent::Columns { names, types } => {
                    (result.columns, result.types) = (names, types)
                }
                QueryEvent::Rows(chunk) => result.rows_json.extend_from_slice(&chunk),
                QueryEvent::Done { num_rows } => result.num_rows = num_rows,
            }
            ControlFlow::Continue(())
        })?;
        Ok(result)
    }

    /// Runs a query and hands its answer to `emit` as it is rendered: the columns, the
    /// rows (one JSON array, in chunks of about `QUERY_CHUNK_BYTES`), then the count.
    /// The query stops, unfinished, when `emit` breaks (nobody is listening any more).
    /// When every column has a declared type (columns of the table do) the columns come
    /// first; otherwise types are inferred from all values, which are rendered first.
    pub fn query_stream(
        &self,
        id: &str,
        sql_text: &str,
        emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
    ) -> Result<(), ApiError> {
        self.query_stream_of(id, sql_text, None, emit)
    }

    /// [`Store::query_stream`] over the rows `rows` (a PDP filter) lets through.
    pub fn query_stream_of(
        &self,
        id: &str,
        sql_text: &str,
        rows: Option<&RowFilter>,
        emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
    ) -> Result<(), ApiError> {
        let reader = self.reader()?;
        let conn = &reader.conn;
        let ds = load_dataset(conn, id)?;
        let stored = conn
            .prepare("SELECT lower(name) FROM sqlite_schema UNION SELECT lower(name) FROM sqlite_temp_schema")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<HashSet<String>, _>>()?;
        let cap = versions::answer_row_cap(conn)?;
        let limits = &*reader.limits;
        let armed = Armed::new(limits, &ds, stored);
        let out = query_in(conn, &ds, sql_text, rows, cap, emit);
        drop(armed);
        if limits.timed_out.load(Ordering::Relaxed) {
            // A query past its time would be as slow again if retried, so this is the
            // client's 400 rather than a 5xx that clients retry.
            return Err(ApiError::bad_request(format!(
                "Query timed out: it ran longer than {} s",
                limits.timeout().as_secs_f64()
            )));
        }
        if out.is_err() && limits.denied.load(Ordering::Relaxed) {
            // Names neither what was refused nor its columns: another dataset's
            // existence or schema is none of this query's business.
            return Err(ApiError::bad_request(
                "Invalid SQL: a query can read only its own dataset, as `table`",
            ));
        }
        out
    }
}

/// `Store::query_stream` once the dataset is found and the query armed.
fn query_in(
    conn: &Connection,
    ds: &Dataset,
    sql_text: &str,
    filter: Option<&RowFilter>,
    cap: usize,
    emit: &mut dyn FnMut(QueryEvent) -> ControlFlow<()>,
) -> Result<(), ApiError> {
    let rewritten = sql::rewrite_sql(sql_text, &ds.view()).map_err(ApiError::bad_request)?;
    let invalid = |e: rusqlite::Error| {
        let message = in_user_terms(&sqlite_message(&e), ds);
        ApiError::bad_request(format!("Invalid SQL: {message}"))
    };
    // rusqlite's statement says what the answer's columns are and refuses what is not
    // one read-only statement; the rows are read through `Cells`.
    let stmt = conn.prepare(&rewritten).map_err(invalid)?;
    if !stmt.readonly() {
        return Err(ApiError::bad_request("Only SELECT queries are supported"));
    }
    let names: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let declared: Vec<Option<DomoType>> = stmt
        .columns()
        .map(|c| c.decl_type().and_then(DomoType::from_decltype))
        .collect();
    // Nothing is bound: a parameter is refused rather than read as NULL.
    let parameters = stmt.parameter_count();
    if parameters > 0 {
        return Err(invalid(rusqlite::Error::InvalidParameterCount(
            0, parameters,
        )));
    }
    drop(stmt);
    // Checked above as written; run over the rows a PDP filter lets through, if any.
    let run = crate::policies::filtered_sql(sql_text, &ds.view(), filter)
        .map_err(ApiError::bad_request)?
        .unwrap_or_else(|| rewritten.clone());
    let rows = || crate::policies::prepare_filtered(conn, &run, filter).map_err(invalid);
    if let Some(types) = declared.iter().copied().collect::<Option<Vec<DomoType>>>() {
        if emit(QueryEvent::Columns { names, types }).is_break() {
            return Ok(());
        }
        let (num_rows, _) = render_rows(rows()?, &declared, &[], cap, &mut |chunk| {
            emit(QueryEvent::Rows(chunk))
        })?;
        if let Some(num_rows) = num_rows {
            let _ = emit(QueryEvent::Done { num_rows });
        }
        return Ok(());
    }
    let mut rows_json = Vec::new();
    let (mut num_rows, seen) = render_rows(
        rows()?,
        &declared,
        &[],
        cap,
        &mut collect_into(&mut rows_json),
    )?;
    let types: Vec<DomoType> = declared
        .iter()
        .zip(&seen)
        .map(|(d, s)| d.unwrap_or_else(|| s.infer()))
        .collect();
    // An expression mixing text and numbers is reported as STRING; its numbers are then
    // sent as strings too, so a client decoding by the reported type is not surprised.
    let as_text: Vec<usize> = (0..types.len())
        .filter(|&i| {
            types[i] == DomoType::String && declared[i].is_none() && (seen[i].int || seen[i].real)
        })
        .collect();
    if !as_text.is_empty() {
        rows_json.clear();
        (num_rows, _) = render_rows(
            rows()?,
            &declared,
            &as_text,
            cap,
            &mut collect_into(&mut rows_json),
        )?;
    }
    // (Collected whole, so never cut short.)
    let num_rows = num_rows.unwrap_or_default();
    for event in [
        QueryEvent::Columns { names, types },
        QueryEvent::Rows(rows_json),
        QueryEvent::Done { num_rows },
    ] {
        if emit(event).is_break() {
            break;
        }
    }
    Ok(())
}

impl Store {
    // ---- uploads ----

    pub fn start_upload(
        &self,
        dataset_id: &str,
        data_tag: Option<&str>,
        action: Option<&str>,
    ) -> Result<(i64, i64), ApiError> {
        if let Some(a) = action {
            Action::parse(a)?;
        }
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        let now = now_ms();
        conn.execute(
            "INSERT INTO _uploads (dataset_id, data_tag, action, created, state)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![dataset_id, data_tag, action, now, OPEN],
        )?;
        Ok((conn.last_insert_rowid(), now))
    }

    /// Stages one part (replacing an earlier copy of the same part). Returns its row count.
    pub fn put_part(
        &self,
        dataset_id: &str,
        upload_id: i64,
        part: i64,
        text: &str,
    ) -> Result<i64, ApiError> {
        // Parsing is most of the work and needs no lock: concurrent parts parse side by
        // side and only take turns to store.
        let parsed_for = {
            let conn = self.lock();
            let ds = load_dataset(&conn, dataset_id)?;
            // An upload that cannot take the part says so before its data is read.
            open_upload(&conn, &ds, upload_id)?;
            ds
        };
        let mut values = parse_part(&parsed_for, part, text)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        if ds.columns != parsed_for.columns {
            // The schema changed meanwhile; the part is read again for the new one.
            values = parse_part(&ds, part, text)?;
        }
        let rows = insert_part(&tx, &ds, upload_id, part, &values, text.len())?;
        tx.commit()?;
        Ok(rows)
    }

    /// Commits an upload. Values given here win over those given at start; with no
    /// action anywhere the upload appends. With `index == false` the data waits for
    /// `index_dataset`, as Domo's does.
    pub fn commit_upload(
        &self,
        dataset_id: &str,
        upload_id: i64,
        action: Option<&str>,
        data_tag: Option<&str>,
        index: bool,
    ) -> Result<CommitOutcome, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let out = commit_in(&tx, &ds, upload_id, action, data_tag, index)?;
        tx.commit()?;
        Ok(out)
    }

    /// The public API's one-shot import (`PUT /v1/datasets/{id}/data`): one upload with
    /// one part, committed at once, all in one transaction so a bad row leaves the data
    /// as it was.
    pub fn import_csv(
        &self,
        dataset_id: &str,
        text: &str,
        action: Action,
    ) -> Result<CommitOutcome, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state) VALUES (?1, ?2, ?3, ?4)",
            params![ds.id, action.name(), now_ms(), OPEN],
        )?;
        let upload_id = tx.last_insert_rowid();
        stage_part(&tx, &ds, upload_id, 1, text)?;
        let out = commit_in(&tx, &ds, upload_id, None, None, true)?;
        tx.commit()?;
        Ok(out)
    }

    /// Applies every upload committed with `index: false`, oldest first.
    pub fn index_dataset(&self, dataset_id: &str) -> Result<i64, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let pending: Vec<(i64, String, Option<String>)> = tx
            .prepare(
                "SELECT id, action, data_tag FROM _uploads WHERE dataset_id = ?1 AND state = ?2 ORDER BY id",
            )?
            .query_map(params![ds.id, PENDING_INDEX], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })?
            .collect::<Result<_, _>>()?;
        for (id, action, tag) in &pending {
            apply_upload(&tx, &ds, *id, Action::parse(action)?, tag.as_deref())?;
            tx.execute(
                "UPDATE _uploads SET state = ?2 WHERE id = ?1",
                params![id, COMMITTED],
            )?;
        }
        let rows = refresh_counts(&tx, &ds, !pending.is_empty())?;
        tx.commit()?;
        Ok(rows)
    }

    /// The spec's "Append Row to Dataset": rows given as JSON objects, applied at once.
    pub fn append_rows(&self, dataset_id: &str, data: &[Json]) -> Result<(i64, i64), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO _uploads (dataset_id, action, created, state, committed_at, row_count)
             VALUES (?1, 'APPEND', ?2, ?3, ?2, ?4)",
            params![ds.id, now, COMMITTED, data.len() as i64],
        )?;
        let upload_id = tx.last_insert_rowid();
        {
            let placeholders = vec!["?"; ds.columns.len() + 1].join(", ");
            let mut insert = tx.prepare(&format!(
                "INSERT INTO {} ({}, __domo_upload) VALUES ({placeholders})",
                ds.data_table(),
                ds.column_list()
            ))?;
            for (n, row) in data.iter().enumerate() {
                let Json::Object(obj) = row else {
                    return Err(ApiError::bad_request(format!(
                        "data[{n}] is not an object of column name to value"
                    )));
                };
                if let Some(unknown) = obj
                    .keys()
                    .find(|k| !ds.columns.iter().any(|c| &c.name == *k))
                {
                    return Err(ApiError::bad_request(format!(
                        "data[{n}]: DataSource {} has no column '{unknown}'",
                        ds.id
                    )));
                }
                let mut values = Vec::with_capacity(ds.columns.len() + 1);
                for col in &ds.columns {
                    let v = match obj.get(&col.name) {
                        None => Value::Null,
                        Some(j) => json_to_value(col.ty, j).map_err(|why| {
                            ApiError::bad_request(format!(
                                "data[{n}], column '{}' ({}): {why}",
                                col.name,
                                col.ty.name()
                            ))
                        })?,
                    };
                    values.push(v);
                }
                values.push(Value::Integer(upload_id));
                insert.execute(rusqlite::params_from_iter(values.iter()))?;
            }
        }
        refresh_counts(&tx, &ds, true)?;
        tx.commit()?;
        Ok((upload_id, now))
    }

    // ---- export ----

    /// Appends up to `EXPORT_CHUNK_ROWS` rows after `after_rowid` to `out` as CSV, nulls
    /// written as `null`; returns the rowid the next chunk starts after (that of the last
    /// row, when the chunk is full: otherwise there is no next chunk) and the number of
    /// rows.
    #[cfg(test)]
    pub fn export_chunk(
        &self,
        ds: &Dataset,
        after_rowid: i64,
        out: &mut Vec<u8>,
        null: &[u8],
    ) -> Result<(i64, usize), ApiError> {
        self.export_chunk_of(ds, after_rowid, out, null, None)
    }

    /// [`Store::export_chunk`] of the rows `filter` (a PDP filter, parameters from `?2`)
    /// lets through.
    pub fn export_chunk_of(
        &self,
        ds: &Dataset,
        after_rowid: i64,
        out: &mut Vec<u8>,
        null: &[u8],
        filter: Option<&RowFilter>,
    ) -> Result<(i64, usize), ApiError> {
        let reader = self.reader()?;
        let only = filter.map_or_else(String::new, |f| format!(" AND ({})", f.sql));
        let mut rows = crate::policies::prepare_filtered(
            &reader.conn,
            &format!(
                "SELECT __domo_rowid, {} FROM {} WHERE __domo_rowid > ?1{only} ORDER BY __domo_rowid LIMIT {EXPORT_CHUNK_ROWS}",
                ds.column_list(),
                ds.data_table()
            ),
            filter,
        )?;
        rows.bind_i64(1, after_rowid)?;
        let (mut last, mut n, from) = (after_rowid, 0, out.len());
        while rows.step()? {
            // Only a full chunk's last row says where the next chunk starts.
            if n + 1 == EXPORT_CHUNK_ROWS {
                last = rows.get(0).as_i64().map_err(rusqlite::Error::from)?;
            }
            for i in 1..rows.columns() {
                if i > 1 {
                    out.push(b',');
                }
                write_csv_value(out, rows.get(i), null);
            }
            out.push(b'\n');
            n += 1;
        }
        text::make_utf8(out, from);
        Ok((last, n))
    }

    // ---- admin ----

    pub fn uploads_summary(&self) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT u.id, u.dataset_id, u.state, u.action, u.data_tag,
                    (SELECT json_group_array(part) FROM (SELECT part FROM _upload_parts p WHERE p.upload_id = u.id ORDER BY part))
             FROM _uploads u ORDER BY u.id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                let parts: String = r.get(5)?;
                let state: String = r.get(2)?;
                Ok(json!({
                    "id": r.get::<_, i64>(0)?,
                    "dataset": r.get::<_, String>(1)?,
                    "state": state,
                    "committed": state == COMMITTED || state == PENDING_INDEX,
                    "action": r.get::<_, Option<String>>(3)?,
                    "dataTag": r.get::<_, Option<String>>(4)?,
                    "parts": serde_json::from_str::<Json>(&parts).unwrap_or(Json::Null),
                }))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    }
}

/// Creates the state file readable by its owner only (or makes an existing one so): it
/// holds everyone's data. SQLite gives its `-wal` and `-shm` files the same mode.
fn private_file(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .mode(0o600)
            .open(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        for suffix in ["-wal", "-shm"] {
            let mut side = path.as_os_str().to_owned();
            side.push(suffix);
            if std::fs::exists(&side)? {
                std::fs::set_permissions(&side, std::fs::Permissions::from_mode(0o600))?;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(_, Some(msg)) => msg.clone(),
        // SQLite's own words, without the statement it was given (the rewritten SQL).
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

/// A message about a query in the user's terms: the dataset's view, which the user wrote
/// as `table`, is called `table` again.
fn in_user_terms(message: &str, ds: &Dataset) -> String {
    let quoted = ds.view();
    let bare = quoted.trim_matches('"');
    let message = message.replace(&quoted, "table");
    let mut out = String::with_capacity(message.len());
    let mut rest = message.as_str();
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    while let Some(at) = rest.find(bare) {
        let before_ok = !rest[..at].chars().next_back().is_some_and(is_word);
        let after_ok = !rest[at + bare.len()..].chars().next().is_some_and(is_word);
        out.push_str(&rest[..at]);
        out.push_str(if before_ok && after_ok { "table" } else { bare });
        rest = &rest[at + bare.len()..];
    }
    out.push_str(rest);
    out
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

fn load_dataset(conn: &Connection, id: &str) -> Result<Dataset, ApiError> {
    let row = conn
        .query_row(
            "SELECT seq, id, name, description, created, last_updated, schema_json, row_count
             FROM _datasets WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, i64>(4)?,
                    r.get::<_, i64>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, i64>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((seq, id, name, description, created, last_updated, schema, row_count)) = row else {
        return Err(ApiError::dataset_not_found(id));
    };
    let columns = parse_stored_schema(&schema)
        .ok_or_else(|| ApiError::internal(format!("stored schema of {id} is unreadable")))?;
    Ok(Dataset {
        seq,
        id,
        name,
        description,
        created,
        last_updated,
        columns,
        row_count,
    })
}

fn create_dataset_in(
    tx: &Transaction<'_>,
    name: &str,
    description: &str,
    columns: Vec<Column>,
) -> Result<Dataset, ApiError> {
    let now = now_ms();
    let mut ds = Dataset {
        seq: 0,
        id: new_uuid(),
        name: name.to_owned(),
        description: description.to_owned(),
        created: now,
        last_updated: now,
        columns,
        row_count: 0,
    };
    tx.execute(
        "INSERT INTO _datasets (id, name, description, created, last_updated, schema_json)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![
            ds.id,
            ds.name,
            ds.description,
            now,
            ds.schema_json().to_string()
        ],
    )?;
    ds.seq = tx.last_insert_rowid();
    create_tables(tx, &ds)?;
    let names: Vec<&str> = ds.columns.iter().map(|c| c.name.as_str()).collect();
    manage::add_history(
        tx,
        &ds.id,
        "CREATE",
        ADMIN_ID,
        &format!("Dataset created with {} columns.", ds.columns.len()),
    )?;
    tx.execute(
        "INSERT INTO _meta (dataset_id, key, value) VALUES (?1, 'copy', ?2)",
        params![
            ds.id,
            json!({
                "status": "COMPLETED",
                "message": "Dataset copy completed successfully.",
                "datasetId": ds.id,
                "log": [format!("Schema copied: {}", names.join(", ")), "Data copied: 0 rows"],
            })
            .to_string()
        ],
    )?;
    Ok(ds)
}

/// The data and staging tables of `ds`, their indexes, and the view SQL sees.
fn create_tables(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    let typed = ds
        .columns
        .iter()
        .map(|c| format!("{} {}", quote_ident(&c.name), c.ty.decltype()))
        .collect::<Vec<_>>()
        .join(", ");
    let seq = ds.seq;
    tx.execute_batch(&format!(
        "CREATE TABLE {data} (__domo_rowid INTEGER PRIMARY KEY, {typed}, __domo_partition TEXT, __domo_upload INTEGER);
         CREATE INDEX \"d_{seq}__domo_partition\" ON {data}(__domo_partition) WHERE __domo_partition IS NOT NULL;
         CREATE TABLE {staging} (__domo_rowid INTEGER PRIMARY KEY, __domo_upload INTEGER NOT NULL, __domo_part INTEGER NOT NULL, {typed});
         CREATE VIEW {view} AS SELECT {cols} FROM {data};",
        data = ds.data_table(),
        staging = ds.staging_table(),
        view = ds.view(),
        cols = ds.column_list(),
    ))?;
    Ok(())
}

fn open_upload(conn: &Connection, ds: &Dataset, upload_id: i64) -> Result<UploadRow, ApiError> {
    let row = conn
        .query_row(
            "SELECT state, data_tag, action FROM _uploads WHERE id = ?1 AND dataset_id = ?2",
            params![upload_id, ds.id],
            |r| {
                Ok(UploadRow {
                    state: r.get(0)?,
                    data_tag: r.get(1)?,
                    action: r.get(2)?,
                })
            },
        )
        .optional()?;
    let row = row.ok_or_else(|| {
        ApiError::not_found(format!(
            "Upload {upload_id} not found for DataSource {}",
            ds.id
        ))
    })?;
    match row.state.as_str() {
        OPEN => Ok(row),
        ABORTED => Err(ApiError::conflict(format!(
            "Upload {upload_id} has been aborted"
        ))),
        _ => Err(ApiError::conflict(format!(
            "Upload {upload_id} has already been committed"
        ))),
    }
}

fn stage_part(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    part: i64,
    text: &str,
) -> Result<i64, ApiError> {
    let values = parse_part(ds, part, text)?;
    insert_part(tx, ds, upload_id, part, &values, text.len())
}

/// A part's CSV as stored values, row after row (`ds.columns.len()` per row), or the
/// first bad line. Needs no database, so parts are parsed side by side.
fn parse_part(ds: &Dataset, part: i64, text: &str) -> Result<Vec<Value>, ApiError> {
    let ncols = ds.columns.len();
    let mut values: Vec<Value> = Vec::new();
    let mut reader = csv::Reader::new(text);
    let mut fields = Vec::new();
    loop {
        let line = match reader.next_record(&mut fields) {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                return Err(ApiError::bad_request(format!(
                    "Part {part}, line {}: {}",
                    e.line, e.message
                )));
            }
        };
        if fields.len() != ncols {
            return Err(ApiError::bad_request(format!(
                "Part {part}, line {line}: expected {ncols} fields, found {}",
                fields.len()
            )));
        }
        for (i, (f, col)) in fields.iter().zip(&ds.columns).enumerate() {
            if f.is_null() {
                values.push(Value::Null);
                continue;
            }
            let v = text_to_value(col.ty, &f.text).map_err(|why| {
                ApiError::bad_request(format!(
                    "Part {part}, line {line}, column {} '{}' ({}): invalid value '{}': {why}",
                    i + 1,
                    col.name,
                    col.ty.name(),
                    truncate(&f.text, 80)
                ))
            })?;
            values.push(v);
        }
    }
    Ok(values)
}

/// Stages parsed rows as `part` of the upload, replacing an earlier copy of that part.
/// Returns the row count.
fn insert_part(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    part: i64,
    values: &[Value],
    bytes: usize,
) -> Result<i64, ApiError> {
    open_upload(tx, ds, upload_id)?;
    if let Some(earlier) = staged_parts(tx, upload_id)?
        .into_iter()
        .find(|p| p.part == part)
    {
        delete_staged(tx, ds, upload_id, &earlier)?;
    }
    let ncols = ds.columns.len();
    let placeholders = vec!["?"; ncols + 2].join(", ");
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {} (__domo_upload, __domo_part, {}) VALUES ({placeholders})",
        ds.staging_table(),
        ds.column_list()
    ))?;
    let (upload, part_value) = (Value::Integer(upload_id), Value::Integer(part));
    let mut rows = 0i64;
    let mut first_rowid = None;
    for row in values.chunks_exact(ncols) {
        let row = [&upload, &part_value].into_iter().chain(row);
        insert.execute(rusqlite::params_from_iter(row))?;
        first_rowid.get_or_insert_with(|| tx.last_insert_rowid());
        rows += 1;
    }
    // An empty part gets an empty range, not an unbounded one.
    let (first_rowid, last_rowid) = match first_rowid {
        Some(first) => (first, tx.last_insert_rowid()),
        None => (0, -1),
    };
    tx.execute(
        "INSERT OR REPLACE INTO _upload_parts (upload_id, part, rows, bytes, first_rowid, last_rowid)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![upload_id, part, rows, bytes as i64, first_rowid, last_rowid],
    )?;
    Ok(rows)
}

/// A staged part: its rows are the staging rows in its rowid range (unknown for parts
/// staged by older versions), so they are found without an index.
struct StagedPart {
    part: i64,
    rows: i64,
    first_rowid: Option<i64>,
    last_rowid: Option<i64>,
}

/// The condition selecting a staged part's rows, for `staged_params`.
const PART_ROWS: &str =
    "__domo_rowid BETWEEN ?1 AND ?2 AND __domo_upload = ?3 AND __domo_part = ?4";

fn staged_params(upload_id: i64, p: &StagedPart) -> [i64; 4] {
    [
        p.first_rowid.unwrap_or(i64::MIN),
        p.last_rowid.unwrap_or(i64::MAX),
        upload_id,
        p.part,
    ]
}

/// The parts of an upload, in part order.
fn staged_parts(tx: &Transaction<'_>, upload_id: i64) -> Result<Vec<StagedPart>, ApiError> {
    Ok(tx
        .prepare_cached(
            "SELECT part, rows, first_rowid, last_rowid FROM _upload_parts WHERE upload_id = ?1 ORDER BY part",
        )?
        .query_map([upload_id], |r| {
            Ok(StagedPart {
                part: r.get(0)?,
                rows: r.get(1)?,
                first_rowid: r.get(2)?,
                last_rowid: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?)
}

fn delete_staged(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    p: &StagedPart,
) -> Result<(), ApiError> {
    tx.execute(
        &format!("DELETE FROM {} WHERE {PART_ROWS}", ds.staging_table()),
        staged_params(upload_id, p),
    )?;
    Ok(())
}

fn commit_in(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    action: Option<&str>,
    data_tag: Option<&str>,
    index: bool,
) -> Result<CommitOutcome, ApiError> {
    let up = open_upload(tx, ds, upload_id)?;
    let parts: Vec<(i64, i64)> = staged_parts(tx, upload_id)?
        .iter()
        .map(|p| (p.part, p.rows))
        .collect();
    // Upload parts are numbered from 1; stream executions are also sent from 0 (pydomo
    // does), which the routes for uploads never let through.
    let first = match parts.first() {
        Some((0, _)) => 0,
        _ => 1,
    };
    if parts
        .iter()
        .enumerate()
        .any(|(i, (p, _))| *p != i as i64 + first)
    {
        return Err(ApiError::bad_request(format!(
            "Too many non-consecutive part ids: upload {upload_id} has parts {:?}, expected {first}..{}",
            parts.iter().map(|p| p.0).collect::<Vec<_>>(),
            parts.len() as i64 + first - 1
        )));
    }
    let action = match action.or(up.action.as_deref()) {
        Some(a) => Action::parse(a)?,
        None => Action::Append,
    };
    let tag = data_tag.map(str::to_owned).or(up.data_tag);
    let rows_uploaded: i64 = parts.iter().map(|p| p.1).sum();
    tx.execute(
        "UPDATE _uploads SET state = ?2, action = ?3, data_tag = ?4, committed_at = ?5, row_count = ?6 WHERE id = ?1",
        params![
            upload_id,
            if index { COMMITTED } else { PENDING_INDEX },
            action.name(),
            tag,
            now_ms(),
            rows_uploaded
        ],
    )?;
    if index {
        apply_upload(tx, ds, upload_id, action, tag.as_deref())?;
    }
    let dataset_rows = refresh_counts(tx, ds, index)?;
    Ok(CommitOutcome {
        rows_uploaded,
        dataset_rows,
        indexed: index,
    })
}

/// Removes the staged rows of one upload.
fn clear_staged(tx: &Transaction<'_>, ds: &Dataset, upload_id: i64) -> Result<(), ApiError> {
    let others: bool = tx.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM _uploads u JOIN _upload_parts p ON p.upload_id = u.id
             WHERE u.dataset_id = ?1 AND u.id <> ?2 AND u.state IN ('{OPEN}', '{PENDING_INDEX}'))"
        ),
        params![ds.id, upload_id],
        |r| r.get(0),
    )?;
    if others {
        for p in staged_parts(tx, upload_id)? {
            delete_staged(tx, ds, upload_id, &p)?;
        }
    } else {
        // A DELETE without WHERE frees the table's pages at once instead of visiting
        // every row, which for a large upload costs as much as staging it did.
        tx.execute(&format!("DELETE FROM {}", ds.staging_table()), [])?;
    }
    Ok(())
}

fn abort_in(tx: &Transaction<'_>, ds: &Dataset, upload_id: i64) -> Result<(), ApiError> {
    clear_staged(tx, ds, upload_id)?;
    tx.execute(
        "UPDATE _uploads SET state = ?2, committed_at = ?3 WHERE id = ?1",
        params![upload_id, ABORTED, now_ms()],
    )?;
    Ok(())
}

fn parse_stored_schema(text: &str) -> Option<Vec<Column>> {
    let v: Json = serde_json::from_str(text).ok()?;
    v.get("columns")?
        .as_array()?
        .iter()
        .map(|c| {
            Some(Column {
                name: c.get("name")?.as_str()?.to_owned(),
                ty: DomoType::parse(c.get("type")?.as_str()?)?,
            })
        })
        .collect()
}

fn drop_dataset(tx: &Transaction<'_>, ds: &Dataset) -> Result<(), ApiError> {
    tx.execute_batch(&format!(
        "DROP VIEW IF EXISTS {}; DROP TABLE IF EXISTS {}; DROP TABLE IF EXISTS {};",
        ds.view(),
        ds.data_table(),
        ds.staging_table()
    ))?;
    tx.execute(
        "DELETE FROM _upload_parts WHERE upload_id IN (SELECT id FROM _uploads WHERE dataset_id = ?1)",
        [&ds.id],
    )?;
    tx.execute("DELETE FROM _uploads WHERE dataset_id = ?1", [&ds.id])?;
    tx.execute("DELETE FROM _streams WHERE dataset_id = ?1", [&ds.id])?;
    manage::drop_manage(tx, &ds.id)?;
    tx.execute("DELETE FROM _datasets WHERE id = ?1", [&ds.id])?;
    Ok(())
}

/// Moves one upload's staged rows into the data. A partition tag restates exactly that
/// partition (APPEND or REPLACE alike); otherwise REPLACE swaps all rows and APPEND adds.
fn apply_upload(
    tx: &Transaction<'_>,
    ds: &Dataset,
    upload_id: i64,
    action: Action,
    tag: Option<&str>,
) -> Result<(), ApiError> {
    let data = ds.data_table();
    match (tag, action) {
        // A tag restates its partition: APPEND with a tag is the contract's partition
        // flow. What live Domo does with REPLACE and a tag is undocumented; it is read the
        // way that cannot lose data, the same restatement, never a wipe of the dataset.
        (Some(t), _) => {
            tx.execute(
                &format!("DELETE FROM {data} WHERE __domo_partition = ?1"),
                [t],
            )?;
        }
        (None, Action::Replace) => {
            tx.execute(&format!("DELETE FROM {data}"), [])?;
        }
        (None, Action::Append) => {}
    }
    let cols = ds.column_list();
    let mut copy = tx.prepare(&format!(
        "INSERT INTO {data} ({cols}, __domo_partition, __domo_upload)
         SELECT {cols}, ?5, __domo_upload FROM {} WHERE {PART_ROWS} ORDER BY __domo_rowid",
        ds.staging_table()
    ))?;
    for p in staged_parts(tx, upload_id)? {
        let [first, last, upload, part] = staged_params(upload_id, &p);
        copy.execute(params![first, last, upload, part, tag])?;
    }
    clear_staged(tx, ds, upload_id)?;
    if tag.is_some() {
        let partitions: i64 = tx.query_row(
            &format!(
                "SELECT COUNT(DISTINCT __domo_partition) FROM {data} WHERE __domo_partition IS NOT NULL"
            ),
            [],
            |r| r.get(0),
        )?;
        if partitions > MAX_PARTITIONS {
            return Err(ApiError::bad_request(format!(
                "DataSource {} would have {partitions} partitions; the limit is {MAX_PARTITIONS}",
                ds.id
            )));
        }
    }
    Ok(())
}

/// Recounts rows and, when data changed, bumps lastUpdated. Returns the row count.
fn refresh_counts(tx: &Transaction<'_>, ds: &Dataset, changed: bool) -> Result<i64, ApiError> {
    let rows: i64 = tx.query_row(
        &format!("SELECT COUNT(*) FROM {}", ds.data_table()),
        [],
        |r| r.get(0),
    )?;
    if changed {
        tx.execute(
            "UPDATE _datasets SET row_count = ?2, last_updated = ?3 WHERE id = ?1",
            params![ds.id, rows, now_ms()],
        )?;
    }
    Ok(rows)
}

fn write_csv_value(out: &mut Vec<u8>, v: ValueRef<'_>, null: &[u8]) {
    match v {
        ValueRef::Null => out.extend_from_slice(null),
        ValueRef::Integer(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        ValueRef::Real(f) => write_real(out, f),
        ValueRef::Text(t) | ValueRef::Blob(t) => text::write_csv_text(out, t),
    }
}

/// A float as Rust's `Display` writes it (shortest digits that read back the same, never
/// an exponent), through zmij: `Display` was the largest part of writing an export.
fn write_real(out: &mut Vec<u8>, f: f64) {
    let mut buf = zmij::Buffer::new();
    match buf.format(f) {
        // zmij writes `1.0` and exponents where `Display` writes `1` and all digits.
        s if s.bytes().any(|b| b.is_ascii_alphabetic()) => {
            let _ = write!(out, "{f}");
        }
        s => out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes()),
    }
}

pub fn write_csv_header(out: &mut Vec<u8>, ds: &Dataset) {
    for (i, c) in ds.columns.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv::write_text(out, &c.name);
    }
    out.push(b'\n');
}

/// Runs `rows` and renders them as one JSON array of arrays, handed to `emit` in
/// chunks. Columns listed in `as_text` have their numbers written as strings. Returns the
/// row count (`None` if `emit` broke off) and what kinds of values each undeclared
/// (expression) column held.
fn render_rows(
    mut rows: Cells<'_>,
    declared: &[Option<DomoType>],
    as_text: &[usize],
    cap: usize,
    emit: &mut dyn FnMut(Vec<u8>) -> ControlFlow<()>,
) -> Result<(Option<usize>, Vec<Seen>), ApiError> {
    let failed =
        |e: rusqlite::Error| ApiError::bad_request(format!("Query failed: {}", sqlite_message(&e)));
    let mut seen = vec![Seen::default(); declared.len()];
    // Types to infer from the values (expression columns)?
    let inferred = declared.iter().any(Option::is_none);
    let mut out = Vec::with_capacity(QUERY_CHUNK_BYTES + 64 * 1024);
    out.push(b'[');
    let mut n = 0usize;
    // Past the cap the answer is cut, not refused, as the live service cuts it.
    while n < cap && rows.step().map_err(failed)? {
        if n > 0 {
            out.push(b',');
        }
        out.push(b'[');
        for (i, s) in seen.iter_mut().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let v = rows.get(i);
            if inferred {
                if declared[i].is_none() {
                    s.note(&v);
                }
                write_json_cell(&mut out, v, as_text.contains(&i));
            } else {
                write_json_cell(&mut out, v, false);
            }
        }
        out.push(b']');
        n += 1;
        if out.len() >= QUERY_CHUNK_BYTES {
            text::make_utf8(&mut out, 0);
            let next = Vec::with_capacity(out.capacity());
            if emit(std::mem::replace(&mut out, next)).is_break() {
                return Ok((None, seen));
            }
        }
    }
    out.push(b']');
    text::make_utf8(&mut out, 0);
    Ok((emit(out).is_continue().then_some(n), seen))
}

/// An `emit` for `render_rows` that appends every chunk to `all`.
fn collect_into(all: &mut Vec<u8>) -> impl FnMut(Vec<u8>) -> ControlFlow<()> + '_ {
    |chunk| {
        all.extend_from_slice(&chunk);
        ControlFlow::Continue(())
    }
}

/// One cell as JSON; `as_text` writes a number as a string.
fn write_json_cell(out: &mut Vec<u8>, v: ValueRef<'_>, as_text: bool) {
    let quote = if as_text { &b"\""[..] } else { b"" };
    match v {
        // serde_json writes a non-finite float as null, which is what Domo would show.
        ValueRef::Null => out.extend_from_slice(b"null"),
        ValueRef::Real(f) if !f.is_finite() => out.extend_from_slice(b"null"),
        ValueRef::Integer(i) => {
            out.extend_from_slice(quote);
            out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes());
            out.extend_from_slice(quote);
        }
        ValueRef::Real(f) => {
            out.extend_from_slice(quote);
            // What serde_json writes for a finite float.
            out.extend_from_slice(zmij::Buffer::new().format_finite(f).as_bytes());
            out.extend_from_slice(quote);
        }
        ValueRef::Text(t) | ValueRef::Blob(t) => text::write_json_text(out, t),
    }
}

/// What kinds of values an expression column produced, to name its type.
#[derive(Debug, Clone, Default)]
struct Seen {
    int: bool,
    real: bool,
    text: bool,
    not_date: bool,
    not_datetime: bool,
}

impl Seen {
    fn note(&mut self, v: &ValueRef<'_>) {
        match v {
            ValueRef::Null => {}
            ValueRef::Integer(_) => self.int = true,
            ValueRef::Real(_) => self.real = true,
            ValueRef::Text(t) | ValueRef::Blob(t) => {
                self.text = true;
                self.not_date |= !is_iso_date(t);
                self.not_datetime |= !is_iso_datetime(t);
            }
        }
    }

    fn infer(&self) -> DomoType {
        match (self.text, self.int, self.real) {
            (true, false, false) if !self.not_date => DomoType::Date,
            (true, false, false) if !self.not_datetime => DomoType::DateTime,
            (true, _, _) => DomoType::String,
            (false, _, true) => DomoType::Double,
            (false, true, false) => DomoType::Long,
            // All NULL (or no rows): nothing to go on.
            (false, false, false) => DomoType::String,
        }
    }
}

fn digits_at(t: &[u8], idx: &[usize]) -> bool {
    idx.iter()
        .all(|i| t.get(*i).is_some_and(u8::is_ascii_digit))
}

fn is_iso_date(t: &[u8]) -> bool {
    t.len() == 10 && t[4] == b'-' && t[7] == b'-' && digits_at(t, &[0, 1, 2, 3, 5, 6, 8, 9])
}

fn is_iso_datetime(t: &[u8]) -> bool {
    t.len() == 19
        && is_iso_date(&t[..10])
        && t[10] == b'T'
        && t[13] == b':'
        && t[16] == b':'
        && digits_at(t, &[11, 12, 14, 15, 17, 18])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store_with(types: &[(&str, DomoType)]) -> (Store, Dataset) {
        let store = Store::open(None).unwrap();
        let cols = types
            .iter()
            .map(|(n, t)| Column {
                name: (*n).into(),
                ty: *t,
            })
            .collect();
        let ds = store.create_dataset("t", "", cols).unwrap();
        (store, ds)
    }

    #[test]
    fn reals_are_written_as_display_writes_them() {
        for f in [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.1,
            1e-7,
            123456789.125,
            1e15,
            1e16,
            1e21,
            3.4e-300,
            f64::MAX,
            f64::MIN_POSITIVE,
            f64::NAN,
            f64::INFINITY,
        ] {
            let mut out = Vec::new();
            write_real(&mut out, f);
            assert_eq!(String::from_utf8(out).unwrap(), f.to_string());
        }
    }

    #[test]
    fn types_survive_storage_and_queries() {
        let (store, ds) = store_with(&[
            ("s", DomoType::String),
            ("n", DomoType::Long),
            ("x", DomoType::Double),
            ("m", DomoType::Decimal),
            ("d", DomoType::Date),
            ("t", DomoType::DateTime),
        ]);
        let (up, _) = store.start_upload(&ds.id, None, None).unwrap();
        store
            .put_part(
                &ds.id,
                up,
                1,
                "0123,7,1.5,2.25,2024-01-02,2024-01-02 03:04:05\n",
            )
            .unwrap();
        store.commit_upload(&ds.id, up, None, None, true).unwrap();
        let r = store.query(&ds.id, "SELECT * FROM table").unwrap();
        assert_eq!(r.columns, ["s", "n", "x", "m", "d", "t"]);
        let names: Vec<_> = r.types.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            ["STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME"]
        );
        assert_eq!(
            Json::Array(r.rows()[0].clone()),
            json!(["0123", 7, 1.5, 2.25, "2024-01-02", "2024-01-02T03:04:05"])
        );
        let r = store
            .query(
                &ds.id,
                "SELECT COUNT(*) AS c, MAX(d), SUM(x), CAST(d AS DATE) FROM table",
            )
            .unwrap();
        let names: Vec<_> = r.types.iter().map(|t| t.name()).collect();
        assert_eq!(names, ["LONG", "DATE", "DOUBLE", "DATE"]);
        let err = store.query(&ds.id, "SELECT nope FROM table").err().unwrap();
        assert_eq!(err.status.as_u16(), 400);
        assert!(err.message.contains("no such column"), "{}", err.message);
    }

    #[test]
    fn json_numbers_are_what_serde_json_writes() {
        for f in [
            0.0,
            -0.0,
            1.0,
            1.5,
            -281752.8528,
            78408691.0,
            1e16,
            1.7976931348623157e308,
            5e-324,
            0.1 + 0.2,
        ] {
            let mut ours = Vec::new();
            write_json_cell(&mut ours, ValueRef::Real(f), false);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&f).unwrap()
            );
        }
        for i in [0, -1, i64::MIN, i64::MAX] {
            let mut ours = Vec::new();
            write_json_cell(&mut ours, ValueRef::Integer(i), true);
            assert_eq!(String::from_utf8(ours).unwrap(), format!("\"{i}\""));
        }
    }

    #[test]
    fn a_query_with_parameters_is_refused() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        for sql in ["SELECT ? FROM table", "SELECT s FROM table WHERE s = :name"] {
            let Err(e) = store.query(&ds.id, sql) else {
                panic!("{sql} was answered");
            };
            assert!(e.message.starts_with("Invalid SQL: "), "{}", e.message);
            assert!(e.message.contains("parameters"), "{sql}: {}", e.message);
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_answered_with_replacement_characters() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        let r = store
            .query(
                &ds.id,
                "SELECT CAST(x'ff' AS TEXT) AS a, 'caf' || CAST(x'c3' AS TEXT) || '\"' AS b",
            )
            .unwrap();
        assert_eq!(
            String::from_utf8(r.rows_json).unwrap(),
            "[[\"\u{fffd}\",\"caf\u{fffd}\\\"\"]]"
        );
    }

    #[test]
    fn exported_text_that_is_not_utf8_gets_replacement_characters() {
        let (store, ds) = store_with(&[("s", DomoType::String), ("n", DomoType::Long)]);
        store
            .lock()
            .execute_batch(&format!(
                "INSERT INTO {} (s, n) VALUES ('caf' || CAST(x'c3' AS TEXT) || ',', 1)",
                ds.data_table()
            ))
            .unwrap();
        // What is already in the buffer is left as it is.
        let mut out = vec![0xff];
        let (_, n) = store.export_chunk(&ds, i64::MIN, &mut out, b"\\N").unwrap();
        assert_eq!(n, 1);
        assert_eq!(out[0], 0xff);
        assert_eq!(
            std::str::from_utf8(&out[1..]).unwrap(),
            "\"caf\u{fffd},\",1\n"
        );
    }

    #[test]
    fn a_query_nobody_listens_to_stops() {
        let (store, ds) = store_with(&[("s", DomoType::String)]);
        let (up, _) = store.start_upload(&ds.id, None, None).unwrap();
        // Enough rows for several chunks of the answer.
        let row = format!("{}\n", "x".repeat(1000));
        let rows = 3 * QUERY_CHUNK_BYTES / row.len();
        store.put_part(&ds.id, up, 1, &row.repeat(rows)).unwrap();
        store.commit_upload(&ds.id, up, None, None, true).unwrap();
        let count = |stop_after_rows: usize| {
            let (mut chunks, mut done) = (0, false);
            store
                .query_stream(&ds.id, "SELECT * FROM table", &mut |event| {
                    match event {
                        QueryEvent::Rows(_) => chunks += 1,
                        QueryEvent::Done { .. } => done = true,
                        QueryEvent::Columns { .. } => {}
                    }
                    if chunks == stop_after_rows {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    }
                })
                .unwrap();
            (chunks, done)
        };
        let (all, done) = count(usize::MAX);
        assert!(all >= 3 && done, "{all} chunks");
        assert_eq!(count(1), (1, false));
    }
}

//! What a user's SQL may read and for how long: the authorizer and the clock.

use super::*;

/// How long a query may run unless configured otherwise: about what the live service
/// allows (api-facts: "runs at most ~60 s").
pub const DEFAULT_QUERY_TIMEOUT: Duration = Duration::from_secs(60);
/// How many SQLite virtual-machine steps pass between two looks at the clock.
pub(super) const PROGRESS_STEPS: c_int = 10_000;

/// What a user's SQL may read and until when it may run. The authorizer and progress
/// handler that enforce it are installed on a reader once, at open; they act only while
/// a user's query is armed (`Armed`), so the store's own reads (exports) are unaffected.
#[derive(Default)]
pub(super) struct QueryLimits {
    pub(super) scope: Mutex<Option<Scope>>,
    /// Shared by every reader: the store's setting.
    pub(super) timeout: Arc<Mutex<Option<Duration>>>,
    /// Set by the progress handler when it interrupts a query past its deadline.
    pub(super) timed_out: AtomicBool,
    /// Set by the authorizer when it refuses something a query names.
    pub(super) denied: AtomicBool,
}

/// The objects one armed query may read, and its deadline.
pub(super) struct Scope {
    /// `v_N`: what `table` is rewritten to.
    view: String,
    /// `d_N`: the view's table.
    data: String,
    /// Every table, view and index of the database, lowercased (SQLite's names are
    /// case-insensitive): what a query may not read unless it is `view` or `data`.
    stored: HashSet<String>,
    deadline: Instant,
}

impl QueryLimits {
    pub(super) fn timeout(&self) -> Duration {
        lock_any(&self.timeout).unwrap_or(DEFAULT_QUERY_TIMEOUT)
    }

    /// Statement by statement, as SQLite compiles it: a user's query may select, call
    /// functions and recurse, and read its own dataset's view and the table under it.
    /// Anything else (another dataset, the emulator's tables, `sqlite_master`, PRAGMA,
    /// ATTACH, writes) is refused.
    pub(super) fn authorize(&self, ctx: AuthContext<'_>) -> Authorization {
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
    pub(super) fn past_deadline(&self) -> bool {
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
pub(super) struct Armed<'a>(&'a QueryLimits);

impl<'a> Armed<'a> {
    pub(super) fn new(limits: &'a QueryLimits, ds: &Dataset, stored: HashSet<String>) -> Self {
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

//! Statements whose every stored value is read: exports and query answers.
//!
//! rusqlite's `Row::get_ref` costs an index check and three or four C calls per value
//! (`column_count`, `column_type`, then `column_text` and `column_bytes`, each looking the
//! column up again); on a million-row export that was a quarter of the emulator's time.
//! Here a value is looked up once (`sqlite3_column_value`) and read from there. This is
//! the emulator's only `unsafe` code; everything else goes through rusqlite.

use std::ffi::{CStr, c_int};
use std::marker::PhantomData;
use std::ptr::NonNull;

use rusqlite::Connection;
use rusqlite::ffi;
use rusqlite::types::ValueRef;

/// A prepared statement of one connection, stepped row by row.
pub struct Cells<'conn> {
    stmt: NonNull<ffi::sqlite3_stmt>,
    db: *mut ffi::sqlite3,
    columns: usize,
    // The statement must not outlive (or be used beside a closing of) its connection.
    _conn: PhantomData<&'conn Connection>,
}

impl<'conn> Cells<'conn> {
    /// Compiles the first statement of `sql` on `conn`, as rusqlite reads it (up to a
    /// NUL, if any). Only the first statement runs: callers that take SQL from users have
    /// rusqlite refuse several first.
    pub fn prepare(conn: &'conn Connection, sql: &str) -> rusqlite::Result<Self> {
        let len = c_int::try_from(sql.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        // SAFETY: `conn` is open for 'conn, which the statement cannot outlive; `handle`
        // is only used for calls on this same connection, from the thread holding it.
        let db = unsafe { conn.handle() };
        let mut stmt = std::ptr::null_mut();
        // SAFETY: `sql` holds `len` bytes across the call (SQLite reads no further, and
        // stops at a NUL); `stmt` is written by SQLite (null when there is no statement).
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(
                db,
                sql.as_ptr().cast(),
                len,
                &mut stmt,
                std::ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(last_error(db, rc));
        }
        let stmt = NonNull::new(stmt).ok_or(rusqlite::Error::Empty)?;
        // SAFETY: a live statement.
        let columns = unsafe { ffi::sqlite3_column_count(stmt.as_ptr()) };
        Ok(Self {
            stmt,
            db,
            columns: usize::try_from(columns).unwrap_or_default(),
            _conn: PhantomData,
        })
    }

    /// Number of result columns.
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// Binds an integer to parameter `index` (from 1), before the first step.
    pub fn bind_i64(&mut self, index: c_int, value: i64) -> rusqlite::Result<()> {
        // SAFETY: a live statement; SQLite checks the index.
        let rc = unsafe { ffi::sqlite3_bind_int64(self.stmt.as_ptr(), index, value) };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(last_error(self.db, rc))
        }
    }

    /// Binds text to parameter `index` (from 1), before the first step; SQLite copies it.
    pub fn bind_text(&mut self, index: c_int, value: &str) -> rusqlite::Result<()> {
        let len = c_int::try_from(value.len()).map_err(|_| rusqlite::Error::InvalidQuery)?;
        // SAFETY: a live statement; `value` holds `len` bytes across the call, and
        // SQLITE_TRANSIENT makes SQLite copy them before it returns.
        let rc = unsafe {
            ffi::sqlite3_bind_text(
                self.stmt.as_ptr(),
                index,
                value.as_ptr().cast(),
                len,
                ffi::SQLITE_TRANSIENT(),
            )
        };
        if rc == ffi::SQLITE_OK {
            Ok(())
        } else {
            Err(last_error(self.db, rc))
        }
    }

    /// Moves to the next row: `false` once there is none. (Stepping on after that, or
    /// after an error, would run the statement again: callers stop.)
    pub fn step(&mut self) -> rusqlite::Result<bool> {
        // SAFETY: a live statement; `&mut self` ends every borrow of the previous row's
        // values, which stepping invalidates.
        match unsafe { ffi::sqlite3_step(self.stmt.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(last_error(self.db, rc)),
        }
    }

    /// The current row's value in column `i` (`i < columns()`), valid until the next step.
    #[inline]
    pub fn get(&self, i: usize) -> ValueRef<'_> {
        assert!(i < self.columns, "column {i} of {}", self.columns);
        let stmt = self.stmt.as_ptr();
        // In range, checked above.
        let i = i as c_int;
        // SAFETY: a live statement on a row (before the first step or after the last,
        // SQLite answers NULL). The value is SQLite's own, unchanged until the next step
        // or reset, both of which take `&mut self`. Type first, then the value, then its
        // length, as SQLite asks, so no conversion moves the bytes after they are read.
        unsafe {
            let value = ffi::sqlite3_column_value(stmt, i);
            match ffi::sqlite3_value_type(value) {
                ffi::SQLITE_INTEGER => ValueRef::Integer(ffi::sqlite3_value_int64(value)),
                ffi::SQLITE_FLOAT => ValueRef::Real(ffi::sqlite3_value_double(value)),
                ffi::SQLITE_TEXT => ValueRef::Text(bytes(
                    ffi::sqlite3_value_text(value),
                    ffi::sqlite3_value_bytes(value),
                )),
                ffi::SQLITE_BLOB => ValueRef::Blob(bytes(
                    ffi::sqlite3_value_blob(value).cast(),
                    ffi::sqlite3_value_bytes(value),
                )),
                _ => ValueRef::Null,
            }
        }
    }
}

impl Drop for Cells<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement is live and finalized once, here.
        unsafe { ffi::sqlite3_finalize(self.stmt.as_ptr()) };
    }
}

/// The bytes at `ptr` (which may be null when `len` is 0).
///
/// # Safety
/// `ptr` must point to `len` bytes that stay valid and unchanged for `'a`.
unsafe fn bytes<'a>(ptr: *const u8, len: c_int) -> &'a [u8] {
    let len = usize::try_from(len).unwrap_or_default();
    if len == 0 {
        return &[];
    }
    // SQLite answers null for a value it could not make (out of memory); as rusqlite does,
    // that is not read as empty text.
    assert!(!ptr.is_null(), "SQLite gave no bytes for a value of {len}");
    // SAFETY: as the caller promises.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// The connection's error for return code `rc`, as rusqlite reports it.
fn last_error(db: *mut ffi::sqlite3, rc: c_int) -> rusqlite::Error {
    // SAFETY: `db` is a live connection; its message is copied before any other call.
    let message = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db)) }
        .to_string_lossy()
        .into_owned();
    rusqlite::Error::SqliteFailure(ffi::Error::new(rc), Some(message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    #[test]
    fn values_read_as_rusqlite_reads_them() {
        let conn = conn();
        let sql = "SELECT NULL, 42, -9223372036854775808, 1.5, '', 'Zürich, \"x\"', \
                   'a' || char(0) || 'b', x'', x'00ff', CAST(x'ff' AS TEXT)";
        let mut ours = Cells::prepare(&conn, sql).unwrap();
        assert!(ours.step().unwrap());
        let mut stmt = conn.prepare(sql).unwrap();
        let mut rows = stmt.query([]).unwrap();
        let row = rows.next().unwrap().unwrap();
        assert_eq!(ours.columns(), 10);
        for i in 0..ours.columns() {
            assert_eq!(ours.get(i), row.get_ref(i).unwrap(), "column {i}");
        }
        assert!(!ours.step().unwrap());
    }

    #[test]
    fn rows_come_in_order_with_a_bound_parameter() {
        let conn = conn();
        conn.execute_batch("CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1), (2), (3);")
            .unwrap();
        let mut rows = Cells::prepare(&conn, "SELECT a FROM t WHERE a > ?1 ORDER BY a").unwrap();
        let Err(rusqlite::Error::SqliteFailure(e, _)) = rows.bind_i64(2, 0) else {
            panic!("there is no second parameter");
        };
        assert_eq!(e.extended_code, ffi::SQLITE_RANGE);
        rows.bind_i64(1, 1).unwrap();
        let mut seen = Vec::new();
        while rows.step().unwrap() {
            seen.push(rows.get(0).as_i64().unwrap());
        }
        assert_eq!(seen, [2, 3]);
    }

    #[test]
    fn errors_carry_sqlite_s_message() {
        let conn = conn();
        let Err(rusqlite::Error::SqliteFailure(_, Some(message))) =
            Cells::prepare(&conn, "SELEC 1")
        else {
            panic!("a syntax error was accepted");
        };
        assert!(message.contains("syntax error"), "{message}");
        let mut rows = Cells::prepare(&conn, "SELECT abs(-9223372036854775808)").unwrap();
        let Err(rusqlite::Error::SqliteFailure(_, Some(message))) = rows.step() else {
            panic!("an integer overflow was not reported");
        };
        assert!(message.contains("overflow"), "{message}");
        // Read up to a NUL, as rusqlite reads it.
        let mut rows = Cells::prepare(&conn, "SELECT 7\0 garbage").unwrap();
        assert!(rows.step().unwrap());
        assert_eq!(rows.get(0), ValueRef::Integer(7));
        assert!(matches!(
            Cells::prepare(&conn, "  "),
            Err(rusqlite::Error::Empty)
        ));
    }
}

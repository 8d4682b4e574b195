//! Exports: the dataset's rows as CSV, chunk by chunk.

use super::*;

/// Rows read per lock acquisition while exporting, so an export never holds the
/// database for long and memory stays bounded.
pub const EXPORT_CHUNK_ROWS: usize = 5_000;

impl Store {
    /// Appends up to `EXPORT_CHUNK_ROWS` rows after `after_rowid` that `filter` (a PDP
    /// filter, its parameters numbered from `?2`) lets through to `out` as CSV, nulls
    /// written as `null`; returns the rowid the next chunk starts after (that of the last
    /// row, when the chunk is full: otherwise there is no next chunk) and the number of
    /// rows.
    pub fn export_chunk(
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
}

pub(super) fn write_csv_value(out: &mut Vec<u8>, v: ValueRef<'_>, null: &[u8]) {
    match v {
        ValueRef::Null => out.extend_from_slice(null),
        ValueRef::Integer(i) => out.extend_from_slice(itoa::Buffer::new().format(i).as_bytes()),
        ValueRef::Real(f) => write_real(out, f),
        ValueRef::Text(t) | ValueRef::Blob(t) => text::write_csv_text(out, t),
    }
}

/// A float as Rust's `Display` writes it (shortest digits that read back the same, never
/// an exponent), through zmij: `Display` was the largest part of writing an export.
pub(super) fn write_real(out: &mut Vec<u8>, f: f64) {
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

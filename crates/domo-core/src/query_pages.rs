//! Query results too large for one answer, read page by page with bounded memory.
//!
//! Domo has no cursor: pages are the user's SQL with `LIMIT n OFFSET m` appended, which is
//! only well defined under an ORDER BY on a unique key. Pages are fetched a few ahead,
//! concurrently. Each page is its own query, so rows that change while the pages are read
//! may be missed or repeated: read a dataset that is not being written to.

use futures::StreamExt;

use crate::batches::{BatchSender, BatchStream, send};
use crate::codec::query::DecodedRows;
use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::progress::ReadProgressFn;

pub const MAX_PREFETCH: usize = 16;

/// Words of `sql` outside quotes and comments, upper-cased.
fn words(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' | '`' => {
                // Doubled quotes inside are two quoted runs: skipping both is the same.
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            c if c.is_alphanumeric() || c == '_' => {
                word.push(c.to_ascii_uppercase());
                continue;
            }
            _ => {}
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Checks that `sql` can be paged and returns it without a trailing semicolon.
pub fn pageable(sql: &str) -> Result<&str> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    if sql.is_empty() {
        return Err(Error::invalid("the SQL is empty"));
    }
    let words = words(sql);
    if !words.windows(2).any(|w| w[0] == "ORDER" && w[1] == "BY") {
        return Err(Error::invalid(
            "paging needs a stable order: add ORDER BY on columns that identify a row",
        ));
    }
    if words.iter().any(|w| w == "LIMIT" || w == "OFFSET") {
        return Err(Error::invalid(
            "the SQL already has LIMIT or OFFSET; paging adds its own",
        ));
    }
    Ok(sql)
}

impl Dataset {
    /// Runs `sql` page by page (`page_size` rows each, `prefetch` pages in flight) and
    /// streams the pages as batches. Returns once the first page has arrived. `progress`
    /// hears the rows handed on; a query's total is known only at its end.
    pub async fn query_pages(
        &self,
        sql: &str,
        page_size: usize,
        prefetch: usize,
        progress: Option<ReadProgressFn>,
    ) -> Result<BatchStream> {
        let sql = pageable(sql)?.to_string();
        if page_size == 0 {
            return Err(Error::invalid("page_size must be at least 1"));
        }
        if !(1..=MAX_PREFETCH).contains(&prefetch) {
            return Err(Error::invalid(format!(
                "prefetch must be between 1 and {MAX_PREFETCH}, not {prefetch}"
            )));
        }
        let page =
            move |sql: &str, n: usize| format!("{sql} LIMIT {page_size} OFFSET {}", n * page_size);
        let first = self.query(&page(&sql, 0)).await?;
        let schema = first.schema.clone();
        let ds = self.clone();
        let stream = BatchStream::spawn(schema.clone(), move |tx| async move {
            let full = first.num_rows() == page_size;
            // The first page is sent even if empty: the stream then yields one empty
            // table with the columns.
            for batch in first.batches {
                send(&tx, batch).await?;
            }
            if !full {
                return Ok(());
            }
            let mut pages = futures::stream::iter(1..)
                .map(|n| {
                    let (ds, sql) = (ds.clone(), page(&sql, n));
                    async move { ds.query(&sql).await }
                })
                .buffered(prefetch);
            while let Some(decoded) = pages.next().await {
                let decoded = decoded?;
                if decoded.schema.fields() != schema.fields() {
                    return Err(Error::invalid(format!(
                        "a later page came back with columns {} instead of {}",
                        decoded.schema, schema
                    )));
                }
                let rows = decoded.num_rows();
                send_page(&tx, decoded).await?;
                if rows < page_size {
                    break;
                }
            }
            Ok(())
        });
        Ok(stream.with_progress(
            progress,
            "the query was stopped by its progress callback",
            None,
        ))
    }
}

/// Sends a page's non-empty batches.
async fn send_page(tx: &BatchSender, page: DecodedRows) -> Result<()> {
    for batch in page.batches {
        if batch.num_rows() > 0 {
            send(tx, batch).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_needs_order_and_no_limit() {
        assert_eq!(
            pageable("SELECT * FROM table ORDER BY id;").unwrap(),
            "SELECT * FROM table ORDER BY id"
        );
        assert!(pageable("SELECT * FROM table").is_err());
        assert!(pageable("SELECT * FROM table ORDER BY id LIMIT 5").is_err());
        // Words inside strings, identifiers and comments do not count.
        assert!(pageable("SELECT 'order by' FROM table").is_err());
        assert!(pageable("SELECT `limit` FROM table ORDER BY 1 -- limit").is_ok());
        assert!(pageable("SELECT a /* LIMIT */ FROM table ORDER BY a").is_ok());
    }
}

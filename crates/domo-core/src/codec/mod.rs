//! Converting between Domo's wire formats and Arrow.
//!
//! - `query`: query answers (JSON) into Arrow: the scanner and parallel decoder, the hand
//!   reader, the serde reader it falls back on.
//! - `export`: export segments (CSV) into Arrow by hand; `crate::export` cuts the
//!   segments and falls back on arrow-csv.
//! - `builders`: the typed builders both append cells to, with the value rules;
//!   `numbers`: the one number reader both use.
//! - `record_ends`: where CSV records end, to cut exports and upload parts between them.
//! - `upload_csv`: Arrow batches into the CSV upload parts carry.
//! - `listings`: JSON lists of records (versions, history, access...) as Arrow tables.
//! - `temporal`, `bytescan`: dates and byte searches shared by the readers and writers.

mod builders;
mod bytescan;
pub(crate) mod export;
#[cfg(test)]
mod fuzz;
pub mod listings;
mod numbers;
pub(crate) mod ordered;
pub mod query;
pub(crate) mod record_ends;
pub mod temporal;
pub mod upload_csv;

/// How many threads decoding may use: one per core.
pub(crate) fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

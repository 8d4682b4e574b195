//! Converting between Domo's wire formats and Arrow.

mod bytescan;
pub(crate) mod csv_cells;
pub(crate) mod csv_records;
pub mod csv_write;
#[cfg(test)]
mod fuzz;
mod json_cells;
pub(crate) mod json_pieces;
pub mod json_rows;
pub mod records;
pub mod temporal;

/// How many threads decoding may use: one per core.
pub(crate) fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

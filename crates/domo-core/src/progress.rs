//! Progress reports for long reads (export, export_to, query_pages), and how a reporter
//! stops the work by failing. Uploads report [`crate::UploadProgress`] the same way.

use std::sync::Arc;

/// What a progress reporter's failure carries back to the caller.
pub type CallbackError = Box<dyn std::error::Error + Send + Sync>;

/// Progress of a read, reported as data is handed on: after each batch for a stream, about
/// every [`crate::export::REPORT_BYTES`] written for a file, and once more at the end
/// (`done`). A read that fails or is closed early is never reported done.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadProgress {
    pub rows_read: u64,
    /// The dataset's row count when the read is a whole export; `None` for a query, whose
    /// size is known only at its end. A dataset's row-level policies can make it less.
    pub rows_total: Option<u64>,
    /// Bytes of CSV written, for a read into a file; `None` for a stream of batches.
    pub bytes_read: Option<u64>,
    pub done: bool,
}

/// A read's progress reporter. A failing report stops the read: a stream yields the
/// failure as [`crate::Error::Callback`] and ends; a file is not written.
pub type ReadProgressFn =
    Arc<dyn Fn(ReadProgress) -> std::result::Result<(), CallbackError> + Send + Sync>;

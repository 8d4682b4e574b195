//! The whole dataset as CSV: streamed as record batches, or written to a file.

use pyo3::prelude::*;
use std::path::PathBuf;

use super::PyDataset;
use crate::convert::progress::Progress;
use crate::results::PyBatchStream;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        #[pyo3(signature = (*, batch_size=65536, progress=None))]
        fn export / export_async(&self, batch_size: usize, progress: Option<Progress>) -> PyBatchStream {
            let ds = self.inner.clone();
            let progress = progress.and_then(|p| p.read_reporter("export"));
            async move { ds.export(batch_size, progress).await }
        }

        #[pyo3(signature = (path, *, progress=None))]
        fn export_to / export_to_async(&self, path: PathBuf, progress: Option<Progress>) -> u64 {
            let ds = self.inner.clone();
            let progress = progress.and_then(|p| p.read_reporter("export"));
            async move { ds.export_to(&path, progress).await }
        }
    }
}

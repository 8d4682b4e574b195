//! The whole dataset as CSV: streamed as record batches, or written to a file.

use pyo3::prelude::*;
use std::path::PathBuf;

use super::PyDataset;
use crate::results::PyBatchStream;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        #[pyo3(signature = (*, batch_size=65536))]
        fn export / export_async(&self, batch_size: usize) -> PyBatchStream {
            let ds = self.inner.clone();
            async move { ds.export(batch_size).await }
        }

        fn export_to / export_to_async(&self, path: PathBuf) -> u64 {
            let ds = self.inner.clone();
            async move { ds.export_to(&path).await }
        }
    }
}

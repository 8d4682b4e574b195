//! Large query results, page by page.

use super::PyDataset;
use crate::convert::progress::Progress;
use crate::results::PyBatchStream;
use crate::runtime::twins;
use pyo3::prelude::*;

twins! {
    impl PyDataset as Dataset {
        // Pages through a large result; see `domo_core::query_pages` for the caveats.
        #[pyo3(signature = (sql, *, page_size=100_000, prefetch=2, progress=None))]
        fn query_pages / query_pages_async(
            &self,
            sql: String,
            page_size: usize,
            prefetch: usize,
            progress: Option<Progress>,
        ) -> PyBatchStream {
            let ds = self.inner.clone();
            let progress = progress.and_then(|p| p.read_reporter("query"));
            async move { ds.query_pages(&sql, page_size, prefetch, progress).await }
        }
    }
}

//! Indexing the dataset's data versions and waiting for it.

use super::PyDataset;
use crate::convert::from_py::{DataIds, Id, seconds};
use crate::convert::to_py::Json;
use crate::runtime::twins;
use pyo3::prelude::*;

/// The data versions to index: none given means every eligible one.
fn data_ids(ids: Option<DataIds>) -> Vec<serde_json::Value> {
    ids.map(|ids| ids.0).unwrap_or_default()
}

twins! {
    impl PyDataset as Dataset {
        #[pyo3(signature = (*, data_ids=None))]
        fn index / index_async(&self, data_ids: Option<DataIds>) -> Json {
            let ids = self::data_ids(data_ids);
            let ds = self.inner.clone();
            async move { ds.index(&ids).await }
        }

        #[pyo3(signature = (index_id, *, data_ids=None))]
        fn reindex / reindex_async(&self, index_id: Id, data_ids: Option<DataIds>) -> Json {
            let ids = self::data_ids(data_ids);
            let ds = self.inner.clone();
            async move { ds.reindex(&index_id.0, &ids).await }
        }

        fn index_status / index_status_async(&self, index_id: Id) -> Json {
            let ds = self.inner.clone();
            async move { ds.index_status(&index_id.0).await }
        }

        #[pyo3(signature = (index_id, *, timeout=600.0))]
        fn wait_for_index / wait_for_index_async(&self, index_id: Id, timeout: f64) -> Json {
            let timeout = seconds("timeout", timeout)?;
            let ds = self.inner.clone();
            async move { ds.wait_for_index(&index_id.0, timeout).await }
        }
    }
}

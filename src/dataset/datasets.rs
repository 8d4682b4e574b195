//! The dataset's metadata, schema and SQL queries.

use pyo3::prelude::*;
use super::PyDataset;
use crate::convert::to_py::{Columns, Json};
use crate::results::PyDomoTable;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        #[pyo3(signature = (*, part=None))]
        fn metadata / metadata_async(&self, part: Option<Vec<String>>) -> Json {
            let ds = self.inner.clone();
            async move {
                match part {
                    Some(part) => ds.metadata_parts(&part).await,
                    None => ds.metadata().await,
                }
            }
        }

        #[pyo3(signature = (*, include_hidden=false))]
        fn schema / schema_async(&self, include_hidden: bool) -> Columns {
            let ds = self.inner.clone();
            async move { ds.schema_with(include_hidden).await }
        }

        fn query / query_async(&self, sql: String) -> PyDomoTable {
            let ds = self.inner.clone();
            async move { ds.query(&sql).await }
        }
    }
}

//! Changing the dataset's schema in place.

use super::PyDataset;
use crate::convert::from_py::ColumnChanges;
use crate::runtime::twins;
use pyo3::prelude::*;

twins! {
    impl PyDataset as Dataset {
        fn alter_schema / alter_schema_async(&self, columns: ColumnChanges) -> () {
            let ds = self.inner.clone();
            async move { ds.alter_schema(&columns.0).await }
        }
    }
}

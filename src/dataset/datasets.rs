//! The dataset's metadata, schema and SQL queries.

use super::PyDataset;
use crate::convert::to_py::{Columns, Json};
use crate::results::PyDomoTable;
use crate::runtime::twins;
use pyo3::prelude::*;

/// A query answer on its way to Python: a `RowCapWarning` when it has exactly as many rows
/// as Domo answers at most, since the rest of the query's rows, if any, were cut without
/// an error.
pub struct CappedTable(domo_core::QueryAnswer);

impl From<domo_core::QueryAnswer> for CappedTable {
    fn from(answer: domo_core::QueryAnswer) -> Self {
        CappedTable(answer)
    }
}

impl<'py> IntoPyObject<'py> for CappedTable {
    type Target = PyDomoTable;
    type Output = Bound<'py, PyDomoTable>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let CappedTable(answer) = self;
        if answer.stopped_at_cap() {
            let category = py
                .import("domo_datasets.exceptions")?
                .getattr("RowCapWarning")?;
            let message = format!(
                "the query answer has {} rows, the most Domo answers to one query: it may \
                 have been cut; read every row with Dataset.query_pages (or \
                 domo_datasets.scan)",
                answer.row_cap
            );
            // stacklevel 1: this conversion has no Python frame of its own, so the
            // innermost frame is the caller's, whose line the warning then names.
            py.import("warnings")?
                .call_method1("warn", (message, category, 1))?;
        }
        Bound::new(py, PyDomoTable::from(answer.rows))
    }
}

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

        fn query / query_async(&self, sql: String) -> CappedTable {
            let ds = self.inner.clone();
            async move { ds.query_answer(&sql).await }
        }
    }
}

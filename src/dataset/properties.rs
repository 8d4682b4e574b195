//! The dataset's details, properties, history, cards, saved queries and small data.

use domo_core::properties::{CARD_COLUMNS, HISTORY_COLUMNS};
use pyo3::prelude::*;
use serde_json::Value;

use super::PyDataset;
use crate::convert::from_py::{Properties, Rows};
use crate::convert::to_py::Json;
use crate::results::PyDomoTable;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        fn details / details_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.details().await }
        }

        fn set_properties / set_properties_async(&self, properties: Properties) -> () {
            let ds = self.inner.clone();
            async move { ds.set_properties(properties.0).await }
        }

        fn history / history_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.history().await }
        }

        fn history_table / history_table_async(&self) -> PyDomoTable {
            let ds = self.inner.clone();
            async move { PyDomoTable::from_records(&ds.history().await?, HISTORY_COLUMNS) }
        }

        fn copy_status / copy_status_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.copy_status().await }
        }

        fn copy_log / copy_log_async(&self) -> Vec<String> {
            let ds = self.inner.clone();
            async move { ds.copy_log().await }
        }

        #[pyo3(signature = (*, drill=true))]
        fn cards / cards_async(&self, drill: bool) -> Json {
            let ds = self.inner.clone();
            async move { ds.cards(drill).await }
        }

        #[pyo3(signature = (*, drill=true))]
        fn cards_table / cards_table_async(&self, drill: bool) -> PyDomoTable {
            let ds = self.inner.clone();
            async move { PyDomoTable::from_records(&ds.cards(drill).await?, CARD_COLUMNS) }
        }

        fn data / data_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.data().await }
        }

        fn replace_data / replace_data_async(&self, rows: Rows) -> () {
            let rows = rows.0.into_iter().map(Value::Object).collect();
            let ds = self.inner.clone();
            async move { ds.replace_data(rows).await }
        }

        fn saved_query / saved_query_async(&self) -> Option<String> {
            let ds = self.inner.clone();
            async move { ds.saved_query().await }
        }

        fn set_saved_query / set_saved_query_async(&self, query: String) -> () {
            let ds = self.inner.clone();
            async move { ds.set_saved_query(&query).await }
        }

        fn saved_sql / saved_sql_async(&self) -> Option<String> {
            let ds = self.inner.clone();
            async move { ds.saved_sql().await }
        }

        fn set_saved_sql / set_saved_sql_async(&self, sql: String) -> () {
            let ds = self.inner.clone();
            async move { ds.set_saved_sql(&sql).await }
        }

        fn dataflow / dataflow_async(&self) -> Json {
            let ds = self.inner.clone();
            async move { ds.dataflow().await }
        }
    }
}

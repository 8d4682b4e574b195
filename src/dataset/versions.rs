//! Data versions and partitions: listing, searching and deleting them.

use domo_core::versions::{
    DATA_VERSION_COLUMNS, DEFAULT_MAX_ITEMS, PARTITION_COLUMNS, PartitionSearch,
};
use pyo3::prelude::*;

use super::PyDataset;
use crate::convert::from_py::{Id, Json};
use crate::convert::to_py;
use crate::errors::PyDomoResult;
use crate::results::PyDomoTable;
use crate::runtime::twins;

/// A partition search from its arguments, checked before anything is sent.
fn partition_search(
    sort: String,
    descending: bool,
    min: Option<Json>,
    max: Option<Json>,
) -> PyDomoResult<PartitionSearch> {
    let search = PartitionSearch {
        sort,
        descending,
        min: min.map(|j| j.0),
        max: max.map(|j| j.0),
    };
    search.pagination_fields()?;
    Ok(search)
}

twins! {
    impl PyDataset as Dataset {
        fn data_versions / data_versions_async(&self) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.data_versions().await }
        }

        fn data_versions_table / data_versions_table_async(&self) -> PyDomoTable {
            let ds = self.inner.clone();
            async move { PyDomoTable::from_records(&ds.data_versions().await?, DATA_VERSION_COLUMNS) }
        }

        fn partitions / partitions_async(&self) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.partitions().await }
        }

        #[pyo3(
            signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, limit=100, offset=0),
            text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, limit=100, offset=0)"
        )]
        fn search_partitions / search_partitions_async(
            &self,
            sort: String,
            descending: bool,
            min: Option<Json>,
            max: Option<Json>,
            limit: u64,
            offset: u64,
        ) -> to_py::Json {
            let search = partition_search(sort, descending, min, max)?;
            let ds = self.inner.clone();
            async move { ds.search_partitions(&search, limit, offset).await }
        }

        #[pyo3(
            signature = (*, sort="datecompleted".to_string(), descending=true, min=None, max=None, max_items=DEFAULT_MAX_ITEMS),
            text_signature = "(self, *, sort='datecompleted', descending=True, min=None, max=None, max_items=100000)"
        )]
        fn partitions_table / partitions_table_async(
            &self,
            sort: String,
            descending: bool,
            min: Option<Json>,
            max: Option<Json>,
            max_items: usize,
        ) -> PyDomoTable {
            let search = partition_search(sort, descending, min, max)?;
            let ds = self.inner.clone();
            async move {
                let items = ds.search_all_partitions(&search, max_items).await?;
                PyDomoTable::from_records(&items, PARTITION_COLUMNS)
            }
        }

        #[pyo3(
            signature = (*, expression="1=1".to_string(), max_items=DEFAULT_MAX_ITEMS),
            text_signature = "(self, *, expression='1=1', max_items=100000)"
        )]
        fn magic_data_versions / magic_data_versions_async(
            &self,
            expression: String,
            max_items: usize,
        ) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.magic_data_versions(&expression, max_items).await }
        }

        fn delete_data_version / delete_data_version_async(&self, partition: Id) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.delete_data_version(&partition.0).await }
        }

        fn delete_partition / delete_partition_async(&self, partition: String) -> to_py::Json {
            let ds = self.inner.clone();
            async move { ds.delete_partition(&partition).await }
        }
    }
}

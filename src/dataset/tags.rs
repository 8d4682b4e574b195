//! The dataset's tags.

use super::PyDataset;
use crate::runtime::twins;
use pyo3::prelude::*;

twins! {
    impl PyDataset as Dataset {
        fn tags / tags_async(&self) -> Vec<String> {
            let ds = self.inner.clone();
            async move { ds.tags().await }
        }

        fn add_tags / add_tags_async(&self, tags: Vec<String>) -> () {
            let ds = self.inner.clone();
            async move { ds.add_tags(&tags).await }
        }

        fn remove_tags / remove_tags_async(&self, tags: Vec<String>) -> () {
            let ds = self.inner.clone();
            async move { ds.remove_tags(&tags).await }
        }
    }
}

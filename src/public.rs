//! Renaming and describing a dataset and deleting a stream: the calls a pydomo user
//! makes with `ds_update` and `streams.delete` (domo-core's `public` module).

use crate::dataset::PyDataset;
use crate::runtime::twins;
use crate::stream::PyStream;
use pyo3::prelude::*;

twins! {
    impl PyDataset as Dataset {
        #[pyo3(signature = (*, name=None, description=None))]
        fn update / update_async(&self, name: Option<String>, description: Option<String>) -> () {
            let ds = self.inner.clone();
            async move { ds.update(name.as_deref(), description.as_deref()).await }
        }
    }
}

twins! {
    impl PyStream as Stream {
        fn delete / delete_async(&self) -> () {
            let stream = self.inner.clone();
            async move { stream.delete().await }
        }
    }
}

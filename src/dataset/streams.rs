//! The stream that feeds the dataset.

use super::PyDataset;
use crate::runtime::twins;
use crate::stream::PyStream;

twins! {
    impl PyDataset as Dataset {
        fn stream / stream_async(&self) -> PyStream {
            let ds = self.inner.clone();
            async move { ds.stream().await }
        }
    }
}

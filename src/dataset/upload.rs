//! Writing data: streamed, checked uploads and Domo's small "Append Row".

use domo_core::{PartitionParam, UploadMode, UploadOptions};
use pyo3::prelude::*;

use super::PyDataset;
use crate::convert::from_py::Rows;
use crate::convert::progress::Progress;
use crate::convert::to_py::{Json, UploadResult};
use crate::convert::upload_from_py::UploadData;
use crate::runtime::twins;

twins! {
    impl PyDataset as Dataset {
        #[pyo3(
            signature = (data, *, mode="append".to_string(), partition=None, partition_param="dataTag".to_string(), part_size=32*1024*1024, concurrency=4, index=true, match_by_name=false, progress=None),
            text_signature = "(self, data, *, mode='append', partition=None, partition_param='dataTag', part_size=33554432, concurrency=4, index=True, match_by_name=False, progress=None)"
        )]
        fn upload / upload_async(
            &self,
            data: UploadData,
            mode: String,
            partition: Option<String>,
            partition_param: String,
            part_size: usize,
            concurrency: usize,
            index: bool,
            match_by_name: bool,
            progress: Option<Progress>,
        ) -> UploadResult {
            let options = UploadOptions {
                mode: UploadMode::parse(&mode)?,
                partition,
                partition_param: PartitionParam::parse(&partition_param)?,
                part_size,
                concurrency,
                index,
                gzip: true,
                match_by_name,
            };
            options.validate()?;
            let ds = self.inner.clone();
            let dataset_id = ds.id().to_string();
            let progress = match progress {
                Some(progress) => progress.reporter(data.rows_total)?,
                None => None,
            };
            async move {
                let summary = ds.upload(data.source, options, progress).await?;
                Ok::<_, domo_core::Error>(UploadResult { dataset_id, summary })
            }
        }

        fn append_rows / append_rows_async(&self, rows: Rows) -> Json {
            let ds = self.inner.clone();
            async move { ds.append_rows(rows.0).await }
        }
    }
}

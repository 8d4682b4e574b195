//! Uploads: Arrow batches (or a CSV file) -> CSV parts -> gzip -> parallel PUTs -> one commit.
//!
//! Parts are encoded on a blocking thread while earlier parts are in flight; at most
//! `concurrency` parts are sent at once and at most `concurrency` more wait encoded, so
//! memory is bounded by the part size, not by the data. Part ids are 1..n with no gaps. A
//! part that fails with a retryable error is re-sent with the same id; if any part fails
//! for good, nothing is committed. The commit is sent exactly once.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::ArrowError;
use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::{StreamExt, TryStreamExt};
use reqwest::Method;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::codec::record_ends::RecordEnds;
use crate::codec::upload_csv::{check_encodable, write_batch};
use crate::datasets::Dataset;
use crate::error::{self, Error, Result};
use crate::progress::CallbackError;
use crate::routes;
use crate::schema_check;
use crate::transport::{Body, Call};
use crate::types::{Column, DomoType};

/// Rows encoded between checks of the part size.
const ROWS_PER_SLICE: usize = 4096;
/// Batches read ahead of the encoder, at most: the source is read on a thread of its own,
/// so a source that costs CPU to read (a pandas frame converted a slice at a time, a
/// Parquet file decoded) runs alongside the encoding.
const BATCHES_AHEAD: usize = 2;
/// Smallest part size accepted: tiny parts mean thousands of requests.
pub const MIN_PART_SIZE: usize = 64 * 1024;
pub const MAX_CONCURRENCY: usize = 64;
/// Domo's limit on partitions per dataset also bounds sensible tag lengths.
const MAX_PARTITION_LEN: usize = 255;

/// What an upload does to the rows already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadMode {
    Append,
    Replace,
}

impl UploadMode {
    pub fn parse(s: &str) -> Result<UploadMode> {
        match s.to_ascii_lowercase().as_str() {
            "append" => Ok(UploadMode::Append),
            "replace" => Ok(UploadMode::Replace),
            _ => Err(Error::invalid(format!(
                "mode must be \"append\" or \"replace\", not {s:?}"
            ))),
        }
    }

    pub fn action(self) -> &'static str {
        match self {
            UploadMode::Append => "APPEND",
            UploadMode::Replace => "REPLACE",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            UploadMode::Append => "append",
            UploadMode::Replace => "replace",
        }
    }
}

/// The name a partition tag is sent under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PartitionParam {
    #[default]
    DataTag,
    RestateDataTag,
}

impl PartitionParam {
    pub fn parse(s: &str) -> Result<PartitionParam> {
        match s {
            "dataTag" => Ok(PartitionParam::DataTag),
            "restateDataTag" => Ok(PartitionParam::RestateDataTag),
            _ => Err(Error::invalid(format!(
                "partition_param must be \"dataTag\" or \"restateDataTag\", not {s:?}"
            ))),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            PartitionParam::DataTag => "dataTag",
            PartitionParam::RestateDataTag => "restateDataTag",
        }
    }
}

#[derive(Debug, Clone)]
pub struct UploadOptions {
    pub mode: UploadMode,
    /// Partition tag (Domo's `dataTag`).
    pub partition: Option<String>,
    /// How the tag is sent: `dataTag`, or the deprecated `restateDataTag` that older
    /// instances still expect.
    pub partition_param: PartitionParam,
    /// Target CSV bytes per part, before compression.
    pub part_size: usize,
    pub concurrency: usize,
    pub index: bool,
    pub gzip: bool,
    /// Match the data's columns to the dataset's by name rather than by position.
    pub match_by_name: bool,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            mode: UploadMode::Append,
            partition: None,
            partition_param: PartitionParam::DataTag,
            part_size: 32 * 1024 * 1024,
            concurrency: 4,
            index: true,
            gzip: true,
            match_by_name: false,
        }
    }
}

impl UploadOptions {
    pub fn validate(&self) -> Result<()> {
        if self.part_size < MIN_PART_SIZE {
            return Err(Error::invalid(format!(
                "part_size must be at least {MIN_PART_SIZE} bytes, not {}",
                self.part_size
            )));
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            return Err(Error::invalid(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}, not {}",
                self.concurrency
            )));
        }
        if let Some(tag) = &self.partition
            && (tag.trim().is_empty()
                || tag.len() > MAX_PARTITION_LEN
                || tag.chars().any(char::is_control))
        {
            return Err(Error::invalid(format!(
                "partition must be a non-empty tag of at most {MAX_PARTITION_LEN} characters without control characters, not {tag:?}"
            )));
        }
        // The contract's partition flow commits APPEND with the tag; what live Domo does
        // with REPLACE and a tag is undocumented, and one reading deletes every other
        // partition. The two intents are told apart instead of guessed.
        if let (Some(tag), UploadMode::Replace) = (&self.partition, self.mode) {
            return Err(Error::invalid(format!(
                "mode=\"replace\" cannot be combined with partition={tag:?}: mode=\"replace\" replaces \
                 the whole dataset, while a partition restates only its own rows. To restate \
                 partition {tag:?}, use mode=\"append\" with partition={tag:?}; to replace the whole \
                 dataset, leave partition out"
            )));
        }
        Ok(())
    }
}

/// Where upload data comes from.
pub enum UploadSource {
    Batches(Box<dyn RecordBatchReader + Send>),
    /// A CSV file whose first line is a header.
    CsvFile(PathBuf),
}

impl UploadSource {
    /// Checks the data against the dataset's columns, and puts its columns in their order.
    fn conform(self, columns: &[Column], by_name: bool) -> Result<UploadSource> {
        match self {
            UploadSource::Batches(reader) => {
                let order = schema_check::plan(&reader.schema(), columns, by_name)?;
                Ok(UploadSource::Batches(Box::new(
                    schema_check::Reordered::new(reader, order, columns)?,
                )))
            }
            UploadSource::CsvFile(path) => {
                schema_check::check_csv_header(&schema_check::csv_header(&path)?, columns)?;
                Ok(UploadSource::CsvFile(path))
            }
        }
    }

    /// Everything that can be checked without sending anything.
    fn check(&self) -> Result<()> {
        match self {
            UploadSource::Batches(reader) => check_encodable(&reader.schema()),
            UploadSource::CsvFile(path) => {
                let meta = std::fs::metadata(path).map_err(|e| Error::Io {
                    context: format!("cannot read {}", path.display()),
                    source: e,
                })?;
                if !meta.is_file() {
                    return Err(Error::invalid(format!("{} is not a file", path.display())));
                }
                Ok(())
            }
        }
    }
}

/// Progress, reported after each part is accepted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UploadProgress {
    pub parts_sent: u64,
    pub rows_sent: u64,
    pub bytes_sent: u64,
    pub done: bool,
}

/// A progress reporter. A report before the commit that fails stops the upload:
/// nothing is committed and the failure comes back as [`Error::Callback`]. The last report
/// (`done`) comes after the commit, so a failure there changes nothing and is dropped.
pub type ProgressFn =
    Arc<dyn Fn(UploadProgress) -> std::result::Result<(), CallbackError> + Send + Sync>;

/// What a committed upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadSummary {
    pub upload_id: u64,
    pub mode: UploadMode,
    pub parts: u64,
    pub rows: u64,
    pub bytes_sent: u64,
}

struct Part {
    number: u64,
    data: Bytes,
    rows: u64,
}

impl Dataset {
    /// Uploads and commits `source`. On failure nothing is committed.
    pub async fn upload(
        &self,
        source: UploadSource,
        options: UploadOptions,
        progress: Option<ProgressFn>,
    ) -> Result<UploadSummary> {
        options.validate()?;
        source.check()?;
        // The public API uploads through the dataset's stream: one execution per upload.
        let stream = match self.client.is_public_api() {
            true => Some(self.public_upload_stream(&options).await?),
            false => None,
        };
        let columns = self.schema().await?;
        let source = source.conform(&columns, options.match_by_name)?;
        let upload_id = self.start_upload(stream, &options).await?;

        let (tx, rx) = mpsc::channel::<Result<Part>>(options.concurrency);
        let (part_size, gzip) = (options.part_size, options.gzip);
        let encoder =
            tokio::task::spawn_blocking(move || encode_parts(source, part_size, gzip, &tx));
        let mut encoder = AbortOnDrop(encoder);

        let parts =
            futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
        let mut sent = std::pin::pin!(
            parts
                .map_ok(|part| self.send_part(stream, upload_id, part, gzip))
                .try_buffer_unordered(options.concurrency)
        );
        let mut totals = UploadProgress::default();
        while let Some(done) = sent.next().await {
            let (rows, bytes) = done?;
            totals.parts_sent += 1;
            totals.rows_sent += rows;
            totals.bytes_sent += bytes;
            if let Some(report) = &progress {
                report(totals).map_err(|source| Error::Callback {
                    stopped: "the upload was stopped by its progress callback; nothing was committed",
                    source,
                })?;
            }
        }
        // The encoder has finished (its channel closed); surface a panic as an error.
        error::joined((&mut encoder.0).await)?;

        self.commit_upload(stream, upload_id, &options).await?;
        totals.done = true;
        if let Some(report) = &progress {
            // Committed already: a failing last report cannot undo it.
            let _ = report(totals);
        }
        Ok(UploadSummary {
            upload_id,
            mode: options.mode,
            parts: totals.parts_sent,
            rows: totals.rows_sent,
            bytes_sent: totals.bytes_sent,
        })
    }

    /// Appends a few rows sent as JSON objects (Domo's "Append Row"), without the CSV
    /// upload stages. For more than a few thousand rows, `upload` is faster.
    pub async fn append_rows(
        &self,
        rows: Vec<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<serde_json::Value> {
        if rows.is_empty() {
            return Err(Error::invalid("no rows to append"));
        }
        let columns = self.schema().await?;
        let unknown: std::collections::BTreeSet<&str> = rows
            .iter()
            .flat_map(|row| row.keys())
            .filter(|key| !columns.iter().any(|c| &c.name == *key))
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(Error::invalid(format!(
                "the rows name columns the dataset does not have: {}",
                unknown.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let mut rows = rows;
        for column in columns.iter().filter(|c| c.domo_type == DomoType::Date) {
            for value in rows.iter_mut().filter_map(|row| row.get_mut(&column.name)) {
                crate::value_rules::date_from_midnight(value, &column.name)?;
            }
        }
        let call = Call::new(Method::POST, self.uploads_url(&[], &[]))
            .json(&json!({ "data": rows }))?
            .once();
        self.client.transport.json(&call).await
    }

    fn uploads_url(&self, suffix: &[&str], query: &[(&str, &str)]) -> url::Url {
        let mut all = vec!["uploads"];
        all.extend_from_slice(suffix);
        self.url(&routes::DATASOURCES, &all, query)
    }

    async fn start_upload(&self, stream: Option<u64>, options: &UploadOptions) -> Result<u64> {
        if let Some(stream) = stream {
            return self
                .public_start_execution(stream, options.mode.action())
                .await;
        }
        let query: Vec<(&str, &str)> = options
            .partition
            .as_deref()
            .map(|p| (options.partition_param.name(), p))
            .into_iter()
            .collect();
        let url = self.uploads_url(&[], &query);
        let call = Call::new(Method::POST, url)
            .json(&json!({ "action": options.mode.action(), "appendId": null }))?
            .once();

        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Started {
            upload_id: serde_json::Value,
        }
        let started: Started = self.client.transport.json(&call).await?;
        // Documented as an integer; accept a numeric string too.
        match &started.upload_id {
            serde_json::Value::Number(n) => n.as_u64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        }
        .ok_or_else(|| Error::UnexpectedResponse {
            message: format!(
                "Domo started the upload but its uploadId is {}",
                started.upload_id
            ),
            status: 200,
            request: call.info(),
            body: None,
        })
    }

    async fn send_part(
        &self,
        stream: Option<u64>,
        upload_id: u64,
        part: Part,
        gzip: bool,
    ) -> Result<(u64, u64)> {
        let id = upload_id.to_string();
        let number = part.number.to_string();
        let url = match stream {
            Some(stream) => self.public_execution_url(stream, upload_id, &["part", &number]),
            None => self.uploads_url(&[&id, "parts", &number], &[]),
        };
        let bytes = part.data.len() as u64;
        let call = Call::new(Method::PUT, url)
            .accept("application/json")
            .body(Body::Csv {
                data: part.data,
                gzip,
            });
        self.client
            .transport
            .send(&call)
            .await
            .map_err(|e| Error::UploadPart {
                part: part.number,
                source: Box::new(e),
            })?;
        Ok((part.rows, bytes))
    }

    async fn commit_upload(
        &self,
        stream: Option<u64>,
        upload_id: u64,
        options: &UploadOptions,
    ) -> Result<()> {
        if let Some(stream) = stream {
            let url = self.public_execution_url(stream, upload_id, &["commit"]);
            // Never re-sent: a commit that may have landed must not land twice.
            let call = Call::new(Method::PUT, url).once();
            let sent = self.client.transport.send(&call).await;
            sent.map_err(|e| e.commit_outcome(upload_id))?;
            return Ok(());
        }
        let id = upload_id.to_string();
        let url = self.uploads_url(&[&id, "commit"], &[]);
        let mut body = json!({ "action": options.mode.action(), "index": options.index });
        if let Some(tag) = &options.partition {
            body[options.partition_param.name()] = json!(tag);
        }
        // Never re-sent: a commit that may have landed must not land twice.
        let call = Call::new(Method::PUT, url).json(&body)?.once();
        let sent = self.client.transport.send(&call).await;
        sent.map_err(|e| e.commit_outcome(upload_id))?;
        Ok(())
    }
}

/// Stops a task when the future awaiting it is dropped (an error, or a cancelled upload).
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Cuts the source into compressed parts and sends them; stops when the receiver is gone.
fn encode_parts(
    source: UploadSource,
    part_size: usize,
    gzip: bool,
    tx: &mpsc::Sender<Result<Part>>,
) {
    let first_size = first_part_size(part_size);
    let mut parts = PartBuilder {
        part_size,
        target: first_size,
        gzip,
        next: 1,
        buf: Vec::with_capacity(first_size + first_size / 8),
        rows: 0,
        tx,
    };
    let outcome = match source {
        UploadSource::Batches(reader) => parts.add_batches(reader),
        UploadSource::CsvFile(path) => parts.add_csv_file(&path),
    }
    .and_then(|()| parts.finish());
    if let Err(e) = outcome
        && !matches!(e, Error::Cancelled)
    {
        let _ = tx.blocking_send(Err(e));
    }
}

/// The size of the first part: a fraction of `part_size`, so the server starts on the
/// data while the rest is still being encoded, where a first part of full size would keep
/// it waiting for the time a whole part takes to encode and compress.
fn first_part_size(part_size: usize) -> usize {
    (part_size / FIRST_PART_FRACTION).max(MIN_PART_SIZE)
}

/// How many times smaller than `part_size` the first part is; each next part is twice the
/// last, up to `part_size`.
const FIRST_PART_FRACTION: usize = 16;

struct PartBuilder<'a> {
    /// The size parts grow to.
    part_size: usize,
    /// The size the part being built is cut at.
    target: usize,
    gzip: bool,
    next: u64,
    buf: Vec<u8>,
    rows: u64,
    tx: &'a mpsc::Sender<Result<Part>>,
}

impl PartBuilder<'_> {
    fn add_batches(&mut self, reader: Box<dyn RecordBatchReader + Send>) -> Result<()> {
        let (tx, batches) = std::sync::mpsc::sync_channel(BATCHES_AHEAD);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for batch in reader {
                    // The encoder is gone (it failed, or the upload was cancelled).
                    if tx.send(batch).is_err() {
                        break;
                    }
                }
            });
            // Returning drops `batches`, which stops the reading thread at its next batch.
            self.encode_batches(batches)
        })
    }

    fn encode_batches(
        &mut self,
        batches: std::sync::mpsc::Receiver<std::result::Result<RecordBatch, ArrowError>>,
    ) -> Result<()> {
        for batch in batches {
            let batch: RecordBatch = batch?;
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = ROWS_PER_SLICE.min(batch.num_rows() - offset);
                write_batch(&batch.slice(offset, len), &mut self.buf)?;
                self.rows += len as u64;
                offset += len;
                if self.buf.len() >= self.target {
                    self.ship()?;
                }
            }
        }
        Ok(())
    }

    /// Sends the file's records as they stand, cut only between records.
    fn add_csv_file(&mut self, path: &std::path::Path) -> Result<()> {
        let io = |e| Error::Io {
            context: format!("cannot read {}", path.display()),
            source: e,
        };
        let mut file = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
        let mut chunk = vec![0u8; 1 << 20];
        let mut ends = RecordEnds::default();
        let mut in_header = true;
        loop {
            let n = file.read(&mut chunk).map_err(io)?;
            if n == 0 {
                break;
            }
            let mut start = 0;
            while let Some(len) = ends.next_end(&chunk[start..n]) {
                let i = start + len - 1;
                if in_header {
                    in_header = false;
                } else {
                    self.buf.extend_from_slice(&chunk[start..=i]);
                    self.rows += 1;
                    if self.buf.len() >= self.target {
                        self.ship()?;
                    }
                }
                start = i + 1;
            }
            if !in_header {
                self.buf.extend_from_slice(&chunk[start..n]);
            }
        }
        // A last record without a line end.
        if !in_header && self.buf.last().is_some_and(|&b| b != b'\n') {
            self.buf.push(b'\n');
            self.rows += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<()> {
        if !self.buf.is_empty() {
            self.ship()?;
        }
        Ok(())
    }

    fn ship(&mut self) -> Result<()> {
        self.target = (self.target * 2).min(self.part_size);
        let csv = std::mem::replace(
            &mut self.buf,
            Vec::with_capacity(self.target + self.target / 8),
        );
        let data = if self.gzip {
            let mut gz = GzEncoder::new(Vec::with_capacity(csv.len() / 4), Compression::fast());
            gz.write_all(&csv)
                .and_then(|()| gz.finish())
                .map_err(|e| Error::Io {
                    context: "cannot compress an upload part".into(),
                    source: e,
                })?
        } else {
            csv
        };
        let part = Part {
            number: self.next,
            data: Bytes::from(data),
            rows: std::mem::take(&mut self.rows),
        };
        self.next += 1;
        self.tx
            .blocking_send(Ok(part))
            .map_err(|_| Error::Cancelled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_are_checked() {
        UploadOptions::default().validate().unwrap();
        let bad = [
            UploadOptions {
                part_size: 10,
                ..Default::default()
            },
            UploadOptions {
                concurrency: 0,
                ..Default::default()
            },
            UploadOptions {
                concurrency: 1000,
                ..Default::default()
            },
            UploadOptions {
                partition: Some(" ".into()),
                ..Default::default()
            },
            UploadOptions {
                mode: UploadMode::Replace,
                partition: Some("2026-12-01".into()),
                ..Default::default()
            },
        ];
        for options in bad {
            assert!(options.validate().is_err(), "{options:?}");
        }
        assert!(UploadMode::parse("upsert").is_err());
        assert_eq!(UploadMode::parse("REPLACE").unwrap(), UploadMode::Replace);
    }

    /// 300,000 rows of "1000000\n" .. "1299999\n": 2.4 MB of CSV.
    fn numbers() -> UploadSource {
        let values = arrow_array::Int64Array::from_iter_values(1_000_000..1_300_000);
        let batch =
            RecordBatch::try_from_iter([("n", Arc::new(values) as arrow_array::ArrayRef)]).unwrap();
        let reader = arrow_array::RecordBatchIterator::new([Ok(batch.clone())], batch.schema());
        UploadSource::Batches(Box::new(reader))
    }

    #[test]
    fn compressed_parts_hold_every_row_once_in_order() {
        let (tx, mut rx) = mpsc::channel(64);
        encode_parts(numbers(), MIN_PART_SIZE, true, &tx);
        drop(tx);
        let (mut csv, mut rows, mut numbers) = (Vec::new(), 0, Vec::new());
        while let Ok(part) = rx.try_recv() {
            let part = part.unwrap();
            numbers.push(part.number);
            rows += part.rows;
            let mut gz = flate2::read::GzDecoder::new(&part.data[..]);
            std::io::Read::read_to_end(&mut gz, &mut csv).unwrap();
        }
        let expected: String = (1_000_000..1_300_000).map(|n| format!("{n}\n")).collect();
        assert_eq!(rows, 300_000);
        assert!(csv == expected.as_bytes(), "the parts' CSV differs");
        assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>());
    }

    #[test]
    fn encoding_stops_when_the_sender_is_gone() {
        for gzip in [false, true] {
            let (tx, mut rx) = mpsc::channel(1);
            let (done, ended) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                encode_parts(numbers(), MIN_PART_SIZE, gzip, &tx);
                done.send(()).unwrap();
            });
            rx.blocking_recv().unwrap().unwrap();
            drop(rx);
            // The encoder ends at its next send instead of waiting for a receiver.
            let waited = ended.recv_timeout(std::time::Duration::from_secs(30));
            assert!(waited.is_ok(), "the encoder went on (gzip: {gzip})");
        }
    }

    #[test]
    fn parts_start_small_and_double_up_to_part_size() {
        let part_size = 1 << 20;
        let (tx, mut rx) = mpsc::channel(64);
        encode_parts(numbers(), part_size, false, &tx);
        drop(tx);
        let mut sizes = Vec::new();
        while let Ok(part) = rx.try_recv() {
            sizes.push(part.unwrap().data.len());
        }
        // A part is cut at the first slice (4096 rows, 32 KiB here) that reaches its size.
        let slice = ROWS_PER_SLICE * 8;
        let targets = [64 << 10, 128 << 10, 256 << 10, 512 << 10, 1 << 20];
        for (size, target) in sizes.iter().zip(targets) {
            assert!((target..target + slice).contains(size), "{sizes:?}");
        }
        assert_eq!(sizes.iter().sum::<usize>(), 2_400_000, "{sizes:?}");
        assert!(
            sizes[5..].iter().all(|s| *s <= part_size + slice),
            "{sizes:?}"
        );
    }
}

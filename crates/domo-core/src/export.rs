//! Streaming a dataset out as Arrow batches: HTTP body -> CSV decoder -> bounded channel.
//!
//! Memory stays flat whatever the dataset's size: the download runs only as fast as the
//! consumer takes batches, and dropping the stream stops it.

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::StreamExt;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::datasets::Dataset;
use crate::error::{self, Error, Result};
use crate::transport::{Call, header_text, transport_error};
use crate::types::arrow_schema;

/// Batches decoded ahead of the consumer, at most.
const BATCHES_AHEAD: usize = 2;

/// An export in progress. Dropping it stops the download.
#[derive(Debug)]
pub struct ExportStream {
    schema: SchemaRef,
    batches: mpsc::Receiver<Result<RecordBatch>>,
    task: JoinHandle<()>,
}

impl Drop for ExportStream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ExportStream {
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// The next batch, or `None` at the end.
    pub async fn next(&mut self) -> Option<Result<RecordBatch>> {
        self.batches.recv().await
    }

    /// The next batch, blocking this thread; for use outside the async runtime.
    pub fn blocking_next(&mut self) -> Option<Result<RecordBatch>> {
        self.batches.blocking_recv()
    }

    /// Stops the download now.
    pub fn close(&mut self) {
        self.task.abort();
        self.batches.close();
    }
}

impl Dataset {
    /// Starts exporting the dataset; returns once Domo has begun to answer.
    pub async fn export(&self, batch_size: usize) -> Result<ExportStream> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size must be at least 1"));
        }
        let columns = self.schema().await?;
        let schema = arrow_schema(&columns);
        let url = self.url(
            &["api", "data", "v2", "datasources"],
            &["dataversions", "latest"],
            &[("includeHeader", "true")],
        );
        let call = Call::new(Method::GET, url).accept("text/csv");
        let response = self.client.transport.send(&call).await?;
        let content_type = header_text(&response, CONTENT_TYPE);
        if content_type.to_ascii_lowercase().contains("text/html") {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            return Err(error::html_error(status, &body, call.info()));
        }
        let decoder = arrow_csv::ReaderBuilder::new(schema.clone())
            .with_header(true)
            .with_batch_size(batch_size)
            .with_null_regex(
                regex::Regex::new(r"^\\N$").map_err(|e| Error::invalid(e.to_string()))?,
            )
            .build_decoder();
        let (tx, rx) = mpsc::channel(BATCHES_AHEAD);
        let task = tokio::spawn(pump(response, decoder, tx, call));
        Ok(ExportStream {
            schema,
            batches: rx,
            task,
        })
    }
}

/// Feeds body chunks through the decoder and hands out full batches until the body ends,
/// the consumer goes away, or something fails (sent as the last item).
async fn pump(
    response: reqwest::Response,
    mut decoder: arrow_csv::reader::Decoder,
    tx: mpsc::Sender<Result<RecordBatch>>,
    call: Call,
) {
    let mut body = response.bytes_stream();
    let outcome: Result<()> = async {
        let mut first = true;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| transport_error(e, &call))?;
            if first && error::looks_like_html("", &chunk) {
                return Err(error::html_error(200, &chunk, call.info()));
            }
            first = false;
            let mut rest: &[u8] = &chunk;
            while !rest.is_empty() {
                let used = decoder.decode(rest)?;
                rest = &rest[used..];
                if decoder.capacity() == 0 {
                    flush(&mut decoder, &tx).await?;
                }
            }
        }
        // Let the decoder see the end of the last line.
        decoder.decode(&[])?;
        flush(&mut decoder, &tx).await
    }
    .await;
    if let Err(e) = outcome
        && !matches!(e, Error::Cancelled)
    {
        let _ = tx.send(Err(e)).await;
    }
}

async fn flush(
    decoder: &mut arrow_csv::reader::Decoder,
    tx: &mpsc::Sender<Result<RecordBatch>>,
) -> Result<()> {
    if let Some(batch) = decoder.flush()? {
        tx.send(Ok(batch)).await.map_err(|_| Error::Cancelled)?;
    }
    Ok(())
}

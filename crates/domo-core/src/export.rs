//! Streaming a dataset out: as Arrow batches (HTTP body -> CSV decoder -> bounded channel)
//! or as a CSV file written to disk.
//!
//! Memory stays flat whatever the dataset's size: the download runs only as fast as the
//! consumer takes batches, and dropping the stream stops it.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use tokio::io::AsyncWriteExt;

use crate::batches::{BatchSender, BatchStream, send};
use crate::datasets::Dataset;
use crate::error::{self, Error, Result};
use crate::transport::{Call, header_text, transport_error};
use crate::types::arrow_schema;

impl Dataset {
    /// Asks for the latest data version as CSV with a header, refusing an HTML page.
    async fn start_export(&self) -> Result<ExportBody> {
        let url = self.url(
            &["api", "data", "v2", "datasources"],
            &["dataversions", "latest"],
            &[("includeHeader", "true")],
        );
        let call = Call::new(Method::GET, url).accept("text/csv");
        let response = self.client.transport.send(&call).await?;
        if header_text(&response, CONTENT_TYPE)
            .to_ascii_lowercase()
            .contains("text/html")
        {
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap_or_default();
            return Err(error::html_error(status, &body, call.info()));
        }
        Ok(ExportBody {
            body: Box::pin(response.bytes_stream()),
            call,
            first: true,
        })
    }

    /// Downloads the dataset as CSV (with a header, nulls as `\N`) into `path`, without
    /// decoding it. The file appears only when complete: the data goes to a temporary file
    /// beside it, renamed at the end. Returns the bytes written.
    pub async fn export_to(&self, path: &Path) -> Result<u64> {
        let io = |context: String| move |source| Error::Io { context, source };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::invalid(format!("{} is not a folder", dir.display())));
        }
        let name = path
            .file_name()
            .ok_or_else(|| Error::invalid(format!("{} is not a file path", path.display())))?;
        let mut partial_name = name.to_os_string();
        partial_name.push(format!(".partial-{}", std::process::id()));
        let partial = dir.join(partial_name);
        let mut body = self.start_export().await?;
        let written = async {
            let mut file = tokio::fs::File::create(&partial)
                .await
                .map_err(io(format!("cannot create {}", partial.display())))?;
            let mut written = 0u64;
            while let Some(chunk) = body.next_chunk().await? {
                file.write_all(&chunk)
                    .await
                    .map_err(io(format!("cannot write {}", partial.display())))?;
                written += chunk.len() as u64;
            }
            file.sync_all()
                .await
                .map_err(io(format!("cannot write {}", partial.display())))?;
            Ok(written)
        }
        .await;
        match written {
            Ok(written) => {
                tokio::fs::rename(&partial, path)
                    .await
                    .map_err(io(format!("cannot move the export to {}", path.display())))?;
                Ok(written)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(e)
            }
        }
    }

    /// Starts exporting the dataset; returns once Domo has begun to answer.
    pub async fn export(&self, batch_size: usize) -> Result<BatchStream> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size must be at least 1"));
        }
        let columns = self.schema().await?;
        let schema = arrow_schema(&columns);
        let body = self.start_export().await?;
        let decoder = arrow_csv::ReaderBuilder::new(schema.clone())
            .with_header(true)
            .with_batch_size(batch_size)
            .with_null_regex(
                regex::Regex::new(r"^\\N$").map_err(|e| Error::invalid(e.to_string()))?,
            )
            .build_decoder();
        Ok(BatchStream::spawn(schema, |tx| pump(body, decoder, tx)))
    }
}

/// The body of an export as it arrives.
struct ExportBody {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    call: Call,
    first: bool,
}

impl ExportBody {
    /// The next chunk; a body that turns out to be an HTML page (Domo's 200 "blocked"
    /// page) is an error, not data.
    async fn next_chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        let Some(chunk) = self.body.next().await else {
            return Ok(None);
        };
        let chunk = chunk.map_err(|e| transport_error(e, &self.call))?;
        if std::mem::take(&mut self.first) && error::looks_like_html("", &chunk) {
            return Err(error::html_error(200, &chunk, self.call.info()));
        }
        Ok(Some(chunk))
    }
}

/// Feeds body chunks through the decoder and hands out full batches until the body ends,
/// the consumer goes away, or something fails.
async fn pump(
    mut body: ExportBody,
    mut decoder: arrow_csv::reader::Decoder,
    tx: BatchSender,
) -> Result<()> {
    while let Some(chunk) = body.next_chunk().await? {
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

async fn flush(decoder: &mut arrow_csv::reader::Decoder, tx: &BatchSender) -> Result<()> {
    match decoder.flush()? {
        Some(batch) => send(tx, batch).await,
        None => Ok(()),
    }
}

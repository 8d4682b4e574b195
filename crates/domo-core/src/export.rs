//! Streaming a dataset out: as Arrow batches (HTTP body -> CSV decoder -> bounded channel)
//! or as a CSV file written to disk.
//!
//! Memory stays flat whatever the dataset's size: the download runs only as fast as the
//! consumer takes batches, and dropping the stream stops it. The CSV is cut into segments
//! of whole records, decoded side by side on all cores and handed on in order.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::{Bytes, BytesMut};
use futures::StreamExt;
use reqwest::Method;
use reqwest::header::CONTENT_TYPE;
use tokio::io::AsyncWriteExt;

use crate::batches::{BatchSender, BatchStream, send};
use crate::codec::csv_cells;
use crate::codec::csv_records::RecordEnds;
use crate::datasets::Dataset;
use crate::error::{self, Error, Result};
use crate::transport::{Call, header_text, transport_error};
use crate::types::{DomoType, arrow_schema};

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
        let reader = Arc::new(SegmentReader {
            types: columns.iter().map(|c| c.domo_type).collect(),
            schema: schema.clone(),
            batch_size,
            null: regex::Regex::new(r"^\\N$").map_err(|e| Error::invalid(e.to_string()))?,
        });
        let threads = crate::codec::available_threads();
        Ok(BatchStream::spawn(schema, move |tx| {
            pump(body, reader, threads, tx)
        }))
    }
}

/// The CSV is cut into segments of about this many bytes of whole records.
const SEGMENT_BYTES: usize = 1 << 20;

/// Decodes segments of the export's CSV.
struct SegmentReader {
    types: Vec<DomoType>,
    schema: SchemaRef,
    batch_size: usize,
    null: regex::Regex,
}

impl SegmentReader {
    /// `segment` holds whole records, about `records` of them if known (as the cutter
    /// counted them, header included: arrow-csv's decoder sets aside room for a whole
    /// batch, and need not for more than that); the first segment starts with the header
    /// row.
    fn decode(
        &self,
        segment: &[u8],
        records: Option<usize>,
        header: bool,
    ) -> Result<Vec<RecordBatch>> {
        let read =
            csv_cells::read_segment(segment, &self.types, &self.schema, header, self.batch_size);
        if let Some(batches) = read {
            return Ok(batches);
        }
        // Something the hand reader does not take: arrow-csv reads it, and says what is wrong.
        let batch_size = records.map_or(self.batch_size, |n| n.clamp(1, self.batch_size));
        let mut decoder = arrow_csv::ReaderBuilder::new(self.schema.clone())
            .with_header(header)
            .with_batch_size(batch_size)
            .with_null_regex(self.null.clone())
            .build_decoder();
        let mut batches = Vec::new();
        let mut rest = segment;
        while !rest.is_empty() {
            let used = decoder.decode(rest)?;
            rest = &rest[used..];
            if decoder.capacity() == 0 {
                batches.extend(decoder.flush()?);
            }
        }
        decoder.decode(&[])?;
        batches.extend(decoder.flush()?);
        Ok(batches)
    }
}

/// Cuts CSV arriving in pieces between records, once at least `min` bytes have come.
#[derive(Default)]
struct RecordCutter {
    ends: RecordEnds,
    scanned: usize,
    records: usize,
}

impl RecordCutter {
    /// The end of the first record ending at or after `min` bytes of `buf`, if one has
    /// arrived, and the number of records before it; the bytes before it are then handed
    /// on and `buf` starts after it.
    fn cut(&mut self, buf: &[u8], min: usize) -> Option<(usize, usize)> {
        while let Some(len) = self.ends.next_end(&buf[self.scanned..]) {
            self.scanned += len;
            self.records += 1;
            if self.scanned >= min {
                let records = std::mem::take(&mut self.records);
                return Some((std::mem::take(&mut self.scanned), records));
            }
        }
        self.scanned = buf.len();
        None
    }
}

type Segment = tokio::task::JoinHandle<Result<Vec<RecordBatch>>>;

async fn pump(
    mut body: ExportBody,
    reader: Arc<SegmentReader>,
    threads: usize,
    tx: BatchSender,
) -> Result<()> {
    // Each segment gets its own buffer, sized once: grown by doubling, every segment
    // left a trail of freed blocks that the allocator kept (a fifth of the peak memory).
    let new_buffer = |rest: &[u8]| {
        let mut buf = BytesMut::with_capacity(SEGMENT_BYTES + SEGMENT_BYTES / 4 + rest.len());
        buf.extend_from_slice(rest);
        buf
    };
    let mut buf = new_buffer(&[]);
    let mut cutter = RecordCutter::default();
    let mut in_flight: VecDeque<Segment> = VecDeque::new();
    let mut first = true;
    let start = |segment: Bytes, records: Option<usize>, first: &mut bool| -> Segment {
        let (reader, header) = (reader.clone(), std::mem::take(first));
        tokio::task::spawn_blocking(move || reader.decode(&segment, records, header))
    };
    while let Some(chunk) = body.next_chunk().await? {
        buf.extend_from_slice(&chunk);
        while let Some((end, records)) = cutter.cut(&buf, SEGMENT_BYTES) {
            let next = new_buffer(&buf[end..]);
            buf.truncate(end);
            let segment = std::mem::replace(&mut buf, next).freeze();
            in_flight.push_back(start(segment, Some(records), &mut first));
            // As many segments in flight as cores: each segment costs its bytes, its
            // decoder and its arrays until handed on, and one more only bought memory.
            while in_flight.len() >= threads.max(1) {
                hand_on(&mut in_flight, &tx).await?;
            }
        }
    }
    if !buf.is_empty() || first {
        in_flight.push_back(start(buf.freeze(), None, &mut first));
    }
    while !in_flight.is_empty() {
        hand_on(&mut in_flight, &tx).await?;
    }
    Ok(())
}

/// Sends the oldest segment's batches, in order.
async fn hand_on(in_flight: &mut VecDeque<Segment>, tx: &BatchSender) -> Result<()> {
    if let Some(segment) = in_flight.pop_front() {
        for batch in error::joined(segment.await)?? {
            send(tx, batch).await?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_are_cut_between_records() {
        let csv = b"h1,h2\na,\"x\ny\"\n\"say \"\"hi\"\"\",2\nlast,3\n";
        let mut buf = Vec::new();
        let mut cutter = RecordCutter::default();
        let mut segments = Vec::new();
        for &b in csv.iter() {
            buf.push(b);
            if let Some((end, records)) = cutter.cut(&buf, 8) {
                let segment = String::from_utf8(buf.drain(..end).collect()).unwrap();
                segments.push((segment, records));
            }
        }
        assert_eq!(
            segments,
            [
                ("h1,h2\na,\"x\ny\"\n".to_string(), 2),
                ("\"say \"\"hi\"\"\",2\n".to_string(), 1)
            ]
        );
        assert_eq!(buf, b"last,3\n");
    }
}

//! Streaming a dataset out: as Arrow batches (HTTP body -> CSV decoder -> bounded channel)
//! or as a CSV file written to disk.
//!
//! Memory stays flat whatever the dataset's size: the download runs only as fast as the
//! consumer takes batches, and dropping the stream stops it. The CSV is cut into segments
//! of whole records, decoded side by side on all cores and handed on in order.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use bytes::{Bytes, BytesMut};
use reqwest::Method;
use tokio::io::AsyncWriteExt;

use crate::batches::{BatchSender, BatchStream, send};
use crate::codec::export::hand_reader as csv_hand_reader;
use crate::codec::ordered::OrderedWork;
use crate::codec::record_ends::RecordEnds;
use crate::datasets::Dataset;
use crate::error::{self, Error, Result};
use crate::progress::{ReadProgress, ReadProgressFn};
use crate::routes;
use crate::transport::{Answer, Call};
use crate::types::{DomoType, arrow_schema};

impl Dataset {
    /// Asks for the latest data version as CSV with a header, refusing an answer whose
    /// type says it is not CSV (an HTML page, JSON, XML).
    async fn start_export(&self) -> Result<ExportBody> {
        let url = if self.client.is_public_api() {
            self.public_export_url()
        } else {
            self.url(
                &routes::DATASOURCES_V2,
                &["dataversions", "latest"],
                &[("includeHeader", "true")],
            )
        };
        let call = Call::new(Method::GET, url).accept("text/csv");
        let mut answer = self.client.transport.send(&call).await?;
        let content_type = answer.content_type.to_ascii_lowercase();
        if content_type.contains("text/html") {
            let body = first_bytes(&mut answer).await;
            return Err(answer.fail(error::html_error(answer.status, &body, call.info())));
        }
        if ["json", "xml"].iter().any(|t| content_type.contains(t)) {
            let body = first_bytes(&mut answer).await;
            return Err(answer.fail(Error::UnexpectedResponse {
                message: format!(
                    "Domo answered HTTP {} with {content_type:?} instead of CSV",
                    answer.status
                ),
                status: answer.status,
                request: call.info(),
                body: error::keep_body(&body),
            }));
        }
        Ok(ExportBody {
            answer,
            sniffed: false,
            held: BytesMut::new(),
        })
    }

    /// Downloads the dataset as CSV (with a header, nulls as `\N`) into `path`, without
    /// decoding it. The file appears only when complete: the data goes to a new file
    /// with an unpredictable name in the same folder (created exclusively, never through
    /// a link), renamed to `path` at the end and removed on any failure or cancellation.
    /// `progress` hears rows and bytes written (about every [`REPORT_BYTES`]) against the
    /// dataset's row count; its last report comes before the rename, so a failing report
    /// leaves no file. Returns the bytes written.
    pub async fn export_to(&self, path: &Path, progress: Option<ReadProgressFn>) -> Result<u64> {
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
        let mut counter = match &progress {
            Some(report) => Some(FileProgress::new(report.clone(), self.row_count().await?)),
            None => None,
        };
        let mut body = self.start_export().await?;
        let (file, mut partial) = PartialFile::create(&dir, name)?;
        let mut file = tokio::fs::File::from_std(file);
        let mut written = 0u64;
        while let Some(chunk) = body.next_chunk().await? {
            file.write_all(&chunk)
                .await
                .map_err(io(format!("cannot write {}", partial.path.display())))?;
            written += chunk.len() as u64;
            if let Some(counter) = counter.as_mut() {
                counter.written(&chunk)?;
            }
        }
        file.sync_all()
            .await
            .map_err(io(format!("cannot write {}", partial.path.display())))?;
        drop(file);
        if let Some(counter) = counter.as_mut() {
            counter.done()?;
        }
        tokio::fs::rename(&partial.path, path)
            .await
            .map_err(io(format!("cannot move the export to {}", path.display())))?;
        partial.renamed = true;
        Ok(written)
    }

    /// Starts exporting the dataset; returns once Domo has begun to answer. `progress`
    /// hears the rows handed on against the dataset's row count (see
    /// [`BatchStream`] for when it reports).
    pub async fn export(
        &self,
        batch_size: usize,
        progress: Option<ReadProgressFn>,
    ) -> Result<BatchStream> {
        if batch_size == 0 {
            return Err(Error::invalid("batch_size must be at least 1"));
        }
        let rows_total = match &progress {
            Some(_) => self.row_count().await?,
            None => None,
        };
        let columns = self.schema().await?;
        let schema = arrow_schema(&columns);
        let body = self.start_export().await?;
        let empty_null = self.client.is_public_api();
        let reader = Arc::new(SegmentReader {
            names: columns.iter().map(|c| c.name.clone()).collect(),
            types: columns.iter().map(|c| c.domo_type).collect(),
            schema: schema.clone(),
            batch_size,
            // The public API writes null as an empty field (and an empty string as `""`).
            null: regex::Regex::new(if empty_null { "^$" } else { r"^\\N$" })
                .map_err(|e| Error::invalid(e.to_string()))?,
            empty_null,
        });
        let threads = crate::codec::available_threads();
        let max_record =
            usize::try_from(self.client.transport.max_record_bytes()).unwrap_or(usize::MAX);
        let stream = BatchStream::spawn(schema, move |tx| {
            pump(body, reader, threads, max_record, tx)
        });
        Ok(stream.with_progress(
            progress,
            "the export was stopped by its progress callback",
            rows_total,
        ))
    }
}

/// An `export_to`'s progress reports are this many bytes apart, at least: a report per
/// network chunk would call the reporter thousands of times a second.
pub const REPORT_BYTES: u64 = 256 * 1024;

/// Counts the records of CSV as it is written to a file, and reports them.
struct FileProgress {
    report: ReadProgressFn,
    counts: ReadProgress,
    ends: RecordEnds,
    /// Records ended so far, the header's included.
    records: u64,
    /// Whether the last byte written ends a record (or nothing was written).
    at_record_end: bool,
    reported_at: u64,
}

impl FileProgress {
    fn new(report: ReadProgressFn, rows_total: Option<u64>) -> FileProgress {
        FileProgress {
            report,
            counts: ReadProgress {
                rows_total,
                bytes_read: Some(0),
                ..ReadProgress::default()
            },
            ends: RecordEnds::default(),
            records: 0,
            at_record_end: true,
            reported_at: 0,
        }
    }

    fn written(&mut self, chunk: &[u8]) -> Result<()> {
        let mut rest = chunk;
        while let Some(len) = self.ends.next_end(rest) {
            self.records += 1;
            rest = &rest[len..];
        }
        if !chunk.is_empty() {
            self.at_record_end = rest.is_empty();
        }
        let bytes = self.counts.bytes_read.unwrap_or(0) + chunk.len() as u64;
        self.counts.bytes_read = Some(bytes);
        if bytes - self.reported_at < REPORT_BYTES {
            return Ok(());
        }
        self.reported_at = bytes;
        self.send()
    }

    /// The last report: a last record without a line break counts too.
    fn done(&mut self) -> Result<()> {
        if !self.at_record_end {
            self.records += 1;
            self.at_record_end = true;
        }
        self.counts.done = true;
        self.send()
    }

    fn send(&mut self) -> Result<()> {
        // The header row is not a row of data.
        self.counts.rows_read = self.records.saturating_sub(1);
        (self.report)(self.counts).map_err(|source| Error::Callback {
            stopped: "the export was stopped by its progress callback; no file was written",
            source,
        })
    }
}

/// The first bytes of an answer that is not data, for the error that says so.
async fn first_bytes(answer: &mut Answer) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = answer.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= 64 * 1024 {
            break;
        }
    }
    body
}

/// The file an export is written to until it is complete; removed when dropped unless
/// it was renamed, so an error, a cancelled task or an interrupted call leaves nothing.
struct PartialFile {
    path: PathBuf,
    renamed: bool,
}

impl PartialFile {
    /// A new file beside the target `name` in `dir`: its name holds 64 random bits, it is
    /// created only if nothing (not even a dangling link) has that name, and a link there
    /// is never followed.
    fn create(dir: &Path, name: &std::ffi::OsStr) -> Result<(std::fs::File, PartialFile)> {
        let mut last = None;
        for _ in 0..8 {
            let mut partial_name = std::ffi::OsString::from(".");
            partial_name.push(name);
            partial_name.push(format!(".{:016x}.partial", rand::random::<u64>()));
            let path = dir.join(partial_name);
            // `create_new` is O_CREAT|O_EXCL: it fails on any existing name, a link
            // (dangling or not) included, rather than opening what the name points to.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok((
                        file,
                        PartialFile {
                            path,
                            renamed: false,
                        },
                    ));
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(source) => {
                    return Err(Error::Io {
                        context: format!("cannot create {}", path.display()),
                        source,
                    });
                }
            }
        }
        Err(Error::Io {
            context: format!("cannot create a temporary file in {}", dir.display()),
            source: last.unwrap_or_else(|| std::io::ErrorKind::AlreadyExists.into()),
        })
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if !self.renamed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// The CSV is cut into segments of about this many bytes of whole records.
const SEGMENT_BYTES: usize = 1 << 20;

/// Decodes segments of the export's CSV.
struct SegmentReader {
    names: Vec<String>,
    types: Vec<DomoType>,
    schema: SchemaRef,
    batch_size: usize,
    null: regex::Regex,
    /// Whether an unquoted empty field is null (the public API's export).
    empty_null: bool,
}

impl SegmentReader {
    /// `segment` holds whole records, about `records` of them if known (as the cutter
    /// counted them, header included: arrow-csv's decoder sets aside room for a whole
    /// batch, and need not for more than that); the first segment starts with the header
    /// row, which must name the schema's columns in order. An error is a message saying
    /// what is wrong with the CSV.
    fn decode(
        &self,
        segment: &[u8],
        records: Option<usize>,
        header: bool,
    ) -> std::result::Result<Vec<RecordBatch>, String> {
        if header {
            self.check_header(segment)?;
        }
        self.decode_records(segment, records, header)
            .map_err(|e| match e {
                Error::Arrow(e) => e.to_string(),
                other => other.to_string(),
            })
    }

    /// An error naming the columns unless `segment`'s first row names the schema's
    /// columns, in order: CSV read under the wrong names would be silently mislabelled.
    fn check_header(&self, segment: &[u8]) -> std::result::Result<(), String> {
        let Some(names) = csv_hand_reader::header_fields(segment) else {
            return Err("its first row cannot be read as a header row".into());
        };
        if names == self.names {
            return Ok(());
        }
        let list = |names: &[String]| {
            let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let missing: Vec<String> = self
            .names
            .iter()
            .filter(|n| !names.contains(n))
            .cloned()
            .collect();
        let unknown: Vec<String> = names
            .iter()
            .filter(|n| !self.names.contains(n))
            .cloned()
            .collect();
        let mut message = format!(
            "its header row names the columns {} but the dataset's schema has {}",
            list(&names),
            list(&self.names)
        );
        if !missing.is_empty() {
            message.push_str(&format!("; missing: {}", list(&missing)));
        }
        if !unknown.is_empty() {
            message.push_str(&format!("; not in the schema: {}", list(&unknown)));
        }
        if missing.is_empty() && unknown.is_empty() {
            message.push_str("; the order differs");
        }
        Err(message)
    }

    fn decode_records(
        &self,
        segment: &[u8],
        records: Option<usize>,
        header: bool,
    ) -> Result<Vec<RecordBatch>> {
        let read = csv_hand_reader::read_segment_with(
            segment,
            &self.types,
            &self.schema,
            header,
            self.batch_size,
            self.empty_null,
        );
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
        // arrow-csv reads a quoted "\N" as null too; it is a string (see codec::export::hand_reader).
        match csv_hand_reader::quoted_markers(segment, &self.types, header) {
            Some(markers) => Ok(csv_hand_reader::restore_markers(batches, &markers)?),
            None => Ok(batches),
        }
    }
}

/// Cuts CSV arriving in pieces between records, once at least `min` bytes have come.
#[derive(Default)]
struct RecordCutter {
    ends: RecordEnds,
    scanned: usize,
    records: usize,
    /// Where the record not yet ended starts in the buffer.
    record_start: usize,
}

impl RecordCutter {
    /// The end of the first record ending at or after `min` bytes of `buf`, if one has
    /// arrived, and the number of records before it; the bytes before it are then handed
    /// on and `buf` starts after it.
    fn cut(&mut self, buf: &[u8], min: usize) -> Option<(usize, usize)> {
        while let Some(len) = self.ends.next_end(&buf[self.scanned..]) {
            self.scanned += len;
            self.records += 1;
            self.record_start = self.scanned;
            if self.scanned >= min {
                let records = std::mem::take(&mut self.records);
                self.record_start = 0;
                return Some((std::mem::take(&mut self.scanned), records));
            }
        }
        self.scanned = buf.len();
        None
    }

    /// The length of the record not yet ended at the end of `buf` (as last cut).
    fn open_record(&self, buf: &[u8]) -> usize {
        buf.len() - self.record_start.min(buf.len())
    }
}

/// Segments being decoded, their batches taken in the export's order.
type Segments = OrderedWork<std::result::Result<Vec<RecordBatch>, String>>;

async fn pump(
    mut body: ExportBody,
    reader: Arc<SegmentReader>,
    threads: usize,
    max_record: usize,
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
    let mut in_flight: Segments = OrderedWork::new(threads);
    let mut first = true;
    let start =
        |in_flight: &mut Segments, segment: Bytes, records: Option<usize>, first: &mut bool| {
            let (reader, header) = (reader.clone(), std::mem::take(first));
            in_flight.submit(move || reader.decode(&segment, records, header));
        };
    while let Some(chunk) = body.next_chunk().await? {
        buf.extend_from_slice(&chunk);
        while let Some((end, records)) = cutter.cut(&buf, SEGMENT_BYTES) {
            let next = new_buffer(&buf[end..]);
            buf.truncate(end);
            let segment = std::mem::replace(&mut buf, next).freeze();
            start(&mut in_flight, segment, Some(records), &mut first);
            // As many segments in flight as cores: each segment costs its bytes, its
            // decoder and its arrays until handed on, and one more only bought memory.
            while in_flight.in_flight() >= threads.max(1) {
                hand_on(&mut in_flight, &tx, &body).await?;
            }
        }
        // A record that never ends (an unclosed quote) would otherwise hold the whole
        // rest of the export in memory.
        if cutter.open_record(&buf) > max_record {
            // The segments before it are whole records, and come first.
            while in_flight.in_flight() > 0 {
                hand_on(&mut in_flight, &tx, &body).await?;
            }
            return Err(body.answer.fail(Error::AnswerTooLarge {
                message: format!(
                    "cannot read the export: a record is longer than max_record_bytes \
                     ({max_record} bytes) without ending (an unclosed quote?); raise the \
                     client's max_record_bytes if records that long are expected"
                ),
                status: body.answer.status,
                request: body.answer.request().clone(),
            }));
        }
    }
    if cutter.ends.in_quotes() {
        // CSV readers take the rest as the field's text: the export was cut, or is broken.
        while in_flight.in_flight() > 0 {
            hand_on(&mut in_flight, &tx, &body).await?;
        }
        return Err(body.answer.fail(Error::UnexpectedResponse {
            message: "cannot read the export: it ends inside a quoted field (a quote is \
                      never closed)"
                .into(),
            status: body.answer.status,
            request: body.answer.request().clone(),
            body: None,
        }));
    }
    if !buf.is_empty() || first {
        start(&mut in_flight, buf.freeze(), None, &mut first);
    }
    while in_flight.in_flight() > 0 {
        hand_on(&mut in_flight, &tx, &body).await?;
    }
    Ok(())
}

/// Sends the oldest segment's batches, in order; a segment that cannot be read is an
/// error about the export's answer.
async fn hand_on(in_flight: &mut Segments, tx: &BatchSender, body: &ExportBody) -> Result<()> {
    if let Some(outcome) = in_flight.next().await {
        let batches = outcome.map_err(Error::WorkerFailed)?.map_err(|message| {
            body.answer.fail(Error::UnexpectedResponse {
                message: format!("cannot read the export: {message}"),
                status: body.answer.status,
                request: body.answer.request().clone(),
                body: None,
            })
        })?;
        for batch in batches {
            send(tx, batch).await?;
        }
    }
    Ok(())
}

/// The body of an export as it arrives.
struct ExportBody {
    answer: Answer,
    /// Whether the start of the body has been checked for an HTML page.
    sniffed: bool,
    /// The body's first bytes, held until there are enough to check.
    held: BytesMut,
}

/// Bytes past leading white space that tell an HTML page from CSV.
const SNIFF_BYTES: usize = 16;

/// White space an HTML page may start with, at most, before it is treated as data.
const SNIFF_MAX_BLANK: usize = 64 * 1024;

impl ExportBody {
    /// The next chunk; a body that turns out to be an HTML page (Domo's 200 "blocked"
    /// page), even after blank chunks, is an error, not data.
    async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        while !self.sniffed {
            let chunk = self.answer.chunk().await?;
            let ended = chunk.is_none();
            if let Some(chunk) = chunk {
                self.held.extend_from_slice(&chunk);
            }
            let blank = self
                .held
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            if ended || self.held.len() - blank >= SNIFF_BYTES || blank > SNIFF_MAX_BLANK {
                self.sniffed = true;
                if error::looks_like_html("", &self.held) {
                    let mut page = std::mem::take(&mut self.held).to_vec();
                    while page.len() < 64 * 1024
                        && let Ok(Some(more)) = self.answer.chunk().await
                    {
                        page.extend_from_slice(&more);
                    }
                    let err =
                        error::html_error(self.answer.status, &page, self.answer.request().clone());
                    return Err(self.answer.fail(err));
                }
            }
        }
        if !self.held.is_empty() {
            return Ok(Some(std::mem::take(&mut self.held).freeze()));
        }
        self.answer.chunk().await
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

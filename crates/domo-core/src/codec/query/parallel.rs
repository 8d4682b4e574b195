//! Large query answers decoded on all cores, while they arrive.
//!
//! A scanner follows the answer's bytes as they come in, finds the `rows` array and cuts
//! it into pieces of whole rows (stepping over string contents, nothing more). Once the
//! columns and their types are known (Domo sends them before the rows) each piece goes to
//! a decoding thread and becomes one batch; the batches keep the rows' order. Whatever
//! the scanner cannot follow, and any error, is left to the one-thread decoder, which
//! reads the whole answer and says exactly what is wrong.

use std::ops::Range;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::answer::{
    Columns, DecodeError, DecodedRows, decode_rows, decode_serial, head_columns, read_answer,
    without_rows,
};
use crate::codec::bytescan;

/// Below this size an answer is decoded on one thread: splitting would not pay.
pub(super) const PARALLEL_MIN_BYTES: usize = 4 << 20;
/// Rows go to the decoding threads in pieces of about this many bytes.
const PIECE_BYTES: usize = 4 << 20;

/// A run of whole rows: its bytes in the answer.
type Piece = Range<usize>;

/// Where the scanner is in the answer.
enum Scan {
    /// Before the `rows` member (rescanned from the start as bytes come: it is short).
    Head,
    /// Inside the rows array, which opened at `open`.
    Rows {
        open: usize,
        /// Where the piece being gathered starts: at a row, or just inside the array.
        start: usize,
        /// The bytes before this have been followed; `strings` says where that left off.
        at: usize,
        strings: Strings,
    },
    /// The rows array is `array`; the rest of the answer is not scanned.
    Done { array: Range<usize> },
    /// Not an answer the scanner can follow.
    Lost,
}

/// Whether the scanner is inside a string, and just past a backslash there.
#[derive(Clone, Copy, Default)]
struct Strings {
    open: bool,
    escaped: bool,
}

/// Finds pieces of whole rows in an answer as its bytes arrive.
///
/// Only where a piece has grown long enough is the next row's start looked for; up to
/// there only quotes are counted, eight bytes at a time, so the scanner knows whether it
/// is inside a string (walking every row cost a sixth of a live query's client CPU). The
/// rows of the last piece are walked one by one, to find where the array ends.
///
/// Nothing here is trusted: a piece is decoded as a whole array of rows, which fails
/// unless it starts and ends where rows do (that is where the piece before it ended, so
/// by induction every piece is checked), and any failure decodes the whole answer again
/// on one thread. So while bytes still come, the scanner may run past the end of the
/// rows into the rest of the answer: a piece cut there would not decode.
struct RowScanner {
    piece_bytes: usize,
    scan: Scan,
}

impl RowScanner {
    fn new(piece_bytes: usize) -> Self {
        RowScanner {
            piece_bytes,
            scan: Scan::Head,
        }
    }

    /// Scans `body` (all bytes so far) further; returns the pieces it completed.
    /// `complete`: no more bytes will come.
    fn scan(&mut self, body: &[u8], complete: bool) -> Vec<Piece> {
        let mut pieces = Vec::new();
        if matches!(self.scan, Scan::Head) {
            match find_rows(body) {
                Some(open) => {
                    self.scan = Scan::Rows {
                        open,
                        start: open + 1,
                        at: open + 1,
                        strings: Strings::default(),
                    }
                }
                None if complete => self.scan = Scan::Lost,
                None => return pieces,
            }
        }
        let Scan::Rows {
            open,
            start,
            at,
            strings,
        } = &mut self.scan
        else {
            return pieces;
        };
        // Once every byte has come, what is left (followed already, but too short for a
        // piece) is followed again and cut smaller, so that the threads share it rather
        // than one decoding it while the other waits. (A piece starts outside strings.)
        let piece_bytes = if complete {
            (*at, *strings) = (*start, Strings::default());
            self.piece_bytes.div_ceil(4)
        } else {
            self.piece_bytes
        };
        loop {
            let long_enough = *start + piece_bytes;
            if *at < long_enough {
                *at = follow_strings(body, *at, long_enough, strings);
                if *at < long_enough {
                    break;
                }
            }
            let Some((end, next)) = next_row_start(body, at, strings, complete) else {
                break;
            };
            pieces.push(*start..end);
            (*start, *at, *strings) = (next, next, Strings::default());
        }
        if complete {
            self.scan = match last_rows(body, *open, *start) {
                Some((last, array_end)) => {
                    pieces.extend(last);
                    Scan::Done {
                        array: *open..array_end,
                    }
                }
                None => Scan::Lost,
            };
        }
        pieces
    }
}

/// Follows `body` from `from` to at least `to` (or as far as whole words have arrived),
/// keeping `strings` up to date; returns where it stopped.
fn follow_strings(body: &[u8], from: usize, to: usize, strings: &mut Strings) -> usize {
    let words = to.saturating_sub(from).div_ceil(8);
    let end = body.len().min(from + words * 8);
    let Some(span) = body.get(from..end) else {
        return from;
    };
    let mut chunks = span.chunks_exact(8);
    // Without a backslash each quote opens or closes a string: only the parity of their
    // count matters, gathered over a run of such words.
    let mut quotes = 0;
    for chunk in &mut chunks {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        // (Any mark means a backslash: `equal` is exact enough for that.)
        if !strings.escaped && bytescan::equal(word, b'\\') == 0 {
            quotes ^= bytescan::every_equal(word, b'"');
            continue;
        }
        strings.open ^= quotes.count_ones() % 2 == 1;
        quotes = 0;
        for &b in chunk {
            if strings.escaped {
                strings.escaped = false;
            } else if b == b'\\' {
                // (Outside a string a backslash is wrong, which the decoder reports.)
                strings.escaped = strings.open;
            } else if b == b'"' {
                strings.open = !strings.open;
            }
        }
    }
    strings.open ^= quotes.count_ones() % 2 == 1;
    end - chunks.remainder().len()
}

/// Finds the next place, from `*at` on, where one row ends and another starts (`]`, `,`
/// and `[`, outside strings): the index just past the row and that of the next one.
/// `None` if there is none in `body` yet, with `*at` and `strings` where to go on from
/// once more bytes have come.
fn next_row_start(
    body: &[u8],
    at: &mut usize,
    strings: &mut Strings,
    complete: bool,
) -> Option<(usize, usize)> {
    loop {
        if strings.escaped {
            body.get(*at)?;
            *at += 1;
            strings.escaped = false;
        }
        if strings.open {
            let j = bytescan::find(
                body,
                *at,
                |x| bytescan::equal(x, b'"') | bytescan::equal(x, b'\\'),
                |b| b == b'"' || b == b'\\',
            );
            *at = j;
            match *body.get(j)? {
                b'"' => strings.open = false,
                _ => strings.escaped = true,
            }
            *at += 1;
            continue;
        }
        let j = bytescan::find(
            body,
            *at,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b']'),
            |b| b == b'"' || b == b']',
        );
        *at = j;
        if *body.get(j)? == b'"' {
            strings.open = true;
        } else {
            // Rows hold no arrays, so outside strings `]` ends a row (or the array).
            let comma = skip_ws(body, j + 1);
            let next = skip_ws(body, comma + 1);
            match (body.get(comma), body.get(next)) {
                (Some(b','), Some(b'[')) => return Some((j + 1, next)),
                // What follows has not arrived: look again once it has.
                (None, _) | (Some(b','), None) if !complete => return None,
                _ => {}
            }
        }
        *at += 1;
    }
}

/// Walks the rows from `start` (a row, or just inside the array opened at `open`) to
/// the end of the array: the range of those rows (if any) and the index just past the
/// array, or `None` if they are not rows and an array end.
fn last_rows(body: &[u8], open: usize, start: usize) -> Option<(Option<Piece>, usize)> {
    let mut i = start;
    let mut rows: Option<Piece> = None;
    let mut after_row = false;
    loop {
        i = skip_ws(body, i);
        match (*body.get(i)?, after_row) {
            (b',', true) => {
                i += 1;
                after_row = false;
            }
            // An empty array, or its last row.
            (b']', true) => return Some((rows, i + 1)),
            (b']', false) if start == open + 1 && rows.is_none() => return Some((None, i + 1)),
            (b'[', false) => {
                let end = row_end(body, i)?;
                rows.get_or_insert(i..end).end = end;
                after_row = true;
                i = end;
            }
            _ => return None,
        }
    }
}

/// The index of the `[` opening the `rows` member of the answer object, or `None` if it
/// is not (yet) there.
pub(crate) fn find_rows(body: &[u8]) -> Option<usize> {
    let mut i = skip_ws(body, 0);
    if body.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    loop {
        i = skip_ws(body, i);
        if body.get(i) != Some(&b'"') {
            return None;
        }
        let key_end = string_end(body, i + 1)?;
        let is_rows = &body[i + 1..key_end] == b"rows";
        i = skip_ws(body, key_end + 1);
        if body.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(body, i + 1);
        if is_rows {
            return (body.get(i) == Some(&b'[')).then_some(i);
        }
        i = skip_ws(body, skip_value(body, i)?);
        if body.get(i) != Some(&b',') {
            return None;
        }
        i += 1;
    }
}

pub(super) fn skip_ws(body: &[u8], mut i: usize) -> usize {
    while body
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
    {
        i += 1;
    }
    i
}

/// The index of the quote closing a string whose contents start at `i`.
fn string_end(body: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i = bytescan::find(
            body,
            i,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b'\\'),
            |b| b == b'"' || b == b'\\',
        );
        if *body.get(i)? == b'"' {
            return Some(i);
        }
        i += 2;
    }
}

/// The index just past the row (an array) opening at `i`, or `None` if it does not end
/// in `body`. Jumps from quote to quote and bracket to bracket, so numbers cost nothing.
fn row_end(body: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j = bytescan::find(
            body,
            j,
            |x| bytescan::equal(x, b'"') | bytescan::equal(x, b']') | bytescan::equal(x, b'['),
            |b| matches!(b, b'"' | b']' | b'['),
        );
        match *body.get(j)? {
            b'"' => j = string_end(body, j + 1)? + 1,
            b']' => return Some(j + 1),
            // A nested array (no valid row has one): the general walk.
            _ => return skip_value(body, i),
        }
    }
}

/// The index just past the JSON value starting at `i`, or `None` if it does not end in
/// `body`. Not validated: the decoder reads it later.
fn skip_value(body: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    loop {
        match *body.get(i)? {
            b'"' => i = string_end(body, i + 1)?,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
        // A scalar ends where the next member or element starts; at the end of what has
        // arrived it may not have, so it does not count as ended.
        if depth == 0
            && matches!(
                body.get(i),
                Some(b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t')
            )
        {
            return Some(i);
        }
    }
}

/// The column layout every piece is decoded into.
struct Layout {
    columns: Columns,
    schema: SchemaRef,
}

type Job = (usize, Vec<u8>);
type Done = (usize, Result<RecordBatch, DecodeError>);

/// Threads decoding pieces as they are handed over.
struct Workers {
    jobs: Option<mpsc::Sender<Job>>,
    done: mpsc::Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
    sent: usize,
}

impl Workers {
    fn start(layout: Arc<Layout>, threads: usize) -> Self {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (done_tx, done) = mpsc::channel::<Done>();
        let job_rx = Arc::new(Mutex::new(job_rx));
        let threads = (0..threads)
            .map(|_| {
                let (job_rx, done_tx, layout) = (job_rx.clone(), done_tx.clone(), layout.clone());
                std::thread::spawn(move || {
                    loop {
                        // The lock is held only to take the next job.
                        let job = job_rx
                            .lock()
                            .map_err(|_| ())
                            .and_then(|rx| rx.recv().map_err(|_| ()));
                        let Ok((index, rows_json)) = job else {
                            return;
                        };
                        let batch = decode_rows(&rows_json, &layout.columns, layout.schema.clone());
                        if done_tx.send((index, batch)).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Workers {
            jobs: Some(jobs),
            done,
            threads,
            sent: 0,
        }
    }

    /// Hands over a piece, copied out as a JSON array of its rows.
    fn send(&mut self, body: &[u8], range: Piece) {
        let mut rows_json = Vec::with_capacity(range.len() + 2);
        rows_json.push(b'[');
        rows_json.extend_from_slice(&body[range]);
        rows_json.push(b']');
        if let Some(jobs) = &self.jobs {
            // A send fails only if every thread has gone, which `finish` then reports.
            let _ = jobs.send((self.sent, rows_json));
        }
        self.sent += 1;
    }

    /// Waits for every piece; the batches in the rows' order.
    fn finish(mut self) -> Result<Vec<RecordBatch>, DecodeError> {
        self.jobs = None;
        let mut batches: Vec<Option<RecordBatch>> = vec![None; self.sent];
        for _ in 0..self.sent {
            let (index, batch) = self
                .done
                .recv()
                .map_err(|_| DecodeError("a decoding thread failed".into()))?;
            batches[index] = Some(batch?);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        Ok(batches.into_iter().flatten().collect())
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Closing the queue ends the threads after their current piece; they are not
        // waited for, so dropping a decoder (a cancelled query) never blocks.
        self.jobs = None;
    }
}

/// Decodes a query answer fed in as it arrives.
pub(crate) struct AnswerDecoder {
    body: Vec<u8>,
    threads: usize,
    scanner: RowScanner,
    /// Pieces found before the columns were known to the workers.
    waiting: Vec<Piece>,
    started: Option<(Arc<Layout>, Workers)>,
    /// No parallel decoding for this answer: too small, or its head could not be read.
    serial: bool,
    parallel_min_bytes: usize,
}

impl AnswerDecoder {
    /// `threads`: at most this many decoding threads. `expected_len`: the answer's size if
    /// known (to reserve memory once), else 0.
    pub(crate) fn new(threads: usize, expected_len: usize) -> Self {
        Self::with_sizes(threads, expected_len, PARALLEL_MIN_BYTES, PIECE_BYTES)
    }

    pub(in crate::codec) fn with_sizes(
        threads: usize,
        expected_len: usize,
        parallel_min_bytes: usize,
        piece_bytes: usize,
    ) -> Self {
        AnswerDecoder {
            // (A size announced by the server is trusted only so far.)
            body: Vec::with_capacity(expected_len.min(1 << 30)),
            threads,
            scanner: RowScanner::new(piece_bytes),
            waiting: Vec::new(),
            started: None,
            serial: threads < 2,
            parallel_min_bytes,
        }
    }

    /// The bytes so far.
    pub(crate) fn body(&self) -> &[u8] {
        &self.body
    }

    /// Adds the next bytes of the answer; hands any rows they complete to the threads.
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        self.body.extend_from_slice(bytes);
        if !self.serial && self.body.len() >= self.parallel_min_bytes {
            self.advance(false);
        }
    }

    fn advance(&mut self, complete: bool) {
        let found = self.scanner.scan(&self.body, complete);
        self.waiting.extend(found);
        if self.started.is_none() {
            let rows_open = match &self.scanner.scan {
                Scan::Rows { open, .. } => *open,
                Scan::Done { array } => array.start,
                Scan::Head | Scan::Lost => return,
            };
            // The columns and their types precede the rows (as Domo sends them): read
            // them as an answer without rows.
            match head_columns(&self.body, rows_open) {
                Some(columns) => {
                    let schema = columns.schema();
                    let layout = Arc::new(Layout { columns, schema });
                    let workers = Workers::start(layout.clone(), self.threads);
                    self.started = Some((layout, workers));
                }
                None => {
                    self.serial = true;
                    return;
                }
            }
        }
        if let Some((_, workers)) = &mut self.started {
            for piece in self.waiting.drain(..) {
                workers.send(&self.body, piece);
            }
        }
    }

    /// Decodes the rest once every byte has arrived.
    pub(crate) fn finish(mut self) -> Result<DecodedRows, DecodeError> {
        if self.serial || self.body.len() < self.parallel_min_bytes {
            return decode_serial(&self.body);
        }
        self.advance(true);
        let parallel = match (&self.scanner.scan, self.started.take()) {
            (Scan::Done { array }, Some((layout, workers))) => {
                // The whole answer without its rows must be a valid answer too, naming the
                // same columns and types (metadata sent after the rows would change them).
                match read_answer(&without_rows(&self.body, array)) {
                    Ok((columns, _)) if columns.same_layout(&layout.columns) => {
                        workers.finish().ok().map(|batches| (layout, batches))
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match parallel {
            Some((layout, batches)) => Ok(DecodedRows {
                schema: layout.schema.clone(),
                batches,
                unknown_types: layout.columns.unknown_types.clone(),
            }),
            // Whatever went wrong, the one-thread decoder says it with positions in the
            // whole answer.
            None => decode_serial(&self.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(types: &[&str]) -> String {
        let items: Vec<String> = types
            .iter()
            .map(|t| format!(r#"{{"type":"{t}","dataSourceId":"x"}}"#))
            .collect();
        format!("[{}]", items.join(","))
    }

    /// An answer whose strings hold everything the scanner must step over.
    fn tricky_answer(rows: usize) -> String {
        let rows: Vec<String> = (0..rows)
            .map(|i| {
                let s = match i % 5 {
                    0 => r#""],[\"x\" \\""#.to_string(),
                    1 => "null".to_string(),
                    2 => r#""{\"a\":[1,2]}, ""#.to_string(),
                    3 => format!(r#""é ✓ {i}""#),
                    _ => r#""\\""#.to_string(),
                };
                format!("[{i}, {s} ,{}.5]", i % 7)
            })
            .collect();
        format!(
            r#"{{"datasource":"x", "columns":["n","s","d"],"metadata":{} , "rows" : [ {} ] ,"numRows":{}}}"#,
            meta(&["LONG", "STRING", "DOUBLE"]),
            rows.join(" ,\n"),
            rows.len()
        )
    }

    /// Decodes `body` fed in `chunk`-byte pieces.
    fn decode(
        body: &[u8],
        threads: usize,
        chunk: usize,
        piece_bytes: usize,
    ) -> Result<DecodedRows, DecodeError> {
        let mut decoder = AnswerDecoder::with_sizes(threads, 0, 1, piece_bytes);
        for part in body.chunks(chunk) {
            decoder.extend(part);
        }
        decoder.finish()
    }

    fn joined(d: &DecodedRows) -> RecordBatch {
        arrow_select::concat::concat_batches(&d.schema, &d.batches).unwrap()
    }

    #[test]
    fn pieces_decode_as_one_thread_does() {
        let body = tricky_answer(101);
        let serial = decode_serial(body.as_bytes()).unwrap();
        for (threads, chunk, piece_bytes) in [
            (2, 1, 1),
            (3, 7, 40),
            (2, 100, 300),
            (8, 1 << 20, 1 << 20),
            (2, 13, 1),
        ] {
            let split = decode(body.as_bytes(), threads, chunk, piece_bytes).unwrap();
            assert_eq!(split.schema, serial.schema);
            assert_eq!(
                joined(&split),
                serial.batches[0],
                "{threads} {chunk} {piece_bytes}"
            );
            if piece_bytes < 100 {
                assert!(split.batches.len() > 3, "{}", split.batches.len());
            }
        }
        let empty = format!(
            r#"{{"columns":["n"],"metadata":{},"rows":[ ]}}"#,
            meta(&["LONG"])
        );
        assert_eq!(decode(empty.as_bytes(), 2, 3, 1).unwrap().num_rows(), 0);
        // Columns or types after the rows: decoded once everything is there.
        for late in [
            format!(
                r#"{{"rows":[[1],[2]],"columns":["n"],"metadata":{}}}"#,
                meta(&["LONG"])
            ),
            format!(
                r#"{{"columns":["n"],"rows":[[1],[2]],"metadata":{}}}"#,
                meta(&["LONG"])
            ),
        ] {
            let decoded = decode(late.as_bytes(), 2, 3, 1).unwrap();
            assert_eq!(
                joined(&decoded),
                decode_serial(late.as_bytes()).unwrap().batches[0]
            );
            assert_eq!(
                decoded.schema.field(0).data_type(),
                &arrow_schema::DataType::Int64
            );
        }
    }

    #[test]
    fn errors_are_the_one_thread_errors() {
        let body = tricky_answer(60).replace("[57, ", "[\"x\", ");
        let err = decode(body.as_bytes(), 2, 64, 50).unwrap_err().0;
        assert_eq!(err, decode_serial(body.as_bytes()).unwrap_err().0);
        assert!(err.contains("row 57, column \"n\""), "{err}");
        let bytes = body.as_bytes();
        for bad in [
            &bytes[..bytes.len() / 2],
            &bytes[..bytes.len() - 2],
            b"[1]",
            br#"{"rows":[1,2]}"#,
            br#"{"columns":["n"],"rows":[[1],]}"#,
        ] {
            let err = decode(bad, 2, 16, 10).unwrap_err().0;
            assert_eq!(err, decode_serial(bad).unwrap_err().0);
        }
    }

    #[test]
    fn rows_end_where_their_bracket_closes() {
        let body = br#"[1,"a]\"]"],[2,{"b":"]"},[3]],x"#;
        assert_eq!(row_end(body, 0), Some(11));
        assert_eq!(row_end(body, 12), Some(body.len() - 2));
        assert_eq!(row_end(&body[..8], 0), None);
    }

    #[test]
    fn scanner_steps_over_strings() {
        let body = br#"{"a":"rows","b":[{"rows":[]}],"rows":[["x],["],["\\\"],[", "\\"],["y"]]}"#;
        for piece_bytes in [1, 3, 8, 100] {
            let mut scanner = RowScanner::new(piece_bytes);
            let pieces = scanner.scan(body, true);
            let rows: Vec<&[u8]> = pieces.iter().map(|r| &body[r.clone()]).collect();
            let joined = rows.join(&b","[..]);
            assert_eq!(joined, &body[38..body.len() - 2], "{piece_bytes}");
            if piece_bytes < 8 {
                assert!(rows.len() > 1, "{rows:?}");
            }
        }
    }

    #[test]
    fn the_rest_is_cut_smaller_once_everything_has_come() {
        let body = tricky_answer(200);
        let body = body.as_bytes();
        let mut scanner = RowScanner::new(body.len());
        // Everything but the last bytes arrives: too short for a piece.
        assert!(scanner.scan(&body[..body.len() - 3], false).is_empty());
        let pieces = scanner.scan(body, true);
        assert_eq!(pieces.len(), 4, "{pieces:?}");
        assert!(matches!(scanner.scan, Scan::Done { .. }));
        let joined = decode(body, 2, 1 << 20, body.len()).unwrap();
        assert_eq!(joined.batches.len(), 4);
        assert_eq!(
            arrow_select::concat::concat_batches(&joined.schema, &joined.batches).unwrap(),
            decode_serial(body).unwrap().batches[0]
        );
    }

    #[test]
    fn quotes_are_counted_outside_escapes() {
        let body = br#"ab"c\"d\\"ef\"gh"ij"kl"#;
        for end in 0..=body.len() / 8 {
            let mut strings = Strings::default();
            let at = follow_strings(body, 0, end * 8, &mut strings);
            assert_eq!(at, end * 8);
            let mut slow = Strings::default();
            let mut escaped = false;
            for &b in &body[..at] {
                if escaped {
                    escaped = false;
                } else if b == b'\\' {
                    escaped = slow.open;
                } else if b == b'"' {
                    slow.open = !slow.open;
                }
            }
            assert_eq!(
                (strings.open, strings.escaped),
                (slow.open, escaped),
                "{end}"
            );
        }
    }
}

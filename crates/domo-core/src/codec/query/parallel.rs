//! Large query answers decoded on all cores, while they arrive.
//!
//! A scanner follows the answer's bytes as they come in, finds the `rows` array and cuts
//! it into pieces of whole rows (stepping over string contents, nothing more). Once the
//! columns and their types are known (Domo sends them before the rows) each piece goes to
//! a decoding thread and becomes one batch; the batches keep the rows' order. Whatever
//! the scanner cannot follow, and any error, is left to the one-thread decoder, which
//! reads the whole answer and says exactly what is wrong.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::answer::{
    Columns, DecodeError, DecodedRows, decode_rows, decode_serial, head_columns, without_rows,
};
use super::scanner::{Piece, RowScanner, Scan};
use super::serde_reader::read_answer;
use crate::codec::ordered::OrderedWork;

/// Below this size an answer is decoded on one thread: splitting would not pay.
pub(super) const PARALLEL_MIN_BYTES: usize = 4 << 20;
/// Rows go to the decoding threads in pieces of about this many bytes.
const PIECE_BYTES: usize = 4 << 20;

/// The column layout every piece is decoded into.
struct Layout {
    columns: Columns,
    schema: SchemaRef,
}

/// The decoding threads with the column layout their pieces are read into.
struct Workers {
    layout: Arc<Layout>,
    pieces: OrderedWork<Result<RecordBatch, DecodeError>>,
}

impl Workers {
    fn start(layout: Arc<Layout>, threads: usize) -> Self {
        Workers {
            layout,
            pieces: OrderedWork::new(threads),
        }
    }

    /// Hands over a piece, copied out as a JSON array of its rows.
    fn send(&mut self, body: &[u8], range: Piece) {
        let mut rows_json = Vec::with_capacity(range.len() + 2);
        rows_json.push(b'[');
        rows_json.extend_from_slice(&body[range]);
        rows_json.push(b']');
        let layout = self.layout.clone();
        self.pieces
            .submit(move || decode_rows(&rows_json, &layout.columns, layout.schema.clone()));
    }

    /// Waits for every piece; the batches in the rows' order.
    fn finish(mut self) -> Result<Vec<RecordBatch>, DecodeError> {
        std::iter::from_fn(|| self.pieces.next_blocking())
            .map(|outcome| outcome.map_err(DecodeError)?)
            .collect()
    }
}

/// Decodes a query answer fed in as it arrives.
pub(crate) struct AnswerDecoder {
    body: Vec<u8>,
    threads: usize,
    scanner: RowScanner,
    /// Pieces found before the columns were known to the workers.
    waiting: Vec<Piece>,
    started: Option<Workers>,
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
                    self.started = Some(Workers::start(layout, self.threads));
                }
                None => {
                    self.serial = true;
                    return;
                }
            }
        }
        if let Some(workers) = &mut self.started {
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
            (Scan::Done { array }, Some(workers)) => {
                // The whole answer without its rows must be a valid answer too, naming the
                // same columns and types (metadata sent after the rows would change them).
                match read_answer(&without_rows(&self.body, array)) {
                    Ok((columns, _)) if columns.same_layout(&workers.layout.columns) => {
                        let layout = workers.layout.clone();
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
}

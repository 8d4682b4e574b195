//! Query answers (`{"columns", "metadata", "rows": [[...]]}`) into Arrow: the entry points
//! and what every reader shares (the columns and types the answer names, the batches they
//! become). A small answer laid out as Domo sends it goes through the hand reader; a large
//! one through `parallel`; anything else, and every error, through `serde_reader`.
//!
//! The decoder is tolerant of what the live service sends: numbers as strings, `null`
//! anywhere, datetimes with or without a fraction, unknown types (kept as text).

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema, SchemaRef};
use serde::Deserialize;

use super::hand_reader;
use super::parallel::{self, AnswerDecoder};
use super::scanner;
use super::serde_reader::{self, decode_whole, read_answer};
use crate::codec::builders::ColumnBuilder;
use crate::types::DomoType;

/// A decoded query answer: its rows in order, in one batch per decoding thread.
#[derive(Debug, Clone)]
pub struct DecodedRows {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Column types the answer named that this client does not know; read as text.
    pub unknown_types: Vec<(String, String)>,
}

impl DecodedRows {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(RecordBatch::num_rows).sum()
    }
}

#[derive(Deserialize)]
pub(super) struct ColumnMeta {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// The columns and their builders, once the answer has named and typed them.
pub(crate) struct Columns {
    pub(super) names: Vec<String>,
    types: Vec<DomoType>,
    pub(super) builders: Vec<ColumnBuilder>,
    pub(crate) unknown_types: Vec<(String, String)>,
}

impl Columns {
    pub(super) fn new(names: Vec<String>, metadata: &[ColumnMeta]) -> Result<Columns, String> {
        if !metadata.is_empty() && metadata.len() != names.len() {
            return Err(format!(
                "the answer names {} columns but describes {}",
                names.len(),
                metadata.len()
            ));
        }
        let mut unknown_types = Vec::new();
        let types: Vec<DomoType> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let kind = metadata
                    .get(i)
                    .and_then(|m| m.kind.as_deref())
                    .unwrap_or("STRING");
                kind.parse::<DomoType>().unwrap_or_else(|_| {
                    unknown_types.push((name.clone(), kind.to_string()));
                    DomoType::String
                })
            })
            .collect();
        let mut columns = Columns {
            names,
            types,
            builders: Vec::new(),
            unknown_types,
        };
        columns.builders = columns.new_builders();
        Ok(columns)
    }

    pub(super) fn new_builders(&self) -> Vec<ColumnBuilder> {
        self.types.iter().map(|t| ColumnBuilder::new(*t)).collect()
    }

    /// Builders with room for `rows` values set aside at once.
    fn builders_for(&self, rows: usize) -> Vec<ColumnBuilder> {
        self.types
            .iter()
            .map(|t| ColumnBuilder::with_capacity(*t, rows))
            .collect()
    }

    /// Same names and types as `other`.
    pub(crate) fn same_layout(&self, other: &Columns) -> bool {
        self.names == other.names && self.types == other.types
    }

    pub(crate) fn schema(&self) -> SchemaRef {
        let fields: Vec<Field> = self
            .names
            .iter()
            .zip(&self.types)
            .map(|(name, t)| Field::new(name, t.arrow_type(), true))
            .collect();
        Arc::new(Schema::new(fields))
    }
}

/// The builders' contents as one batch of `rows` rows.
pub(super) fn finish(
    schema: SchemaRef,
    builders: &mut [ColumnBuilder],
    rows: usize,
) -> Result<RecordBatch, DecodeError> {
    let arrays: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, arrays, &options)
        .map_err(|e| DecodeError(e.to_string()))
}

/// Decodes a whole query answer, a large one on all cores.
pub fn decode_query_answer(body: &[u8]) -> Result<DecodedRows, DecodeError> {
    decode_query_answer_on(body, crate::codec::available_threads())
}

/// Decodes a whole query answer on at most `threads` threads.
pub fn decode_query_answer_on(body: &[u8], threads: usize) -> Result<DecodedRows, DecodeError> {
    // On one thread the whole answer is read where it lies: the streaming decoder would
    // first copy it into a buffer of its own.
    if threads < 2 || body.len() < parallel::PARALLEL_MIN_BYTES {
        return decode_serial(body);
    }
    let mut decoder = AnswerDecoder::new(threads, body.len());
    // Fed as if arriving, so the threads start on the first rows while the rest is scanned.
    for chunk in body.chunks(1 << 20) {
        decoder.extend(chunk);
    }
    decoder.finish()
}

/// Reads the rows array opening `text` with the hand reader: one batch, and the index
/// just past the array; `None` if serde has to read it.
fn read_rows_by_hand(
    text: &str,
    columns: &Columns,
    schema: SchemaRef,
) -> Option<(RecordBatch, usize)> {
    // Each row ends in the only `]` outside strings: room for every row at once, where
    // growing by doubling copied each column about once over, into fresh pages every
    // time. Strings holding `]` make the guess larger, never past what the text can hold
    // (a row takes at least a byte and a separator per cell, and its brackets).
    let most = text.len() / (2 * columns.types.len() + 1);
    let rows = memchr::memchr_iter(b']', text.as_bytes()).count().min(most);
    let mut builders = columns.builders_for(rows);
    let (rows, end) = hand_reader::read_rows(text, &mut builders)?;
    Some((finish(schema, &mut builders, rows).ok()?, end))
}

/// The columns and types named before the rows array opening at `rows_open` (where Domo
/// sends them), if the part of `body` before it reads as an answer.
pub(crate) fn head_columns(body: &[u8], rows_open: usize) -> Option<Columns> {
    let mut head = body[..rows_open].to_vec();
    head.extend_from_slice(b"[]}");
    read_answer(&head).ok().map(|(columns, _)| columns)
}

/// Decodes on one thread.
pub(crate) fn decode_serial(body: &[u8]) -> Result<DecodedRows, DecodeError> {
    by_hand(body).map_or_else(|| decode_whole(body), Ok)
}

/// The whole answer through the hand reader, if it is laid out as Domo sends it.
fn by_hand(body: &[u8]) -> Option<DecodedRows> {
    let text = simdutf8::basic::from_utf8(body).ok()?;
    let open = scanner::find_rows(body)?;
    let columns = head_columns(body, open)?;
    let schema = columns.schema();
    let (batch, len) = read_rows_by_hand(&text[open..], &columns, schema.clone())?;
    // The answer without its rows must be an answer naming the same columns and types.
    match read_answer(&without_rows(body, &(open..open + len))) {
        Ok((rest, 0)) if rest.same_layout(&columns) => Some(DecodedRows {
            schema,
            batches: vec![batch],
            unknown_types: columns.unknown_types,
        }),
        _ => None,
    }
}

/// `body` with the rows array at `array` replaced by an empty one.
pub(crate) fn without_rows(body: &[u8], array: &std::ops::Range<usize>) -> Vec<u8> {
    let mut rest = Vec::with_capacity(body.len() - array.len() + 2);
    rest.extend_from_slice(&body[..array.start]);
    rest.extend_from_slice(b"[]");
    rest.extend_from_slice(&body[array.end..]);
    rest
}

/// Decodes `rows_json`, a JSON array of rows, into one batch of `columns`' schema. (Its
/// errors are never shown: the whole answer is then decoded again, on one thread, and
/// that error names the row.)
pub(crate) fn decode_rows(
    rows_json: &[u8],
    columns: &Columns,
    schema: SchemaRef,
) -> Result<RecordBatch, DecodeError> {
    if let Some(text) = simdutf8::basic::from_utf8(rows_json).ok()
        && let Some((batch, end)) = read_rows_by_hand(text, columns, schema.clone())
        && hand_reader::only_ws_after(text, end)
    {
        return Ok(batch);
    }
    // The hand reader gave up: serde reads it again from scratch, and says what is wrong.
    serde_reader::read_rows_json(rows_json, columns, schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        Date32Type, Decimal128Type, Float64Type, Int64Type, TimestampMicrosecondType,
    };

    fn meta(types: &[&str]) -> String {
        let items: Vec<String> = types
            .iter()
            .map(|t| format!(r#"{{"type":"{t}","dataSourceId":"x","maxLength":-1,"minLength":-1,"periodIndex":0,"aggregated":false}}"#))
            .collect();
        format!("[{}]", items.join(","))
    }

    #[test]
    fn decodes_every_type_with_nulls() {
        let body = format!(
            r#"{{"datasource":"x","columns":["s","l","d","m","dt","ts","b"],"metadata":{},
               "rows":[["a",1,1.5,"12.25","2024-01-02","2019-03-19T18:49:02",true],
                       [null,null,null,null,null,null,null],
                       ["",  "7","2",3.5,"2024-02-29","2019-03-19 18:49:02.25","false"]],
               "numRows":3,"numColumns":7,"fromcache":false,"duration":"1"}}"#,
            meta(&[
                "STRING", "LONG", "DOUBLE", "DECIMAL", "DATE", "DATETIME", "BOOLEAN"
            ])
        );
        let decoded = decode_query_answer(body.as_bytes()).unwrap();
        let b = &decoded.batches[0];
        assert_eq!(b.num_rows(), 3);
        assert!(decoded.unknown_types.is_empty());
        let s = b.column(0).as_string_view();
        assert_eq!((s.value(0), s.is_null(1), s.value(2)), ("a", true, ""));
        let l = b.column(1).as_primitive::<Int64Type>();
        assert_eq!((l.value(0), l.is_null(1), l.value(2)), (1, true, 7));
        let d = b.column(2).as_primitive::<Float64Type>();
        assert_eq!((d.value(0), d.value(2)), (1.5, 2.0));
        let m = b.column(3).as_primitive::<Decimal128Type>();
        assert_eq!(m.value(0), 122_500_000_000);
        assert_eq!(m.value(2), 35_000_000_000);
        let dt = b.column(4).as_primitive::<Date32Type>();
        assert_eq!(dt.value(0), 19_724);
        let ts = b.column(5).as_primitive::<TimestampMicrosecondType>();
        assert_eq!(ts.value(0), 1_553_021_342_000_000);
        assert_eq!(ts.value(2), 1_553_021_342_250_000);
        let bo = b.column(6).as_boolean();
        assert!(bo.value(0) && !bo.value(2) && bo.is_null(1));
        for col in b.columns() {
            assert!(col.is_null(1));
        }
    }

    /// The hand reader (what decoding uses) against serde alone (what reports errors).
    fn both_readers(types: &[&str], cells: &[&str]) -> (RecordBatch, RecordBatch) {
        let names: Vec<String> = (0..types.len()).map(|i| format!("\"c{i}\"")).collect();
        let rows: Vec<String> = cells
            .iter()
            .map(|c| format!("[{}]", vec![*c; types.len()].join(",")))
            .collect();
        let body = format!(
            r#"{{"columns":[{}],"metadata":{},"rows":[{}]}}"#,
            names.join(","),
            meta(types),
            rows.join(",")
        );
        let hand = by_hand(body.as_bytes()).expect("read by hand");
        let serde = decode_whole(body.as_bytes()).unwrap();
        (hand.batches[0].clone(), serde.batches[0].clone())
    }

    #[test]
    fn numbers_read_by_hand_as_serde_reads_them() {
        let numbers = [
            "0",
            "-0",
            "0.0",
            "-0.0",
            "1",
            "-1",
            "123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "18446744073709551616",
            "0.1",
            "-281752.8528",
            "1.7976931348623157e308",
            "5e-324",
            "1e23",
            "9007199254740993",
            "9007199254740993.0",
            "0.30000000000000004",
            "123.456e-2",
            "1E+2",
            "2.2250738585072011e-308",
            "12345678901234567890.123",
            "0.0000000000000000000001234",
        ];
        let (hand, serde) = both_readers(&["DOUBLE", "STRING"], &numbers);
        assert_eq!(hand, serde);
        // DECIMAL is read from the digits; where an f64 holds them exactly, the same.
        let decimals = [
            "0",
            "-0",
            "0.5",
            "-0.0000000001",
            "123456789012.25",
            "1e3",
            "-1.5E-2",
            "78408691.0",
            "12",
            "-3",
            "0.12345678901",
        ];
        let (hand, serde) = both_readers(&["DECIMAL"], &decimals);
        assert_eq!(hand, serde);
        let (hand, _) = both_readers(&["DECIMAL"], &["1234567890123456789.0123456789"]);
        let exact = hand.column(0).as_primitive::<Decimal128Type>().value(0);
        assert_eq!(exact, 12_345_678_901_234_567_890_123_456_789);
    }

    #[test]
    fn dates_read_by_hand_as_serde_reads_them() {
        let cells = [
            r#""2024-02-29""#,
            r#""0000-01-01""#,
            r#""0000-03-01""#,
            r#""9999-12-31""#,
            r#""1969-12-31T23:59:59""#,
            r#""2019-03-19 18:49:02""#,
            r#""9999-12-31T23:59:60""#,
            r#""2019-03-19T20:49:02+02:00""#,
            r#""2019-03-19T18:49:02.25""#,
            r#""2019-03-19\u005418:49:02""#,
            "null",
        ];
        let (hand, serde) = both_readers(&["DATE", "DATETIME"], &cells);
        assert_eq!(hand, serde);
    }

    #[test]
    fn unknown_types_become_text() {
        let body = format!(
            r#"{{"columns":["t"],"metadata":{},"rows":[["12:00:00"],[5]]}}"#,
            meta(&["TIME"])
        );
        let decoded = decode_query_answer(body.as_bytes()).unwrap();
        assert_eq!(
            decoded.unknown_types,
            vec![("t".to_string(), "TIME".to_string())]
        );
        let s = decoded.batches[0].column(0).as_string_view();
        assert_eq!((s.value(0), s.value(1)), ("12:00:00", "5"));
    }

    #[test]
    fn field_order_does_not_matter() {
        let body = format!(
            r#"{{"rows":[[1]],"metadata":{},"columns":["n"]}}"#,
            meta(&["LONG"])
        );
        let decoded = decode_query_answer(body.as_bytes()).unwrap();
        assert_eq!(
            decoded.batches[0]
                .column(0)
                .as_primitive::<Int64Type>()
                .value(0),
            1
        );
    }

    #[test]
    fn empty_results_keep_their_schema() {
        let body = format!(
            r#"{{"columns":["n","s"],"metadata":{},"rows":[]}}"#,
            meta(&["LONG", "STRING"])
        );
        let decoded = decode_query_answer(body.as_bytes()).unwrap();
        assert_eq!(decoded.num_rows(), 0);
        assert_eq!(decoded.schema.fields().len(), 2);
    }

    #[test]
    fn bad_bodies_say_what_is_wrong() {
        let m = meta(&["LONG"]);
        let cases = [
            (
                format!(r#"{{"columns":["n"],"metadata":{m},"rows":[[1],["x"]]}}"#),
                "row 1, column \"n\" (LONG)",
            ),
            (
                format!(r#"{{"columns":["n"],"metadata":{m},"rows":[[1,2]]}}"#),
                "more than 1 values",
            ),
            (
                format!(r#"{{"columns":["n"],"metadata":{m},"rows":[[]]}}"#),
                "has 0 values",
            ),
            (
                format!(r#"{{"columns":["n"],"metadata":{m},"rows":[[1],[2"#),
                "cut short",
            ),
            (r#"{"metadata":[],"rows":[]}"#.to_string(), "no \"columns\""),
            ("<html>".to_string(), "not valid query JSON"),
        ];
        for (body, expected) in cases {
            let err = decode_query_answer(body.as_bytes()).unwrap_err().0;
            assert!(err.contains(expected), "{body}: {err}");
        }
    }
}

//! Query answers (`{"columns", "metadata", "rows": [[...]]}`) straight into Arrow.
//!
//! Cells go from the JSON tokens into typed Arrow builders in one pass over the bytes: no
//! `serde_json::Value`, no per-cell allocation except for strings. Types come from the answer's `metadata`, and the
//! decoder is tolerant of what the live service sends: numbers as strings, `null` anywhere,
//! datetimes with or without a fraction, unknown types (kept as text).

use std::fmt;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{Field, Schema, SchemaRef};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::hand_reader;
use super::parallel::{self, AnswerDecoder};
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
struct ColumnMeta {
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DecodeError(pub String);

/// The top-level fields the decoder reads; the rest are skipped.
enum Key {
    Columns,
    Metadata,
    Rows,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(match v {
                    "columns" => Key::Columns,
                    "metadata" => Key::Metadata,
                    "rows" => Key::Rows,
                    _ => Key::Other,
                })
            }
        }
        de.deserialize_identifier(KeyVisitor)
    }
}

/// The columns and their builders, once the answer has named and typed them.
pub(crate) struct Columns {
    names: Vec<String>,
    types: Vec<DomoType>,
    builders: Vec<ColumnBuilder>,
    pub(crate) unknown_types: Vec<(String, String)>,
}

impl Columns {
    fn new(names: Vec<String>, metadata: &[ColumnMeta]) -> Result<Columns, String> {
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

    fn new_builders(&self) -> Vec<ColumnBuilder> {
        self.types.iter().map(|t| ColumnBuilder::new(*t)).collect()
    }

    fn rows_seed(&mut self) -> RowsSeed<'_> {
        RowsSeed {
            builders: &mut self.builders,
            names: &self.names,
        }
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
fn finish(
    schema: SchemaRef,
    builders: &mut [ColumnBuilder],
    rows: usize,
) -> Result<RecordBatch, DecodeError> {
    let arrays: Vec<ArrayRef> = builders.iter_mut().map(ColumnBuilder::finish).collect();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, arrays, &options)
        .map_err(|e| DecodeError(e.to_string()))
}

/// Reads the answer object in one pass when `columns` and `metadata` come before `rows`
/// (as Domo sends them); otherwise the rows are kept raw and decoded at the end.
struct AnswerVisitor;

struct Answer<'a> {
    columns: Option<Columns>,
    rows: usize,
    raw_rows: Option<&'a RawValue>,
    names: Option<Vec<String>>,
    metadata: Option<Vec<ColumnMeta>>,
}

impl<'de> Visitor<'de> for AnswerVisitor {
    type Value = Answer<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a query answer object")
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> Result<Answer<'de>, A::Error> {
        let mut answer = Answer {
            columns: None,
            rows: 0,
            raw_rows: None,
            names: None,
            metadata: None,
        };
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Columns => answer.names = Some(map.next_value()?),
                Key::Metadata => {
                    answer.metadata = Some(map.next_value::<Option<_>>()?.unwrap_or_default())
                }
                Key::Rows => match (answer.names.take(), answer.metadata.as_deref()) {
                    (Some(names), Some(metadata)) => {
                        let mut columns =
                            Columns::new(names, metadata).map_err(de::Error::custom)?;
                        answer.rows = map.next_value_seed(columns.rows_seed())?;
                        answer.columns = Some(columns);
                    }
                    (names, _) => {
                        answer.names = names;
                        answer.raw_rows = Some(map.next_value()?);
                    }
                },
                Key::Other => {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
        }
        Ok(answer)
    }
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
    let mut builders = columns.new_builders();
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
    let open = parallel::find_rows(body)?;
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

/// Decodes through serde alone; the reference for every other path, and what reports
/// errors with their place in the whole answer.
fn decode_whole(body: &[u8]) -> Result<DecodedRows, DecodeError> {
    let (mut columns, rows) = read_answer(body)?;
    let schema = columns.schema();
    let batch = finish(schema.clone(), &mut columns.builders, rows)?;
    Ok(DecodedRows {
        schema,
        batches: vec![batch],
        unknown_types: columns.unknown_types,
    })
}

fn json_error(e: serde_json::Error) -> DecodeError {
    DecodeError(describe_json_error(&e))
}

// serde_json checks each string's UTF-8 as it reads bytes; checking the whole text once
// first is several times cheaper (it was an eighth of decoding). Bytes that are not
// UTF-8 are still read as bytes, so the error says where.

/// Reads the answer's columns and types, and its rows into their builders.
pub(crate) fn read_answer(body: &[u8]) -> Result<(Columns, usize), DecodeError> {
    match simdutf8::basic::from_utf8(body) {
        Ok(text) => read_answer_from(serde_json::Deserializer::from_str(text)),
        Err(_) => read_answer_from(serde_json::Deserializer::from_slice(body)),
    }
}

fn read_answer_from<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
) -> Result<(Columns, usize), DecodeError> {
    let answer = de.deserialize_map(AnswerVisitor).map_err(json_error)?;
    de.end().map_err(json_error)?;
    match answer.columns {
        Some(columns) => Ok((columns, answer.rows)),
        None => {
            let names = answer
                .names
                .ok_or_else(|| DecodeError("the answer has no \"columns\"".into()))?;
            let mut columns = Columns::new(names, answer.metadata.as_deref().unwrap_or_default())
                .map_err(DecodeError)?;
            let mut rows = 0;
            if let Some(raw) = answer.raw_rows {
                let mut de = serde_json::Deserializer::from_str(raw.get());
                rows = columns
                    .rows_seed()
                    .deserialize(&mut de)
                    .map_err(json_error)?;
            }
            Ok((columns, rows))
        }
    }
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
    let mut builders = columns.new_builders();
    let seed = RowsSeed {
        builders: &mut builders,
        names: &columns.names,
    };
    let rows = match simdutf8::basic::from_utf8(rows_json) {
        Ok(text) => read_rows(seed, serde_json::Deserializer::from_str(text)),
        Err(_) => read_rows(seed, serde_json::Deserializer::from_slice(rows_json)),
    }?;
    finish(schema, &mut builders, rows)
}

fn read_rows<'de, R: serde_json::de::Read<'de>>(
    seed: RowsSeed<'_>,
    mut de: serde_json::Deserializer<R>,
) -> Result<usize, DecodeError> {
    let rows = seed.deserialize(&mut de).map_err(json_error)?;
    de.end().map_err(json_error)?;
    Ok(rows)
}

fn describe_json_error(e: &serde_json::Error) -> String {
    if e.is_eof() {
        format!("the answer is cut short ({e})")
    } else {
        format!("the answer is not valid query JSON ({e})")
    }
}

struct RowsSeed<'b> {
    builders: &'b mut [ColumnBuilder],
    names: &'b [String],
}

impl<'de> DeserializeSeed<'de> for RowsSeed<'_> {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<usize, D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowsSeed<'_> {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_unit<E: de::Error>(self) -> Result<usize, E> {
        Ok(0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<usize, A::Error> {
        let mut rows = 0usize;
        while seq
            .next_element_seed(RowSeed {
                builders: self.builders,
                names: self.names,
                row: rows,
            })?
            .is_some()
        {
            rows += 1;
        }
        Ok(rows)
    }
}

struct RowSeed<'b> {
    builders: &'b mut [ColumnBuilder],
    names: &'b [String],
    row: usize,
}

impl<'de> DeserializeSeed<'de> for RowSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RowSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "row {} as an array of {} values",
            self.row,
            self.builders.len()
        )
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let expected = self.builders.len();
        for (col, builder) in self.builders.iter_mut().enumerate() {
            let cell = CellSeed {
                builder,
                name: &self.names[col],
                row: self.row,
            };
            if seq.next_element_seed(cell)?.is_none() {
                return Err(de::Error::custom(format!(
                    "row {} has {col} values, expected {expected}",
                    self.row
                )));
            }
        }
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!(
                "row {} has more than {expected} values",
                self.row
            )));
        }
        Ok(())
    }
}

struct CellSeed<'b> {
    builder: &'b mut ColumnBuilder,
    name: &'b str,
    row: usize,
}

impl CellSeed<'_> {
    fn fail<E: de::Error>(&self, why: String) -> E {
        E::custom(format!(
            "row {}, column {:?} ({}): {why}",
            self.row,
            self.name,
            self.builder.type_name()
        ))
    }
}

impl<'de> DeserializeSeed<'de> for CellSeed<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for CellSeed<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "a {} value", self.builder.type_name())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.builder.push_null();
        Ok(())
    }

    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.visit_unit()
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        let result = self.builder.push_bool(v);
        result.map_err(|why| self.fail(why))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        let result = self.builder.push_i64(v);
        result.map_err(|why| self.fail(why))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.visit_f64(v as f64),
        }
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let result = self.builder.push_f64(v);
        result.map_err(|why| self.fail(why))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let result = self.builder.push_str(v);
        result.map_err(|why| self.fail(why))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(self.fail("a nested array is not a cell value".into()))
    }

    fn visit_map<A: de::MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(self.fail("an object is not a cell value".into()))
    }
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

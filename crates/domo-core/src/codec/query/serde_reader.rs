//! The serde reader of query answers: the reference every faster path is checked
//! against, what reads an answer laid out in an unusual order, and what says where an
//! answer is wrong. Cells still go straight into the typed builders, no
//! `serde_json::Value` on the way.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use super::answer::{ColumnMeta, Columns, DecodeError, DecodedRows, finish};
use crate::codec::builders::ColumnBuilder;

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
                        answer.rows = map.next_value_seed(rows_seed(&mut columns))?;
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

/// Decodes through serde alone; the reference for every other path, and what reports
/// errors with their place in the whole answer.
pub(super) fn decode_whole(body: &[u8]) -> Result<DecodedRows, DecodeError> {
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
                rows = rows_seed(&mut columns)
                    .deserialize(&mut de)
                    .map_err(json_error)?;
            }
            Ok((columns, rows))
        }
    }
}

/// Reads `rows_json`, a JSON array of rows, into one batch of `columns`' schema.
pub(super) fn read_rows_json(
    rows_json: &[u8],
    columns: &Columns,
    schema: SchemaRef,
) -> Result<RecordBatch, DecodeError> {
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

/// The seed that reads an answer's rows into `columns`' builders.
fn rows_seed(columns: &mut Columns) -> RowsSeed<'_> {
    RowsSeed {
        builders: &mut columns.builders,
        names: &columns.names,
    }
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

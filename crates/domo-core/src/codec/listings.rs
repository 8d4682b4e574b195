//! Lists of JSON records (data versions, partitions, executions, history, access lists,
//! cards) as Arrow tables: each column is read from the first of a few JSON keys, because
//! Domo names the same field differently across endpoints.

use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::Value;

use crate::error::Result;

/// The Arrow type a listing column gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Int,
    Text,
    Bool,
    /// Epoch milliseconds (dataset and data-version times).
    TimestampMs,
    /// Epoch seconds, maybe fractional (stream and execution times).
    TimestampSecs,
}

/// One column of a listing table: its name and the JSON keys it is read from (first found).
#[derive(Debug, Clone, Copy)]
pub struct RecordColumn {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub kind: FieldKind,
}

pub const fn col(
    name: &'static str,
    keys: &'static [&'static str],
    kind: FieldKind,
) -> RecordColumn {
    RecordColumn { name, keys, kind }
}

fn field<'a>(record: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter()
        .filter_map(|k| record.get(*k))
        .find(|v| !v.is_null())
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn as_millis(v: &Value, kind: FieldKind) -> Option<i64> {
    match v {
        Value::Number(n) => {
            let f = n.as_f64()?;
            Some(if kind == FieldKind::TimestampSecs {
                (f * 1000.0).round() as i64
            } else {
                f as i64
            })
        }
        Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.timestamp_millis())
            .or_else(|| s.trim().parse::<i64>().ok()),
        _ => None,
    }
}

/// A table of `records`, one column per `columns` entry; missing or unreadable values
/// are null. Times become UTC millisecond timestamps.
pub fn records_to_batch(records: &[Value], columns: &[RecordColumn]) -> Result<RecordBatch> {
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for c in columns {
        let values = records.iter().map(|r| field(r, c.keys));
        let (data_type, array): (DataType, ArrayRef) = match c.kind {
            FieldKind::Int => {
                let mut b = Int64Builder::with_capacity(records.len());
                values.for_each(|v| b.append_option(v.and_then(as_i64)));
                (DataType::Int64, Arc::new(b.finish()))
            }
            FieldKind::Text => {
                let mut b = StringBuilder::new();
                for v in values {
                    match v {
                        Some(Value::String(s)) => b.append_value(s),
                        Some(other) => b.append_value(other.to_string()),
                        None => b.append_null(),
                    }
                }
                (DataType::Utf8, Arc::new(b.finish()))
            }
            FieldKind::Bool => {
                let mut b = BooleanBuilder::with_capacity(records.len());
                values.for_each(|v| b.append_option(v.and_then(Value::as_bool)));
                (DataType::Boolean, Arc::new(b.finish()))
            }
            FieldKind::TimestampMs | FieldKind::TimestampSecs => {
                let mut b =
                    TimestampMillisecondBuilder::with_capacity(records.len()).with_timezone("UTC");
                values.for_each(|v| b.append_option(v.and_then(|v| as_millis(v, c.kind))));
                (
                    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                    Arc::new(b.finish()),
                )
            }
        };
        fields.push(Field::new(c.name, data_type, true));
        arrays.push(array);
    }
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)?)
}

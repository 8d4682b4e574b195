//! Arrow batches to the CSV Domo's upload parts take: no header, RFC 4180 quoting, LF line
//! ends, a null as an empty field and an empty string as `""`, dates as `YYYY-MM-DD` and
//! datetimes as `YYYY-MM-DD HH:MM:SS` in UTC.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Schema, TimeUnit};

use super::temporal::{write_date, write_datetime};
use crate::error::{Error, Result};

/// Refuses, before anything is sent, columns whose type has no CSV form Domo reads.
pub fn check_encodable(schema: &Schema) -> Result<()> {
    for field in schema.fields() {
        if !encodable(field.data_type()) {
            return Err(Error::invalid(format!(
                "column {:?} has Arrow type {}, which cannot be uploaded to Domo; cast it to a \
                 string, number, date or timestamp first",
                field.name(),
                field.data_type()
            )));
        }
    }
    Ok(())
}

fn encodable(t: &DataType) -> bool {
    match t {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(..)
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => true,
        DataType::Dictionary(_, value) => encodable(value),
        _ => false,
    }
}

/// One column, seen through the accessor that writes its cells.
enum Cells<'a> {
    Null,
    Bool(&'a arrow_array::BooleanArray),
    I64(Box<dyn Fn(usize) -> i64 + 'a>),
    U64(&'a arrow_array::UInt64Array),
    F64(Box<dyn Fn(usize) -> f64 + 'a>),
    Str(Box<dyn Fn(usize) -> &'a str + 'a>),
    Date(Box<dyn Fn(usize) -> i64 + 'a>),
    /// Microseconds since the epoch.
    Datetime(Box<dyn Fn(usize) -> i64 + 'a>),
    Formatted(ArrayFormatter<'a>),
}

fn cells<'a>(array: &'a dyn Array, options: &'a FormatOptions<'a>) -> Result<Cells<'a>> {
    macro_rules! int {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            Cells::I64(Box::new(move |i| i64::from(a.value(i))))
        }};
    }
    Ok(match array.data_type() {
        DataType::Null => Cells::Null,
        DataType::Boolean => Cells::Bool(array.as_boolean()),
        DataType::Int8 => int!(Int8Type),
        DataType::Int16 => int!(Int16Type),
        DataType::Int32 => int!(Int32Type),
        DataType::Int64 => int!(Int64Type),
        DataType::UInt8 => int!(UInt8Type),
        DataType::UInt16 => int!(UInt16Type),
        DataType::UInt32 => int!(UInt32Type),
        DataType::UInt64 => Cells::U64(array.as_primitive::<UInt64Type>()),
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            Cells::F64(Box::new(move |i| f64::from(a.value(i))))
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Cells::F64(Box::new(move |i| f64::from(a.value(i))))
        }
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            Cells::F64(Box::new(move |i| a.value(i)))
        }
        DataType::Utf8 => {
            let a = array.as_string::<i32>();
            Cells::Str(Box::new(move |i| a.value(i)))
        }
        DataType::LargeUtf8 => {
            let a = array.as_string::<i64>();
            Cells::Str(Box::new(move |i| a.value(i)))
        }
        DataType::Utf8View => {
            let a = array.as_string_view();
            Cells::Str(Box::new(move |i| a.value(i)))
        }
        DataType::Date32 => {
            let a = array.as_primitive::<Date32Type>();
            Cells::Date(Box::new(move |i| i64::from(a.value(i))))
        }
        DataType::Date64 => {
            let a = array.as_primitive::<Date64Type>();
            Cells::Date(Box::new(move |i| a.value(i).div_euclid(86_400_000)))
        }
        DataType::Timestamp(unit, _) => {
            // Arrow timestamps count from the UTC epoch whatever their zone, so the UTC
            // wall time is the value itself; naive ones are written as they stand.
            let (a, to_micros): (&dyn Array, fn(i64) -> i64) = match unit {
                TimeUnit::Second => (array, |v| v.saturating_mul(1_000_000)),
                TimeUnit::Millisecond => (array, |v| v.saturating_mul(1_000)),
                TimeUnit::Microsecond => (array, |v| v),
                TimeUnit::Nanosecond => (array, |v| v.div_euclid(1_000)),
            };
            let values = match unit {
                TimeUnit::Second => a.as_primitive::<TimestampSecondType>().values().clone(),
                TimeUnit::Millisecond => a
                    .as_primitive::<TimestampMillisecondType>()
                    .values()
                    .clone(),
                TimeUnit::Microsecond => a
                    .as_primitive::<TimestampMicrosecondType>()
                    .values()
                    .clone(),
                TimeUnit::Nanosecond => {
                    a.as_primitive::<TimestampNanosecondType>().values().clone()
                }
            };
            Cells::Datetime(Box::new(move |i| to_micros(values[i])))
        }
        DataType::Decimal32(..)
        | DataType::Decimal64(..)
        | DataType::Decimal128(..)
        | DataType::Decimal256(..) => Cells::Formatted(ArrayFormatter::try_new(array, options)?),
        other => {
            return Err(Error::invalid(format!("cannot upload Arrow type {other}")));
        }
    })
}

/// Appends the rows of `batch` to `out`.
pub fn write_batch(batch: &RecordBatch, out: &mut Vec<u8>) -> Result<()> {
    let options = FormatOptions::default();
    // Dictionaries are written through their values.
    let columns: Vec<ArrayRef> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Dictionary(_, value) => arrow_cast::cast(c, value).map_err(Error::from),
            _ => Ok(Arc::clone(c)),
        })
        .collect::<Result<_>>()?;
    let accessors: Vec<Cells<'_>> = columns
        .iter()
        .map(|c| cells(c.as_ref(), &options))
        .collect::<Result<_>>()?;
    let mut int_buf = itoa::Buffer::new();
    let mut float_buf = ryu::Buffer::new();
    let mut text = String::new();
    for row in 0..batch.num_rows() {
        for (col, (array, cells)) in columns.iter().zip(&accessors).enumerate() {
            if col > 0 {
                out.push(b',');
            }
            if array.is_null(row) {
                continue;
            }
            match cells {
                Cells::Null => {}
                Cells::Bool(a) => {
                    out.extend_from_slice(if a.value(row) { b"true" } else { b"false" })
                }
                Cells::I64(get) => out.extend_from_slice(int_buf.format(get(row)).as_bytes()),
                Cells::U64(a) => out.extend_from_slice(int_buf.format(a.value(row)).as_bytes()),
                Cells::F64(get) => {
                    let v = get(row);
                    // Domo has no NaN or infinity: they are stored as null.
                    if v.is_finite() {
                        out.extend_from_slice(float_buf.format_finite(v).as_bytes());
                    }
                }
                Cells::Str(get) => write_text(out, get(row)),
                Cells::Date(get) => write_date(out, get(row)),
                Cells::Datetime(get) => {
                    // Domo's DATETIME holds whole seconds.
                    write_datetime(out, get(row).div_euclid(1_000_000) * 1_000_000)
                }
                Cells::Formatted(f) => {
                    text.clear();
                    use std::fmt::Write;
                    let _ = write!(text, "{}", f.value(row));
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        out.push(b'\n');
    }
    Ok(())
}

/// A text field, quoted when it holds a delimiter, a quote or a line break, when it is
/// empty (an empty field would read back as null), or when it is the null marker `\N`.
fn write_text(out: &mut Vec<u8>, s: &str) {
    let needs_quotes =
        s.is_empty() || s == "\\N" || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs_quotes {
        out.extend_from_slice(s.as_bytes());
        return;
    }
    out.push(b'"');
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            out.extend_from_slice(b"\"\"");
        }
        out.extend_from_slice(part.1.as_bytes());
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{Decimal128Builder, StringBuilder};
    use arrow_array::{
        BooleanArray, Date32Array, DictionaryArray, Float64Array, Int32Array, Int64Array,
        TimestampNanosecondArray,
    };
    use arrow_schema::Field;

    fn csv(columns: Vec<ArrayRef>) -> String {
        let fields: Vec<Field> = columns
            .iter()
            .enumerate()
            .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
            .collect();
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap();
        let mut out = Vec::new();
        write_batch(&batch, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quotes_and_nulls() {
        let mut s = StringBuilder::new();
        for v in [
            Some("plain"),
            Some(""),
            None,
            Some("a,b"),
            Some("say \"hi\""),
            Some("two\nlines"),
            Some("\\N"),
            Some("é"),
        ] {
            s.append_option(v);
        }
        let out = csv(vec![Arc::new(s.finish())]);
        assert_eq!(
            out,
            "plain\n\"\"\n\na,b\n".replace("a,b", "\"a,b\"")
                + "\"say \"\"hi\"\"\"\n\"two\nlines\"\n\"\\N\"\né\n"
        );
    }

    #[test]
    fn numbers_dates_and_times() {
        let out = csv(vec![
            Arc::new(Int64Array::from(vec![Some(-5), None])),
            Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN)])),
            Arc::new(Date32Array::from(vec![Some(19_724), Some(-1)])),
            Arc::new(
                TimestampNanosecondArray::from(vec![Some(1_553_021_342_999_999_999), None])
                    .with_timezone("America/New_York"),
            ),
            Arc::new(BooleanArray::from(vec![Some(true), Some(false)])),
        ]);
        assert_eq!(
            out,
            "-5,1.5,2024-01-02,2019-03-19 18:49:02,true\n,,1969-12-31,,false\n"
        );
    }

    #[test]
    fn decimals_and_dictionaries() {
        let mut d = Decimal128Builder::new()
            .with_precision_and_scale(10, 2)
            .unwrap();
        d.append_value(12345);
        d.append_null();
        let dict: DictionaryArray<Int32Type> = vec!["x", "y"].into_iter().collect();
        let out = csv(vec![
            Arc::new(d.finish()),
            Arc::new(dict),
            Arc::new(Int32Array::from(vec![1, 2])),
        ]);
        assert_eq!(out, "123.45,x,1\n,y,2\n");
    }

    #[test]
    fn refuses_types_without_a_csv_form() {
        let schema = Schema::new(vec![Field::new("blob", DataType::Binary, true)]);
        let err = check_encodable(&schema).unwrap_err().to_string();
        assert!(err.contains("\"blob\""), "{err}");
    }
}

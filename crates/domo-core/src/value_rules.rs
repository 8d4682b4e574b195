//! The values a Domo column takes from an upload, checked as the data is read, so that
//! nothing is lost without the user hearing of it.
//!
//! - Infinity: Domo stores no infinite number, so a float column holding one is refused
//!   (NaN, pandas' and numpy's missing value, is a null).
//! - DATETIME keeps whole seconds, so a timestamp with a fraction of a second is refused
//!   (floor it first); the same holds for a timestamp written into a STRING column.
//! - DATE from a timestamp (how a pandas or polars frame holds dates): each value must be
//!   at midnight (naive, or UTC); it is then written as its date.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, TimestampMicrosecondType, TimestampMillisecondType,
    TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, ArrayRef};
use arrow_schema::{ArrowError, DataType, Field, TimeUnit};

use crate::types::DomoType;

/// The Arrow type a source column of type `source` is written as into a column of `target`.
pub fn written_type(source: &DataType, target: DomoType) -> DataType {
    match (source, target) {
        (DataType::Timestamp(..), DomoType::Date) => DataType::Date32,
        _ => source.clone(),
    }
}

/// `field` as it is written into a column of `target`.
pub fn written_field(field: &Field, target: DomoType) -> Field {
    field
        .clone()
        .with_data_type(written_type(field.data_type(), target))
}

/// `array` (data column `name`, whose first row is row `first_row` of the upload) checked
/// against the rules above for a dataset column of type `target`, and converted to what
/// is written.
pub fn conform(
    array: &ArrayRef,
    name: &str,
    target: DomoType,
    first_row: u64,
) -> Result<ArrayRef, ArrowError> {
    let refuse = |row: usize, what: String| {
        ArrowError::InvalidArgumentError(format!(
            "column {name:?}, row {}: {what}",
            first_row + row as u64
        ))
    };
    match array.data_type() {
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            if let Some(row) = first_infinite(array.as_ref()) {
                return Err(refuse(
                    row,
                    "infinity, which Domo cannot store; replace it (with null or a bound) first"
                        .to_string(),
                ));
            }
            Ok(Arc::clone(array))
        }
        DataType::Timestamp(unit, _) => {
            let per_second = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            let values = timestamp_values(array.as_ref());
            let fraction = (0..array.len())
                .find(|&i| array.is_valid(i) && values[i].rem_euclid(per_second) != 0);
            if let (Some(row), DomoType::Datetime | DomoType::String) = (fraction, target) {
                return Err(refuse(
                    row,
                    "a fraction of a second, which Domo's DATETIME does not keep; floor the \
                     column to whole seconds first (pandas: s.dt.floor(\"s\"), polars: \
                     s.dt.truncate(\"1s\"))"
                        .to_string(),
                ));
            }
            if target == DomoType::Date {
                let per_day = per_second * 86_400;
                let row = (0..array.len())
                    .find(|&i| array.is_valid(i) && values[i].rem_euclid(per_day) != 0);
                if let Some(row) = row {
                    return Err(refuse(
                        row,
                        "a time of day, which a DATE column cannot hold; keep the date \
                         only first (pandas: s.dt.normalize(), polars: s.dt.date())"
                            .to_string(),
                    ));
                }
            }
            timestamps_to(array, target)
        }
        _ => Ok(Arc::clone(array)),
    }
}

/// A row value for a DATE column given as a datetime at midnight (`2024-01-02T00:00:00`,
/// as a frame's dates arrive in `append_rows`), as its date; any other value as it is.
pub fn date_from_midnight(value: &mut serde_json::Value, column: &str) -> crate::Result<()> {
    let serde_json::Value::String(text) = value else {
        return Ok(());
    };
    let Some((date, time)) = text.split_once(['T', ' ']) else {
        return Ok(());
    };
    if date.len() != 10 {
        return Ok(());
    }
    if time != "00:00:00" {
        return Err(crate::Error::invalid(format!(
            "column {column:?}: {text} has a time of day, which a DATE column cannot hold; \
             give the date only"
        )));
    }
    *value = serde_json::Value::String(date.to_string());
    Ok(())
}

/// Timestamps already checked, as the type written into `target`.
fn timestamps_to(array: &ArrayRef, target: DomoType) -> Result<ArrayRef, ArrowError> {
    match target {
        DomoType::Date => {
            // A time zone would move the date; the values are UTC instants, midnight
            // checked in UTC, so the date is taken without one.
            let naive = match array.data_type() {
                DataType::Timestamp(unit, Some(_)) => {
                    arrow_cast::cast(array, &DataType::Timestamp(*unit, None))?
                }
                _ => Arc::clone(array),
            };
            arrow_cast::cast(&naive, &DataType::Date32)
        }
        _ => Ok(Arc::clone(array)),
    }
}

/// The raw values of a timestamp array of any unit.
fn timestamp_values(array: &dyn Array) -> &[i64] {
    match array.data_type() {
        DataType::Timestamp(TimeUnit::Second, _) => {
            &array.as_primitive::<TimestampSecondType>().values()[..]
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            &array.as_primitive::<TimestampMillisecondType>().values()[..]
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            &array.as_primitive::<TimestampMicrosecondType>().values()[..]
        }
        _ => &array.as_primitive::<TimestampNanosecondType>().values()[..],
    }
}

/// The first row holding an infinite value, in a float array.
fn first_infinite(array: &dyn Array) -> Option<usize> {
    let infinite: Box<dyn Fn(usize) -> bool + '_> = match array.data_type() {
        DataType::Float16 => {
            let a = array.as_primitive::<Float16Type>();
            Box::new(move |i| a.value(i).is_infinite())
        }
        DataType::Float32 => {
            let a = array.as_primitive::<Float32Type>();
            Box::new(move |i| a.value(i).is_infinite())
        }
        _ => {
            let a = array.as_primitive::<Float64Type>();
            Box::new(move |i| a.value(i).is_infinite())
        }
    };
    (0..array.len()).find(|&i| array.is_valid(i) && infinite(i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Date32Array, Float64Array, TimestampNanosecondArray};

    fn run(array: ArrayRef, target: DomoType) -> Result<ArrayRef, String> {
        conform(&array, "c", target, 10).map_err(|e| e.to_string())
    }

    #[test]
    fn infinity_is_refused_with_column_and_row() {
        let floats = Arc::new(Float64Array::from(vec![
            Some(1.5),
            Some(f64::NAN),
            None,
            Some(f64::NEG_INFINITY),
        ]));
        let err = run(floats, DomoType::Double).unwrap_err();
        assert!(err.contains("column \"c\", row 13: infinity"), "{err}");
        let finite = Arc::new(Float64Array::from(vec![Some(1.5), Some(f64::NAN), None]));
        run(finite, DomoType::String).unwrap();
    }

    #[test]
    fn sub_second_datetimes_are_refused() {
        let second = 1_000_000_000_i64;
        let whole = Arc::new(TimestampNanosecondArray::from(vec![Some(5 * second), None]));
        run(whole, DomoType::Datetime).unwrap();
        let fraction = Arc::new(TimestampNanosecondArray::from(vec![
            Some(5 * second),
            Some(5 * second + 1),
        ]));
        let err = run(fraction, DomoType::Datetime).unwrap_err();
        assert!(err.contains("row 11: a fraction of a second"), "{err}");
    }

    #[test]
    fn midnight_datetimes_in_rows_become_dates() {
        let mut value = serde_json::json!("2024-01-02T00:00:00");
        date_from_midnight(&mut value, "d").unwrap();
        assert_eq!(value, serde_json::json!("2024-01-02"));
        let mut plain = serde_json::json!("2024-01-02");
        date_from_midnight(&mut plain, "d").unwrap();
        assert_eq!(plain, serde_json::json!("2024-01-02"));
        let mut noon = serde_json::json!("2024-01-02T12:00:00");
        let err = date_from_midnight(&mut noon, "d").unwrap_err().to_string();
        assert!(
            err.contains("\"d\"") && err.contains("time of day"),
            "{err}"
        );
    }

    #[test]
    fn midnight_timestamps_become_dates() {
        let day = 86_400 * 1_000_000_000_i64;
        // 1970-01-03 and 1969-12-31, by hand.
        let stamps = TimestampNanosecondArray::from(vec![Some(2 * day), None, Some(-day)])
            .with_timezone("UTC");
        let dates = run(Arc::new(stamps), DomoType::Date).unwrap();
        let want: ArrayRef = Arc::new(Date32Array::from(vec![Some(2), None, Some(-1)]));
        assert_eq!(&dates, &want);
        let noon = Arc::new(TimestampNanosecondArray::from(vec![Some(day / 2)]));
        let err = run(noon, DomoType::Date).unwrap_err();
        assert!(err.contains("row 10: a time of day"), "{err}");
        assert_eq!(
            written_type(&DataType::Timestamp(TimeUnit::Second, None), DomoType::Date),
            DataType::Date32
        );
    }
}

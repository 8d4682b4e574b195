//! Domo column types and how they map to Arrow.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Precision and scale of the Arrow decimal a Domo DECIMAL becomes: Domo does not say.
pub const DECIMAL_PRECISION: u8 = 38;
pub const DECIMAL_SCALE: i8 = 10;

/// A Domo column type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum DomoType {
    String,
    Long,
    Double,
    Decimal,
    Date,
    Datetime,
    Boolean,
}

impl DomoType {
    pub const ALL: [DomoType; 7] = [
        DomoType::String,
        DomoType::Long,
        DomoType::Double,
        DomoType::Decimal,
        DomoType::Date,
        DomoType::Datetime,
        DomoType::Boolean,
    ];

    /// The types a dataset can be created with.
    pub const CREATABLE: [DomoType; 6] = [
        DomoType::String,
        DomoType::Long,
        DomoType::Double,
        DomoType::Decimal,
        DomoType::Date,
        DomoType::Datetime,
    ];

    pub fn name(self) -> &'static str {
        match self {
            DomoType::String => "STRING",
            DomoType::Long => "LONG",
            DomoType::Double => "DOUBLE",
            DomoType::Decimal => "DECIMAL",
            DomoType::Date => "DATE",
            DomoType::Datetime => "DATETIME",
            DomoType::Boolean => "BOOLEAN",
        }
    }

    /// The Arrow type values of this Domo type are decoded into.
    ///
    /// Strings are views, as polars holds them, so polars imports them without building
    /// any; a consumer that takes no views gets them cast to `Utf8`.
    pub fn arrow_type(self) -> DataType {
        match self {
            DomoType::String => DataType::Utf8View,
            DomoType::Long => DataType::Int64,
            DomoType::Double => DataType::Float64,
            DomoType::Decimal => DataType::Decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
            DomoType::Date => DataType::Date32,
            DomoType::Datetime => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            DomoType::Boolean => DataType::Boolean,
        }
    }

    /// The Domo type that stores an Arrow type without loss, if there is one.
    pub fn from_arrow(data_type: &DataType) -> Option<DomoType> {
        Some(match data_type {
            DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DomoType::String,
            DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::UInt8
            | DataType::UInt16
            | DataType::UInt32
            | DataType::UInt64 => DomoType::Long,
            DataType::Float16 | DataType::Float32 | DataType::Float64 => DomoType::Double,
            DataType::Decimal32(..)
            | DataType::Decimal64(..)
            | DataType::Decimal128(..)
            | DataType::Decimal256(..) => DomoType::Decimal,
            DataType::Date32 | DataType::Date64 => DomoType::Date,
            DataType::Timestamp(..) => DomoType::Datetime,
            DataType::Boolean => DomoType::Boolean,
            DataType::Dictionary(_, value) => return DomoType::from_arrow(value),
            _ => return None,
        })
    }
}

impl fmt::Display for DomoType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DomoType {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        DomoType::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown Domo type {s:?}; expected one of {}",
                    names(&DomoType::CREATABLE)
                ))
            })
    }
}

fn names(types: &[DomoType]) -> String {
    types
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One column of a dataset's schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub domo_type: DomoType,
}

impl Column {
    pub fn new(name: impl Into<String>, domo_type: DomoType) -> Self {
        Column {
            name: name.into(),
            domo_type,
        }
    }
}

/// Checks a schema a dataset is to be created with.
pub fn validate_columns(columns: &[Column]) -> Result<()> {
    if columns.is_empty() {
        return Err(Error::invalid("a dataset needs at least one column"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, column) in columns.iter().enumerate() {
        if column.name.trim().is_empty() {
            return Err(Error::invalid(format!("column {i} has an empty name")));
        }
        if !seen.insert(column.name.as_str()) {
            return Err(Error::invalid(format!(
                "column name {:?} appears twice",
                column.name
            )));
        }
        if !DomoType::CREATABLE.contains(&column.domo_type) {
            return Err(Error::invalid(format!(
                "column {:?}: a dataset cannot be created with type {}; use one of {}",
                column.name,
                column.domo_type,
                names(&DomoType::CREATABLE)
            )));
        }
    }
    Ok(())
}

/// Domo columns for an Arrow schema, refusing types Domo cannot hold.
pub fn columns_from_arrow(schema: &Schema) -> Result<Vec<Column>> {
    schema
        .fields()
        .iter()
        .map(|field| {
            let domo_type = match DomoType::from_arrow(field.data_type()) {
                // Domo creates no BOOLEAN column; a bool is written as the text
                // "true"/"false" wherever it goes, so its column is a STRING.
                Some(DomoType::Boolean) => DomoType::String,
                None => {
                    return Err(Error::invalid(format!(
                        "column {:?} has Arrow type {} which Domo cannot store; cast it to one of \
                         string, int64, float64, decimal, date32 or timestamp",
                        field.name(),
                        field.data_type()
                    )));
                }
                Some(t) => t,
            };
            Ok(Column::new(field.name(), domo_type))
        })
        .collect()
}

/// The Arrow schema that values of these Domo columns decode into.
pub fn arrow_schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, c.domo_type.arrow_type(), true))
            .collect::<Vec<_>>(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_case_insensitively() {
        for t in DomoType::ALL {
            assert_eq!(t.name().to_lowercase().parse::<DomoType>().unwrap(), t);
        }
        let err = "TEXT".parse::<DomoType>().unwrap_err().to_string();
        assert!(err.contains("STRING") && err.contains("DATETIME"), "{err}");
    }

    #[test]
    fn arrow_types_map_to_domo_types() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int32, true),
            Field::new("b", DataType::LargeUtf8, true),
            Field::new("c", DataType::Timestamp(TimeUnit::Nanosecond, None), true),
            Field::new("d", DataType::Date32, true),
            Field::new("e", DataType::Float32, true),
            Field::new("f", DataType::Decimal128(10, 2), true),
        ]);
        let cols = columns_from_arrow(&schema).unwrap();
        let types: Vec<_> = cols.iter().map(|c| c.domo_type).collect();
        use DomoType::*;
        assert_eq!(types, vec![Long, String, Datetime, Date, Double, Decimal]);
        // Bools are written as "true"/"false" text.
        let flags = Schema::new(vec![Field::new("b", DataType::Boolean, true)]);
        assert_eq!(columns_from_arrow(&flags).unwrap()[0].domo_type, String);
        let bad = Schema::new(vec![Field::new("l", DataType::Binary, true)]);
        assert!(
            columns_from_arrow(&bad)
                .unwrap_err()
                .to_string()
                .contains("\"l\"")
        );
    }

    #[test]
    fn schema_validation_names_the_problem() {
        assert!(validate_columns(&[]).is_err());
        let dup = [
            Column::new("a", DomoType::Long),
            Column::new("a", DomoType::String),
        ];
        assert!(
            validate_columns(&dup)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        let empty = [Column::new(" ", DomoType::Long)];
        assert!(validate_columns(&empty).is_err());
        let ok = [
            Column::new("a", DomoType::Long),
            Column::new("b", DomoType::Datetime),
        ];
        validate_columns(&ok).unwrap();
    }
}

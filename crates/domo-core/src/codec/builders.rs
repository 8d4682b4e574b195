//! The typed Arrow builders every reader appends cells to (the query answer's hand and
//! serde readers, the export's hand reader), and the one set of rules by which a cell's
//! text or number becomes a value of its column's Domo type.

use std::sync::Arc;

use arrow_array::ArrayRef;
use arrow_array::builder::{
    BooleanBuilder, Date32Builder, Decimal128Builder, Float64Builder, Int64Builder,
    StringViewBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::types::Decimal128Type;

use super::numbers::Number;
use super::temporal::{parse_date, parse_datetime};
use crate::types::{DECIMAL_PRECISION, DECIMAL_SCALE, DomoType};

pub(super) enum ColumnBuilder {
    Utf8(StringViewBuilder),
    Int64(Int64Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder),
    Date(Date32Builder),
    Datetime(TimestampMicrosecondBuilder),
    Boolean(BooleanBuilder),
}

impl ColumnBuilder {
    pub(super) fn new(t: DomoType) -> Self {
        match t {
            DomoType::String => ColumnBuilder::Utf8(StringViewBuilder::new()),
            DomoType::Long => ColumnBuilder::Int64(Int64Builder::new()),
            DomoType::Double => ColumnBuilder::Float64(Float64Builder::new()),
            DomoType::Decimal => ColumnBuilder::Decimal(
                Decimal128Builder::new()
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .unwrap_or_default(),
            ),
            DomoType::Date => ColumnBuilder::Date(Date32Builder::new()),
            DomoType::Datetime => {
                ColumnBuilder::Datetime(TimestampMicrosecondBuilder::new().with_timezone("UTC"))
            }
            DomoType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::new()),
        }
    }

    /// A builder with room for `rows` values set aside at once (the text of strings grows
    /// as it comes, in blocks that are never copied).
    pub(super) fn with_capacity(t: DomoType, rows: usize) -> Self {
        match t {
            DomoType::Long => ColumnBuilder::Int64(Int64Builder::with_capacity(rows)),
            DomoType::Double => ColumnBuilder::Float64(Float64Builder::with_capacity(rows)),
            DomoType::Decimal => ColumnBuilder::Decimal(
                Decimal128Builder::with_capacity(rows)
                    .with_precision_and_scale(DECIMAL_PRECISION, DECIMAL_SCALE)
                    .unwrap_or_default(),
            ),
            DomoType::Date => ColumnBuilder::Date(Date32Builder::with_capacity(rows)),
            DomoType::Datetime => ColumnBuilder::Datetime(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            DomoType::Boolean => ColumnBuilder::Boolean(BooleanBuilder::with_capacity(rows)),
            DomoType::String => ColumnBuilder::Utf8(StringViewBuilder::with_capacity(rows)),
        }
    }

    pub(super) fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Utf8(b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(b) => Arc::new(b.finish()),
            ColumnBuilder::Decimal(b) => Arc::new(b.finish()),
            ColumnBuilder::Date(b) => Arc::new(b.finish()),
            ColumnBuilder::Datetime(b) => Arc::new(b.finish()),
            ColumnBuilder::Boolean(b) => Arc::new(b.finish()),
        }
    }

    pub(super) fn type_name(&self) -> &'static str {
        match self {
            ColumnBuilder::Utf8(_) => "STRING",
            ColumnBuilder::Int64(_) => "LONG",
            ColumnBuilder::Float64(_) => "DOUBLE",
            ColumnBuilder::Decimal(_) => "DECIMAL",
            ColumnBuilder::Date(_) => "DATE",
            ColumnBuilder::Datetime(_) => "DATETIME",
            ColumnBuilder::Boolean(_) => "BOOLEAN",
        }
    }

    pub(super) fn push_null(&mut self) {
        match self {
            ColumnBuilder::Utf8(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Decimal(b) => b.append_null(),
            ColumnBuilder::Date(b) => b.append_null(),
            ColumnBuilder::Datetime(b) => b.append_null(),
            ColumnBuilder::Boolean(b) => b.append_null(),
        }
    }

    /// Appends a JSON number given as an integer.
    pub(super) fn push_i64(&mut self, v: i64) -> Result<(), String> {
        match self {
            ColumnBuilder::Utf8(b) => b.append_value(itoa::Buffer::new().format(v)),
            ColumnBuilder::Int64(b) => b.append_value(v),
            ColumnBuilder::Float64(b) => b.append_value(v as f64),
            ColumnBuilder::Decimal(b) => {
                let scaled = i128::from(v)
                    .checked_mul(10i128.pow(DECIMAL_SCALE as u32))
                    .ok_or_else(|| format!("{v} does not fit a decimal(38, 10)"))?;
                b.append_value(scaled)
            }
            // Unverified on the live service; epoch milliseconds is what Domo uses elsewhere.
            ColumnBuilder::Date(b) => b.append_value(v.div_euclid(86_400_000) as i32),
            ColumnBuilder::Datetime(b) => b.append_value(v.saturating_mul(1000)),
            ColumnBuilder::Boolean(b) => match v {
                0 => b.append_value(false),
                1 => b.append_value(true),
                _ => return Err(format!("{v} is not a boolean")),
            },
        }
        Ok(())
    }

    pub(super) fn push_f64(&mut self, v: f64) -> Result<(), String> {
        match self {
            ColumnBuilder::Float64(b) => b.append_value(v),
            ColumnBuilder::Int64(b) => {
                if v.fract() != 0.0 || !(-9.2e18..9.2e18).contains(&v) {
                    return Err(format!("{v} is not a whole number"));
                }
                b.append_value(v as i64)
            }
            ColumnBuilder::Utf8(b) => b.append_value(ryu::Buffer::new().format(v)),
            ColumnBuilder::Decimal(_) => return self.push_str(ryu::Buffer::new().format(v)),
            _ => return Err(format!("{v} is not a {}", self.type_name())),
        }
        Ok(())
    }

    pub(super) fn push_str(&mut self, s: &str) -> Result<(), String> {
        match self {
            ColumnBuilder::Utf8(b) => b.append_value(s),
            ColumnBuilder::Int64(b) => match s.trim().parse::<i64>() {
                Ok(v) => b.append_value(v),
                Err(_) if s.trim().is_empty() => b.append_null(),
                Err(_) => match s.trim().parse::<f64>() {
                    Ok(f) => return self.push_f64(f),
                    Err(_) => return Err(format!("{s:?} is not an integer")),
                },
            },
            ColumnBuilder::Float64(b) => match s.trim() {
                "" => b.append_null(),
                t => {
                    b.append_value(parse_float(t).ok_or_else(|| format!("{s:?} is not a number"))?)
                }
            },
            ColumnBuilder::Decimal(b) => match s.trim() {
                "" => b.append_null(),
                t => b.append_value(
                    arrow_cast::parse::parse_decimal::<Decimal128Type>(
                        t,
                        DECIMAL_PRECISION,
                        DECIMAL_SCALE,
                    )
                    .map_err(|_| format!("{s:?} is not a decimal that fits decimal(38, 10)"))?,
                ),
            },
            ColumnBuilder::Date(b) => match s {
                "" => b.append_null(),
                _ => b.append_value(
                    parse_date(s)
                        .or_else(|| {
                            parse_datetime(s).map(|us| us.div_euclid(86_400_000_000) as i32)
                        })
                        .ok_or_else(|| format!("{s:?} is not a date (YYYY-MM-DD)"))?,
                ),
            },
            ColumnBuilder::Datetime(b) => match s {
                "" => b.append_null(),
                _ => b.append_value(
                    parse_datetime(s)
                        .ok_or_else(|| format!("{s:?} is not a datetime (YYYY-MM-DDTHH:MM:SS)"))?,
                ),
            },
            ColumnBuilder::Boolean(b) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" => b.append_value(true),
                "false" | "0" => b.append_value(false),
                "" => b.append_null(),
                _ => return Err(format!("{s:?} is not a boolean")),
            },
        }
        Ok(())
    }

    /// Appends a JSON number read by the hand reader, as serde would have it read except
    /// for DECIMAL, which is read from its digits (exact where an f64 would round).
    pub(super) fn push_number(&mut self, n: &Number<'_>) -> Result<(), String> {
        // Exactly representable integers over powers of ten an f64 holds exactly: one
        // correctly rounded division.
        const F64_EXACT: i64 = 1 << 53;
        const POW10: [f64; 23] = [
            1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
            1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
        ];
        match (self, n.unscaled) {
            (this, Some(v)) if n.integer => this.push_i64(v),
            (ColumnBuilder::Float64(b), Some(v)) if v.abs() < F64_EXACT && n.scale < 23 => {
                b.append_value(v as f64 / POW10[n.scale]);
                Ok(())
            }
            (ColumnBuilder::Decimal(b), _) if let Some(v) = n.decimal() => {
                b.append_value(v);
                Ok(())
            }
            (this, _) => this.push_number_text(n.text, n.integer),
        }
    }

    fn push_number_text(&mut self, text: &str, integer: bool) -> Result<(), String> {
        // (`-0` is a float to serde, and so here.)
        if integer
            && text != "-0"
            && let Ok(v) = text.parse::<i64>()
        {
            return self.push_i64(v);
        }
        // (`parse_decimal` counts digits in a u8: a longer number wraps the count.)
        if let ColumnBuilder::Decimal(b) = self
            && text.len() < 200
            && let Ok(v) = arrow_cast::parse::parse_decimal::<Decimal128Type>(
                text,
                DECIMAL_PRECISION,
                DECIMAL_SCALE,
            )
        {
            b.append_value(v);
            return Ok(());
        }
        // (serde refuses a number beyond f64's range; `parse` would make it infinite.)
        let v: f64 = text
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("{text} is not a finite number"))?;
        self.push_f64(v)
    }

    pub(super) fn push_bool(&mut self, v: bool) -> Result<(), String> {
        match self {
            ColumnBuilder::Boolean(b) => b.append_value(v),
            ColumnBuilder::Utf8(b) => b.append_value(if v { "true" } else { "false" }),
            ColumnBuilder::Int64(b) => b.append_value(i64::from(v)),
            _ => return Err(format!("{v} is not a {}", self.type_name())),
        }
        Ok(())
    }
}

fn parse_float(s: &str) -> Option<f64> {
    match s {
        "NaN" | "nan" => Some(f64::NAN),
        "Infinity" | "inf" => Some(f64::INFINITY),
        "-Infinity" | "-inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok(),
    }
}

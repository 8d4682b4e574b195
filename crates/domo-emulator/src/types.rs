//! Domo column types, how each is stored in SQLite, and parsing of incoming values.

use std::fmt::Write;

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::types::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomoType {
    String,
    Long,
    Double,
    Decimal,
    Date,
    DateTime,
}

impl DomoType {
    pub fn parse(name: &str) -> Option<DomoType> {
        Some(match name.to_ascii_uppercase().as_str() {
            "STRING" => DomoType::String,
            "LONG" => DomoType::Long,
            "DOUBLE" => DomoType::Double,
            "DECIMAL" => DomoType::Decimal,
            "DATE" => DomoType::Date,
            "DATETIME" => DomoType::DateTime,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DomoType::String => "STRING",
            DomoType::Long => "LONG",
            DomoType::Double => "DOUBLE",
            DomoType::Decimal => "DECIMAL",
            DomoType::Date => "DATE",
            DomoType::DateTime => "DATETIME",
        }
    }

    /// The declared SQLite type of a data column: the affinity SQLite derives from it must
    /// keep values intact ("STRING" would get NUMERIC affinity and turn "0123" into 123;
    /// none of these contain "INT" unless meant to).
    pub fn decltype(self) -> &'static str {
        match self {
            DomoType::String => "TEXT",
            DomoType::Long => "INTEGER",
            DomoType::Double => "REAL",
            DomoType::Decimal => "DECIMAL_REAL",
            DomoType::Date => "DATE_TEXT",
            DomoType::DateTime => "DATETIME_TEXT",
        }
    }
}

pub const DATE_FMT: &str = "%Y-%m-%d";

/// A parsed date or datetime, remembering whether it had a time part (so date arithmetic
/// on a DATE can answer a DATE, as MySQL does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParsedTime {
    pub dt: NaiveDateTime,
    pub date_only: bool,
}

/// Parses the date/datetime text forms Domo accepts: `YYYY-MM-DD`,
/// `YYYY-MM-DD[T ]HH:MM[:SS[.fff]]` with an optional trailing `Z` or UTC offset (converted
/// to UTC, since Domo stores DATETIME without a zone).
pub fn parse_time(text: &str) -> Option<ParsedTime> {
    let s = text.trim();
    // Every accepted form is ASCII; checking first also keeps the byte slicing below on
    // character boundaries.
    if !s.is_ascii() {
        return None;
    }
    if s.len() == 10 {
        return ymd(s.as_bytes()).map(|d| ParsedTime {
            dt: d.and_time(NaiveTime::MIN),
            date_only: true,
        });
    }
    if s.len() < 16 {
        return None;
    }
    let bytes = s.as_bytes();
    if bytes[10] != b'T' && bytes[10] != b't' && bytes[10] != b' ' {
        return None;
    }
    let date = ymd(bytes)?;
    let mut rest = &s[11..];
    // Split off a zone: `Z`, or `+HH:MM` / `-HH:MM` / `+HHMM` after the time.
    let mut offset_secs: i64 = 0;
    if let Some(stripped) = rest.strip_suffix(['Z', 'z']) {
        rest = stripped;
    } else if let Some(pos) = rest.rfind(['+', '-']) {
        let zone = &rest[pos + 1..];
        let digits: String = zone.chars().filter(|c| *c != ':').collect();
        if digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()) {
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            let sign = if rest.as_bytes()[pos] == b'-' { -1 } else { 1 };
            offset_secs = sign * (h * 3600 + m * 60);
            rest = &rest[..pos];
        } else {
            return None;
        }
    }
    let time = match hms(rest.as_bytes()) {
        Some(t) => t,
        None => NaiveTime::parse_from_str(rest, "%H:%M:%S%.f")
            .or_else(|_| NaiveTime::parse_from_str(rest, "%H:%M"))
            .ok()?,
    };
    let dt = date.and_time(time) - chrono::Duration::seconds(offset_secs);
    // Domo keeps whole seconds; truncate rather than round so a value never moves forward.
    let dt = dt.with_nanosecond_zero();
    Some(ParsedTime {
        dt,
        date_only: false,
    })
}

trait ZeroNanos {
    fn with_nanosecond_zero(self) -> Self;
}
impl ZeroNanos for NaiveDateTime {
    fn with_nanosecond_zero(self) -> Self {
        self.with_nanosecond(0).unwrap_or(self)
    }
}

/// The value of an all-digit ASCII field.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

// The two forms below are what every uploaded DATE and DATETIME looks like, so they are
// read by hand: chrono's format-string parser was most of the emulator's ingest time.

/// `YYYY-MM-DD` at the start of `b`, if it is a real date.
fn ymd(b: &[u8]) -> Option<NaiveDate> {
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = i32::try_from(digits(&b[..4])?).ok()?;
    NaiveDate::from_ymd_opt(year, digits(&b[5..7])?, digits(&b[8..10])?)
}

/// Exactly `HH:MM:SS`, if it is a real time of day.
fn hms(b: &[u8]) -> Option<NaiveTime> {
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(digits(&b[..2])?, digits(&b[3..5])?, digits(&b[6..8])?)
}

pub fn format_date(dt: &NaiveDateTime) -> String {
    if (0..=9999).contains(&dt.year()) {
        format!("{:04}-{:02}-{:02}", dt.year(), dt.month(), dt.day())
    } else {
        dt.format(DATE_FMT).to_string()
    }
}
pub fn format_datetime(dt: &NaiveDateTime) -> String {
    let mut out = format_date(dt);
    let _ = write!(
        out,
        "T{:02}:{:02}:{:02}",
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    out
}

/// `s` in the stored form of `ty` (`YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SS`) without going
/// through the formatter, when it is already that form but perhaps for the separator.
fn stored_form<'a>(ty: DomoType, s: &'a str, p: &ParsedTime) -> Option<Stored<'a>> {
    match ty {
        DomoType::Date => (p.date_only && s.len() == 10).then_some(Stored::Text(s)),
        _ => {
            let b = s.as_bytes();
            let canonical = !p.date_only
                && b.len() == 19
                && b.is_ascii()
                && matches!(b[10], b'T' | b' ')
                && hms(&b[11..]).is_some();
            canonical.then(|| {
                let mut text = [0u8; 19];
                text.copy_from_slice(b);
                text[10] = b'T';
                Stored::DateTime(text)
            })
        }
    }
}

/// Converts one text value (from CSV) into the stored SQLite value for `ty`, or explains
/// why it is not a valid value of that type.
pub fn text_to_value(ty: DomoType, s: &str) -> Result<Value, String> {
    Ok(text_to_stored(ty, s)?.into_value())
}

/// A stored value read from a CSV field, borrowing the field where the stored form is its
/// text: an upload's strings and dates are bound to SQLite without a copy of their own.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    /// A DATETIME in its stored form `YYYY-MM-DDTHH:MM:SS` (ASCII).
    DateTime([u8; 19]),
    Other(Value),
}

impl Stored<'_> {
    pub fn into_value(self) -> Value {
        match self {
            Stored::Null => Value::Null,
            Stored::Integer(i) => Value::Integer(i),
            Stored::Real(f) => Value::Real(f),
            Stored::Text(s) => Value::Text(s.to_owned()),
            Stored::DateTime(b) => Value::Text(String::from_utf8_lossy(&b).into_owned()),
            Stored::Other(v) => v,
        }
    }
}

impl rusqlite::ToSql for Stored<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self {
            Stored::Null => ValueRef::Null,
            Stored::Integer(i) => ValueRef::Integer(*i),
            Stored::Real(f) => ValueRef::Real(*f),
            Stored::Text(s) => ValueRef::Text(s.as_bytes()),
            Stored::DateTime(b) => ValueRef::Text(b),
            Stored::Other(v) => ValueRef::from(v),
        }))
    }
}

/// Converts one text value (from CSV) into its stored value for `ty`, borrowing `s` when
/// the stored form is `s` itself, or explains why it is not a valid value of that type.
pub fn text_to_stored(ty: DomoType, s: &str) -> Result<Stored<'_>, String> {
    match ty {
        DomoType::String => Ok(Stored::Text(s)),
        DomoType::Long => {
            let t = s.trim();
            t.strip_prefix('+')
                .unwrap_or(t)
                .parse::<i64>()
                .map(Stored::Integer)
                .map_err(|_| "not a 64-bit integer".to_owned())
        }
        DomoType::Decimal => Ok(
            match crate::sql::decimal::text_to_stored(
                s,
                u32::from(crate::sql::typing::COLUMN_SCALE),
            )? {
                Value::Real(f) => Stored::Real(f),
                Value::Integer(i) => Stored::Integer(i),
                other => Stored::Other(other),
            },
        ),
        DomoType::Double => {
            let t = s.trim();
            // Rust also parses "inf"/"nan"; Domo has no representation for those.
            let looks_numeric = t
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'));
            match t.parse::<f64>() {
                Ok(v) if looks_numeric && v.is_finite() => Ok(Stored::Real(v)),
                _ => Err("not a finite number".to_owned()),
            }
        }
        DomoType::Date | DomoType::DateTime => {
            let p = parse_time(s).ok_or_else(|| match ty {
                DomoType::Date => "not a date (expected YYYY-MM-DD)".to_owned(),
                _ => "not a datetime (expected YYYY-MM-DDTHH:MM:SS)".to_owned(),
            })?;
            Ok(stored_form(ty, s, &p).unwrap_or_else(|| {
                Stored::Other(Value::Text(if ty == DomoType::Date {
                    format_date(&p.dt)
                } else {
                    format_datetime(&p.dt)
                }))
            }))
        }
    }
}

/// Converts one JSON value (from the append-rows route) into the stored value for `ty`.
pub fn json_to_value(ty: DomoType, v: &serde_json::Value) -> Result<Value, String> {
    use serde_json::Value as J;
    match (ty, v) {
        (_, J::Null) => Ok(Value::Null),
        (DomoType::String, J::String(s)) => Ok(Value::Text(s.clone())),
        (DomoType::String, J::Number(n)) => Ok(Value::Text(n.to_string())),
        (DomoType::String, J::Bool(b)) => Ok(Value::Text(b.to_string())),
        (DomoType::Long, J::Number(n)) => n
            .as_i64()
            .map(Value::Integer)
            .ok_or_else(|| format!("{n} is not a 64-bit integer")),
        // serde_json holds a number as an integer or a double: a double's shortest text
        // is the decimal it was written as, up to 17 digits (longer values come as
        // strings).
        (DomoType::Decimal, J::Number(n)) => text_to_value(ty, &n.to_string()),
        (DomoType::Double, J::Number(n)) => n
            .as_f64()
            .map(Value::Real)
            .ok_or_else(|| format!("{n} is not a number")),
        (_, J::String(s)) => text_to_value(ty, s),
        (_, other) => Err(format!(
            "a JSON {} is not a {}",
            json_kind(other),
            ty.name()
        )),
    }
}

fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affinity_names_do_not_contain_int_unless_long() {
        for ty in [
            DomoType::String,
            DomoType::Double,
            DomoType::Decimal,
            DomoType::Date,
            DomoType::DateTime,
        ] {
            assert!(!ty.decltype().contains("INT"), "{ty:?}");
        }
    }

    #[test]
    fn parses_datetime_forms() {
        let want = "2024-03-05T07:08:09";
        for s in [
            "2024-03-05T07:08:09",
            "2024-03-05 07:08:09",
            "2024-03-05 07:08:09.999",
            "2024-03-05T07:08:09Z",
            "2024-03-05T09:08:09+02:00",
        ] {
            let v = text_to_value(DomoType::DateTime, s);
            assert_eq!(v, Ok(Value::Text(want.into())), "{s}");
        }
        assert!(text_to_value(DomoType::DateTime, "2024-13-05 07:08:09").is_err());
        assert_eq!(
            text_to_value(DomoType::DateTime, "2024-03-05 7:08:09Z"),
            Ok(Value::Text(want.into()))
        );
        assert_eq!(
            text_to_value(DomoType::Date, "2024-02-29"),
            Ok(Value::Text("2024-02-29".into()))
        );
        assert!(text_to_value(DomoType::Date, "2023-02-29").is_err());
        assert!(text_to_value(DomoType::Double, "nan").is_err());
        assert_eq!(
            text_to_value(DomoType::Long, "0123"),
            Ok(Value::Integer(123))
        );
    }
}

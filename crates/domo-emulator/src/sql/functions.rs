//! MySQL functions Domo SQL users write, registered on the SQLite connection. Each takes
//! dates as ISO text (the stored form) and answers NULL for NULL or unparsable input, as
//! MySQL does, instead of failing the query.

use chrono::{Datelike, Duration, Months, NaiveDateTime, Timelike, Utc};
use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};

use super::calendar;
use crate::types::{ParsedTime, format_date, format_datetime, parse_time};

pub(super) fn arg_text(ctx: &Context<'_>, i: usize) -> Option<String> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(v.to_string()),
        ValueRef::Real(v) => Some(real_to_text(v)),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// SQLite's own text form of a REAL (`2.0`, not `2`), so CONCAT reads like SQL users expect.
fn real_to_text(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

pub(super) fn arg_time(ctx: &Context<'_>, i: usize) -> Option<ParsedTime> {
    arg_text(ctx, i).and_then(|s| parse_time(&s))
}

pub(super) fn time_value(p: ParsedTime) -> Value {
    if p.date_only {
        Value::Text(format_date(&p.dt))
    } else {
        Value::Text(format_datetime(&p.dt))
    }
}

fn register_part(
    conn: &Connection,
    name: &str,
    part: fn(&NaiveDateTime) -> i64,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
        Ok(arg_time(ctx, 0).map(|p| part(&p.dt)))
    })
}

pub(super) fn deterministic() -> FunctionFlags {
    FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC
}

/// Parses the text `__interval(n, unit)` produced from `INTERVAL n UNIT`.
fn parse_interval(s: &str) -> Option<(i64, String)> {
    let mut it = s.split_whitespace();
    let n: f64 = it.next()?.parse().ok()?;
    let unit = it.next()?.to_ascii_uppercase();
    Some((n.round() as i64, unit))
}

/// Adds `n` `unit`s to `p`. Month arithmetic clamps to the month's end (Jan 31 + 1 month
/// = Feb 28/29) like MySQL. A DATE plus whole days/weeks/months/years stays a DATE.
pub fn add_interval(p: ParsedTime, n: i64, unit: &str) -> Option<ParsedTime> {
    let months = |m: i64| -> Option<NaiveDateTime> {
        let abs = Months::new(u32::try_from(m.unsigned_abs()).ok()?);
        if m >= 0 {
            p.dt.checked_add_months(abs)
        } else {
            p.dt.checked_sub_months(abs)
        }
    };
    let (dt, keeps_date) = match unit {
        "MICROSECOND" => (p.dt.checked_add_signed(Duration::microseconds(n))?, false),
        "SECOND" => (p.dt.checked_add_signed(Duration::try_seconds(n)?)?, false),
        "MINUTE" => (p.dt.checked_add_signed(Duration::try_minutes(n)?)?, false),
        "HOUR" => (p.dt.checked_add_signed(Duration::try_hours(n)?)?, false),
        "DAY" => (p.dt.checked_add_signed(Duration::try_days(n)?)?, true),
        "WEEK" => (p.dt.checked_add_signed(Duration::try_weeks(n)?)?, true),
        "MONTH" => (months(n)?, true),
        "QUARTER" => (months(n.checked_mul(3)?)?, true),
        "YEAR" => (months(n.checked_mul(12)?)?, true),
        _ => return None,
    };
    Some(ParsedTime {
        dt,
        date_only: p.date_only && keeps_date,
    })
}

fn date_add(ctx: &Context<'_>, sign: i64) -> Option<Value> {
    let p = arg_time(ctx, 0)?;
    // `DATE_ADD(d, 3)` is MySQL shorthand for days.
    let (n, unit) = match ctx.get_raw(1) {
        ValueRef::Integer(n) => (n, "DAY".to_owned()),
        _ => parse_interval(&arg_text(ctx, 1)?)?,
    };
    add_interval(p, n.checked_mul(sign)?, &unit).map(time_value)
}

pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const WEEKDAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

/// MySQL `DATE_FORMAT`: `%` codes as MySQL documents them; an unknown code yields the
/// character itself, as MySQL does.
pub fn date_format(dt: &NaiveDateTime, fmt: &str) -> String {
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars();
    let hour12 = match dt.hour() % 12 {
        0 => 12,
        h => h,
    };
    let month_name = MONTHS[dt.month0() as usize];
    let weekday = WEEKDAYS[dt.weekday().num_days_from_monday() as usize];
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(code) = chars.next() else {
            out.push('%');
            break;
        };
        match code {
            'Y' => out.push_str(&format!("{:04}", dt.year())),
            'y' => out.push_str(&format!("{:02}", dt.year().rem_euclid(100))),
            'm' => out.push_str(&format!("{:02}", dt.month())),
            'c' => out.push_str(&dt.month().to_string()),
            'd' => out.push_str(&format!("{:02}", dt.day())),
            'e' => out.push_str(&dt.day().to_string()),
            'D' => {
                let day = dt.day();
                let suffix = match (day % 10, day / 10) {
                    (_, 1) => "th",
                    (1, _) => "st",
                    (2, _) => "nd",
                    (3, _) => "rd",
                    _ => "th",
                };
                out.push_str(&format!("{day}{suffix}"));
            }
            'H' => out.push_str(&format!("{:02}", dt.hour())),
            'k' => out.push_str(&dt.hour().to_string()),
            'h' | 'I' => out.push_str(&format!("{hour12:02}")),
            'l' => out.push_str(&hour12.to_string()),
            'i' => out.push_str(&format!("{:02}", dt.minute())),
            's' | 'S' => out.push_str(&format!("{:02}", dt.second())),
            'f' => out.push_str(&format!("{:06}", dt.nanosecond() / 1000)),
            'p' => out.push_str(if dt.hour() < 12 { "AM" } else { "PM" }),
            'M' => out.push_str(month_name),
            'b' => out.push_str(&month_name[..3]),
            'W' => out.push_str(weekday),
            'a' => out.push_str(&weekday[..3]),
            'w' => out.push_str(&dt.weekday().num_days_from_sunday().to_string()),
            'j' => out.push_str(&format!("{:03}", dt.ordinal())),
            'U' => out.push_str(&format!("{:02}", calendar::week(dt.date(), 0))),
            'u' => out.push_str(&format!("{:02}", calendar::week(dt.date(), 1))),
            'V' => out.push_str(&format!("{:02}", calendar::week(dt.date(), 2))),
            'v' => out.push_str(&format!("{:02}", calendar::week(dt.date(), 3))),
            'X' => out.push_str(&format!("{:04}", calendar::yearweek(dt.date(), 2) / 100)),
            'x' => out.push_str(&format!("{:04}", calendar::yearweek(dt.date(), 3) / 100)),
            'T' => out.push_str(&format!(
                "{:02}:{:02}:{:02}",
                dt.hour(),
                dt.minute(),
                dt.second()
            )),
            'r' => out.push_str(&format!(
                "{hour12:02}:{:02}:{:02} {}",
                dt.minute(),
                dt.second(),
                if dt.hour() < 12 { "AM" } else { "PM" }
            )),
            other => out.push(other),
        }
    }
    out
}

fn now_utc() -> NaiveDateTime {
    Utc::now().naive_utc()
}

/// Registers every function on `conn`. Called once per connection.
pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    register_part(conn, "YEAR", |d| i64::from(d.year()))?;
    register_part(conn, "MONTH", |d| i64::from(d.month()))?;
    register_part(conn, "DAY", |d| i64::from(d.day()))?;
    register_part(conn, "DAYOFMONTH", |d| i64::from(d.day()))?;
    register_part(conn, "HOUR", |d| i64::from(d.hour()))?;
    register_part(conn, "MINUTE", |d| i64::from(d.minute()))?;
    register_part(conn, "SECOND", |d| i64::from(d.second()))?;
    register_part(conn, "QUARTER", |d| i64::from(d.month0() / 3 + 1))?;
    // MySQL: 1 = Sunday.
    register_part(conn, "DAYOFWEEK", |d| {
        i64::from(d.weekday().num_days_from_sunday() + 1)
    })?;
    register_part(conn, "DAYOFYEAR", |d| i64::from(d.ordinal()))?;

    conn.create_scalar_function("DATE_FORMAT", 2, deterministic(), |ctx| {
        let fmt = arg_text(ctx, 1);
        Ok(arg_time(ctx, 0)
            .zip(fmt)
            .map(|(p, f)| date_format(&p.dt, &f)))
    })?;
    conn.create_scalar_function("DATE_ADD", 2, deterministic(), |ctx| Ok(date_add(ctx, 1)))?;
    conn.create_scalar_function("ADDDATE", 2, deterministic(), |ctx| Ok(date_add(ctx, 1)))?;
    conn.create_scalar_function("DATE_SUB", 2, deterministic(), |ctx| Ok(date_add(ctx, -1)))?;
    conn.create_scalar_function("SUBDATE", 2, deterministic(), |ctx| Ok(date_add(ctx, -1)))?;
    conn.create_scalar_function("DATEDIFF", 2, deterministic(), |ctx| {
        Ok(arg_time(ctx, 0)
            .zip(arg_time(ctx, 1))
            .map(|(a, b)| (a.dt.date() - b.dt.date()).num_days()))
    })?;
    conn.create_scalar_function("__interval", 2, deterministic(), |ctx| {
        Ok(arg_text(ctx, 0)
            .zip(arg_text(ctx, 1))
            .map(|(n, u)| format!("{n} {u}")))
    })?;
    conn.create_scalar_function("__cast_date", 1, deterministic(), |ctx| {
        Ok(arg_time(ctx, 0).map(|p| format_date(&p.dt)))
    })?;
    conn.create_scalar_function("__cast_datetime", 1, deterministic(), |ctx| {
        Ok(arg_time(ctx, 0).map(|p| format_datetime(&p.dt)))
    })?;
    // MySQL's CONCAT is NULL if any argument is NULL (SQLite's built-in skips NULLs).
    conn.create_scalar_function("CONCAT", -1, deterministic(), |ctx| {
        let mut out = String::new();
        for i in 0..ctx.len() {
            match arg_text(ctx, i) {
                Some(s) => out.push_str(&s),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    })?;
    conn.create_scalar_function("__left", 2, deterministic(), |ctx| {
        let n: Option<i64> = ctx.get(1)?;
        Ok(arg_text(ctx, 0).zip(n).map(|(s, n)| {
            s.chars()
                .take(usize::try_from(n.max(0)).unwrap_or(0))
                .collect::<String>()
        }))
    })?;
    conn.create_scalar_function("__right", 2, deterministic(), |ctx| {
        let n: Option<i64> = ctx.get(1)?;
        Ok(arg_text(ctx, 0).zip(n).map(|(s, n)| {
            let n = usize::try_from(n.max(0)).unwrap_or(0);
            let len = s.chars().count();
            s.chars().skip(len.saturating_sub(n)).collect::<String>()
        }))
    })?;
    let volatile = FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("NOW", 0, volatile, |_| Ok(format_datetime(&now_utc())))?;
    conn.create_scalar_function("CURDATE", 0, volatile, |_| Ok(format_date(&now_utc())))?;
    conn.create_scalar_function("CURRENT_DATE", 0, volatile, |_| Ok(format_date(&now_utc())))?;
    calendar::register(conn)?;
    super::numbers::register(conn)?;
    super::decimal::register(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(conn: &Connection, sql: &str) -> Value {
        conn.query_row(sql, [], |r| r.get::<_, Value>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn date_parts_and_format() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        assert_eq!(one(&c, "SELECT YEAR('2024-03-05')"), Value::Integer(2024));
        assert_eq!(
            one(&c, "SELECT MONTH('2024-03-05T10:11:12')"),
            Value::Integer(3)
        );
        assert_eq!(
            one(&c, "SELECT DAY('2024-03-05 10:11:12')"),
            Value::Integer(5)
        );
        assert_eq!(
            one(&c, "SELECT HOUR('2024-03-05 10:11:12')"),
            Value::Integer(10)
        );
        assert_eq!(one(&c, "SELECT QUARTER('2024-11-05')"), Value::Integer(4));
        assert_eq!(one(&c, "SELECT DAYOFWEEK('2024-03-03')"), Value::Integer(1));
        assert_eq!(one(&c, "SELECT YEAR(NULL)"), Value::Null);
        assert_eq!(one(&c, "SELECT YEAR('garbage')"), Value::Null);
        assert_eq!(
            one(
                &c,
                "SELECT DATE_FORMAT('2024-03-05T07:08:09', '%Y-%m-%d %H:%i:%s %M %b %y %e %j %W %a %p %%')"
            ),
            text("2024-03-05 07:08:09 March Mar 24 5 065 Tuesday Tue AM %")
        );
    }

    #[test]
    fn date_arithmetic() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        let cases = [
            ("DATE_ADD('2024-01-31', '1 MONTH')", "2024-02-29"),
            ("DATE_ADD('2024-01-31', '3 DAY')", "2024-02-03"),
            ("DATE_ADD('2024-01-31', '2 WEEK')", "2024-02-14"),
            ("DATE_ADD('2024-02-29', '1 YEAR')", "2025-02-28"),
            ("DATE_ADD('2024-01-31', '1 HOUR')", "2024-01-31T01:00:00"),
            (
                "DATE_ADD('2024-01-31T23:59:59', '1 SECOND')",
                "2024-02-01T00:00:00",
            ),
            (
                "DATE_ADD('2024-01-31 10:00:00', '-30 MINUTE')",
                "2024-01-31T09:30:00",
            ),
            ("DATE_SUB('2024-03-01', '1 DAY')", "2024-02-29"),
            ("DATE_SUB('2024-03-31', '1 MONTH')", "2024-02-29"),
            ("DATE_ADD('2024-01-01', 10)", "2024-01-11"),
            ("__cast_date('2024-05-06T07:08:09')", "2024-05-06"),
            ("__cast_datetime('2024-05-06')", "2024-05-06T00:00:00"),
        ];
        for (expr, want) in cases {
            assert_eq!(one(&c, &format!("SELECT {expr}")), text(want), "{expr}");
        }
        assert_eq!(
            one(&c, "SELECT DATEDIFF('2024-03-01', '2024-02-01')"),
            Value::Integer(29)
        );
        assert_eq!(one(&c, "SELECT DATE_ADD(NULL, '1 DAY')"), Value::Null);
    }

    #[test]
    fn strings_and_clock() {
        let c = Connection::open_in_memory().unwrap();
        register(&c).unwrap();
        assert_eq!(one(&c, "SELECT CONCAT('a', 1, 2.5, 'b')"), text("a12.5b"));
        assert_eq!(one(&c, "SELECT CONCAT('a', NULL)"), Value::Null);
        assert_eq!(one(&c, "SELECT IFNULL(NULL, 'x')"), text("x"));
        assert_eq!(one(&c, "SELECT __left('héllo', 2)"), text("hé"));
        assert_eq!(one(&c, "SELECT __right('héllo', 3)"), text("llo"));
        let Value::Text(now) = one(&c, "SELECT NOW()") else {
            panic!("NOW() is not text")
        };
        assert!(parse_time(&now).is_some_and(|p| !p.date_only), "{now}");
        assert_eq!(now.len(), 19);
        assert_eq!(now.as_bytes()[10], b'T');
        let Value::Text(today) = one(&c, "SELECT CURDATE()") else {
            panic!("CURDATE() is not text")
        };
        assert_eq!(today.len(), 10);
    }
}

//! MySQL's calendar functions beyond the date parts: weeks (all eight WEEK modes, as
//! MySQL's `calc_week` counts them), day and month names, Unix time, STR_TO_DATE,
//! TIMESTAMPDIFF/TIMESTAMPADD and CONVERT_TZ with numeric offsets. Times are UTC: the
//! emulator's MySQL time zone (`time_zone`) is always UTC.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use rusqlite::Connection;
use rusqlite::functions::Context;
use rusqlite::types::{Value, ValueRef};

use super::functions::{
    MONTHS, WEEKDAYS, add_interval, arg_text, arg_time, deterministic, time_value,
};
use crate::types::{ParsedTime, format_date, format_datetime};

const MONDAY_FIRST: u32 = 1;
const WEEK_YEAR: u32 = 2;
const FIRST_WEEKDAY: u32 = 4;

/// MySQL's `week_mode`: WEEK's mode argument as `calc_week` flags.
fn week_mode(mode: u32) -> u32 {
    let mut m = mode & 7;
    if m & MONDAY_FIRST == 0 {
        m ^= FIRST_WEEKDAY;
    }
    m
}

fn days_in_year(year: i32) -> i64 {
    if NaiveDate::from_ymd_opt(year, 2, 29).is_some() {
        366
    } else {
        365
    }
}

/// MySQL's `calc_week`: the week number of `d` and the year it belongs to.
pub fn calc_week(d: NaiveDate, behaviour: u32) -> (i32, u32) {
    let monday_first = behaviour & MONDAY_FIRST != 0;
    let mut week_year = behaviour & WEEK_YEAR != 0;
    let first_weekday = behaviour & FIRST_WEEKDAY != 0;
    let mut year = d.year();
    let daynr = i64::from(d.num_days_from_ce());
    let jan1 = NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or(d);
    let mut first_daynr = i64::from(jan1.num_days_from_ce());
    let mut weekday = i64::from(if monday_first {
        jan1.weekday().num_days_from_monday()
    } else {
        jan1.weekday().num_days_from_sunday()
    });
    if d.month() == 1 && i64::from(d.day()) <= 7 - weekday {
        if !week_year && ((first_weekday && weekday != 0) || (!first_weekday && weekday >= 4)) {
            return (year, 0);
        }
        week_year = true;
        year -= 1;
        let days = days_in_year(year);
        first_daynr -= days;
        weekday = (weekday + 53 * 7 - days) % 7;
    }
    let days = if (first_weekday && weekday != 0) || (!first_weekday && weekday >= 4) {
        daynr - (first_daynr + (7 - weekday))
    } else {
        daynr - (first_daynr - weekday)
    };
    if week_year && days >= 52 * 7 {
        let weekday = (weekday + days_in_year(year)) % 7;
        if (!first_weekday && weekday < 4) || (first_weekday && weekday == 0) {
            return (year + 1, 1);
        }
    }
    (year, (days / 7 + 1) as u32)
}

/// `WEEK(d, mode)`.
pub fn week(d: NaiveDate, mode: u32) -> u32 {
    calc_week(d, week_mode(mode)).1
}

/// `YEARWEEK(d, mode)` as year * 100 + week.
pub fn yearweek(d: NaiveDate, mode: u32) -> i64 {
    let (y, w) = calc_week(d, week_mode(mode) | WEEK_YEAR);
    i64::from(y) * 100 + i64::from(w)
}

fn arg_int(ctx: &Context<'_>, i: usize) -> Option<i64> {
    match ctx.get_raw(i) {
        ValueRef::Integer(v) => Some(v),
        ValueRef::Real(f) => Some(f.round() as i64),
        ValueRef::Null => None,
        ValueRef::Text(t) | ValueRef::Blob(t) => std::str::from_utf8(t)
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .map(|f| f as i64),
    }
}

/// `STR_TO_DATE(text, format)`: the format's codes read back what DATE_FORMAT writes;
/// anything that does not match gives NULL, as MySQL does.
pub fn str_to_date(text: &str, fmt: &str) -> Option<ParsedTime> {
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (0i32, 1u32, 1u32, 0u32, 0u32, 0u32);
    let mut pm: Option<bool> = None;
    let mut has_time = false;
    let mut input = text.trim_start();
    let mut chars = fmt.chars();
    let number = |input: &mut &str, max: usize| -> Option<i64> {
        *input = input.trim_start();
        let len = input
            .char_indices()
            .take(max)
            .take_while(|(_, c)| c.is_ascii_digit())
            .count();
        if len == 0 {
            return None;
        }
        let (n, rest) = input.split_at(len);
        *input = rest;
        n.parse().ok()
    };
    let name = |input: &mut &str, names: &[&str], short: bool| -> Option<usize> {
        for (i, full) in names.iter().enumerate() {
            let n = if short { &full[..3] } else { full };
            if input.len() >= n.len() && input[..n.len()].eq_ignore_ascii_case(n) {
                *input = &input[n.len()..];
                return Some(i);
            }
        }
        None
    };
    while let Some(c) = chars.next() {
        if c != '%' {
            if c.is_whitespace() {
                input = input.trim_start();
                continue;
            }
            input = input.strip_prefix(c)?;
            continue;
        }
        match chars.next()? {
            'Y' => y = number(&mut input, 4)? as i32,
            'y' => {
                let v = number(&mut input, 2)? as i32;
                y = if v < 70 { 2000 + v } else { 1900 + v };
            }
            'm' | 'c' => mo = number(&mut input, 2)? as u32,
            'd' | 'e' => d = number(&mut input, 2)? as u32,
            'H' | 'k' | 'h' | 'I' | 'l' => {
                h = number(&mut input, 2)? as u32;
                has_time = true;
            }
            'i' => {
                mi = number(&mut input, 2)? as u32;
                has_time = true;
            }
            's' | 'S' => {
                s = number(&mut input, 2)? as u32;
                has_time = true;
            }
            'f' => {
                number(&mut input, 6)?;
            }
            'p' => {
                let up = input.get(..2)?.to_ascii_uppercase();
                pm = Some(up == "PM");
                input = &input[2..];
            }
            'M' => mo = name(&mut input, &MONTHS, false)? as u32 + 1,
            'b' => mo = name(&mut input, &MONTHS, true)? as u32 + 1,
            'W' => {
                name(&mut input, &WEEKDAYS, false)?;
            }
            'a' => {
                name(&mut input, &WEEKDAYS, true)?;
            }
            'T' => {
                h = number(&mut input, 2)? as u32;
                input = input.strip_prefix(':')?;
                mi = number(&mut input, 2)? as u32;
                input = input.strip_prefix(':')?;
                s = number(&mut input, 2)? as u32;
                has_time = true;
            }
            '%' => input = input.strip_prefix('%')?,
            _ => return None,
        }
    }
    if let Some(pm) = pm {
        h = h % 12 + if pm { 12 } else { 0 };
    }
    let date = NaiveDate::from_ymd_opt(y, mo, d)?;
    let time = NaiveTime::from_hms_opt(h, mi, s)?;
    Some(ParsedTime {
        dt: date.and_time(time),
        date_only: !has_time,
    })
}

/// Whole `unit`s from `a` to `b`, as MySQL's TIMESTAMPDIFF counts them (months are
/// whole when the day and time of day have been reached).
pub fn timestamp_diff(unit: &str, a: NaiveDateTime, b: NaiveDateTime) -> Option<i64> {
    let secs = (b - a).num_seconds();
    let months = || {
        let raw = i64::from(b.year() - a.year()) * 12 + i64::from(b.month()) - i64::from(a.month());
        let a_rest = (a.day(), a.time());
        let b_rest = (b.day(), b.time());
        if raw > 0 && b_rest < a_rest {
            raw - 1
        } else if raw < 0 && b_rest > a_rest {
            raw + 1
        } else {
            raw
        }
    };
    Some(match unit {
        "MICROSECOND" => (b - a).num_microseconds()?,
        "SECOND" => secs,
        "MINUTE" => secs / 60,
        "HOUR" => secs / 3600,
        "DAY" => secs / 86_400,
        "WEEK" => secs / (7 * 86_400),
        "MONTH" => months(),
        "QUARTER" => months() / 3,
        "YEAR" => months() / 12,
        _ => return None,
    })
}

/// A `+HH:MM` / `-HH:MM` offset, or UTC's names, in seconds.
fn zone_offset(zone: &str) -> Option<i64> {
    let z = zone.trim();
    if z.eq_ignore_ascii_case("UTC") || z.eq_ignore_ascii_case("GMT") || z == "SYSTEM" {
        return Some(0);
    }
    let (sign, rest) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 14 && m < 60).then_some(sign * (h * 3600 + m * 60))
}

fn datetime(dt: NaiveDateTime) -> Value {
    Value::Text(format_datetime(&dt))
}

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let f = deterministic();
    let date_of = |ctx: &Context<'_>| arg_time(ctx, 0).map(|p| p.dt.date());
    for (name, n) in [("WEEK", 1), ("WEEK", 2)] {
        conn.create_scalar_function(name, n, f, move |ctx| {
            let mode = if n == 2 { arg_int(ctx, 1) } else { Some(0) };
            Ok(date_of(ctx)
                .zip(mode)
                .map(|(d, m)| i64::from(week(d, (m & 7) as u32))))
        })?;
    }
    for n in [1, 2] {
        conn.create_scalar_function("YEARWEEK", n, f, move |ctx| {
            let mode = if n == 2 { arg_int(ctx, 1) } else { Some(0) };
            Ok(date_of(ctx)
                .zip(mode)
                .map(|(d, m)| yearweek(d, (m & 7) as u32)))
        })?;
    }
    conn.create_scalar_function("WEEKOFYEAR", 1, f, move |ctx| {
        Ok(date_of(ctx).map(|d| i64::from(week(d, 3))))
    })?;
    conn.create_scalar_function("WEEKDAY", 1, f, move |ctx| {
        Ok(date_of(ctx).map(|d| i64::from(d.weekday().num_days_from_monday())))
    })?;
    conn.create_scalar_function("DAYNAME", 1, f, move |ctx| {
        Ok(date_of(ctx).map(|d| WEEKDAYS[d.weekday().num_days_from_monday() as usize]))
    })?;
    conn.create_scalar_function("MONTHNAME", 1, f, move |ctx| {
        Ok(date_of(ctx).map(|d| MONTHS[d.month0() as usize]))
    })?;
    conn.create_scalar_function("LAST_DAY", 1, f, move |ctx| {
        Ok(date_of(ctx).and_then(|d| {
            let first_next = if d.month() == 12 {
                NaiveDate::from_ymd_opt(d.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(d.year(), d.month() + 1, 1)
            }?;
            Some(format_date(
                &first_next.pred_opt()?.and_time(NaiveTime::MIN),
            ))
        }))
    })?;
    conn.create_scalar_function("STR_TO_DATE", 2, f, |ctx| {
        Ok(arg_text(ctx, 0)
            .zip(arg_text(ctx, 1))
            .and_then(|(t, fmt)| str_to_date(&t, &fmt))
            .map(time_value))
    })?;
    let volatile = rusqlite::functions::FunctionFlags::SQLITE_UTF8;
    conn.create_scalar_function("UNIX_TIMESTAMP", 0, volatile, |_| {
        Ok(chrono::Utc::now().timestamp())
    })?;
    conn.create_scalar_function("UNIX_TIMESTAMP", 1, f, |ctx| {
        Ok(arg_time(ctx, 0).map(|p| p.dt.and_utc().timestamp()))
    })?;
    for n in [1, 2] {
        conn.create_scalar_function("FROM_UNIXTIME", n, f, move |ctx| {
            let Some(secs) = arg_int(ctx, 0) else {
                return Ok(None);
            };
            let Some(dt) = chrono::DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc()) else {
                return Ok(None);
            };
            if n == 2 {
                return Ok(arg_text(ctx, 1)
                    .map(|fmt| Value::Text(super::functions::date_format(&dt, &fmt))));
            }
            Ok(Some(datetime(dt)))
        })?;
    }
    conn.create_scalar_function("TIMESTAMP", 1, f, |ctx| {
        Ok(arg_time(ctx, 0).map(|p| datetime(p.dt)))
    })?;
    conn.create_scalar_function("TIMESTAMP", 2, f, |ctx| {
        let add = arg_text(ctx, 1).and_then(|t| {
            let t = NaiveTime::parse_from_str(t.trim(), "%H:%M:%S").ok()?;
            Some(Duration::seconds(i64::from(t.num_seconds_from_midnight())))
        });
        Ok(arg_time(ctx, 0)
            .zip(add)
            .and_then(|(p, d)| p.dt.checked_add_signed(d))
            .map(datetime))
    })?;
    conn.create_scalar_function("TIMESTAMPDIFF", 3, f, |ctx| {
        let unit = arg_text(ctx, 0).unwrap_or_default();
        Ok(arg_time(ctx, 1)
            .zip(arg_time(ctx, 2))
            .and_then(|(a, b)| timestamp_diff(&unit, a.dt, b.dt)))
    })?;
    conn.create_scalar_function("TIMESTAMPADD", 3, f, |ctx| {
        let unit = arg_text(ctx, 0).unwrap_or_default();
        Ok(arg_int(ctx, 1)
            .zip(arg_time(ctx, 2))
            .and_then(|(n, p)| add_interval(p, n, &unit))
            .map(time_value))
    })?;
    conn.create_scalar_function("CONVERT_TZ", 3, f, |ctx| {
        // A named zone would need the time-zone database; rather than MySQL's NULL
        // without one (a silent difference from Domo), the query is refused.
        let zone = |i: usize| -> rusqlite::Result<Option<i64>> {
            let Some(name) = arg_text(ctx, i) else {
                return Ok(None);
            };
            zone_offset(&name).map(Some).ok_or_else(|| {
                rusqlite::Error::UserFunctionError(
                    format!(
                        "CONVERT_TZ: the time zone '{name}' is not supported by the local \
                         Domo, which knows 'UTC' and offsets such as '+10:00'"
                    )
                    .into(),
                )
            })
        };
        let (from, to) = (zone(1)?, zone(2)?);
        Ok(arg_time(ctx, 0)
            .zip(from.zip(to))
            .and_then(|(p, (a, b))| p.dt.checked_add_signed(Duration::seconds(b - a)))
            .map(datetime))
    })?;
    conn.create_scalar_function("__extract", 2, f, |ctx| {
        let unit = arg_text(ctx, 0).unwrap_or_default();
        let Some(p) = arg_time(ctx, 1) else {
            return Ok(None);
        };
        let dt = p.dt;
        let (y, mo, d) = (
            i64::from(dt.year()),
            i64::from(dt.month()),
            i64::from(dt.day()),
        );
        let (h, mi, s) = (
            i64::from(dt.hour()),
            i64::from(dt.minute()),
            i64::from(dt.second()),
        );
        Ok(Some(match unit.as_str() {
            "YEAR" => y,
            "MONTH" => mo,
            "DAY" => d,
            "HOUR" => h,
            "MINUTE" => mi,
            "SECOND" => s,
            "MICROSECOND" => i64::from(dt.nanosecond() / 1000),
            "QUARTER" => (mo - 1) / 3 + 1,
            "WEEK" => i64::from(week(dt.date(), 0)),
            "DAYOFWEEK" => i64::from(dt.weekday().num_days_from_sunday() + 1),
            "DAYOFYEAR" => i64::from(dt.ordinal()),
            "YEAR_MONTH" => y * 100 + mo,
            "DAY_HOUR" => d * 100 + h,
            "DAY_MINUTE" => (d * 100 + h) * 100 + mi,
            "DAY_SECOND" => ((d * 100 + h) * 100 + mi) * 100 + s,
            "HOUR_MINUTE" => h * 100 + mi,
            "HOUR_SECOND" => (h * 100 + mi) * 100 + s,
            "MINUTE_SECOND" => mi * 100 + s,
            _ => return Ok(None),
        }))
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn weeks_match_the_mysql_manual() {
        assert_eq!(week(d("2008-02-20"), 0), 7);
        assert_eq!(week(d("2008-02-20"), 1), 8);
        assert_eq!(week(d("2008-12-31"), 1), 53);
        assert_eq!(week(d("2000-01-01"), 0), 0);
        assert_eq!(week(d("2000-01-01"), 2), 52);
        assert_eq!(yearweek(d("1987-01-01"), 0), 198652);
        assert_eq!(week(d("2008-02-20"), 3), 8);
    }

    #[test]
    fn str_to_date_reads_what_date_format_writes() {
        let p = str_to_date("01,5,2013", "%d,%m,%Y").unwrap();
        assert_eq!(format_date(&p.dt), "2013-05-01");
        assert!(p.date_only);
        assert!(str_to_date("a09:30:17", "a%h:%i:%s").is_some());
        assert!(str_to_date("09:30:17a", "%h:%i:%s").is_some());
        assert!(str_to_date("2013-02-30", "%Y-%m-%d").is_none());
    }
}

//! Dates and datetimes as Domo writes them, parsed and formatted without allocation.

/// Days since 1970-01-01 for a proleptic Gregorian date (Hinnant's `days_from_civil`).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(bytes: &[u8]) -> Option<u32> {
    if bytes.is_empty() {
        return None;
    }
    bytes.iter().try_fold(0u32, |acc, &b| {
        b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
    })
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses `YYYY-MM-DD` into days since the epoch.
pub fn parse_date(s: &str) -> Option<i32> {
    let b: &[u8; 10] = s.as_bytes().try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let d = |i: usize| u32::from(b[i].wrapping_sub(b'0'));
    if [0, 1, 2, 3, 5, 6, 8, 9].iter().any(|&i| d(i) > 9) {
        return None;
    }
    let year = d(0) * 1000 + d(1) * 100 + d(2) * 10 + d(3);
    let month = d(5) * 10 + d(6);
    let day = d(8) * 10 + d(9);
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(i64::from(year), month) {
        return None;
    }
    Some(days_from_four_digit_civil(year, month, day))
}

/// `days_from_civil` for a year of four digits, in unsigned arithmetic (dates are a fifth
/// of an answer's cells): one 400-year cycle later, every quantity is non-negative.
fn days_from_four_digit_civil(year: u32, month: u32, day: u32) -> i32 {
    let y = year + 400 - u32::from(month <= 2);
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe) as i32 - 719_468 - 146_097
}

/// Parses a Domo datetime into microseconds since the epoch, UTC.
///
/// Accepts `YYYY-MM-DDTHH:MM:SS` or a space for the `T`, an optional fraction, and an
/// optional `Z` or `±HH:MM` offset (Domo sends none: its datetimes are UTC). A bare date is
/// midnight.
pub fn parse_datetime(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let days = i64::from(parse_date(s.get(..10)?)?);
    if b.len() == 10 {
        return Some(days * 86_400_000_000);
    }
    if b.len() < 19 || !(b[10] == b'T' || b[10] == b' ') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = i64::from(digits(&b[11..13])?);
    let minute = i64::from(digits(&b[14..16])?);
    let second = i64::from(digits(&b[17..19])?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut rest = &b[19..];
    let mut micros = 0i64;
    if let Some((b'.', frac)) = rest.split_first() {
        let len = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let kept = &frac[..len.min(6)];
        micros = i64::from(digits(kept)?) * 10i64.pow(6 - kept.len() as u32);
        rest = &frac[len..];
    }
    let offset_secs = match rest {
        [] | [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] | [sign @ (b'+' | b'-'), h1, h2, m1, m2] => {
            let h = i64::from(digits(&[*h1, *h2])?);
            let m = i64::from(digits(&[*m1, *m2])?);
            let secs = h * 3600 + m * 60;
            if *sign == b'+' { secs } else { -secs }
        }
        _ => return None,
    };
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// Writes days since the epoch as `YYYY-MM-DD`.
pub fn write_date(out: &mut Vec<u8>, days: i64) {
    let (y, m, d) = civil_from_days(days);
    write_ymd(out, y, m, d);
}

fn write_ymd(out: &mut Vec<u8>, y: i64, m: u32, d: u32) {
    if (0..10_000).contains(&y) {
        let y = y as u32;
        out.extend_from_slice(&[
            b'0' + (y / 1000) as u8,
            b'0' + (y / 100 % 10) as u8,
            b'0' + (y / 10 % 10) as u8,
            b'0' + (y % 10) as u8,
            b'-',
        ]);
    } else {
        out.extend_from_slice(format!("{y:04}-").as_bytes());
    }
    push2(out, m);
    out.push(b'-');
    push2(out, d);
}

fn push2(out: &mut Vec<u8>, v: u32) {
    out.push(b'0' + (v / 10) as u8);
    out.push(b'0' + (v % 10) as u8);
}

/// Writes microseconds since the epoch (UTC) as `YYYY-MM-DD HH:MM:SS[.ffffff]`.
pub fn write_datetime(out: &mut Vec<u8>, micros: i64) {
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400) as u32;
    write_date(out, days);
    out.push(b' ');
    push2(out, tod / 3600);
    out.push(b':');
    push2(out, tod / 60 % 60);
    out.push(b':');
    push2(out, tod % 60);
    if frac != 0 {
        out.extend_from_slice(format!(".{frac:06}").trim_end_matches('0').as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for days in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn four_digit_years_count_days_as_days_from_civil() {
        for year in 0..10_000u32 {
            for (month, day) in [(1, 1), (2, 28), (2, 29), (3, 1), (7, 15), (12, 31)] {
                let want = days_from_civil(i64::from(year), month, day);
                assert_eq!(
                    i64::from(days_from_four_digit_civil(year, month, day)),
                    want,
                    "{year}-{month}-{day}"
                );
            }
        }
    }

    #[test]
    fn parses_dates() {
        assert_eq!(parse_date("1970-01-02"), Some(1));
        assert_eq!(parse_date("2024-02-29"), Some(19_782));
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "20240101",
            "2024-01-00",
            "abcd-01-01",
            "2024-01-0:",
            "2024-01-/1",
            "2024-01-01 ",
            "é024-01-01",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_datetimes() {
        let base = parse_datetime("2019-03-19T18:49:02").unwrap();
        assert_eq!(base, 1_553_021_342_000_000);
        assert_eq!(parse_datetime("2019-03-19 18:49:02"), Some(base));
        assert_eq!(parse_datetime("2019-03-19T18:49:02Z"), Some(base));
        assert_eq!(
            parse_datetime("2019-03-19T18:49:02.5"),
            Some(base + 500_000)
        );
        assert_eq!(
            parse_datetime("2019-03-19T18:49:02.123456789"),
            Some(base + 123_456)
        );
        assert_eq!(parse_datetime("2019-03-19T20:49:02+02:00"), Some(base));
        assert_eq!(
            parse_datetime("2019-03-19"),
            Some(base - (18 * 3600 + 49 * 60 + 2) * 1_000_000)
        );
        for bad in [
            "2019-03-19T25:00:00",
            "2019-03-19T18:49",
            "2019-03-19T18:49:02.",
            "2019-03-19X18:49:02",
        ] {
            assert_eq!(parse_datetime(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_round_trip() {
        for s in [
            "1969-12-31 23:59:59",
            "2019-03-19 18:49:02.5",
            "2262-04-11 23:47:16.854775",
        ] {
            let mut out = Vec::new();
            write_datetime(&mut out, parse_datetime(s).unwrap());
            assert_eq!(std::str::from_utf8(&out).unwrap(), s);
        }
        let mut out = Vec::new();
        write_date(&mut out, -1);
        assert_eq!(out, b"1969-12-31");
    }
}

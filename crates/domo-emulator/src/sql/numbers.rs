//! MySQL's arithmetic and string functions where SQLite's differ or are missing: exact
//! decimal division and rounding, DIV and MOD, the math functions, the sample and
//! population deviations, Unicode UPPER/LOWER, LENGTH in bytes, padding, LOCATE and the
//! case-insensitive collation string comparison uses.

use std::cmp::Ordering;

use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};

use super::decimal;
use super::functions::{arg_text, deterministic};
use super::translate::CI_COLLATION;

/// A number as MySQL reads an argument: integers stay exact, text is read as its
/// leading number (0 when there is none).
#[derive(Debug, Clone, Copy)]
enum Num {
    Int(i64),
    Real(f64),
}

impl Num {
    fn real(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Real(f) => f,
        }
    }
}

/// The number text starts with, as MySQL reads `'12abc'` (0 when there is none).
pub(super) fn leading_number(s: &str) -> f64 {
    let s = s.trim_start();
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let ok = c.is_ascii_digit()
            || (i == 0 && (c == '-' || c == '+'))
            || (c == '.' && !s[..i].contains('.'))
            || ((c == 'e' || c == 'E') && i > 0);
        if !ok {
            break;
        }
        end = i + c.len_utf8();
    }
    let mut cut = &s[..end];
    while !cut.is_empty() && cut.parse::<f64>().is_err() {
        cut = &cut[..cut.len() - 1];
    }
    cut.parse().unwrap_or(0.0)
}

fn arg_num(ctx: &Context<'_>, i: usize) -> Option<Num> {
    match ctx.get_raw(i) {
        ValueRef::Null => None,
        ValueRef::Integer(v) => Some(Num::Int(v)),
        ValueRef::Real(f) => Some(Num::Real(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            let f = leading_number(&s);
            if f.fract() == 0.0 && f.abs() < 9.0e15 && !s.contains(['.', 'e', 'E']) {
                Some(Num::Int(f as i64))
            } else {
                Some(Num::Real(f))
            }
        }
    }
}

fn real(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

/// MySQL's case-insensitive comparison: Unicode lowercase, then code points.
pub fn compare_ci(a: &str, b: &str) -> Ordering {
    let fold = |s: &str| -> String { s.trim_end_matches(' ').to_lowercase() };
    fold(a).cmp(&fold(b))
}

fn pad(ctx: &Context<'_>, left: bool) -> Option<String> {
    let s = arg_text(ctx, 0)?;
    let n = usize::try_from(arg_num(ctx, 1)?.real() as i64).ok()?;
    let fill = arg_text(ctx, 2)?;
    let len = s.chars().count();
    if n <= len {
        return Some(s.chars().take(n).collect());
    }
    if fill.is_empty() {
        return None;
    }
    let padding: String = fill.chars().cycle().take(n - len).collect();
    Some(if left { padding + &s } else { s + &padding })
}

/// LOCATE(sub, s[, pos]): 1-based character position, case-insensitively, 0 if absent.
fn locate(sub: &str, s: &str, from: usize) -> i64 {
    let (sub, s): (Vec<char>, Vec<char>) = (
        sub.to_lowercase().chars().collect(),
        s.to_lowercase().chars().collect(),
    );
    if from == 0 || from > s.len() + 1 {
        return 0;
    }
    if sub.is_empty() {
        return from as i64;
    }
    (from - 1..s.len())
        .find(|&i| s[i..].starts_with(&sub))
        .map_or(0, |i| i as i64 + 1)
}

fn substring_index(s: &str, delim: &str, count: i64) -> String {
    if delim.is_empty() || count == 0 {
        return String::new();
    }
    let parts: Vec<&str> = s.split(delim).collect();
    let n = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    if n >= parts.len() {
        return s.to_owned();
    }
    if count > 0 {
        parts[..n].join(delim)
    } else {
        parts[parts.len() - n..].join(delim)
    }
}

/// Welford's running mean and squared deviations, for the deviation aggregates.
#[derive(Default)]
struct Moments {
    n: u64,
    mean: f64,
    m2: f64,
}

struct Deviation {
    sample: bool,
    root: bool,
}

impl Aggregate<Moments, Option<f64>> for Deviation {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Moments> {
        Ok(Moments::default())
    }

    fn step(&self, ctx: &mut Context<'_>, m: &mut Moments) -> rusqlite::Result<()> {
        if let Some(x) = arg_num(ctx, 0) {
            let x = x.real();
            m.n += 1;
            let delta = x - m.mean;
            m.mean += delta / m.n as f64;
            m.m2 += delta * (x - m.mean);
        }
        Ok(())
    }

    fn finalize(&self, _: &mut Context<'_>, m: Option<Moments>) -> rusqlite::Result<Option<f64>> {
        let Some(m) = m else { return Ok(None) };
        let n = if self.sample {
            m.n.saturating_sub(1)
        } else {
            m.n
        };
        if n == 0 {
            return Ok(None);
        }
        let var = m.m2 / n as f64;
        Ok(Some(if self.root { var.sqrt() } else { var }))
    }
}

fn math(conn: &Connection, name: &str, f: fn(f64) -> Option<f64>) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
        Ok(arg_num(ctx, 0).and_then(|x| f(x.real())).and_then(real))
    })
}

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let f = deterministic();
    conn.create_collation(CI_COLLATION, compare_ci)?;
    conn.create_scalar_function("__div", 3, f, |ctx| {
        let (Some(a), Some(b)) = (decimal::arg(ctx, 0), decimal::arg(ctx, 1)) else {
            return Ok(None);
        };
        let scale = arg_num(ctx, 2).map_or(4, |s| s.real() as u32);
        Ok(a.divide(&b, scale).map(|d| d.to_value()))
    })?;
    conn.create_scalar_function("__div_real", 2, f, |ctx| {
        Ok(arg_num(ctx, 0)
            .zip(arg_num(ctx, 1))
            .filter(|(_, b)| b.real() != 0.0)
            .and_then(|(a, b)| real(a.real() / b.real())))
    })?;
    conn.create_scalar_function("__int_div", 2, f, |ctx| {
        Ok(match (arg_num(ctx, 0), arg_num(ctx, 1)) {
            (Some(Num::Int(a)), Some(Num::Int(b))) => a.checked_div(b),
            (Some(a), Some(b)) if b.real() != 0.0 => {
                let q = (a.real() / b.real()).trunc();
                (q.abs() < 9.2e18).then_some(q as i64)
            }
            _ => None,
        })
    })?;
    conn.create_scalar_function("MOD", 2, f, |ctx| {
        Ok(match (arg_num(ctx, 0), arg_num(ctx, 1)) {
            (Some(Num::Int(a)), Some(Num::Int(b))) => a.checked_rem(b).map(Value::Integer),
            (Some(_), Some(_)) => decimal::arg(ctx, 0)
                .zip(decimal::arg(ctx, 1))
                .and_then(|(a, b)| a.rem(&b))
                .map(|d| d.to_value()),
            _ => None,
        })
    })?;
    for (name, truncate) in [("__round_exact", false), ("__truncate_exact", true)] {
        for n in [1, 2] {
            conn.create_scalar_function(name, n, f, move |ctx| {
                let digits = if n == 2 {
                    match arg_num(ctx, 1) {
                        Some(d) => d.real() as i64,
                        None => return Ok(None),
                    }
                } else {
                    0
                };
                Ok(decimal::arg(ctx, 0).map(|d| d.round(digits, truncate).to_value()))
            })?;
        }
    }
    for n in [1, 2] {
        conn.create_scalar_function("__truncate", n, f, move |ctx| {
            let digits = if n == 2 {
                arg_num(ctx, 1).map_or(0, |d| d.real() as i32)
            } else {
                0
            };
            let p = 10f64.powi(digits);
            Ok(arg_num(ctx, 0).and_then(|x| real((x.real() * p).trunc() / p)))
        })?;
    }
    for (name, up) in [("FLOOR", false), ("CEIL", true)] {
        conn.create_scalar_function(name, 1, f, move |ctx| {
            Ok(match arg_num(ctx, 0) {
                Some(Num::Int(i)) => Some(Value::Integer(i)),
                Some(Num::Real(x)) => {
                    let r = if up { x.ceil() } else { x.floor() };
                    // Integral: an exact argument's answer is typed LONG, and a DOUBLE
                    // column reads an integer as well.
                    if r.abs() < 9.2e18 {
                        Some(Value::Integer(r as i64))
                    } else {
                        real(r).map(Value::Real)
                    }
                }
                None => None,
            })
        })?;
    }
    conn.create_scalar_function("POWER", 2, f, |ctx| {
        Ok(arg_num(ctx, 0)
            .zip(arg_num(ctx, 1))
            .and_then(|(a, b)| real(a.real().powf(b.real()))))
    })?;
    math(conn, "SQRT", |x| (x >= 0.0).then(|| x.sqrt()))?;
    math(conn, "EXP", |x| Some(x.exp()))?;
    math(conn, "LN", |x| (x > 0.0).then(|| x.ln()))?;
    math(conn, "LOG10", |x| (x > 0.0).then(|| x.log10()))?;
    math(conn, "LOG2", |x| (x > 0.0).then(|| x.log2()))?;
    math(conn, "LOG", |x| (x > 0.0).then(|| x.ln()))?;
    conn.create_scalar_function("LOG", 2, f, |ctx| {
        Ok(arg_num(ctx, 0)
            .zip(arg_num(ctx, 1))
            .filter(|(b, x)| b.real() > 0.0 && b.real() != 1.0 && x.real() > 0.0)
            .and_then(|(b, x)| real(x.real().ln() / b.real().ln())))
    })?;
    conn.create_scalar_function("SIGN", 1, f, |ctx| {
        Ok(arg_num(ctx, 0).map(|x| {
            let v = x.real();
            if v > 0.0 {
                1
            } else if v < 0.0 {
                -1
            } else {
                0
            }
        }))
    })?;
    conn.create_scalar_function("PI", 0, f, |_| Ok(std::f64::consts::PI))?;
    conn.create_scalar_function("RAND", 0, FunctionFlags::SQLITE_UTF8, |_| {
        Ok(rand::random::<f64>())
    })?;
    conn.create_scalar_function("ABS", 1, f, |ctx| {
        Ok(arg_num(ctx, 0).map(|x| match x {
            Num::Int(i) => i
                .checked_abs()
                .map_or(Value::Real((i as f64).abs()), Value::Integer),
            Num::Real(r) => Value::Real(r.abs()),
        }))
    })?;
    for (name, want) in [
        ("__greatest", Ordering::Greater),
        ("__least", Ordering::Less),
    ] {
        conn.create_scalar_function(name, -1, f, move |ctx| {
            let mut best: Option<ValueRef<'_>> = None;
            for i in 0..ctx.len() {
                let v = ctx.get_raw(i);
                if v == ValueRef::Null {
                    return Ok(Value::Null);
                }
                let better = match best {
                    None => true,
                    Some(b) => compare_values(v, b) == want,
                };
                if better {
                    best = Some(v);
                }
            }
            Ok(best.map_or(Value::Null, owned))
        })?;
    }
    for (name, sample, root) in [
        ("STDDEV_POP", false, true),
        ("STDDEV_SAMP", true, true),
        ("VAR_POP", false, false),
        ("VAR_SAMP", true, false),
    ] {
        conn.create_aggregate_function(name, 1, f, Deviation { sample, root })?;
    }
    conn.create_scalar_function("UPPER", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| s.to_uppercase()))
    })?;
    conn.create_scalar_function("LOWER", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| s.to_lowercase()))
    })?;
    conn.create_scalar_function("LENGTH", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| s.len() as i64))
    })?;
    conn.create_scalar_function("CHAR_LENGTH", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| s.chars().count() as i64))
    })?;
    conn.create_scalar_function("LPAD", 3, f, |ctx| Ok(pad(ctx, true)))?;
    conn.create_scalar_function("RPAD", 3, f, |ctx| Ok(pad(ctx, false)))?;
    for n in [2, 3] {
        conn.create_scalar_function("LOCATE", n, f, move |ctx| {
            let from = if n == 3 {
                match arg_num(ctx, 2) {
                    Some(p) => usize::try_from(p.real() as i64).unwrap_or(0),
                    None => return Ok(None),
                }
            } else {
                1
            };
            Ok(arg_text(ctx, 0)
                .zip(arg_text(ctx, 1))
                .map(|(sub, s)| locate(&sub, &s, from)))
        })?;
    }
    conn.create_scalar_function("INSTR", 2, f, |ctx| {
        Ok(arg_text(ctx, 0)
            .zip(arg_text(ctx, 1))
            .map(|(s, sub)| locate(&sub, &s, 1)))
    })?;
    conn.create_scalar_function("SUBSTRING_INDEX", 3, f, |ctx| {
        let count = arg_num(ctx, 2).map(|c| c.real() as i64);
        Ok(arg_text(ctx, 0)
            .zip(arg_text(ctx, 1))
            .zip(count)
            .map(|((s, d), c)| substring_index(&s, &d, c)))
    })?;
    for n in [2, 3] {
        conn.create_scalar_function("__substring", n, f, move |ctx| {
            let Some(s) = arg_text(ctx, 0) else {
                return Ok(None);
            };
            let Some(pos) = arg_num(ctx, 1).map(|p| p.real() as i64) else {
                return Ok(None);
            };
            let len = if n == 3 {
                match arg_num(ctx, 2) {
                    Some(l) => l.real() as i64,
                    None => return Ok(None),
                }
            } else {
                i64::MAX
            };
            let chars: Vec<char> = s.chars().collect();
            let count = chars.len() as i64;
            // MySQL: position 0 gives ''; negative counts from the end.
            let start = match pos {
                0 => return Ok(Some(String::new())),
                p if p > 0 => p - 1,
                p => count + p,
            };
            if start < 0 || start >= count || len <= 0 {
                return Ok(Some(String::new()));
            }
            let end = start.saturating_add(len).min(count);
            Ok(Some(chars[start as usize..end as usize].iter().collect()))
        })?;
    }
    conn.create_scalar_function("__trim", 3, f, |ctx| {
        let (Some(s), Some(what)) = (arg_text(ctx, 0), arg_text(ctx, 1)) else {
            return Ok(None);
        };
        let side = arg_text(ctx, 2).unwrap_or_default();
        if what.is_empty() {
            return Ok(Some(s));
        }
        let mut out = s.as_str();
        if side != "TRAILING" {
            while let Some(rest) = out.strip_prefix(what.as_str()) {
                out = rest;
            }
        }
        if side != "LEADING" {
            while let Some(rest) = out.strip_suffix(what.as_str()) {
                out = rest;
            }
        }
        Ok(Some(out.to_owned()))
    })?;
    conn.create_scalar_function("REVERSE", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| s.chars().rev().collect::<String>()))
    })?;
    conn.create_scalar_function("REPEAT", 2, f, |ctx| {
        let n = arg_num(ctx, 1).map(|n| n.real() as i64);
        Ok(arg_text(ctx, 0)
            .zip(n)
            .map(|(s, n)| s.repeat(usize::try_from(n.clamp(0, 1 << 20)).unwrap_or(0))))
    })?;
    conn.create_scalar_function("__space", 1, f, |ctx| {
        Ok(arg_num(ctx, 0).map(|n| " ".repeat((n.real() as i64).clamp(0, 1 << 20) as usize)))
    })?;
    conn.create_scalar_function("ASCII", 1, f, |ctx| {
        Ok(arg_text(ctx, 0).map(|s| i64::from(s.bytes().next().unwrap_or(0))))
    })?;
    conn.create_scalar_function("__cast_signed", 1, f, |ctx| {
        Ok(arg_num(ctx, 0).map(|n| match n {
            Num::Int(i) => Value::Integer(i),
            Num::Real(r) if matches!(ctx.get_raw(0), ValueRef::Text(_)) => {
                Value::Integer(r.trunc() as i64)
            }
            Num::Real(r) => Value::Integer(r.round() as i64),
        }))
    })?;
    conn.create_scalar_function("__as_text", 1, f, |ctx| Ok(arg_text(ctx, 0)))?;
    conn.create_scalar_function("__xor", 2, f, |ctx| {
        Ok(arg_num(ctx, 0)
            .zip(arg_num(ctx, 1))
            .map(|(a, b)| i64::from((a.real() != 0.0) != (b.real() != 0.0))))
    })?;
    conn.create_scalar_function("__regexp", 2, f, |ctx| {
        let (Some(s), Some(pattern)) = (arg_text(ctx, 0), arg_text(ctx, 1)) else {
            return Ok(None);
        };
        let re = regex::RegexBuilder::new(&pattern)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                rusqlite::Error::UserFunctionError(
                    format!("Invalid regular expression: {e}").into(),
                )
            })?;
        Ok(Some(i64::from(re.is_match(&s))))
    })?;
    Ok(())
}

pub(super) fn owned(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(f) => Value::Real(f),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

/// MySQL's comparison of two values of one column type: numbers as numbers, text
/// case-insensitively.
fn compare_values(a: ValueRef<'_>, b: ValueRef<'_>) -> Ordering {
    let num = |v: ValueRef<'_>| match v {
        ValueRef::Integer(i) => Some(i as f64),
        ValueRef::Real(f) => Some(f),
        _ => None,
    };
    // A DECIMAL held as digits compares as the number it is.
    let exact = |v: ValueRef<'_>| match v {
        ValueRef::Integer(_) | ValueRef::Real(_) => decimal::from_value(v),
        ValueRef::Blob(b) if decimal::is_decimal_text(b) => decimal::from_value(v),
        _ => None,
    };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ if let (Some(x), Some(y)) = (exact(a), exact(b)) => x.compare(&y),
        _ => {
            let text = |v: ValueRef<'_>| match v {
                ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
                ValueRef::Integer(i) => i.to_string(),
                ValueRef::Real(f) => f.to_string(),
                ValueRef::Null => String::new(),
            };
            compare_ci(&text(a), &text(b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn string_helpers_match_the_mysql_manual() {
        assert_eq!(locate("bar", "foobarbar", 1), 4);
        assert_eq!(locate("xbar", "foobar", 1), 0);
        assert_eq!(locate("bar", "foobarbar", 5), 7);
        assert_eq!(substring_index("www.mysql.com", ".", 2), "www.mysql");
        assert_eq!(substring_index("www.mysql.com", ".", -2), "mysql.com");
        assert_eq!(compare_ci("Café", "CAFÉ"), Ordering::Equal);
    }
}

//! Exact DECIMAL values, as MySQL computes them: any number of digits, a scale, rounding
//! half away from zero.
//!
//! How a DECIMAL sits in SQLite: an INTEGER when it is a whole number a double holds
//! exactly, a REAL when the shortest text of that double is the value itself (`2.65`,
//! `0.1`), otherwise a BLOB of its digits (`12345678.0123456789`). Each value has one
//! form (trailing zeros do not count), so SQLite's own `=`, GROUP BY and DISTINCT see
//! equal values as equal; arithmetic, ordering and the aggregates go through the
//! functions registered here, which read all three forms exactly. A REAL stored by any
//! earlier emulator reads as the decimal its shortest text writes, as it always did.

use std::cmp::Ordering;

use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{Signed, ToPrimitive, Zero};
use rusqlite::Connection;
use rusqlite::functions::{Aggregate, Context};
use rusqlite::types::{Value, ValueRef};

use super::functions::deterministic;
use super::typing::MAX_SCALE;

/// Digits before the point a stored DECIMAL may have: decimal(38,10).
pub const COLUMN_INTEGER_DIGITS: usize = 28;
/// Largest power of ten an exponent in a number's text may scale by: reading text is
/// bounded, whatever a query or an upload writes.
const MAX_EXPONENT: i64 = 1000;
/// Integers up to 2^53 are exact as doubles, so stored in either form they compare equal.
const EXACT_DOUBLE_INTEGER: i64 = 1 << 53;

/// An exact decimal: `mantissa / 10^scale`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dec {
    pub mantissa: BigInt,
    pub scale: u32,
}

fn pow10(n: u32) -> BigInt {
    BigInt::from(10u32).pow(n)
}

impl Dec {
    pub fn from_i64(i: i64) -> Dec {
        Dec {
            mantissa: BigInt::from(i),
            scale: 0,
        }
    }

    /// The decimal a double's shortest text writes (`2.65` is 2.65, not the binary
    /// fraction nearest it): what a REAL in a DECIMAL column stands for.
    pub fn from_f64(f: f64) -> Option<Dec> {
        f.is_finite()
            .then(|| Dec::parse(zmij::Buffer::new().format_finite(f)))
            .flatten()
    }

    /// Reads `[+-]digits[.digits][e[+-]digits]`, exactly.
    pub fn parse(s: &str) -> Option<Dec> {
        let s = s.trim();
        let (number, exponent) = match s.find(['e', 'E']) {
            Some(at) => {
                let e: i64 = s[at + 1..]
                    .strip_prefix('+')
                    .unwrap_or(&s[at + 1..])
                    .parse()
                    .ok()?;
                (&s[..at], e)
            }
            None => (s, 0),
        };
        if exponent.abs() > MAX_EXPONENT {
            return None;
        }
        let (neg, digits) = match number.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, number.strip_prefix('+').unwrap_or(number)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let all: String = [int, frac].concat();
        let mut mantissa: BigInt = all.parse().ok()?;
        if neg {
            mantissa = -mantissa;
        }
        // In range, checked above.
        let scale = frac.len() as i64 - exponent;
        Some(if scale >= 0 {
            Dec {
                mantissa,
                scale: u32::try_from(scale).ok()?,
            }
        } else {
            Dec {
                mantissa: mantissa * pow10(u32::try_from(-scale).ok()?),
                scale: 0,
            }
        })
    }

    /// The same value without trailing zeros after the point.
    pub fn normalized(mut self) -> Dec {
        let ten = BigInt::from(10u32);
        while self.scale > 0 {
            let (q, r) = self.mantissa.div_rem(&ten);
            if !r.is_zero() {
                break;
            }
            self.mantissa = q;
            self.scale -= 1;
        }
        self
    }

    /// This value with `scale` places (at least its own).
    fn widened(&self, scale: u32) -> BigInt {
        &self.mantissa * pow10(scale.saturating_sub(self.scale))
    }

    pub fn add(&self, other: &Dec) -> Dec {
        let scale = self.scale.max(other.scale);
        Dec {
            mantissa: self.widened(scale) + other.widened(scale),
            scale,
        }
    }

    pub fn neg(&self) -> Dec {
        Dec {
            mantissa: -&self.mantissa,
            scale: self.scale,
        }
    }

    pub fn mul(&self, other: &Dec) -> Dec {
        Dec {
            mantissa: &self.mantissa * &other.mantissa,
            scale: self.scale + other.scale,
        }
    }

    pub fn abs(&self) -> Dec {
        Dec {
            mantissa: self.mantissa.abs(),
            scale: self.scale,
        }
    }

    pub fn is_zero(&self) -> bool {
        self.mantissa.is_zero()
    }

    pub fn compare(&self, other: &Dec) -> Ordering {
        let scale = self.scale.max(other.scale);
        self.widened(scale).cmp(&other.widened(scale))
    }

    /// `self / other` rounded half away from zero to `scale` places, as MySQL's DECIMAL
    /// division is; `None` for a zero divisor.
    pub fn divide(&self, other: &Dec, scale: u32) -> Option<Dec> {
        if other.is_zero() {
            return None;
        }
        // a/b * 10^scale = a.m * 10^(b.s + scale) / (b.m * 10^a.s), one digit more to round.
        let num = &self.mantissa * pow10(other.scale + scale + 1);
        let den = &other.mantissa * pow10(self.scale);
        let q = num / den;
        let five = BigInt::from(5u32) * q.signum();
        Some(Dec {
            mantissa: (q + five) / BigInt::from(10u32),
            scale,
        })
    }

    /// `self` modulo `other` with the sign of `self`, as MySQL's MOD; `None` for zero.
    pub fn rem(&self, other: &Dec) -> Option<Dec> {
        if other.is_zero() {
            return None;
        }
        let scale = self.scale.max(other.scale);
        Some(Dec {
            mantissa: self.widened(scale) % other.widened(scale),
            scale,
        })
    }

    /// Rounded half away from zero (MySQL's rounding of exact values), or truncated, to
    /// `digits` places; negative `digits` round left of the point.
    pub fn round(&self, digits: i64, truncate: bool) -> Dec {
        let digits = digits.clamp(-i64::from(MAX_EXPONENT as u32), i64::from(MAX_SCALE));
        if digits >= 0 && digits as u32 >= self.scale {
            return self.clone();
        }
        // Positive: `digits` is below `self.scale` here.
        let drop = (i64::from(self.scale) - digits) as u32;
        let p = pow10(drop);
        let (q, r) = (&self.mantissa / &p, &self.mantissa % &p);
        let bump = !truncate && r.abs() * 2u32 >= p;
        let q = if bump { q + self.mantissa.signum() } else { q };
        if digits >= 0 {
            Dec {
                mantissa: q,
                scale: digits as u32,
            }
        } else {
            Dec {
                mantissa: q * pow10((-digits) as u32),
                scale: 0,
            }
        }
    }

    /// Digits before the point.
    pub fn integer_digits(&self) -> usize {
        let int = self.mantissa.abs() / pow10(self.scale);
        if int.is_zero() {
            0
        } else {
            int.to_string().len()
        }
    }

    /// The one SQLite form of this value (see the module's notes).
    pub fn to_value(&self) -> Value {
        let d = self.clone().normalized();
        // Up to 15 significant digits, a double's shortest text is the value itself, and
        // the division by an exact power of ten rounds to that double.
        if d.scale <= 22
            && let Some(m) = d.mantissa.to_i64()
            && m.unsigned_abs() < 1_000_000_000_000_000
        {
            return if d.scale == 0 {
                Value::Integer(m)
            } else {
                Value::Real(m as f64 / 10f64.powi(d.scale as i32))
            };
        }
        if d.scale == 0
            && let Some(i) = d.mantissa.to_i64()
            && i.abs() <= EXACT_DOUBLE_INTEGER
        {
            return Value::Integer(i);
        }
        let text = d.to_string();
        if let Ok(f) = text.parse::<f64>()
            && Dec::from_f64(f).is_some_and(|back| back.normalized() == d)
        {
            return Value::Real(f);
        }
        Value::Blob(text.into_bytes())
    }

    /// Text whose byte order is this value's numeric order (for ORDER BY): a sign, then
    /// a fixed number of digits before and after the point, complemented when negative.
    pub fn sort_key(&self) -> String {
        const INT: usize = 80;
        const FRAC: u32 = 40;
        let neg = self.mantissa.is_negative();
        let scaled = if self.scale > FRAC {
            self.round(i64::from(FRAC), true)
        } else {
            self.clone()
        };
        let digits = scaled.widened(FRAC).abs().to_string();
        let width = INT + FRAC as usize;
        let mut key = String::with_capacity(width + 1);
        key.push(if neg { '0' } else { '1' });
        let body = if digits.len() > width {
            "9".repeat(width)
        } else {
            format!("{digits:0>width$}")
        };
        if neg {
            key.extend(body.bytes().map(|b| char::from(b'9' - (b - b'0'))));
        } else {
            key.push_str(&body);
        }
        key
    }
}

impl std::fmt::Display for Dec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.mantissa.abs().to_string();
        let scale = self.scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale + 1 - digits.len()))
        } else {
            digits
        };
        let (int, frac) = padded.split_at(padded.len() - scale);
        if self.mantissa.is_negative() {
            f.write_str("-")?;
        }
        f.write_str(int)?;
        if scale > 0 {
            write!(f, ".{frac}")?;
        }
        Ok(())
    }
}

/// A stored DECIMAL from its text: exact, rounded half away from zero to the column's
/// scale as MySQL stores it, refused past decimal(38,10)'s range.
pub fn text_to_stored(s: &str, scale: u32) -> Result<Value, String> {
    if let Some(v) = short_decimal(s, scale) {
        return Ok(v);
    }
    let d = Dec::parse(s).ok_or_else(|| "not a decimal number".to_owned())?;
    let d = d.round(i64::from(scale), false);
    if d.integer_digits() > COLUMN_INTEGER_DIGITS {
        return Err(format!(
            "out of range for DECIMAL: at most {COLUMN_INTEGER_DIGITS} digits before the point (decimal(38,{scale}))"
        ));
    }
    Ok(d.to_value())
}

/// The stored form of `[-]digits[.digits]` with at most 15 significant digits and `scale`
/// places, found without big-number arithmetic (most uploaded values are such): the
/// double of the text, whose shortest text is then exactly that number. Written with
/// more digits, as a client writing every value at the column's scale does
/// (`12.5000000000`), the value without its trailing zeros is stored as `to_value`
/// stores it: a REAL, or an INTEGER when nothing but zeros follows the point.
fn short_decimal(s: &str, scale: u32) -> Option<Value> {
    let t = s.trim();
    let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = !int.is_empty()
        && int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        && (digits.len() == int.len() || !frac.is_empty());
    if !plain {
        return None;
    }
    let int_digits = int.trim_start_matches('0').len();
    let real = |f: f64| Value::Real(if f == 0.0 { 0.0 } else { f });
    if int_digits + frac.len() <= 15 && frac.len() <= scale as usize {
        // One form per value: no negative zero.
        return t.parse::<f64>().ok().map(real);
    }
    let kept = frac.trim_end_matches('0');
    if int_digits + kept.len() > 15 || kept.len() > scale as usize {
        return None;
    }
    if kept.is_empty() {
        let whole = int.parse::<i64>().ok()?;
        return Some(Value::Integer(if t.starts_with('-') {
            -whole
        } else {
            whole
        }));
    }
    t.parse::<f64>().ok().map(real)
}

/// Whether `bytes` are a decimal's digits as `to_value` writes them in a BLOB.
pub fn is_decimal_text(bytes: &[u8]) -> bool {
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    !digits.is_empty()
        && digits[0].is_ascii_digit()
        && digits.iter().all(|b| b.is_ascii_digit() || *b == b'.')
        && digits.iter().filter(|b| **b == b'.').count() <= 1
        && digits.last().is_some_and(u8::is_ascii_digit)
}

/// A SQL value as an exact decimal: text is read as its number (its leading number, as
/// MySQL reads `'12abc'`, when it is not one).
pub fn from_value(v: ValueRef<'_>) -> Option<Dec> {
    match v {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(Dec::from_i64(i)),
        ValueRef::Real(f) => Dec::from_f64(f),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            let s = String::from_utf8_lossy(t);
            Dec::parse(&s).or_else(|| Dec::from_f64(super::numbers::leading_number(&s)))
        }
    }
}

pub fn arg(ctx: &Context<'_>, i: usize) -> Option<Dec> {
    from_value(ctx.get_raw(i))
}

/// A value held as a number SQLite compares exactly: a double, or an integer a double
/// holds. Doubles stand for their shortest text, and that text orders as the doubles
/// do, so two of these compare as their decimals.
fn as_exact_double(v: ValueRef<'_>) -> Option<f64> {
    match v {
        ValueRef::Real(f) => Some(f),
        ValueRef::Integer(i) if i.abs() <= EXACT_DOUBLE_INTEGER => Some(i as f64),
        _ => None,
    }
}

/// How two values compare as decimals, `None` when either is NULL.
fn compare_values(a: ValueRef<'_>, b: ValueRef<'_>) -> Option<Ordering> {
    if let (Some(x), Some(y)) = (as_exact_double(a), as_exact_double(b)) {
        return x.partial_cmp(&y);
    }
    Some(from_value(a)?.compare(&from_value(b)?))
}

fn binary(
    conn: &Connection,
    name: &str,
    op: fn(&Dec, &Dec) -> Option<Dec>,
) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 2, deterministic(), move |ctx| {
        Ok(arg(ctx, 0)
            .zip(arg(ctx, 1))
            .and_then(|(a, b)| op(&a, &b))
            .map(|d| d.to_value()))
    })
}

fn unary(conn: &Connection, name: &str, op: fn(&Dec) -> Dec) -> rusqlite::Result<()> {
    conn.create_scalar_function(name, 1, deterministic(), move |ctx| {
        Ok(arg(ctx, 0).map(|d| op(&d).to_value()))
    })
}

/// A decimal small enough for `i128` arithmetic: `(mantissa, scale)`.
type Small = (i128, u32);

/// `v` as a `Small`, when its digits fit (what most values are): no allocation.
fn small_from_value(v: ValueRef<'_>) -> Option<Small> {
    match v {
        ValueRef::Integer(i) => Some((i128::from(i), 0)),
        ValueRef::Real(f) if f.is_finite() => small_parse(zmij::Buffer::new().format_finite(f)),
        ValueRef::Text(t) | ValueRef::Blob(t) => small_parse(std::str::from_utf8(t).ok()?),
        _ => None,
    }
}

/// `[-]digits[.digits][e[+-]digits]` as a `Small`, if it fits.
fn small_parse(s: &str) -> Option<Small> {
    let (number, exponent) = match s.split_once(['e', 'E']) {
        Some((n, e)) => (n, e.strip_prefix('+').unwrap_or(e).parse::<i32>().ok()?),
        None => (s, 0),
    };
    let (neg, digits) = match number.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let mut m: i128 = 0;
    for b in int.bytes().chain(frac.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        m = m.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let mut scale = i32::try_from(frac.len()).ok()? - exponent;
    while scale < 0 {
        m = m.checked_mul(10)?;
        scale += 1;
    }
    Some((if neg { -m } else { m }, u32::try_from(scale).ok()?))
}

fn small_add((a, sa): Small, (b, sb): Small) -> Option<Small> {
    let scale = sa.max(sb);
    let widen = |m: i128, s: u32| m.checked_mul(10i128.checked_pow(scale - s)?);
    Some((widen(a, sa)?.checked_add(widen(b, sb)?)?, scale))
}

fn small_to_dec((m, scale): Small) -> Dec {
    Dec {
        mantissa: BigInt::from(m),
        scale,
    }
}

/// SUM and AVG of exact values: the running sum (in `i128` while it fits), and the
/// count for AVG.
#[derive(Default)]
pub struct Running {
    small: Option<Small>,
    big: Option<Dec>,
    count: u64,
}

impl Running {
    fn step(&mut self, ctx: &Context<'_>) {
        let v = ctx.get_raw(0);
        if v == ValueRef::Null {
            return;
        }
        if self.big.is_none()
            && let Some(x) = small_from_value(v)
        {
            let sum = match self.small {
                None => Some(x),
                Some(acc) => small_add(acc, x),
            };
            if let Some(sum) = sum {
                self.small = Some(sum);
                self.count += 1;
                return;
            }
        }
        let Some(d) = from_value(v) else { return };
        let so_far = self
            .big
            .take()
            .or_else(|| self.small.take().map(small_to_dec));
        self.big = Some(match so_far {
            Some(s) => s.add(&d),
            None => d,
        });
        self.count += 1;
    }

    fn sum(self) -> Option<Dec> {
        self.big.or_else(|| self.small.map(small_to_dec))
    }
}

struct Sum;

impl Aggregate<Running, Value> for Sum {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Running> {
        Ok(Running::default())
    }
    fn step(&self, ctx: &mut Context<'_>, r: &mut Running) -> rusqlite::Result<()> {
        r.step(ctx);
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, r: Option<Running>) -> rusqlite::Result<Value> {
        Ok(r.and_then(Running::sum)
            .map_or(Value::Null, |s| s.to_value()))
    }
}

/// AVG rounded to `scale` places (the argument's scale plus `div_precision_increment`).
struct Avg {
    scale: u32,
}

impl Aggregate<Running, Value> for Avg {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Running> {
        Ok(Running::default())
    }
    fn step(&self, ctx: &mut Context<'_>, r: &mut Running) -> rusqlite::Result<()> {
        r.step(ctx);
        Ok(())
    }
    fn finalize(&self, _: &mut Context<'_>, r: Option<Running>) -> rusqlite::Result<Value> {
        let Some(r) = r else {
            return Ok(Value::Null);
        };
        let count = r.count;
        let Some(sum) = r.sum() else {
            return Ok(Value::Null);
        };
        let count = Dec {
            mantissa: BigInt::from(count),
            scale: 0,
        };
        Ok(sum
            .divide(&count, self.scale)
            .map_or(Value::Null, |d| d.to_value()))
    }
}

/// MIN or MAX of exact values.
struct Extreme {
    want: Ordering,
}

impl Aggregate<Option<Value>, Value> for Extreme {
    fn init(&self, _: &mut Context<'_>) -> rusqlite::Result<Option<Value>> {
        Ok(None)
    }
    fn step(&self, ctx: &mut Context<'_>, best: &mut Option<Value>) -> rusqlite::Result<()> {
        let v = ctx.get_raw(0);
        if v == ValueRef::Null {
            return Ok(());
        }
        let better = match best {
            None => true,
            Some(b) => compare_values(v, ValueRef::from(&*b)) == Some(self.want),
        };
        if better {
            *best = Some(super::numbers::owned(v));
        }
        Ok(())
    }
    fn finalize(
        &self,
        _: &mut Context<'_>,
        best: Option<Option<Value>>,
    ) -> rusqlite::Result<Value> {
        Ok(best
            .flatten()
            .and_then(|b| from_value(ValueRef::from(&b)))
            .map_or(Value::Null, |d| d.to_value()))
    }
}

/// The name of the AVG aggregate that rounds to `scale` places.
pub fn avg_name(scale: u8) -> String {
    format!("__dec_avg_{scale}")
}

pub fn register(conn: &Connection) -> rusqlite::Result<()> {
    let f = deterministic();
    unary(conn, "__dec", Dec::clone)?;
    unary(conn, "__dec_neg", Dec::neg)?;
    unary(conn, "__dec_abs", Dec::abs)?;
    binary(conn, "__dec_add", |a, b| Some(a.add(b)))?;
    binary(conn, "__dec_sub", |a, b| Some(a.add(&b.neg())))?;
    binary(conn, "__dec_mul", |a, b| Some(a.mul(b)))?;
    conn.create_scalar_function("__dec_cmp", 2, f, |ctx| {
        Ok(compare_values(ctx.get_raw(0), ctx.get_raw(1)).map(|o| o as i64))
    })?;
    // `<=>`: NULL-safe equality.
    conn.create_scalar_function("__dec_same", 2, f, |ctx| {
        let (a, b) = (ctx.get_raw(0), ctx.get_raw(1));
        Ok(i64::from(match (a, b) {
            (ValueRef::Null, ValueRef::Null) => true,
            _ => compare_values(a, b) == Some(Ordering::Equal),
        }))
    })?;
    // `x BETWEEN lo AND hi` as `x >= lo AND x <= hi` reads, NULLs included.
    conn.create_scalar_function("__dec_between", 3, f, |ctx| {
        let x = ctx.get_raw(0);
        let test = |bound: usize, want: Ordering| -> Option<bool> {
            Some(compare_values(x, ctx.get_raw(bound))? != want)
        };
        let low = test(1, Ordering::Less);
        let high = test(2, Ordering::Greater);
        Ok(match (low, high) {
            (Some(false), _) | (_, Some(false)) => Some(0),
            (Some(true), Some(true)) => Some(1),
            _ => None,
        })
    })?;
    conn.create_scalar_function("__dec_key", 1, f, |ctx| {
        Ok(arg(ctx, 0).map(|d| d.sort_key()))
    })?;
    conn.create_aggregate_function("__dec_sum", 1, f, Sum)?;
    conn.create_aggregate_function(
        "__dec_min",
        1,
        f,
        Extreme {
            want: Ordering::Less,
        },
    )?;
    conn.create_aggregate_function(
        "__dec_max",
        1,
        f,
        Extreme {
            want: Ordering::Greater,
        },
    )?;
    for scale in 0..=MAX_SCALE {
        conn.create_aggregate_function(
            avg_name(scale).as_str(),
            1,
            f,
            Avg {
                scale: u32::from(scale),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(s: &str) -> Dec {
        Dec::parse(s).unwrap()
    }

    #[test]
    fn reads_and_writes_every_digit() {
        let edge = "9999999999999999999999999999.9999999999";
        assert_eq!(dec(edge).to_string(), edge);
        assert_eq!(dec(edge).to_value(), Value::Blob(edge.as_bytes().to_vec()));
        assert_eq!(dec("-0.5").to_string(), "-0.5");
        assert_eq!(dec("1.5e3").to_string(), "1500");
        assert_eq!(dec("15e-1").to_string(), "1.5");
        assert!(Dec::parse("1e99999").is_none());
        assert!(Dec::parse("abc").is_none());
        assert!(Dec::parse(".").is_none());
    }

    #[test]
    fn one_form_per_value() {
        assert_eq!(dec("2.650").to_value(), Value::Real(2.65));
        assert_eq!(dec("7.000").to_value(), Value::Integer(7));
        assert_eq!(
            dec("12345678.0123456789").to_value(),
            Value::Blob(b"12345678.0123456789".to_vec())
        );
        assert_eq!(
            dec("9007199254740993").to_value(),
            Value::Blob(b"9007199254740993".to_vec())
        );
    }

    #[test]
    fn arithmetic_is_exact() {
        assert_eq!(dec("0.1").add(&dec("0.2")).to_string(), "0.3");
        assert_eq!(dec("1.10").mul(&dec("3.3")).to_string(), "3.630");
        assert_eq!(dec("7").divide(&dec("2"), 4).unwrap().to_string(), "3.5000");
        assert_eq!(dec("2").divide(&dec("3"), 4).unwrap().to_string(), "0.6667");
        assert_eq!(
            dec("-2").divide(&dec("3"), 4).unwrap().to_string(),
            "-0.6667"
        );
        assert!(dec("1").divide(&dec("0"), 4).is_none());
        assert_eq!(dec("34.5").rem(&dec("3")).unwrap().to_string(), "1.5");
        assert_eq!(dec("-7").rem(&dec("3")).unwrap().to_string(), "-1");
    }

    #[test]
    fn rounding_is_decimal_half_away_from_zero() {
        assert_eq!(dec("2.65").round(1, false).to_string(), "2.7");
        assert_eq!(dec("-2.65").round(1, false).to_string(), "-2.7");
        assert_eq!(dec("1.999").round(1, true).to_string(), "1.9");
        assert_eq!(dec("122").round(-2, true).to_string(), "100");
        assert_eq!(dec("150").round(-2, false).to_string(), "200");
    }

    #[test]
    fn sort_keys_order_as_the_values() {
        let values = [
            "-1000.5", "-2", "-1.25", "-0.0001", "0", "0.0001", "1.25", "2", "1e30",
        ];
        let keys: Vec<String> = values.iter().map(|v| dec(v).sort_key()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn stored_values_keep_to_decimal_38_10() {
        let edge = "9999999999999999999999999999.9999999999";
        assert_eq!(
            text_to_stored(edge, 10),
            Ok(Value::Blob(edge.as_bytes().to_vec()))
        );
        assert!(text_to_stored("99999999999999999999999999999", 10).is_err());
        assert!(text_to_stored("9999999999999999999999999999.99999999995", 10).is_err());
        assert_eq!(
            text_to_stored("1.00000000005", 10),
            Ok(Value::Real(1.0000000001))
        );
        assert!(text_to_stored("1e300", 10).is_err());
        assert_eq!(text_to_stored("-0012.50", 10), Ok(Value::Real(-12.5)));
        assert_eq!(text_to_stored(" 7 ", 10), Ok(Value::Real(7.0)));
        // Written at the column's scale, as uploads write every value: stored as the
        // digits without trailing zeros are by the exact path.
        for text in [
            "123456.7800000000",
            "-98765432.1000000000",
            "123456.0000000000",
            "-123456.0000000000",
            "99999999999999.9000000000",
            "1234567890123.4500000000000",
        ] {
            let exact = Dec::parse(text).unwrap().round(10, false).to_value();
            assert_eq!(text_to_stored(text, 10), Ok(exact), "{text}");
        }
        assert!(text_to_stored("7.", 10).is_ok());
        assert!(text_to_stored("", 10).is_err());
        assert!(is_decimal_text(b"-12.5"));
        assert_eq!(small_parse("-1.5e3"), Some((-1500, 0)));
        assert_eq!(small_parse("2.65"), Some((265, 2)));
        assert_eq!(small_parse("1e-7"), Some((1, 7)));
        assert_eq!(small_parse("1e40"), None);
        assert_eq!(small_add((15, 1), (25, 2)), Some((175, 2)));
        assert!(!is_decimal_text(b"12."));
        assert!(!is_decimal_text(b"1e5"));
    }
}

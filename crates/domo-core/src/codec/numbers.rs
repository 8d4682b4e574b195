//! Numbers as JSON writes them (query answers) and as CSV fields hold them (exports), read
//! once for every reader: the digits give an exact DECIMAL where they can, and the text
//! stays at hand for the other types' rules (`builders`).

use crate::types::DECIMAL_SCALE;

/// Reads the JSON number that starts at `start` in `text`: the number and the index just
/// past it.
pub(super) fn number_at(text: &str, start: usize) -> Option<(Number<'_>, usize)> {
    let bytes = text.as_bytes();
    let negative = *bytes.get(start)? == b'-';
    let mut j = start + usize::from(negative);
    // Digits of the integer and fraction parts, as one integer while it surely fits.
    let (mut digits, mut count) = (0u64, 0usize);
    let mut read_digits = |j: &mut usize| {
        let (value, len) = digits_at(bytes, *j, digits);
        digits = value;
        count += len;
        *j += len;
        len > 0
    };
    if bytes.get(j) == Some(&b'0') {
        j += 1;
    } else if !read_digits(&mut j) {
        return None;
    }
    let mut scale = 0;
    if bytes.get(j) == Some(&b'.') {
        j += 1;
        let from = j;
        if !read_digits(&mut j) {
            return None;
        }
        scale = j - from;
    }
    let mut exponent = false;
    if matches!(bytes.get(j), Some(b'e' | b'E')) {
        j += 1 + usize::from(matches!(bytes.get(j + 1), Some(b'+' | b'-')));
        let from = j;
        while bytes.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        if j == from {
            return None;
        }
        exponent = true;
    }
    // 18 digits are below 2^63; a zero keeps its sign only as a float.
    let exact = !exponent && count <= 18 && digits != 0;
    let number = Number {
        text: &text[start..j],
        unscaled: exact.then(|| {
            if negative {
                -(digits as i64)
            } else {
                digits as i64
            }
        }),
        scale,
        integer: scale == 0 && !exponent,
    };
    Some((number, j))
}

/// Reads the run of ASCII digits at `j` onto `value` (wrapping past `u64`): the new value
/// and the run's length. Eight digits at a time: numbers are most of an answer's cells.
fn digits_at(bytes: &[u8], mut j: usize, mut value: u64) -> (u64, usize) {
    const POW10: [u64; 9] = [
        1,
        10,
        100,
        1_000,
        10_000,
        100_000,
        1_000_000,
        10_000_000,
        100_000_000,
    ];
    let start = j;
    while let Some(chunk) = bytes.get(j..j + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let len = leading_digits(word);
        if len > 0 {
            value = value
                .wrapping_mul(POW10[len])
                .wrapping_add(eight_digits(word, len));
            j += len;
        }
        if len < 8 {
            return (value, j - start);
        }
    }
    while let Some(d) = bytes
        .get(j)
        .map(|b| b.wrapping_sub(b'0'))
        .filter(|d| *d < 10)
    {
        value = value.wrapping_mul(10).wrapping_add(u64::from(d));
        j += 1;
    }
    (value, j - start)
}

/// How many of the little-endian word's bytes, from the first, are ASCII digits.
fn leading_digits(word: u64) -> usize {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // A byte's value less '0' is below ten only for a digit; plus 0x76 it then stays
    // below 0x80. Its low seven bits plus 0x76 never carry into the next byte.
    let t = word ^ 0x3030_3030_3030_3030;
    let marks = (((t & LOWS) + 0x7676_7676_7676_7676) | t) & !LOWS;
    (marks.trailing_zeros() / 8) as usize
}

/// The value of the first `len` (1 to 8) bytes of `word`, all ASCII digits, the first
/// the most significant.
fn eight_digits(word: u64, len: usize) -> u64 {
    // The digits' values moved to the high bytes; the zero bytes below are leading zeros.
    // (A byte past them may borrow from those above it, never from theirs.)
    let v = (word.wrapping_sub(0x3030_3030_3030_3030) << (8 * (8 - len))) & 0x0f0f_0f0f_0f0f_0f0f;
    let v = (v.wrapping_mul(10) + (v >> 8)) & 0x00ff_00ff_00ff_00ff;
    let v = (v.wrapping_mul(100) + (v >> 16)) & 0x0000_ffff_0000_ffff;
    (v.wrapping_mul(10_000) + (v >> 32)) & 0xffff_ffff
}

/// A JSON number.
pub(super) struct Number<'a> {
    pub(super) text: &'a str,
    /// Its digits without the point, sign applied, when it has no exponent, is not zero
    /// and they fit (the value is `unscaled / 10^scale`).
    pub(super) unscaled: Option<i64>,
    /// How many digits follow the point.
    pub(super) scale: usize,
    /// Written without a fraction or exponent.
    pub(super) integer: bool,
}

impl Number<'_> {
    /// Its value as a DECIMAL (scale 10), when its digits give it exactly.
    pub(super) fn decimal(&self) -> Option<i128> {
        const POW10: [i128; DECIMAL_SCALE as usize + 1] = {
            let mut table = [1i128; DECIMAL_SCALE as usize + 1];
            let mut k = 1;
            while k < table.len() {
                table[k] = table[k - 1] * 10;
                k += 1;
            }
            table
        };
        let more = (DECIMAL_SCALE as usize).checked_sub(self.scale)?;
        Some(i128::from(self.unscaled?) * POW10[more])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_read_as_str_parse_reads_them() {
        let mut text = String::new();
        for (k, tail) in ["", ",", ".5", "e", "\"", "/", ":", "\u{7f}", "é"]
            .iter()
            .enumerate()
        {
            for len in 1..=20 {
                let digits: String = (0..len)
                    .map(|i| char::from(b'0' + ((i * 7 + k) % 10) as u8))
                    .collect();
                text.clear();
                text.push_str(&digits);
                text.push_str(tail);
                let (value, read) = digits_at(text.as_bytes(), 0, 0);
                assert_eq!(read, len, "{text}");
                if len <= 19 {
                    assert_eq!(value, digits.parse::<u64>().unwrap(), "{text}");
                }
            }
        }
        assert_eq!(digits_at(b"x123", 0, 7), (7, 0));
        assert_eq!(digits_at(b"12345678912", 0, 0), (12_345_678_912, 11));
    }
}

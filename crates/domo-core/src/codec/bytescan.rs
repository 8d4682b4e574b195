//! The first byte of a small set, eight bytes at a time. Fields and strings in answers
//! and exports are short: memchr's cost per call was more than the search itself.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Marks the bytes of `x` below `n` (`n` <= 128) in their high bit. No byte is marked
/// when none is below `n`, and a false mark can only sit above a true one, so the lowest
/// mark is exact.
pub(super) fn below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// Marks the bytes of `x` equal to `b`, as `below` marks.
pub(super) fn equal(x: u64, b: u8) -> u64 {
    below(x ^ (ONES * u64::from(b)), 1)
}

/// Marks exactly the bytes of `x` equal to `b` (in their high bit), for counting.
pub(super) fn every_equal(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * u64::from(b));
    // A byte's low seven bits plus 0x7f carry into its high bit unless they are zero, and
    // never into the next byte.
    !(((y & !HIGHS) + !HIGHS) | y) & HIGHS
}

/// The index of the first byte at or after `from` for which `is_stop` holds; if there is
/// none, `bytes.len()` (or `from`, past it). `marks` marks the same bytes in a
/// little-endian word, as `below` does.
pub(super) fn find(
    bytes: &[u8],
    mut from: usize,
    marks: impl Fn(u64) -> u64,
    is_stop: impl Fn(u8) -> bool,
) -> usize {
    while let Some(chunk) = bytes.get(from..from + 8) {
        let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
        let hits = marks(word);
        if hits != 0 {
            return from + (hits.trailing_zeros() / 8) as usize;
        }
        from += 8;
    }
    while bytes.get(from).is_some_and(|&b| !is_stop(b)) {
        from += 1;
    }
    from
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_equal_byte_is_marked() {
        for (place, byte) in (0..8).flat_map(|p| (0..=255u8).map(move |b| (p, b))) {
            for fill in [b'"', b'x', 0x00, 0xff] {
                let mut bytes = [fill; 8];
                bytes[place] = byte;
                let marks = every_equal(u64::from_le_bytes(bytes), b'"');
                let expected = bytes
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'"')
                    .fold(0, |m, (i, _)| m | 0x80 << (8 * i));
                assert_eq!(marks, expected, "{bytes:?}");
            }
        }
    }
}

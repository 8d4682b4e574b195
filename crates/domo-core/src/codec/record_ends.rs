//! Where CSV records end, found as the bytes arrive, so CSV can be cut between records
//! (upload parts, export segments decoded side by side).

/// Where the scan is within a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// At the start of a field: a quote here opens a quoted field.
    #[default]
    FieldStart,
    /// Inside an unquoted field: a quote here is data.
    Unquoted,
    /// Inside a quoted field.
    Quoted,
    /// Just after a quote inside a quoted field: a second quote is a literal quote,
    /// anything else closes the field.
    QuoteInQuoted,
}

/// Finds record ends as a CSV reader (csv-core, which arrow-csv uses) sees them: a line
/// feed outside quoted fields, where a quote opens a quoted field only at a field's start
/// and a doubled quote inside one stands for a quote.
#[derive(Debug, Default)]
pub(crate) struct RecordEnds {
    state: State,
}

impl RecordEnds {
    /// Whether the bytes scanned so far end inside a quoted field (a quote not closed).
    pub(crate) fn in_quotes(&self) -> bool {
        self.state == State::Quoted
    }

    /// Scans `bytes`, which follow everything scanned before; returns the length of the
    /// prefix that ends the first record ending in them, or `None` (all of `bytes` then
    /// belongs to an unfinished record).
    pub(crate) fn next_end(&mut self, bytes: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < bytes.len() {
            match self.state {
                State::Quoted => {
                    // Only a quote can end the field: jump to it.
                    i += memchr::memchr(b'"', &bytes[i..])? + 1;
                    self.state = State::QuoteInQuoted;
                }
                State::QuoteInQuoted => {
                    self.state = match bytes[i] {
                        b'"' => State::Quoted,
                        b',' => State::FieldStart,
                        b'\n' => {
                            self.state = State::FieldStart;
                            return Some(i + 1);
                        }
                        _ => State::Unquoted,
                    };
                    i += 1;
                }
                State::FieldStart | State::Unquoted => {
                    // Commas matter only before a quote (which opens a quoted field only
                    // at a field's start), so the search stops at line feeds and quotes.
                    let Some(j) = memchr::memchr2(b'\n', b'"', &bytes[i..]) else {
                        if bytes.len() > i {
                            self.state = match bytes[bytes.len() - 1] {
                                b',' => State::FieldStart,
                                _ => State::Unquoted,
                            };
                        }
                        return None;
                    };
                    let at = i + j;
                    if bytes[at] == b'\n' {
                        self.state = State::FieldStart;
                        return Some(at + 1);
                    }
                    let field_start = match at.checked_sub(1) {
                        Some(before) if before >= i => bytes[before] == b',',
                        _ => self.state == State::FieldStart,
                    };
                    self.state = if field_start {
                        State::Quoted
                    } else {
                        State::Unquoted
                    };
                    i = at + 1;
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Record ends found feeding `csv` in pieces of `step` bytes.
    fn ends(csv: &[u8], step: usize) -> Vec<usize> {
        let mut finder = RecordEnds::default();
        let mut found = Vec::new();
        for (k, piece) in csv.chunks(step).enumerate() {
            let mut pos = 0;
            while let Some(len) = finder.next_end(&piece[pos..]) {
                pos += len;
                found.push(k * step + pos);
            }
        }
        found
    }

    #[test]
    fn record_ends_follow_quoting_rules() {
        let csv = b"a,\"x\ny\"\n\"say \"\"hi\"\"\",2\n5'11\",\"q\nr\"\r\nlast,\"\"\n\"z\"tail,1\n";
        let want = vec![8, 23, 36, 44, 54];
        for step in [1, 2, 3, 7, csv.len()] {
            assert_eq!(ends(csv, step), want, "{step}");
        }
        assert_eq!(ends(b"no end", 2), Vec::<usize>::new());
    }
}

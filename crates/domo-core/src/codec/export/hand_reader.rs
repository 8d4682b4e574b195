//! Export segments read by hand: the hot path of export decoding.
//!
//! arrow-csv copies every field into a record buffer, then parses each column through
//! generic parsers and a null regex; that was most of an export's client time. This
//! reader walks the segment once and hands each field straight to its column's builder.
//!
//! It reads the CSV Domo writes (RFC 4180 quoting, `\N` for null, LF or CRLF line ends)
//! and decides no error: on anything it does not expect, or a value its column does not
//! take, it gives up (`None`) and arrow-csv decodes the segment, whose message says what
//! is wrong. Whatever it accepts, arrow-csv reads the same, but for one thing: a quoted
//! `"\N"` in a STRING column is that string here, while arrow-csv's null pattern sees
//! fields unquoted (`quoted_markers` finds them for the segments arrow-csv reads).

use std::borrow::Cow;

use arrow_array::types::Decimal128Type;
use arrow_array::{Array, RecordBatch};
use arrow_schema::SchemaRef;

use crate::codec::builders::ColumnBuilder;
use crate::codec::bytescan;
use crate::codec::numbers::{Number, number_at};
use crate::codec::temporal::{parse_date, parse_datetime};
use crate::types::{DECIMAL_PRECISION, DECIMAL_SCALE, DomoType};

/// Reads `segment` (whole records; the header row first if `header`) into batches of at
/// most `batch_size` rows of `schema`, whose columns have `types`; `None` if arrow-csv has
/// to read it.
#[cfg(test)]
pub(crate) fn read_segment(
    segment: &[u8],
    types: &[DomoType],
    schema: &SchemaRef,
    header: bool,
    batch_size: usize,
) -> Option<Vec<RecordBatch>> {
    read_segment_with(segment, types, schema, header, batch_size, false)
}

/// [`read_segment`], reading an unquoted empty field as null when `empty_null` (the
/// public API's export writes null so, and an empty string as `""`).
pub(crate) fn read_segment_with(
    segment: &[u8],
    types: &[DomoType],
    schema: &SchemaRef,
    header: bool,
    batch_size: usize,
    empty_null: bool,
) -> Option<Vec<RecordBatch>> {
    let text = simdutf8::basic::from_utf8(segment).ok()?;
    if types.is_empty() {
        return None;
    }
    let mut reader = Reader { text, i: 0 };
    if header {
        reader.skip_header(types.len())?;
    }
    // Room for every record at once (line breaks inside strings only add a little):
    // growing each column by doubling cost a copy and fresh pages every time.
    let rows = (memchr::memchr_iter(b'\n', segment).count() + 1).min(batch_size);
    let new_builders = || {
        types
            .iter()
            .map(|t| ColumnBuilder::with_capacity(*t, rows))
            .collect()
    };
    let mut builders: Vec<ColumnBuilder> = new_builders();
    let mut batches = Vec::new();
    let mut rows = 0;
    while reader.i < text.len() {
        // (How CSV readers take an empty line varies: left to arrow-csv.)
        if matches!(text.as_bytes()[reader.i], b'\n' | b'\r') {
            return None;
        }
        for (col, builder) in builders.iter_mut().enumerate() {
            if empty_null && reader.at_field_end() {
                builder.push_null();
                reader.end_field(col + 1 == types.len())?;
                continue;
            }
            let quoted = text.as_bytes().get(reader.i) == Some(&b'"');
            push_field(builder, &reader.field()?, quoted)?;
            reader.end_field(col + 1 == types.len())?;
        }
        rows += 1;
        if rows == batch_size {
            batches.push(finish(schema, &mut builders)?);
            rows = 0;
        }
    }
    if rows > 0 {
        batches.push(finish(schema, &mut builders)?);
    }
    Some(batches)
}

/// The fields of `segment`'s first record (a header row), unquoted; `None` if it is not
/// a well-formed record of UTF-8 text.
pub(crate) fn header_fields(segment: &[u8]) -> Option<Vec<String>> {
    let mut ends = crate::codec::record_ends::RecordEnds::default();
    let end = ends.next_end(segment).unwrap_or(segment.len());
    let text = std::str::from_utf8(&segment[..end]).ok()?;
    let mut reader = Reader { text, i: 0 };
    let mut fields = Vec::new();
    loop {
        fields.push(reader.field()?.into_owned());
        match text.as_bytes().get(reader.i) {
            Some(b',') => reader.i += 1,
            Some(b'\n') | None => return Some(fields),
            Some(b'\r') if text.as_bytes().get(reader.i + 1) == Some(&b'\n') => {
                return Some(fields);
            }
            _ => return None,
        }
    }
}

/// Where `segment` (whole records; the header row first if `header`) holds a quoted
/// `"\N"` in a STRING column, as (record, column), records counted from 0 after the
/// header; `None` if the records cannot be split into `types.len()` fields here.
pub(crate) fn quoted_markers(
    segment: &[u8],
    types: &[DomoType],
    header: bool,
) -> Option<Vec<(usize, usize)>> {
    let text = std::str::from_utf8(segment).ok()?;
    if types.is_empty() || memchr::memmem::find(segment, b"\"\\N\"").is_none() {
        return Some(Vec::new());
    }
    let mut reader = Reader { text, i: 0 };
    if header {
        reader.skip_header(types.len())?;
    }
    let mut found = Vec::new();
    let mut record = 0;
    while reader.i < text.len() {
        if matches!(text.as_bytes()[reader.i], b'\n' | b'\r') {
            return None;
        }
        for (col, domo_type) in types.iter().enumerate() {
            let quoted = text.as_bytes().get(reader.i) == Some(&b'"');
            let field = reader.field()?;
            if quoted && field == "\\N" && *domo_type == DomoType::String {
                found.push((record, col));
            }
            reader.end_field(col + 1 == types.len())?;
        }
        record += 1;
    }
    Some(found)
}

/// `batches` (consecutive records) with the cells at `markers` (as `quoted_markers`
/// gives them, all in STRING columns) set to the string `\N`.
pub(crate) fn restore_markers(
    batches: Vec<RecordBatch>,
    markers: &[(usize, usize)],
) -> std::result::Result<Vec<RecordBatch>, arrow_schema::ArrowError> {
    use arrow_array::cast::AsArray;
    use arrow_array::{ArrayRef, StringViewArray};
    if markers.is_empty() {
        return Ok(batches);
    }
    let mut first = 0;
    batches
        .into_iter()
        .map(|batch| {
            let rows = first..first + batch.num_rows();
            first = rows.end;
            let here: Vec<_> = markers.iter().filter(|(r, _)| rows.contains(r)).collect();
            if here.is_empty() {
                return Ok(batch);
            }
            let mut columns = batch.columns().to_vec();
            for (col, column) in columns.iter_mut().enumerate() {
                let cells: Vec<usize> = here
                    .iter()
                    .filter(|(_, c)| *c == col)
                    .map(|(r, _)| r - rows.start)
                    .collect();
                if cells.is_empty() {
                    continue;
                }
                let strings = column.as_string_view();
                let fixed: StringViewArray = (0..strings.len())
                    .map(|i| {
                        if cells.contains(&i) {
                            Some("\\N")
                        } else {
                            strings.is_valid(i).then(|| strings.value(i))
                        }
                    })
                    .collect();
                *column = std::sync::Arc::new(fixed) as ArrayRef;
            }
            RecordBatch::try_new(batch.schema(), columns)
        })
        .collect()
}

fn finish(schema: &SchemaRef, builders: &mut [ColumnBuilder]) -> Option<RecordBatch> {
    let arrays = builders.iter_mut().map(ColumnBuilder::finish).collect();
    RecordBatch::try_new(schema.clone(), arrays).ok()
}

/// Appends a field (`quoted` if it was written in quotes) to its column, or `None`.
///
/// The null marker is `\N` unquoted; quoted, `"\N"` is that two-character string, as a
/// query answer and our own CSV writer have it (in a column of another type it can only
/// be a null).
fn push_field(builder: &mut ColumnBuilder, field: &str, quoted: bool) -> Option<()> {
    if field == "\\N" && !(quoted && matches!(builder, ColumnBuilder::Utf8(_))) {
        builder.push_null();
        return Some(());
    }
    match builder {
        ColumnBuilder::Utf8(b) => b.append_value(field),
        ColumnBuilder::Int64(b) => {
            let n = number(field).filter(|n| n.integer)?;
            // (`unscaled` leaves out zero and 19 digits.)
            b.append_value(n.unscaled.or_else(|| field.parse().ok())?);
        }
        // What the emulator writes for them (and arrow-csv reads).
        ColumnBuilder::Float64(b) if matches!(field, "NaN" | "inf" | "-inf") => {
            b.append_value(field.parse().ok()?);
        }
        ColumnBuilder::Float64(_) => return builder.push_number(&number(field)?).ok(),
        ColumnBuilder::Decimal(b) => {
            b.append_value(number(field).and_then(|n| n.decimal()).or_else(|| {
                arrow_cast::parse::parse_decimal::<Decimal128Type>(
                    field,
                    DECIMAL_PRECISION,
                    DECIMAL_SCALE,
                )
                .ok()
            })?)
        }
        ColumnBuilder::Date(b) => b.append_value(parse_date(field)?),
        ColumnBuilder::Datetime(b) => {
            // The forms arrow-csv reads to the same instant: no offset, no more than
            // microseconds, no leap second.
            let bytes = field.as_bytes();
            let plain = (bytes.len() == 19
                || (21..=26).contains(&bytes.len())
                    && bytes[19] == b'.'
                    && bytes[20..].iter().all(u8::is_ascii_digit))
                && &bytes[17..19] != b"60";
            plain.then_some(())?;
            b.append_value(parse_datetime(field)?);
        }
        ColumnBuilder::Boolean(b) => b.append_value(match field {
            "true" => true,
            "false" => false,
            _ => return None,
        }),
    }
    Some(())
}

/// The field read as a JSON number (Domo's numbers are written as JSON writes them), if
/// it is one.
fn number(field: &str) -> Option<Number<'_>> {
    let (number, end) = number_at(field, 0)?;
    (end == field.len()).then_some(number)
}

struct Reader<'a> {
    text: &'a str,
    i: usize,
}

impl<'a> Reader<'a> {
    /// The field at the cursor, unquoted; the cursor is left on what follows it.
    fn field(&mut self) -> Option<Cow<'a, str>> {
        let bytes = self.text.as_bytes();
        if bytes.get(self.i) != Some(&b'"') {
            let start = self.i;
            self.i = bytescan::find(
                bytes,
                start,
                |x| {
                    bytescan::equal(x, b',') | bytescan::equal(x, b'\n') | bytescan::equal(x, b'\r')
                },
                |b| matches!(b, b',' | b'\n' | b'\r'),
            );
            return Some(Cow::Borrowed(&self.text[start..self.i]));
        }
        let start = self.i + 1;
        let mut j = start;
        let mut unescaped: Option<String> = None;
        loop {
            // (Fields are short: a word at a time beats memchr's cost per call.)
            let quote = bytescan::find(bytes, j, |x| bytescan::equal(x, b'"'), |b| b == b'"');
            bytes.get(quote)?;
            if bytes.get(quote + 1) == Some(&b'"') {
                // A doubled quote stands for one.
                unescaped
                    .get_or_insert_with(String::new)
                    .push_str(&self.text[j..=quote]);
                j = quote + 2;
                continue;
            }
            self.i = quote + 1;
            let last = &self.text[j..quote];
            return Some(match unescaped {
                Some(mut s) => {
                    s.push_str(last);
                    Cow::Owned(s)
                }
                None => Cow::Borrowed(&self.text[start..quote]),
            });
        }
    }

    /// Whether the field at the cursor is empty and unquoted.
    fn at_field_end(&self) -> bool {
        matches!(
            self.text.as_bytes().get(self.i),
            None | Some(b',' | b'\n' | b'\r')
        )
    }

    /// Steps over the separator after a field: a comma, or the record's end after its
    /// `last` field.
    fn end_field(&mut self, last: bool) -> Option<()> {
        let bytes = self.text.as_bytes();
        match (bytes.get(self.i), last) {
            (Some(b','), false) => self.i += 1,
            (Some(b'\n'), true) => self.i += 1,
            (Some(b'\r'), true) if bytes.get(self.i + 1) == Some(&b'\n') => self.i += 2,
            (None, true) => {}
            _ => return None,
        }
        Some(())
    }

    /// Steps over the header row, which must name `columns` columns (arrow-csv counts
    /// them too; an empty line before it, which arrow-csv would skip, is left to arrow-csv).
    fn skip_header(&mut self, columns: usize) -> Option<()> {
        if matches!(self.text.as_bytes().first(), Some(b'\n' | b'\r')) {
            return None;
        }
        for col in 0..columns {
            self.field()?;
            self.end_field(col + 1 == columns)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Column, arrow_schema};

    fn columns(types: &[DomoType]) -> (Vec<DomoType>, SchemaRef) {
        let cols: Vec<Column> = types
            .iter()
            .enumerate()
            .map(|(i, t)| Column {
                name: format!("c{i}"),
                domo_type: *t,
            })
            .collect();
        (types.to_vec(), arrow_schema(&cols))
    }

    fn arrow_csv(
        csv: &str,
        schema: &SchemaRef,
        header: bool,
        batch_size: usize,
    ) -> Vec<RecordBatch> {
        let mut decoder = arrow_csv::ReaderBuilder::new(schema.clone())
            .with_header(header)
            .with_batch_size(batch_size)
            .with_null_regex(regex::Regex::new(r"^\\N$").unwrap())
            .build_decoder();
        let mut rest = csv.as_bytes();
        let mut batches = Vec::new();
        while !rest.is_empty() {
            let used = decoder.decode(rest).unwrap();
            rest = &rest[used..];
            if decoder.capacity() == 0 {
                batches.extend(decoder.flush().unwrap());
            }
        }
        decoder.decode(&[]).unwrap();
        batches.extend(decoder.flush().unwrap());
        batches
    }

    #[test]
    fn reads_what_arrow_csv_reads() {
        use DomoType::*;
        let (types, schema) = columns(&[String, Long, Double, Decimal, Date, Datetime, Boolean]);
        let csv = "s,l,d,m,dt,ts,b\n\
            plain,1,1.5,12.25,2024-01-02,2019-03-19T18:49:02,true\n\
            \\N,\\N,\\N,\\N,\\N,\\N,\\N\n\
            \"say \"\"hi\"\", twice\",-9223372036854775808,-2.5e-3,-0.0000000001,1969-12-31,1969-12-31 23:59:59.5,false\r\n\
            \"two\nlines\",0,0,78408691.0,2000-02-29,2019-03-19T18:49:02.123456,true\n\
            ,42,1e300,-3,1970-01-01,2019-03-19T18:49:02.1,false\n\
            \"\",7,-0.0,123456789012345678.0123456789,9999-12-31,2262-04-11T23:47:16,true";
        for batch_size in [1, 2, 100] {
            let ours = read_segment(csv.as_bytes(), &types, &schema, true, batch_size).unwrap();
            assert_eq!(
                ours,
                arrow_csv(csv, &schema, true, batch_size),
                "{batch_size}"
            );
        }
        // Headerless segments, with and without a final line end.
        let rest = "x,1,2,3,2024-01-02,2019-03-19T18:49:02,true\n";
        let ours = read_segment(rest.as_bytes(), &types, &schema, false, 10).unwrap();
        assert_eq!(ours, arrow_csv(rest, &schema, false, 10));
        let ours = read_segment(rest.trim_end().as_bytes(), &types, &schema, false, 10).unwrap();
        assert_eq!(ours, arrow_csv(rest, &schema, false, 10));
        // What the emulator writes for floats that are not finite.
        let (types, schema) = columns(&[String, Double]);
        let csv = "\\N,NaN\n\\N,inf\nx,-inf\n";
        let ours = read_segment(csv.as_bytes(), &types, &schema, false, 10).unwrap();
        assert_eq!(ours, arrow_csv(csv, &schema, false, 10));
    }

    #[test]
    fn a_quoted_null_marker_is_a_string_in_both_readers() {
        use DomoType::*;
        let (types, schema) = columns(&[String, String, Long]);
        let csv = "a,b,n\n\"\\N\",\\N,\"\\N\"\nx,\"\\N\",1\n\\N,y,\\N\n";
        let strings = |batches: &[RecordBatch], col: usize| -> Vec<Option<std::string::String>> {
            batches
                .iter()
                .flat_map(|b| {
                    let a = b
                        .column(col)
                        .as_any()
                        .downcast_ref::<arrow_array::StringViewArray>()
                        .unwrap();
                    (0..a.len())
                        .map(|i| a.is_valid(i).then(|| a.value(i).to_string()))
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let marker = Some("\\N".to_string());
        let want_a = vec![marker.clone(), Some("x".into()), None];
        let want_b = vec![None, marker, Some("y".into())];
        for batch_size in [1, 2, 10] {
            let ours = read_segment(csv.as_bytes(), &types, &schema, true, batch_size).unwrap();
            assert_eq!(strings(&ours, 0), want_a);
            assert_eq!(strings(&ours, 1), want_b);
            // The LONG column's quoted marker can only be a null.
            assert_eq!(
                ours.iter().map(|b| b.column(2).null_count()).sum::<usize>(),
                2
            );
            let markers = quoted_markers(csv.as_bytes(), &types, true).unwrap();
            assert_eq!(markers, vec![(0, 0), (1, 1)]);
            let theirs = restore_markers(arrow_csv(csv, &schema, true, batch_size), &markers);
            assert_eq!(theirs.unwrap(), ours, "{batch_size}");
        }
    }

    #[test]
    fn header_fields_are_unquoted() {
        let fields = |csv: &str| header_fields(csv.as_bytes());
        let names = |v: &[&str]| Some(v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(fields("a,b\n1,2\n"), names(&["a", "b"]));
        assert_eq!(fields("a,\"b, \"\"c\"\"\"\r\n1"), names(&["a", "b, \"c\""]));
        assert_eq!(fields("\"two\nlines\",x"), names(&["two\nlines", "x"]));
        assert_eq!(fields(""), names(&[""]));
        assert_eq!(fields("\"open,quote\n1,2\n"), None);
        assert_eq!(fields("\"a\"b,c\n"), None);
        assert_eq!(fields("a\rb\n"), None);
        assert_eq!(header_fields(b"\xff,a\n"), None);
    }

    #[test]
    fn leaves_anything_unusual_to_arrow_csv() {
        use DomoType::*;
        let (types, schema) = columns(&[Long, Double, Decimal, Date, Datetime, Boolean]);
        let good = ["1", "2.5", "3", "2024-01-02", "2019-03-19T18:49:02", "true"];
        assert!(read_segment(good.join(",").as_bytes(), &types, &schema, false, 10).is_some());
        for (col, bad) in [
            (0, "1.0"),
            (0, "+1"),
            (0, ""),
            (0, "99999999999999999999"),
            (1, "nan"),
            (1, "1e400"),
            (1, "1."),
            (1, ""),
            (2, "1e400"),
            (2, ""),
            (3, "2024-1-2"),
            (3, "2024-02-30"),
            (4, "2019-03-19T18:49:02Z"),
            (4, "2019-03-19T18:49:02.1234567"),
            (4, "2019-03-19"),
            (4, "2016-12-31T23:59:60"),
            (5, "True"),
            (5, "1"),
        ] {
            let mut row = good;
            row[col] = bad;
            let csv = row.join(",");
            assert!(
                read_segment(csv.as_bytes(), &types, &schema, false, 10).is_none(),
                "{csv}"
            );
        }
        let row = good.join(",");
        for header in ["a,b\n", "\na,b,c,d,e,f\n"] {
            let csv = format!("{header}{row}");
            assert!(
                read_segment(csv.as_bytes(), &types, &schema, true, 10).is_none(),
                "{csv}"
            );
        }
        let csv = format!("a,b,c,d,e,f\n{row}");
        assert!(read_segment(csv.as_bytes(), &types, &schema, true, 10).is_some());
        let (none, empty) = columns(&[]);
        assert!(read_segment(b"\n\n", &none, &empty, false, 10).is_none());
        for csv in [
            "1,2.5,3,2024-01-02,2019-03-19T18:49:02",
            "1,2.5,3,2024-01-02,2019-03-19T18:49:02,true,x",
            "\"1\"x,2.5,3,2024-01-02,2019-03-19T18:49:02,true",
            "1,2.5,3,2024-01-02,2019-03-19T18:49:02,true\r",
            "\"1,2.5,3,2024-01-02,2019-03-19T18:49:02,true",
        ] {
            assert!(
                read_segment(csv.as_bytes(), &types, &schema, false, 10).is_none(),
                "{csv}"
            );
        }
    }
}

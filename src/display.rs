//! How results look in a terminal and a notebook: column types in Domo's words (LONG,
//! STRING, ...), counts in plain English, HTML tables for `_repr_html_`.

use arrow_array::RecordBatch;
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{DataType, Schema};
use domo_core::DomoType;

/// How many rows a notebook shows of a table.
pub const HTML_ROWS: usize = 10;

/// A column's type as Domo names it; Arrow's name for a type Domo has no word for.
pub fn type_word(data_type: &DataType) -> String {
    match DomoType::from_arrow(data_type) {
        Some(domo_type) => domo_type.name().to_string(),
        None => data_type.to_string(),
    }
}

/// "1 row", "2 rows".
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

pub fn column_names(schema: &Schema) -> Vec<String> {
    schema.fields().iter().map(|f| f.name().clone()).collect()
}

/// `name: TYPE, ...`, for a plain repr.
pub fn columns_text(schema: &Schema) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), type_word(f.data_type())))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// The header row: each column's name over its Domo type.
fn header_html(schema: &Schema) -> String {
    let cells: String = schema
        .fields()
        .iter()
        .map(|f| {
            format!(
                "<th>{}<br><small>{}</small></th>",
                escape(f.name()),
                escape(&type_word(f.data_type()))
            )
        })
        .collect();
    format!("<thead><tr>{cells}</tr></thead>")
}

/// The first `limit` rows of `batches`, one `<tr>` each; nulls shown as `null`.
fn rows_html(batches: &[RecordBatch], limit: usize) -> String {
    let options = FormatOptions::default().with_null("null");
    let mut out = String::new();
    let mut left = limit;
    for batch in batches {
        if left == 0 {
            break;
        }
        let formatters: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
            .collect();
        for row in 0..batch.num_rows().min(left) {
            out.push_str("<tr>");
            for formatter in &formatters {
                let text = match formatter {
                    Ok(f) => f.value(row).to_string(),
                    Err(_) => "?".to_string(),
                };
                out.push_str(&format!("<td>{}</td>", escape(&text)));
            }
            out.push_str("</tr>");
        }
        left -= batch.num_rows().min(left);
    }
    format!("<tbody>{out}</tbody>")
}

/// A notebook's view of a table: a caption with its size, the schema, the first rows.
pub fn table_html(title: &str, schema: &Schema, batches: &[RecordBatch]) -> String {
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let shown = rows.min(HTML_ROWS);
    let more = if shown < rows {
        format!("; the first {shown} shown")
    } else {
        String::new()
    };
    format!(
        "<div><table><caption>{} ({}, {}{more})</caption>{}{}</table></div>",
        escape(title),
        count(rows, "row"),
        count(schema.fields().len(), "column"),
        header_html(schema),
        rows_html(batches, HTML_ROWS),
    )
}

/// A notebook's view of a stream of batches: its state and schema, no rows.
pub fn stream_html(title: &str, state: &str, schema: &Schema) -> String {
    format!(
        "<div><table><caption>{} ({}, {})</caption>{}</table></div>",
        escape(title),
        escape(state),
        count(schema.fields().len(), "column"),
        header_html(schema),
    )
}

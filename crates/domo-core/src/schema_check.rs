//! Checking upload data against the dataset's columns before anything is sent.
//!
//! Domo takes CSV without a header, so a source whose columns are in another order, or of
//! a type the column cannot hold, would land silently in the wrong place or fail half-way.
//! Both are caught here, with every difference listed at once.

use std::sync::Arc;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::types::{Column, DomoType};
use crate::value_rules;

/// Whether values of Arrow type `source` can be written into a column of type `target`.
fn compatible(source: &DataType, target: DomoType) -> bool {
    use DomoType::*;
    if matches!(source, DataType::Null) {
        return true;
    }
    let Some(from) = DomoType::from_arrow(source) else {
        return false;
    };
    from == target
        || matches!(
            (from, target),
            (Long | Double | Decimal | Date | Datetime | Boolean, String)
                | (Long, Double | Decimal)
                | (Double | Decimal, Double | Decimal)
                | (Date, Datetime)
                // A frame holds dates as timestamps; each must be at midnight
                // (`value_rules` checks the values as they are read).
                | (Datetime, Date)
        )
}

/// Checks `schema` against the dataset's `columns` and returns, for each dataset column,
/// the index of the source column that fills it.
pub fn plan(schema: &Schema, columns: &[Column], by_name: bool) -> Result<Vec<usize>> {
    let mut problems = Vec::new();
    let mut order = Vec::with_capacity(columns.len());
    if by_name {
        for column in columns {
            match schema.index_of(&column.name) {
                Ok(i) => order.push(i),
                Err(_) => {
                    problems.push(format!("column {:?} is missing from the data", column.name))
                }
            }
        }
        for field in schema.fields() {
            if !columns.iter().any(|c| &c.name == field.name()) {
                problems.push(format!(
                    "the data has column {:?}, which the dataset does not",
                    field.name()
                ));
            }
        }
    } else {
        let fields = schema.fields();
        if fields.len() != columns.len() {
            problems.push(format!(
                "the data has {} columns, the dataset {}",
                fields.len(),
                columns.len()
            ));
        }
        for (i, column) in columns.iter().enumerate().skip(fields.len()) {
            problems.push(format!(
                "dataset column {i} {:?} ({}) is missing from the data",
                column.name, column.domo_type
            ));
        }
        for (i, field) in fields.iter().enumerate().skip(columns.len()) {
            problems.push(format!(
                "data column {i} {:?} ({}) is extra: the dataset has no column {i}",
                field.name(),
                field.data_type()
            ));
        }
        for (i, (field, column)) in fields.iter().zip(columns).enumerate() {
            if field.name() != &column.name {
                problems.push(format!(
                    "column {i} is {:?} in the data but {:?} in the dataset",
                    field.name(),
                    column.name
                ));
            }
            order.push(i);
        }
    }
    for (&i, column) in order.iter().zip(columns) {
        let field = schema.field(i);
        if !compatible(field.data_type(), column.domo_type) {
            problems.push(format!(
                "data column {:?} ({}) cannot go into dataset column {:?} ({}); cast it first",
                field.name(),
                field.data_type(),
                column.name,
                column.domo_type
            ));
        }
    }
    if problems.is_empty() {
        return Ok(order);
    }
    let hint = if !by_name && same_names_in_another_order(schema, columns) {
        " (pass match_by_name=True to match columns by name instead of position)"
    } else {
        ""
    };
    Err(Error::invalid(format!(
        "the data does not fit the dataset's schema{hint}:\n  - {}",
        problems.join("\n  - ")
    )))
}

/// Whether the data names exactly the dataset's columns, in another order: the one case
/// where matching by name is the fix.
fn same_names_in_another_order(schema: &Schema, columns: &[Column]) -> bool {
    let mut data: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let mut dataset: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    if data == dataset {
        return false;
    }
    data.sort_unstable();
    dataset.sort_unstable();
    data == dataset
}

/// A reader that hands out the source's columns in the dataset's order, with the values
/// each column takes (see `value_rules`).
pub struct Reordered {
    inner: Box<dyn RecordBatchReader + Send>,
    order: Vec<usize>,
    targets: Vec<DomoType>,
    schema: SchemaRef,
    rows_read: u64,
}

impl Reordered {
    /// `order` as `plan` returns it for `columns`.
    pub fn new(
        inner: Box<dyn RecordBatchReader + Send>,
        order: Vec<usize>,
        columns: &[Column],
    ) -> Result<Reordered> {
        let projected = inner.schema().project(&order)?;
        let targets: Vec<DomoType> = columns.iter().map(|c| c.domo_type).collect();
        let fields: Vec<_> = projected
            .fields()
            .iter()
            .zip(&targets)
            .map(|(field, target)| value_rules::written_field(field, *target))
            .collect();
        Ok(Reordered {
            inner,
            order,
            targets,
            schema: Arc::new(Schema::new(fields)),
            rows_read: 0,
        })
    }

    fn conform(&mut self, batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
        let batch = batch.project(&self.order)?;
        let columns = batch
            .columns()
            .iter()
            .zip(self.schema.fields())
            .zip(&self.targets)
            .map(|((array, field), target)| {
                value_rules::conform(array, field.name(), *target, self.rows_read)
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.rows_read += batch.num_rows() as u64;
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}

impl Iterator for Reordered {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = self.inner.next()?;
        Some(batch.and_then(|batch| self.conform(batch)))
    }
}

impl RecordBatchReader for Reordered {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// `batch` with the columns of `schema`: same names in the same order, types cast where
/// they differ (one producer's `Utf8View` is another's `Utf8`).
pub fn cast_batch(batch: RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    if batch.schema().fields() == schema.fields() {
        return Ok(batch);
    }
    let names = |s: &Schema| {
        s.fields()
            .iter()
            .map(|f| f.name().clone())
            .collect::<Vec<_>>()
    };
    if names(&batch.schema()) != names(schema) {
        return Err(ArrowError::SchemaError(format!(
            "columns {:?} differ from the first batch's {:?}",
            names(&batch.schema()),
            names(schema)
        )));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| arrow_cast::cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new(schema.clone(), columns)
}

/// The column names in a CSV file's header line.
pub fn csv_header(path: &std::path::Path) -> Result<Vec<String>> {
    use std::io::BufRead;
    let io = |e| Error::Io {
        context: format!("cannot read {}", path.display()),
        source: e,
    };
    let mut line = String::new();
    std::io::BufReader::new(std::fs::File::open(path).map_err(io)?)
        .read_line(&mut line)
        .map_err(io)?;
    let line = line
        .trim_end_matches(['\n', '\r'])
        .trim_start_matches('\u{feff}');
    if line.is_empty() {
        return Err(Error::invalid(format!(
            "{} has no header line",
            path.display()
        )));
    }
    // Header names rarely need quotes; handle the simple quoted form.
    Ok(line
        .split(',')
        .map(|name| {
            let name = name.trim();
            name.strip_prefix('"')
                .and_then(|n| n.strip_suffix('"'))
                .map(|n| n.replace("\"\"", "\""))
                .unwrap_or_else(|| name.to_string())
        })
        .collect())
}

/// Checks a CSV file's header against the dataset's columns (names and order).
pub fn check_csv_header(names: &[String], columns: &[Column]) -> Result<()> {
    let expected: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    if names
        .iter()
        .map(String::as_str)
        .eq(expected.iter().copied())
    {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "the CSV header does not match the dataset's columns (Domo reads CSV by position):\n  \
         header:  {}\n  dataset: {}",
        names.join(", "),
        expected.join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_schema::{Field, TimeUnit};

    fn columns() -> Vec<Column> {
        vec![
            Column::new("id", DomoType::Long),
            Column::new("name", DomoType::String),
            Column::new("at", DomoType::Datetime),
        ]
    }

    fn schema(fields: &[(&str, DataType)]) -> Schema {
        Schema::new(
            fields
                .iter()
                .map(|(n, t)| Field::new(*n, t.clone(), true))
                .collect::<Vec<_>>(),
        )
    }

    #[test]
    fn matching_schemas_pass_with_widening() {
        let ts = DataType::Timestamp(TimeUnit::Nanosecond, None);
        let s = schema(&[
            ("id", DataType::Int32),
            ("name", DataType::LargeUtf8),
            ("at", ts),
        ]);
        assert_eq!(plan(&s, &columns(), false).unwrap(), vec![0, 1, 2]);
        let s = schema(&[
            ("id", DataType::Int64),
            ("name", DataType::Int64),
            ("at", DataType::Date32),
        ]);
        plan(&s, &columns(), false).unwrap();
    }

    #[test]
    fn every_difference_is_listed() {
        let s = schema(&[("name", DataType::Utf8), ("id", DataType::Float64)]);
        let err = plan(&s, &columns(), false).unwrap_err().to_string();
        for needle in [
            "2 columns, the dataset 3",
            "column 0 is \"name\"",
            "\"name\" (Utf8) cannot go into dataset column \"id\"",
            "dataset column 2 \"at\" (DATETIME) is missing from the data",
        ] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
        // Matching by name would not help: the names differ.
        assert!(!err.contains("match_by_name"), "{err}");
    }

    #[test]
    fn extra_columns_are_named_by_position() {
        let s = schema(&[
            ("id", DataType::Int64),
            ("name", DataType::Utf8),
            ("at", DataType::Date32),
            ("note", DataType::Utf8),
            ("more", DataType::Int64),
        ]);
        let err = plan(&s, &columns(), false).unwrap_err().to_string();
        for needle in [
            "the data has 5 columns, the dataset 3",
            "data column 3 \"note\" (Utf8) is extra",
            "data column 4 \"more\" (Int64) is extra",
        ] {
            assert!(err.contains(needle), "{needle}: {err}");
        }
    }

    #[test]
    fn reordered_names_suggest_matching_by_name() {
        let s = schema(&[
            ("name", DataType::Utf8),
            ("id", DataType::Int64),
            ("at", DataType::Date32),
        ]);
        let err = plan(&s, &columns(), false).unwrap_err().to_string();
        assert!(err.contains("match_by_name=True"), "{err}");
    }

    #[test]
    fn by_name_reorders_and_reports_extra_and_missing() {
        let ts = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
        let s = schema(&[
            ("at", ts.clone()),
            ("id", DataType::Int64),
            ("name", DataType::Utf8),
        ]);
        assert_eq!(plan(&s, &columns(), true).unwrap(), vec![1, 2, 0]);
        let s = schema(&[
            ("at", ts),
            ("id", DataType::Int64),
            ("extra", DataType::Utf8),
        ]);
        let err = plan(&s, &columns(), true).unwrap_err().to_string();
        assert!(
            err.contains("\"name\" is missing") && err.contains("\"extra\""),
            "{err}"
        );
    }

    #[test]
    fn csv_headers_must_match_in_order() {
        let names: Vec<String> = ["id", "name", "at"].map(String::from).to_vec();
        check_csv_header(&names, &columns()).unwrap();
        let swapped: Vec<String> = ["name", "id", "at"].map(String::from).to_vec();
        assert!(check_csv_header(&swapped, &columns()).is_err());
    }
}

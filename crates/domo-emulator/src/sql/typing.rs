//! MySQL's static types for Domo SQL expressions: what a column, literal, operator or
//! function yields, decided from the query and the dataset's schema, never from values.

use crate::types::DomoType;

/// Scale MySQL adds to the dividend's for `/` and to AVG's argument
/// (`div_precision_increment`).
pub const DIV_SCALE_INCREMENT: u8 = 4;
/// MySQL's largest DECIMAL scale.
pub const MAX_SCALE: u8 = 30;
/// The scale of a stored DECIMAL column (decimal(38,10)).
pub const COLUMN_SCALE: u8 = 10;

/// An expression's type. `Decimal` carries MySQL's scale, which `/`, AVG and ROUND
/// results are rounded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Long,
    Double,
    Decimal(u8),
    Text,
    Date,
    DateTime,
    /// A NULL literal: takes the other operand's type where it meets one.
    Null,
}

impl Ty {
    pub fn from_domo(t: DomoType) -> Ty {
        match t {
            DomoType::String => Ty::Text,
            DomoType::Long => Ty::Long,
            DomoType::Double => Ty::Double,
            DomoType::Decimal => Ty::Decimal(COLUMN_SCALE),
            DomoType::Date => Ty::Date,
            DomoType::DateTime => Ty::DateTime,
        }
    }

    /// The type an answer reports for a column of this type.
    pub fn to_domo(self) -> DomoType {
        match self {
            Ty::Long => DomoType::Long,
            Ty::Double => DomoType::Double,
            Ty::Decimal(_) => DomoType::Decimal,
            Ty::Text | Ty::Null => DomoType::String,
            Ty::Date => DomoType::Date,
            Ty::DateTime => DomoType::DateTime,
        }
    }

    /// An exact number: integer or DECIMAL (MySQL's `/` between them is DECIMAL).
    pub fn is_exact(self) -> bool {
        matches!(self, Ty::Long | Ty::Decimal(_) | Ty::Null)
    }

    pub fn scale(self) -> u8 {
        match self {
            Ty::Decimal(s) => s,
            _ => 0,
        }
    }

    pub fn is_temporal(self) -> bool {
        matches!(self, Ty::Date | Ty::DateTime)
    }
}

/// The type of `a + b`, `a - b`, `a * b` (`scale` is the DECIMAL result's scale).
pub fn arithmetic(a: Ty, b: Ty, scale: u8) -> Ty {
    match (a, b) {
        (Ty::Null, Ty::Null) => Ty::Null,
        (Ty::Long | Ty::Null, Ty::Long | Ty::Null) => Ty::Long,
        (x, y) if x.is_exact() && y.is_exact() => Ty::Decimal(scale.min(MAX_SCALE)),
        _ => Ty::Double,
    }
}

/// The type of a value that is one of several (CASE branches, IF, COALESCE, UNION
/// columns, GREATEST): MySQL's aggregated type.
pub fn common(types: &[Ty]) -> Ty {
    let mut out = Ty::Null;
    for &t in types {
        out = match (out, t) {
            (Ty::Null, t) | (t, Ty::Null) => t,
            (a, b) if a == b => a,
            (Ty::Date, Ty::DateTime) | (Ty::DateTime, Ty::Date) => Ty::DateTime,
            (Ty::Text, _) | (_, Ty::Text) => Ty::Text,
            (a, b) if a.is_temporal() || b.is_temporal() => Ty::Text,
            (Ty::Double, _) | (_, Ty::Double) => Ty::Double,
            (a, b) => Ty::Decimal(a.scale().max(b.scale())),
        };
    }
    out
}

/// Interval units that keep a DATE a DATE.
pub fn unit_keeps_date(unit: &str) -> bool {
    matches!(unit, "DAY" | "WEEK" | "MONTH" | "QUARTER" | "YEAR")
}

/// What a scalar or aggregate function returns for arguments of these types, or `None`
/// for a function Domo SQL does not have here. `literal_int` gives an argument's value
/// when it is an integer literal (ROUND's and TRUNCATE's digits).
pub fn function(name: &str, args: &[Ty], literal_int: &dyn Fn(usize) -> Option<i64>) -> Option<Ty> {
    let arg = |i: usize| args.get(i).copied().unwrap_or(Ty::Null);
    let numeric = |t: Ty| match t {
        Ty::Text | Ty::Date | Ty::DateTime => Ty::Double,
        t => t,
    };
    Some(match name {
        "COUNT" | "ROW_NUMBER" | "RANK" | "DENSE_RANK" | "NTILE" | "YEAR" | "MONTH" | "DAY"
        | "DAYOFMONTH" | "HOUR" | "MINUTE" | "SECOND" | "QUARTER" | "DAYOFWEEK" | "DAYOFYEAR"
        | "WEEK" | "WEEKDAY" | "WEEKOFYEAR" | "YEARWEEK" | "DATEDIFF" | "TIMESTAMPDIFF"
        | "LENGTH" | "OCTET_LENGTH" | "CHAR_LENGTH" | "CHARACTER_LENGTH" | "LOCATE" | "INSTR"
        | "SIGN" | "ASCII" | "UNIX_TIMESTAMP" | "REGEXP_LIKE" | "__EXTRACT_COMPOUND" => Ty::Long,
        "CONCAT" | "CONCAT_WS" | "UPPER" | "UCASE" | "LOWER" | "LCASE" | "TRIM" | "LTRIM"
        | "RTRIM" | "SUBSTR" | "SUBSTRING" | "MID" | "SUBSTRING_INDEX" | "LEFT" | "RIGHT"
        | "LPAD" | "RPAD" | "REPLACE" | "REVERSE" | "REPEAT" | "SPACE" | "DATE_FORMAT"
        | "DAYNAME" | "MONTHNAME" | "GROUP_CONCAT" => Ty::Text,
        "DATE" | "CURDATE" | "CURRENT_DATE" | "LAST_DAY" => Ty::Date,
        "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "SYSDATE" | "TIMESTAMP"
        | "FROM_UNIXTIME" | "CONVERT_TZ" => Ty::DateTime,
        "SQRT" | "EXP" | "LN" | "LOG" | "LOG10" | "LOG2" | "POWER" | "POW" | "PI" | "RAND"
        | "STDDEV" | "STD" | "STDDEV_POP" | "STDDEV_SAMP" | "VARIANCE" | "VAR_POP" | "VAR_SAMP"
        | "PERCENT_RANK" | "CUME_DIST" | "RADIANS" | "DEGREES" | "SIN" | "COS" | "TAN" => {
            Ty::Double
        }
        "ABS" | "MIN" | "MAX" | "FIRST_VALUE" | "LAST_VALUE" | "LAG" | "LEAD" | "NTH_VALUE"
        | "ANY_VALUE" => arg(0),
        // MySQL sums exact values as DECIMAL, integers too (DECIMAL(n, 0)): no sum of
        // LONGs overflows.
        "SUM" => match arg(0) {
            Ty::Long | Ty::Null => Ty::Decimal(0),
            t => numeric(t),
        },
        "AVG" => match numeric(arg(0)) {
            Ty::Double => Ty::Double,
            t => Ty::Decimal((t.scale() + DIV_SCALE_INCREMENT).min(MAX_SCALE)),
        },
        "FLOOR" | "CEIL" | "CEILING" => match numeric(arg(0)) {
            Ty::Double => Ty::Double,
            _ => Ty::Long,
        },
        "ROUND" | "TRUNCATE" => {
            let digits = if args.len() > 1 {
                literal_int(1)
            } else {
                Some(0)
            };
            match numeric(arg(0)) {
                Ty::Double => Ty::Double,
                Ty::Long | Ty::Null => Ty::Long,
                Ty::Decimal(s) => match digits {
                    Some(d) if d <= 0 => Ty::Decimal(0),
                    Some(d) => Ty::Decimal((d.min(i64::from(MAX_SCALE)) as u8).min(s)),
                    None => Ty::Decimal(s),
                },
                t => t,
            }
        }
        "MOD" => common(&[numeric(arg(0)), numeric(arg(1))]),
        "IF" => common(&[arg(1), arg(2)]),
        "IFNULL" | "COALESCE" | "GREATEST" | "LEAST" => common(args),
        "NULLIF" => arg(0),
        "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE" | "TIMESTAMPADD" | "STR_TO_DATE" => {
            // Decided by the caller, which sees the unit and format.
            return None;
        }
        _ => return None,
    })
}

//! Expressions: names, literals, operators, CAST, INTERVAL arithmetic and the
//! collation of text, each typed by MySQL's rules and rewritten for SQLite.

use super::*;

impl Translator<'_> {
    /// Types `e` and rewrites it in place for SQLite.
    pub(super) fn expr(&mut self, e: &mut Expr) -> Result<Ty, String> {
        match e {
            Expr::Identifier(i) => {
                let ty = self.column(None, &i.value)?;
                *i = quoted(&i.value);
                Ok(ty)
            }
            Expr::CompoundIdentifier(parts) => {
                let [q, c] = parts.as_mut_slice() else {
                    return Err(self.unsupported("A name of this form", e));
                };
                let ty = self.column(Some(&q.value), &c.value)?;
                *q = quoted(&q.value);
                *c = quoted(&c.value);
                Ok(ty)
            }
            Expr::Value(v) => {
                let ty = self.literal(v)?;
                if let (Ty::Decimal(_), Value::Number(n, _)) = (ty, &v.value)
                    && let Some(rusqlite::types::Value::Blob(digits)) =
                        Dec::parse(n).map(|d| d.to_value())
                {
                    // SQLite would read the number as a double: it is written as the
                    // exact form a DECIMAL has in SQLite.
                    v.value = Value::HexStringLiteral(
                        digits.iter().map(|b| format!("{b:02X}")).collect(),
                    );
                }
                Ok(ty)
            }
            Expr::TypedString(ts) => {
                let ty = match ts.data_type {
                    DataType::Date => Ty::Date,
                    DataType::Datetime(_) | DataType::Timestamp(..) => Ty::DateTime,
                    _ => return Err(self.unsupported("This typed literal", e)),
                };
                let text = match &ts.value.value {
                    Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.clone(),
                    _ => return Err(self.unsupported("This typed literal", e)),
                };
                let p = parse_time(&text)
                    .ok_or_else(|| format!("Incorrect {} value: '{text}'", ts.data_type))?;
                let stored = if ty == Ty::Date {
                    format_date(&p.dt)
                } else {
                    format_datetime(&p.dt)
                };
                *e = string(&stored);
                Ok(ty)
            }
            Expr::Nested(inner) => self.expr(inner),
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsNotTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotFalse(x) => {
                self.expr(x)?;
                Ok(Ty::Long)
            }
            Expr::IsDistinctFrom(a, b) | Expr::IsNotDistinctFrom(a, b) => {
                self.expr(a)?;
                self.expr(b)?;
                Ok(Ty::Long)
            }
            Expr::In {
                expr,
                target,
                negated: _,
                global: _,
            } => {
                let ty = self.expr(expr)?;
                match target {
                    sqlparser::ast::InTarget::List(list) => {
                        let mut types = vec![ty];
                        for item in list.iter_mut() {
                            types.push(self.expr(item)?);
                            if ty == Ty::DateTime {
                                as_stored_datetime(item);
                            }
                        }
                        if exact_comparison(&types) {
                            // Each value in its one SQLite form, which `=` then matches.
                            for item in list.iter_mut().chain(std::iter::once(&mut **expr)) {
                                *item = call("__dec", vec![take(item)]);
                            }
                        }
                    }
                    sqlparser::ast::InTarget::Subquery(q) => {
                        self.subquery(q)?;
                    }
                    _ => return Err("IN UNNEST is not supported by the local Domo".into()),
                }
                if ty == Ty::Text && self.options.case_insensitive_strings {
                    self.collate(expr);
                }
                Ok(Ty::Long)
            }
            Expr::Between {
                expr,
                low,
                high,
                negated,
            } => {
                let ty = self.expr(expr)?;
                let bounds = [self.expr(low)?, self.expr(high)?];
                if exact_comparison(&[ty, bounds[0], bounds[1]]) {
                    let test = call("__dec_between", vec![take(expr), take(low), take(high)]);
                    *e = if *negated {
                        Expr::UnaryOp {
                            op: UnaryOperator::Not,
                            expr: Box::new(test),
                        }
                    } else {
                        test
                    };
                    return Ok(Ty::Long);
                }
                if ty == Ty::DateTime {
                    as_stored_datetime(low);
                    as_stored_datetime(high);
                }
                if ty == Ty::Text && self.options.case_insensitive_strings {
                    self.collate(expr);
                }
                Ok(Ty::Long)
            }
            Expr::Like {
                expr,
                pattern,
                escape_char,
                any,
                ..
            } => {
                if *any {
                    return Err(self.unsupported("LIKE ANY", e));
                }
                self.expr(expr)?;
                self.expr(pattern)?;
                if let Some(esc) = escape_char {
                    self.expr(esc)?;
                }
                Ok(Ty::Long)
            }
            Expr::RLike {
                negated,
                expr,
                pattern,
                ..
            } => {
                self.expr(expr)?;
                self.expr(pattern)?;
                let test = call("__regexp", vec![take(expr), take(pattern)]);
                *e = if *negated {
                    Expr::UnaryOp {
                        op: UnaryOperator::Not,
                        expr: Box::new(test),
                    }
                } else {
                    test
                };
                Ok(Ty::Long)
            }
            Expr::UnaryOp { op, expr } => {
                let ty = self.expr(expr)?;
                if matches!(ty, Ty::Decimal(_)) && *op == UnaryOperator::Minus {
                    *e = call("__dec_neg", vec![take(expr)]);
                    return Ok(ty);
                }
                Ok(match op {
                    UnaryOperator::Not | UnaryOperator::BangNot => Ty::Long,
                    UnaryOperator::Minus | UnaryOperator::Plus => match ty {
                        Ty::Text | Ty::Date | Ty::DateTime => Ty::Double,
                        t => t,
                    },
                    _ => return Err(self.unsupported("This operator", e)),
                })
            }
            Expr::BinaryOp { .. } => self.binary(e),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(op) = operand {
                    self.expr(op)?;
                }
                let mut results = Vec::new();
                for w in conditions.iter_mut() {
                    self.expr(&mut w.condition)?;
                    results.push(self.expr(&mut w.result)?);
                }
                if let Some(x) = else_result {
                    results.push(self.expr(x)?);
                }
                Ok(typing::common(&results))
            }
            Expr::Cast {
                kind,
                data_type,
                format,
                ..
            } => {
                if format.is_some() || !matches!(kind, CastKind::Cast | CastKind::TryCast) {
                    return Err(self.unsupported("This CAST form", e));
                }
                let data_type = data_type.clone();
                self.cast(e, &data_type)
            }
            Expr::Convert {
                expr,
                data_type: Some(data_type),
                charset: None,
                styles,
                ..
            } if styles.is_empty() => {
                let data_type = data_type.clone();
                let inner = take(expr);
                *e = Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner),
                    data_type: data_type.clone(),
                    format: None,
                };
                self.cast(e, &data_type)
            }
            Expr::Extract { field, expr, .. } => {
                self.expr(expr)?;
                let unit = match &*field {
                    DateTimeField::DayOfWeek => Some("DAYOFWEEK"),
                    DateTimeField::DayOfYear => Some("DAYOFYEAR"),
                    f => unit_name(f),
                }
                .ok_or_else(|| format!("EXTRACT of {field} is not supported by the local Domo"))?;
                *e = call("__extract", vec![string(unit), take(expr)]);
                Ok(Ty::Long)
            }
            Expr::Ceil { .. } | Expr::Floor { .. } => self.ceil_floor(e),
            Expr::Position { expr, r#in } => {
                self.expr(expr)?;
                self.expr(r#in)?;
                *e = call("LOCATE", vec![take(expr), take(r#in)]);
                Ok(Ty::Long)
            }
            Expr::Substring {
                expr,
                substring_from,
                substring_for,
                ..
            } => {
                self.expr(expr)?;
                let mut args = vec![take(expr)];
                if let Some(from) = substring_from {
                    self.expr(from)?;
                    args.push(take(from));
                }
                if let Some(n) = substring_for {
                    self.expr(n)?;
                    args.push(take(n));
                }
                *e = call("__substring", args);
                Ok(Ty::Text)
            }
            Expr::Trim {
                trim_where,
                trim_what,
                expr,
                trim_characters,
            } => {
                if trim_characters.is_some() {
                    return Err(self.unsupported("This TRIM form", e));
                }
                self.expr(expr)?;
                let what = match trim_what {
                    Some(w) => {
                        self.expr(w)?;
                        take(w)
                    }
                    None => string(" "),
                };
                let side = match trim_where {
                    Some(TrimWhereField::Leading) => "LEADING",
                    Some(TrimWhereField::Trailing) => "TRAILING",
                    _ => "BOTH",
                };
                *e = call("__trim", vec![take(expr), what, string(side)]);
                Ok(Ty::Text)
            }
            Expr::Interval(_) => Err(self.unsupported(
                "INTERVAL outside date arithmetic (d + INTERVAL n UNIT, DATE_ADD)",
                e,
            )),
            Expr::Function(_) => self.function(e),
            Expr::Exists { subquery, .. } => {
                self.subquery(subquery)?;
                Ok(Ty::Long)
            }
            Expr::Subquery(q) => {
                let columns = self.subquery(q)?;
                if columns.len() != 1 {
                    return Err("Operand should contain 1 column(s)".into());
                }
                Ok(columns[0].1)
            }
            Expr::Collate { .. } => Err(self.unsupported("COLLATE", e)),
            _ => Err(self.unsupported("This expression", e)),
        }
    }

    /// The type of a literal, rewritten where SQLite reads it otherwise than MySQL.
    pub(super) fn literal(&self, v: &mut ValueWithSpan) -> Result<Ty, String> {
        Ok(match &mut v.value {
            Value::Number(n, _) => {
                if n.contains(['e', 'E']) {
                    Ty::Double
                } else if let Some((_, frac)) = n.split_once('.') {
                    Ty::Decimal((frac.len() as u8).min(MAX_SCALE))
                } else if n.parse::<i64>().is_ok() {
                    Ty::Long
                } else {
                    Ty::Decimal(0)
                }
            }
            Value::SingleQuotedString(_) => Ty::Text,
            Value::DoubleQuotedString(s) => {
                // MySQL reads "..." as a string; SQLite would read a name.
                v.value = Value::SingleQuotedString(std::mem::take(s));
                Ty::Text
            }
            Value::Boolean(b) => {
                v.value = Value::Number(if *b { "1" } else { "0" }.into(), false);
                Ty::Long
            }
            Value::Null => Ty::Null,
            Value::HexStringLiteral(_) => Ty::Text,
            Value::Placeholder(_) => {
                return Err(
                    "query parameters are not supported: write the values in the SQL".into(),
                );
            }
            _ => {
                return Err(format!(
                    "This literal is not supported by the local Domo: {v}"
                ));
            }
        })
    }

    pub(super) fn ceil_floor(&mut self, e: &mut Expr) -> Result<Ty, String> {
        let (name, expr, field) = match e {
            Expr::Ceil { expr, field } => ("CEIL", expr, field),
            Expr::Floor { expr, field } => ("FLOOR", expr, field),
            _ => unreachable!(),
        };
        if !matches!(
            field,
            CeilFloorKind::DateTimeField(DateTimeField::NoDateTime)
        ) {
            return Err("CEIL/FLOOR TO a unit is not supported by the local Domo".into());
        }
        let ty = self.expr(expr)?;
        let inner = take(expr);
        *e = call(name, vec![inner]);
        Ok(typing::function(name, &[ty], &|_| None).unwrap_or(Ty::Double))
    }

    pub(super) fn subquery(&mut self, q: &mut Query) -> Result<Vec<(String, Ty)>, String> {
        self.query(q)
    }

    /// Text that is grouped, sorted, made distinct or compared by MIN/MAX: under the
    /// case-insensitive setting, by the collation `=` uses ('East' and 'east' are one
    /// group). A number alone is a column position, left as it is.
    pub(super) fn ordered_text(&self, e: &mut Expr, ty: Ty) {
        if ty == Ty::Text
            && self.options.case_insensitive_strings
            && !matches!(e, Expr::Value(_) | Expr::Collate { .. })
        {
            self.collate(e);
        }
    }

    pub(super) fn collate(&self, e: &mut Expr) {
        let inner = take(e);
        *e = Expr::Collate {
            expr: Box::new(inner),
            collation: ObjectName::from(vec![Ident::new(CI_COLLATION)]),
        };
    }

    pub(super) fn cast(&mut self, e: &mut Expr, data_type: &DataType) -> Result<Ty, String> {
        let Expr::Cast { expr, .. } = e else {
            unreachable!()
        };
        self.expr(expr)?;
        let inner = take(expr);
        let (out, ty) = match data_type {
            DataType::Date => (call("__cast_date", vec![inner]), Ty::Date),
            DataType::Datetime(_) | DataType::Timestamp(..) => {
                (call("__cast_datetime", vec![inner]), Ty::DateTime)
            }
            DataType::Signed
            | DataType::SignedInteger
            | DataType::Unsigned
            | DataType::UnsignedInteger
            | DataType::Int(_)
            | DataType::Integer(_)
            | DataType::BigInt(_) => (call("__cast_signed", vec![inner]), Ty::Long),
            DataType::Char(_)
            | DataType::Varchar(_)
            | DataType::Nvarchar(_)
            | DataType::Text
            | DataType::String(_) => (
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(call("__as_text", vec![inner])),
                    data_type: DataType::Text,
                    format: None,
                },
                Ty::Text,
            ),
            DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
                let scale = match info {
                    ExactNumberInfo::PrecisionAndScale(_, s) => (*s).clamp(0, i64::from(MAX_SCALE)),
                    _ => 0,
                };
                (
                    call("__round_exact", vec![inner, number(scale)]),
                    Ty::Decimal(scale as u8),
                )
            }
            DataType::Double(_)
            | DataType::DoublePrecision
            | DataType::Float(_)
            | DataType::Real => (
                Expr::Cast {
                    kind: CastKind::Cast,
                    expr: Box::new(inner),
                    data_type: DataType::Real,
                    format: None,
                },
                Ty::Double,
            ),
            other => {
                return Err(format!(
                    "CAST to {other} is not supported by the local Domo"
                ));
            }
        };
        *e = out;
        Ok(ty)
    }

    /// `d + INTERVAL n UNIT` (either side) and `d - INTERVAL n UNIT`, if `e` is one.
    pub(super) fn interval_arithmetic(&mut self, e: &mut Expr) -> Result<Option<Ty>, String> {
        let Expr::BinaryOp { left, op, right } = e else {
            return Ok(None);
        };
        let (date, interval, sign) = match (&mut **left, &*op, &mut **right) {
            (d, BinaryOperator::Plus, Expr::Interval(i)) => (d, i, 1),
            (d, BinaryOperator::Minus, Expr::Interval(i)) => (d, i, -1),
            (Expr::Interval(i), BinaryOperator::Plus, d) => (d, i, 1),
            _ => return Ok(None),
        };
        let unit = interval
            .leading_field
            .as_ref()
            .and_then(unit_name)
            .ok_or_else(|| format!("This INTERVAL unit is not supported: INTERVAL {interval}"))?;
        let date_ty = self.expr(date)?;
        self.expr(&mut interval.value)?;
        let n = take(&mut interval.value);
        let d = take(date);
        let name = if sign > 0 { "DATE_ADD" } else { "DATE_SUB" };
        *e = call(name, vec![d, call("__interval", vec![n, string(unit)])]);
        Ok(Some(date_add_type(date_ty, unit)))
    }

    pub(super) fn binary(&mut self, e: &mut Expr) -> Result<Ty, String> {
        if let Some(ty) = self.interval_arithmetic(e)? {
            return Ok(ty);
        }
        let Expr::BinaryOp { left, op, right } = e else {
            unreachable!()
        };
        let a = self.expr(left)?;
        let b = self.expr(right)?;
        if is_comparison(op) {
            if a == Ty::DateTime {
                as_stored_datetime(right);
            }
            if b == Ty::DateTime {
                as_stored_datetime(left);
            }
            let strings = matches!(
                (a, b),
                (Ty::Text, Ty::Text | Ty::Null) | (Ty::Null, Ty::Text)
            );
            if strings && self.options.case_insensitive_strings {
                self.collate(right);
            }
            if exact_comparison(&[a, b]) {
                let (l, r) = (take(left), take(right));
                *e = if *op == BinaryOperator::Spaceship {
                    call("__dec_same", vec![l, r])
                } else {
                    Expr::BinaryOp {
                        left: Box::new(call("__dec_cmp", vec![l, r])),
                        op: op.clone(),
                        right: Box::new(number(0)),
                    }
                };
                return Ok(Ty::Long);
            }
            if *op == BinaryOperator::Spaceship {
                *op = BinaryOperator::Custom("IS".into());
            }
            return Ok(Ty::Long);
        }
        let numeric = |t: Ty| match t {
            Ty::Text | Ty::Date | Ty::DateTime => Ty::Double,
            t => t,
        };
        let (na, nb) = (numeric(a), numeric(b));
        let ty = match op {
            BinaryOperator::And | BinaryOperator::Or | BinaryOperator::Xor => {
                if *op == BinaryOperator::Xor {
                    let (l, r) = (take(left), take(right));
                    *e = call("__xor", vec![l, r]);
                }
                Ty::Long
            }
            BinaryOperator::StringConcat => {
                // MySQL's `||` is OR unless PIPES_AS_CONCAT is set, which Domo does not
                // document; CONCAT() is the portable spelling.
                *op = BinaryOperator::Or;
                Ty::Long
            }
            BinaryOperator::Plus | BinaryOperator::Minus | BinaryOperator::Multiply => {
                let (scale, exact) = match op {
                    BinaryOperator::Plus => (na.scale().max(nb.scale()), "__dec_add"),
                    BinaryOperator::Minus => (na.scale().max(nb.scale()), "__dec_sub"),
                    _ => (na.scale() + nb.scale(), "__dec_mul"),
                };
                let ty = typing::arithmetic(na, nb, scale);
                if matches!(ty, Ty::Decimal(_)) {
                    let (l, r) = (take(left), take(right));
                    *e = call(exact, vec![l, r]);
                }
                ty
            }
            BinaryOperator::Divide => {
                let (l, r) = (take(left), take(right));
                if na.is_exact() && nb.is_exact() {
                    let scale = (na.scale() + DIV_SCALE_INCREMENT).min(MAX_SCALE);
                    *e = call("__div", vec![l, r, number(i64::from(scale))]);
                    Ty::Decimal(scale)
                } else {
                    *e = call("__div_real", vec![l, r]);
                    Ty::Double
                }
            }
            BinaryOperator::MyIntegerDivide | BinaryOperator::DuckIntegerDivide => {
                let (l, r) = (take(left), take(right));
                *e = call("__int_div", vec![l, r]);
                Ty::Long
            }
            BinaryOperator::Modulo => {
                let (l, r) = (take(left), take(right));
                *e = call("MOD", vec![l, r]);
                typing::common(&[na, nb])
            }
            BinaryOperator::BitwiseAnd | BinaryOperator::BitwiseOr => Ty::Long,
            BinaryOperator::Regexp => {
                let (l, r) = (take(left), take(right));
                *e = call("__regexp", vec![l, r]);
                Ty::Long
            }
            _ => return Err(self.unsupported("This operator", e)),
        };
        Ok(ty)
    }
}

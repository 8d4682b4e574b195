//! Function calls: arguments typed, the result typed by `typing::function`, and the
//! call renamed where SQLite's function of that name means something else.

use super::*;

impl Translator<'_> {
    pub(super) fn function(&mut self, e: &mut Expr) -> Result<Ty, String> {
        let written = self.as_written(e);
        let Expr::Function(f) = e else { unreachable!() };
        let name = ident_name(&f.name).to_ascii_uppercase();
        if f.filter.is_some() || !f.within_group.is_empty() || f.null_treatment.is_some() {
            return Err(format!(
                "This function form is not supported by the local Domo: {written}"
            ));
        }
        if let Some(WindowType::WindowSpec(spec)) = &mut f.over {
            for p in &mut spec.partition_by {
                self.expr(p)?;
            }
            for o in &mut spec.order_by {
                let ty = self.expr(&mut o.expr)?;
                sort_exactly(&mut o.expr, ty);
                self.ordered_text(&mut o.expr, ty);
            }
        }
        let windowed = f.over.is_some();
        let list = match &mut f.args {
            FunctionArguments::None => {
                // CURRENT_TIMESTAMP, CURRENT_DATE written without parentheses.
                f.args = FunctionArguments::List(FunctionArgumentList {
                    duplicate_treatment: None,
                    args: Vec::new(),
                    clauses: Vec::new(),
                });
                let FunctionArguments::List(l) = &mut f.args else {
                    unreachable!()
                };
                l
            }
            FunctionArguments::List(l) => l,
            FunctionArguments::Subquery(_) => {
                return Err(format!("This function form is not supported: {written}"));
            }
        };
        if !list.clauses.is_empty() {
            return Err(format!(
                "This function form is not supported by the local Domo: {written}"
            ));
        }
        // Date units written as bare words.
        if matches!(name.as_str(), "TIMESTAMPDIFF" | "TIMESTAMPADD")
            && let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(first))) = list.args.first_mut()
        {
            let unit = unit_word(first)
                .ok_or_else(|| format!("{name} needs a unit first (DAY, MONTH, ...): {written}"))?;
            *first = string(&unit);
        }
        let mut args: Vec<&mut Expr> = Vec::new();
        let mut star = false;
        for a in &mut list.args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => args.push(x),
                FunctionArg::Unnamed(FunctionArgExpr::Wildcard) if name == "COUNT" => star = true,
                _ => {
                    return Err(format!(
                        "This function argument is not supported by the local Domo: {written}"
                    ));
                }
            }
        }
        let mut types = Vec::with_capacity(args.len());
        let skip_first = matches!(name.as_str(), "TIMESTAMPDIFF" | "TIMESTAMPADD");
        for (i, a) in args.iter_mut().enumerate() {
            if skip_first && i == 0 {
                types.push(Ty::Text);
                continue;
            }
            // DATE_ADD(d, INTERVAL n UNIT): the interval is an argument here.
            if let Expr::Interval(iv) = &mut **a {
                let unit = iv
                    .leading_field
                    .as_ref()
                    .and_then(unit_name)
                    .ok_or_else(|| format!("This INTERVAL unit is not supported: {written}"))?;
                self.expr(&mut iv.value)?;
                let n = take(&mut iv.value);
                **a = call("__interval", vec![n, string(unit)]);
                types.push(Ty::Text);
                continue;
            }
            types.push(self.expr(a)?);
        }
        let _ = star;
        if matches!(name.as_str(), "MIN" | "MAX" | "COUNT")
            && types.first() == Some(&Ty::Text)
            && let Some(first) = args.first_mut()
        {
            self.ordered_text(first, Ty::Text);
        }
        let literal_int = |i: usize| -> Option<i64> {
            match args.get(i).map(|a| &**a) {
                Some(Expr::Value(ValueWithSpan {
                    value: Value::Number(n, _),
                    ..
                })) => n.parse().ok(),
                Some(Expr::UnaryOp {
                    op: UnaryOperator::Minus,
                    expr,
                }) => match &**expr {
                    Expr::Value(ValueWithSpan {
                        value: Value::Number(n, _),
                        ..
                    }) => n.parse::<i64>().ok().map(|v| -v),
                    _ => None,
                },
                _ => None,
            }
        };
        let literal_text = |i: usize| -> Option<String> {
            match args.get(i).map(|a| &**a) {
                Some(Expr::Value(ValueWithSpan {
                    value: Value::SingleQuotedString(s),
                    ..
                })) => Some(s.clone()),
                _ => None,
            }
        };
        let ty = match name.as_str() {
            "DATE_ADD" | "DATE_SUB" | "ADDDATE" | "SUBDATE" => {
                let unit = literal_interval_unit(args.get(1).map(|a| &**a)).unwrap_or("DAY");
                date_add_type(types.first().copied().unwrap_or(Ty::Null), unit)
            }
            "TIMESTAMPADD" => {
                let unit = literal_text(0).unwrap_or_default();
                date_add_type(types.get(2).copied().unwrap_or(Ty::Null), &unit)
            }
            "STR_TO_DATE" => match literal_text(1) {
                Some(fmt) if !has_time_codes(&fmt) => Ty::Date,
                _ => Ty::DateTime,
            },
            _ => match typing::function(&name, &types, &literal_int) {
                Some(ty) => ty,
                None => {
                    return Err(format!("no such function: {name} (in {written})"));
                }
            },
        };
        // Exact rounding where MySQL rounds exact values; renamed functions.
        let renamed = match name.as_str() {
            "IF" => Some("iif"),
            "LEFT" => Some("__left"),
            "RIGHT" => Some("__right"),
            "CURRENT_TIMESTAMP" | "LOCALTIME" | "LOCALTIMESTAMP" | "SYSDATE" => Some("NOW"),
            "CURRENT_DATE" => Some("CURDATE"),
            "SUBSTRING" | "SUBSTR" | "MID" => Some("__substring"),
            "GREATEST" => Some("__greatest"),
            "LEAST" => Some("__least"),
            "ROUND" if types.first().is_some_and(|t| t.is_exact()) => Some("__round_exact"),
            "TRUNCATE" if types.first().is_some_and(|t| t.is_exact()) => Some("__truncate_exact"),
            "TRUNCATE" => Some("__truncate"),
            "POW" => Some("POWER"),
            "STD" | "STDDEV" => Some("STDDEV_POP"),
            "VARIANCE" => Some("VAR_POP"),
            "UCASE" => Some("UPPER"),
            "LCASE" => Some("LOWER"),
            "CHARACTER_LENGTH" => Some("CHAR_LENGTH"),
            "OCTET_LENGTH" => Some("LENGTH"),
            "CEILING" => Some("CEIL"),
            "DAYOFMONTH" => Some("DAY"),
            "REGEXP_LIKE" => Some("__regexp"),
            "ANY_VALUE" => Some("MIN"),
            "SPACE" => Some("__space"),
            EXTRACT_COMPOUND => Some("__extract"),
            _ => None,
        };
        if let Some(to) = renamed {
            f.name = ObjectName::from(vec![Ident::new(to)]);
        }
        // Exact aggregates of DECIMALs (a window runs SQLite's own, over doubles).
        let first = types.first().copied().unwrap_or(Ty::Null);
        let exact = match name.as_str() {
            "SUM" if first == Ty::Long => Some("__dec_sum".to_owned()),
            "SUM" | "MIN" | "MAX" | "ABS" if matches!(first, Ty::Decimal(_)) => {
                Some(format!("__dec_{}", name.to_ascii_lowercase()))
            }
            "AVG" if ty != Ty::Double => Some(decimal::avg_name(ty.scale())),
            _ => None,
        };
        if let Some(to) = exact
            && (!windowed || name == "ABS")
        {
            f.name = ObjectName::from(vec![Ident::new(to)]);
            return Ok(ty);
        }
        if name == "AVG" && ty != Ty::Double {
            let avg = take(e);
            *e = call("__round_exact", vec![avg, number(i64::from(ty.scale()))]);
        }
        Ok(ty)
    }
}

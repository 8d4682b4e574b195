//! Statements: queries, CTEs, set operations, SELECT and its clauses, the relations
//! a query reads and the names they bring into scope.

use super::*;

impl Translator<'_> {
    pub(super) fn query(&mut self, q: &mut Query) -> Result<Vec<(String, Ty)>, String> {
        if q.fetch.is_some()
            || !q.locks.is_empty()
            || q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return Err(format!(
                "This query form is not supported by the local Domo: {q}"
            ));
        }
        let saved = self.ctes.len();
        if let Some(with) = &mut q.with {
            let recursive = with.recursive;
            for cte in &mut with.cte_tables {
                if recursive {
                    // The recursive part reads the CTE itself: its columns are known by
                    // name here, and typed by the query once translated.
                    self.ctes.push(Relation {
                        name: cte.alias.name.value.clone(),
                        columns: cte
                            .alias
                            .columns
                            .iter()
                            .map(|c| (c.name.value.clone(), Ty::Null))
                            .collect(),
                    });
                }
                let translated = self.query(&mut cte.query);
                if recursive {
                    self.ctes.pop();
                }
                let mut columns = translated?;
                for (c, named) in columns.iter_mut().zip(&cte.alias.columns) {
                    c.0 = named.name.value.clone();
                }
                cte.alias.name = quoted(&cte.alias.name.value);
                for c in &mut cte.alias.columns {
                    c.name = quoted(&c.name.value);
                }
                self.ctes.push(Relation {
                    name: cte.alias.name.value.clone(),
                    columns,
                });
            }
        }
        let columns = match &mut *q.body {
            SetExpr::Select(select) => self.select(select, q.order_by.as_mut())?,
            body => {
                let columns = self.set_expr(body)?;
                if let Some(order) = &mut q.order_by {
                    self.scopes.push(Scope {
                        relations: vec![Relation {
                            name: String::new(),
                            columns: columns.clone(),
                        }],
                        aliases: Vec::new(),
                    });
                    // A compound query's ORDER BY names its columns: they sort as SQLite
                    // holds them.
                    let out = self.order_by(order, false);
                    self.scopes.pop();
                    out?;
                }
                columns
            }
        };
        if let Some(limit) = &mut q.limit_clause {
            self.scopes.push(Scope::default());
            let out = self.limit(limit);
            self.scopes.pop();
            out?;
        }
        self.ctes.truncate(saved);
        Ok(columns)
    }

    pub(super) fn limit(&mut self, limit: &mut LimitClause) -> Result<(), String> {
        match limit {
            LimitClause::LimitOffset {
                limit,
                offset,
                limit_by,
            } => {
                if !limit_by.is_empty() {
                    return Err("LIMIT BY is not supported by the local Domo".into());
                }
                if let Some(l) = limit {
                    self.expr(l)?;
                }
                if let Some(o) = offset {
                    self.expr(&mut o.value)?;
                }
            }
            LimitClause::OffsetCommaLimit { offset, limit } => {
                self.expr(offset)?;
                self.expr(limit)?;
            }
        }
        Ok(())
    }

    pub(super) fn set_expr(&mut self, body: &mut SetExpr) -> Result<Vec<(String, Ty)>, String> {
        match body {
            SetExpr::Select(select) => self.select(select, None),
            SetExpr::Query(q) => self.query(q),
            SetExpr::SetOperation { left, right, .. } => {
                let l = self.set_expr(left)?;
                let r = self.set_expr(right)?;
                if l.len() != r.len() {
                    return Err(
                        "The used SELECT statements have a different number of columns".into(),
                    );
                }
                Ok(l.into_iter()
                    .zip(r)
                    .map(|((name, a), (_, b))| (name, typing::common(&[a, b])))
                    .collect())
            }
            other => Err(format!(
                "This query form is not supported by the local Domo: {other}"
            )),
        }
    }

    pub(super) fn relation(&mut self, factor: &mut TableFactor) -> Result<Vec<Relation>, String> {
        match factor {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                if args.is_some() {
                    return Err(ONLY_TABLE.into());
                }
                let written = ident_name(name);
                let (columns, is_table) = if written.eq_ignore_ascii_case(TABLE) {
                    (self.schema.to_vec(), true)
                } else if let Some(cte) = self.ctes.iter().rev().find(|c| c.name == written) {
                    (cte.columns.clone(), false)
                } else {
                    // Names no other table: what else the store holds is none of this
                    // query's business.
                    return Err(ONLY_TABLE.into());
                };
                *name = ObjectName::from(vec![quoted(if is_table { self.view } else { &written })]);
                let shown = match alias {
                    Some(a) => {
                        a.name = quoted(&a.name.value);
                        a.name.value.clone()
                    }
                    None => {
                        // `table.col` keeps working: the view is read under that name.
                        *alias = Some(TableAlias {
                            explicit: true,
                            name: quoted(&written),
                            columns: Vec::new(),
                            at: None,
                        });
                        written
                    }
                };
                Ok(vec![Relation {
                    name: shown,
                    columns,
                }])
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                // A derived table sees the CTEs, not the query around it.
                let outer = std::mem::take(&mut self.scopes);
                let columns = self.query(subquery);
                self.scopes = outer;
                let columns = columns?;
                let name = match alias {
                    Some(a) => {
                        a.name = quoted(&a.name.value);
                        a.name.value.clone()
                    }
                    None => String::new(),
                };
                Ok(vec![Relation { name, columns }])
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => {
                let mut rels = self.relation(&mut table_with_joins.relation)?;
                for j in &mut table_with_joins.joins {
                    rels.extend(self.relation(&mut j.relation)?);
                }
                Ok(rels)
            }
            other => Err(format!(
                "This FROM item is not supported by the local Domo: {other}"
            )),
        }
    }

    pub(super) fn select(
        &mut self,
        s: &mut Select,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
    ) -> Result<Vec<(String, Ty)>, String> {
        if s.top.is_some()
            || s.into.is_some()
            || !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
            || s.exclude.is_some()
        {
            return Err(format!(
                "This SELECT form is not supported by the local Domo: {s}"
            ));
        }
        if let Some(Distinct::On(_)) = s.distinct {
            return Err("DISTINCT ON is not supported by the local Domo".into());
        }
        let mut relations = Vec::new();
        for twj in &mut s.from {
            relations.extend(self.relation(&mut twj.relation)?);
            for j in &mut twj.joins {
                relations.extend(self.relation(&mut j.relation)?);
            }
        }
        self.scopes.push(Scope {
            relations,
            aliases: Vec::new(),
        });
        let out = self.select_in_scope(s, order_by);
        self.scopes.pop();
        out
    }

    pub(super) fn select_in_scope(
        &mut self,
        s: &mut Select,
        order_by: Option<&mut sqlparser::ast::OrderBy>,
    ) -> Result<Vec<(String, Ty)>, String> {
        for twj in &mut s.from {
            for j in &mut twj.joins {
                let constraint = match &mut j.join_operator {
                    JoinOperator::Join(c)
                    | JoinOperator::Inner(c)
                    | JoinOperator::Left(c)
                    | JoinOperator::LeftOuter(c)
                    | JoinOperator::Right(c)
                    | JoinOperator::RightOuter(c)
                    | JoinOperator::FullOuter(c)
                    | JoinOperator::CrossJoin(c) => c,
                    other => {
                        return Err(format!(
                            "This join is not supported by the local Domo: {other:?}"
                        ));
                    }
                };
                match constraint {
                    JoinConstraint::On(e) => {
                        self.expr(e)?;
                    }
                    JoinConstraint::Using(names) => {
                        for n in names.iter_mut() {
                            *n = ObjectName::from(vec![quoted(&ident_name(n))]);
                        }
                    }
                    JoinConstraint::Natural | JoinConstraint::None => {}
                    JoinConstraint::UsingAlias(..) => {
                        return Err("USING ... AS is not supported by the local Domo".into());
                    }
                }
            }
        }
        let mut columns = Vec::new();
        let distinct = s.distinct.is_some();
        for item in &mut s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => {
                    let name = match &*e {
                        Expr::Identifier(i) => i.value.clone(),
                        Expr::CompoundIdentifier(parts) => {
                            parts.last().map(|i| i.value.clone()).unwrap_or_default()
                        }
                        other => self.as_written(other),
                    };
                    let ty = self.expr(e)?;
                    if distinct {
                        self.ordered_text(e, ty);
                    }
                    let as_named = quoted(&name);
                    // SQLite names the column by the rewritten text; the alias keeps
                    // the name as written.
                    *item = SelectItem::ExprWithAlias {
                        expr: take(e),
                        alias: as_named,
                    };
                    columns.push((name, ty));
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let ty = self.expr(expr)?;
                    if distinct {
                        self.ordered_text(expr, ty);
                    }
                    *alias = quoted(&alias.value);
                    columns.push((alias.value.clone(), ty));
                }
                SelectItem::Wildcard(_) => {
                    let scope = self.scopes.last().map(|s| &s.relations);
                    for r in scope.into_iter().flatten() {
                        columns.extend(r.columns.iter().cloned());
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(n),
                    _,
                ) => {
                    let want = ident_name(n);
                    let rel = self
                        .scopes
                        .last()
                        .and_then(|s| s.relations.iter().find(|r| r.name == want))
                        .ok_or_else(|| format!("Unknown table '{want}'"))?;
                    columns.extend(rel.columns.iter().cloned());
                    *n = ObjectName::from(vec![quoted(&want)]);
                }
                other => {
                    return Err(format!(
                        "This select item is not supported by the local Domo: {other}"
                    ));
                }
            }
        }
        if let Some(w) = &mut s.selection {
            self.expr(w)?;
        }
        if let Some(scope) = self.scopes.last_mut() {
            scope.aliases = columns.clone();
        }
        match &mut s.group_by {
            GroupByExpr::Expressions(exprs, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(
                        "GROUP BY ... WITH ROLLUP is not supported by the local Domo".into(),
                    );
                }
                for e in exprs {
                    let ty = self.expr(e)?;
                    self.ordered_text(e, ty);
                }
            }
            GroupByExpr::All(_) => {
                return Err("GROUP BY ALL is not supported by the local Domo".into());
            }
        }
        if let Some(h) = &mut s.having {
            self.expr(h)?;
        }
        for w in &mut s.named_window {
            if let sqlparser::ast::NamedWindowExpr::WindowSpec(spec) = &mut w.1 {
                for e in &mut spec.partition_by {
                    self.expr(e)?;
                }
                for o in &mut spec.order_by {
                    let ty = self.expr(&mut o.expr)?;
                    sort_exactly(&mut o.expr, ty);
                    self.ordered_text(&mut o.expr, ty);
                }
            }
        }
        if let Some(order) = order_by {
            self.order_by(order, true)?;
        }
        Ok(columns)
    }

    /// `keyed`: DECIMAL terms sort by their exact sort key (see `sort_exactly`).
    pub(super) fn order_by(
        &mut self,
        order: &mut sqlparser::ast::OrderBy,
        keyed: bool,
    ) -> Result<(), String> {
        match &mut order.kind {
            OrderByKind::Expressions(exprs) => {
                for o in exprs {
                    let ty = self.expr(&mut o.expr)?;
                    if keyed {
                        sort_exactly(&mut o.expr, ty);
                    }
                    self.ordered_text(&mut o.expr, ty);
                }
                Ok(())
            }
            OrderByKind::All(_) => Err("ORDER BY ALL is not supported by the local Domo".into()),
        }
    }

    /// The type of a column reference, searching the innermost scope first.
    pub(super) fn column(&self, qualifier: Option<&str>, name: &str) -> Result<Ty, String> {
        for scope in self.scopes.iter().rev() {
            let mut found = scope
                .relations
                .iter()
                .filter(|r| qualifier.is_none_or(|q| r.name == q))
                .flat_map(|r| r.columns.iter())
                .filter(|(c, _)| c.eq_ignore_ascii_case(name));
            if let Some((_, ty)) = found.next() {
                if qualifier.is_none() && found.next().is_some() {
                    return Err(format!("Column '{name}' in field list is ambiguous"));
                }
                return Ok(*ty);
            }
            if qualifier.is_none()
                && let Some((_, ty)) = scope
                    .aliases
                    .iter()
                    .find(|(c, _)| c.eq_ignore_ascii_case(name))
            {
                return Ok(*ty);
            }
        }
        Err(match qualifier {
            Some(q) => format!("no such column: {q}.{name}"),
            None => format!("no such column: {name}"),
        })
    }
}

//! Dataset administration: users with their own tokens, permissions, owner, tags,
//! properties, history, cards, stored query/SQL/dataflow values, copy status, and schema
//! alteration (add, rename, retype columns, applied to the stored rows).

use super::*;

/// The emulator's administrator: the developer token from `Config`, owner of every
/// dataset unless ownership is given away.
pub const ADMIN_ID: &str = "1";
pub const ADMIN_NAME: &str = "Local Domo Admin";

/// Access levels a permission can grant, weakest first.
pub const ACCESS_LEVELS: &[&str] = &["CAN_VIEW", "CAN_SHARE", "CAN_EDIT", "CO_OWNER"];
/// Entity types a permission can be granted to.
pub const GRANTEE_TYPES: &[&str] = &["USER", "GROUP"];
/// Entity types whose access can be revoked (the spec's list).
pub const REVOKE_TYPES: &[&str] = &[
    "USER",
    "GROUP",
    "CARD",
    "VIRTUAL_USER",
    "APPROVAL",
    "ENIGMA_FORM_INSTANCE",
    "DATA_APP",
    "DATA_APP_VIEW",
    "WORKFLOW",
    "REPORT_VIEW_PAGE",
];

/// The rank of an access level: higher can do more. The owner ranks above all.
pub fn rank(level: &str) -> u8 {
    match level {
        "CAN_VIEW" => 1,
        "CAN_SHARE" => 2,
        "CAN_EDIT" => 3,
        "CO_OWNER" => 4,
        "OWNER" => 5,
        _ => 0,
    }
}

/// What the store keeps of a developer token.
fn token_digest(token: &str) -> String {
    crate::digest::sha256_hex(token.as_bytes())
}

/// Stores made when users' credentials were kept in clear: their users table becomes
/// one of digests.
pub(super) fn hash_stored_credentials(conn: &Connection) -> rusqlite::Result<()> {
    let clear = conn
        .prepare("SELECT 1 FROM pragma_table_info('_users') WHERE name = 'token'")?
        .exists([])?;
    if !clear {
        return Ok(());
    }
    let users: Vec<(String, String, String, Option<String>)> = conn
        .prepare("SELECT id, name, email, token FROM _users")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<_, _>>()?;
    conn.execute_batch("DROP TABLE _users;")?;
    conn.execute_batch(MANAGE_TABLES)?;
    for (id, name, email, token) in users {
        // The old clear passwords are dropped: nothing logs a seeded user in by password.
        conn.execute(
            "INSERT INTO _users (id, name, email, token_sha256) VALUES (?1, ?2, ?3, ?4)",
            params![id, name, email, token.as_deref().map(token_digest)],
        )?;
    }
    Ok(())
}

#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub token: Option<String>,
}

pub(super) const MANAGE_TABLES: &str = "
    CREATE TABLE IF NOT EXISTS _users (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT NOT NULL DEFAULT '',
        token_sha256 TEXT UNIQUE,
        password_sha256 TEXT
    );
    CREATE TABLE IF NOT EXISTS _permissions (
        dataset_id TEXT NOT NULL,
        type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        access_level TEXT NOT NULL,
        PRIMARY KEY (dataset_id, type, entity_id)
    );
    CREATE TABLE IF NOT EXISTS _meta (
        dataset_id TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (dataset_id, key)
    );
    CREATE TABLE IF NOT EXISTS _history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        action TEXT NOT NULL,
        user TEXT NOT NULL,
        details TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS _cards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        dataset_id TEXT NOT NULL,
        body TEXT NOT NULL
    );";

pub(super) const MANAGE_RESET: &str = "
    DELETE FROM _users; DELETE FROM _permissions; DELETE FROM _meta; DELETE FROM _history;
    DELETE FROM _cards; DELETE FROM sqlite_sequence WHERE name IN ('_history', '_cards');";

/// Forgets everything kept about one dataset (it is being dropped).
pub(super) fn drop_manage(tx: &Transaction<'_>, id: &str) -> Result<(), ApiError> {
    for table in ["_permissions", "_meta", "_history", "_cards"] {
        tx.execute(&format!("DELETE FROM {table} WHERE dataset_id = ?1"), [id])?;
    }
    Ok(())
}

fn get_meta(conn: &Connection, id: &str, key: &str) -> Result<Option<Json>, ApiError> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM _meta WHERE dataset_id = ?1 AND key = ?2",
            params![id, key],
            |r| r.get(0),
        )
        .optional()?;
    Ok(text.and_then(|t| serde_json::from_str(&t).ok()))
}

fn set_meta(conn: &Connection, id: &str, key: &str, value: &Json) -> Result<(), ApiError> {
    conn.execute(
        "INSERT OR REPLACE INTO _meta (dataset_id, key, value) VALUES (?1, ?2, ?3)",
        params![id, key, value.to_string()],
    )?;
    Ok(())
}

pub(super) fn add_history(
    conn: &Connection,
    id: &str,
    action: &str,
    user: &str,
    details: &str,
) -> Result<(), ApiError> {
    conn.execute(
        "INSERT INTO _history (dataset_id, at, action, user, details) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, now_ms(), action, user, details],
    )?;
    Ok(())
}

fn user_name(conn: &Connection, id: &str) -> Result<Option<String>, ApiError> {
    if id == ADMIN_ID {
        return Ok(Some(ADMIN_NAME.to_owned()));
    }
    Ok(conn
        .query_row("SELECT name FROM _users WHERE id = ?1", [id], |r| r.get(0))
        .optional()?)
}

fn owner_of(conn: &Connection, id: &str) -> Result<Json, ApiError> {
    Ok(get_meta(conn, id, "owner")?.unwrap_or_else(
        || json!({"id": ADMIN_ID, "name": ADMIN_NAME, "type": "USER", "group": false}),
    ))
}

fn iso(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// One permission to grant, as checked by the route.
pub struct Grant {
    pub kind: String,
    pub id: String,
    pub level: String,
}

impl Store {
    // ---- users ----

    pub fn add_user(
        &self,
        id: &str,
        name: &str,
        email: &str,
        token: Option<&str>,
        password: Option<&str>,
    ) -> Result<User, ApiError> {
        if id == ADMIN_ID {
            return Err(ApiError::conflict("user 1 is the emulator's administrator"));
        }
        let conn = self.lock();
        // Only digests are kept: the state file never holds a usable credential. A
        // password gets a random salt; a token is looked up by its digest.
        let password_sha256 = password.map(|p| {
            let salt = crate::auth::random_token(16);
            format!(
                "{salt}${}",
                crate::digest::sha256_hex(format!("{salt}{p}").as_bytes())
            )
        });
        conn.execute(
            "INSERT OR REPLACE INTO _users (id, name, email, token_sha256, password_sha256) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, name, email, token.map(token_digest), password_sha256],
        )
        .map_err(|e| ApiError::conflict(format!("cannot add user {id}: {}", sqlite_message(&e))))?;
        Ok(User {
            id: id.to_owned(),
            name: name.to_owned(),
            email: email.to_owned(),
            token: token.map(str::to_owned),
        })
    }

    /// The seeded user with this email (case-insensitive) and password, if any: a seeded
    /// user's email and password are their OAuth client id and secret.
    pub fn user_by_password(&self, email: &str, password: &str) -> Option<User> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare(
                "SELECT id, name, email, password_sha256 FROM _users \
                 WHERE lower(email) = lower(?1) AND password_sha256 IS NOT NULL",
            )
            .ok()?;
        let rows = stmt
            .query_map([email], |r| {
                Ok((
                    User {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        email: r.get(2)?,
                        token: None,
                    },
                    r.get::<_, String>(3)?,
                ))
            })
            .ok()?;
        rows.filter_map(Result::ok).find_map(|(user, stored)| {
            let (salt, digest) = stored.split_once('$')?;
            let given = crate::digest::sha256_hex(format!("{salt}{password}").as_bytes());
            crate::auth::constant_time_eq(&given, digest).then_some(user)
        })
    }

    /// The seeded user whose developer token this is.
    pub fn user_by_token(&self, token: &str) -> Option<User> {
        let conn = self.lock();
        conn.query_row(
            "SELECT id, name, email FROM _users WHERE token_sha256 = ?1",
            [token_digest(token)],
            |r| {
                Ok(User {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    email: r.get(2)?,
                    token: Some(token.to_owned()),
                })
            },
        )
        .ok()
    }

    /// The rank of `user`'s access to a dataset (0: none), or `None` if there is no such
    /// dataset (the route then answers its own 404).
    pub fn access_rank(&self, dataset_id: &str, user: &str) -> Result<Option<u8>, ApiError> {
        let conn = self.lock();
        let exists: Option<i64> = conn
            .query_row(
                "SELECT seq FROM _datasets WHERE id = ?1",
                [dataset_id],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        if user == ADMIN_ID {
            return Ok(Some(rank("OWNER")));
        }
        let owner = owner_of(&conn, dataset_id)?;
        if owner.get("id").and_then(Json::as_str) == Some(user) {
            return Ok(Some(rank("OWNER")));
        }
        let level: Option<String> = conn
            .query_row(
                "SELECT access_level FROM _permissions WHERE dataset_id = ?1 AND type = 'USER' AND entity_id = ?2",
                params![dataset_id, user],
                |r| r.get(0),
            )
            .optional()?;
        Ok(Some(level.map_or(0, |l| rank(&l))))
    }

    // ---- permissions ----

    /// The access list, in the live service's `{"list", "totalUserCount",
    /// "totalGroupCount"}` form; the owner comes first with level `OWNER`.
    pub fn permissions(&self, dataset_id: &str) -> Result<Json, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        let owner = owner_of(&conn, dataset_id)?;
        let mut list = vec![json!({
            "accessLevel": "OWNER",
            "id": owner["id"],
            "name": owner["name"],
            "type": owner["type"],
        })];
        let rows: Vec<(String, String, String)> = conn
            .prepare(
                "SELECT type, entity_id, access_level FROM _permissions WHERE dataset_id = ?1
                 ORDER BY type DESC, entity_id",
            )?
            .query_map([dataset_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        for (kind, id, level) in rows {
            let name = if kind == "USER" {
                user_name(&conn, &id)?.unwrap_or_else(|| id.clone())
            } else {
                id.clone()
            };
            list.push(json!({"accessLevel": level, "id": id, "name": name, "type": kind}));
        }
        let count = |t: &str| list.iter().filter(|e| e["type"] == t).count();
        let (users, groups) = (count("USER"), count("GROUP"));
        Ok(json!({"list": list, "totalUserCount": users, "totalGroupCount": groups}))
    }

    /// Grants (or changes) each permission.
    pub fn grant(
        &self,
        dataset_id: &str,
        grants: &[Grant],
        user: &str,
        action: &str,
    ) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        for g in grants {
            if g.kind == "USER" && user_name(&tx, &g.id)?.is_none() {
                return Err(ApiError::bad_request(format!("User {} not found", g.id)));
            }
            tx.execute(
                "INSERT OR REPLACE INTO _permissions (dataset_id, type, entity_id, access_level)
                 VALUES (?1, ?2, ?3, ?4)",
                params![dataset_id, g.kind, g.id, g.level],
            )?;
            add_history(
                &tx,
                dataset_id,
                action,
                user,
                &format!("{} {} granted {}", g.kind, g.id, g.level),
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Removes the access of each `(type, id)`; returns how many were removed.
    pub fn revoke(
        &self,
        dataset_id: &str,
        entities: &[(String, String)],
        user: &str,
    ) -> Result<usize, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        let mut removed = 0;
        for (kind, id) in entities {
            let n = tx.execute(
                "DELETE FROM _permissions WHERE dataset_id = ?1 AND type = ?2 AND entity_id = ?3",
                params![dataset_id, kind, id],
            )?;
            if n > 0 {
                add_history(
                    &tx,
                    dataset_id,
                    "REVOKE",
                    user,
                    &format!("{kind} {id} access revoked"),
                )?;
            }
            removed += n;
        }
        tx.commit()?;
        Ok(removed)
    }

    // ---- owner ----

    pub fn owner(&self, dataset_id: &str) -> Result<Json, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        owner_of(&conn, dataset_id)
    }

    pub fn set_owner(
        &self,
        dataset_id: &str,
        kind: &str,
        id: &str,
        user: &str,
    ) -> Result<Json, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        let name = if kind == "USER" {
            user_name(&tx, id)?
                .ok_or_else(|| ApiError::bad_request(format!("User {id} not found")))?
        } else {
            id.to_owned()
        };
        let owner = json!({"id": id, "name": name, "type": kind, "group": kind == "GROUP"});
        set_meta(&tx, dataset_id, "owner", &owner)?;
        add_history(
            &tx,
            dataset_id,
            "OWNER",
            user,
            &format!("owner changed to {kind} {id}"),
        )?;
        tx.commit()?;
        Ok(owner)
    }

    // ---- tags, properties, stored values ----

    pub fn tags(&self, dataset_id: &str) -> Result<Vec<String>, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        Ok(get_meta(&conn, dataset_id, "tags")?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default())
    }

    /// Sets the tags (`replace`: the list becomes exactly `tags`, each once) or removes
    /// the named ones; returns the tags after the change.
    pub fn change_tags(
        &self,
        dataset_id: &str,
        tags: &[String],
        replace: bool,
        user: &str,
    ) -> Result<Vec<String>, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        let mut current: Vec<String> = get_meta(&tx, dataset_id, "tags")?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        if replace {
            current.clear();
            for t in tags {
                if !current.contains(t) {
                    current.push(t.clone());
                }
            }
        } else {
            current.retain(|t| !tags.contains(t));
        }
        set_meta(&tx, dataset_id, "tags", &json!(current))?;
        let what = if replace { "set to" } else { "removed" };
        add_history(
            &tx,
            dataset_id,
            "TAGS",
            user,
            &format!("tags {what}: {}", tags.join(", ")),
        )?;
        tx.commit()?;
        Ok(current)
    }

    pub fn properties(&self, dataset_id: &str) -> Result<Json, ApiError> {
        let conn = self.lock();
        Ok(get_meta(&conn, dataset_id, "properties")?.unwrap_or_else(|| json!({})))
    }

    /// Merges `changes` into the properties; `name` and `description` also rename and
    /// describe the dataset.
    pub fn set_properties(
        &self,
        dataset_id: &str,
        changes: &serde_json::Map<String, Json>,
        user: &str,
    ) -> Result<Json, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        let mut props = get_meta(&tx, dataset_id, "properties")?.unwrap_or_else(|| json!({}));
        for (k, v) in changes {
            props[k] = v.clone();
            let column = match k.as_str() {
                "name" => "name",
                "description" => "description",
                _ => continue,
            };
            let Some(text) = v.as_str() else {
                return Err(ApiError::bad_request(format!("'{k}' must be a string")));
            };
            tx.execute(
                &format!("UPDATE _datasets SET {column} = ?2 WHERE id = ?1"),
                params![dataset_id, text],
            )?;
        }
        set_meta(&tx, dataset_id, "properties", &props)?;
        let keys: Vec<&str> = changes.keys().map(String::as_str).collect();
        add_history(
            &tx,
            dataset_id,
            "UPDATE",
            user,
            &format!("properties changed: {}", keys.join(", ")),
        )?;
        tx.commit()?;
        Ok(props)
    }

    /// A stored value (`query`, `sql`, `dataflow`, `copy`...), if any.
    pub fn stored(&self, dataset_id: &str, key: &str) -> Result<Option<Json>, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        get_meta(&conn, dataset_id, key)
    }

    pub fn store_value(
        &self,
        dataset_id: &str,
        key: &str,
        value: &Json,
        user: &str,
    ) -> Result<(), ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        set_meta(&tx, dataset_id, key, value)?;
        if key != "copy" {
            add_history(&tx, dataset_id, "UPDATE", user, &format!("{key} changed"))?;
        }
        tx.commit()?;
        Ok(())
    }

    // ---- history and cards ----

    pub fn record(&self, dataset_id: &str, action: &str, user: &str, details: &str) {
        let conn = self.lock();
        if let Err(e) = add_history(&conn, dataset_id, action, user, details) {
            tracing::warn!(message = %e.message, "cannot record history");
        }
    }

    pub fn history(&self, dataset_id: &str) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        let rows: Vec<(i64, String, String, String)> = conn
            .prepare(
                "SELECT at, action, user, details FROM _history WHERE dataset_id = ?1 ORDER BY id",
            )?
            .query_map([dataset_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })?
            .collect::<Result<_, _>>()?;
        Ok(rows
            .into_iter()
            .map(|(at, action, user, details)| {
                json!({"timestamp": iso(at), "action": action, "user": user, "details": details})
            })
            .collect())
    }

    /// Seeds a card on a dataset; fills what the caller left out.
    pub fn add_card(&self, dataset_id: &str, mut card: Json) -> Result<Json, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        load_dataset(&tx, dataset_id)?;
        tx.execute(
            "INSERT INTO _cards (dataset_id, body) VALUES (?1, '{}')",
            [dataset_id],
        )?;
        let id = 100_000_000 + tx.last_insert_rowid();
        let owner_id = card
            .get("ownerId")
            .map(|v| v.to_string().trim_matches('"').to_owned())
            .unwrap_or_else(|| ADMIN_ID.to_owned());
        let owner_name = user_name(&tx, &owner_id)?.unwrap_or_else(|| owner_id.clone());
        let defaults = json!({
            "id": id,
            "urn": id.to_string(),
            "type": "kpi",
            "chartType": "badge_vert_bar",
            "title": format!("Card {id}"),
            "ownerId": owner_id.parse::<i64>().map(Json::from).unwrap_or(json!(owner_id)),
            "owners": [{"id": owner_id, "type": "USER", "displayName": owner_name}],
            "access": true,
            "datasourceId": dataset_id,
            "drillPath": [],
        });
        if let (Json::Object(card), Json::Object(defaults)) = (&mut card, defaults) {
            for (k, v) in defaults {
                if k == "id" || k == "urn" || k == "datasourceId" {
                    card.insert(k, v);
                } else {
                    card.entry(k).or_insert(v);
                }
            }
        }
        tx.execute(
            "UPDATE _cards SET body = ?2 WHERE id = ?1",
            params![id - 100_000_000, card.to_string()],
        )?;
        tx.commit()?;
        Ok(card)
    }

    pub fn cards(&self, dataset_id: &str) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        load_dataset(&conn, dataset_id)?;
        let bodies: Vec<String> = conn
            .prepare("SELECT body FROM _cards WHERE dataset_id = ?1 ORDER BY id")?
            .query_map([dataset_id], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        Ok(bodies
            .iter()
            .filter_map(|b| serde_json::from_str(b).ok())
            .collect())
    }

    // ---- data ----

    /// Replaces every row with `data` (objects of column name to value).
    pub fn replace_rows(&self, dataset_id: &str, data: &[Json]) -> Result<i64, ApiError> {
        {
            let conn = self.lock();
            let ds = load_dataset(&conn, dataset_id)?;
            // Checked before anything is deleted: a bad row changes nothing.
            for (n, row) in data.iter().enumerate() {
                uploads::row_values(&ds, n, row)?;
            }
            let deleted = conn.execute(&format!("DELETE FROM {}", ds.data_table()), []);
            deleted?;
        }
        self.append_rows(dataset_id, data)?;
        Ok(data.len() as i64)
    }

    // ---- schema ----

    /// Applies a new schema: each column is matched to a stored one by `id` (its current
    /// name), else by name; unmatched columns are added (null in existing rows), stored
    /// columns left out are dropped, and retyped values are converted, or the change is
    /// refused if one cannot be.
    pub fn alter_schema(
        &self,
        dataset_id: &str,
        columns: Vec<(Option<String>, Column)>,
        user: &str,
    ) -> Result<Dataset, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let ds = load_dataset(&tx, dataset_id)?;
        let mut sources: Vec<Option<usize>> = Vec::with_capacity(columns.len());
        let mut changes: Vec<String> = Vec::new();
        for (id, col) in &columns {
            let by_id = id
                .as_deref()
                .and_then(|id| ds.columns.iter().position(|c| c.name == id));
            let source = by_id.or_else(|| ds.columns.iter().position(|c| c.name == col.name));
            if let Some(i) = source {
                if sources.contains(&Some(i)) {
                    return Err(ApiError::bad_request(format!(
                        "column '{}' is used twice in the new schema",
                        ds.columns[i].name
                    )));
                }
                let old = &ds.columns[i];
                if old.name != col.name {
                    changes.push(format!("column '{}' renamed to '{}'", old.name, col.name));
                }
                if old.ty != col.ty {
                    changes.push(format!(
                        "column '{}' type changed from {} to {}",
                        col.name,
                        old.ty.name(),
                        col.ty.name()
                    ));
                }
            } else {
                changes.push(format!("column '{}' ({}) added", col.name, col.ty.name()));
            }
            sources.push(source);
        }
        for (i, c) in ds.columns.iter().enumerate() {
            if !sources.contains(&Some(i)) {
                changes.push(format!("column '{}' removed", c.name));
            }
        }
        let mut new = ds.clone();
        new.columns = columns.into_iter().map(|(_, c)| c).collect();
        // Read and convert every row first, so an impossible change alters nothing: the
        // data's, and those of uploads committed but not yet indexed, which are data the
        // user has sent (dropping them would leave a waiting REPLACE to empty the dataset).
        let data_rows = convert_rows(&tx, &ds.data_table(), &ds, &new, &sources)?;
        let waiting: Vec<i64> = tx
            .prepare("SELECT id FROM _uploads WHERE dataset_id = ?1 AND state = ?2 ORDER BY id")?
            .query_map(params![ds.id, PENDING_INDEX], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut waiting_rows = Vec::new();
        for id in waiting {
            if table_exists(&tx, &ds.upload_table(id))? {
                let rows = convert_rows(&tx, &ds.upload_table(id), &ds, &new, &sources)?;
                waiting_rows.push((id, rows));
            }
        }
        // Staged, uncommitted parts were written for the old schema: those uploads end.
        drop_upload_tables(&tx, &ds)?;
        tx.execute(
            &format!(
                "UPDATE _uploads SET state = '{ABORTED}', committed_at = ?2 WHERE dataset_id = ?1 AND state = '{OPEN}'"
            ),
            params![ds.id, now_ms()],
        )?;
        tx.execute_batch(&format!(
            "DROP VIEW IF EXISTS {}; DROP TABLE {};",
            ds.view(),
            ds.data_table(),
        ))?;
        create_tables(&tx, &new)?;
        insert_rows(&tx, &new.data_table(), &new, &data_rows)?;
        for (id, rows) in &waiting_rows {
            let table = new.upload_table(*id);
            create_rows_table(&tx, &new, &table)?;
            insert_rows(&tx, &table, &new, rows)?;
        }
        tx.execute(
            "UPDATE _datasets SET schema_json = ?2, last_updated = ?3 WHERE id = ?1",
            params![ds.id, new.schema_json().to_string(), now_ms()],
        )?;
        let details = if changes.is_empty() {
            "schema unchanged".to_owned()
        } else {
            changes.join("; ")
        };
        add_history(&tx, &ds.id, "UPDATE", user, &details)?;
        tx.commit()?;
        Ok(new)
    }
}

/// Every row of the rows table `table` (quoted) of `ds`, its values converted to `new`'s
/// columns (`sources[i]`: the column of `ds` that new column `i` takes its values from),
/// led by the row's hidden columns; an error names the first value that cannot be.
fn convert_rows(
    tx: &Transaction<'_>,
    table: &str,
    ds: &Dataset,
    new: &Dataset,
    sources: &[Option<usize>],
) -> Result<Vec<Vec<Value>>, ApiError> {
    const HIDDEN: usize = 3;
    let mut select = tx.prepare(&format!(
        "SELECT __domo_rowid, __domo_partition, __domo_upload, {} FROM {table} ORDER BY __domo_rowid",
        ds.column_list(),
    ))?;
    let mut out: Vec<Vec<Value>> = Vec::new();
    let mut q = select.query([])?;
    while let Some(row) = q.next()? {
        let mut values = (0..HIDDEN)
            .map(|i| row.get::<_, Value>(i))
            .collect::<Result<Vec<_>, _>>()?;
        for (col, source) in new.columns.iter().zip(sources) {
            let Some(i) = *source else {
                values.push(Value::Null);
                continue;
            };
            let from = ds.columns[i].ty;
            let v: Value = row.get(i + HIDDEN)?;
            values.push(convert_strict(v, from, col.ty).map_err(|(text, why)| {
                ApiError::bad_request(format!(
                    "Cannot change column '{}' from {} to {}: value '{}' is {why}",
                    ds.columns[i].name,
                    from.name(),
                    col.ty.name(),
                    truncate(&text, 80)
                ))
            })?);
        }
        out.push(values);
    }
    Ok(out)
}

/// Writes rows read by `convert_rows` into the rows table `table` (quoted) of `ds`.
fn insert_rows(
    tx: &Transaction<'_>,
    table: &str,
    ds: &Dataset,
    rows: &[Vec<Value>],
) -> Result<(), ApiError> {
    let placeholders = vec!["?"; ds.columns.len() + 3].join(", ");
    let mut insert = tx.prepare(&format!(
        "INSERT INTO {table} (__domo_rowid, __domo_partition, __domo_upload, {}) VALUES ({placeholders})",
        ds.column_list()
    ))?;
    for values in rows {
        insert.execute(rusqlite::params_from_iter(values.iter()))?;
    }
    Ok(())
}

/// A stored value of type `from` as type `to`, or the value's text and why it cannot be.
fn convert_strict(v: Value, from: DomoType, to: DomoType) -> Result<Value, (String, String)> {
    if from == to {
        return Ok(v);
    }
    let text = match v {
        Value::Null => return Ok(Value::Null),
        // An exact DECIMAL's digits.
        Value::Blob(b) => String::from_utf8_lossy(&b).into_owned(),
        Value::Integer(i) => i.to_string(),
        Value::Real(f) if to == DomoType::Long && f.fract() == 0.0 && f.abs() < 9e15 => {
            return Ok(Value::Integer(f as i64));
        }
        Value::Real(f) => f.to_string(),
        Value::Text(t) => t,
    };
    text_to_value(to, &text).map_err(|why| (text, why))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (Store, Dataset) {
        let s = Store::open(None).unwrap();
        let ds = s
            .create_dataset(
                "t",
                "",
                vec![
                    Column {
                        name: "id".into(),
                        ty: DomoType::Long,
                    },
                    Column {
                        name: "code".into(),
                        ty: DomoType::String,
                    },
                ],
            )
            .unwrap();
        s.append_rows(
            &ds.id,
            &[
                json!({"id": 1, "code": "10"}),
                json!({"id": 2, "code": "x"}),
            ],
        )
        .unwrap();
        (s, ds)
    }

    #[test]
    fn impossible_retype_changes_nothing() {
        let (s, ds) = store();
        let err = s
            .alter_schema(
                &ds.id,
                vec![
                    (
                        None,
                        Column {
                            name: "id".into(),
                            ty: DomoType::Long,
                        },
                    ),
                    (
                        None,
                        Column {
                            name: "code".into(),
                            ty: DomoType::Long,
                        },
                    ),
                ],
                ADMIN_ID,
            )
            .unwrap_err();
        assert_eq!(err.status, 400);
        assert!(err.message.contains("'x'"), "{}", err.message);
        assert_eq!(s.dataset(&ds.id).unwrap().columns[1].ty, DomoType::String);
        assert_eq!(s.query(&ds.id, "SELECT * FROM table").unwrap().num_rows, 2);
    }

    #[test]
    fn rename_add_and_retype_keep_rows() {
        let (s, ds) = store();
        s.alter_schema(
            &ds.id,
            vec![
                (
                    Some("id".into()),
                    Column {
                        name: "key".into(),
                        ty: DomoType::Double,
                    },
                ),
                (
                    None,
                    Column {
                        name: "code".into(),
                        ty: DomoType::String,
                    },
                ),
                (
                    None,
                    Column {
                        name: "extra".into(),
                        ty: DomoType::Date,
                    },
                ),
            ],
            ADMIN_ID,
        )
        .unwrap();
        let r = s
            .query(&ds.id, "SELECT `key`, code, extra FROM table ORDER BY 1")
            .unwrap();
        assert_eq!(r.columns, vec!["key", "code", "extra"]);
        assert_eq!(r.rows()[0], vec![json!(1.0), json!("10"), Json::Null]);
    }

    #[test]
    fn ranks_order_levels() {
        assert!(rank("CO_OWNER") > rank("CAN_EDIT"));
        assert!(rank("CAN_EDIT") > rank("CAN_VIEW"));
        assert_eq!(rank("NOPE"), 0);
    }
}

//! Where a dataset's PDP policies are kept: one `_meta` entry per dataset (removed with
//! the dataset), `{"next": id, "list": [policy, ...]}`. A dataset without the entry has
//! the open "All Rows" policy alone. What policies mean is `crate::policies`'s business.

use super::*;

const KEY: &str = "policies";

/// The policies and the next policy id, as kept.
fn load(conn: &Connection, dataset_id: &str) -> Result<(Vec<Json>, i64), ApiError> {
    load_dataset(conn, dataset_id)?;
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM _meta WHERE dataset_id = ?1 AND key = ?2",
            params![dataset_id, KEY],
            |r| r.get(0),
        )
        .optional()?;
    let kept = text.and_then(|t| serde_json::from_str::<Json>(&t).ok());
    Ok(match kept {
        Some(v) => (
            v.get("list")
                .and_then(Json::as_array)
                .cloned()
                .unwrap_or_default(),
            v.get("next").and_then(Json::as_i64).unwrap_or(1),
        ),
        None => (vec![crate::policies::all_rows(1)], 2),
    })
}

impl Store {
    /// The dataset's policies, in the order they were made.
    pub fn policies(&self, dataset_id: &str) -> Result<Vec<Json>, ApiError> {
        let conn = self.lock();
        Ok(load(&conn, dataset_id)?.0)
    }

    /// Changes the dataset's policies with `change(list, next_id)` in one transaction;
    /// nothing is kept if it fails.
    pub fn change_policies<T>(
        &self,
        dataset_id: &str,
        change: impl FnOnce(&mut Vec<Json>, &mut i64) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        let (mut list, mut next) = load(&tx, dataset_id)?;
        let out = change(&mut list, &mut next)?;
        tx.execute(
            "INSERT OR REPLACE INTO _meta (dataset_id, key, value) VALUES (?1, ?2, ?3)",
            params![
                dataset_id,
                KEY,
                json!({"next": next, "list": list}).to_string()
            ],
        )?;
        tx.commit()?;
        Ok(out)
    }
}

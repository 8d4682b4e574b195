//! A dataset's tags: read, add, remove.

use reqwest::Method;
use serde_json::Value;

use crate::datasets::Dataset;
use crate::error::{Error, Result};
use crate::transport::Call;

/// Tags as sent: none empty, at least one.
pub(crate) fn check_tags(tags: &[String]) -> Result<()> {
    if tags.is_empty() {
        return Err(Error::invalid("no tags given"));
    }
    if let Some(i) = tags.iter().position(|t| t.trim().is_empty()) {
        return Err(Error::invalid(format!(
            "tag {i} is empty; tags are non-empty strings"
        )));
    }
    Ok(())
}

impl Dataset {
    fn tags_url(&self) -> url::Url {
        self.url(&["api", "data", "ui", "v3", "datasources"], &["tags"], &[])
    }

    /// The dataset's tags.
    pub async fn tags(&self) -> Result<Vec<String>> {
        let answer: Value = self
            .client
            .transport
            .json(&Call::new(Method::GET, self.tags_url()))
            .await?;
        let list = match &answer {
            Value::Array(items) => items.as_slice(),
            other => other
                .get("tags")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice),
        };
        Ok(list
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect())
    }

    /// Adds tags (those already there stay once).
    ///
    /// The contract calls `POST .../tags` "add"; the live service replaces the list with
    /// the one posted (clients written against it, such as domolibrary, rely on that). So
    /// the current tags are read and the whole merged list is posted: right under either
    /// reading, and nothing is sent when every tag is already there. A tag another writer
    /// adds between the read and the post can be lost under the replacing reading.
    pub async fn add_tags(&self, tags: &[String]) -> Result<()> {
        check_tags(tags)?;
        let current = self.tags().await?;
        let merged = merge_tags(&current, tags);
        if merged.len() == current.len() {
            return Ok(());
        }
        // Posting the same whole list again leaves the same tags: safe to repeat.
        let mut call = Call::new(Method::POST, self.tags_url()).json(&merged)?;
        call.idempotent = true;
        self.send_change(call).await
    }

    /// Removes tags.
    pub async fn remove_tags(&self, tags: &[String]) -> Result<()> {
        check_tags(tags)?;
        let call = Call::new(Method::DELETE, self.tags_url()).json(&tags)?;
        self.send_change(call).await
    }
}

/// `current` followed by those of `added` not already there, each once.
fn merge_tags(current: &[String], added: &[String]) -> Vec<String> {
    let mut merged = current.to_vec();
    for tag in added {
        if !merged.contains(tag) {
            merged.push(tag.clone());
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_tags_are_refused() {
        assert!(check_tags(&[]).is_err());
        assert!(check_tags(&["a".into(), " ".into()]).is_err());
        check_tags(&["finance".into()]).unwrap();
    }

    #[test]
    fn merged_tags_keep_order_and_appear_once() {
        let current = ["a".to_owned(), "b".to_owned()];
        let added = ["b".to_owned(), "c".to_owned(), "c".to_owned()];
        assert_eq!(merge_tags(&current, &added), ["a", "b", "c"]);
        assert_eq!(merge_tags(&current, &current[..1]), ["a", "b"]);
    }
}

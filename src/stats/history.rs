//! The engagement history `crier stats --record` keeps in `stats.file` (default
//! `.crier/stats.jsonl`): one JSON line per post and platform per run
//! (`{"at", "file", "platform", "id", "metrics"}`), unchanged numbers too: every run
//! leaves a row for every post it read, as the contract says.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Value, json};

use super::Row;
use crate::platforms::metrics::Metrics;

/// One line of the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// RFC 3339.
    pub at: String,
    pub file: String,
    pub platform: String,
    pub id: String,
    pub metrics: Metrics,
}

impl Entry {
    pub fn to_line(&self) -> String {
        json!({
            "at": self.at,
            "file": self.file,
            "platform": self.platform,
            "id": self.id,
            "metrics": self.metrics.to_json(),
        })
        .to_string()
    }

    fn parse(line: &str) -> Option<Self> {
        let v: Value = serde_json::from_str(line).ok()?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            at: s("at")?,
            file: s("file")?,
            platform: s("platform")?,
            id: s("id").unwrap_or_default(),
            metrics: Metrics::from_json(v.get("metrics")?),
        })
    }
}

/// The history's lines, oldest first. Lines that are not history rows (a merge
/// conflict's markers, a hand edit) are skipped.
pub fn parse(text: &str) -> Vec<Entry> {
    text.lines().filter_map(Entry::parse).collect()
}

/// The history at `path`; none when the file does not exist yet.
pub fn read(path: &Path) -> std::io::Result<Vec<Entry>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(parse(&text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The last recorded numbers of each (file, platform).
pub fn latest(entries: &[Entry]) -> HashMap<(String, String), Metrics> {
    entries.iter().map(|e| ((e.file.clone(), e.platform.clone()), e.metrics)).collect()
}

/// The lines a run at `at` appends: one per row (every post and platform read),
/// each ending in a newline.
pub fn new_lines(rows: &[Row], at: &str) -> String {
    rows.iter()
        .map(|r| {
            let e = Entry {
                at: at.to_owned(),
                file: r.file.clone(),
                platform: r.platform.name().to_owned(),
                id: r.id.clone(),
                metrics: r.metrics,
            };
            e.to_line() + "\n"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::PlatformId;
    use crate::platforms::metrics::Metric;

    fn row(file: &str, likes: u64) -> Row {
        Row {
            file: file.into(),
            platform: PlatformId::parse("bluesky").unwrap(),
            id: format!("at://{file}"),
            url: String::new(),
            published_at: String::new(),
            metrics: Metrics::default().with(Metric::Likes, Some(likes)),
            first: None,
        }
    }

    #[test]
    fn every_row_is_appended_on_every_run() {
        let at1 = "2026-12-01T00:00:00Z";
        let first = new_lines(&[row("a.md", 1), row("b.md", 2)], at1);
        assert_eq!(first.lines().count(), 2);
        let history = parse(&first);
        assert_eq!(history[0].at, at1);
        assert_eq!(history[1].metrics.get(Metric::Likes), Some(2));

        // a.md unchanged, b.md changed, c.md new: all three get a line.
        let second = parse(&new_lines(&[row("a.md", 1), row("b.md", 5), row("c.md", 0)], "2026-12-08T00:00:00Z"));
        let files: Vec<&str> = second.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(files, ["a.md", "b.md", "c.md"]);
        assert_eq!(second[0].metrics, history[0].metrics, "the unchanged numbers are recorded again");
    }

    #[test]
    fn lines_have_the_contract_keys_and_junk_is_skipped() {
        let line = new_lines(&[row("a.md", 3)], "2026-12-01T00:00:00Z");
        let v: Value = serde_json::from_str(line.trim()).unwrap();
        let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["at", "file", "id", "metrics", "platform"]);
        assert_eq!(v["metrics"], json!({"likes": 3}));
        let text = format!("<<<<<<< HEAD\n{line}not json\n");
        assert_eq!(parse(&text).len(), 1);
    }
}

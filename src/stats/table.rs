//! `crier stats` output: the terminal table, CSV, and the GitHub Actions job summary.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use super::{Row, Unavailable};
use crate::platforms::PlatformId;
use crate::platforms::metrics::{Metric, Metrics};

/// The last recorded numbers per (file, platform name), for the change column.
pub type Previous = HashMap<(String, String), Metrics>;

/// Sorts `rows` by `metric`, most first; rows without it last; ties by file and platform.
pub fn sort(rows: &mut [Row], metric: Metric) {
    rows.sort_by(|a, b| {
        let key = |r: &Row| std::cmp::Reverse(r.metrics.get(metric).map(|n| n as i128).unwrap_or(-1));
        key(a).cmp(&key(b)).then_with(|| (&a.file, a.platform).cmp(&(&b.file, b.platform)))
    });
}

/// The metrics any row reports (the table's columns), in the contract's order.
fn columns(rows: &[Row]) -> Vec<Metric> {
    Metric::ALL.into_iter().filter(|&m| rows.iter().any(|r| r.metrics.get(m).is_some())).collect()
}

/// What changed since the last recorded numbers: `+40 views +3 likes`, `new` when
/// nothing was recorded, empty when nothing changed.
pub fn change(now: &Metrics, before: Option<&Metrics>) -> String {
    let Some(before) = before else { return "new".to_owned() };
    let mut out = Vec::new();
    for m in Metric::ALL {
        let (a, b) = (before.get(m).unwrap_or(0), now.get(m).unwrap_or(0));
        if a != b {
            let d = i128::from(b) - i128::from(a);
            out.push(format!("{d:+} {}", m.name()));
        }
    }
    out.join(" ")
}

fn cell(m: &Metrics, k: Metric) -> String {
    m.get(k).map_or_else(|| "-".to_owned(), |n| n.to_string())
}

fn per_platform(rows: &[Row]) -> BTreeMap<PlatformId, Metrics> {
    let mut totals: BTreeMap<PlatformId, Metrics> = BTreeMap::new();
    for r in rows {
        totals.entry(r.platform).or_default().add(&r.metrics);
    }
    totals
}

/// The terminal table: post, platform, each metric reported, the change since the last
/// recorded row; then the totals per platform and what could not be read.
pub fn human(rows: &[Row], unavailable: &[Unavailable], previous: &Previous, color: bool) -> String {
    let paint = |code: &str, s: &str| if color { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_owned() };
    let cols = columns(rows);
    let mut lines: Vec<Vec<String>> = Vec::new();
    let mut changes = Vec::new();
    let mut header = vec!["post".to_owned(), "platform".to_owned()];
    header.extend(cols.iter().map(|m| m.name().to_owned()));
    lines.push(header);
    changes.push("change".to_owned());
    for r in rows {
        let mut line = vec![r.file.clone(), r.platform.name().to_owned()];
        line.extend(cols.iter().map(|&m| cell(&r.metrics, m)));
        lines.push(line);
        changes.push(change(&r.metrics, previous.get(&(r.file.clone(), r.platform.name().to_owned()))));
        if let Some(first) = &r.first {
            let mut line = vec!["  first part".to_owned(), String::new()];
            line.extend(cols.iter().map(|&m| cell(first, m)));
            lines.push(line);
            changes.push(String::new());
        }
    }
    let totals = per_platform(rows);
    let first_total = lines.len();
    for (p, m) in &totals {
        let mut line = vec!["total".to_owned(), p.name().to_owned()];
        line.extend(cols.iter().map(|&k| cell(m, k)));
        lines.push(line);
        changes.push(String::new());
    }
    let widths: Vec<usize> =
        (0..lines[0].len()).map(|i| lines.iter().map(|l| l[i].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for (n, (line, ch)) in lines.iter().zip(&changes).enumerate() {
        if n == first_total && !rows.is_empty() {
            out.push('\n');
        }
        let mut text = String::new();
        for (i, c) in line.iter().enumerate() {
            let pad = widths[i] - c.chars().count();
            if i < 2 {
                let _ = write!(text, "{c}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(text, "{}{c}  ", " ".repeat(pad));
            }
        }
        let text = if n == 0 || n >= first_total { paint("1", &text) } else { text };
        let ch = if ch.starts_with('+') || ch == "new" { paint("32", ch) } else { ch.clone() };
        let _ = writeln!(out, "{}", format!("{text}{ch}").trim_end());
    }
    if rows.is_empty() {
        // With nothing unavailable either there is nothing published to read: the command says so.
        out = if unavailable.is_empty() { String::new() } else { "nothing could be read:\n".to_owned() };
    }
    for u in unavailable {
        let _ = writeln!(out, "{} {}: {}", paint("33", "unavailable:"), u.platform, u.reason);
    }
    out
}

/// CSV: `file,platform,url,published_at` and every metric (empty when absent).
pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("file,platform,url,published_at");
    for m in Metric::ALL {
        out.push(',');
        out.push_str(m.name());
    }
    out.push('\n');
    for r in rows {
        let fields = [r.file.as_str(), r.platform.name(), r.url.as_str(), r.published_at.as_str()];
        out.push_str(&fields.map(csv_field).join(","));
        for m in Metric::ALL {
            out.push(',');
            if let Some(n) = r.metrics.get(m) {
                out.push_str(&n.to_string());
            }
        }
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

/// The GitHub Actions job summary: the `top` posts by `metric` as a Markdown table.
pub fn summary(rows: &[Row], metric: Metric, top: usize) -> String {
    let cols = columns(rows);
    let mut out = format!("### crier stats: top posts by {}\n\n| post | platform |", metric.name());
    for m in &cols {
        let _ = write!(out, " {} |", m.name());
    }
    out.push_str("\n|---|---|");
    out.push_str(&"---:|".repeat(cols.len()));
    out.push('\n');
    for r in rows.iter().take(top) {
        let post = if r.url.is_empty() { r.file.clone() } else { format!("[{}]({})", r.file, r.url) };
        let _ = write!(out, "| {} | {} |", post.replace('|', "\\|"), r.platform);
        for &m in &cols {
            let _ = write!(out, " {} |", cell(&r.metrics, m));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(file: &str, platform: &str, views: Option<u64>, likes: u64) -> Row {
        Row {
            file: file.into(),
            platform: PlatformId::parse(platform).unwrap(),
            id: "1".into(),
            url: format!("https://example.com/{file}"),
            published_at: "2026-12-01T00:00:00Z".into(),
            metrics: Metrics::default().with(Metric::Views, views).with(Metric::Likes, Some(likes)),
            first: None,
        }
    }

    #[test]
    fn changes_name_each_metric_that_moved() {
        let now = Metrics::default().with(Metric::Views, Some(50)).with(Metric::Likes, Some(2));
        let cases = [
            (None, "new"),
            (Some(now), ""),
            (Some(Metrics::default().with(Metric::Views, Some(10)).with(Metric::Likes, Some(3))), "+40 views -1 likes"),
        ];
        for (before, want) in cases {
            assert_eq!(change(&now, before.as_ref()), want);
        }
    }

    #[test]
    fn sorting_puts_absent_metrics_last() {
        let mut rows =
            vec![row("a.md", "bluesky", None, 9), row("b.md", "devto", Some(3), 1), row("c.md", "devto", Some(7), 0)];
        sort(&mut rows, Metric::Views);
        let order: Vec<&str> = rows.iter().map(|r| r.file.as_str()).collect();
        assert_eq!(order, ["c.md", "b.md", "a.md"]);
    }

    #[test]
    fn csv_leaves_absent_metrics_empty_and_quotes_fields() {
        let mut r = row("a,b.md", "bluesky", None, 4);
        r.url = "https://x/\"q\"".into();
        let out = csv(&[r]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "file,platform,url,published_at,views,likes,replies,reposts,quotes,shares,bookmarks");
        assert_eq!(lines[1], "\"a,b.md\",bluesky,\"https://x/\"\"q\"\"\",2026-12-01T00:00:00Z,,4,,,,,");
    }
}

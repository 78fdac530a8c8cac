//! `crier stats --html FILE` and `watch --serve`'s `/stats`: one self-contained page (no
//! script, no request anywhere) drawn from the history: the posts ranked, each platform's
//! totals over time and each post's numbers over time, as inline SVG line charts.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::DateTime;

use super::history::Entry;
use crate::platforms::metrics::{Metric, Metrics};
use crate::render::html::escape;

const WIDTH: f64 = 560.0;
const HEIGHT: f64 = 180.0;
const PAD: f64 = 36.0;
/// One colour per metric, in [`Metric::ALL`]'s order.
const COLOURS: [&str; 7] = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#ca8a04"];

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f5;color:#111}
main{max-width:1200px;margin:auto;padding:1em}section{background:#fff;border-radius:10px;padding:1em;margin:1em 0}
table{border-collapse:collapse}td,th{padding:.2em .6em;text-align:right}td:first-child,th:first-child,td:nth-child(2),th:nth-child(2){text-align:left}
.charts{display:flex;flex-wrap:wrap;gap:1em}figure{margin:0}figcaption{font:600 13px ui-monospace,monospace}
svg text{font:11px system-ui,sans-serif;fill:#555}";

/// The page for `history` (oldest first), posts ranked by `rank_by`.
pub fn page(history: &[Entry], rank_by: Metric) -> String {
    // (file, platform) → [(time, metrics)], oldest first.
    let mut series: BTreeMap<(&str, &str), Vec<(i64, Metrics)>> = BTreeMap::new();
    for e in history {
        let Ok(t) = DateTime::parse_from_rfc3339(&e.at) else { continue };
        let points = series.entry((&e.file, &e.platform)).or_default();
        // Two runs in the same second (rows are written on every run): the later one stands.
        match points.last_mut() {
            Some(last) if last.0 == t.timestamp() => last.1 = e.metrics,
            _ => points.push((t.timestamp(), e.metrics)),
        }
    }
    let mut html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>crier stats</title><style>{STYLE}</style></head><body><main><h1>crier stats</h1>"
    );
    if series.is_empty() {
        html.push_str("<p>No history yet: run <code>crier stats --record</code>.</p>");
    }
    html.push_str(&ranking(&series, rank_by));
    html.push_str("<section><h2>Each platform's totals over time</h2><div class=\"charts\">");
    for (platform, points) in totals(&series) {
        html.push_str(&chart(platform, &points));
    }
    html.push_str("</div></section><section><h2>Each post over time</h2><div class=\"charts\">");
    for ((file, platform), points) in &series {
        html.push_str(&chart(&format!("{file} · {platform}"), points));
    }
    html.push_str("</div></section></main></body></html>\n");
    html
}

/// The latest numbers of every post, most `rank_by` first.
fn ranking(series: &BTreeMap<(&str, &str), Vec<(i64, Metrics)>>, rank_by: Metric) -> String {
    let mut latest: Vec<(&str, &str, Metrics)> =
        series.iter().filter_map(|((f, p), pts)| Some((*f, *p, pts.last()?.1))).collect();
    latest.sort_by_key(|(f, p, m)| (std::cmp::Reverse(m.get(rank_by).map_or(-1, |n| n as i128)), *f, *p));
    let mut out = format!(
        "<section><h2>Posts ranked by {}</h2><table><tr><th>#</th><th>post</th><th>platform</th>",
        rank_by.name()
    );
    for m in Metric::ALL {
        let _ = write!(out, "<th>{}</th>", m.name());
    }
    out.push_str("</tr>");
    for (i, (file, platform, m)) in latest.iter().enumerate() {
        let _ = write!(out, "<tr><td>{}</td><td>{}</td><td>{}</td>", i + 1, escape(file), escape(platform));
        for k in Metric::ALL {
            let _ = write!(out, "<td>{}</td>", m.get(k).map_or_else(|| "–".to_owned(), |n| n.to_string()));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></section>");
    out
}

/// Each platform's sum over its posts at every recorded time, a post counting with its
/// latest numbers at that time.
fn totals<'a>(series: &BTreeMap<(&'a str, &'a str), Vec<(i64, Metrics)>>) -> BTreeMap<&'a str, Vec<(i64, Metrics)>> {
    let mut out = BTreeMap::new();
    let platforms: std::collections::BTreeSet<&str> = series.keys().map(|(_, p)| *p).collect();
    for platform in platforms {
        let posts: Vec<&Vec<(i64, Metrics)>> =
            series.iter().filter(|((_, p), _)| *p == platform).map(|(_, v)| v).collect();
        let mut times: Vec<i64> = posts.iter().flat_map(|v| v.iter().map(|(t, _)| *t)).collect();
        times.sort_unstable();
        times.dedup();
        let points = times
            .into_iter()
            .map(|t| {
                let mut sum = Metrics::default();
                for v in &posts {
                    if let Some((_, m)) = v.iter().rev().find(|(at, _)| *at <= t) {
                        sum.add(m);
                    }
                }
                (t, sum)
            })
            .collect();
        out.insert(platform, points);
    }
    out
}

/// A line chart of every metric the points report, one line per metric.
fn chart(title: &str, points: &[(i64, Metrics)]) -> String {
    let (t0, t1) = (points.iter().map(|p| p.0).min().unwrap_or(0), points.iter().map(|p| p.0).max().unwrap_or(0));
    let top = points.iter().flat_map(|(_, m)| m.present().map(|(_, n)| n)).max().unwrap_or(0).max(1);
    let x = |t: i64| {
        if t1 == t0 { WIDTH / 2.0 } else { PAD + (t - t0) as f64 / (t1 - t0) as f64 * (WIDTH - 2.0 * PAD) }
    };
    let y = |n: u64| HEIGHT - PAD / 2.0 - n as f64 / top as f64 * (HEIGHT - PAD);
    let mut svg = format!(
        "<figure><figcaption>{}</figcaption><svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\">",
        escape(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{PAD}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#ccc\"/><text x=\"2\" y=\"{tt}\">{top}</text><text x=\"2\" y=\"{b}\">0</text>",
        b = y(0),
        r = WIDTH - PAD,
        tt = y(top) + 4.0
    );
    let mut legend = 0.0;
    for (i, m) in Metric::ALL.into_iter().enumerate() {
        let pts: Vec<(f64, f64)> = points.iter().filter_map(|(t, ms)| Some((x(*t), y(ms.get(m)?)))).collect();
        if pts.is_empty() {
            continue;
        }
        let colour = COLOURS[i];
        let coords: Vec<String> = pts.iter().map(|(a, b)| format!("{a:.1},{b:.1}")).collect();
        let _ = write!(
            svg,
            "<polyline class=\"series\" data-metric=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            m.name(),
            coords.join(" ")
        );
        for (a, b) in &pts {
            let _ = write!(svg, "<circle cx=\"{a:.1}\" cy=\"{b:.1}\" r=\"3\" fill=\"{colour}\"/>");
        }
        let _ = write!(svg, "<text x=\"{:.0}\" y=\"12\" style=\"fill:{colour}\">{}</text>", PAD + legend, m.name());
        legend += 70.0;
    }
    svg.push_str("</svg></figure>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at: &str, file: &str, platform: &str, likes: u64, views: Option<u64>) -> Entry {
        Entry {
            at: at.into(),
            file: file.into(),
            platform: platform.into(),
            id: "1".into(),
            metrics: Metrics::default().with(Metric::Likes, Some(likes)).with(Metric::Views, views),
        }
    }

    #[test]
    fn totals_carry_each_post_forward() {
        let history = [
            entry("2026-12-01T00:00:00Z", "a.md", "devto", 1, Some(10)),
            entry("2026-12-01T00:00:00Z", "b.md", "devto", 2, Some(20)),
            // Only a.md changed a week later: b.md still counts with its numbers.
            entry("2026-12-08T00:00:00Z", "a.md", "devto", 5, Some(15)),
        ];
        let mut series: BTreeMap<(&str, &str), Vec<(i64, Metrics)>> = BTreeMap::new();
        for e in &history {
            let t = DateTime::parse_from_rfc3339(&e.at).unwrap().timestamp();
            series.entry((&e.file, &e.platform)).or_default().push((t, e.metrics));
        }
        let t = totals(&series);
        let likes: Vec<Option<u64>> = t["devto"].iter().map(|(_, m)| m.get(Metric::Likes)).collect();
        assert_eq!(likes, [Some(3), Some(7)]);
    }

    #[test]
    fn the_page_is_self_contained_and_draws_every_reported_metric() {
        let history = [
            entry("2026-12-01T00:00:00Z", "a.md", "bluesky", 1, None),
            entry("2026-12-08T00:00:00Z", "a.md", "bluesky", 4, None),
            entry("2026-12-08T00:00:00Z", "<b>.md", "devto", 9, Some(100)),
        ];
        let html = page(&history, Metric::Likes);
        assert!(!html.contains("<script"), "no script");
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"), "nothing fetched");
        assert!(html.contains("&lt;b&gt;.md"), "file names are escaped");
        // Ranked by likes: the devto post (9) before the bluesky one (4).
        assert!(html.find("&lt;b&gt;.md").unwrap() < html.find("<td>a.md").unwrap());
        // bluesky: likes only (views absent, never drawn as 0); devto: views and likes.
        assert_eq!(html.matches("data-metric=\"views\"").count(), 2, "devto's total and post charts");
        assert_eq!(html.matches("data-metric=\"likes\"").count(), 4);
        assert!(page(&[], Metric::Likes).contains("No history yet"));
    }

    #[test]
    fn repeated_equal_rows_draw_a_flat_line_and_one_point_per_time() {
        let history = [
            entry("2026-12-01T00:00:00Z", "a.md", "devto", 4, None),
            entry("2026-12-08T00:00:00Z", "a.md", "devto", 4, None),
            entry("2026-12-08T00:00:00Z", "a.md", "devto", 4, None),
        ];
        let html = page(&history, Metric::Likes);
        let post = &html[html.find("a.md · devto").unwrap()..];
        let line = &post[post.find("points=\"").unwrap() + 8..];
        let points: Vec<&str> = line[..line.find('"').unwrap()].split(' ').collect();
        assert_eq!(points.len(), 2, "one point per recorded time: {points:?}");
        let ys: Vec<&str> = points.iter().map(|p| p.split(',').nth(1).unwrap()).collect();
        assert_eq!(ys[0], ys[1], "equal numbers draw a flat line");
    }
}

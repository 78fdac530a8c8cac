//! `crier status`: every post, platform and state; with `--remote`, whether each
//! platform still shows what the files record (see [`crate::drift`]).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::check::print;
use super::{Global, Outcome, open_project, parse_platforms, require_credentials};
use crate::cli::{RenderFormat, StatusArgs};
use crate::drift::{self, Finding};
use crate::error::Result;
use crate::pipeline;
use crate::platforms::http::HttpOptions;
use crate::publish::{self, State};

pub fn execute(g: &Global, args: &StatusArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let now = g.env.now()?;
    let only = parse_platforms(&args.platform)?;
    let files = pipeline::select(&project, &[])?;
    let reports = pipeline::check_all(&project, &files);
    let entries = publish::plan(&reports, now);

    // (index into `entries`, what the platform said)
    let mut remote: Vec<(usize, Finding)> = Vec::new();
    if args.remote {
        let recorded = drift::recorded(&entries, &only);
        let mut needed: Vec<_> = recorded.iter().map(|e| e.platform).collect();
        needed.sort();
        needed.dedup();
        require_credentials(g, &needed, "look posts up on")?;
        let quiet = g.quiet || args.format == RenderFormat::Json;
        let progress = |msg: &str| {
            if !quiet && g.verbose > 0 {
                eprintln!("  {msg}");
            }
        };
        let http = HttpOptions::for_reading(&project.config.publish);
        let findings = drift::inspect(&project, &g.env, &reports, &recorded, http, &progress);
        let index: std::collections::HashMap<(&str, _), usize> =
            entries.iter().enumerate().map(|(i, e)| ((e.path.as_str(), e.platform), i)).collect();
        for f in findings {
            if let Some(&i) = index.get(&(f.path.as_str(), f.platform)) {
                remote.push((i, f));
            }
        }
    }
    // Every row shown: the plan (its index in `entries`), and the records of platforms a post
    // no longer lists (none), which publish leaves alone and --remote does not ask about.
    let unlisted = publish::unlisted(&reports);
    let mut rows: Vec<(&publish::PlanEntry, Option<usize>)> =
        entries.iter().enumerate().map(|(i, e)| (e, Some(i))).chain(unlisted.iter().map(|e| (e, None))).collect();
    rows.sort_by(|a, b| publish::plan_order(a.0, b.0));
    let by_entry: std::collections::HashMap<usize, &Finding> = remote.iter().map(|(i, f)| (*i, f)).collect();
    let finding = |i: Option<usize>| i.and_then(|i| by_entry.get(&i).copied());
    let drifted = remote.iter().filter(|(_, f)| f.remote.is_drift()).count();
    let unchecked = remote.iter().filter(|(_, f)| matches!(f.remote, crate::platforms::Remote::Unchecked(_))).count();

    match args.format {
        RenderFormat::Json => {
            let posts: Vec<Value> = rows
                .iter()
                .map(|&(e, i)| {
                    let mut v = publish::entry_json(e);
                    if let Some(f) = finding(i) {
                        v["remote"] = remote_json(f);
                    }
                    v
                })
                .collect();
            let mut out = json!({ "posts": posts });
            if args.remote {
                out["remote"] =
                    json!({ "checked": remote.len() - unchecked, "drift": drifted, "unchecked": unchecked });
            }
            print(&format!("{out}\n"));
        }
        RenderFormat::Human => {
            let mut out = String::new();
            let width = rows.iter().map(|(e, _)| e.path.len()).max().unwrap_or(0);
            for &(e, i) in &rows {
                let mut detail = match &e.state {
                    State::Scheduled(t) => format!("at {}", publish::rfc3339(*t)),
                    State::Published { url, changed: false } => url.clone(),
                    State::Published { url, changed: true } => format!("{url} (changed since published)"),
                    State::Invalid => "has errors: run `crier check`".to_owned(),
                    State::Deleted { url, at } => format!("{url} (deleted at {at})"),
                    State::Unconfirmed { note } => {
                        format!("sent, reply lost: {note}; {}", publish::unconfirmed_hint(&e.path, e.platform))
                    }
                    State::Draft | State::Due => String::new(),
                };
                if i.is_none() {
                    let _ =
                        write!(detail, " (`{}` is no longer in the post's platforms: publish leaves it)", e.platform);
                }
                let _ = writeln!(out, "{:width$}  {:8} {:10} {detail}", e.path, e.platform.name(), e.state.name());
            }
            if rows.is_empty() {
                out.push_str("no posts\n");
            }
            if args.remote {
                out.push_str(&remote_human(&remote, drifted, unchecked));
            }
            print(&out);
        }
    }
    Ok(if unchecked == 0 { Outcome::Success } else { Outcome::Failure })
}

fn remote_json(f: &Finding) -> Value {
    use crate::platforms::Remote;
    let mut v = json!({ "state": f.remote.name() });
    match &f.remote {
        Remote::Gone(m) | Remote::Edited(m) | Remote::OtherAccount(m) | Remote::Unchecked(m) => {
            v["message"] = json!(m);
        }
        Remote::Same => {}
    }
    let advice = drift::advice(f);
    if !advice.is_empty() {
        v["hint"] = json!(advice);
    }
    v
}

fn remote_human(remote: &[(usize, Finding)], drifted: usize, unchecked: usize) -> String {
    use crate::platforms::Remote;
    let mut out = String::new();
    let checked = remote.len() - unchecked;
    let _ = writeln!(
        out,
        "\nremote: asked the platforms about {} recorded post{}: {}",
        remote.len(),
        if remote.len() == 1 { "" } else { "s" },
        if drifted == 0 && unchecked == 0 {
            format!("all {checked} as recorded")
        } else {
            format!("{drifted} drifted, {unchecked} not checked")
        }
    );
    for (_, f) in remote {
        let what = match &f.remote {
            Remote::Same => continue,
            Remote::Gone(m) => format!("gone: {m}"),
            Remote::Edited(m) => format!("edited: {m}"),
            Remote::OtherAccount(m) => format!("other account: {m}"),
            Remote::Unchecked(m) => format!("not checked: {m}"),
        };
        let _ = writeln!(out, "  {} → {}  {what}", f.path, f.platform);
        let advice = drift::advice(f);
        if !advice.is_empty() {
            let _ = writeln!(out, "    hint: {advice}");
        }
    }
    out
}

//! `crier status`: every post, platform and state.

use std::fmt::Write as _;

use serde_json::json;

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::cli::{RenderFormat, StatusArgs};
use crate::error::Result;
use crate::pipeline;
use crate::publish::{self, State};

pub fn execute(g: &Global, args: &StatusArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let now = g.env.now()?;
    let files = pipeline::select(&project, &[])?;
    let reports = pipeline::check_all(&project, &files);
    let entries = publish::plan(&reports, now);
    match args.format {
        RenderFormat::Json => print(&format!("{}\n", json!({ "posts": publish::plan_json(&entries) }))),
        RenderFormat::Human => {
            let mut out = String::new();
            let width = entries.iter().map(|e| e.path.len()).max().unwrap_or(0);
            for e in &entries {
                let detail = match &e.state {
                    State::Scheduled(t) => format!("at {}", publish::rfc3339(*t)),
                    State::Published { url, changed: false } => url.clone(),
                    State::Published { url, changed: true } => format!("{url} (changed since published)"),
                    State::Invalid => "has errors: run `crier check`".to_owned(),
                    State::Draft | State::Due => String::new(),
                };
                let _ = writeln!(out, "{:width$}  {:8} {:10} {detail}", e.path, e.platform.name(), e.state.name());
            }
            if entries.is_empty() {
                out.push_str("no posts\n");
            }
            print(&out);
        }
    }
    Ok(Outcome::Success)
}

//! `crier render PATH`: what a post becomes on each platform.

use serde_json::{Map, json};

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::cli::{RenderArgs, RenderFormat};
use crate::diag;
use crate::error::{Error, Result};
use crate::pipeline;
use crate::platforms::{self, PlatformId};

pub fn execute(g: &Global, args: &RenderArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let only = match &args.platform {
        Some(name) => Some(
            PlatformId::parse(name)
                .ok_or_else(|| Error::usage(format!("unknown platform `{name}`: {}", PlatformId::hint_for(name))))?,
        ),
        None => None,
    };
    let abs = if args.path.is_absolute() { args.path.clone() } else { g.root.join(&args.path) };
    if !abs.is_file() {
        return Err(Error::usage(format!("`{}` is not a file", args.path.display())));
    }
    let mut report = pipeline::check_post(&project, &abs);
    // Rendering for a platform the post does not list is allowed: a preview.
    if let (Some(p), Some(post)) = (only, &report.post) {
        if !report.targets.contains(&p) {
            let mut targets = report.targets.clone();
            targets.push(p);
            match platforms::get(p).render(&project, post, &targets) {
                Ok(r) => report.rendered.push(r),
                Err(errs) => report.diagnostics.extend(errs),
            }
        }
    }
    let rendered: Vec<_> = report.rendered.iter().filter(|r| only.is_none_or(|p| r.platform() == p)).collect();
    let errors = report.errors();

    // Diagnostics go to stderr so stdout stays the rendering (pipeable JSON).
    let sources = pipeline::sources(&project, std::slice::from_ref(&report));
    let mut problems = String::new();
    for d in &report.diagnostics {
        if g.quiet && !d.is_error() {
            continue;
        }
        problems.push_str(&diag::render_human(d, &sources, diag::Style { color: false, unicode: true }));
    }
    if !problems.is_empty() {
        eprint!("{problems}");
    }

    match args.format {
        RenderFormat::Json => {
            let mut platforms = Map::new();
            for r in &rendered {
                platforms.insert(r.platform().name().to_owned(), r.to_json());
            }
            print(&format!("{}\n", json!({ "file": report.path, "platforms": platforms })));
        }
        RenderFormat::Human => {
            let mut out = String::new();
            for r in &rendered {
                out.push_str(&format!("━━ {} → {} ━━\n", report.path, r.platform()));
                out.push_str(&r.to_human());
                out.push('\n');
            }
            print(&out);
        }
    }
    Ok(if errors > 0 { Outcome::Failure } else { Outcome::Success })
}

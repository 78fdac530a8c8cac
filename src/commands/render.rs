//! `crier render PATH`: what a post becomes on each platform.

use serde_json::{Map, json};

use super::check::print;
use super::{Global, Outcome, open_project};
use crate::cli::{RenderArgs, RenderFormat};
use crate::diag::{self, Diagnostic};
use crate::error::{Error, Result};
use crate::pipeline;
use crate::platforms::PlatformId;

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
    let report = pipeline::check_post_on(&project, &abs, only);
    let rendered: Vec<_> = report.rendered.iter().filter(|r| only.is_none_or(|p| r.platform() == p)).collect();

    // The broken templates this post would render with: rendering stops at them, and
    // their problem (reported once, at load) is the reason a platform shows nothing.
    let templates = report.post.as_ref().map_or_else(Vec::new, |post| {
        let platforms = only.map_or_else(|| report.targets.clone(), |p| vec![p]);
        let names = platforms
            .iter()
            .map(|p| p.name())
            .chain(post.front.template.iter().map(|t| t.value.as_str()))
            .chain(post.options.templates().map(|t| t.value.as_str()));
        project.templates.diagnostics_of(names)
    });
    let all: Vec<&Diagnostic> = templates.into_iter().chain(&report.diagnostics).collect();
    let errors = all.iter().filter(|d| d.is_error()).count();

    // Diagnostics go to stderr so stdout stays the rendering (pipeable JSON).
    let sources = pipeline::sources(&project, std::slice::from_ref(&report));
    let mut problems = String::new();
    for d in all {
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

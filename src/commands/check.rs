//! `crier check`: validate posts, print diagnostics (human, JSON or GitHub).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

use super::{Global, Outcome, open_project};
use crate::cli::{CheckArgs, CheckFormat};
use crate::diag::{self, Diagnostic, Severity, plural};
use crate::error::{Error, Result};
use crate::pipeline::{self, PostReport};
use crate::project::Project;

pub fn execute(g: &Global, args: &CheckArgs) -> Result<Outcome> {
    let project = open_project(g)?;
    let files = pipeline::select(&project, &args.paths)?;
    match args.format {
        CheckFormat::Json => execute_json(&project, &files),
        CheckFormat::Github | CheckFormat::Human => execute_text(g, args, &project, &files),
    }
}

/// Human or GitHub output, which may show the rendered posts.
fn execute_text(g: &Global, args: &CheckArgs, project: &Project, files: &[PathBuf]) -> Result<Outcome> {
    let reports = pipeline::check_all(project, files);
    let mut all: Vec<&Diagnostic> = project.templates.diagnostics.iter().collect();
    all.extend(reports.iter().flat_map(|r| r.diagnostics.iter()));
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = all.len() - errors;

    let mut out = String::new();
    if matches!(args.format, CheckFormat::Github) {
        for d in &all {
            out.push_str(&diag::render_github(d));
            out.push('\n');
        }
        let _ = writeln!(out, "{}", summary_line(reports.len(), errors, warnings));
        if let Some(path) = g.env.get("GITHUB_STEP_SUMMARY") {
            append(path, &step_summary(&reports, &all, errors, warnings))?;
        }
    } else {
        let sources = pipeline::sources(project, &reports);
        for d in &all {
            if g.quiet && d.severity == Severity::Warning {
                continue;
            }
            out.push_str(&diag::render_human(d, &sources, g.style));
        }
        if !g.quiet {
            if g.verbose > 0 {
                for r in &reports {
                    let _ = writeln!(out, "{}", r.path);
                    for rendered in &r.rendered {
                        let _ = writeln!(out, "  {}", rendered.summary());
                    }
                }
            }
            let _ = writeln!(out, "{}", summary_line(reports.len(), errors, warnings));
        }
    }
    print(&out);
    Ok(if errors > 0 { Outcome::Failure } else { Outcome::Success })
}

/// `check --format json`: only the diagnostics are kept, so each post is
/// freed (on its worker thread) as soon as it is checked.
fn execute_json(project: &Project, files: &[PathBuf]) -> Result<Outcome> {
    let per_post = pipeline::check_all_diagnostics(project, files);
    let mut all: Vec<&Diagnostic> = project.templates.diagnostics.iter().collect();
    all.extend(per_post.iter().flatten());
    let errors = all.iter().filter(|d| d.severity == Severity::Error).count();
    let report = JsonReport {
        diagnostics: all.iter().map(|d| diag::JsonDiagnostic::new(d)).collect(),
        errors,
        posts: per_post.len(),
        warnings: all.len() - errors,
    };
    let mut out = serde_json::to_string(&report).map_err(|e| Error::io("cannot write the JSON report", e.into()))?;
    out.push('\n');
    print(&out);
    Ok(if errors > 0 { Outcome::Failure } else { Outcome::Success })
}

/// `check --format json` output; keys in alphabetical order, as in a
/// `serde_json::Value` object.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    diagnostics: Vec<diag::JsonDiagnostic<'a>>,
    errors: usize,
    posts: usize,
    warnings: usize,
}

pub(crate) fn print(s: &str) {
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`crier check | head`) is not an error worth reporting.
    let _ = stdout.write_all(s.as_bytes());
    let _ = stdout.flush();
}

fn summary_line(posts: usize, errors: usize, warnings: usize) -> String {
    let verdict = if errors > 0 { "failed" } else { "ok" };
    format!(
        "checked {}: {}, {} ({verdict})",
        plural(posts, "post"),
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}

fn append(path: &str, text: &str) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open GITHUB_STEP_SUMMARY `{path}`"), e))?;
    f.write_all(text.as_bytes()).map_err(|e| Error::io(format!("cannot write GITHUB_STEP_SUMMARY `{path}`"), e))
}

/// A Markdown preview of every rendered post for the job summary.
fn step_summary(reports: &[PostReport], all: &[&Diagnostic], errors: usize, warnings: usize) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## crier check\n\n{}\n", summary_line(reports.len(), errors, warnings));
    if !all.is_empty() {
        let _ = writeln!(s, "| | file | problem |\n|---|---|---|");
        for d in all {
            let icon = if d.severity == Severity::Error { "❌" } else { "⚠️" };
            let _ = writeln!(
                s,
                "| {icon} | `{}:{}:{}` | {} (`{}`) |",
                d.file,
                d.line,
                d.column,
                d.message.replace('|', "\\|"),
                d.code
            );
        }
        s.push('\n');
    }
    for r in reports {
        if r.rendered.is_empty() {
            continue;
        }
        let _ = writeln!(s, "<details><summary><code>{}</code></summary>\n", r.path);
        for rendered in &r.rendered {
            let _ = writeln!(
                s,
                "**{}** — {}\n",
                rendered.platform(),
                rendered.summary().split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
            );
            let fence = "`".repeat(longest_backtick_run(&rendered.to_human()).max(2) + 1);
            let _ = writeln!(s, "{fence}text\n{}{fence}\n", rendered.to_human());
        }
        let _ = writeln!(s, "</details>\n");
    }
    s
}

fn longest_backtick_run(s: &str) -> usize {
    s.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

//! `crier init`: scaffold a content repository. Never overwrites a file.

use std::fmt::Write as _;
use std::path::Path;

use super::{Global, Outcome, schema};
use crate::cli::{InitArgs, SchemaKind};
use crate::error::{Error, Result};
use crate::platforms::{self, PlatformId};

// The first line points editors (through yaml-language-server) at the schema `init` writes
// beside it; the path is relative to crier.yaml.
const CONFIG: &str = r#"# yaml-language-server: $schema=.crier/schema/config.json
# crier configuration. Every key is optional; the values shown are the defaults
# unless marked as an example.

defaults:
  # Where posts go when they do not list `platforms` themselves (the default is
  # none: then every post must list its own).
  platforms: [threads]   # example

# Free values for templates, as {{config.vars.NAME}}.
vars:
  site: https://example.com   # example

media:
  # Public URL prefix for files in this repository ({sha} and {branch} are
  # substituted). Inside GitHub Actions crier falls back on
  # https://raw.githubusercontent.com/$GITHUB_REPOSITORY/$GITHUB_SHA/.
  # base_url: https://raw.githubusercontent.com/OWNER/REPO/{sha}/

site:
  # Relative links in posts (`/docs/start`, `#setup`) are made absolute against
  # this address; without it they are sent as plain text, with a warning.
  # base_url: https://example.com/

content_dir: content
templates_dir: templates

publish:
  # At most this many posts go out per run; the rest wait for the next run.
  max_per_run: 10
"#;

const WELCOME: &str = r"---
title: Hello from crier
draft: true  # remove when the post is ready
tags: [crier]
---

This post lives in git and was checked by crier.

Edit it, run `crier check`, and see it with `crier render @POST@`.
";

const THREADS_TEMPLATE: &str = r"{{!--
  Threads template: overrides crier's built-in one (which is just {{text}}).
  Available: text (this part, as plain text), body (the Markdown), title, tags,
  vars, config.vars, platform, part.number, part.count, part.first, part.last,
  published.devto.url, and every key of the post.
  Helpers: truncate, hashtags, lower, upper, join.
--}}
{{text}}
";

const WORKFLOW: &str = r#"# Posts: checked on pull requests (annotations and a preview in the job
# summary), published from @BRANCH@ on push, every 15 minutes (for
# `publish_at`) and by hand. Secrets: every platform's variables are passed
# (the `env:` of the Publish step); set as repository secrets only those of
# the platforms you use (the README lists what each one needs).
# The record commit says [skip ci], so it never triggers a loop.
# The crier action downloads a released, checksum-verified crier binary: no
# Rust toolchain, seconds per run.
name: crier
on:
  pull_request:
    paths: @PATHS@
  push:
    branches: [@BRANCH_PATTERN@]
    paths: @PATHS@
  schedule:
    # Every 15 minutes, for posts scheduled with `publish_at`.
    - cron: "*/15 * * * *"
  workflow_dispatch:
    inputs:
      dry_run:
        description: Only print the plan; publish nothing
        type: boolean
        default: true
# Runs never overlap: a second one waits for the first.
concurrency:
  group: crier-${{ github.event_name == 'pull_request' && github.ref || 'publish' }}
  cancel-in-progress: false
jobs:
  check:
    # Needs no secrets, so pull requests from forks work.
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4
      - name: Check posts
        uses: @ACTION@
        with:
          args: check --format github
  publish:
    if: github.event_name != 'pull_request'
@PUSHING_JOB@
          # Full history and a branch (not a detached HEAD), so the record can be pushed.
          fetch-depth: 0
          ref: ${{ github.ref_name }}
      - name: Publish
        # Later steps can read steps.crier.outputs.published: a JSON list of
        # {file, platform, url} for each post this run published.
        id: crier
        uses: @ACTION@
        with:
          args: ${{ github.event_name == 'workflow_dispatch' && inputs.dry_run && 'publish --dry-run' || 'publish' }}
@ENV@
"#;

/// The start of a job that commits and pushes: write access, a checkout it can push from
/// (the `with:` continues in each workflow).
const PUSHING_JOB: &str = "    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@v4
        with:";

const STATS_WORKFLOW: &str = r#"# Engagement: every Monday (and by hand) crier reads how the published posts
# did on each platform, appends a line per post and platform to .crier/stats.jsonl
# (`stats.file` in crier.yaml) and commits it with [skip ci], so the history
# stays in git. The job summary shows the top posts; the chart page is kept
# as the run's `crier-stats` artifact. Threads needs the
# threads_manage_insights permission (`crier auth threads` asks for it); a
# platform crier cannot read is listed as unavailable, the others still report.
name: crier stats

on:
  schedule:
    - cron: "17 6 * * 1"
  workflow_dispatch:

# Never beside a publish run: both commit and push to the branch.
concurrency:
  group: crier-publish
  cancel-in-progress: false

jobs:
  stats:
@PUSHING_JOB@
          # Full history and a branch (not a detached HEAD), so the history can be pushed.
          fetch-depth: 0
          ref: ${{ github.ref_name }}

      - name: Record engagement
        uses: @ACTION@
        with:
          args: stats --record --html stats.html
@ENV@

      - name: Keep the chart page
        uses: actions/upload-artifact@v4
        with:
          name: crier-stats
          path: stats.html
"#;

/// The credentials both workflows hand to crier (a step's `env`): every variable of
/// every platform in the registry, so a new platform needs no edit here, and the
/// token crier pushes with. Each comes from a repository secret (the platforms do not
/// say which values are secret, and a secret holds a plain value just as well); an
/// unset secret is empty, which crier treats as unset.
fn env_block() -> String {
    let vars = PlatformId::all().flat_map(|id| platforms::get(id).credentials().iter().map(|c| c.var));
    let mut out = String::from("        env:");
    for var in vars.chain(["GITHUB_TOKEN"]) {
        let _ = write!(out, "\n          {var}: ${{{{ secrets.{var} }}}}");
    }
    out
}

/// The branch `init` runs on (the branch HEAD names, even before the first commit);
/// none outside a git repository or on a detached HEAD.
fn current_branch(root: &Path) -> Option<String> {
    let repo = git2::Repository::discover(root).ok()?;
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target().ok().flatten()?.strip_prefix("refs/heads/").map(str::to_owned)
}

/// `branch` as an item of a workflow's `branches:` filter: the filter's pattern
/// characters escaped, in a YAML double-quoted string (JSON's escaping is YAML's).
fn branch_pattern(branch: &str) -> String {
    let mut pattern = String::new();
    for c in branch.chars() {
        if "*+?![]\\".contains(c) {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    serde_json::Value::String(pattern).to_string()
}

/// The GitHub Action the workflow uses: this crier's repository (from
/// Cargo.toml's `repository`) at the release tag of this version, unless
/// `--action-ref` names a ref or a whole `OWNER/REPO@REF`.
fn action(action_ref: Option<&str>) -> Result<String> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_start_matches("https://github.com/").trim_end_matches('/');
    let Some(given) = action_ref else {
        return Ok(format!("{repo}@v{}", env!("CARGO_PKG_VERSION")));
    };
    let valid = |s: &str| {
        !s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            && !s.starts_with(['-', '/'])
    };
    let uses = match given.split_once('@') {
        Some((action, r)) if valid(action) && action.contains('/') && valid(r) => given.to_owned(),
        None if valid(given) => format!("{repo}@{given}"),
        _ => {
            return Err(Error::usage(format!(
                "--action-ref `{given}`: expected a ref (`v1.2.3`, `main`, a commit) or `OWNER/REPO@REF`"
            )));
        }
    };
    Ok(uses)
}

pub fn execute(g: &Global, args: &InitArgs) -> Result<Outcome> {
    let uses = action(args.action_ref.as_deref())?;
    let branch = current_branch(&g.root).unwrap_or_else(|| "main".to_owned());
    let env = env_block();
    let fill = |w: &str| {
        w.replace("@PUSHING_JOB@", PUSHING_JOB)
            .replace("@ACTION@", &uses)
            .replace("@ENV@", &env)
            .replace("@BRANCH_PATTERN@", &branch_pattern(&branch))
            .replace("@BRANCH@", &branch.replace('\n', " "))
    };
    // A crier.yaml already there decides where the post and the template go (and what the
    // workflow watches); one crier cannot read stops here, as it stops every command.
    let config = crate::config::load(&g.root, None, platforms::catalog())?.config;
    let (content, templates) = (folder(&config.content_dir), folder(&config.templates_dir));
    let post = format!("{content}hello.md");
    let template = format!("{templates}threads.hbs");
    let paths = serde_json::json!([format!("{content}**"), format!("{templates}**"), "media/**", "crier.yaml"]);
    let paths = paths.to_string().replace("\",\"", "\", \"");
    let (workflow, stats_workflow) = (fill(WORKFLOW).replace("@PATHS@", &paths), fill(STATS_WORKFLOW));
    let welcome = WELCOME.replace("@POST@", &post);
    let schemas = [SchemaKind::Config, SchemaKind::Post].map(|k| (schema::file(k), schema::text(k)));
    let files: [(&str, &str); 7] = [
        ("crier.yaml", CONFIG),
        (&schemas[0].0, &schemas[0].1),
        (&schemas[1].0, &schemas[1].1),
        (&post, &welcome),
        (&template, THREADS_TEMPLATE),
        (".github/workflows/crier.yml", &workflow),
        (".github/workflows/crier-stats.yml", &stats_workflow),
    ];
    for (rel, text) in files {
        let path = g.root.join(rel);
        if path.exists() {
            if !g.quiet {
                println!("kept    {rel} (already exists)");
            }
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| Error::io(format!("cannot create `{}`", parent.display()), e))?;
        }
        crate::fsutil::write_new(&path, text.as_bytes()).map_err(|e| Error::io(format!("cannot write `{rel}`"), e))?;
        if !g.quiet {
            println!("created {rel}");
        }
    }
    let said = ignore_dotenv(&g.root)?;
    if !g.quiet {
        println!("{said}");
        println!("\nnext: edit {post}, then run `crier check`");
    }
    Ok(Outcome::Success)
}

/// A configured folder as the start of a path in it: `posts/`, or nothing for the
/// repository's root (`.`).
fn folder(dir: &str) -> String {
    let dir = dir.trim_start_matches("./").trim_end_matches('/');
    if dir.is_empty() || dir == "." { String::new() } else { format!("{dir}/") }
}

/// Puts `.env` (which holds the credentials) in `.gitignore`: creates the file, or
/// appends the line unless it is there. Says what it did.
fn ignore_dotenv(root: &Path) -> Result<&'static str> {
    let path = root.join(".gitignore");
    let fail = |e| Error::io("cannot write `.gitignore`", e);
    match std::fs::read_to_string(&path) {
        Ok(text) if text.lines().any(|l| matches!(l.trim(), ".env" | "/.env")) => {
            Ok("kept    .gitignore (already ignores .env)")
        }
        Ok(text) => {
            let line = if text.is_empty() || text.ends_with('\n') { ".env\n" } else { "\n.env\n" };
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).map_err(fail)?;
            std::io::Write::write_all(&mut file, line.as_bytes()).map_err(fail)?;
            Ok("updated .gitignore (added .env, which holds the credentials)")
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            crate::fsutil::write_new(&path, b".env\n").map_err(fail)?;
            Ok("created .gitignore (.env holds the credentials)")
        }
        Err(e) => Err(Error::io("cannot read `.gitignore`", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_workflows_pass_every_platforms_variables() {
        let env = env_block();
        for id in PlatformId::all() {
            for c in platforms::get(id).credentials() {
                let line = format!("\n          {}: ${{{{ secrets.{} }}}}", c.var, c.var);
                assert!(env.contains(&line), "{} of {id:?} missing from\n{env}", c.var);
            }
        }
        assert!(env.ends_with("GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}"), "{env}");
    }

    #[test]
    fn branch_names_are_escaped_for_the_push_filter() {
        let cases = [
            ("main", r#""main""#),
            ("feature/x", r#""feature/x""#),
            ("a+b!", r#""a\\+b\\!""#),
            ("it's \"q\"", r#""it's \"q\"""#),
        ];
        for (branch, yaml) in cases {
            assert_eq!(branch_pattern(branch), yaml, "{branch}");
        }
    }

    #[test]
    fn the_workflow_uses_this_versions_release_unless_told_otherwise() {
        let own = format!("crier-dev/crier@v{}", env!("CARGO_PKG_VERSION"));
        assert_eq!(action(None).unwrap(), own);
        assert_eq!(action(Some("main")).unwrap(), "crier-dev/crier@main");
        assert_eq!(action(Some("me/crier@0123abcd")).unwrap(), "me/crier@0123abcd");
        for bad in ["", "main\n  run: x", "me@v1", "me/crier@", "-x", "a b"] {
            assert!(action(Some(bad)).is_err(), "{bad:?} is refused");
        }
    }
}

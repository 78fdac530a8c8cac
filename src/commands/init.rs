//! `crier init`: scaffold a content repository. Never overwrites a file.

use super::{Global, Outcome};
use crate::cli::InitArgs;
use crate::error::{Error, Result};

const CONFIG: &str = r#"# crier configuration. Every key is optional; the values shown are the defaults
# unless marked as an example.

defaults:
  # Where posts go when they do not list `platforms` themselves.
  platforms: [threads]

# Free values for templates, as {{config.vars.NAME}}.
vars:
  site: https://example.com   # example

media:
  # Public URL prefix for files in this repository ({sha} and {branch} are
  # substituted). Inside GitHub Actions crier falls back on
  # https://raw.githubusercontent.com/$GITHUB_REPOSITORY/$GITHUB_SHA/.
  # base_url: https://raw.githubusercontent.com/OWNER/REPO/{sha}/

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

Edit it, run `crier check`, and see it with `crier render content/hello.md`.
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
# summary), published from the default branch on push, every 15 minutes (for
# `publish_at`) and by hand. Secrets: THREADS_ACCESS_TOKEN (and THREADS_USER_ID),
# DEVTO_API_KEY. The record commit says [skip ci], so it never triggers a loop.
name: crier
on:
  pull_request:
    paths: ["content/**", "templates/**", "media/**", "crier.yaml"]
  push:
    branches: [main]
    paths: ["content/**", "templates/**", "media/**", "crier.yaml"]
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
      - uses: dtolnay/rust-toolchain@stable
      - name: Install crier
        run: cargo install --locked --git https://github.com/crier-dev/crier crier
      - name: Check posts
        run: crier check --format github
  publish:
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-latest
    permissions:
      contents: write
    steps:
      - uses: actions/checkout@v4
        with:
          # Full history and a branch (not a detached HEAD), so the record can be pushed.
          fetch-depth: 0
          ref: ${{ github.ref_name }}
      - uses: dtolnay/rust-toolchain@stable
      - name: Install crier
        run: cargo install --locked --git https://github.com/crier-dev/crier crier
      - name: Publish
        env:
          THREADS_ACCESS_TOKEN: ${{ secrets.THREADS_ACCESS_TOKEN }}
          THREADS_USER_ID: ${{ secrets.THREADS_USER_ID }}
          DEVTO_API_KEY: ${{ secrets.DEVTO_API_KEY }}
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
          DRY_RUN: ${{ github.event_name == 'workflow_dispatch' && inputs.dry_run }}
        run: |
          if [ "$DRY_RUN" = "true" ]; then
            crier publish --dry-run
          else
            crier publish
          fi
"#;

pub fn execute(g: &Global, _args: &InitArgs) -> Result<Outcome> {
    let files: [(&str, &str); 4] = [
        ("crier.yaml", CONFIG),
        ("content/hello.md", WELCOME),
        ("templates/threads.hbs", THREADS_TEMPLATE),
        (".github/workflows/crier.yml", WORKFLOW),
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
    if !g.quiet {
        println!("\nnext: edit content/hello.md, then run `crier check`");
    }
    Ok(Outcome::Success)
}

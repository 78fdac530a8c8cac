//! Every `crier` invocation in the GitHub Actions workflows (this
//! repository's, and the one `crier init` writes) runs: with `--dry-run` or
//! `--help` where it would publish. actionlint itself runs in `.ci/run`.

use std::path::Path;
use std::process::Command;

/// `crier …` command lines found in a workflow's `run:` steps.
fn invocations(workflow: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for line in workflow.lines() {
        let line = line.trim().trim_start_matches("run:").trim();
        let Some(start) = line.find("crier ") else { continue };
        let before = &line[..start];
        // `./target/release/crier`, or `crier` at the start of a command.
        if !(before.is_empty() || before.ends_with("./target/release/")) {
            continue;
        }
        // The command ends at a pipe, redirection or list operator.
        let rest = &line[start + "crier ".len()..];
        let rest = rest.split(['|', '>', '<', ';', '&']).next().unwrap_or("");
        let words: Vec<String> = rest.split_whitespace().map(str::to_owned).collect();
        if words.first().is_some_and(|w| !w.starts_with('-') && w.chars().all(|c| c.is_ascii_lowercase())) {
            out.push(words);
        }
    }
    out
}

fn run(root: &Path, args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_crier"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("CRIER_NOW", "2026-11-28T10:00:00Z")
        .output()
        .expect("run crier")
}

fn exercise(workflow: &str, root: &Path) -> usize {
    let calls = invocations(workflow);
    for mut args in calls.clone() {
        // Commands that would publish or use real credentials only show their help.
        let real_publish = args[0] == "publish" && !args.iter().any(|a| a == "--dry-run");
        let token_call = args[0] == "auth" && args.get(1).is_some_and(|a| a == "refresh");
        if real_publish || token_call {
            args.push("--help".to_owned());
        }
        let out = run(root, &args);
        assert!(
            out.status.success(),
            "`crier {}` failed:\n{}{}",
            args.join(" "),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    calls.len()
}

#[test]
fn this_repositorys_workflow_commands_run() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wf = std::fs::read_to_string(root.join(".github/workflows/crier.yml")).expect("workflow");
    let n = exercise(&wf, root);
    assert_eq!(n, 3, "check, publish --dry-run and publish are all exercised");
}

#[test]
fn the_workflow_written_by_init_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = run(dir.path(), &["init".to_owned()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let wf = std::fs::read_to_string(dir.path().join(".github/workflows/crier.yml")).expect("workflow");
    assert!(wf.contains("fetch-depth: 0") && wf.contains("contents: write") && wf.contains("concurrency:"));
    let n = exercise(&wf, dir.path());
    assert_eq!(n, 3, "check, publish --dry-run and publish are all exercised");
}

#[test]
fn the_token_refresh_workflow_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wf = std::fs::read_to_string(root.join(".github/workflows/refresh-threads-token.yml")).expect("workflow");
    assert!(wf.contains("schedule:") && wf.contains("gh secret set THREADS_ACCESS_TOKEN"));
    let calls = invocations(&wf);
    assert_eq!(calls, [["auth", "refresh", "--print-token"]], "the redirection is not part of the command");
    assert_eq!(exercise(&wf, root), 1);
}

//! Every `crier` invocation in the GitHub Actions workflows (this
//! repository's, and the one `crier init` writes) runs: with `--dry-run` or
//! `--help` where it would publish. actionlint itself runs in `.ci/run`.
//!
//! The GitHub Action (`action.yml`) runs `scripts/action-install.sh` and
//! `scripts/action-run.sh`; the same shell runs here against a local release
//! server laid out by `scripts/package-release.sh`, as the release workflow
//! lays out a GitHub release.

#[path = "support/common.rs"]
mod common;

use common::{Crier, Run};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::Value;

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

/// The GitHub repository this crier comes from (`crier-dev/crier`).
fn repository() -> &'static str {
    env!("CARGO_PKG_REPOSITORY").trim_start_matches("https://github.com/")
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str::<Value>(text).expect("valid YAML")
}

fn action_yml() -> Value {
    yaml(&std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("action.yml")).expect("action.yml"))
}

/// `crier …` command lines run by steps that use the crier action: its `args`
/// input (each quoted literal of an expression such as
/// `${{ cond && 'publish --dry-run' || 'publish' }}`), else the input's default.
fn action_invocations(workflow: &str) -> Vec<Vec<String>> {
    let default = action_yml()["inputs"]["args"]["default"].as_str().expect("args default").to_owned();
    let mut out = Vec::new();
    let wf = yaml(workflow);
    for job in wf["jobs"].as_object().expect("jobs").values() {
        for step in job["steps"].as_array().into_iter().flatten() {
            let Some(uses) = step["uses"].as_str() else { continue };
            if !(uses.starts_with(&format!("{}@", repository())) || uses == "./") {
                continue;
            }
            let args = step["with"]["args"].as_str().unwrap_or(&default);
            let lines: Vec<&str> = if args.contains("${{") {
                // The string literals an `&&`/`||` chain can result in (not the
                // ones compared with `==`).
                let pieces: Vec<&str> = args.split('\'').collect();
                (1..pieces.len())
                    .step_by(2)
                    .filter(|&i| ["&&", "||"].iter().any(|op| pieces[i - 1].trim_end().ends_with(op)))
                    .map(|i| pieces[i])
                    .collect()
            } else {
                vec![args]
            };
            out.extend(lines.iter().map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>()));
        }
    }
    out
}

fn run(root: &Path, args: &[String]) -> Run {
    Crier::new(root).args(args).run()
}

fn exercise(workflow: &str, root: &Path) -> usize {
    let mut calls = invocations(workflow);
    calls.extend(action_invocations(workflow));
    for mut args in calls.clone() {
        // Commands that would publish or use real credentials only show their help.
        let real_publish = args[0] == "publish" && !args.iter().any(|a| a == "--dry-run");
        let token_call = args[0] == "auth" && args.get(1).is_some_and(|a| a == "refresh");
        if real_publish || token_call {
            args.push("--help".to_owned());
        }
        let out = run(root, &args);
        assert_eq!(out.code, 0, "`crier {}` failed:\n{out}", args.join(" "));
    }
    calls.len()
}

/// A repository made by `crier init`, and the text of its workflow `name`.
fn init_workflow(name: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    run(dir.path(), &["init".to_owned()]).code(0);
    let wf = std::fs::read_to_string(dir.path().join(".github/workflows").join(name)).expect("workflow");
    (dir, wf)
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
    let (dir, wf) = init_workflow("crier.yml");
    assert!(wf.contains("fetch-depth: 0") && wf.contains("contents: write") && wf.contains("concurrency:"));
    assert_eq!(invocations(&wf).len(), 0, "crier runs through the action, not from a `run:` step");
    let expected: [&[&str]; 3] = [&["check", "--format", "github"], &["publish", "--dry-run"], &["publish"]];
    assert_eq!(action_invocations(&wf), expected);
    let n = exercise(&wf, dir.path());
    assert_eq!(n, 3, "check, publish --dry-run and publish are all exercised");
}

#[test]
fn the_workflows_written_by_init_pass_every_platforms_credentials_and_push_on_this_branch() {
    // Outside git: `main`.
    let (dir, wf) = init_workflow("crier.yml");
    assert_eq!(yaml(&wf)["on"]["push"]["branches"][0], "main", "{wf}");
    for name in ["crier.yml", "crier-stats.yml"] {
        let wf = std::fs::read_to_string(dir.path().join(".github/workflows").join(name)).expect("workflow");
        // The platforms the first workflows left out (LinkedIn, X, Nostr, Discord) fail in CI without them.
        for var in [
            "THREADS_ACCESS_TOKEN",
            "LINKEDIN_ACCESS_TOKEN",
            "X_API_KEY",
            "X_API_SECRET",
            "X_ACCESS_TOKEN",
            "X_ACCESS_TOKEN_SECRET",
            "NOSTR_SECRET_KEY",
            "NOSTR_RELAYS",
            "DISCORD_WEBHOOK_URL",
            "GITHUB_TOKEN",
        ] {
            assert!(wf.contains(&format!("{var}: ${{{{ secrets.{var} }}}}")), "{var} missing from {name}:\n{wf}");
        }
    }

    // In a repository on another branch: that branch.
    let repo = tempfile::tempdir().expect("tempdir");
    let git_ok = Command::new("git").args(["init", "-q", "-b", "trunk"]).current_dir(repo.path()).status();
    assert!(git_ok.is_ok_and(|s| s.success()), "git init");
    run(repo.path(), &["init".to_owned()]).code(0);
    let wf = std::fs::read_to_string(repo.path().join(".github/workflows/crier.yml")).expect("workflow");
    assert_eq!(yaml(&wf)["on"]["push"]["branches"], serde_json::json!(["trunk"]), "{wf}");
}

#[test]
fn the_stats_workflow_written_by_init_records_weekly_and_runs() {
    let (dir, wf) = init_workflow("crier-stats.yml");
    let parsed = yaml(&wf);
    assert_eq!(parsed["on"]["schedule"][0]["cron"], "17 6 * * 1", "weekly");
    assert_eq!(parsed["concurrency"]["group"], "crier-publish", "never beside a publish run");
    assert!(wf.contains("fetch-depth: 0") && wf.contains("contents: write"));
    let expected: [&[&str]; 1] = [&["stats", "--record", "--html", "stats.html"]];
    assert_eq!(action_invocations(&wf), expected);
    assert_eq!(exercise(&wf, dir.path()), 1);
    assert!(dir.path().join("stats.html").exists(), "the chart page the artifact step keeps");
}

#[test]
fn the_workflow_written_by_init_uses_this_versions_release_of_the_action() {
    let (_dir, wf) = init_workflow("crier.yml");
    let pinned = format!("uses: {}@v{}", repository(), env!("CARGO_PKG_VERSION"));
    assert_eq!(wf.matches(&pinned).count(), 2, "check and publish use the action:\n{wf}");
    for slow in ["cargo install", "rust-toolchain", "cargo build"] {
        assert!(!wf.contains(slow), "no Rust toolchain in the user's workflow: found `{slow}`");
    }

    let other = tempfile::tempdir().expect("tempdir");
    let args = ["init", "--action-ref", "me/crier-fork@0123456789abcdef0123456789abcdef01234567"].map(str::to_owned);
    run(other.path(), &args).code(0);
    let wf = std::fs::read_to_string(other.path().join(".github/workflows/crier.yml")).expect("workflow");
    assert_eq!(wf.matches("uses: me/crier-fork@0123456789abcdef0123456789abcdef01234567\n").count(), 2);

    let bad = tempfile::tempdir().expect("tempdir");
    let out = run(bad.path(), &["init", "--action-ref", "main\nrun: evil"].map(str::to_owned));
    assert_eq!(out.code, 2, "a ref that would break the YAML is refused\n{out}");
    assert!(!bad.path().join(".github/workflows/crier.yml").exists());
}

#[test]
fn the_ci_workflow_checks_the_posts_through_the_local_action() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let wf = std::fs::read_to_string(root.join(".github/workflows/ci.yml")).expect("workflow");
    assert_eq!(action_invocations(&wf), [["check", "--format", "github"]]);
    assert_eq!(exercise(&wf, root), 1);
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

// ---------------------------------------------------------------- the action

#[test]
fn the_action_is_composite_without_nested_actions() {
    let action = action_yml();
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().expect("steps");
    for step in steps {
        assert!(step.get("uses").is_none(), "no nested `uses:` (it must work where actions are pinned by SHA)");
        assert_eq!(step["shell"], "bash", "every step says its shell: {step}");
        let script = step["run"].as_str().expect("run");
        let file = script.split('/').next_back().expect("script").trim_end_matches('"');
        assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts").join(file).is_file(), "{file} exists");
    }
    assert_eq!(action["inputs"]["version"]["default"], "${{ github.action_ref }}");
    assert_eq!(action["inputs"]["args"]["default"], "check --format github");
    assert_eq!(action["inputs"]["working-directory"]["default"], ".");
    assert_eq!(action["outputs"]["published"]["value"], "${{ steps.run.outputs.published }}");
}

/// A static file server on 127.0.0.1 (a GitHub release stand-in) that counts requests.
struct ReleaseServer {
    url: String,
    hits: Arc<AtomicUsize>,
}

fn serve(root: PathBuf) -> ReleaseServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut request = String::new();
            if reader.read_line(&mut request).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).map(|n| n > 2).unwrap_or(false) {
                header.clear();
            }
            counter.fetch_add(1, Ordering::SeqCst);
            let path = request.split_whitespace().nth(1).unwrap_or("/").trim_start_matches('/');
            let body = if path.contains("..") { None } else { std::fs::read(root.join(path)).ok() };
            let _ = match body {
                Some(body) => stream
                    .write_all(
                        format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len())
                            .as_bytes(),
                    )
                    .and_then(|()| stream.write_all(&body)),
                None => stream.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
            };
        }
    });
    ReleaseServer { url, hits }
}

/// A temporary runner: tool cache, temp, GITHUB_PATH and GITHUB_OUTPUT files,
/// and a `bin/` put first on PATH for stand-ins (a fake `cargo`).
struct Runner {
    dir: tempfile::TempDir,
}

impl Runner {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["cache", "temp", "bin"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        for file in ["path", "output"] {
            std::fs::write(dir.path().join(file), "").expect("write");
        }
        Runner { dir }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }

    /// `bash scripts/SCRIPT` with the runner's environment plus `env`.
    fn script(&self, script: &str, cwd: &Path, env: &[(&str, &str)]) -> Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let path = format!("{}:{}", self.path("bin").display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new("bash");
        cmd.arg(root.join("scripts").join(script))
            .current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("CRIER_NOW", "2026-11-28T10:00:00Z")
            .env("RUNNER_TOOL_CACHE", self.path("cache"))
            .env("RUNNER_TEMP", self.path("temp"))
            .env("GITHUB_PATH", self.path("path"))
            .env("GITHUB_OUTPUT", self.path("output"))
            .env("GITHUB_ACTION_PATH", root);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run bash")
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `scripts/package-release.sh VERSION TARGET BINARY OUT`, as the release workflow runs it.
fn package(version: &str, target: &str, binary: &Path, out: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let status = Command::new("bash")
        .arg(root.join("scripts/package-release.sh"))
        .args([version, target])
        .arg(binary)
        .arg(out)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("package");
    assert!(status.success(), "package-release.sh {version} {target}");
}

/// GitHub's runners (OS, architecture), the release target the install step downloads for
/// each, its tool-cache folder and the executable's name.
const RUNNERS: [(&str, &str, &str, &str, &str); 5] = [
    ("Linux", "X64", "x86_64-unknown-linux-musl", "x64", "crier"),
    ("Linux", "ARM64", "aarch64-unknown-linux-musl", "arm64", "crier"),
    ("macOS", "X64", "x86_64-apple-darwin", "x64", "crier"),
    ("macOS", "ARM64", "aarch64-apple-darwin", "arm64", "crier"),
    ("Windows", "X64", "x86_64-pc-windows-msvc", "x64", "crier.exe"),
];

/// The runner's OS and architecture as GitHub names them, and crier's release target.
fn this_runner() -> Option<(&'static str, &'static str, &'static str)> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some(("Linux", "X64", "x86_64-unknown-linux-musl")),
        ("linux", "aarch64") => Some(("Linux", "ARM64", "aarch64-unknown-linux-musl")),
        _ => None,
    }
}

/// A stand-in `crier` (a shell script) for targets this machine cannot run.
fn stand_in(dir: &Path) -> PathBuf {
    let path = dir.join("stand-in-crier");
    std::fs::write(&path, "#!/bin/sh\necho \"crier 0.1.0 (stand-in) $*\"\n").expect("write");
    make_executable(&path);
    path
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn the_install_step_downloads_verifies_caches_and_runs_a_release() {
    let Some((os, arch, target)) = this_runner() else { return };
    let release = tempfile::tempdir().expect("tempdir");
    let assets = release.path().join("releases/download/v0.1.0");
    package("0.1.0", target, Path::new(env!("CARGO_BIN_EXE_crier")), &assets);
    let server = serve(release.path().to_owned());
    let runner = Runner::new();
    let env = [
        ("RUNNER_OS", os),
        ("RUNNER_ARCH", arch),
        ("CRIER_VERSION", "v0.1.0"),
        ("CRIER_RELEASE_URL", &format!("{}/releases/download", server.url)),
    ];

    let started = Instant::now();
    let out = runner.script("action-install.sh", runner.dir.path(), &env);
    let took = started.elapsed();
    assert!(out.status.success(), "{}", text(&out));
    eprintln!("install step against the local release server: {took:?}");
    assert!(text(&out).contains("(verified)"), "{}", text(&out));
    let arch_dir = if arch == "X64" { "x64" } else { "arm64" };
    let installed = runner.path(&format!("cache/crier/0.1.0/{arch_dir}/crier"));
    assert!(installed.is_file() && runner.path(&format!("cache/crier/0.1.0/{arch_dir}.complete")).is_file());
    assert_eq!(runner.read("path").trim(), installed.parent().expect("dir").display().to_string());
    assert!(runner.read("output").contains(&format!("path={}\n", installed.display())));
    assert!(runner.read("output").contains("version=0.1.0\n"));
    assert!(text(&out).contains(&format!("crier {}", env!("CARGO_PKG_VERSION"))), "it runs: {}", text(&out));

    // The installed crier does the action's default job in a fresh repository.
    let repo = tempfile::tempdir().expect("tempdir");
    run(repo.path(), &["init".to_owned()]).code(0);
    let installed = installed.display().to_string();
    let run_env = [("CRIER_BIN", installed.as_str()), ("CRIER_ARGS", "check --format github")];
    let out = runner.script("action-run.sh", repo.path(), &run_env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(runner.read("output").contains("published<<CRIER_PUBLISHED_EOF\n[]\nCRIER_PUBLISHED_EOF\n"));

    // Second use in the job: the tool cache, no download.
    let before = server.hits.load(Ordering::SeqCst);
    let out = runner.script("action-install.sh", runner.dir.path(), &env);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("from the tool cache"), "{}", text(&out));
    assert_eq!(server.hits.load(Ordering::SeqCst), before, "nothing downloaded");
}

#[test]
fn the_install_step_picks_the_archive_for_each_runner() {
    let release = tempfile::tempdir().expect("tempdir");
    let assets = release.path().join("releases/download/v0.1.0");
    let binary = stand_in(release.path());
    for (_, _, target, _, _) in RUNNERS {
        package("v0.1.0", target, &binary, &assets);
    }
    assert!(assets.join("crier-0.1.0-x86_64-pc-windows-msvc.zip").is_file(), "Windows gets a zip");
    let server = serve(release.path().to_owned());
    let url = format!("{}/releases/download", server.url);
    for (os, arch, target, arch_dir, exe) in RUNNERS {
        let runner = Runner::new();
        let env = [("RUNNER_OS", os), ("RUNNER_ARCH", arch), ("CRIER_VERSION", "v0.1.0"), ("CRIER_RELEASE_URL", &url)];
        let out = runner.script("action-install.sh", runner.dir.path(), &env);
        assert!(out.status.success(), "{os} {arch}: {}", text(&out));
        assert!(text(&out).contains(&format!("crier-0.1.0-{target}.")), "{os} {arch}: {}", text(&out));
        assert!(text(&out).contains("(stand-in) --version"), "{os} {arch}: {}", text(&out));
        assert!(runner.path(&format!("cache/crier/0.1.0/{arch_dir}/{exe}")).is_file(), "{os} {arch}");
    }
}

#[test]
fn the_install_step_refuses_an_archive_whose_checksum_does_not_match() {
    let release = tempfile::tempdir().expect("tempdir");
    let assets = release.path().join("releases/download/v0.1.0");
    package("0.1.0", "x86_64-unknown-linux-musl", &stand_in(release.path()), &assets);
    let sums = assets.join("crier-0.1.0-x86_64-unknown-linux-musl.tar.gz.sha256");
    let good = std::fs::read_to_string(&sums).expect("sha256");
    let flipped = if good.starts_with('0') { "1" } else { "0" };
    std::fs::write(&sums, format!("{flipped}{}", &good[1..])).expect("write");
    let server = serve(release.path().to_owned());
    let runner = Runner::new();
    let url = format!("{}/releases/download", server.url);
    let env =
        [("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "X64"), ("CRIER_VERSION", "v0.1.0"), ("CRIER_RELEASE_URL", &url)];
    let out = runner.script("action-install.sh", runner.dir.path(), &env);
    assert!(!out.status.success(), "a mismatch fails the step: {}", text(&out));
    assert!(text(&out).contains("::error title=crier::checksum mismatch"), "{}", text(&out));
    assert!(!runner.path("cache/crier/0.1.0/x64/crier").exists(), "nothing installed");
    assert!(!runner.path("cache/crier/0.1.0/x64.complete").exists());
    assert_eq!(runner.read("path"), "", "nothing put on PATH");

    // No checksum at all is refused too.
    std::fs::remove_file(&sums).expect("rm");
    let out = runner.script("action-install.sh", runner.dir.path(), &env);
    assert!(!out.status.success() && text(&out).contains("refusing an unverified archive"), "{}", text(&out));
}

#[test]
fn the_install_step_builds_from_source_where_there_is_no_release() {
    // A fake cargo records its command line and "installs" a stand-in crier.
    let runner = Runner::new();
    let fake_cargo = runner.path("bin/cargo");
    std::fs::write(
        &fake_cargo,
        format!(
            "#!/bin/sh\necho \"$@\" >> '{log}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\"\ncp '{crier}' \"$2/bin/crier\"\n",
            log = runner.path("cargo.log").display(),
            crier = stand_in(runner.dir.path()).display(),
        ),
    )
    .expect("write");
    make_executable(&fake_cargo);
    let release = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(release.path().join("releases/download/v0.2.0")).expect("mkdir");
    let server = serve(release.path().to_owned());
    let url = format!("{}/releases/download", server.url);
    let git = format!("--git https://github.com/{}", repository());
    let sha = "0123456789abcdef0123456789abcdef01234567";
    let cases = [
        // A release without an archive for this runner.
        (vec![("CRIER_VERSION", "v0.2.0")], format!("{git} --tag v0.2.0"), "release v0.2.0 has no"),
        // The action used at a branch or a commit.
        (vec![("CRIER_ACTION_REF", "main")], format!("{git} --branch main"), "main is not a release"),
        (vec![("CRIER_VERSION", sha)], format!("{git} --rev {sha}"), "is not a release"),
        // github.action_ref empty (actions/runner#2473): the action's path says it.
        (
            vec![("GITHUB_ACTION_PATH", "/home/runner/work/_actions/me/crier-fork/feature-x")],
            "--git https://github.com/me/crier-fork --branch feature-x".to_owned(),
            "feature-x is not a release",
        ),
        // `uses: ./` (no ref at all): the checkout itself.
        (vec![], format!("--path {}", env!("CARGO_MANIFEST_DIR")), "this checkout is not a release"),
    ];
    for (extra, expected, why) in cases {
        std::fs::write(runner.path("cargo.log"), "").expect("reset");
        let mut env = vec![("RUNNER_OS", "Linux"), ("RUNNER_ARCH", "X64"), ("CRIER_RELEASE_URL", url.as_str())];
        env.extend(extra);
        let out = runner.script("action-install.sh", runner.dir.path(), &env);
        assert!(out.status.success(), "{}", text(&out));
        assert!(text(&out).contains("::notice title=crier::") && text(&out).contains(why), "says so: {}", text(&out));
        let root = runner.path("temp/crier-from-source");
        assert_eq!(runner.read("cargo.log"), format!("install --locked --root {} {expected}\n", root.display()));
        assert!(runner.read("path").contains(&format!("{}/bin\n", root.display())));
        assert!(text(&out).contains("(stand-in) --version"));
    }
}

#[test]
fn the_run_step_reports_what_a_publish_run_published() {
    // A stand-in crier whose `status` shows one more post published after `publish`.
    let runner = Runner::new();
    let state = runner.path("published-once");
    let stub = runner.path("bin/crier");
    std::fs::write(
        &stub,
        format!(
            r#"#!/bin/sh
old='{{"file":"content/old.md","platform":"devto","state":"published","url":"https://dev.to/me/old"}}'
case " $* " in
  *" status "*)
    if [ -f '{state}' ]; then
      echo "{{\"posts\":[$old,{{\"file\":\"content/new.md\",\"platform\":\"threads\",\"state\":\"published\",\"url\":\"https://www.threads.com/@me/post/X\"}},{{\"file\":\"content/later.md\",\"platform\":\"threads\",\"state\":\"scheduled\"}}]}}"
    else
      echo "{{\"posts\":[$old,{{\"file\":\"content/new.md\",\"platform\":\"threads\",\"state\":\"due\"}},{{\"file\":\"content/later.md\",\"platform\":\"threads\",\"state\":\"scheduled\"}}]}}"
    fi ;;
  *" publish "*)
    echo "args: $*" >> '{log}'
    [ -n "$FAKE_SUMMARY" ] && printf 'published=%s\nother=1\n' "$FAKE_SUMMARY" >> "$GITHUB_OUTPUT"
    touch '{state}'; exit "${{FAKE_EXIT:-0}}" ;;
esac
"#,
            state = state.display(),
            log = runner.path("crier.log").display(),
        ),
    )
    .expect("write");
    make_executable(&stub);
    let output_of = |env: &[(&str, &str)]| {
        let _ = std::fs::remove_file(&state);
        std::fs::write(runner.path("output"), "").expect("reset");
        let out = runner.script("action-run.sh", runner.dir.path(), env);
        let published = runner.read("output");
        let published = published
            .strip_prefix("published<<CRIER_PUBLISHED_EOF\n")
            .and_then(|s| s.strip_suffix("\nCRIER_PUBLISHED_EOF\n"))
            .unwrap_or_else(|| panic!("a `published` output: {published:?}"))
            .to_owned();
        (out, serde_json::from_str::<Value>(&published).expect("JSON"))
    };
    let new = serde_json::json!([{"file": "content/new.md", "platform": "threads", "url": "https://www.threads.com/@me/post/X"}]);

    let (out, published) = output_of(&[("CRIER_ARGS", "-C . publish")]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(published, new, "only what this run published");
    assert!(runner.read("crier.log").contains("args: -C . publish"));

    // A failed run still reports what went out, and fails the step.
    let (out, published) = output_of(&[("CRIER_ARGS", "publish"), ("FAKE_EXIT", "1")]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(published, new);

    // crier's own `published=` step output is taken at its word, and set once;
    // its other outputs pass through.
    let summary = r#"[{"file":"content/a.md","platform":"devto","url":"https://dev.to/me/a"}]"#;
    std::fs::write(runner.path("output"), "").expect("reset");
    let _ = std::fs::remove_file(&state);
    let out =
        runner.script("action-run.sh", runner.dir.path(), &[("CRIER_ARGS", "publish"), ("FAKE_SUMMARY", summary)]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        runner.read("output"),
        format!("other=1\npublished<<CRIER_PUBLISHED_EOF\n{summary}\nCRIER_PUBLISHED_EOF\n")
    );

    // Dry runs and other commands publish nothing.
    let (_, published) = output_of(&[("CRIER_ARGS", "publish --dry-run")]);
    assert_eq!(published, serde_json::json!([]));
    let (out, published) = output_of(&[("CRIER_ARGS", "")]);
    assert!(out.status.success());
    assert_eq!(published, serde_json::json!([]));
}

/// The first tag must publish a working release without a fix-up: the release workflow
/// builds an archive for every runner the action serves, under exactly the names the
/// action and `cargo binstall` download, and its last job waits for all of them.
#[test]
fn the_release_workflow_builds_every_archive_the_action_and_binstall_download() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let workflow = yaml(&std::fs::read_to_string(root.join(".github/workflows/release.yml")).expect("release.yml"));
    let matrix = workflow["jobs"]["build"]["strategy"]["matrix"]["include"].as_array().expect("build matrix");
    let mut built: Vec<&str> = matrix.iter().map(|m| m["target"].as_str().expect("target")).collect();
    built.sort_unstable();
    let mut served: Vec<&str> = RUNNERS.iter().map(|r| r.2).collect();
    served.sort_unstable();
    served.dedup();
    assert_eq!(built, served, "release.yml builds exactly the targets action-install.sh downloads");

    // The publish job counts the checksums of every build before it publishes.
    let publish = workflow["jobs"]["publish"]["steps"][0]["run"].as_str().expect("publish step");
    assert!(
        publish.contains(&format!("-eq {}", built.len())),
        "the publish job waits for {} checksums:\n{publish}",
        built.len()
    );

    // binstall's URL template and folder layout name the archives package-release.sh makes.
    let manifest = string_keys(&std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml"));
    let binstall = |key: &str, target: &str| -> String {
        let windows = target.contains("windows");
        let from_override = manifest.get(&format!("package.metadata.binstall.overrides.{target}.{key}"));
        let template = from_override.or_else(|| manifest.get(&format!("package.metadata.binstall.{key}"))).expect(key);
        template
            .replace("{ repo }", env!("CARGO_PKG_REPOSITORY"))
            .replace("{ version }", env!("CARGO_PKG_VERSION"))
            .replace("{ target }", target)
            .replace("{ bin }", "crier")
            .replace("{ binary-ext }", if windows { ".exe" } else { "" })
    };
    let release = tempfile::tempdir().expect("tempdir");
    let binary = stand_in(release.path());
    let version = env!("CARGO_PKG_VERSION");
    for target in built {
        package(version, target, &binary, release.path());
        let url = binstall("pkg-url", target);
        let archive = url.rsplit('/').next().expect("file name");
        assert_eq!(
            url,
            format!("{}/releases/download/v{version}/{archive}", env!("CARGO_PKG_REPOSITORY")),
            "binstall downloads from the tag's release"
        );
        assert!(release.path().join(archive).is_file(), "binstall's {archive} is what package-release.sh makes");
        assert!(release.path().join(format!("{archive}.sha256")).is_file(), "{archive} has its checksum");
        let listing = Command::new(if archive.ends_with(".zip") { "unzip" } else { "tar" })
            .args(if archive.ends_with(".zip") { vec!["-Z1"] } else { vec!["-tzf"] })
            .arg(release.path().join(archive))
            .output();
        if let Some(listing) = listing.ok().filter(|o| o.status.success()) {
            let bin_dir = binstall("bin-dir", target);
            assert!(
                String::from_utf8_lossy(&listing.stdout).lines().any(|l| l == bin_dir),
                "{archive} holds binstall's {bin_dir}"
            );
        }
    }
}

/// `cargo package` ships every file the sources embed, or `cargo install crier-cli`
/// would not build.
#[test]
fn the_crate_package_holds_every_file_the_sources_embed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .args(["package", "--list", "--locked", "--allow-dirty", "--offline"])
        .current_dir(root)
        .output()
        .expect("cargo package --list");
    assert!(out.status.success(), "{}", text(&out));
    let listed: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    let crate_dir = std::fs::canonicalize(root).expect("crate dir");
    let mut embedded = Vec::new();
    // `tests.rs` files are test modules (declared under `#[cfg(test)]` in their parent).
    for entry in walk(&crate_dir.join("src")).into_iter().filter(|f| !f.ends_with("tests.rs")) {
        let source = std::fs::read_to_string(&entry).expect("read");
        // Test modules embed sources to scan them; only what the binary embeds counts.
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let strs = code.split("include_str!(\"").skip(1);
        for piece in strs.chain(code.split("include_bytes!(\"").skip(1)) {
            let Some(rel) = piece.split('"').next() else { continue };
            let file = entry.parent().expect("dir").join(rel);
            let file = std::fs::canonicalize(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let inside =
                file.strip_prefix(&crate_dir).unwrap_or_else(|_| panic!("{} is outside the crate", file.display()));
            embedded.push(inside.to_string_lossy().replace('\\', "/"));
        }
    }
    assert!(!embedded.is_empty(), "the sources embed files (X's list of top-level domains)");
    for file in embedded {
        assert!(listed.contains(&file), "`cargo package` leaves out {file}, which the sources embed");
    }
    for needed in ["Cargo.toml", "Cargo.lock", "README.md", "src/main.rs", "src/lib.rs"] {
        assert!(listed.iter().any(|l| l == needed), "`cargo package` ships {needed}");
    }
}

/// The `key = "string"` lines of a TOML file as `section.key` (enough for the flat
/// `[package.metadata.binstall…]` tables; no TOML parser is a dependency).
fn string_keys(toml: &str) -> std::collections::HashMap<String, String> {
    let mut section = String::new();
    let mut keys = std::collections::HashMap::new();
    for line in toml.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_owned();
        } else if let Some((key, value)) = line.split_once('=') {
            let value = value.trim();
            if let Some(text) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
                keys.insert(format!("{section}.{}", key.trim()), text.to_owned());
            }
        }
    }
    keys
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read_dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

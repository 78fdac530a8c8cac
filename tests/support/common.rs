//! Helpers shared by the integration test crates that run the real binary: a fixture
//! repository in a temporary directory, crier run on it in a scrubbed environment, git.
#![allow(dead_code)]

use std::ffi::OsString;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The time crier is told it is (`CRIER_NOW`), so due dates and snapshots hold.
pub(crate) const NOW: &str = "2026-11-28T10:00:00Z";

/// A fixture repository: a temporary directory that is removed when dropped.
pub(crate) struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// An empty directory named `<prefix>…`.
    pub(crate) fn new(prefix: &str) -> Self {
        Self { dir: tempfile::Builder::new().prefix(prefix).tempdir().expect("tempdir") }
    }

    /// A copy of the directory `from` (a fixture repository kept under `tests/fixtures`).
    pub(crate) fn copy_of(prefix: &str, from: &Path) -> Self {
        fn copy(from: &Path, to: &Path) {
            for entry in std::fs::read_dir(from).unwrap_or_else(|e| panic!("{}: {e}", from.display())) {
                let entry = entry.expect("entry");
                let dest = to.join(entry.file_name());
                if entry.path().is_dir() {
                    std::fs::create_dir_all(&dest).expect("mkdir");
                    copy(&entry.path(), &dest);
                } else {
                    std::fs::copy(entry.path(), dest).expect("copy");
                }
            }
        }
        let fixture = Self::new(prefix);
        copy(from, fixture.root());
        fixture
    }

    pub(crate) fn root(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `rel` (making its directories).
    pub(crate) fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.root().join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, contents).expect("write");
        self
    }

    /// Replaces `from` with `to` in `rel`: an edit the user makes.
    #[track_caller]
    pub(crate) fn edit(&self, rel: &str, from: &str, to: &str) -> &Self {
        self.file(rel, self.read(rel).replace(from, to))
    }

    /// Makes `rel` a file of `len` zero bytes without writing them (sparse where supported).
    pub(crate) fn sized_file(&self, rel: &str, len: u64) -> &Self {
        self.file(rel, "");
        let f = std::fs::OpenOptions::new().write(true).open(self.root().join(rel)).expect("open for resize");
        f.set_len(len).expect("resize file");
        self
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.root().join(rel).exists()
    }

    /// The text of `rel`; a missing file fails the test.
    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.root().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    /// Every file under the root.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        walk(self.root())
    }

    /// Fails when `secret` is in the run's output or in a file of the repository but `.env`
    /// (the one file meant to hold secrets).
    #[track_caller]
    pub(crate) fn assert_kept_secret(&self, run: &Run, secret: &str) {
        assert!(!run.all().contains(secret), "a secret leaked into the output\n{run}");
        for path in self.files().into_iter().filter(|p| !p.ends_with(".env")) {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap_or_default()).into_owned();
            assert!(!text.contains(secret), "a secret leaked into {}", path.display());
        }
    }

    /// `crier -C <root> --color never …`, to be given arguments and environment.
    pub(crate) fn crier(&self) -> Crier {
        Crier::new(self.root())
    }

    /// Runs `crier -C <root> --color never ARGS…`.
    #[track_caller]
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.crier().args(args).run()
    }

    /// Replaces the root's absolute path (as given and canonical) with `[REPO]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for p in [self.root().canonicalize().ok(), Some(self.root().to_path_buf())].into_iter().flatten() {
            out = out.replace(&p.display().to_string(), "[REPO]");
        }
        out
    }
}

/// Lets a test's world stand for its fixture repository (`w.file(…)`, `w.read(…)`, `w.root()`):
/// `fixture_world!(World, repo)` where `World::repo` is the [`Fixture`].
#[allow(unused_macros)]
macro_rules! fixture_world {
    ($world:ty, $field:ident) => {
        impl std::ops::Deref for $world {
            type Target = common::Fixture;
            fn deref(&self) -> &common::Fixture {
                &self.$field
            }
        }
    };
}
#[allow(unused_imports)]
pub(crate) use fixture_world;

/// `crier.yaml` for runs against a fake: short waits and timeouts, then `extra`.
pub(crate) fn fast_config(extra: &str) -> String {
    format!(
        "publish:\n  retry_initial_delay_ms: 10\n  max_retry_wait_secs: 3\n  request_timeout_secs: 2\n  \
         processing_timeout_secs: 5\n  poll_interval_ms: 20\n{extra}"
    )
}

/// A runtime of `workers` threads for the fakes' servers.
pub(crate) fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(workers).enable_all().build().expect("runtime")
}

/// A variable of crier's environment for the fakes: its name and value, and whether the
/// value is a secret (never to show in output or in a file of the repository but `.env`).
pub(crate) struct Var {
    /// `None`: a secret crier is not given but comes to hold (a session token, say).
    name: Option<&'static str>,
    value: String,
    secret: bool,
}

impl Var {
    pub(crate) fn plain(name: &'static str, value: impl Into<String>) -> Self {
        Self { name: Some(name), value: value.into(), secret: false }
    }

    pub(crate) fn secret(name: &'static str, value: impl Into<String>) -> Self {
        Self { name: Some(name), value: value.into(), secret: true }
    }

    /// A secret the fakes issue to crier (a session token): in no variable, and never shown.
    pub(crate) fn issued(value: impl Into<String>) -> Self {
        Self { name: None, value: value.into(), secret: true }
    }
}

/// The fakes a [`World`] starts, and how crier reaches them.
pub(crate) trait Fakes {
    /// crier's environment for the fakes: their URLs and credentials.
    fn env(&self) -> Vec<Var>;

    /// What every run must also keep (its requests conform to the API definition, say).
    #[track_caller]
    fn check(&self, _run: &Run) {}
}

/// Declares a test file's `World` over the fakes `$fakes` and crier's environment for them,
/// each variable `plain` or `secret`:
/// `world!(FakeDevto, |f| [plain("CRIER_DEVTO_API_URL", f.base_url()), secret("DEVTO_API_KEY", f.api_key())])`.
/// `world!(type Name = Fakes, …)` names the world otherwise (a file with several).
#[allow(unused_macros)]
macro_rules! world {
    (type $world:ident = $fakes:ty, |$f:ident| [$($kind:ident($($arg:expr),*)),* $(,)?]) => {
        type $world = common::World<$fakes>;

        impl common::Fakes for $fakes {
            fn env(&self) -> Vec<common::Var> {
                let $f = self;
                vec![$(common::Var::$kind($($arg),*)),*]
            }
        }
    };
    ($fakes:ty, |$f:ident| [$($vars:tt)*]) => {
        common::world!(type World = $fakes, |$f| [$($vars)*]);
    };
}
#[allow(unused_imports)]
pub(crate) use world;

/// An end-to-end test's world: fakes on their own runtime, and the fixture repository crier
/// runs on (the world stands for it: `w.file(…)`, `w.read(…)`, `w.root()`).
pub(crate) struct World<F> {
    // Field order matters: the fakes (their server tasks) go before the runtime.
    pub(crate) fake: F,
    pub(crate) rt: tokio::runtime::Runtime,
    pub(crate) repo: Fixture,
    /// The bare `origin` the repository pushes to, once [`World::pushed`].
    pub(crate) origin: Option<tempfile::TempDir>,
}

impl<F> World<F> {
    /// The fakes `start` makes on a runtime of `workers` threads, and `repo`.
    pub(crate) fn start<Fut: std::future::Future<Output = F>>(
        workers: usize,
        repo: Fixture,
        start: impl FnOnce() -> Fut,
    ) -> Self {
        let rt = runtime(workers);
        let fake = rt.block_on(start());
        Self { fake, rt, repo, origin: None }
    }

    /// [`World::start`] on an empty repository `<prefix>…` whose `crier.yaml` is `config`.
    pub(crate) fn configured<Fut: std::future::Future<Output = F>>(
        workers: usize,
        prefix: &str,
        config: impl AsRef<[u8]>,
        start: impl FnOnce() -> Fut,
    ) -> Self {
        let w = Self::start(workers, Fixture::new(prefix), start);
        w.file("crier.yaml", config);
        w
    }

    /// Everything committed and pushed to a new bare `origin`.
    pub(crate) fn pushed(mut self) -> Self {
        self.origin = Some(push_to_new_origin(self.repo.root()));
        self
    }
}

impl<F: Fakes> World<F> {
    /// `crier -C <repo> --color never ARGS…` against the fakes, with their credentials.
    pub(crate) fn command(&self, args: &[&str]) -> Crier {
        let vars = self.fake.env().into_iter().filter_map(|v| Some((v.name?, v.value)));
        vars.fold(self.repo.crier(), |crier, (name, value)| crier.env(name, value)).args(args)
    }

    /// Every secret of the fakes.
    pub(crate) fn secrets(&self) -> Vec<String> {
        self.fake.env().into_iter().filter(|v| v.secret).map(|v| v.value).collect()
    }

    /// Runs it, and checks that no secret leaked and what the fakes check.
    #[track_caller]
    pub(crate) fn finish(&self, crier: Crier) -> Run {
        let run = crier.run();
        self.assert_kept(&run);
        run
    }

    /// [`World::finish`] for a fault matrix's cell: a hang, a signal or a panic is the cell's
    /// error, not the test's.
    #[track_caller]
    pub(crate) fn try_finish(&self, crier: Crier) -> Result<Run, String> {
        let run = crier.try_run()?;
        self.assert_kept(&run);
        Ok(run)
    }

    /// No secret leaked, and the run kept what the fakes check.
    #[track_caller]
    fn assert_kept(&self, run: &Run) {
        for secret in self.secrets() {
            self.repo.assert_kept_secret(run, &secret);
        }
        self.fake.check(run);
    }

    /// Writes `rel` and publishes it: its record on `platform`.
    #[track_caller]
    pub(crate) fn publish_and_record(&self, rel: &str, text: impl AsRef<[u8]>, platform: &str) -> serde_json::Value {
        self.file(rel, text);
        self.run(&["publish"]).code(0);
        record(&self.read(rel), platform).unwrap_or_else(|| panic!("{rel} is not recorded"))
    }

    /// `crier delete REL` without a terminal: nothing goes without `--yes`.
    #[track_caller]
    pub(crate) fn assert_delete_needs_yes(&self, rel: &str) {
        let refused = self.run(&["delete", rel]);
        refused.code(2);
        assert!(refused.all().contains("--yes"), "{refused}");
    }

    /// Runs `crier … ARGS…` against the fakes (see [`World::finish`]).
    #[track_caller]
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.finish(self.command(args))
    }
}

impl<F> std::ops::Deref for World<F> {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.repo
    }
}

/// Every file under `dir` (symlinks not followed), `.git/` included.
pub(crate) fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => out.extend(walk(&p)),
            Ok(_) => out.push(p),
            Err(_) => {}
        }
    }
    out
}

/// One run of the binary on a repository, in a scrubbed environment: only `PATH`, `HOME`
/// (the repository), `CRIER_NOW` ([`NOW`]), no system git configuration, and what the
/// test adds. Nothing from the developer's shell (tokens, `CRIER_*`) reaches it.
pub(crate) struct Crier {
    root: PathBuf,
    /// What `-C` names: the root unless [`Crier::directory`] says otherwise.
    dir: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    timeout: Duration,
}

impl Crier {
    /// `crier -C <root> --color never …` on a directory that is not a [`Fixture`] (a
    /// generated benchmark repository, say).
    pub(crate) fn new(root: &Path) -> Self {
        let env = [
            ("PATH", std::env::var_os("PATH").unwrap_or_default()),
            ("HOME", root.as_os_str().to_owned()),
            ("CRIER_NOW", NOW.into()),
            ("GIT_CONFIG_NOSYSTEM", "1".into()),
        ];
        Self {
            root: root.to_owned(),
            dir: root.to_owned(),
            args: Vec::new(),
            env: env.into_iter().map(|(k, v)| (k.into(), Some(v))).collect(),
            timeout: Duration::from_secs(120),
        }
    }

    /// Runs on `dir` (`-C dir`) while `HOME` and the working directory stay the root.
    pub(crate) fn directory(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dir = dir.into();
        self
    }

    /// Adds arguments after `-C <root> --color never`.
    pub(crate) fn args<S: AsRef<std::ffi::OsStr>>(mut self, args: impl IntoIterator<Item = S>) -> Self {
        self.args.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable.
    pub(crate) fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.env.push((key.into(), Some(value.as_ref().to_owned())));
        self
    }

    /// Leaves a variable out.
    pub(crate) fn env_remove(mut self, key: &str) -> Self {
        self.env.push((key.into(), None));
        self
    }

    /// How long a run may take before it is killed as hung (default two minutes).
    pub(crate) fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().current_dir(&self.root);
        for (k, v) in &self.env {
            match v {
                Some(v) => cmd.env(k, v),
                None => cmd.env_remove(k),
            };
        }
        cmd
    }

    /// Runs it; a hang, a death by signal, a panic or output that is not UTF-8 fail the test.
    #[track_caller]
    pub(crate) fn run(self) -> Run {
        self.try_run().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts it with stdin closed and stdout and stderr piped (a test that steers the run).
    pub(crate) fn spawn(&self) -> std::io::Result<Child> {
        self.spawn_with(Stdio::null())
    }

    /// [`Crier::spawn`] with this stdin (`Stdio::piped()`: the test types into it).
    pub(crate) fn spawn_with(&self, stdin: Stdio) -> std::io::Result<Child> {
        self.command(env!("CARGO_BIN_EXE_crier"))
            .arg("-C")
            .arg(&self.dir)
            .args(["--color", "never"])
            .args(&self.args)
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
    }

    /// Runs it; a hang, a death by signal, a panic or output that is not UTF-8 are errors.
    pub(crate) fn try_run(self) -> Result<Run, String> {
        self.try_run_steered(|_| {})
    }

    /// Runs it like [`Self::run`], calling `steer` with the running process first (a test
    /// that edits files or sends a signal while crier is at work).
    #[track_caller]
    pub(crate) fn run_steered(self, steer: impl FnOnce(&mut Child)) -> Run {
        self.try_run_steered(steer).unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_run_steered(self, steer: impl FnOnce(&mut Child)) -> Result<Run, String> {
        let mut child = self.spawn().map_err(|e| format!("spawn crier: {e}"))?;
        let (t_out, t_err) = drain(&mut child);
        steer(&mut child);
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status;
            }
            if started.elapsed() > self.timeout {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("crier {:?} hung for more than {:?}", self.args, self.timeout));
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let text = |t: std::thread::JoinHandle<Vec<u8>>, what: &str| {
            String::from_utf8(t.join().unwrap_or_default()).map_err(|_| format!("crier's {what} is not UTF-8"))
        };
        let run =
            Run { code: status.code().unwrap_or(-1), stdout: text(t_out, "stdout")?, stderr: text(t_err, "stderr")? };
        if status.code().is_none() {
            return Err(format!("crier was killed by a signal\n{run}"));
        }
        if run.stderr.contains("panicked") {
            return Err(format!("crier panicked\n{run}"));
        }
        Ok(run)
    }

    /// Runs it on a terminal (a pseudo-terminal made by util-linux `script`), typing `answer`:
    /// what a person at a prompt sees and does. The terminal merges stdout and stderr.
    pub(crate) fn run_on_terminal(self, answer: &str) -> Run {
        let quote = |a: &std::ffi::OsStr| format!("'{}'", a.to_string_lossy().replace('\'', r"'\''"));
        let mut line =
            format!("{} -C {} --color never", quote(env!("CARGO_BIN_EXE_crier").as_ref()), quote(self.dir.as_os_str()));
        for a in &self.args {
            line.push(' ');
            line.push_str(&quote(a));
        }
        let timeout = self.timeout.as_secs().to_string();
        let mut child = self
            .command("timeout")
            .args([timeout.as_str(), "script", "-qec", &line, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("util-linux `script` runs");
        {
            use std::io::Write as _;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(answer.as_bytes()).expect("type the answer");
        }
        let out = child.wait_with_output().expect("wait for script");
        // `script` returns crier's exit code.
        Run {
            code: out.status.code().expect("exited normally"),
            stdout: String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n"),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// Reads a spawned crier's stdout and stderr to their ends on two threads, so a full pipe
/// cannot stall it while it runs.
pub(crate) fn drain(child: &mut Child) -> (std::thread::JoinHandle<Vec<u8>>, std::thread::JoinHandle<Vec<u8>>) {
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    (drain(Box::new(child.stdout.take().expect("stdout"))), drain(Box::new(child.stderr.take().expect("stderr"))))
}

/// Sends `SIG<name>` to `child` (a test of how a run stops on Ctrl-C or a CI cancel).
#[cfg(unix)]
pub(crate) fn signal(child: &Child, name: &str) {
    let sent = Command::new("kill").arg(format!("-{name}")).arg(child.id().to_string()).status();
    assert!(sent.expect("kill runs").success(), "kill -{name}");
}

/// Waits (bounded) until `ready` holds, while `child` runs.
pub(crate) fn wait_for(child: &mut Child, what: &str, ready: impl Fn() -> bool) {
    let started = Instant::now();
    while !ready() {
        assert!(child.try_wait().expect("wait").is_none(), "crier ended before {what}");
        assert!(started.elapsed() < Duration::from_secs(30), "{what} never happened");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs `git ARGS…` in `dir` as "Tester" and returns its stdout; a failing git fails the test.
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        // Neither the system's nor the developer's git configuration.
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .env("GIT_AUTHOR_NAME", "Tester")
        .env("GIT_AUTHOR_EMAIL", "tester@example.com")
        .env("GIT_COMMITTER_NAME", "Tester")
        .env("GIT_COMMITTER_EMAIL", "tester@example.com")
        .output()
        .expect("git");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Makes `root` a git repository on `main` with everything committed (as "Tester", who
/// is also the repository's configured user, for the commits crier makes).
pub(crate) fn commit_all(root: &Path) {
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["config", "user.name", "Tester"]);
    git(root, &["config", "user.email", "tester@example.com"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "posts"]);
}

/// [`commit_all`], pushed to a new bare `origin` (returned: it lives as long as the test
/// keeps it).
pub(crate) fn push_to_new_origin(root: &Path) -> tempfile::TempDir {
    let origin = tempfile::tempdir().expect("tempdir");
    git(origin.path(), &["init", "-q", "--bare", "-b", "main"]);
    commit_all(root);
    git(root, &["remote", "add", "origin", &origin.path().display().to_string()]);
    git(root, &["push", "-q", "-u", "origin", "main"]);
    origin
}

/// What one run of the binary printed, and how it ended.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "--- exit code: {}\n--- stdout:\n{}\n--- stderr:\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Run {
    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "unexpected exit code\n{self}");
        self
    }

    #[track_caller]
    pub(crate) fn stdout_has(&self, s: &str) -> &Self {
        assert!(self.stdout.contains(s), "stdout lacks {s:?}\n{self}");
        self
    }

    #[track_caller]
    pub(crate) fn stderr_has(&self, s: &str) -> &Self {
        assert!(self.stderr.contains(s), "stderr lacks {s:?}\n{self}");
        self
    }

    /// stdout parsed as one JSON value.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }

    /// `crier check --format json`: its first diagnostic, which must be `code`.
    #[track_caller]
    pub(crate) fn first_diagnostic(&self, code: &str) -> serde_json::Value {
        let d = self.json()["diagnostics"][0].clone();
        assert_eq!(d["code"], code, "{self}");
        d
    }

    pub(crate) fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// `crier status`: the line of `content/<file>.md` on `platform` ("" when it is not listed).
    pub(crate) fn status_line(&self, file: &str, platform: &str) -> String {
        let key = format!("content/{file}.md → {platform}");
        self.stdout.lines().find(|l| l.contains(&key)).unwrap_or("").to_owned()
    }

    /// `crier status --remote --format json`: the `remote.state` of `content/<file>.md` on
    /// `platform` ("" when it is not listed).
    #[track_caller]
    pub(crate) fn remote_state(&self, file: &str, platform: &str) -> String {
        let path = format!("content/{file}.md");
        let v = self.json();
        let post =
            v["posts"].as_array().and_then(|l| l.iter().find(|p| p["file"] == path && p["platform"] == platform));
        post.map(|p| p["remote"]["state"].as_str().unwrap_or("").to_owned()).unwrap_or_default()
    }
}

/// A minimal PNG (signature and IHDR) of the given size: all the media probe reads.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out
}

/// A real, decodable PNG of the given size (a gradient): for platforms that re-encode images.
pub(crate) fn encoded_png(width: u32, height: u32) -> Vec<u8> {
    encode_png(image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7])))
}

/// `img` encoded as PNG.
pub(crate) fn encode_png(img: image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img).write_to(&mut out, image::ImageFormat::Png).expect("encode");
    out.into_inner()
}

/// A PNG `bytes` of `size` written to `dir/<name>`, as a post's `media/<name>` with `alt`.
pub(crate) fn png_media(
    dir: &Path,
    name: &str,
    bytes: &[u8],
    size: (u32, u32),
    alt: Option<&str>,
) -> crier::rules::media::MediaRef {
    use crier::media_probe::{MediaFormat, MediaInfo};
    let abs = dir.join(name);
    std::fs::write(&abs, bytes).expect("write image");
    crier::rules::media::MediaRef {
        path: Some(format!("media/{name}")),
        abs: Some(abs),
        url: None,
        alt: alt.map(str::to_owned),
        format: MediaFormat::Png,
        info: Some(MediaInfo {
            format: MediaFormat::Png,
            size_bytes: bytes.len() as u64,
            dimensions: Some(size),
            duration_secs: None,
        }),
        span: 0..3,
        alt_span: None,
        problems: Vec::new(),
    }
}

/// Serves `app` on a loopback port until the runtime stops: its origin (`http://127.0.0.1:N`)
/// and the server's task.
pub(crate) async fn serve(app: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}"), task)
}

/// Client options for tests against a fake: short waits, and a 1 s request timeout (a
/// dropped reply hangs longer).
pub(crate) fn fast_http() -> crier::platforms::http::HttpOptions {
    crier::platforms::http::HttpOptions {
        max_total_wait: Duration::from_secs(5),
        initial_delay: Duration::from_millis(10),
        request_timeout: Duration::from_secs(1),
        ..crier::platforms::http::HttpOptions::default()
    }
}

/// What crier renders for Mastodon from the texts `parts` (no media), public and in English.
pub(crate) fn mastodon_output(
    parts: impl IntoIterator<Item = impl Into<String>>,
    origin: std::ops::Range<usize>,
) -> crier::platforms::mastodon::MastodonOutput {
    use crier::platforms::mastodon::MastodonPart;
    let part =
        |text: String| MastodonPart { text, media: Vec::new(), origin: origin.clone(), dropped_images: Vec::new() };
    crier::platforms::mastodon::MastodonOutput {
        parts: parts.into_iter().map(|t| part(t.into())).collect(),
        visibility: "public".into(),
        spoiler_text: None,
        sensitive: false,
        language: Some("en".into()),
        template: "mastodon".into(),
        limits: crier::platforms::mastodon::rules::Limits::default(),
    }
}

/// The Markdown post `text` as crier parses it, at `path`.
#[track_caller]
pub(crate) fn markdown_post(path: &str, text: &str) -> crier::content::Post {
    let kind = crier::content::FileKind::Markdown;
    crier::content::parse_text(path.into(), PathBuf::from(path), kind, text, crier::platforms::catalog())
        .expect("valid post")
}

/// `published.<platform>` of a Markdown post's text, when it has one.
pub(crate) fn record(text: &str, platform: &str) -> Option<serde_json::Value> {
    let rest = text.strip_prefix("---\n")?;
    let end = rest.find("\n---\n")?;
    let v: serde_json::Value = serde_saphyr::from_str(&rest[..=end]).ok()?;
    v.get("published")?.get(platform).cloned()
}

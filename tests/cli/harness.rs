//! Test harness: fixture repositories in temporary directories, and the real
//! `crier` binary run against them in a scrubbed environment.

use std::ffi::OsStr;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A content repository in a temporary directory, deleted on drop.
pub(crate) struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    pub(crate) fn new() -> Self {
        let dir = tempfile::Builder::new().prefix("crier-it-").tempdir().expect("create a temporary directory");
        Self { dir }
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `contents` to the repository-relative path `rel`, creating folders.
    pub(crate) fn file(&self, rel: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create folder for {rel}: {e}"));
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {rel}: {e}"));
        self
    }

    /// Creates a file of `len` zero bytes without writing them (sparse where supported).
    pub(crate) fn sized_file(&self, rel: &str, len: u64) -> &Self {
        self.file(rel, "");
        let f = std::fs::OpenOptions::new().write(true).open(self.path().join(rel)).expect("open for resize");
        f.set_len(len).expect("resize file");
        self
    }

    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"))
    }

    pub(crate) fn exists(&self, rel: &str) -> bool {
        self.path().join(rel).exists()
    }

    /// `crier -C <repo> --color never`, with `HOME` in the repository.
    pub(crate) fn crier(&self) -> Crier {
        Crier::new(self.path()).arg("-C").arg(self.path())
    }

    /// Runs `crier -C <repo> --color never ARGS…`.
    pub(crate) fn run(&self, args: &[&str]) -> Run {
        self.crier().args(args).run()
    }

    /// Replaces the repository's absolute path (as given and canonical) with `[REPO]`.
    pub(crate) fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for p in [self.path().canonicalize().ok(), Some(self.path().to_path_buf())].into_iter().flatten() {
            out = out.replace(&p.display().to_string(), "[REPO]");
        }
        out
    }
}

/// One invocation of the binary being prepared.
pub(crate) struct Crier {
    cmd: assert_cmd::Command,
}

impl Crier {
    /// The binary with an empty environment except `PATH` and `HOME` (= `home`),
    /// run from `home`, with colours off. No `-C`.
    pub(crate) fn new(home: &Path) -> Self {
        let mut cmd = assert_cmd::Command::cargo_bin("crier").expect("the crier binary is built");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .current_dir(home)
            .timeout(Duration::from_secs(120))
            .args(["--color", "never"]);
        Self { cmd }
    }

    pub(crate) fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }

    pub(crate) fn args(mut self, args: &[&str]) -> Self {
        self.cmd.args(args);
        self
    }

    pub(crate) fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub(crate) fn run(mut self) -> Run {
        let out = self.cmd.output().expect("run crier");
        Run {
            code: out.status.code().expect("crier exited normally, not by a signal"),
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
        }
    }
}

/// What a finished run printed, and its exit code.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    /// Asserts the exit code, showing the whole output when it differs.
    #[track_caller]
    pub(crate) fn code(&self, expected: i32) -> &Self {
        assert_eq!(self.code, expected, "unexpected exit code\n{self}");
        self
    }

    /// stdout parsed as one JSON value.
    #[track_caller]
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{self}"))
    }
}

impl fmt::Display for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "--- exit code: {}\n--- stdout:\n{}\n--- stderr:\n{}", self.code, self.stdout, self.stderr)
    }
}

/// The smallest PNG header crier needs: signature and an IHDR chunk.
pub(crate) fn png(width: u32, height: u32) -> Vec<u8> {
    let mut chunk = b"IHDR".to_vec();
    chunk.extend_from_slice(&width.to_be_bytes());
    chunk.extend_from_slice(&height.to_be_bytes());
    chunk.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, default compression/filter/interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&crc32(&chunk).to_be_bytes());
    out
}

/// A GIF header (which crier must recognise whatever the file is called).
pub(crate) fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0; 20]);
    out
}

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

/// The crier source tree, itself a content repository.
pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

//! Running `crier` the way every publish benchmark does.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// `crier -q -C ROOT publish` in a scrubbed environment with `env` set and "now" fixed,
/// and how long it took.
pub(crate) fn publish(root: &Path, env: &[(&str, String)]) -> (Duration, Output) {
    crier(root, env, &["publish"])
}

/// `crier -q -C ROOT ARGS…` in a scrubbed environment with `env` set and "now" fixed, and
/// how long it took.
pub(crate) fn crier(root: &Path, env: &[(&str, String)], args: &[&str]) -> (Duration, Output) {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_crier"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", root)
        .env("CRIER_NOW", "2026-11-28T10:00:00Z")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .args(["--color", "never", "-q", "-C"])
        .arg(root)
        .args(args)
        .output()
        .expect("run crier");
    (start.elapsed(), out)
}

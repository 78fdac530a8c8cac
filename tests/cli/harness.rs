//! Test harness: fixture repositories in temporary directories, and the real `crier`
//! binary run against them, through the one runner in `tests/support/common.rs`.

#[path = "../support/common.rs"]
mod common;

// Each test crate that includes the harness uses a part of it.
#[allow(unused_imports)]
pub(crate) use common::{Crier, Fixture, png};
use std::path::{Path, PathBuf};

/// A content repository in a temporary directory, deleted on drop.
pub(crate) struct Repo(Fixture);

impl std::ops::Deref for Repo {
    type Target = Fixture;
    fn deref(&self) -> &Fixture {
        &self.0
    }
}

impl Repo {
    pub(crate) fn new() -> Self {
        Self(Fixture::new("crier-it-"))
    }

    pub(crate) fn path(&self) -> &Path {
        self.root()
    }
}

/// A GIF header (which crier must recognise whatever the file is called).
pub(crate) fn gif(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0; 20]);
    out
}

/// The crier source tree, itself a content repository.
pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

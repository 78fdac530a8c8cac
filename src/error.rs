//! Errors that stop a command before or outside content checking: a bad
//! invocation, configuration or environment (exit code 2). Problems in posts
//! are [`crate::diag::Diagnostic`]s instead.

use std::path::PathBuf;

use crate::diag::Diagnostic;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{message}")]
    Usage { message: String },

    #[error("invalid configuration in `{}`", .path.display())]
    Config { path: PathBuf, diagnostics: Vec<Diagnostic> },

    #[error("{message}")]
    Env { message: String },

    #[error("{context}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::Usage { message: message.into() }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

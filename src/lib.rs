//! crier: publish social posts from a git repository.
//!
//! The pipeline: [`config`] → [`content`] (discover, parse, spans) →
//! [`render`] (templates, Markdown → platform text) → [`rules`] (limits,
//! diagnostics) per [`platforms`] module; [`ledger`] writes records back.
//! [`commands`] holds one module per subcommand; `main.rs` only parses,
//! dispatches and picks the exit code.

pub mod checklist;
pub mod cli;
pub mod commands;
pub mod config;
pub mod content;
pub mod crosslinks;
pub mod diag;
pub mod difference;
pub mod drift;
pub mod env;
pub mod error;
pub mod fsutil;
pub mod git;
pub mod import;
pub mod keys;
pub mod ledger;
pub mod media_probe;
pub mod pipeline;
pub mod platform_id;
pub mod platforms;
pub mod project;
pub mod publish;
pub mod render;
pub mod rules;
pub mod stats;
pub mod watch;
pub mod yaml;

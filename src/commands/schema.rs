//! `crier schema post|config`: the JSON Schemas (draft 2020-12) of a post's front matter
//! and of crier.yaml, generated from the same types that parse them, platforms' keys
//! included. Editors use them for completion and validation (`crier init` writes them to
//! `.crier/schema/`, see the README).

use super::{Global, Outcome};
use crate::cli::{SchemaArgs, SchemaKind};
use crate::error::Result;

/// Where `crier init` writes the schemas, relative to the repository root.
pub const DIR: &str = ".crier/schema";

/// The schema of `kind`, pretty-printed JSON with a final newline.
pub fn text(kind: SchemaKind) -> String {
    let catalog = crate::platforms::catalog();
    let schema = match kind {
        SchemaKind::Post => crate::content::schema(catalog),
        SchemaKind::Config => crate::config::schema(catalog),
    };
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

/// The file `crier init` writes the schema of `kind` to, relative to the repository root.
pub fn file(kind: SchemaKind) -> String {
    match kind {
        SchemaKind::Post => format!("{DIR}/post.json"),
        SchemaKind::Config => format!("{DIR}/config.json"),
    }
}

pub fn execute(_g: &Global, args: &SchemaArgs) -> Result<Outcome> {
    print!("{}", text(args.kind));
    Ok(Outcome::Success)
}

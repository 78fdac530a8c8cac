//! Posts: discovery in `content/`, front-matter splitting, the typed schema,
//! and positions (every key and every byte of the body maps to file:line:col).

mod discover;
mod post;
mod split;

pub use discover::{discover, is_post_file};
pub use post::{FileKind, FrontMatter, MediaItem, Post, SplitMode, ThreadItem, parse_file, parse_text, schema};
pub use split::{FrontMatterSplit, split_front_matter};

use std::path::Path;

/// Largest post file crier reads; larger ones are rejected before reading.
pub const MAX_POST_BYTES: u64 = 10 * 1024 * 1024;

/// `path` relative to `root` with `/` separators, or the path as given when it
/// lies outside.
pub fn relative_display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let mut out = String::new();
    for (i, c) in rel.components().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&c.as_os_str().to_string_lossy());
    }
    out
}

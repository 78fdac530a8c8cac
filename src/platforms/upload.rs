//! A repository file read for upload (Mastodon, Discord): its bytes, name, type and alt text.

use std::sync::Arc;

use crate::rules::media::MediaRef;

/// A file to upload.
#[derive(Debug, Clone)]
pub struct Upload {
    pub bytes: Arc<Vec<u8>>,
    pub file_name: String,
    pub mime: String,
    /// The alt text, when it says something.
    pub description: Option<String>,
}

impl Upload {
    /// Reads the file of `m`; `platform` names who needs it in the message of media given by URL.
    pub fn read(m: &MediaRef, platform: &str) -> Result<Self, String> {
        let (Some(abs), Some(rel)) = (&m.abs, &m.path) else {
            return Err(format!("{platform} needs the file itself: media given by `url` cannot be uploaded"));
        };
        let bytes = std::fs::read(abs).map_err(|e| format!("cannot read `{rel}`: {e}"))?;
        Ok(Self {
            bytes: Arc::new(bytes),
            file_name: rel.rsplit('/').next().unwrap_or(rel).to_owned(),
            mime: m.format.mime().unwrap_or("application/octet-stream").to_owned(),
            description: m.alt.clone().filter(|a| !a.trim().is_empty()),
        })
    }
}

//! Link cards, for platforms where the client builds them (Bluesky's
//! `app.bsky.embed.external`, LinkedIn's article). crier fetches the page (bounded in size
//! and time), reads its OpenGraph title, description and image (falling back to `<title>`
//! and the `description` meta tag), and fetches the image for a thumbnail. Any failure
//! gives no card, never a failed post.

use std::time::Duration;

use url::Url;

use crate::platforms::entities::decode as decode_entities;

/// At most this much of a page is read (the head is what matters).
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;
/// At most this much of a card image is read.
pub const MAX_IMAGE_BYTES: usize = 5 * 1024 * 1024;

/// What a page says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMeta {
    pub title: String,
    pub description: String,
    /// Absolute URL of the preview image.
    pub image: Option<String>,
}

/// Fetches pages and card images with bounds.
#[derive(Debug, Clone)]
pub struct Fetcher {
    http: reqwest::Client,
}

impl Fetcher {
    pub fn new(timeout: Duration) -> Self {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .user_agent(concat!("crier/", env!("CARGO_PKG_VERSION"), " (link card)"))
            .build()
            .unwrap_or_default();
        Self { http }
    }

    /// The page's metadata, or why there is none.
    pub async fn page(&self, url: &str) -> Result<PageMeta, String> {
        let base = Url::parse(url).map_err(|e| format!("not a URL: {e}"))?;
        let (body, ctype) = self.get(url, MAX_PAGE_BYTES).await?;
        if !ctype.is_empty() && !ctype.contains("html") {
            return Err(format!("the link is {ctype}, not a web page"));
        }
        let meta = parse_meta(&String::from_utf8_lossy(&body), &base);
        if meta.title.is_empty() && meta.description.is_empty() {
            return Err("the page has no title".to_owned());
        }
        Ok(meta)
    }

    /// The image's bytes (at most [`MAX_IMAGE_BYTES`]).
    pub async fn image(&self, url: &str) -> Result<Vec<u8>, String> {
        self.get(url, MAX_IMAGE_BYTES).await.map(|(b, _)| b)
    }

    async fn get(&self, url: &str, limit: usize) -> Result<(Vec<u8>, String), String> {
        let mut resp = self.http.get(url).send().await.map_err(|e| describe(&e))?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        let ctype = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
            body.extend_from_slice(&chunk);
            if body.len() >= limit {
                body.truncate(limit);
                break;
            }
        }
        Ok((body, ctype))
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no reply in time".to_owned()
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection failed".to_owned()
    }
}

/// OpenGraph (and plain HTML) metadata of a page; relative image URLs are
/// resolved against `base`.
pub fn parse_meta(html: &str, base: &Url) -> PageMeta {
    let mut og_title = None;
    let mut og_desc = None;
    let mut og_image = None;
    let mut desc = None;
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find("<meta") {
        let start = from + i;
        let end = lower[start..].find('>').map_or(lower.len(), |j| start + j);
        let attrs = attributes(&html[start + 5..end]);
        from = end;
        let get = |k: &str| attrs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let key = get("property").or_else(|| get("name")).unwrap_or_default().to_ascii_lowercase();
        let Some(content) = get("content") else { continue };
        match key.as_str() {
            "og:title" | "twitter:title" => {
                og_title.get_or_insert(content);
            }
            "og:description" | "twitter:description" => {
                og_desc.get_or_insert(content);
            }
            "og:image" | "og:image:url" | "og:image:secure_url" | "twitter:image" => {
                og_image.get_or_insert(content);
            }
            "description" => {
                desc.get_or_insert(content);
            }
            _ => {}
        }
    }
    let title = og_title.or_else(|| {
        let s = lower.find("<title")?;
        let open = s + lower[s..].find('>')? + 1;
        let close = open + lower[open..].find("</title")?;
        Some(decode_entities(&html[open..close]))
    });
    let clean = |s: Option<String>| s.map(|t| t.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
    PageMeta {
        title: clean(title),
        description: clean(og_desc.or(desc)),
        image: og_image
            .and_then(|u| base.join(u.trim()).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .map(String::from),
    }
}

/// `name="value"` pairs of a tag (names lower-cased, values entity-decoded).
fn attributes(tag: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = tag.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let name_start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'=' && bytes[i] != b'/' {
            i += 1;
        }
        let name = tag[name_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let q = bytes[i];
                let s = i + 1;
                let e = tag[s..].find(q as char).map_or(tag.len(), |j| s + j);
                i = (e + 1).min(tag.len());
                &tag[s..e]
            } else {
                let s = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                &tag[s..i]
            };
            out.push((name, decode_entities(value)));
        } else if !name.is_empty() {
            out.push((name, String::new()));
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_open_graph_with_fallbacks() {
        let base = Url::parse("https://example.com/blog/post").expect("url");
        let html = r#"<html><head><title>Plain &amp; simple</title>
            <meta property="og:title" content="Rust &amp; Bluesky">
            <META name='description' content='About facets'>
            <meta property="og:image" content="/img/card.png" />
            </head><body>x</body></html>"#;
        let m = parse_meta(html, &base);
        assert_eq!(m.title, "Rust & Bluesky");
        assert_eq!(m.description, "About facets");
        assert_eq!(m.image.as_deref(), Some("https://example.com/img/card.png"));

        let m = parse_meta("<title>\n  Only   a title </title>", &base);
        assert_eq!((m.title.as_str(), m.description.as_str(), m.image), ("Only a title", "", None));

        let m = parse_meta(
            r#"<meta content="D&#233;j&#xE0; vu" property=og:description><meta property="og:image" content="javascript:x">"#,
            &base,
        );
        assert_eq!((m.description.as_str(), m.image), ("Déjà vu", None));
    }
}

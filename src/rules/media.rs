//! Media references: resolving `{path}` / `{url}` items, and the checks every
//! platform shares (inside the repository, exists, tracked by git, https).

use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde_saphyr::Spanned;

use crate::content::{MediaItem, Post};
use crate::diag::Diagnostic;
use crate::media_probe::{MediaFormat, MediaInfo, format_from_extension};
use crate::project::Project;

#[derive(Debug, Clone)]
pub struct MediaRef {
    /// Repository-relative path of a local file.
    pub path: Option<String>,
    pub abs: Option<PathBuf>,
    /// Public URL: given, or formed for a local file (None when it cannot be).
    pub url: Option<String>,
    pub alt: Option<String>,
    pub format: MediaFormat,
    pub info: Option<MediaInfo>,
    /// File span of the item, and of its `alt`.
    pub span: Range<usize>,
    pub alt_span: Option<Range<usize>>,
    /// Problems found while resolving (reported by validation).
    pub problems: Vec<Diagnostic>,
}

impl MediaRef {
    pub fn kind_name(&self) -> &'static str {
        if self.format.is_video() { "video" } else { "image" }
    }

    /// The item as a human-readable rendering shows it: `[image media/a.png — alt: …]`,
    /// with `no_alt` after the source when it has no alt text.
    pub fn human_line(&self, no_alt: &str) -> String {
        let what = self.path.as_deref().or(self.url.as_deref()).unwrap_or("?");
        match &self.alt {
            Some(alt) => format!("[{} {what} — alt: {alt}]\n", self.kind_name()),
            None => format!("[{} {what}{no_alt}]\n", self.kind_name()),
        }
    }

    /// The repository path, else the URL, else `fallback`: how diagnostics name the item.
    pub fn name_or<'a>(&'a self, fallback: &'a str) -> &'a str {
        self.path.as_deref().or(self.url.as_deref()).unwrap_or(fallback)
    }

    /// An error about this item, at its place in the post.
    pub fn error(&self, post: &Post, code: &'static str, message: impl Into<String>, hint: &str) -> Diagnostic {
        Diagnostic::error(code, message).at(&post.source, self.span.clone()).with_hint(hint)
    }

    /// A warning about this item, at its place in the post.
    pub fn warning(&self, post: &Post, code: &'static str, message: impl Into<String>, hint: &str) -> Diagnostic {
        Diagnostic::warning(code, message).at(&post.source, self.span.clone()).with_hint(hint)
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), self.kind_name().into());
        if let Some(p) = &self.path {
            m.insert("path".into(), p.clone().into());
        }
        if let Some(u) = &self.url {
            m.insert("url".into(), u.clone().into());
        }
        if let Some(a) = &self.alt {
            m.insert("alt".into(), a.clone().into());
        }
        serde_json::Value::Object(m)
    }
}

/// A platform's limit on alt text, and the words of its two diagnostics.
pub struct AltText {
    /// Characters the platform keeps.
    pub max: usize,
    /// The words before the limit, after "the alt text is N characters; " (`X allows`).
    pub limit: &'static str,
    /// The codes of alt text that is too long (an error) and of none (a warning).
    pub codes: [&'static str; 2],
    /// The hint when there is none: why alt text matters there.
    pub why: &'static str,
}

impl AltText {
    /// Alt text over the limit is an error (at the alt text; `note` follows the limit); none
    /// is a warning (at the item, named `what`).
    pub fn check(&self, post: &Post, m: &MediaRef, what: &str, note: &str, d: &mut Vec<Diagnostic>) {
        let [too_long, missing] = self.codes;
        match &m.alt {
            Some(alt) if alt.chars().count() > self.max => {
                let n = alt.chars().count();
                d.push(
                    Diagnostic::error(
                        too_long,
                        format!("the alt text is {n} characters; {} {}{note}", self.limit, self.max),
                    )
                    .at(&post.source, m.alt_span.clone().unwrap_or_else(|| m.span.clone()))
                    .with_hint(format!("shorten it by {} characters", n - self.max)),
                );
            }
            Some(alt) if !alt.trim().is_empty() => {}
            _ => d.push(m.warning(post, missing, format!("`{what}` has no alt text"), self.why)),
        }
    }
}

/// `code` when an item is given by `url` to a platform that is sent the file itself (it
/// takes no URL); true when it is, and the item needs no further checks.
pub fn needs_file(post: &Post, m: &MediaRef, code: &'static str, platform: &str, d: &mut Vec<Diagnostic>) -> bool {
    if m.path.is_some() || m.url.is_none() {
        return false;
    }
    let message = format!("{platform} needs the file itself: media given by `url` cannot be uploaded");
    d.push(m.error(post, code, message, "put the file in the repository and use `path:`"));
    true
}

/// Resolves one media item of `post`.
pub fn resolve(project: &Project, post: &Post, item: &Spanned<MediaItem>) -> MediaRef {
    let span = post.span_of(&item.referenced);
    let m = &item.value;
    let mut r = MediaRef {
        path: None,
        abs: None,
        url: None,
        alt: m.alt.as_ref().map(|a| a.value.clone()),
        format: MediaFormat::Unknown,
        info: None,
        span: span.clone(),
        alt_span: m.alt.as_ref().map(|a| post.span_of(&a.referenced)),
        problems: Vec::new(),
    };
    let src = &post.source;
    match (&m.path, &m.url) {
        (Some(_), Some(u)) => r.problems.push(
            Diagnostic::error("media-path-and-url", "a media item has both `path` and `url`")
                .at(src, post.span_of(&u.referenced))
                .with_hint("keep `path` for a file in the repository, or `url` for a file already online"),
        ),
        (None, None) => r.problems.push(
            Diagnostic::error("media-missing-source", "a media item needs `path` or `url`")
                .at(src, span)
                .with_hint("for example `- path: media/photo.jpg` with `alt: …`"),
        ),
        (None, Some(u)) => {
            let at = post.span_of(&u.referenced);
            if !u.value.starts_with("https://") {
                r.problems.push(
                    Diagnostic::error("media-url-invalid", format!("media URL `{}` is not an https URL", u.value))
                        .at(src, at)
                        .with_hint("platforms fetch media over https; use an https:// URL or a repository `path`"),
                );
            }
            r.format = format_from_extension(&u.value);
            r.url = Some(u.value.clone());
        }
        (Some(p), None) => resolve_path(project, post, p, &mut r),
    }
    r
}

fn resolve_path(project: &Project, post: &Post, p: &Spanned<String>, r: &mut MediaRef) {
    let src = &post.source;
    let at = post.span_of(&p.referenced);
    let Some(rel) = normalize(&p.value) else {
        r.problems.push(
            Diagnostic::error("media-path-escapes", format!("media path `{}` leads outside the repository", p.value))
                .at(src, at)
                .with_hint("media paths are relative to the repository root, for example `media/photo.jpg`"),
        );
        return;
    };
    let abs = project.root.join(&rel);
    r.path = Some(rel.clone());
    if std::fs::metadata(&abs).is_err() {
        let hint =
            if Path::new(&p.value).is_relative() && post.abs_path.parent().is_some_and(|d| d.join(&p.value).exists()) {
                "media paths are relative to the repository root, not to the post's folder".to_owned()
            } else {
                "check the spelling; media paths are relative to the repository root".to_owned()
            };
        r.problems.push(
            Diagnostic::error("media-not-found", format!("media file `{rel}` does not exist"))
                .at(src, at)
                .with_hint(hint),
        );
        return;
    }
    // Any link on the way (the file, or a folder above it) may point outside.
    if !project.is_inside_repo(&abs) {
        r.problems.push(
            Diagnostic::error(
                "media-path-escapes",
                format!("media file `{rel}` is behind a symlink pointing outside the repository"),
            )
            .at(src, at)
            .with_hint("copy the file into the repository; its public URL must come from the repository"),
        );
        return;
    }
    if !abs.is_file() {
        r.problems.push(
            Diagnostic::error("media-not-found", format!("media path `{rel}` is not a file"))
                .at(src, at)
                .with_hint("point at an image or video file"),
        );
        return;
    }
    match project.probe(&abs) {
        Ok(info) => {
            r.format = info.format;
            r.info = Some(info);
        }
        Err(e) => r.problems.push(
            Diagnostic::error("media-unreadable", format!("cannot read media file `{rel}`: {e}")).at(src, at.clone()),
        ),
    }
    if project.is_tracked(&rel) == Some(false) {
        r.problems.push(
            Diagnostic::warning("media-untracked", format!("media file `{rel}` is not tracked by git"))
                .at(src, at)
                .with_hint(format!("its public URL will not exist until it is committed: `git add {rel}`")),
        );
    }
    r.url = project.public_url(&rel);
    r.abs = Some(abs);
}

/// A platform takes media by URL (`why` says so: "Threads fetches media by URL"), and `m`
/// (a repository file) has none: a warning, since GitHub Actions or `media.base_url` forms
/// one, and `publish` refuses the post until then.
pub fn check_public_url(post: &Post, m: &MediaRef, why: &str, d: &mut Vec<Diagnostic>) {
    if let (Some(rel), None, Some(_)) = (&m.path, &m.url, &m.abs) {
        d.push(no_public_url(post, m.span.clone(), rel, why));
    }
}

fn no_public_url(post: &Post, span: Range<usize>, rel: &str, why: &str) -> Diagnostic {
    Diagnostic::warning("media-no-public-url", format!("`{rel}` has no public URL here, and {why}"))
    .at(&post.source, span)
    .with_hint(
        "publish from GitHub Actions (it forms a raw.githubusercontent.com URL), or set `media.base_url` in crier.yaml; `publish` refuses the post until then",
    )
}

/// The folder of `post` in the repository (`""` at the root): where relative images start.
pub fn post_dir(post: &Post) -> &str {
    post.path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// An image of a Markdown body that names a file: `![…](img/a.png)` or `<img src="…">`,
/// relative to the post's folder, or to the repository with a leading `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BodyImage {
    /// Bytes of the destination in the body (of the whole image when it is given by a
    /// reference definition).
    pub span: Range<usize>,
    /// The destination as parsed.
    pub dest: String,
    /// Whether it is an HTML `<img>` (whose `src` is replaced in place).
    pub html: bool,
}

/// The images of `markdown` that name a file (not a URL), outside code.
pub fn body_images(markdown: &str) -> Vec<BodyImage> {
    use pulldown_cmark::{Event, Parser, Tag};
    let mut found = Vec::new();
    for (event, range) in Parser::new_ext(markdown, crate::render::text::markdown_options()).into_offset_iter() {
        match event {
            Event::Start(Tag::Image { dest_url, .. }) if is_relative(&dest_url) => {
                let raw = &markdown[range.clone()];
                let span =
                    raw.rfind(&*dest_url).map_or(range.clone(), |i| range.start + i..range.start + i + dest_url.len());
                found.push(BodyImage { span, dest: dest_url.into_string(), html: false });
            }
            Event::Html(_) | Event::InlineHtml(_) => {
                for src in img_srcs(&markdown[range.clone()]) {
                    let dest = &markdown[range.start + src.start..range.start + src.end];
                    if is_relative(dest) {
                        let span = range.start + src.start..range.start + src.end;
                        found.push(BodyImage { span, dest: dest.to_owned(), html: true });
                    }
                }
            }
            _ => {}
        }
    }
    found
}

fn is_relative(dest: &str) -> bool {
    crate::render::text::is_relative(dest)
}

/// The byte ranges of the `src` values of the `<img>` tags in `html`.
fn img_srcs(html: &str) -> Vec<Range<usize>> {
    let lower = html.to_ascii_lowercase();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find("<img").map(|i| at + i) {
        let end = lower[i..].find('>').map_or(lower.len(), |e| i + e);
        at = end.max(i + 4);
        if !lower[i + 4..].starts_with(|c: char| c.is_ascii_whitespace()) {
            continue;
        }
        let tag = &lower[i..end];
        // ` src`, then optional spaces, `=`, and a quoted or bare value.
        let mut from = 0;
        while let Some(k) = tag[from..].find("src").map(|k| from + k) {
            from = k + 3;
            if !tag[..k].ends_with(|c: char| c.is_ascii_whitespace()) {
                continue;
            }
            let rest = tag[k + 3..].trim_start();
            let Some(value) = rest.strip_prefix('=').map(str::trim_start) else { continue };
            let v = i + (tag.len() - value.len());
            let range = match value.chars().next() {
                Some(q @ ('"' | '\'')) => v + 1..v + 1 + value[1..].find(q).unwrap_or(value.len() - 1),
                _ => v..v + value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len()),
            };
            if !range.is_empty() {
                out.push(range);
            }
            break;
        }
    }
    out
}

/// What keeps a body image from being a file of the repository.
enum Unusable {
    /// It climbs above the repository root.
    Escapes,
    /// No such file at this repository path (`true`: there is one at the path taken from
    /// the repository root).
    Missing(String, bool),
    /// A symlink on the way leads outside the repository.
    LinkOut,
}

/// A body image's destination as the repository path of an existing file.
fn locate(project: &Project, post: &Post, dest: &str) -> Result<String, Unusable> {
    let rel = normalize(&join_post_dir(post_dir(post), dest)).ok_or(Unusable::Escapes)?;
    let abs = project.root.join(&rel);
    if !abs.is_file() {
        let from_root = !dest.starts_with('/') && project.root.join(dest).is_file();
        return Err(Unusable::Missing(rel, from_root));
    }
    if !project.is_inside_repo(&abs) {
        return Err(Unusable::LinkOut);
    }
    Ok(rel)
}

/// A body image's destination as the repository path of an existing file, if it is one.
pub fn body_image_path(project: &Project, post: &Post, dest: &str) -> Option<String> {
    locate(project, post, dest).ok()
}

/// Problems of the body images of `post` for a platform that shows them by URL (`why`
/// says so): each must be a file of the repository, committed, with a public URL.
pub fn check_body_images(project: &Project, post: &Post, why: &str, d: &mut Vec<Diagnostic>) {
    let src = &post.source;
    for image in body_images(&post.body) {
        let at = post.body_span(image.span.clone());
        let dest = &image.dest;
        let (code, message, hint) = match locate(project, post, dest) {
            Ok(rel) => {
                if project.is_tracked(&rel) == Some(false) {
                    d.push(
                        Diagnostic::warning("media-untracked", format!("image file `{rel}` is not tracked by git"))
                            .at(src, at.clone())
                            .with_hint(format!("its public URL will not exist until it is committed: `git add {rel}`")),
                    );
                }
                if project.public_url(&rel).is_none() {
                    d.push(no_public_url(post, at, &rel, why));
                }
                continue;
            }
            Err(Unusable::Escapes) => (
                "media-path-escapes",
                format!("image `{dest}` leads outside the repository"),
                "an image path starts at the post's folder (or at the repository root with a leading `/`)".to_owned(),
            ),
            Err(Unusable::LinkOut) => (
                "media-path-escapes",
                format!("image `{dest}` is behind a symlink pointing outside the repository"),
                "copy the file into the repository; its public URL must come from the repository".to_owned(),
            ),
            Err(Unusable::Missing(rel, from_root)) => (
                "media-not-found",
                format!("image file `{rel}` does not exist"),
                if from_root {
                    format!(
                        "an image path starts at the post's folder: write `/{dest}` for the file at the repository root"
                    )
                } else {
                    format!("check the spelling; the path starts at the post's folder (`{}/`)", post_dir(post))
                },
            ),
        };
        d.push(Diagnostic::error(code, message).at(src, at).with_hint(hint));
    }
}

/// `dest` (an image link of the post) as a repository path: `/x` from the root, else
/// from the post's folder.
pub fn join_post_dir(post_dir: &str, dest: &str) -> String {
    match dest.strip_prefix('/') {
        Some(abs) => abs.to_owned(),
        None if post_dir.is_empty() => dest.to_owned(),
        None => format!("{post_dir}/{dest}"),
    }
}

/// Lexically normalises a repository-relative path; `None` if it is absolute
/// or climbs above the root.
pub fn normalize(path: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_post_dir_resolves_from_the_post_or_the_root() {
        assert_eq!(join_post_dir("content/a", "img.png"), "content/a/img.png");
        assert_eq!(join_post_dir("content/a", "/media/img.png"), "media/img.png");
        assert_eq!(join_post_dir("", "img.png"), "img.png");
    }

    #[test]
    fn body_images_are_found_in_markdown_and_html() {
        let md = "![a](img/a.png) ![b](https://x.dev/b.png)\n\n<img src=\"img/c.png\" alt=x> <IMG SRC='/d.png'>\n\n\
                  <p><img alt=\"e\" src=img/e.png></p>\n\n`![f](f.png)` <imgx src=\"g.png\"> <img data-src=\"h.png\">\n";
        let images = body_images(md);
        let found: Vec<(&str, bool, &str)> =
            images.iter().map(|i| (&md[i.span.clone()], i.html, i.dest.as_str())).collect();
        // (the `<img data-src>` has no `src`: nothing to fetch)
        assert_eq!(
            found,
            [
                ("img/a.png", false, "img/a.png"),
                ("img/c.png", true, "img/c.png"),
                ("/d.png", true, "/d.png"),
                ("img/e.png", true, "img/e.png"),
            ]
        );
    }

    #[test]
    fn normalize_rejects_escapes() {
        let cases = [
            ("media/a.png", Some("media/a.png")),
            ("./media/../media/a.png", Some("media/a.png")),
            ("../secret.png", None),
            ("media/../../x.png", None),
            ("/etc/passwd", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(normalize(input).as_deref(), want, "{input}");
        }
    }
}

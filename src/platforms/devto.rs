//! dev.to (Forem API v1): the Markdown body as written, through the `devto`
//! template, with image links relative to the post rewritten to public URLs.

pub mod api;
mod delete;
mod doctor;
pub mod options;
pub mod publish;
pub mod rules;
mod session;
mod stats;

pub use options::DevtoOptions;

use serde_json::{Value, json};

use super::{Credential, Output, PlatformId, PreviewContext, parts};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::env::Env;
use crate::project::Project;
use crate::render::html::{escape, markdown_html};
use crate::render::text;
use crate::rules::media::{self, join_post_dir};

#[derive(Debug, Clone)]
pub struct DevtoOutput {
    pub title: Option<String>,
    pub body_markdown: String,
    pub tags: Vec<String>,
    pub series: Option<String>,
    pub canonical_url: Option<String>,
    pub description: Option<String>,
    pub main_image: Option<String>,
    pub published: bool,
    pub organization_id: Option<u64>,
    pub template: String,
    /// The post's folder in the repository (relative image links start there).
    pub post_dir: String,
    /// Images linked relative to the post that the body links at their public URL:
    /// (public URL, repository path). The preview shows them from the working tree,
    /// since the URL exists only once the commit is pushed.
    pub local_images: Vec<(String, String)>,
    /// Repository files the body links that have no public URL (outside GitHub Actions
    /// without `media.base_url`): the article cannot be published with them.
    pub unresolved_images: Vec<String>,
}

impl Output for DevtoOutput {
    super::output_basics!(Devto::id());

    /// The article as HTML; images linked relative to the post are served by the preview
    /// (they have no public URL while drafting).
    fn preview_html(&self, cx: &mut PreviewContext<'_>) -> String {
        let mut serve = |rel: String| {
            let abs = cx.root.join(&rel);
            abs.is_file().then(|| cx.local_media(&rel, &abs))
        };
        let body = text::rewrite_relative_images(&self.body_markdown, |dest| {
            serve(media::normalize(&join_post_dir(&self.post_dir, dest))?)
        });
        let body =
            text::rewrite_images(&body, |dest| serve(self.local_images.iter().find(|(url, _)| url == dest)?.1.clone()));
        format!(
            "<div class=\"platform\"><h3>dev.to</h3><article class=\"devto\"><h1>{}</h1><p class=\"tags\">{}</p>{}</article></div>",
            escape(self.title.as_deref().unwrap_or("(no title)")),
            self.tags.iter().map(|t| format!("#{}", escape(t))).collect::<Vec<_>>().join(" "),
            markdown_html(&body)
        )
    }

    fn to_json(&self) -> Value {
        json!({ "title": self.title, "body_markdown": self.body_markdown, "tags": self.tags })
    }

    fn summary(&self) -> String {
        format!(
            "devto    title {}/128  body {} bytes  {} tag{}",
            self.title.as_deref().map_or(0, |t| t.chars().count()),
            self.body_markdown.len(),
            self.tags.len(),
            if self.tags.len() == 1 { "" } else { "s" }
        )
    }

    fn to_human(&self) -> String {
        let mut out = format!("title: {}\n", self.title.as_deref().unwrap_or("(none)"));
        if !self.tags.is_empty() {
            out.push_str(&format!("tags: {}\n", self.tags.join(", ")));
        }
        for (k, v) in [
            ("series", &self.series),
            ("canonical_url", &self.canonical_url),
            ("description", &self.description),
            ("cover_image", &self.main_image),
        ] {
            if let Some(v) = v {
                out.push_str(&format!("{k}: {v}\n"));
            }
        }
        if !self.published {
            out.push_str("published: false (saved as a draft on dev.to)\n");
        }
        out.push_str("──\n");
        out.push_str(self.body_markdown.trim_end());
        out.push('\n');
        out
    }
}

const CREDENTIALS: &[Credential] = &[Credential { var: "DEVTO_API_KEY", required: true }];

super::platform! {
    pub struct Devto("devto") {
        display: "dev.to",
        credentials: CREDENTIALS,
        hint: "create an API key at https://dev.to/settings/extensions and set DEVTO_API_KEY (in .env, or as a repository secret)",
        noun: "article",
        post: DevtoOptions,
        edits_in_place: true,
        connect: |cx| Ok(session::connect(cx)),
        validate: validate,
    }

    fn placeholder_url(&self, post: &Post, env: &Env) -> String {
        // dev.to slugs are the title's words plus a 4-character suffix; the handle is a
        // guess of typical length (people tend to use one handle everywhere).
        let user = env.get("THREADS_USERNAME").unwrap_or("username");
        let title = post
            .options
            .get::<DevtoOptions>()
            .and_then(|d| d.value.title.as_ref())
            .or(post.front.title.as_ref())
            .map_or(post.slug.as_str(), |t| t.value.as_str());
        format!("https://dev.to/{user}/{}-xxxx", crate::render::context::slugify(title))
    }
}

/// dev.to's rules, and the body's images: files of the repository with a public URL.
fn validate(project: &Project, post: &Post, out: &DevtoOutput) -> Vec<Diagnostic> {
    let mut d = rules::validate(project, post, out);
    media::check_body_images(project, post, "dev.to shows body images by URL", &mut d);
    d
}

/// Renders `post` for dev.to: the body with relative images and links made absolute,
/// through the template, and the article's fields.
pub fn render(project: &Project, post: &Post, targets: &[PlatformId]) -> Result<DevtoOutput, Vec<Diagnostic>> {
    let f = &post.front;
    let (o, template) = super::options_and_template::<DevtoOptions>(project, post, Devto::id())?;
    let post_dir = media::post_dir(post);
    // The body as written (dev.to has no `||` spoiler, so the bars are the author's text),
    // its images of repository files at their public URLs. One that is missing, outside the
    // repository or without a URL stays as written (check reports it; publish refuses one
    // without a URL).
    let mut local_images = Vec::new();
    let mut unresolved_images = Vec::new();
    let mut public = |dest: &str| {
        let rel = media::body_image_path(project, post, dest)?;
        let Some(url) = project.public_url(&rel) else {
            unresolved_images.push(rel);
            return None;
        };
        local_images.push((url.clone(), rel));
        Some(url)
    };
    let mut body = post.body.clone();
    for image in media::body_images(&post.body).iter().rev().filter(|i| i.html) {
        if let Some(url) = public(&image.dest) {
            body.replace_range(image.span.clone(), &url);
        }
    }
    let body = text::rewrite_relative_images(&body, public);
    let body = text::rewrite_relative_links(&body, project.config.site_url().as_ref());
    let body_markdown = parts::render_text(project, post, targets, Devto::id(), &template, body)?;
    let title = o.and_then(|o| o.title.as_ref()).or(f.title.as_ref()).map(|t| t.value.clone());
    let tags = o
        .and_then(|o| o.tags.as_ref())
        .or(f.tags.as_ref())
        .map(|t| t.value.iter().map(|s| s.value.clone()).collect())
        .unwrap_or_default();
    let cover = o.and_then(|o| o.cover_image.as_ref()).map(|c| c.value.clone());
    Ok(DevtoOutput {
        title,
        body_markdown,
        tags,
        series: o.and_then(|o| o.series.as_ref()).map(|s| s.value.clone()),
        canonical_url: o.and_then(|o| o.canonical_url.as_ref()).map(|s| s.value.clone()),
        description: o.and_then(|o| o.description.as_ref()).map(|s| s.value.clone()),
        main_image: cover,
        published: o.and_then(|o| o.published).unwrap_or(true),
        organization_id: o.and_then(|o| o.organization_id.as_ref()).map(|s| s.value),
        template,
        post_dir: post_dir.to_owned(),
        local_images,
        unresolved_images,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders `post` (at content/post.md) in a repository holding `files`, with `env`.
    fn rendered(post: &str, files: &[(&str, &[u8])], env: &[(&str, &str)]) -> DevtoOutput {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        for (rel, bytes) in files.iter().chain(&[("content/post.md", post.as_bytes())]) {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
        let env = Env::from_pairs(env.iter().copied());
        let project = Project::open(root, None, env, crate::platforms::catalog()).expect("project");
        let post = crate::content::parse_file(root, &root.join("content/post.md"), project.catalog).expect("parses");
        render(&project, &post, &[]).expect("renders")
    }

    const ACTIONS: &[(&str, &str)] = &[("GITHUB_REPOSITORY", "me/site"), ("GITHUB_SHA", "abc")];

    #[test]
    fn the_body_is_the_markdown_as_written_double_bars_included() {
        let bodies =
            ["| a | b | c |\n|---|---|---|\n| 1 || 3 |\n", "Run this || that || other.\n", "Gone in a day: ||boo||!\n"];
        for body in bodies {
            let out = rendered(&format!("---\nplatforms: [devto]\ntitle: T\n---\n{body}"), &[], ACTIONS);
            assert_eq!(out.body_markdown, body, "{body:?}");
        }
    }

    fn article(body: &str, post_dir: &str) -> DevtoOutput {
        DevtoOutput {
            title: Some("T".into()),
            body_markdown: body.into(),
            tags: vec!["rust".into()],
            series: None,
            canonical_url: None,
            description: None,
            main_image: None,
            published: true,
            organization_id: None,
            template: "devto".into(),
            post_dir: post_dir.into(),
            local_images: Vec::new(),
            unresolved_images: Vec::new(),
        }
    }

    #[test]
    fn images_of_repository_files_get_their_public_url() {
        let png: &[u8] = b"png";
        let files = [("content/img/p.png", png)];
        let post = "---\nplatforms: [devto]\ntitle: T\n---\n![one](img/p.png) <img alt=\"x\" src=\"img/p.png\">\n\n\
                    ![gone](img/nope.png) <img src=\"img/nope.png\"> ![web](https://x.dev/w.png)\n";
        let url = "https://raw.githubusercontent.com/me/site/abc/content/img/p.png";
        let out = rendered(post, &files, ACTIONS);
        assert_eq!(
            out.body_markdown,
            format!(
                "![one]({url}) <img alt=\"x\" src=\"{url}\">\n\n\
                 ![gone](img/nope.png) <img src=\"img/nope.png\"> ![web](https://x.dev/w.png)\n"
            ),
            "a missing file stays as written (check reports it)"
        );
        assert!(out.unresolved_images.is_empty());

        // Outside GitHub Actions without `media.base_url` there is no URL to give.
        let out = rendered(post, &files, &[]);
        assert!(out.body_markdown.starts_with("![one](img/p.png) <img alt=\"x\" src=\"img/p.png\">"), "{out:?}");
        assert_eq!(out.unresolved_images, ["content/img/p.png"; 2]);
    }

    #[test]
    fn preview_serves_images_linked_relative_to_the_post() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("media")).expect("mkdir");
        std::fs::write(dir.path().join("media/x.png"), b"png").expect("write");
        let out = article(
            "![chart](../../media/x.png)\n\n![root](/media/x.png)\n\n![gone](missing.png)\n\n![web](https://cdn.example/y.png)\n",
            "content/2026",
        );
        let mut media = Vec::new();
        let mut cx = PreviewContext { root: dir.path(), post_path: "content/2026/p.md", media: &mut media };
        let html = out.preview_html(&mut cx);
        assert_eq!(html.matches("src=\"/media/media/x.png\"").count(), 2, "{html}");
        assert!(html.contains("src=\"missing.png\""), "a missing file is left as written: {html}");
        assert!(html.contains("src=\"https://cdn.example/y.png\""), "{html}");
        assert_eq!(media, vec![("media/x.png".to_owned(), dir.path().join("media/x.png")); 2]);
    }
}

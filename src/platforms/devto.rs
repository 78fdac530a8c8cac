//! dev.to (Forem API v1): the Markdown body as written, through the `devto`
//! template, with image links relative to the post rewritten to public URLs.

pub mod api;
pub mod publish;

use handlebars::Context;
use serde_json::{Value, json};

use super::{Platform, PlatformId, Rendered};
use crate::content::Post;
use crate::diag::Diagnostic;
use crate::project::Project;
use crate::render::context;
use crate::render::templates::TemplateFailure;
use crate::render::text;
use crate::rules::media;

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
}

impl DevtoOutput {
    pub fn to_json(&self) -> Value {
        json!({ "title": self.title, "body_markdown": self.body_markdown, "tags": self.tags })
    }

    pub fn summary(&self) -> String {
        format!(
            "devto    title {}/128  body {} bytes  {} tag{}",
            self.title.as_deref().map_or(0, |t| t.chars().count()),
            self.body_markdown.len(),
            self.tags.len(),
            if self.tags.len() == 1 { "" } else { "s" }
        )
    }

    pub fn to_human(&self) -> String {
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

pub struct Devto;

impl Platform for Devto {
    fn id(&self) -> PlatformId {
        PlatformId::Devto
    }

    fn render(&self, project: &Project, post: &Post, targets: &[PlatformId]) -> Result<Rendered, Vec<Diagnostic>> {
        let f = &post.front;
        let o = f.devto.as_ref().map(|d| &d.value);
        let template = super::choose_template(project, post, o.and_then(|o| o.template.as_ref()), PlatformId::Devto)?;
        let post_dir = post.path.rsplit_once('/').map_or("", |(dir, _)| dir);
        let body = text::rewrite_relative_images(&post.body, |dest| {
            let joined =
                if let Some(abs) = dest.strip_prefix('/') { abs.to_owned() } else { format!("{post_dir}/{dest}") };
            media::normalize(&joined).and_then(|rel| project.public_url(&rel))
        });
        let mut ctx = context::base(post, &project.config, targets, None);
        ctx.insert("platform".into(), "devto".into());
        ctx.insert("text".into(), Value::String(body));
        let ctx = Context::from(Value::Object(ctx));
        let body_markdown = match project.templates.render_with_context(&template, &ctx, &post.path, "devto") {
            Ok(s) => s,
            Err(TemplateFailure::AlreadyReported) => return Err(Vec::new()),
            Err(TemplateFailure::Error(d)) => return Err(vec![*d]),
        };
        let title = o.and_then(|o| o.title.as_ref()).or(f.title.as_ref()).map(|t| t.value.clone());
        let tags = o
            .and_then(|o| o.tags.as_ref())
            .or(f.tags.as_ref())
            .map(|t| t.value.iter().map(|s| s.value.clone()).collect())
            .unwrap_or_default();
        let cover = o.and_then(|o| o.cover_image.as_ref()).map(|c| c.value.clone());
        Ok(Rendered::Devto(DevtoOutput {
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
        }))
    }

    fn validate(&self, project: &Project, post: &Post, rendered: &Rendered) -> Vec<Diagnostic> {
        match rendered {
            Rendered::Devto(d) => crate::rules::devto::validate(project, post, d),
            Rendered::Threads(_) => Vec::new(),
        }
    }
}

//! The platforms crier publishes to, behind one trait. Adding a platform means
//! adding a module here, a variant to [`PlatformId`] and its rules.

pub mod devto;
pub mod threads;

use serde_json::Value;

use crate::content::Post;
use crate::diag::Diagnostic;
use crate::project::Project;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlatformId {
    Threads,
    Devto,
}

impl PlatformId {
    pub const ALL: [Self; 2] = [Self::Threads, Self::Devto];

    pub fn name(self) -> &'static str {
        match self {
            Self::Threads => "threads",
            Self::Devto => "devto",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }

    pub fn platform(self) -> &'static dyn Platform {
        match self {
            Self::Threads => &threads::Threads,
            Self::Devto => &devto::Devto,
        }
    }

    /// A hint for an unknown platform name.
    pub fn hint_for(name: &str) -> String {
        let known: Vec<&str> = Self::ALL.iter().map(|p| p.name()).collect();
        match name {
            "bluesky" | "mastodon" => {
                format!("`{name}` is not supported yet; supported platforms: {}", known.join(", "))
            }
            "dev.to" | "dev-to" | "forem" => "dev.to is spelled `devto`".to_owned(),
            _ => match crate::diag::did_you_mean(name, known.iter().copied()) {
                Some(s) => format!("did you mean `{s}`? Supported platforms: {}", known.join(", ")),
                None => format!("supported platforms: {}", known.join(", ")),
            },
        }
    }
}

impl std::fmt::Display for PlatformId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a post becomes on one platform.
#[derive(Debug, Clone)]
pub enum Rendered {
    Threads(threads::ThreadsOutput),
    Devto(devto::DevtoOutput),
}

impl Rendered {
    pub fn platform(&self) -> PlatformId {
        match self {
            Self::Threads(_) => PlatformId::Threads,
            Self::Devto(_) => PlatformId::Devto,
        }
    }

    /// The JSON shape of `crier render --format json` (contract section 4).
    pub fn to_json(&self) -> Value {
        match self {
            Self::Threads(t) => t.to_json(),
            Self::Devto(d) => d.to_json(),
        }
    }

    /// Human-readable preview.
    pub fn to_human(&self) -> String {
        match self {
            Self::Threads(t) => t.to_human(),
            Self::Devto(d) => d.to_human(),
        }
    }

    /// One line: parts and sizes against the limits.
    pub fn summary(&self) -> String {
        match self {
            Self::Threads(t) => t.summary(),
            Self::Devto(d) => d.summary(),
        }
    }
}

/// The template a post uses on a platform: the platform's override key, else
/// the post's `template`, else the built-in named after the platform.
pub(crate) fn choose_template(
    project: &Project,
    post: &Post,
    override_key: Option<&serde_saphyr::Spanned<String>>,
    platform: PlatformId,
) -> Result<String, Vec<Diagnostic>> {
    let key = override_key.or(post.front.template.as_ref());
    let name = key.map_or(platform.name(), |t| t.value.as_str()).to_owned();
    if project.templates.has(&name) {
        return Ok(name);
    }
    let known: Vec<&str> = project.templates.names().collect();
    let span = key.map_or_else(|| post.head_span(), |t| post.span_of(&t.referenced));
    Err(vec![
        Diagnostic::error("template-not-found", format!("template `{name}` does not exist"))
            .at(&post.source, span)
            .with_hint(format!(
                "create `{}/{name}.hbs`, or use one of: {}",
                project.config.templates_dir,
                known.join(", ")
            )),
    ])
}

/// One platform: how a post renders there and which rules it must meet.
pub trait Platform: Sync {
    fn id(&self) -> PlatformId;

    /// Renders the post. `targets` are all platforms the post goes to (for
    /// cross-links such as `published.devto.url`).
    fn render(&self, project: &Project, post: &Post, targets: &[PlatformId]) -> Result<Rendered, Vec<Diagnostic>>;

    /// Checks the rendered post against the platform's rules.
    fn validate(&self, project: &Project, post: &Post, rendered: &Rendered) -> Vec<Diagnostic>;
}

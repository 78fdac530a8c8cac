//! `crier watch --serve`: a local page showing each post as it will look on
//! each platform (Threads cards with byte counters, the dev.to article as
//! HTML, diagnostics), reloaded through server-sent events on every change.
//! Only repository files that posts reference are served; `/stats` shows the
//! engagement history as `crier stats --html` draws it.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::Session;
use crate::diag::{self, Style};
use crate::pipeline::{self, PostReport};
use crate::platforms::PreviewContext;
use crate::render::html::escape;

/// One post on the page.
struct Entry {
    html: String,
    /// Repository-relative media paths it references, with their files.
    media: Vec<(String, PathBuf)>,
}

#[derive(Default)]
struct Model {
    posts: BTreeMap<PathBuf, Entry>,
    /// Problems outside posts (broken templates, an unloadable config).
    header: String,
    version: u64,
    /// The engagement history `/stats` draws (`stats.file`).
    stats_file: Option<PathBuf>,
}

/// The page's state, shared by the watch loop and the server.
#[derive(Clone)]
pub struct Page {
    root: PathBuf,
    model: Arc<Mutex<Model>>,
    clients: Arc<Mutex<Vec<UnboundedSender<u64>>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Page {
    /// The page of `session`'s project. `/stats` reads the history from the start: the
    /// server answers before the first check is over.
    pub fn new(session: &Session) -> Self {
        let project = session.project();
        let root = project.root.canonicalize().unwrap_or_else(|_| project.root.clone());
        let model = Model { stats_file: Some(stats_file(project)), ..Model::default() };
        Self { root, model: Arc::new(Mutex::new(model)), clients: Arc::default() }
    }

    /// Takes the posts `checked` (all of them when `reloaded`) and forgets
    /// `forgotten`, then tells every open page to reload.
    pub fn update(&self, session: &Session, update: &super::Update, notes: &str) {
        {
            let mut m = lock(&self.model);
            if update.reloaded {
                m.posts.clear();
            }
            for p in &update.forgotten {
                m.posts.remove(p);
            }
            let fresh: Vec<&PathBuf> =
                if update.reloaded { session.reports().keys().collect() } else { update.checked.iter().collect() };
            for p in fresh {
                if let Some(r) = session.reports().get(p) {
                    m.posts.insert(p.clone(), entry(session, r));
                }
            }
            let sources = pipeline::sources(session.project(), &[]);
            let mut header: String = session
                .project()
                .templates
                .diagnostics
                .iter()
                .map(|d| diag::render_human(d, &sources, PLAIN))
                .collect();
            header.push_str(&session.folder_problem(PLAIN));
            header.push_str(notes);
            m.header = header;
            m.stats_file = Some(stats_file(session.project()));
            m.version += 1;
        }
        let version = lock(&self.model).version;
        lock(&self.clients).retain(|c| c.send(version).is_ok());
    }

    pub fn router(&self) -> Router {
        Router::new()
            .route("/", get(index))
            .route("/events", get(events))
            .route("/stats", get(stats))
            .route("/media/{*path}", get(media))
            .with_state(self.clone())
    }
}

const PLAIN: Style = Style { color: false, unicode: true };

fn stats_file(project: &crate::project::Project) -> PathBuf {
    project.root.join(&project.config.stats.file)
}

fn entry(session: &Session, r: &PostReport) -> Entry {
    let mut html = String::new();
    let mut media = Vec::new();
    let problems = session.problems(r);
    let status = match problems.iter().filter(|d| d.is_error()).count() {
        0 if problems.is_empty() => "ok",
        0 => "warn",
        _ => "err",
    };
    let _ = write!(html, "<section class=\"post {status}\"><h2>{}</h2>", escape(&r.path));
    for rendered in &r.rendered {
        let mut cx = PreviewContext { root: session.project().root.as_path(), post_path: &r.path, media: &mut media };
        html.push_str(&rendered.preview_html(&mut cx));
    }
    if !problems.is_empty() {
        let sources = pipeline::sources(session.project(), std::slice::from_ref(r));
        let text: String = problems.iter().map(|d| diag::render_human(d, &sources, PLAIN)).collect();
        let _ = write!(html, "<pre class=\"diag\">{}</pre>", escape(&text));
    }
    html.push_str("</section>");
    Entry { html, media }
}

const STYLE: &str = "body{font:15px/1.4 system-ui,sans-serif;margin:0;background:#f4f4f5;color:#111}
main{max-width:1100px;margin:auto;padding:1em}
.post{background:#fff;border-radius:10px;padding:1em;margin:1em 0;border-left:6px solid #16a34a}
.post.warn{border-color:#d97706}.post.err{border-color:#dc2626}
h2{font:600 14px ui-monospace,monospace;margin:0 0 .5em}
.platform{display:inline-block;vertical-align:top;width:48%;margin-right:2%}
h3{font-size:12px;text-transform:uppercase;color:#666;margin:.5em 0}
.card{border:1px solid #ddd;border-radius:12px;padding:.75em;margin-bottom:.5em;background:#fff}
.card header{display:flex;justify-content:space-between;font-weight:600}
.count{font:12px ui-monospace,monospace;color:#666}.count.over{color:#dc2626;font-weight:700}
.text{white-space:pre-wrap;overflow-wrap:anywhere;margin:.4em 0}
.media{display:flex;gap:4px;overflow-x:auto}.media img,.media video{height:140px;max-width:100%;object-fit:cover;border-radius:8px;background:#ddd}
.card footer{font-size:12px;color:#888}
.devto{border:1px solid #ddd;border-radius:8px;padding:.75em 1em;font-family:Georgia,serif}
.devto h1{font:700 22px system-ui,sans-serif}.tags{color:#555}
pre{white-space:pre-wrap;background:#1e1e1e;color:#eee;padding:.75em;border-radius:8px;font-size:12px;overflow-x:auto}";

fn render_page(m: &Model) -> String {
    let mut html = String::with_capacity(4096 + m.posts.values().map(|e| e.html.len()).sum::<usize>());
    let _ = write!(
        html,
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>crier watch</title><style>{STYLE}</style></head><body><main><p>{} posts · live</p>",
        m.posts.len()
    );
    if !m.header.is_empty() {
        let _ = write!(html, "<pre class=\"diag\">{}</pre>", escape(&m.header));
    }
    for e in m.posts.values() {
        html.push_str(&e.html);
    }
    html.push_str(
        "</main><script>new EventSource('/events').onmessage=function(){location.reload()};</script></body></html>",
    );
    html
}

async fn index(State(page): State<Page>) -> Html<String> {
    Html(render_page(&lock(&page.model)))
}

/// The `crier stats --html` page, from the history as it is now.
async fn stats(State(page): State<Page>) -> Html<String> {
    let file = lock(&page.model).stats_file.clone();
    let history = file.and_then(|f| crate::stats::history::read(&f).ok()).unwrap_or_default();
    Html(crate::stats::html::page(&history, crate::platforms::metrics::Metric::Likes))
}

/// Server-sent events: one `message` per update.
struct Updates(UnboundedReceiver<u64>);

impl futures_core::Stream for Updates {
    type Item = Result<Event, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|v| v.map(|v| Ok(Event::default().data(v.to_string()))))
    }
}

async fn events(State(page): State<Page>) -> Sse<KeepAliveStream<Updates>> {
    let (tx, rx) = unbounded_channel();
    lock(&page.clients).push(tx);
    Sse::new(Updates(rx)).keep_alive(KeepAlive::default())
}

/// A repository file that a post references; anything else is 404.
async fn media(State(page): State<Page>, axum::extract::Path(rel): axum::extract::Path<String>) -> Response {
    let abs = {
        let m = lock(&page.model);
        m.posts.values().flat_map(|e| e.media.iter()).find(|(r, _)| *r == rel).map(|(_, abs)| abs.clone())
    };
    let Some(abs) = abs.and_then(|a| a.canonicalize().ok()).filter(|a| a.starts_with(&page.root)) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // Local media of a few megabytes: a blocking read is fine here.
    match std::fs::read(&abs) {
        Ok(bytes) => ([(header::CONTENT_TYPE, content_type(&abs))], bytes).into_response(),
        Err(_) => StatusCode::NOT_FOUND.into_response(),
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("mp4") => "video/mp4",
        Some("mov") => "video/quicktime",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;
    use crate::project::Project;

    /// This repository's own article: its crier.yaml sets `media.base_url` to
    /// raw.githubusercontent.com at the commit, a URL that exists only once the
    /// commit is pushed. The preview shows the picture from the working tree.
    #[test]
    fn the_preview_shows_an_articles_image_from_the_working_tree_whatever_its_public_url() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let project = Project::open(root, None, Env::from_pairs([]), crate::platforms::catalog())
            .expect("this repository is a project");
        assert!(project.config.media.base_url.is_some(), "crier.yaml sets media.base_url");
        let report = pipeline::check_post(&project, &root.join("content/2026/introducing-crier.md"));
        let mut media = Vec::new();
        let mut html = String::new();
        for rendered in &report.rendered {
            let mut cx = PreviewContext { root, post_path: &report.path, media: &mut media };
            html.push_str(&rendered.preview_html(&mut cx));
        }
        assert!(html.contains("<img src=\"/media/media/check-output.png\""), "{html}");
        assert!(!html.contains("raw.githubusercontent.com"), "{html}");
        assert!(media.contains(&("media/check-output.png".to_owned(), root.join("media/check-output.png"))));
    }

    /// The server answers before the first check is over: `/stats` must not say "no
    /// history" in the meantime.
    #[test]
    fn stats_are_served_before_the_first_check() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("content")).expect("content");
        std::fs::create_dir_all(dir.path().join(".crier")).expect(".crier");
        std::fs::write(
            dir.path().join(".crier/stats.jsonl"),
            "{\"at\":\"2026-12-01T00:00:00Z\",\"file\":\"content/a.md\",\"platform\":\"devto\",\"id\":\"1\",\"metrics\":{\"likes\":3}}\n",
        )
        .expect("history");
        let out = super::super::session::Output { style: PLAIN, quiet: true, verbose: 0 };
        let session = Session::open(dir.path(), None, Env::from_pairs([]), out).expect("a project");
        let page = Page::new(&session);
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let Html(html) = rt.block_on(stats(State(page)));
        assert!(html.contains("content/a.md"), "{html}");
        assert!(!html.contains("No history yet"), "{html}");
    }

    /// The page says what the terminal says: a post whose template does not
    /// parse is in error with the template's problem, and a missing content
    /// folder is named in the header.
    #[test]
    fn the_page_shows_template_and_content_folder_problems() {
        let dir = tempfile::tempdir().expect("tempdir");
        let write = |rel: &str, text: &str| crate::watch::tests::write_file(dir.path(), rel, text);
        write("content/z.md", "---\nplatforms: [threads]\n---\n\nHello.\n");
        write("templates/threads.hbs", "{{text");
        let out = super::super::session::Output { style: PLAIN, quiet: true, verbose: 0 };
        let mut session = Session::open(dir.path(), None, Env::from_pairs([]), out).expect("a project");
        let page = Page::new(&session);
        let update = session.check_all();
        page.update(&session, &update, "");
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let Html(html) = rt.block_on(index(State(page.clone())));
        let post = &html[html.find("<section class=\"post").expect("a post")..];
        assert!(post.starts_with("<section class=\"post err\">"), "{post}");
        assert!(post.contains("template-syntax"), "{post}");

        write("crier.yaml", "content_dir: posts\n");
        let moved = notify::Event::new(notify::EventKind::Any).add_path(dir.path().join("crier.yaml"));
        let update = session.handle(&[moved]).expect("a reload");
        page.update(&session, &update, "");
        let Html(html) = rt.block_on(index(State(page)));
        assert!(html.contains("content-dir-missing"), "{html}");
    }
}

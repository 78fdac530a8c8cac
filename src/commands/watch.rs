//! `crier watch`: re-check posts as they change, optionally with a live
//! preview page. The watcher (notify, debounced) and Ctrl-C feed one channel;
//! this loop hands each batch to [`crate::watch::Session`] and prints what it
//! says. Nothing here stops on bad content: problems are printed, the loop
//! goes on.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use notify::{PollWatcher, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, RecommendedCache, new_debouncer_opt};

use super::check::print;
use super::{Global, Outcome};
use crate::cli::WatchArgs;
use crate::error::{Error, Result};
use crate::watch::page::Page;
use crate::watch::session::Output;
use crate::watch::{Session, Update};

enum Msg {
    Fs(DebounceEventResult),
    Stop,
}

/// The debounced watcher, native or polling.
enum Watcher {
    Native(Debouncer<RecommendedWatcher, RecommendedCache>),
    Poll(Debouncer<PollWatcher, RecommendedCache>),
}

impl Watcher {
    fn new(poll: bool, debounce: Duration, tx: mpsc::Sender<Msg>) -> notify::Result<Self> {
        let handler = move |res: DebounceEventResult| {
            let _ = tx.send(Msg::Fs(res));
        };
        // The poller sees mtimes in whole seconds; comparing contents catches
        // two saves within one second (at the cost of reading every file per poll).
        let config = notify::Config::default()
            .with_poll_interval(debounce.max(Duration::from_millis(200)))
            .with_compare_contents(poll);
        Ok(if poll {
            Self::Poll(new_debouncer_opt(debounce, None, handler, RecommendedCache::new(), config)?)
        } else {
            Self::Native(new_debouncer_opt(debounce, None, handler, RecommendedCache::new(), config)?)
        })
    }

    fn watch(&mut self, path: &std::path::Path, recursive: bool) -> notify::Result<()> {
        let mode = if recursive { RecursiveMode::Recursive } else { RecursiveMode::NonRecursive };
        match self {
            Self::Native(d) => d.watch(path, mode),
            Self::Poll(d) => d.watch(path, mode),
        }
    }

    fn unwatch(&mut self, path: &std::path::Path) -> notify::Result<()> {
        match self {
            Self::Native(d) => d.unwatch(path),
            Self::Poll(d) => d.unwatch(path),
        }
    }
}

/// Watches what the session asks for; folders that appear later (or move with
/// a new `content_dir`) are picked up after each batch.
struct Watches {
    watcher: Watcher,
    current: BTreeMap<PathBuf, bool>,
}

impl Watches {
    fn sync(&mut self, wanted: BTreeMap<PathBuf, bool>) -> String {
        let mut notes = String::new();
        for (path, recursive) in &self.current {
            if wanted.get(path) != Some(recursive) {
                let _ = self.watcher.unwatch(path);
            }
        }
        self.current.retain(|p, r| wanted.get(p) == Some(r));
        for (path, recursive) in wanted {
            if self.current.contains_key(&path) {
                continue;
            }
            match self.watcher.watch(&path, recursive) {
                Ok(()) => {
                    self.current.insert(path, recursive);
                }
                Err(e) => notes.push_str(&format!("warning: cannot watch `{}`: {e}\n", path.display())),
            }
        }
        notes
    }
}

pub fn execute(g: &Global, args: &WatchArgs) -> Result<Outcome> {
    let out = Output { style: g.style, quiet: g.quiet, verbose: g.verbose };
    let mut session = Session::open(&g.root, g.config.clone(), g.env.clone(), out)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::io("cannot start the async runtime", e))?;
    let (tx, rx) = mpsc::channel();
    let stop = tx.clone();
    rt.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = stop.send(Msg::Stop);
        }
    });

    let page = match args.serve {
        Some(addr) => {
            let listener = rt.block_on(tokio::net::TcpListener::bind(addr)).map_err(|e| {
                Error::usage(format!("cannot serve on {addr}: {e}; choose another address with `--serve ADDR`"))
            })?;
            let page = Page::new(&session);
            let router = page.router();
            rt.spawn(async move {
                let _ = axum::serve(listener, router).await;
            });
            print(&format!("serving http://{addr}/\n"));
            if !addr.ip().is_loopback() {
                print(&format!("warning: {addr} is reachable from other machines, and so are your drafts\n"));
            }
            Some(page)
        }
        None => None,
    };

    // Watch before the first check, so an edit made during it is not missed.
    let debounce = Duration::from_millis(args.debounce);
    let watcher = Watcher::new(args.poll, debounce, tx)
        .map_err(|e| Error::io("cannot watch files", std::io::Error::other(e.to_string())))?;
    let mut watches = Watches { watcher, current: BTreeMap::new() };
    let notes = watches.sync(session.watch_roots());
    let first = session.check_all();
    show(&session, page.as_ref(), &first, &notes);
    let what: Vec<String> = watches
        .current
        .keys()
        .map(|p| {
            let rel = crate::content::relative_display(&g.root, p);
            if rel.is_empty() { "crier.yaml".to_owned() } else { format!("{rel}/") }
        })
        .collect();
    if !g.quiet {
        print(&format!("watching {} (Ctrl-C to stop)\n", what.join(", ")));
    }

    while let Ok(msg) = rx.recv() {
        match msg {
            Msg::Stop => break,
            Msg::Fs(Ok(events)) => {
                let events: Vec<notify::Event> = events.into_iter().map(|e| e.event).collect();
                if let Some(update) = session.handle(&events) {
                    let notes = watches.sync(session.watch_roots());
                    show(&session, page.as_ref(), &update, &notes);
                }
            }
            Msg::Fs(Err(errors)) => {
                for e in errors {
                    print(&format!("warning: watching failed: {e}\n"));
                }
            }
        }
    }
    drop(watches);
    rt.shutdown_timeout(Duration::from_millis(300));
    Ok(Outcome::Success)
}

fn show(session: &Session, page: Option<&Page>, update: &Update, notes: &str) {
    print(&update.text);
    print(notes);
    if let Some(page) = page {
        page.update(session, update, notes);
    }
}

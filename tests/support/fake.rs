//! What every fake platform server shares: the server on a loopback port that stops
//! when dropped, the queue of one-shot faults per route, and the log of requests.
//! Each fake (`fake_<platform>.rs`) includes this file as its own `fake` module.

// Each test binary uses a different subset of this module.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

use axum::Router;
use serde_json::Value;

/// A fake server on 127.0.0.1 (a random port), stopped when dropped.
pub(crate) struct Server {
    addr: std::net::SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// Serves `app` in the current tokio runtime.
    pub(crate) async fn start(app: Router, what: &str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind fake {what} server: {e}"));
        let addr = listener.local_addr().expect("local addr");
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One-shot faults, each for the next request on a route (or on any route).
#[derive(Debug)]
pub(crate) struct FaultQueue<R, F> {
    queue: VecDeque<(R, F)>,
}

impl<R, F> Default for FaultQueue<R, F> {
    fn default() -> Self {
        Self { queue: VecDeque::new() }
    }
}

impl<R: PartialEq + Copy, F> FaultQueue<R, F> {
    pub(crate) fn push(&mut self, route: R, fault: F) {
        self.queue.push_back((route, fault));
    }

    /// The first fault queued for `route` or for `any`, removed from the queue.
    pub(crate) fn take(&mut self, route: R, any: R) -> Option<F> {
        let pos = self.queue.iter().position(|(r, _)| *r == route || *r == any)?;
        self.queue.remove(pos).map(|(_, f)| f)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

/// One request as received. Headers are left out, so a credential never is in the log.
#[derive(Debug, Clone)]
pub(crate) struct FakeRequest {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: Option<String>,
    /// The body, when it parsed as JSON.
    pub(crate) body: Option<Value>,
}

/// Every request received, in order.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    requests: Vec<FakeRequest>,
}

impl RequestLog {
    /// Logs a request; `query` only where it cannot hold a credential (Threads sends its
    /// token as a query parameter).
    pub(crate) fn record(&mut self, method: &str, path: &str, query: Option<&str>, body: Option<Value>) {
        self.requests.push(FakeRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.map(str::to_owned),
            body,
        });
    }

    pub(crate) fn calls(&self) -> u64 {
        self.requests.len() as u64
    }

    pub(crate) fn all(&self) -> Vec<FakeRequest> {
        self.requests.clone()
    }

    /// How many requests of `method` hit a path ending in `suffix`.
    pub(crate) fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests.iter().filter(|r| r.method == method && r.path.ends_with(suffix)).count()
    }
}

/// Locks the fake's state; a panicking test thread must not wedge the other requests.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

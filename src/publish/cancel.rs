//! Cancelling a run: CI cancels with SIGTERM (a manual cancel, a timeout), a terminal
//! with SIGINT (Ctrl-C). The first signal asks the run to stop starting posts, let the
//! calls in flight finish (bounded by [`GRACE`]), write their records, commit and push,
//! and exit with 128 + the signal number (130, 143); a second signal exits at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// How long the calls in flight may take to finish after the first signal; past it they
/// are abandoned (the next run reconciles them, as after a crash). GitHub Actions cancels
/// with SIGINT and sends SIGTERM 7.5 s later (then SIGKILL): 5 s leaves the records time
/// to be written, committed and pushed before the second signal ends the run.
pub const GRACE: Duration = Duration::from_secs(5);

/// Shared between the signal listener and the run.
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    /// The exit code the signal asks for (128 + its number), 0 until one arrives.
    code: AtomicU8,
    notify: Notify,
}

impl Cancel {
    /// A run that nothing cancels.
    pub fn never() -> Self {
        Self::default()
    }

    /// Listens for SIGINT and SIGTERM (Ctrl-C on Windows) until the process ends. The
    /// handlers are in place when this returns.
    pub fn on_signals() -> std::io::Result<Self> {
        let cancel = Self::default();
        let listener = cancel.clone();
        let (ready, registered) = std::sync::mpsc::channel();
        std::thread::Builder::new().name("crier-signals".into()).spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(r) => r,
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            };
            runtime.block_on(listener.listen(ready));
        })?;
        registered.recv().unwrap_or_else(|_| Err(std::io::Error::other("the signal listener stopped")))?;
        Ok(cancel)
    }

    #[cfg(unix)]
    async fn listen(self, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
        use tokio::signal::unix::{SignalKind, signal};
        let Some((mut int, mut term)) =
            registered(&ready, signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            return;
        };
        loop {
            let code = tokio::select! {
                _ = int.recv() => 130,
                _ = term.recv() => 143,
            };
            self.signalled(code);
        }
    }

    #[cfg(windows)]
    async fn listen(self, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
        use tokio::signal::windows::{ctrl_break, ctrl_c};
        let Some((mut c, mut b)) = registered(&ready, ctrl_c(), ctrl_break()) else { return };
        loop {
            tokio::select! {
                _ = c.recv() => {},
                _ = b.recv() => {},
            }
            self.signalled(130);
        }
    }

    #[cfg(not(any(unix, windows)))]
    async fn listen(self, ready: std::sync::mpsc::Sender<std::io::Result<()>>) {
        let _ = ready.send(Ok(()));
    }

    /// The first signal cancels the run; a second one ends the process at once.
    fn signalled(&self, code: u8) {
        if self.inner.code.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst).is_err() {
            eprintln!("crier: second signal: exiting now; the next run reconciles what was in flight");
            std::process::exit(i32::from(code));
        }
        eprintln!("crier: cancelled: no new posts start; finishing the calls in flight, then recording and pushing");
        self.inner.notify.notify_waiters();
    }

    /// The exit code the run ends with (130 or 143), once it is cancelled.
    pub fn code(&self) -> Option<u8> {
        match self.inner.code.load(Ordering::SeqCst) {
            0 => None,
            c => Some(c),
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.code().is_some()
    }

    /// The signal's name, for the summary.
    pub fn signal_name(&self) -> &'static str {
        match self.code() {
            Some(143) => "SIGTERM",
            _ => "SIGINT",
        }
    }

    /// Runs `work` to its end, unless the run is cancelled and `work` is still going
    /// [`GRACE`] later: then it is abandoned (None).
    pub async fn bounded<F: std::future::Future>(&self, work: F) -> Option<F::Output> {
        let grace = async {
            self.cancelled().await;
            tokio::time::sleep(GRACE).await;
        };
        tokio::select! {
            out = work => Some(out),
            () = grace => None,
        }
    }

    /// Resolves once the run is cancelled.
    pub async fn cancelled(&self) {
        loop {
            // Registered before looking, so a signal in between is not missed.
            let notified = self.inner.notify.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Both handlers, once both are in place (the listener says so either way).
#[cfg(any(unix, windows))]
fn registered<A, B>(
    ready: &std::sync::mpsc::Sender<std::io::Result<()>>,
    a: std::io::Result<A>,
    b: std::io::Result<B>,
) -> Option<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let _ = ready.send(Ok(()));
            Some((a, b))
        }
        (Err(e), _) | (_, Err(e)) => {
            let _ = ready.send(Err(e));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_signal_cancels_and_wakes_the_run() {
        let cancel = Cancel::never();
        assert_eq!(cancel.code(), None);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let waiter = cancel.clone();
        rt.block_on(async {
            let wait = tokio::spawn(async move { waiter.cancelled().await });
            tokio::task::yield_now().await;
            cancel.signalled(143);
            wait.await.expect("woken");
        });
        assert_eq!((cancel.code(), cancel.signal_name()), (Some(143), "SIGTERM"));
    }
}

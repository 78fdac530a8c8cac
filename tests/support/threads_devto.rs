//! Threads and dev.to side by side: the fakes of the tests that run crier on both.

use crate::common::{Fakes, Var};
use crate::fake_devto::{self, FakeDevto};
use crate::fake_threads::{self, FakeThreads};

pub(crate) struct ThreadsAndDevto {
    pub(crate) threads: FakeThreads,
    pub(crate) devto: FakeDevto,
}

impl ThreadsAndDevto {
    pub(crate) async fn start(threads: fake_threads::FakeConfig, devto: fake_devto::FakeConfig) -> Self {
        Self { threads: FakeThreads::start(threads).await, devto: FakeDevto::start(devto).await }
    }
}

impl Fakes for ThreadsAndDevto {
    fn env(&self) -> Vec<Var> {
        vec![
            Var::plain("CRIER_THREADS_API_URL", self.threads.base_url()),
            Var::plain("CRIER_DEVTO_API_URL", self.devto.base_url()),
            Var::secret("THREADS_ACCESS_TOKEN", self.threads.token()),
            Var::secret("DEVTO_API_KEY", self.devto.api_key()),
        ]
    }
}

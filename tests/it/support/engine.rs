//! Opening engines on temporary directories and waiting for them.

use std::path::PathBuf;
use std::time::Duration;

use haul::engine::{AddRequest, Engine, EngineConfig, Gid, State, Status};

/// An engine on fresh temporary directories, tuned for tests: fast retries,
/// short stalls, frequent progress and checkpoints.
pub struct TestEngine {
    pub engine: Engine,
    pub config: EngineConfig,
    pub root: tempfile::TempDir,
    pub state: tempfile::TempDir,
}

pub fn test_config(root: PathBuf, state: Option<PathBuf>) -> EngineConfig {
    let mut config = EngineConfig::new(root, state);
    config.retry_base_delay = Duration::from_millis(10);
    config.stall_timeout = Duration::from_secs(2);
    config.progress_interval = Duration::from_millis(50);
    config.checkpoint_interval = Duration::from_millis(200);
    config
}

impl TestEngine {
    pub async fn start() -> TestEngine {
        TestEngine::start_with(|_| {}).await
    }

    pub async fn start_with(tune: impl FnOnce(&mut EngineConfig)) -> TestEngine {
        let root = tempfile::tempdir().expect("temporary root");
        let state = tempfile::tempdir().expect("temporary state dir");
        let mut config = test_config(root.path().to_owned(), Some(state.path().to_owned()));
        tune(&mut config);
        let engine = Engine::open(config.clone()).await.expect("open the engine");
        TestEngine {
            engine,
            config,
            root,
            state,
        }
    }

    pub async fn add(&self, request: AddRequest) -> Gid {
        self.engine.add(request).await.expect("add the download")
    }

    /// Adds `url` and waits until it completes or fails.
    pub async fn download(&self, request: AddRequest) -> Status {
        let gid = self.add(request).await;
        wait_finished(&self.engine, gid).await
    }
}

/// Waits (generously) until the download is complete or failed.
pub async fn wait_finished(engine: &Engine, gid: Gid) -> Status {
    wait_until(engine, gid, |s| s.state.is_finished()).await
}

pub async fn wait_until(engine: &Engine, gid: Gid, done: impl Fn(&Status) -> bool) -> Status {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let status = engine.status(gid).expect("status of a known download");
        if done(&status) {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out; last status: {status:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn request(url: String) -> AddRequest {
    AddRequest::new(url)
}

pub fn assert_complete(status: &Status) -> PathBuf {
    assert_eq!(status.state, State::Complete, "{status:#?}");
    status.path.clone().expect("a complete download has a path")
}

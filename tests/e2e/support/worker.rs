//! Runs the real Worker under `wrangler dev` (workerd) for a test: builds it once, starts it
//! on free loopback ports with the test's vars, waits until it answers, and kills the whole
//! process group when the `Worker` is dropped — also when the test panics.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The repository root (where Cargo.toml and wrangler.toml live).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the Worker bundle once per test process (`make build` skips work already done)
/// and returns a private copy of it: wrangler reloads a Worker whose files change, so tests
/// must not run the `build/` that a concurrent `make build` may rewrite.
pub fn ensure_built() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let root = repo_root();
        let skip =
            std::env::var("INSPIRE_SKIP_BUILD").is_ok() && root.join("build/index.js").exists();
        if !skip {
            let status = Command::new("make")
                .arg("build")
                .current_dir(&root)
                .stdout(Stdio::null())
                .status()
                .expect("run make build");
            assert!(status.success(), "make build failed");
        }
        let copy = root.join(format!("target/e2e-worker-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(&copy).expect("create worker copy dir");
        copy_dir(&root.join("build"), &copy);
        copy
    })
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).expect("read build dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy build file");
        }
    }
}

/// What a test needs from the Worker it starts.
#[derive(Debug, Clone, Default)]
pub struct WorkerOptions {
    /// `--var NAME:VALUE` pairs (secrets too: wrangler passes both the same way locally).
    pub vars: Vec<(String, String)>,
    /// Durable Object state directory; a fresh temporary one when `None`.
    pub persist_dir: Option<PathBuf>,
}

impl WorkerOptions {
    pub fn var(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.push((name.to_string(), value.into()));
        self
    }

    /// Rate limits out of the way: every request of a test comes from 127.0.0.1.
    pub fn relaxed() -> Self {
        WorkerOptions::default()
            .var("RATE_LIMIT_START_PER_MIN", "1000000")
            .var("RATE_LIMIT_CONTINUE_PER_MIN", "1000000")
    }

    /// The model at `base_url` (a fake speaking the OpenAI API) instead of the offline planner.
    pub fn with_model(self, base_url: impl Into<String>) -> Self {
        self.var("OPENAI_API_KEY", "sk-test")
            .var("LLM_BASE_URL", base_url)
    }
}

pub struct Worker {
    pub base: String,
    pub persist_dir: PathBuf,
    opts: WorkerOptions,
    child: Option<Child>,
    log_path: PathBuf,
    /// Set when this harness created the state directory and should remove it.
    owns_dir: bool,
}

impl Worker {
    /// Starts a Worker; panics with wrangler's log if it does not answer within 90 s.
    pub async fn start(opts: WorkerOptions) -> Worker {
        let (persist_dir, owns_dir) = match &opts.persist_dir {
            Some(d) => (d.clone(), false),
            None => (fresh_dir("state"), true),
        };
        let mut w = Worker {
            base: String::new(),
            persist_dir,
            opts,
            child: None,
            log_path: PathBuf::new(),
            owns_dir,
        };
        w.spawn().await;
        w
    }

    /// Stops the Worker and starts it again on the same state directory and vars.
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Kills wrangler and workerd at once (like a crash), keeping the state directory.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            // wrangler runs workerd as a child: kill the whole process group.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// wrangler's output so far (for diagnosing a failed test).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Starts wrangler on free ports; a port taken in the meantime by another process
    /// (they are only free when chosen) means a retry on new ones.
    async fn spawn(&mut self) {
        for _ in 0..4 {
            self.spawn_once();
            match self.wait_ready().await {
                Ok(()) => return,
                Err(Startup::PortTaken) => self.kill(),
                Err(Startup::TimedOut) => panic!(
                    "wrangler dev did not answer within 90 s; log:\n{}",
                    self.log()
                ),
            }
        }
        panic!(
            "wrangler dev found no free port in 4 tries; log:\n{}",
            self.log()
        );
    }

    fn spawn_once(&mut self) {
        let port = free_port();
        let inspector = free_port();
        self.base = format!("http://127.0.0.1:{port}");
        self.log_path = fresh_dir("log").join("wrangler.log");
        let log = std::fs::File::create(&self.log_path).expect("create wrangler log");
        let mut cmd = Command::new(repo_root().join("node_modules/.bin/wrangler"));
        let script = ensure_built().join("index.js");
        cmd.current_dir(repo_root())
            .args([
                "dev",
                script.to_str().unwrap(),
                "--ip",
                "127.0.0.1",
                "--port",
                &port.to_string(),
            ])
            .args(["--inspector-port", &inspector.to_string()])
            .args(["--persist-to", self.persist_dir.to_str().unwrap()])
            .args([
                "--show-interactive-dev-session=false",
                "--log-level",
                "info",
            ])
            .env("WRANGLER_SEND_METRICS", "false")
            .env("CI", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (k, v) in &self.opts.vars {
            cmd.args(["--var", &format!("{k}:{v}")]);
        }
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        self.child = Some(cmd.spawn().expect("spawn wrangler dev"));
    }

    /// Ready when this wrangler says it listens (so a health answer cannot come from some
    /// other server on the port) and the Worker answers.
    async fn wait_ready(&self) -> Result<(), Startup> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            let log = self.log();
            if log.contains("Address already in use") {
                return Err(Startup::PortTaken);
            }
            if log.contains("Ready on") {
                let probe = client
                    .get(self.url("/api/health"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await;
                if matches!(probe, Ok(r) if r.status().is_success()) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(Startup::TimedOut)
    }
}

enum Startup {
    PortTaken,
    TimedOut,
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.persist_dir);
        }
        if let Some(dir) = self.log_path.parent() {
            if !std::thread::panicking() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
}

/// A new empty directory under the system temp dir, unique to this process and call.
pub fn fresh_dir(kind: &str) -> PathBuf {
    static N: AtomicU32 = AtomicU32::new(0);
    let dir = std::env::temp_dir().join(format!(
        "inspire-e2e-{kind}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// A port that was free a moment ago (bound to port 0, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

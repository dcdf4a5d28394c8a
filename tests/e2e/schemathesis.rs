//! Property-based testing of the real Worker from its own contract: schemathesis generates
//! valid and invalid requests for every operation of `/api/openapi.json` (also chaining
//! start → status / continue / feedback / delete through the document's links) and checks
//! that no response is a 5xx and that every status, content type and body is documented.
//! Bounded to 25 examples per operation so it takes well under a few minutes on 2 cores;
//! `make fuzz` runs it with 200.

use crate::support::worker::repo_root;
use crate::support::{Worker, WorkerOptions};
use std::process::Command;
use std::time::Instant;

#[tokio::test(flavor = "multi_thread")]
async fn schemathesis_finds_no_server_errors_or_contract_violations() {
    let w = Worker::start(WorkerOptions::relaxed()).await;
    let base = w.base.clone();
    let started = Instant::now();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(repo_root().join("scripts/schemathesis.sh"))
            .args([base.as_str(), "25"])
            .current_dir(repo_root())
            .output()
            .expect("run scripts/schemathesis.sh")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    eprintln!("schemathesis took {:.0?}", started.elapsed());
    assert!(
        out.status.success(),
        "schemathesis found problems (exit {:?}); its report is above.\nwrangler log tail:\n{}",
        out.status.code(),
        w.log()
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        stdout.contains("passed"),
        "schemathesis ran no tests:\n{stdout}"
    );
}

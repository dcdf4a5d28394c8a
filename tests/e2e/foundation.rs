//! The skeleton: health, unknown routes, wrong methods, error shape, request ids, assets,
//! and a restart on the same state directory.

use crate::support::{self, assert_error_shape, get, Worker, WorkerOptions};

#[tokio::test(flavor = "multi_thread")]
async fn health_404_405_and_headers() {
    let w = Worker::start(WorkerOptions::default()).await;

    let h = get(&w.url("/api/health")).await;
    assert_eq!(h.status, 200);
    for key in ["status", "version", "storage", "tag_source", "llm"] {
        assert!(!h.json[key].is_null(), "health lacks {key}: {}", h.text);
    }
    assert_eq!(h.json["mode"], "offline", "no key configured means offline");
    assert_eq!(h.json["tag_source"], "embedded");
    assert!(h
        .header("server-timing")
        .is_some_and(|v| v.contains("total;dur=")));
    let rid = h.header("x-request-id").expect("X-Request-Id").to_string();
    assert!(rid.len() >= 16);

    let again = get(&w.url("/api/health")).await;
    assert_ne!(
        again.header("x-request-id"),
        Some(rid.as_str()),
        "request ids must differ"
    );

    let nf = get(&w.url("/api/does-not-exist")).await;
    assert_eq!(nf.status, 404);
    assert_eq!(assert_error_shape(&nf), "not_found");
    assert!(nf.header("server-timing").is_some());

    let wrong = support::read(
        support::client()
            .delete(w.url("/api/health"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(assert_error_shape(&wrong), "method_not_allowed");
    assert_eq!(wrong.header("allow"), Some("GET, OPTIONS"));

    let wrong = support::read(
        support::client()
            .get(w.url("/api/inspire/start"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST, OPTIONS"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_is_served_with_a_request_id() {
    let w = Worker::start(WorkerOptions::default()).await;
    let page = get(&w.url("/")).await;
    assert_eq!(page.status, 200);
    assert!(page
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/html")));
    assert!(page.text.contains("<html"), "{}", page.text);
    assert!(page.header("x-request-id").is_some());
    // Static files are not API responses: no Server-Timing there.
    assert!(page.header("server-timing").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_on_the_same_state_directory() {
    let mut w = Worker::start(WorkerOptions::default()).await;
    let dir = w.persist_dir.clone();
    w.restart().await;
    assert_eq!(w.persist_dir, dir);
    assert_eq!(get(&w.url("/api/health")).await.status, 200);
}

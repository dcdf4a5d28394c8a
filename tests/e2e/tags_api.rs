//! The tag API through the real Worker: the embedded index, the Supabase adapter against a
//! PostgREST fake (identical results, reserved characters included), and the fallback.

use crate::support::fake_postgrest::{FakePostgrest, Fault};
use crate::support::{assert_error_shape, get, Worker, WorkerOptions};
use serde_json::Value;

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tag_endpoints_and_bad_parameters() {
    let w = Worker::start(WorkerOptions::default()).await;
    let s = get(&w.url("/api/tags/search?q=long%20hair&limit=5")).await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.json["results"][0]["name"], "long_hair");
    assert_eq!(s.json["source"], "embedded");
    let t = get(&w.url(&format!("/api/tags/{}", enc("yorigami_shion_(cosplay)")))).await;
    assert_eq!(
        (t.status, t.json["name"].as_str()),
        (200, Some("yorigami_shion_(cosplay)"))
    );
    let miss = get(&w.url("/api/tags/long_hiar")).await;
    assert_eq!(miss.status, 404);
    assert_eq!(assert_error_shape(&miss), "tag_not_found");
    assert_eq!(miss.json["error"]["suggestions"][0], "long_hair");
    let p = get(&w.url("/api/tags/popular?category=ENVIRONMENT&limit=3")).await;
    assert_eq!(p.json["results"].as_array().unwrap().len(), 3);
    let c = get(&w.url("/api/tags/categories")).await;
    assert_eq!(c.json["total"], 140_790);
    // Ratings: the default hides anything above all-ages.
    let r = get(&w.url("/api/tags/search?q=breasts&limit=50")).await;
    assert!(
        r.json["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rating"] == "all-ages"),
        "{}",
        r.text
    );
    let r15 = get(&w.url("/api/tags/search?q=breasts&limit=50&rating=r15")).await;
    assert!(r15.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["rating"] == "r15"));
    let long_q = "a".repeat(200);
    for bad in [
        "/api/tags/search?q=a&limit=0",
        "/api/tags/search?q=a&limit=1000",
        "/api/tags/search?q=a&category=NOPE",
        "/api/tags/search?q=",
        &format!("/api/tags/search?q={long_q}"),
    ] {
        let g = get(&w.url(bad)).await;
        assert_eq!(g.status, 400, "{bad}: {}", g.text);
        assert_eq!(assert_error_shape(&g), "bad_parameter");
    }
}

/// Runs the same queries through two Workers and returns (embedded, supabase) answers.
const QUERIES: &[&str] = &[
    "/api/tags/search?q=long&limit=20",
    "/api/tags/search?q=kimono&limit=30&min_posts=1000",
    "/api/tags/search?q=%28cosplay%29&limit=15",
    "/api/tags/search?q=%3Ad&limit=10",
    "/api/tags/search?q=%5E_%5E&limit=10",
    "/api/tags/search?q=st.&limit=10",
    "/api/tags/search?q=breasts&limit=25&rating=r15",
    "/api/tags/search?q=hair&limit=40&category=CHARACTER_RELATED",
    "/api/tags/popular?limit=25",
    "/api/tags/popular?category=ENVIRONMENT&limit=10",
];

fn without_source(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("source");
    }
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_adapter_matches_the_embedded_index() {
    let pg = FakePostgrest::start().await;
    let local = Worker::start(WorkerOptions::default()).await;
    let remote = Worker::start(
        WorkerOptions::default()
            .var("SUPABASE_URL", pg.url())
            .var("SUPABASE_KEY", FakePostgrest::KEY)
            .var("SUPABASE_TIMEOUT_MS", "5000"),
    )
    .await;
    assert_eq!(
        get(&remote.url("/api/health")).await.json["tag_source"],
        "supabase"
    );
    let names = [
        "yorigami_shion_(cosplay)",
        ":d",
        "^_^",
        "don't_say_\"lazy\"",
        "long_hair",
        "\\m/",
        ";)",
        "Long Hair",
    ];
    let mut paths: Vec<String> = QUERIES.iter().map(|q| q.to_string()).collect();
    paths.extend(names.iter().map(|n| format!("/api/tags/{}", enc(n))));
    for path in &paths {
        let a = get(&local.url(path)).await;
        let b = get(&remote.url(path)).await;
        assert_eq!(a.status, b.status, "{path}");
        assert_eq!(b.json["source"], "supabase", "{path}: {}", b.text);
        assert_eq!(without_source(a.json), without_source(b.json), "{path}");
    }
    assert!(
        pg.requests().len() >= paths.len(),
        "the adapter really asked PostgREST"
    );
    assert!(pg.violations().is_empty(), "{:?}", pg.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn supabase_failures_fall_back_to_the_embedded_index() {
    let pg = FakePostgrest::start().await;
    let w = Worker::start(
        WorkerOptions::default()
            .var("SUPABASE_URL", pg.url())
            .var("SUPABASE_KEY", FakePostgrest::KEY)
            .var("SUPABASE_TIMEOUT_MS", "500"),
    )
    .await;
    let healthy = get(&w.url("/api/tags/search?q=kimono&limit=5")).await;
    assert_eq!(healthy.json["source"], "supabase");
    pg.set_fault(Fault::Status(500));
    let down = get(&w.url("/api/tags/search?q=kimono&limit=5")).await;
    assert_eq!(down.status, 200);
    assert_eq!(down.json["source"], "embedded_fallback");
    assert_eq!(down.json["results"], healthy.json["results"]);
    pg.set_fault(Fault::Hang(std::time::Duration::from_secs(30)));
    let started = std::time::Instant::now();
    let hung = get(&w.url("/api/tags/long_hair")).await;
    assert_eq!(
        (hung.status, hung.json["source"].as_str()),
        (200, Some("embedded_fallback"))
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "the timeout cut the hang short"
    );
    // A whole offline turn still completes while Supabase hangs.
    let turn = crate::support::post(
        &w.url("/api/inspire/start"),
        &serde_json::json!({ "message": "櫻花樹下的和服少女" }),
    )
    .await;
    assert_eq!(turn.status, 200, "{}", turn.text);
    assert_eq!(turn.json["directions"].as_array().unwrap().len(), 3);
}

//! Fault injection through the real Worker: a misbehaving model, a crash mid-turn, and a
//! soak with injected faults, after which every session must still be consistent.

use crate::support::fake::{FakeServer, Reply};
use crate::support::fake_openai::{error_body, responses_text, Api, FakeOpenAi, Step};
use crate::support::llm_script::competent;
use crate::support::{assert_error_shape, get, post, Got, Worker, WorkerOptions};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn opts(base_url: String) -> WorkerOptions {
    with_timeout(base_url, 1500)
}

fn with_timeout(base_url: String, llm_timeout_ms: u64) -> WorkerOptions {
    WorkerOptions::relaxed()
        .with_model(base_url)
        .var("LLM_TIMEOUT_MS", llm_timeout_ms.to_string())
}

async fn start(w: &Worker, m: &str) -> Got {
    post(&w.url("/api/inspire/start"), &json!({ "message": m })).await
}

async fn cont(w: &Worker, id: &str, m: &str) -> Got {
    post(
        &w.url("/api/inspire/continue"),
        &json!({ "session_id": id, "message": m }),
    )
    .await
}

async fn status(w: &Worker, id: &str) -> Value {
    get(&w.url(&format!("/api/inspire/status/{id}"))).await.json
}

/// The invariants every session keeps whatever happened.
fn assert_consistent(s: &Value) {
    let turns = s["turns"].as_u64().unwrap();
    let failed = s["failed_turns"].as_u64().unwrap();
    assert_eq!(
        s["transcript_user_items"].as_u64().unwrap(),
        turns + failed,
        "one user item per turn, ok or failed: {s}"
    );
    assert_eq!(s["orphaned_tool_calls"], 0, "{s}");
    assert_ne!(s["last_turn_status"], "running");
}

fn err500() -> Step {
    Step::Status(
        500,
        error_body(
            "The server had an error while processing your request.",
            "server_error",
            None,
            None,
        ),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_model_faults_are_retried_away() {
    let text = || Step::Reply(responses_text("你想要什麼樣的畫面？"));
    // Each first turn needs two model calls (the second forced); each fault costs one retry.
    let cases: Vec<(&str, Vec<Step>)> = vec![
        (
            "429 with Retry-After",
            vec![Step::RetryAfter(429, 1), text(), text()],
        ),
        ("500", vec![err500(), text(), text()]),
        (
            "503",
            vec![
                Step::Status(503, error_body("overloaded", "server_error", None, None)),
                text(),
                text(),
            ],
        ),
        (
            "garbage JSON",
            vec![Step::Garbage("{\"output\": [".into()), text(), text()],
        ),
        (
            "empty output",
            vec![Step::Hang(Duration::ZERO), text(), text()],
        ),
        (
            "hang past the timeout",
            vec![Step::Hang(Duration::from_secs(5)), text(), text()],
        ),
    ];
    for (name, script) in cases {
        let model = FakeOpenAi::start(script).await;
        let w = Worker::start(opts(model.base_url())).await;
        let t0 = std::time::Instant::now();
        let s = start(&w, "一個畫面").await;
        assert_eq!(s.status, 200, "{name}: {}", s.text);
        assert_eq!(model.requests().len(), 3, "{name}: one retry");
        if name.starts_with("429") {
            assert!(
                t0.elapsed() >= Duration::from_millis(900),
                "{name}: Retry-After honoured"
            );
        }
        let st = status(&w, s.json["session_id"].as_str().unwrap()).await;
        assert_eq!(
            (st["turns"].as_u64(), st["failed_turns"].as_u64()),
            (Some(1), Some(0)),
            "{name}"
        );
        assert_consistent(&st);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_model_that_stays_down_fails_the_turn_kindly_and_keeps_the_session() {
    let model = FakeOpenAi::start(vec![Step::Reply(responses_text("好"))]).await;
    let w = Worker::start(opts(model.base_url())).await;
    let id = start(&w, "櫻花").await.json["session_id"]
        .as_str()
        .unwrap()
        .to_string();
    model.push(vec![err500(), err500(), err500()]);
    let down = cont(&w, &id, "加夜景").await;
    assert_eq!(
        (down.status, assert_error_shape(&down).as_str()),
        (502, "upstream_unavailable")
    );
    let msg = down.json["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains("保留") && !msg.contains("500") && !msg.contains("server_error"),
        "{msg}"
    );
    let st = status(&w, &id).await;
    assert_eq!(
        (st["turns"].as_u64(), st["failed_turns"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(
        st["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["content"] == "加夜景"),
        "the user's message is kept"
    );
    assert_consistent(&st);
    // Usable again, and the model now sees the message that failed.
    model.push(vec![Step::Reply(responses_text("好！夜景來了"))]);
    assert_eq!(cont(&w, &id, "那就加夜景吧").await.status, 200);
    let last = model.requests().last().unwrap().json().to_string();
    assert!(last.contains("加夜景") && last.contains("那就加夜景吧"));
    let st = status(&w, &id).await;
    assert_eq!(
        (st["turns"].as_u64(), st["failed_turns"].as_u64()),
        (Some(2), Some(1))
    );
    assert_consistent(&st);
    // A model that rejects the request (400) is not retried.
    model.push(vec![Step::Status(
        400,
        error_body(
            "Unknown parameter: 'x'.",
            "invalid_request_error",
            Some("x"),
            Some("unknown_parameter"),
        ),
    )]);
    let before = model.requests().len();
    let rejected = cont(&w, &id, "更柔和").await;
    assert_eq!(rejected.status, 502);
    assert!(
        !rejected.text.contains("Unknown parameter"),
        "upstream words stay in the log"
    );
    assert_eq!(model.requests().len(), before + 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_mid_turn_then_restarted() {
    let slow = FakeServer::start(|r| async move {
        if r.path.ends_with("/moderations") {
            return Reply::json(200, &json!({ "results": [{ "flagged": false }] }));
        }
        Reply::json(200, &responses_text("慢慢來")).after(Duration::from_secs(3))
    })
    .await;
    let dir = crate::support::worker::fresh_dir("crash");
    let mut w = Worker::start(WorkerOptions {
        persist_dir: Some(dir.clone()),
        ..with_timeout(format!("{}/v1", slow.url), 20_000)
    })
    .await;
    let first = start(&w, "一個夏天").await;
    let id = first.json["session_id"].as_str().unwrap().to_string();
    let model_calls = |s: &FakeServer| {
        s.requests()
            .iter()
            .filter(|r| r.path.ends_with("/responses"))
            .count()
    };
    let asked = model_calls(&slow);
    let url = w.url("/api/inspire/continue");
    let pending = tokio::spawn(async move {
        crate::support::client()
            .post(url)
            .json(&json!({ "session_id": id, "message": "被打斷的一句" }))
            .send()
            .await
    });
    // Kill only once the turn is really under way: the model (not moderation) has its request.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while model_calls(&slow) == asked {
        assert!(
            std::time::Instant::now() < deadline,
            "the turn never reached the model"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    w.kill();
    let _ = pending.await;
    w.restart().await;
    let id = first.json["session_id"].as_str().unwrap();
    let st = status(&w, id).await;
    assert_eq!(st["last_turn_status"], "interrupted", "{st}");
    assert_eq!(st["turns"], 1, "the finished turn is intact");
    // The next turn works and records the interrupted one as failed, keeping its words.
    let next = cont(&w, id, "再試一次").await;
    assert_eq!(next.status, 200, "{}", next.text);
    let st = status(&w, id).await;
    assert_eq!(
        (st["turns"].as_u64(), st["failed_turns"].as_u64()),
        (Some(2), Some(1)),
        "{st}"
    );
    assert!(st["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["content"] == "被打斷的一句"));
    assert_consistent(&st);
    drop(w);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn soak_a_thousand_turns_with_ten_percent_faults() {
    let count = Arc::new(AtomicU64::new(0));
    let c = count.clone();
    let model = FakeOpenAi::with_handler(move |body: &Value, api: Api| {
        // Every tenth model call fails; which one depends only on arrival order.
        if c.fetch_add(1, Ordering::Relaxed) % 10 == 7 {
            return err500();
        }
        competent(body, api)
    })
    .await;
    // Limits that would end a session before its twentieth turn are lifted: this is about faults.
    let w = Worker::start(
        opts(model.base_url())
            .var("MAX_TURNS", "25")
            .var("MAX_COST_USD", "1000"),
    )
    .await;
    let words = [
        "更夢幻",
        "加夜景",
        "選擇方向 2",
        "更柔和",
        "更明亮",
        "第三個",
        "加一隻貓",
        "少人像",
        "更寫實",
    ];
    let t0 = std::time::Instant::now();
    let sessions = (0..50).map(|i| {
        let w = &w;
        async move {
            // A start that fails kindly is retried, as a person would; every request counts.
            let mut codes = Vec::new();
            let mut id = None;
            while id.is_none() && codes.len() < 20 {
                let s = start(w, "櫻花樹下的和服少女").await;
                codes.push(s.status);
                id = s.json["session_id"].as_str().map(str::to_string);
            }
            let Some(id) = id else { return (None, codes) };
            let mut t = 0;
            while codes.len() < 20 {
                codes.push(cont(w, &id, words[(i + t) % words.len()]).await.status);
                t += 1;
            }
            (Some(id), codes)
        }
    });
    let results = futures::future::join_all(sessions).await;
    let elapsed = t0.elapsed();
    let codes: Vec<u16> = results.iter().flat_map(|r| r.1.clone()).collect();
    assert_eq!(codes.len(), 1000);
    assert!(
        codes.iter().all(|c| *c == 200 || *c == 502),
        "only successes and kind failures: {codes:?}"
    );
    let ok = codes.iter().filter(|c| **c == 200).count();
    println!(
        "soak: 1000 turns in {:.1} s, {ok} ok, {} failed kindly, {} model calls",
        elapsed.as_secs_f64(),
        1000 - ok,
        count.load(Ordering::Relaxed)
    );
    for (id, codes) in &results {
        let id = id.as_ref().expect("every session started");
        let st = status(&w, id).await;
        assert_consistent(&st);
        // Failed starts made no session; the rest are this session's turns.
        let first_ok = codes
            .iter()
            .position(|c| *c == 200)
            .expect("the session started");
        let own = &codes[first_ok..];
        let ok_here = own.iter().filter(|c| **c == 200).count() as u64;
        assert_eq!(st["turns"].as_u64().unwrap(), ok_here, "{st}");
        assert_eq!(
            st["failed_turns"].as_u64().unwrap(),
            own.len() as u64 - ok_here
        );
    }
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}

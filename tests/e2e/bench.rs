//! Benchmarks (run by `make bench`, never by `make test`): the Worker's own time per turn,
//! throughput, concurrency against slow fakes, parallel tool calls, the tag API, bundle size
//! and start time. Prints every figure and writes BENCHMARKS.md.

use crate::support::fake_openai::{responses_calls, responses_text, Api, FakeOpenAi, Step};
use crate::support::fake_postgrest::{FakePostgrest, Fault};
use crate::support::llm_script::{competent, ideas_args};
use crate::support::{client, Worker, WorkerOptions};
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

fn relaxed() -> WorkerOptions {
    WorkerOptions::relaxed().var("MAX_COST_USD", "1000")
}

fn with_model(base: String) -> WorkerOptions {
    relaxed()
        .var("OPENAI_API_KEY", "sk-bench")
        .var("LLM_BASE_URL", base)
}

/// One request's figures: client wall time and the Worker's Server-Timing total/upstream.
struct Timed {
    wall_ms: f64,
    total_ms: f64,
    upstream_ms: f64,
    json: Value,
}

async fn timed(url: String, body: Value) -> Timed {
    let t = Instant::now();
    let resp = client()
        .post(url)
        .json(&body)
        .send()
        .await
        .expect("request");
    let timing = resp
        .headers()
        .get("server-timing")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let json: Value = resp.json().await.unwrap_or(Value::Null);
    let wall_ms = t.elapsed().as_secs_f64() * 1e3;
    let dur = |name: &str| {
        timing
            .split(',')
            .map(str::trim)
            .find(|p| p.starts_with(name))
            .and_then(|p| p.split("dur=").nth(1))
            .and_then(|d| d.parse().ok())
            .unwrap_or(0.0)
    };
    Timed {
        wall_ms,
        total_ms: dur("total"),
        upstream_ms: dur("upstream"),
        json,
    }
}

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// start → select → finalize; returns the three requests' figures.
async fn conversation(w: &Worker) -> Vec<Timed> {
    let s = timed(
        w.url("/api/inspire/start"),
        json!({ "message": "櫻花樹下的和服少女" }),
    )
    .await;
    let id = s.json["session_id"].as_str().expect("session").to_string();
    let sel = timed(
        w.url("/api/inspire/continue"),
        json!({ "session_id": id, "action": { "type": "select", "direction": 1 } }),
    )
    .await;
    let fin = timed(
        w.url("/api/inspire/continue"),
        json!({ "session_id": id, "action": { "type": "finalize" } }),
    )
    .await;
    assert_eq!(fin.json["type"], "completed", "{}", fin.json);
    vec![s, sel, fin]
}

async fn overhead(report: &mut String) {
    let model = FakeOpenAi::with_handler(competent).await;
    let w = Worker::start(with_model(model.base_url())).await;
    conversation(&w).await; // warm up
    let mut own = Vec::new();
    let mut wall_minus_upstream = Vec::new();
    for _ in 0..30 {
        for t in conversation(&w).await {
            own.push((t.total_ms - t.upstream_ms).max(0.0));
            wall_minus_upstream.push((t.wall_ms - t.upstream_ms).max(0.0));
        }
    }
    writeln!(
        report,
        "### Agent overhead (fake model answering instantly, 30 conversations × 3 turns)\n"
    )
    .unwrap();
    writeln!(report, "| measure | p50 (ms) | p99 (ms) |\n|---|---|---|").unwrap();
    writeln!(
        report,
        "| Server-Timing total − upstream (Worker's own time, workerd clock) | {:.1} | {:.1} |",
        pct(own.clone(), 0.5),
        pct(own, 0.99)
    )
    .unwrap();
    writeln!(
        report,
        "| client wall time − upstream (includes wrangler's local proxy) | {:.1} | {:.1} |\n",
        pct(wall_minus_upstream.clone(), 0.5),
        pct(wall_minus_upstream, 0.99)
    )
    .unwrap();
    writeln!(report, "workerd advances `Date.now()` only across I/O, so the Worker's own CPU time between two awaits reads as 0 on its clock; the client-side figure bounds it from above.\n").unwrap();
    writeln!(
        report,
        "| concurrency | conversations | requests | wall (s) | requests/s |\n|---|---|---|---|---|"
    )
    .unwrap();
    for c in [1usize, 10, 50] {
        let convs = c.max(10) * 2;
        let t = Instant::now();
        let mut done = 0;
        while done < convs {
            let batch = c.min(convs - done);
            futures::future::join_all((0..batch).map(|_| conversation(&w))).await;
            done += batch;
        }
        let secs = t.elapsed().as_secs_f64();
        writeln!(
            report,
            "| {c} | {convs} | {} | {secs:.2} | {:.1} |",
            convs * 3,
            (convs * 3) as f64 / secs
        )
        .unwrap();
    }
    writeln!(report).unwrap();
}

async fn concurrency(report: &mut String) {
    let model = FakeOpenAi::with_handler(|body: &Value, api: Api| match competent(body, api) {
        Step::Reply(v) => Step::Slow(Duration::from_millis(300), v),
        other => other,
    })
    .await;
    let pg = FakePostgrest::start().await;
    pg.set_fault(Fault::Delay(Duration::from_millis(50)));
    let w = Worker::start(
        with_model(model.base_url())
            .var("SUPABASE_URL", pg.url())
            .var("SUPABASE_KEY", FakePostgrest::KEY),
    )
    .await;
    let start = |w: &Worker| {
        timed(
            w.url("/api/inspire/start"),
            json!({ "message": "櫻花樹下的和服少女" }),
        )
    };
    start(&w).await; // warm up
    let t = Instant::now();
    let one = start(&w).await;
    assert_eq!(one.json["type"], "directions");
    let single = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let all = futures::future::join_all((0..100).map(|_| start(&w))).await;
    let hundred = t.elapsed().as_secs_f64();
    assert!(all.iter().all(|r| r.json["type"] == "directions"));
    writeln!(
        report,
        "### Concurrency (fake model 300 ms per call, fake PostgREST 50 ms per query)\n"
    )
    .unwrap();
    writeln!(
        report,
        "| sessions started at once | wall (s) | ratio to one session |\n|---|---|---|"
    )
    .unwrap();
    writeln!(
        report,
        "| 1 | {single:.2} | 1.00 |\n| 100 | {hundred:.2} | {:.2} |\n",
        hundred / single
    )
    .unwrap();

    // One turn whose model asks for 3 searches at once, each a 200 ms PostgREST query.
    pg.set_fault(Fault::Delay(Duration::from_millis(200)));
    let search = |k: &str| {
        (
            "search_examples",
            json!({ "search_keywords": [k], "search_purpose": "find_scene_tags", "search_strategy": "keyword", "min_popularity": 1000, "max_results": 5 }),
        )
    };
    let mut figures = Vec::new();
    for n in [1usize, 3] {
        let calls: Vec<(&str, Value)> = ["cherry", "kimono", "night"][..n]
            .iter()
            .map(|k| search(k))
            .collect();
        let scripted = FakeOpenAi::start(vec![
            Step::Reply(responses_calls(&calls)),
            Step::Reply(responses_calls(&[("generate_ideas", ideas_args(&[]))])),
            Step::Reply(responses_text("好")),
        ])
        .await;
        let w = Worker::start(
            with_model(scripted.base_url())
                .var("SUPABASE_URL", pg.url())
                .var("SUPABASE_KEY", FakePostgrest::KEY),
        )
        .await;
        let t = timed(w.url("/api/inspire/start"), json!({ "message": "櫻花" })).await;
        assert_eq!(t.json["type"], "directions", "{}", t.json);
        figures.push(t.wall_ms);
    }
    writeln!(
        report,
        "| searches in one model reply (200 ms each) | turn wall time (ms) |\n|---|---|"
    )
    .unwrap();
    writeln!(
        report,
        "| 1 | {:.0} |\n| 3, run concurrently | {:.0} |\n",
        figures[0], figures[1]
    )
    .unwrap();
    writeln!(report, "The 3-call turn's extra time over the 1-call turn: {:.0} ms (sequential calls would add about 400 ms).\n", figures[1] - figures[0]).unwrap();
}

async fn tags(report: &mut String) {
    let w = Worker::start(relaxed()).await;
    let t = Instant::now();
    let first = client()
        .get(w.url("/api/tags/search?q=long"))
        .send()
        .await
        .unwrap();
    assert!(first.status().is_success());
    let first_ms = t.elapsed().as_secs_f64() * 1e3;
    let queries: Vec<(&str, String)> = vec![
        (
            "exact lookup /api/tags/{name}",
            "/api/tags/cherry_blossoms".into(),
        ),
        (
            "prefix+keyword search, limit 20",
            "/api/tags/search?q=kimo&limit=20".into(),
        ),
        (
            "typo lookup → 404 with suggestions",
            "/api/tags/long_hiar".into(),
        ),
        (
            "popular by category",
            "/api/tags/popular?category=ENVIRONMENT&limit=20".into(),
        ),
    ];
    writeln!(
        report,
        "### Tag API through the Worker (embedded index, 200 requests each, client wall time)\n"
    )
    .unwrap();
    writeln!(
        report,
        "First tag request after start (includes index initialisation): {first_ms:.1} ms\n"
    )
    .unwrap();
    writeln!(report, "| query | p50 (ms) | p99 (ms) |\n|---|---|---|").unwrap();
    for (name, path) in queries {
        let mut v = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            let r = client().get(w.url(&path)).send().await.unwrap();
            let _ = r.bytes().await;
            v.push(t.elapsed().as_secs_f64() * 1e3);
        }
        writeln!(
            report,
            "| {name} | {:.2} | {:.2} |",
            pct(v.clone(), 0.5),
            pct(v, 0.99)
        )
        .unwrap();
    }
    writeln!(report).unwrap();
}

async fn size_and_start(report: &mut String) {
    let size = std::process::Command::new("scripts/size.sh")
        .current_dir(crate::support::worker::repo_root())
        .output()
        .expect("size.sh");
    let mut starts = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let w = Worker::start(relaxed()).await;
        starts.push(t.elapsed().as_secs_f64());
        drop(w);
    }
    writeln!(
        report,
        "### Size and start\n\n```\n{}```\n",
        String::from_utf8_lossy(&size.stdout)
    )
    .unwrap();
    writeln!(
        report,
        "Time from launching `wrangler dev` to the first successful `/api/health` (3 runs): {}\n",
        starts
            .iter()
            .map(|s| format!("{s:.2} s"))
            .collect::<Vec<_>>()
            .join(", ")
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with make bench"]
async fn all() {
    let mut report = String::new();
    size_and_start(&mut report).await;
    tags(&mut report).await;
    overhead(&mut report).await;
    concurrency(&mut report).await;
    println!("{report}");
    let root = crate::support::worker::repo_root();
    let native = std::fs::read_to_string(root.join("target/bench-native.txt")).unwrap_or_default();
    let machine = format!(
        "{} cores, {} GiB memory, {}",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0),
        std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| m.lines().next().and_then(|l| l
                .split_whitespace()
                .nth(1)?
                .parse::<u64>()
                .ok()))
            .map_or(0, |kb| kb / 1_048_576),
        std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(
                |c| c.lines().find(|l| l.starts_with("model name")).map(|l| l
                    .split(':')
                    .nth(1)
                    .unwrap_or("")
                    .trim()
                    .to_string())
            )
            .unwrap_or_default()
    );
    let date = String::from_utf8_lossy(
        &std::process::Command::new("date")
            .arg("-u")
            .arg("+%Y-%m-%d")
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_string();
    let doc = format!(
        "# Benchmarks\n\nLatest figures from `make bench` on {date}, machine: {machine}. The load client, the fakes, \
         wrangler's proxy and workerd share the same cores, so absolute figures are pessimistic.\n\n\
         ## Tag index, native (`cargo run --release --example bench_tags`)\n\n```\n{native}```\n\n\
         ## The Worker under `wrangler dev` (`cargo test --release --test e2e bench:: -- --ignored --nocapture`)\n\n{report}"
    );
    std::fs::write(root.join("BENCHMARKS.md"), doc).expect("write BENCHMARKS.md");
}

//! The contract, end to end: every endpoint is exercised against the real Worker with valid
//! and invalid requests, and EVERY response is checked against `/api/openapi.json` as the
//! Worker serves it: its status must be documented for that operation, its content type
//! must be one the operation lists, and its body must validate against the documented
//! schema (streams: every event's data, and `done` against the turn or error schema).

use crate::support::schema::{resolve, validate};
use crate::support::{
    self, assert_error_shape, client, read, FakeServer, Got, Reply, Worker, WorkerOptions,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::sync::Mutex;

const ID_UNKNOWN: &str = "123e4567-e89b-42d3-a456-426614174000";

/// The document plus what was checked and what failed.
struct Contract {
    doc: Value,
    failures: Mutex<Vec<String>>,
    covered: Mutex<BTreeSet<(String, u16)>>,
}

fn media_type(g: &Got) -> String {
    g.header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

impl Contract {
    fn new(doc: Value) -> Contract {
        Contract {
            doc,
            failures: Mutex::new(Vec::new()),
            covered: Mutex::new(BTreeSet::new()),
        }
    }

    fn fail(&self, what: &str, g: &Got, problems: &[String]) {
        let body: String = g.text.chars().take(600).collect();
        self.failures.lock().unwrap().push(format!(
            "{what}: answered {} {}\n    {}\n    body: {body}",
            g.status,
            media_type(g),
            problems.join("\n    ")
        ));
    }

    fn schema_problems(&self, schema: &Value, v: &Value) -> Vec<String> {
        validate(&self.doc, schema, v)
    }

    /// Checks one response of `method path` (path as in the document, e.g.
    /// `/api/tags/{name}`). `what` names the request in failure messages.
    fn check(&self, method: &str, path: &str, what: &str, g: &Got) {
        let what = format!("{method} {path} [{what}]");
        let op = &self.doc["paths"][path][method.to_ascii_lowercase()];
        if !op.is_object() {
            self.fail(&what, g, &["operation is not in the document".into()]);
            return;
        }
        let Some(resp) = op["responses"].get(g.status.to_string()) else {
            let documented: Vec<&String> = op["responses"].as_object().unwrap().keys().collect();
            self.fail(
                &what,
                g,
                &[format!(
                    "status {} is not documented (documented: {documented:?})",
                    g.status
                )],
            );
            return;
        };
        self.covered
            .lock()
            .unwrap()
            .insert((format!("{method} {path}"), g.status));
        self.check_response(&what, resp, g);
    }

    /// Checks a response against a response object of components (404/405 for paths and
    /// methods outside the operations).
    fn check_component(&self, name: &str, what: &str, g: &Got) {
        let resp = resolve(&self.doc, &format!("#/components/responses/{name}"))
            .unwrap_or_else(|| panic!("components.responses.{name} missing"))
            .clone();
        self.check_response(&format!("{what} [components.responses.{name}]"), &resp, g);
    }

    fn check_response(&self, what: &str, resp: &Value, g: &Got) {
        let mt = media_type(g);
        let Some(content) = resp["content"].get(&mt) else {
            let documented: Vec<&String> = resp["content"]
                .as_object()
                .map(|o| o.keys().collect())
                .unwrap_or_default();
            self.fail(
                what,
                g,
                &[format!(
                    "content type '{mt}' is not documented (documented: {documented:?})"
                )],
            );
            return;
        };
        let mut problems = Vec::new();
        if g.header("x-request-id").is_none() {
            problems.push("no X-Request-Id header".into());
        }
        if mt == "application/json" {
            match serde_json::from_str::<Value>(&g.text) {
                Ok(v) => problems.extend(self.schema_problems(&content["schema"], &v)),
                Err(e) => problems.push(format!("body is not JSON: {e}")),
            }
            if g.status >= 400 {
                // The one error shape, with body and header request ids equal.
                let shape = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    assert_error_shape(g)
                }));
                if shape.is_err() {
                    problems.push("not the one error shape (see the panic above)".into());
                }
            }
        } else if mt == "text/event-stream" {
            problems.extend(self.stream_problems(resp, g));
        }
        if !problems.is_empty() {
            self.fail(what, g, &problems);
        }
    }

    /// Every event of a stream: known name, JSON data of the documented shape; `done` last,
    /// carrying the turn response (or the error body after an `error` event).
    fn stream_problems(&self, resp: &Value, g: &Got) -> Vec<String> {
        let events = inspire::sse::parse(&g.text);
        let mut p = Vec::new();
        let turn = resp["content"]["application/json"]["schema"].clone();
        let sch = |n: &str| json!({ "$ref": format!("#/components/schemas/{n}") });
        let event_schema = |name: &str| -> Option<Value> {
            Some(match name {
                "phase" => {
                    json!({ "type": "object", "required": ["phase", "label"], "additionalProperties": false,
                    "properties": { "phase": { "type": "string" }, "label": { "type": "string" } } })
                }
                "tool_started" => {
                    json!({ "type": "object", "required": ["tool", "call_id", "label"], "additionalProperties": false,
                    "properties": { "tool": { "type": "string" }, "call_id": { "type": "string" }, "label": { "type": "string" } } })
                }
                "tool_finished" => {
                    json!({ "type": "object", "required": ["tool", "call_id", "duration_ms", "summary", "ok"], "additionalProperties": false,
                    "properties": { "tool": { "type": "string" }, "call_id": { "type": "string" }, "duration_ms": { "type": "integer", "minimum": 0 },
                                    "summary": { "type": "string" }, "ok": { "type": "boolean" } } })
                }
                "directions" => {
                    json!({ "type": "object", "required": ["directions"], "additionalProperties": false,
                    "properties": { "directions": { "type": "array", "items": sch("Direction") } } })
                }
                "message" => {
                    json!({ "type": "object", "required": ["message"], "additionalProperties": false,
                    "properties": { "message": { "type": "string" } } })
                }
                "final" => {
                    json!({ "type": "object", "required": ["final_output"], "additionalProperties": false,
                    "properties": { "final_output": sch("FinalOutput") } })
                }
                "error" => sch("Error"),
                "done" => json!({ "oneOf": [turn.clone(), sch("Error")] }),
                _ => return None,
            })
        };
        if events.last().map(|e| e.0.as_str()) != Some("done") {
            p.push(format!(
                "the stream does not end with `done`: {:?}",
                events.iter().map(|e| &e.0).collect::<Vec<_>>()
            ));
        }
        let errored = events.iter().any(|e| e.0 == "error");
        for (i, (name, data)) in events.iter().enumerate() {
            let Some(schema) = event_schema(name) else {
                p.push(format!("event {i} has an undocumented name '{name}'"));
                continue;
            };
            let v: Value = match serde_json::from_str(data) {
                Ok(v) => v,
                Err(e) => {
                    p.push(format!("event {i} `{name}`: data is not JSON ({e})"));
                    continue;
                }
            };
            let schema = if name == "done" && !errored {
                turn.clone()
            } else {
                schema
            };
            for m in self.schema_problems(&schema, &v) {
                p.push(format!("event {i} `{name}`: {m}"));
            }
        }
        p
    }

    /// Panics with every mismatch; with `all_ok`, also when an operation never answered 2xx.
    fn finish(&self, all_ok: bool) {
        let covered = self.covered.lock().unwrap();
        eprintln!(
            "contract: {} (operation, status) pairs exercised:",
            covered.len()
        );
        for (op, status) in covered.iter() {
            eprintln!("  {op} {status}");
        }
        // Every operation's success response was seen.
        let mut missing = Vec::new();
        for (path, item) in self.doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                let op = format!("{} {path}", method.to_ascii_uppercase());
                if all_ok
                    && !covered
                        .iter()
                        .any(|(o, s)| *o == op && (200..300).contains(s))
                {
                    missing.push(op);
                }
            }
        }
        let failures = self.failures.lock().unwrap();
        assert!(
            failures.is_empty() && missing.is_empty(),
            "{} responses do not match /api/openapi.json:\n{}\n\noperations never answered 2xx: {missing:?}",
            failures.len(),
            failures.join("\n")
        );
    }
}

async fn send(req: reqwest::RequestBuilder) -> Got {
    read(req.send().await.expect("request")).await
}

async fn post_raw(url: &str, body: impl Into<reqwest::Body>) -> Got {
    send(
        client()
            .post(url)
            .header("content-type", "application/json")
            .body(body),
    )
    .await
}

async fn post_stream(url: &str, body: &Value) -> Got {
    send(
        client()
            .post(url)
            .header("accept", "text/event-stream")
            .json(body),
    )
    .await
}

async fn contract(w: &Worker) -> Contract {
    let g = support::get(&w.url("/api/openapi.json")).await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.json["openapi"], "3.1.0");
    assert_eq!(
        g.json,
        inspire::api::openapi::document(),
        "served document differs from the crate's"
    );
    let c = Contract::new(g.json.clone());
    c.check("GET", "/api/openapi.json", "the document", &g);
    c
}

#[tokio::test(flavor = "multi_thread")]
async fn every_response_matches_the_openapi_document() {
    let w = Worker::start(WorkerOptions::relaxed()).await;
    let c = contract(&w).await;
    let u = |p: &str| w.url(p);

    // Meta.
    c.check(
        "GET",
        "/api/health",
        "offline",
        &support::get(&u("/api/health")).await,
    );

    // Tags.
    const SEARCH: &str = "/api/tags/search";
    for (q, what) in [
        ("q=long&limit=5", "prefix"),
        ("q=Long+Hair&limit=1", "space and case"),
        ("q=kimono&limit=30&rating=r18&min_posts=10", "all filters"),
        ("q=kimono&category=general", "category"),
        ("q=zzzzqqqq", "no results"),
        ("q=%E6%AB%BB", "non-ASCII"),
        ("limit=5", "q missing"),
        ("q=", "q empty"),
        ("q=a&limit=0", "limit 0"),
        ("q=a&limit=101", "limit 101"),
        ("q=a&limit=x", "limit not a number"),
        ("q=a&category=NOPE", "unknown category"),
        ("q=a&rating=blocked", "rating blocked"),
        ("q=a&min_posts=-1", "negative min_posts"),
    ] {
        let g = support::get(&u(&format!("{SEARCH}?{q}"))).await;
        c.check("GET", SEARCH, what, &g);
    }
    let long_q = format!("{SEARCH}?q={}", "a".repeat(200));
    c.check(
        "GET",
        SEARCH,
        "q of 200 chars",
        &support::get(&u(&long_q)).await,
    );

    const POPULAR: &str = "/api/tags/popular";
    for (q, what) in [
        ("", "defaults"),
        ("?category=environment&limit=5", "category"),
        ("?limit=100&rating=r15", "max limit"),
        ("?limit=abc", "bad limit"),
        ("?category=zzz", "bad category"),
    ] {
        c.check(
            "GET",
            POPULAR,
            what,
            &support::get(&u(&format!("{POPULAR}{q}"))).await,
        );
    }
    c.check(
        "GET",
        "/api/tags/categories",
        "all",
        &support::get(&u("/api/tags/categories")).await,
    );
    const LOOKUP: &str = "/api/tags/{name}";
    for (name, what) in [
        ("long_hair", "known"),
        ("yorigami_shion_%28cosplay%29", "encoded"),
        ("%3Ad", "emoticon"),
        ("long_hiar", "unknown, with suggestions"),
        ("%20", "blank"),
    ] {
        let g = support::get(&u(&format!("/api/tags/{name}"))).await;
        c.check("GET", LOOKUP, what, &g);
    }
    let long_name = format!("/api/tags/{}", "a".repeat(200));
    c.check(
        "GET",
        LOOKUP,
        "name of 200 chars",
        &support::get(&u(&long_name)).await,
    );
    let nf = support::get(&u("/api/tags/long_hiar")).await;
    assert_eq!(nf.json["error"]["code"], "tag_not_found");
    assert_eq!(nf.json["error"]["suggestions"][0], "long_hair");

    // A full offline conversation.
    const START: &str = "/api/inspire/start";
    const CONTINUE: &str = "/api/inspire/continue";
    const STATUS: &str = "/api/inspire/status/{session_id}";
    const FEEDBACK: &str = "/api/inspire/feedback";
    const DELETE: &str = "/api/inspire/session/{session_id}";
    let g = support::post(
        &u(START),
        &json!({ "message": "櫻花樹下的和服少女", "user_access_level": "all-ages", "language": "zh-TW" }),
    )
    .await;
    c.check("POST", START, "first message", &g);
    assert_eq!(g.status, 200, "{}", g.text);
    let id = g.json["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    // The validator bites: the same body with an extra field, a wrong value or a missing
    // field does not validate.
    let turn_schema =
        &c.doc["paths"][START]["post"]["responses"]["200"]["content"]["application/json"]["schema"];
    for (mutate, what) in [
        (json!({ "bogus": 1 }), "an unknown field"),
        (json!({ "phase": "dancing" }), "a phase outside the enum"),
        (
            json!({ "metadata": { "turn": "one" } }),
            "a wrong nested shape",
        ),
    ] {
        let mut v = g.json.clone();
        v.as_object_mut()
            .unwrap()
            .extend(mutate.as_object().unwrap().clone());
        assert!(
            !validate(&c.doc, turn_schema, &v).is_empty(),
            "{what} validated"
        );
    }
    let mut v = g.json.clone();
    v.as_object_mut().unwrap().remove("session_id");
    assert!(
        !validate(&c.doc, turn_schema, &v).is_empty(),
        "a missing field validated"
    );
    let mut last = g;
    if last.json["directions"]
        .as_array()
        .is_none_or(|d| d.is_empty())
    {
        last = support::post(
            &u(CONTINUE),
            &json!({ "session_id": id, "message": "夢幻一點的日系插畫" }),
        )
        .await;
        c.check("POST", CONTINUE, "answer the question", &last);
    }
    let n = last.json["directions"].as_array().map_or(0, Vec::len);
    assert!(n >= 2, "no directions after two turns: {}", last.text);
    let g = support::post(
        &u(CONTINUE),
        &json!({ "session_id": id, "action": { "type": "select", "direction": 1 } }),
    )
    .await;
    c.check("POST", CONTINUE, "select direction 1", &g);
    assert_eq!(g.json["selected_direction"], 1, "{}", g.text);
    let g = support::post(
        &u(CONTINUE),
        &json!({ "session_id": id, "message": "更夢幻一點", "action": null }),
    )
    .await;
    c.check("POST", CONTINUE, "refine in words", &g);
    let g = post_stream(
        &u(CONTINUE),
        &json!({ "session_id": id, "message": "加一點螢火蟲" }),
    )
    .await;
    c.check("POST", CONTINUE, "refine, streamed", &g);
    assert_eq!(media_type(&g), "text/event-stream", "{}", g.text);
    let g = support::post(
        &u(CONTINUE),
        &json!({ "session_id": id, "action": { "type": "finalize" } }),
    )
    .await;
    c.check("POST", CONTINUE, "finalize", &g);
    assert_eq!(g.json["type"], "completed", "{}", g.text);
    assert!(g.json["final_output"].is_object(), "{}", g.text);

    // Invalid continues on the live session.
    let bad_direction = support::post(
        &u(CONTINUE),
        &json!({ "session_id": id, "action": { "type": "select", "direction": n + 1 } }),
    )
    .await;
    c.check(
        "POST",
        CONTINUE,
        "direction beyond those shown",
        &bad_direction,
    );
    assert_eq!(bad_direction.status, 422, "{}", bad_direction.text);
    let status_url = u(&format!("/api/inspire/status/{id}"));
    let g = support::get(&status_url).await;
    c.check("GET", STATUS, "completed session", &g);
    assert_eq!(g.json["phase"], "completed", "{}", g.text);
    let upper = support::get(&u(&format!("/api/inspire/status/{}", id.to_uppercase()))).await;
    c.check("GET", STATUS, "upper-case id", &upper);

    for (b, what) in [
        (
            json!({ "session_id": id, "satisfaction": 5, "text": "非常好！", "would_use_again": true }),
            "full",
        ),
        (json!({ "session_id": id, "satisfaction": 1 }), "minimal"),
        (
            json!({ "session_id": id, "satisfaction": 3, "text": null, "would_use_again": null }),
            "nulls",
        ),
        (
            json!({ "session_id": id, "satisfaction": 6 }),
            "satisfaction 6",
        ),
        (
            json!({ "session_id": id, "satisfaction": 4.5 }),
            "satisfaction 4.5",
        ),
        (
            json!({ "session_id": id, "satisfaction": "5" }),
            "satisfaction a string",
        ),
        (
            json!({ "session_id": id, "satisfaction": 3, "text": "a".repeat(501) }),
            "text too long",
        ),
        (
            json!({ "session_id": id, "satisfaction": 3, "would_use_again": "yes" }),
            "bad bool",
        ),
        (
            json!({ "session_id": id, "satisfaction": 3, "stars": 3 }),
            "unknown field",
        ),
        (json!({ "satisfaction": 3 }), "no session id"),
        (
            json!({ "session_id": "nope", "satisfaction": 3 }),
            "bad session id",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "satisfaction": 3 }),
            "unknown session",
        ),
    ] {
        c.check(
            "POST",
            FEEDBACK,
            what,
            &support::post(&u(FEEDBACK), &b).await,
        );
    }
    c.check(
        "POST",
        FEEDBACK,
        "not JSON",
        &post_raw(&u(FEEDBACK), "{not json").await,
    );
    let g = support::get(&status_url).await;
    c.check("GET", STATUS, "after feedback", &g);
    assert_eq!(g.json["feedback_count"], 3, "{}", g.text);

    let del_url = u(&format!("/api/inspire/session/{id}"));
    let g = send(client().delete(&del_url)).await;
    c.check("DELETE", DELETE, "erase", &g);
    assert_eq!(g.status, 200, "{}", g.text);
    let g = support::get(&status_url).await;
    c.check("GET", STATUS, "status after erase", &g);
    assert_eq!(g.status, 404, "{}", g.text);
    c.check(
        "DELETE",
        DELETE,
        "erase again",
        &send(client().delete(&del_url)).await,
    );
    c.check(
        "POST",
        CONTINUE,
        "continue after erase",
        &support::post(&u(CONTINUE), &json!({ "session_id": id, "message": "hi" })).await,
    );
    c.check(
        "POST",
        FEEDBACK,
        "feedback after erase",
        &support::post(
            &u(FEEDBACK),
            &json!({ "session_id": id, "satisfaction": 4 }),
        )
        .await,
    );
    c.check(
        "GET",
        STATUS,
        "bad id",
        &support::get(&u("/api/inspire/status/not-a-uuid")).await,
    );
    c.check(
        "DELETE",
        DELETE,
        "bad id",
        &send(client().delete(u("/api/inspire/session/xyz"))).await,
    );

    // Streaming start.
    let g = post_stream(
        &u(START),
        &json!({ "message": "a lonely lighthouse at night", "language": "en" }),
    )
    .await;
    c.check("POST", START, "streamed", &g);
    assert_eq!(media_type(&g), "text/event-stream", "{}", g.text);

    // A session that ends itself (the same message three times), then refuses turns: 409.
    let g = support::post(&u(START), &json!({ "message": "moon" })).await;
    c.check("POST", START, "english, language inferred", &g);
    let id2 = g.json["session_id"]
        .as_str()
        .expect("session_id")
        .to_string();
    for i in 0..2 {
        let g = support::post(
            &u(CONTINUE),
            &json!({ "session_id": id2, "message": "moon" }),
        )
        .await;
        c.check("POST", CONTINUE, &format!("repeat {i}"), &g);
    }
    let g = support::get(&u(&format!("/api/inspire/status/{id2}"))).await;
    c.check("GET", STATUS, "aborted session", &g);
    assert_eq!(g.json["phase"], "aborted", "{}", g.text);
    let closed = support::post(
        &u(CONTINUE),
        &json!({ "session_id": id2, "message": "sun" }),
    )
    .await;
    c.check("POST", CONTINUE, "closed session", &closed);
    assert_eq!(
        closed.json["error"]["code"], "session_closed",
        "{}",
        closed.text
    );
    let closed = post_stream(
        &u(CONTINUE),
        &json!({ "session_id": id2, "action": { "type": "finalize" } }),
    )
    .await;
    c.check("POST", CONTINUE, "closed session, streamed", &closed);

    // Invalid starts.
    let too_big = format!(r#"{{"message":"{}"}}"#, "a".repeat(17 * 1024));
    for (body, what) in [
        ("{not json".to_string(), "not JSON"),
        ("".to_string(), "empty body"),
        ("[1]".to_string(), "an array"),
        ("{}".to_string(), "no message"),
        (r#"{"message":"   "}"#.to_string(), "blank message"),
        (r#"{"message":null}"#.to_string(), "null message"),
        (r#"{"message":42}"#.to_string(), "number message"),
        (
            format!(r#"{{"message":"{}"}}"#, "櫻".repeat(501)),
            "501 chars",
        ),
        (
            format!(r#"{{"message":"{}"}}"#, "櫻".repeat(500)),
            "500 chars",
        ),
        (
            r#"{"message":"a","user_access_level":"blocked"}"#.to_string(),
            "access blocked",
        ),
        (
            r#"{"message":"a","user_access_level":7}"#.to_string(),
            "access a number",
        ),
        (
            r#"{"message":"a","language":"fr"}"#.to_string(),
            "language fr",
        ),
        (r#"{"message":"a","extra":1}"#.to_string(), "unknown field"),
        (
            r#"{"message":"nsfw anime girl"}"#.to_string(),
            "unsafe (en)",
        ),
        (r#"{"message":"色情插畫"}"#.to_string(), "unsafe (zh)"),
        (too_big, "17 KB body"),
    ] {
        c.check("POST", START, what, &post_raw(&u(START), body).await);
    }
    let unsafe_ = support::post(&u(START), &json!({ "message": "nsfw anime girl" })).await;
    assert_eq!(
        unsafe_.json["error"]["code"], "content_unsafe",
        "{}",
        unsafe_.text
    );
    assert_eq!(
        unsafe_.json["error"]["safe_alternatives"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // Invalid continues.
    for (b, what) in [
        (
            json!({ "session_id": "nope", "message": "a" }),
            "bad session id",
        ),
        (
            json!({ "session_id": 7, "message": "a" }),
            "session id a number",
        ),
        (json!({ "message": "a" }), "no session id"),
        (
            json!({ "session_id": ID_UNKNOWN }),
            "neither message nor action",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "action": { "type": "select", "direction": 7 } }),
            "direction 7",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "action": { "type": "select" } }),
            "no direction",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "action": { "type": "dance" } }),
            "unknown action",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "action": { "type": "finalize", "x": 1 } }),
            "finalize with extra",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "action": "finalize" }),
            "action a string",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "message": "a", "extra": true }),
            "unknown field",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "message": "a" }),
            "unknown session",
        ),
        (
            json!({ "session_id": ID_UNKNOWN, "message": "loli" }),
            "unsafe",
        ),
    ] {
        c.check(
            "POST",
            CONTINUE,
            what,
            &support::post(&u(CONTINUE), &b).await,
        );
    }
    c.check(
        "POST",
        CONTINUE,
        "not JSON",
        &post_raw(&u(CONTINUE), "nope").await,
    );
    c.check(
        "POST",
        CONTINUE,
        "17 KB body",
        &post_raw(&u(CONTINUE), vec![b' '; 17 * 1024]).await,
    );

    // Outside the operations: unknown paths and wrong methods.
    for p in [
        "/api/nope",
        "/api/",
        "/api/inspire/status/",
        "/api/tags/a/b",
    ] {
        c.check_component("NotFound", &format!("GET {p}"), &support::get(&u(p)).await);
    }
    for (m, p) in [
        (reqwest::Method::DELETE, "/api/health"),
        (reqwest::Method::GET, "/api/inspire/start"),
        (reqwest::Method::PUT, "/api/tags/long_hair"),
        (reqwest::Method::POST, "/api/inspire/session/abc"),
    ] {
        let g = send(client().request(m.clone(), u(p))).await;
        assert_eq!(g.status, 405, "{m} {p}: {}", g.text);
        assert!(g.header("allow").is_some());
        c.check_component("MethodNotAllowed", &format!("{m} {p}"), &g);
    }

    c.finish(true);
}

/// 401 (a token is configured), 429 (low start limit) and 502 (the model is unreachable),
/// also as a stream.
#[tokio::test(flavor = "multi_thread")]
async fn auth_rate_limit_and_upstream_errors_match_the_document() {
    // The model (and moderation) API refuses every call: the turn fails at once.
    let fake = FakeServer::start(|_| async {
        Reply::json(
            401,
            &json!({ "error": { "message": "bad key", "type": "invalid_request_error" } }),
        )
    })
    .await;
    let w = Worker::start(
        WorkerOptions::default()
            .var("INSPIRE_API_TOKEN", "t0ken")
            .var("OPENAI_API_KEY", "sk-test")
            .var("LLM_BASE_URL", fake.url.clone())
            .var("RATE_LIMIT_START_PER_MIN", "2")
            .var("RATE_LIMIT_CONTINUE_PER_MIN", "1000"),
    )
    .await;
    let c = contract(&w).await;
    let u = |p: &str| w.url(p);
    let auth = |r: reqwest::RequestBuilder| r.header("authorization", "Bearer t0ken");

    let g = support::get(&u("/api/health")).await;
    c.check("GET", "/api/health", "llm mode, no token needed", &g);
    assert_eq!(g.json["mode"], "llm", "{}", g.text);

    // Without the token.
    let status_path = format!("/api/inspire/status/{ID_UNKNOWN}");
    let session_path = format!("/api/inspire/session/{ID_UNKNOWN}");
    for (m, p, path, body) in [
        ("GET", "/api/tags/categories", "/api/tags/categories", None),
        ("GET", "/api/tags/search?q=a", "/api/tags/search", None),
        ("GET", "/api/tags/popular", "/api/tags/popular", None),
        ("GET", "/api/tags/long_hair", "/api/tags/{name}", None),
        (
            "POST",
            "/api/inspire/start",
            "/api/inspire/start",
            Some(json!({ "message": "a" })),
        ),
        (
            "POST",
            "/api/inspire/continue",
            "/api/inspire/continue",
            Some(json!({ "session_id": ID_UNKNOWN, "message": "a" })),
        ),
        (
            "POST",
            "/api/inspire/feedback",
            "/api/inspire/feedback",
            Some(json!({ "session_id": ID_UNKNOWN, "satisfaction": 1 })),
        ),
        (
            "GET",
            status_path.as_str(),
            "/api/inspire/status/{session_id}",
            None,
        ),
        (
            "DELETE",
            session_path.as_str(),
            "/api/inspire/session/{session_id}",
            None,
        ),
    ] {
        let mut req = client()
            .request(m.parse().unwrap(), u(p))
            .header("authorization", "Bearer wrong");
        if let Some(b) = &body {
            req = req.json(b);
        }
        let g = send(req).await;
        assert_eq!(g.status, 401, "{m} {p}: {}", g.text);
        assert_eq!(g.header("www-authenticate"), Some("Bearer"));
        c.check(m, path, "wrong token", &g);
    }
    let g = send(auth(client().get(u("/api/tags/categories")))).await;
    c.check("GET", "/api/tags/categories", "with the token", &g);
    assert_eq!(g.status, 200);

    // The model fails: 502, as JSON and as a stream; then the start limit: 429.
    let start = u("/api/inspire/start");
    let g = send(
        auth(client().post(&start).header("accept", "text/event-stream"))
            .json(&json!({ "message": "a quiet lake at dawn" })),
    )
    .await;
    c.check("POST", "/api/inspire/start", "model down, streamed", &g);
    let events = inspire::sse::parse(&g.text);
    assert!(events.iter().any(|e| e.0 == "error"), "{}", g.text);
    let g =
        send(auth(client().post(&start)).json(&json!({ "message": "a quiet lake at dawn" }))).await;
    c.check("POST", "/api/inspire/start", "model down", &g);
    assert_eq!(g.status, 502, "{}", g.text);
    assert_eq!(g.json["error"]["code"], "upstream_unavailable");
    let g =
        send(auth(client().post(&start)).json(&json!({ "message": "a quiet lake at dawn" }))).await;
    c.check("POST", "/api/inspire/start", "over the start limit", &g);
    assert_eq!(g.status, 429, "{}", g.text);
    assert!(g.header("retry-after").is_some());

    c.finish(false);
}

//! Self-tests of the fake upstreams (no Worker): each fake answers what the real service
//! answers and rejects what it rejects.

use crate::support::fake_openai::{
    chat_calls, chat_text, error_body, responses_calls, responses_raw_call, responses_text, Api,
    FakeOpenAi, Step,
};
use crate::support::fake_postgrest::{FakePostgrest, Fault};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
    json: Value,
}

async fn send(url: &str, key: Option<&str>, body: &str) -> Answer {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(k) = key {
        req = req.header("authorization", format!("Bearer {k}"));
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

async fn responses(f: &FakeOpenAi, body: Value) -> Answer {
    send(
        &format!("{}/responses", f.base_url()),
        Some("sk-test"),
        &body.to_string(),
    )
    .await
}

async fn chat(f: &FakeOpenAi, body: Value) -> Answer {
    send(
        &format!("{}/chat/completions", f.base_url()),
        Some("sk-test"),
        &body.to_string(),
    )
    .await
}

fn assert_openai_error(a: &Answer, status: u16, needle: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    let e = &a.json["error"];
    for k in ["message", "type", "param", "code"] {
        assert!(e.get(k).is_some(), "error body lacks {k}: {}", a.text);
    }
    assert!(
        e["message"].as_str().unwrap().contains(needle),
        "expected {needle:?} in {}",
        a.text
    );
}

fn weather_tool(strict: bool, params: Value) -> Value {
    json!({"type": "function", "name": "generate_ideas", "description": "d", "parameters": params, "strict": strict})
}

fn good_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "mood": {"type": "string"},
            "tags": {"type": "array", "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "weight": {"type": ["number", "null"]}},
                "required": ["name", "weight"],
                "additionalProperties": false
            }}
        },
        "required": ["mood", "tags"],
        "additionalProperties": false
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_replays_the_script_in_order_across_both_endpoints() {
    let f = FakeOpenAi::start(vec![
        Step::Reply(responses_text("one")),
        Step::Reply(chat_text("two")),
        Step::RetryAfter(429, 7),
        Step::Status(500, error_body("boom", "server_error", None, None)),
        Step::Garbage("<html>not json".into()),
        Step::Reply(responses_calls(&[
            ("generate_ideas", json!({"mood": "calm"})),
            ("search_tags", json!({"q": "sea"})),
        ])),
    ])
    .await;
    let req = json!({"model": "gpt-4o-mini", "input": "hi", "store": false});

    let a = responses(&f, req.clone()).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json["object"], "response");
    assert!(a.json["id"].as_str().unwrap().starts_with("resp_"));
    assert_eq!(a.json["status"], "completed");
    assert_eq!(a.json["model"], "gpt-4o-mini");
    let item = &a.json["output"][0];
    assert_eq!(item["type"], "message");
    assert!(item["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(item["role"], "assistant");
    assert_eq!(item["content"][0]["type"], "output_text");
    assert_eq!(item["content"][0]["text"], "one");
    assert_eq!(item["content"][0]["annotations"], json!([]));
    let u = &a.json["usage"];
    assert!(u["input_tokens"].as_u64().unwrap() > 0);
    assert_eq!(
        u["total_tokens"].as_u64().unwrap(),
        u["input_tokens"].as_u64().unwrap() + u["output_tokens"].as_u64().unwrap()
    );
    assert_eq!(u["input_tokens_details"]["cached_tokens"], 0);
    assert_eq!(u["output_tokens_details"]["reasoning_tokens"], 0);

    // Second step, asked by the Chat endpoint.
    let c = chat(
        &f,
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(c.status, 200, "{}", c.text);
    assert_eq!(c.json["object"], "chat.completion");
    assert!(c.json["id"].as_str().unwrap().starts_with("chatcmpl-"));
    assert_eq!(c.json["choices"][0]["message"]["content"], "two");
    assert_eq!(c.json["choices"][0]["finish_reason"], "stop");
    assert!(c.json["usage"]["prompt_tokens"].as_u64().unwrap() > 0);

    let r = responses(&f, req.clone()).await;
    assert_openai_error(&r, 429, "Rate limit");
    assert_eq!(r.headers.get("retry-after").unwrap(), "7");
    assert_eq!(r.json["error"]["code"], "rate_limit_exceeded");

    let s = chat(
        &f,
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_openai_error(&s, 500, "boom");

    let g = responses(&f, req.clone()).await;
    assert_eq!(g.status, 200);
    assert!(g.json.is_null() && g.text.contains("not json"));

    // A Responses body with parallel calls, asked for by Chat: converted.
    let c = chat(
        &f,
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let m = &c.json["choices"][0]["message"];
    assert_eq!(c.json["choices"][0]["finish_reason"], "tool_calls");
    assert!(m["content"].is_null());
    assert_eq!(m["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(m["tool_calls"][0]["type"], "function");
    assert_eq!(m["tool_calls"][0]["function"]["name"], "generate_ideas");
    let args: Value = serde_json::from_str(
        m["tool_calls"][0]["function"]["arguments"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(args, json!({"mood": "calm"}));

    // Exhausted: the default text, in each format.
    let d = responses(&f, req.clone()).await;
    assert_eq!(d.json["output"][0]["content"][0]["text"], "好的！");
    let d = chat(
        &f,
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(d.json["choices"][0]["message"]["content"], "好的！");

    assert_eq!(f.requests().len(), 8);
    assert!(f.violations().is_empty(), "{:?}", f.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_builders_match_the_wire_format() {
    let b = responses_calls(&[("a", json!({"x": 1})), ("b", json!({}))]);
    let calls = b["output"].as_array().unwrap();
    assert_eq!(calls.len(), 2);
    for c in calls {
        assert_eq!(c["type"], "function_call");
        assert!(c["id"].as_str().unwrap().starts_with("fc_"));
        assert!(c["call_id"].as_str().unwrap().starts_with("call_"));
        assert!(c["arguments"].is_string());
        assert_eq!(c["status"], "completed");
    }
    assert_ne!(calls[0]["call_id"], calls[1]["call_id"]);
    assert_eq!(calls[0]["arguments"], "{\"x\":1}");
    let raw = responses_raw_call("a", "{not json");
    assert_eq!(raw["output"][0]["arguments"], "{not json");
    let c = chat_calls(&[("a", json!({"x": 1}))]);
    let tc = &c["choices"][0]["message"]["tool_calls"][0];
    assert!(tc["id"].as_str().unwrap().starts_with("call_"));
    assert_eq!(tc["function"]["arguments"], "{\"x\":1}");
    assert_eq!(c["choices"][0]["finish_reason"], "tool_calls");
    assert!(c["choices"][0]["message"]["content"].is_null());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_responses_rejects_what_the_real_api_rejects() {
    let f = FakeOpenAi::start(vec![Step::Reply(responses_text("kept"))]).await;
    let base = json!({"model": "gpt-4o-mini", "input": "hi"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    let mut expected = 0;
    let mut rejected = |a: Answer, status: u16, needle: &str| {
        assert_openai_error(&a, status, needle);
        expected += 1;
    };

    rejected(
        responses(&f, with("temprature", json!(1))).await,
        400,
        "Unknown parameter: 'temprature'",
    );
    rejected(
        responses(&f, json!({"input": "hi"})).await,
        400,
        "Missing required parameter: 'model'",
    );
    rejected(
        responses(&f, json!({"model": "gpt-4o-mini"})).await,
        400,
        "'input'",
    );
    rejected(
        responses(&f, with("max_output_tokens", json!(8))).await,
        400,
        "max_output_tokens",
    );
    rejected(
        responses(&f, with("store", json!("yes"))).await,
        400,
        "store",
    );
    rejected(
        responses(&f, with("reasoning", json!({"effort": "low"}))).await,
        400,
        "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
    );
    // Reasoning is fine on o-series and gpt-5 models.
    let ok = responses(
        &f,
        json!({"model": "gpt-5-mini", "input": "hi", "reasoning": {"effort": "low"}}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.json["output"][0]["content"][0]["text"], "kept",
        "a rejection does not consume a step"
    );

    // Strict schemas: missing additionalProperties, then a nested required list lacking a key.
    let mut loose = good_schema();
    loose
        .as_object_mut()
        .unwrap()
        .remove("additionalProperties");
    rejected(
        responses(
            &f,
            with("tools", json!([weather_tool(true, loose.clone())])),
        )
        .await,
        400,
        "'additionalProperties' is required to be supplied and to be false",
    );
    let mut nested = good_schema();
    nested["properties"]["tags"]["items"]["required"] = json!(["name"]);
    rejected(
        responses(
            &f,
            with("tools", json!([weather_tool(true, nested.clone())])),
        )
        .await,
        400,
        "Missing 'weight'",
    );
    // The same schemas are fine without strict, and the good one with it.
    assert_eq!(
        responses(&f, with("tools", json!([weather_tool(false, nested)])))
            .await
            .status,
        200
    );
    assert_eq!(
        responses(
            &f,
            with("tools", json!([weather_tool(true, good_schema())]))
        )
        .await
        .status,
        200
    );
    rejected(
        responses(
            &f,
            with(
                "tools",
                json!([{"type": "function", "name": "bad name", "parameters": good_schema()}]),
            ),
        )
        .await,
        400,
        "tools[0].name",
    );
    let mut tc = with("tools", json!([weather_tool(true, good_schema())]));
    tc["tool_choice"] = json!({"type": "function", "name": "other"});
    rejected(responses(&f, tc).await, 400, "not found in 'tools'");
    let mut tc = with("tools", json!([weather_tool(true, good_schema())]));
    tc["tool_choice"] = json!({"type": "function", "name": "generate_ideas"});
    assert_eq!(responses(&f, tc).await.status, 200);

    // Tool call pairing within input.
    let call = json!({"type": "function_call", "call_id": "call_a", "name": "generate_ideas", "arguments": "{}"});
    let out = |id: &str| json!({"type": "function_call_output", "call_id": id, "output": "{\"ok\":true}"});
    let user = json!({"role": "user", "content": "hi"});
    rejected(
        responses(&f, with("input", json!([user, out("call_zzz")]))).await,
        400,
        "No tool call found for function call output with call_id call_zzz",
    );
    rejected(
        responses(&f, with("input", json!([user, out("call_a"), call]))).await,
        400,
        "No tool call found",
    );
    rejected(
        responses(&f, with("input", json!([user, call]))).await,
        400,
        "No tool output found for function call call_a",
    );
    rejected(
        responses(
            &f,
            with("input", json!([user, call, out("call_a"), out("call_a")])),
        )
        .await,
        400,
        "Duplicate",
    );
    let mut obj_args = call.clone();
    obj_args["arguments"] = json!({});
    rejected(
        responses(&f, with("input", json!([user, obj_args, out("call_a")]))).await,
        400,
        "expected a string",
    );
    rejected(
        responses(&f, with("input", json!([{"role": "tool", "content": "x"}]))).await,
        400,
        "Invalid value: 'tool'",
    );
    rejected(
        responses(
            &f,
            with(
                "input",
                json!([{"role": "assistant", "content": [{"type": "input_text", "text": "x"}]}]),
            ),
        )
        .await,
        400,
        "Invalid value: 'input_text'",
    );
    let good = responses(
        &f,
        with(
            "input",
            json!([
                {"role": "developer", "content": "be kind"},
                user,
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "ok", "annotations": []}]},
                {"type": "reasoning", "id": "rs_1", "summary": []},
                call,
                {"type": "function_call", "call_id": "call_b", "name": "x", "arguments": "{}"},
                out("call_b"),
                out("call_a")
            ]),
        ),
    )
    .await;
    assert_eq!(good.status, 200, "{}", good.text);

    // Transport-level rejections.
    let no_key = send(
        &format!("{}/responses", f.base_url()),
        None,
        &base.to_string(),
    )
    .await;
    assert_openai_error(&no_key, 401, "API key");
    expected += 1;
    let not_json = send(&format!("{}/responses", f.base_url()), Some("k"), "{nope").await;
    assert_openai_error(&not_json, 400, "could not parse the JSON body");
    expected += 1;

    assert_eq!(f.violations().len(), expected, "{:#?}", f.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_previous_response_id_needs_outputs_for_its_calls() {
    let f = FakeOpenAi::start(vec![
        Step::Reply(responses_calls(&[(
            "generate_ideas",
            json!({"mood": "calm"}),
        )])),
        Step::Reply(responses_text("done")),
    ])
    .await;
    let tools = json!([weather_tool(
        false,
        json!({"type": "object", "properties": {}})
    )]);
    let first = responses(
        &f,
        json!({"model": "gpt-4o-mini", "input": "hi", "tools": tools}),
    )
    .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let id = first.json["id"].as_str().unwrap().to_string();
    let call_id = first.json["output"][0]["call_id"]
        .as_str()
        .unwrap()
        .to_string();

    let missing = responses(
        &f,
        json!({"model": "gpt-4o-mini", "previous_response_id": id, "input": "next"}),
    )
    .await;
    assert_openai_error(
        &missing,
        400,
        &format!("No tool output found for function call {call_id}"),
    );
    let unknown = responses(
        &f,
        json!({"model": "gpt-4o-mini", "previous_response_id": "resp_nope", "input": "x"}),
    )
    .await;
    assert_openai_error(&unknown, 400, "not found");
    let ok = responses(
        &f,
        json!({"model": "gpt-4o-mini", "previous_response_id": id,
               "input": [{"type": "function_call_output", "call_id": call_id, "output": "{}"}]}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["output"][0]["content"][0]["text"], "done");
    assert_eq!(f.violations().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_chat_validates_tool_message_pairing_and_schemas() {
    let f = FakeOpenAi::start(vec![]).await;
    let tools = json!([{"type": "function", "function": {"name": "generate_ideas", "parameters": good_schema(), "strict": true}}]);
    let asst = json!({"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "generate_ideas", "arguments": "{}"}},
        {"id": "call_2", "type": "function", "function": {"name": "generate_ideas", "arguments": "{}"}}
    ]});
    let tool = |id: &str| json!({"role": "tool", "tool_call_id": id, "content": "ok"});
    let user = json!({"role": "user", "content": "hi"});
    let req = |messages: Value| json!({"model": "gpt-4o-mini", "messages": messages, "tools": tools, "tool_choice": "auto"});

    let ok = chat(&f, req(json!([{"role": "system", "content": "s"}, user, asst, tool("call_2"), tool("call_1"), user]))).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json["choices"][0]["message"]["role"], "assistant");

    assert_openai_error(
        &chat(&f, req(json!([user, asst, tool("call_1"), user]))).await,
        400,
        "call_2",
    );
    assert_openai_error(
        &chat(&f, req(json!([user, asst, tool("call_1")]))).await,
        400,
        "did not have response messages",
    );
    assert_openai_error(
        &chat(
            &f,
            req(json!([
                user,
                asst,
                tool("call_1"),
                tool("call_2"),
                tool("call_1")
            ])),
        )
        .await,
        400,
        "must be a response to a preceeding message with 'tool_calls'",
    );
    assert_openai_error(
        &chat(&f, req(json!([user, tool("call_9")]))).await,
        400,
        "preceeding",
    );
    assert_openai_error(&chat(&f, req(json!([]))).await, 400, "empty array");
    let mut extra = req(json!([user]));
    extra["functions"] = json!([]);
    assert_openai_error(
        &chat(&f, extra).await,
        400,
        "Unrecognized request argument supplied: functions",
    );
    let mut loose = good_schema();
    loose["required"] = json!(["mood"]);
    let bad_tools = json!({"model": "gpt-4o-mini", "messages": [user],
        "tools": [{"type": "function", "function": {"name": "g", "parameters": loose, "strict": true}}]});
    assert_openai_error(&chat(&f, bad_tools).await, 400, "Missing 'tags'");
    let mut choice = req(json!([user]));
    choice["tool_choice"] = json!({"type": "function", "function": {"name": "nope"}});
    assert_openai_error(&chat(&f, choice).await, 400, "tool_choice");
    let o = json!({"model": "o4-mini", "messages": [user], "max_tokens": 100});
    assert_openai_error(&chat(&f, o).await, 400, "max_completion_tokens");
    assert_eq!(f.violations().len(), 9, "{:#?}", f.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn openai_handler_hang_and_moderation() {
    let f = FakeOpenAi::with_handler(|body, api| {
        let n = body.to_string().len();
        match api {
            Api::Responses => Step::Reply(responses_text(&format!("r{n}"))),
            Api::Chat => Step::Hang(Duration::from_millis(300)),
        }
    })
    .await;
    let a = responses(&f, json!({"model": "gpt-4o-mini", "input": "hi"})).await;
    assert!(a.json["output"][0]["content"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with('r'));
    let t = Instant::now();
    let h = chat(
        &f,
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}]}),
    )
    .await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(h.status, 200);
    assert_eq!(h.json["choices"][0]["message"]["content"], "");

    let m = |input: Value| {
        let url = format!("{}/moderations", f.base_url());
        async move {
            send(
                &url,
                Some("k"),
                &json!({"model": "omni-moderation-latest", "input": input}).to_string(),
            )
            .await
        }
    };
    let clean = m(json!("a quiet sea")).await;
    assert_eq!(clean.status, 200, "{}", clean.text);
    assert_eq!(clean.json["results"][0]["flagged"], false);
    assert!(clean.json["results"][0]["categories"]["sexual"].is_boolean());
    assert!(clean.json["results"][0]["category_scores"]["violence"].is_number());
    f.set_moderation_flags(vec!["Forbidden".into()]);
    let flagged = m(json!(["fine", "something FORBIDDEN here"])).await;
    assert_eq!(flagged.json["results"][0]["flagged"], false);
    assert_eq!(flagged.json["results"][1]["flagged"], true);
    assert_eq!(flagged.json["results"][1]["categories"]["sexual"], true);
    assert_eq!(
        f.requests().len(),
        2,
        "moderation requests are not model requests"
    );
    assert_eq!(f.moderation_requests().len(), 2);
    assert!(f.violations().is_empty(), "{:?}", f.violations());
}

// ---------------------------------------------------------------------------------------------
// PostgREST

/// Percent-encodes everything but unreserved characters, as a careful client does.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A PostgREST list value: every element double-quoted with `"` and `\` escaped.
fn quoted_list(names: &[&str]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| format!("\"{}\"", n.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("({})", items.join(","))
}

async fn pg_get(
    pg: &FakePostgrest,
    query: &str,
    key: Option<&str>,
    bearer: Option<&str>,
) -> Answer {
    let mut req = reqwest::Client::new().get(format!("{}/rest/v1/tags_final?{query}", pg.url()));
    if let Some(k) = key {
        req = req.header("apikey", k);
    }
    if let Some(b) = bearer {
        req = req.header("authorization", format!("Bearer {b}"));
    }
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        text,
        json,
    }
}

async fn pg(pg: &FakePostgrest, query: &str) -> Answer {
    pg_get(
        pg,
        query,
        Some(FakePostgrest::KEY),
        Some(FakePostgrest::KEY),
    )
    .await
}

fn names(a: &Answer) -> Vec<String> {
    a.json
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {}", a.text))
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn assert_pgrst(a: &Answer, status: u16, code: &str) {
    assert_eq!(a.status, status, "{}", a.text);
    assert_eq!(a.json["code"], code, "{}", a.text);
    for k in ["code", "details", "hint", "message"] {
        assert!(a.json.get(k).is_some(), "no {k} in {}", a.text);
    }
}

const AWKWARD: &[&str] = &[
    "yorigami_shion_(cosplay)",
    ":d",
    "^_^",
    "\\m/",
    "\\\\m/",
    ";)",
    "star_(symbol)",
    "don't_say_\"lazy\"",
    "...",
    "'o'ne",
    "tharja_(\"normal_girl\")_(fire_emblem)",
];

#[tokio::test(flavor = "multi_thread")]
async fn postgrest_in_lists_with_quoted_reserved_names() {
    let p = FakePostgrest::start().await;
    let q = format!(
        "select=name,post_count,main_category&name=in.{}",
        enc(&quoted_list(AWKWARD))
    );
    let a = pg(&p, &q).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        a.headers.get("content-type").unwrap(),
        "application/json; charset=utf-8"
    );
    let mut got = names(&a);
    got.sort();
    let mut want: Vec<String> = AWKWARD.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(got, want);
    let d = a
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == ":d")
        .unwrap();
    assert_eq!(d["post_count"], 8795360);
    assert_eq!(d["main_category"], "ACTION_POSE");
    assert!(d.get("sub_category").is_none(), "only selected columns");
    let shion = a
        .json
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "yorigami_shion_(cosplay)")
        .unwrap();
    assert!(shion["main_category"].is_null(), "empty category is null");
    assert!(p.violations().is_empty(), "{:?}", p.violations());

    // Unquoted, the parenthesis ends the list early: PostgREST silently drops the rest.
    let a = pg(
        &p,
        &format!(
            "select=name&name=in.{}",
            enc("(1girl,yorigami_shion_(cosplay))")
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(
        names(&a),
        vec!["1girl"],
        "'yorigami_shion_(cosplay' matches nothing"
    );
    assert_eq!(
        p.violations().len(),
        1,
        "the ignored trailing text is flagged"
    );
    // A comma in an unquoted value splits it.
    let a = pg(
        &p,
        &format!("select=name&name=in.{}", enc("(a,b,c,d,e,f,g,h)")),
    )
    .await;
    assert_eq!(names(&a).len(), 0);
    // eq takes the whole rest of the value: no quoting needed (nor wanted).
    for name in [
        ":d",
        "\\m/",
        "^_^",
        ";)",
        "don't_say_\"lazy\"",
        "star_(symbol)",
    ] {
        let a = pg(&p, &format!("select=name&name=eq.{}", enc(name))).await;
        assert_eq!(names(&a), vec![name.to_string()], "eq.{name}");
    }
    let a = pg(&p, &format!("select=name&name=eq.{}", enc("\":d\""))).await;
    assert!(names(&a).is_empty(), "quotes are literal in eq");
    // '+' is a space in PostgREST's query parsing; %2B is a plus.
    let a = pg(&p, "select=name&name=eq.long+hair").await;
    assert!(names(&a).is_empty());
    let a = pg(&p, "select=name&name=in.(long_hair,%22long+hair%22)").await;
    assert_eq!(names(&a), vec!["long_hair"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgrest_ilike_or_and_ordering() {
    let p = FakePostgrest::start().await;
    // `*` is the wildcard; case-insensitive; `_` matches any one character.
    let a = pg(
        &p,
        &format!(
            "select=name,post_count&name=ilike.{}&order=post_count.desc&limit=5",
            enc("*LONG_HAIR*")
        ),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let n = names(&a);
    assert_eq!(n[0], "long_hair");
    assert_eq!(n.len(), 5);
    let counts: Vec<i64> = a
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["post_count"].as_i64().unwrap())
        .collect();
    assert!(counts.windows(2).all(|w| w[0] >= w[1]));
    assert!(n
        .iter()
        .all(|x| x.to_lowercase().contains("long") && x.contains("hair")));
    let a = pg(&p, "select=name&name=like.long_hai_").await;
    assert_eq!(names(&a), vec!["long_hair"]);
    let a = pg(&p, "select=name&name=like.Long_hair").await;
    assert!(names(&a).is_empty(), "like is case-sensitive");
    let a = pg(
        &p,
        &format!(
            "select=name&name=like.{}&limit=3&order=post_count.desc",
            enc("yorigami_shion*")
        ),
    )
    .await;
    assert!(names(&a).iter().all(|x| x.starts_with("yorigami_shion")) && !names(&a).is_empty());

    // or= with quoted values containing reserved characters.
    let or = format!("({},{})", "name.ilike.\"*shion_(cos*\"", "name.eq.\":d\"");
    let a = pg(&p, &format!("select=name&or={}&order=name.asc", enc(&or))).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let n = names(&a);
    assert!(
        n.contains(&":d".to_string()) && n.contains(&"yorigami_shion_(cosplay)".to_string()),
        "{n:?}"
    );
    let mut sorted = n.clone();
    sorted.sort();
    assert_eq!(n, sorted, "order=name.asc");
    assert!(p.violations().is_empty(), "{:?}", p.violations());
    let a = pg(
        &p,
        &format!(
            "select=name&or={}&limit=20",
            enc("(name.ilike.*sunset*,name.ilike.*seaside*)")
        ),
    )
    .await;
    assert!(
        names(&a)
            .iter()
            .all(|x| x.contains("sunset") || x.contains("seaside"))
            && names(&a).len() == 20
    );
    // Unquoted parenthesis inside or=: the tree closes early; flagged.
    let a = pg(
        &p,
        &format!(
            "select=name&or={}",
            enc("(name.eq.star_(symbol),name.eq.:d)")
        ),
    )
    .await;
    assert_eq!(a.status, 200);
    assert!(!names(&a).contains(&"star_(symbol)".to_string()));
    assert_eq!(p.violations().len(), 1, "{:?}", p.violations());

    // gte + main_category + order + limit + offset.
    let a = pg(&p, "select=name,post_count,main_category&post_count=gte.1000000&main_category=eq.ACTION_POSE&order=post_count.desc&limit=3&offset=1").await;
    let rows = a.json.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(rows
        .iter()
        .all(|r| r["main_category"] == "ACTION_POSE"
            && r["post_count"].as_i64().unwrap() >= 1_000_000));
    assert_eq!(a.headers.get("content-range").unwrap(), "1-3/*");
    let top = pg(&p, "select=name&post_count=gte.1000000&main_category=eq.ACTION_POSE&order=post_count.desc&limit=1").await;
    assert_ne!(
        names(&top)[0],
        rows[0]["name"].as_str().unwrap(),
        "offset skips the first"
    );
    let a = pg(&p, "select=name,post_count&order=post_count.desc&limit=1").await;
    assert_eq!(a.json, json!([{"name": "1girl", "post_count": 96138304}]));
    let a = pg(
        &p,
        "select=name&main_category=is.null&sub_category=is.null&limit=2",
    )
    .await;
    assert_eq!(names(&a).len(), 2);

    // A scan with a limit stops early and stays fast; a full ilike scan stays fast too.
    let t = Instant::now();
    for _ in 0..20 {
        let a = pg(
            &p,
            &format!(
                "select=name&name=ilike.{}&order=post_count.desc&limit=50",
                enc("*a*")
            ),
        )
        .await;
        assert_eq!(names(&a).len(), 50);
    }
    let full = pg(&p, &format!("select=name&name=ilike.{}", enc("*zzzq*"))).await;
    assert_eq!(full.status, 200);
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread")]
async fn postgrest_rejects_malformed_filters_bad_columns_and_keys() {
    let p = FakePostgrest::start().await;
    assert_pgrst(
        &pg(&p, &format!("name=in.{}", enc("(a,b"))).await,
        400,
        "PGRST100",
    );
    assert_pgrst(&pg(&p, "name=in.a,b").await, 400, "PGRST100");
    assert_pgrst(
        &pg(&p, &format!("or={}", enc("(name.eq.a"))).await,
        400,
        "PGRST100",
    );
    // Without parentheses PostgREST reads "orname.eq.a" as a filter on a column "orname".
    assert_pgrst(
        &pg(&p, &format!("or={}", enc("name.eq.a,name.eq.b"))).await,
        400,
        "42703",
    );
    assert_pgrst(
        &pg(&p, &format!("or={}", enc("name.eq.a"))).await,
        400,
        "42703",
    );
    assert_pgrst(
        &pg(&p, &format!("or={}", enc("(name.ilike.*a*,name.foo.b)"))).await,
        400,
        "PGRST100",
    );
    assert_pgrst(&pg(&p, "name=ilike").await, 400, "PGRST100");
    assert_pgrst(&pg(&p, "order=post_count.down").await, 400, "PGRST100");
    assert_pgrst(&pg(&p, "select=name,embedding").await, 400, "42703");
    assert_pgrst(&pg(&p, "danbooru_cat=eq.1").await, 400, "42703");
    assert_pgrst(&pg(&p, "post_count=gte.many").await, 400, "22P02");
    let malformed = pg(&p, &format!("name=in.{}", enc("(a,b"))).await;
    assert!(malformed.json["message"]
        .as_str()
        .unwrap()
        .contains("failed to parse filter"));
    assert!(malformed.json["hint"].is_null());

    // Keys.
    let none = pg_get(&p, "select=name&limit=1", None, Some(FakePostgrest::KEY)).await;
    assert_eq!(none.status, 401);
    assert!(none.json["message"]
        .as_str()
        .unwrap()
        .contains("No API key"));
    let wrong = pg_get(&p, "select=name&limit=1", Some("nope"), Some("nope")).await;
    assert_eq!(wrong.status, 401);
    assert_eq!(wrong.json["message"], "Invalid API key");
    let jwt = pg_get(
        &p,
        "select=name&limit=1",
        Some(FakePostgrest::KEY),
        Some("other"),
    )
    .await;
    assert_pgrst(&jwt, 401, "PGRST301");
    let jwt = pg_get(&p, "select=name&limit=1", Some(FakePostgrest::KEY), None).await;
    assert_pgrst(&jwt, 401, "PGRST301");
    // Other tables.
    let r = reqwest::Client::new()
        .get(format!("{}/rest/v1/tags?select=name", p.url()))
        .header("apikey", FakePostgrest::KEY)
        .header("authorization", format!("Bearer {}", FakePostgrest::KEY))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(p.violations().len(), 17, "{:#?}", p.violations());
    assert_eq!(p.requests().len(), 17);
}

#[tokio::test(flavor = "multi_thread")]
async fn postgrest_faults() {
    let p = FakePostgrest::start().await;
    let q = "select=name&name=eq.1girl";
    p.set_fault(Fault::Status(503));
    assert_eq!(pg(&p, q).await.status, 503);
    assert_eq!(pg(&p, q).await.status, 503, "a fault stays until changed");
    p.set_fault(Fault::Delay(Duration::from_millis(300)));
    let t = Instant::now();
    let a = pg(&p, q).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(names(&a), vec!["1girl"]);
    p.set_fault(Fault::Hang(Duration::from_millis(300)));
    let t = Instant::now();
    let a = pg(&p, q).await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(a.status, 504);
    p.set_fault(Fault::None);
    assert_eq!(names(&pg(&p, q).await), vec!["1girl"]);
    assert!(p.violations().is_empty());
}

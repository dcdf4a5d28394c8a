//! A scripted fake of the OpenAI API: `POST /v1/responses`, `POST /v1/chat/completions` and
//! `POST /v1/moderations`, speaking the real wire formats and rejecting (400, OpenAI's error
//! body) what the real API rejects: unknown parameters, malformed input items, tool calls
//! without outputs, outputs without calls, schemas that break strict mode, and so on. Every
//! rejection is also recorded in `violations()`, which tests assert is empty.
//!
//! Model calls are answered from one queue of `Step`s shared by both endpoints (a body built
//! for one endpoint is converted when the other asks), then by an optional handler, then by a
//! plain assistant text "好的！". A rejected request does not consume a step.

use super::fake::{FakeServer, Recorded, Reply};
use serde_json::{json, Map, Value};
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// One scripted answer to one model call.
#[derive(Debug, Clone)]
pub enum Step {
    /// A full response body answered with 200 (use the builders below). A Responses body sent
    /// to the Chat endpoint (or the reverse) is converted.
    Reply(Value),
    /// An error status with an OpenAI-style error body (see `error_body`).
    Status(u16, Value),
    /// This status (usually 429) with `Retry-After: N` seconds and an error body.
    RetryAfter(u16, u64),
    /// 200 with a body that is not JSON.
    Garbage(String),
    /// Waits this long, then answers 200 with an empty assistant message.
    Hang(Duration),
    /// Waits this long, then answers like `Reply` (a slow but valid model).
    Slow(Duration, Value),
}

/// Which endpoint a model request came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Responses,
    Chat,
}

type DynHandler = Arc<dyn Fn(&Value, Api) -> Step + Send + Sync>;

/// The model name builders put in bodies; the fake answers with the requested model instead.
pub const BUILDER_MODEL: &str = "gpt-4o-mini-2024-07-18";

/// The text answered once the script is exhausted.
pub const DEFAULT_TEXT: &str = "好的！";

const MODEL_PATHS: [&str; 2] = ["/v1/responses", "/v1/chat/completions"];

#[derive(Default)]
struct State {
    script: VecDeque<Step>,
    handler: Option<DynHandler>,
    violations: Vec<String>,
    /// (lower-cased word, moderation category)
    flags: Vec<(String, String)>,
    /// Stored Responses (store != false): id -> call_ids of the function calls in its output.
    stored: HashMap<String, Vec<String>>,
}

pub struct FakeOpenAi {
    pub server: FakeServer,
    state: Arc<Mutex<State>>,
}

impl FakeOpenAi {
    /// Replays `script` in order for both model endpoints, then answers "好的！".
    pub async fn start(script: Vec<Step>) -> FakeOpenAi {
        Self::start_with(State {
            script: script.into(),
            ..State::default()
        })
        .await
    }

    /// Answers every model call with `f(request body, endpoint)`.
    pub async fn with_handler(
        f: impl Fn(&Value, Api) -> Step + Send + Sync + 'static,
    ) -> FakeOpenAi {
        Self::start_with(State {
            handler: Some(Arc::new(f)),
            ..State::default()
        })
        .await
    }

    async fn start_with(state: State) -> FakeOpenAi {
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let server = FakeServer::start(move |rec: Recorded| {
            let state = shared.clone();
            async move { handle(&state, rec) }
        })
        .await;
        FakeOpenAi { server, state }
    }

    /// What `LLM_BASE_URL` is set to, e.g. `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("{}/v1", self.server.url)
    }

    /// Every model request received (Responses and Chat; not moderation), in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| MODEL_PATHS.contains(&r.path.as_str()))
            .collect()
    }

    /// Every moderation request received.
    pub fn moderation_requests(&self) -> Vec<Recorded> {
        self.server
            .requests()
            .into_iter()
            .filter(|r| r.path == "/v1/moderations")
            .collect()
    }

    /// Every request the fake rejected, as "METHOD /path: message".
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    /// Moderation flags (category "sexual") any input containing one of these words
    /// (case-insensitive). Replaces earlier flags. Default: nothing is flagged.
    pub fn set_moderation_flags(&self, words: Vec<String>) {
        self.set_moderation_rules(
            words
                .into_iter()
                .map(|w| (w, "sexual".to_string()))
                .collect(),
        );
    }

    /// Like `set_moderation_flags`, choosing the category per word, e.g. ("kill", "violence").
    pub fn set_moderation_rules(&self, rules: Vec<(String, String)>) {
        self.state.lock().unwrap().flags = rules
            .into_iter()
            .map(|(w, c)| (w.to_lowercase(), c))
            .collect();
    }

    /// Appends steps to the script (answered after those already queued).
    pub fn push(&self, steps: Vec<Step>) {
        self.state.lock().unwrap().script.extend(steps);
    }

    /// Steps not yet answered.
    pub fn remaining(&self) -> usize {
        self.state.lock().unwrap().script.len()
    }
}

// ---------------------------------------------------------------------------------------------
// Builders

static NEXT: AtomicU64 = AtomicU64::new(1);

fn next_n() -> u64 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A 48-hex-digit id with a prefix, as the real API issues ("resp_…", "msg_…").
fn long_id(prefix: &str) -> String {
    let n = next_n();
    let pid = std::process::id() as u64;
    format!(
        "{prefix}{:016x}{:016x}{:016x}",
        pid,
        n,
        n.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// An OpenAI-style error body.
pub fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

fn responses_body(output: Vec<Value>) -> Value {
    let out_tokens = 20 * output.len().max(1) as u64;
    json!({
        "id": long_id("resp_"),
        "object": "response",
        "created_at": now(),
        "status": "completed",
        "background": false,
        "error": null,
        "incomplete_details": null,
        "instructions": null,
        "max_output_tokens": null,
        "model": BUILDER_MODEL,
        "output": output,
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "service_tier": "default",
        "store": true,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": {
            "input_tokens": 0,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": out_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": out_tokens
        },
        "user": null,
        "metadata": {}
    })
}

fn message_item(text: &str) -> Value {
    json!({
        "type": "message",
        "id": long_id("msg_"),
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]
    })
}

fn call_item(name: &str, arguments: String) -> Value {
    let n = next_n();
    json!({
        "type": "function_call",
        "id": format!("fc_{n}"),
        "call_id": format!("call_{n}"),
        "name": name,
        "arguments": arguments,
        "status": "completed"
    })
}

/// A Responses API body with one assistant message.
pub fn responses_text(text: &str) -> Value {
    responses_body(vec![message_item(text)])
}

/// A Responses API body with one function call per entry (parallel calls); arguments are
/// serialised to a JSON string as the real API does; call ids are unique ("call_<n>").
pub fn responses_calls(calls: &[(&str, Value)]) -> Value {
    responses_body(
        calls
            .iter()
            .map(|(name, args)| call_item(name, args.to_string()))
            .collect(),
    )
}

/// A Responses API body with one function call whose arguments string is given verbatim
/// (it need not be valid JSON).
pub fn responses_raw_call(name: &str, raw_arguments: &str) -> Value {
    responses_body(vec![call_item(name, raw_arguments.to_string())])
}

/// A Responses API body with an assistant text and then function calls.
pub fn responses_text_and_calls(text: &str, calls: &[(&str, Value)]) -> Value {
    let mut output = vec![message_item(text)];
    output.extend(
        calls
            .iter()
            .map(|(name, args)| call_item(name, args.to_string())),
    );
    responses_body(output)
}

fn chat_body(content: Option<&str>, tool_calls: Vec<Value>) -> Value {
    let mut message =
        json!({"role": "assistant", "content": content, "refusal": null, "annotations": []});
    let finish = if tool_calls.is_empty() {
        "stop"
    } else {
        message["content"] = Value::Null;
        message["tool_calls"] = Value::Array(tool_calls.clone());
        "tool_calls"
    };
    let out_tokens = 20 * tool_calls.len().max(1) as u64;
    let n = next_n();
    json!({
        "id": format!("chatcmpl-{:029x}", (n as u128) << 40 | std::process::id() as u128),
        "object": "chat.completion",
        "created": now(),
        "model": BUILDER_MODEL,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": 0,
            "completion_tokens": out_tokens,
            "total_tokens": out_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0, "audio_tokens": 0,
                "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0
            }
        },
        "service_tier": "default",
        "system_fingerprint": "fp_fake0000"
    })
}

fn chat_call(name: &str, arguments: String) -> Value {
    json!({"id": format!("call_{}", next_n()), "type": "function", "function": {"name": name, "arguments": arguments}})
}

/// A `chat.completion` body with one assistant text.
pub fn chat_text(text: &str) -> Value {
    chat_body(Some(text), vec![])
}

/// A `chat.completion` body whose assistant message has tool calls (content null,
/// finish_reason "tool_calls").
pub fn chat_calls(calls: &[(&str, Value)]) -> Value {
    chat_body(
        None,
        calls
            .iter()
            .map(|(n, a)| chat_call(n, a.to_string()))
            .collect(),
    )
}

/// A `chat.completion` body with one tool call whose arguments string is given verbatim.
pub fn chat_raw_call(name: &str, raw_arguments: &str) -> Value {
    chat_body(None, vec![chat_call(name, raw_arguments.to_string())])
}

/// Converts a body built for one endpoint into the other's format (text and calls kept).
fn convert(body: Value, api: Api) -> Value {
    let is_responses = body["object"] == "response";
    let is_chat = body["object"] == "chat.completion";
    match api {
        Api::Chat if is_responses => {
            let mut text = String::new();
            let mut has_text = false;
            let mut calls = Vec::new();
            for item in body["output"].as_array().cloned().unwrap_or_default() {
                match item["type"].as_str() {
                    Some("message") => {
                        for part in item["content"].as_array().cloned().unwrap_or_default() {
                            if let Some(t) = part["text"].as_str() {
                                text.push_str(t);
                                has_text = true;
                            }
                        }
                    }
                    Some("function_call") => calls.push(json!({
                        "id": item["call_id"], "type": "function",
                        "function": {"name": item["name"], "arguments": item["arguments"]}
                    })),
                    _ => {}
                }
            }
            let mut out = chat_body(if has_text { Some(&text) } else { Some("") }, calls);
            out["model"] = body["model"].clone();
            out
        }
        Api::Responses if is_chat => {
            let msg = &body["choices"][0]["message"];
            let mut output = Vec::new();
            if let Some(t) = msg["content"].as_str() {
                output.push(message_item(t));
            }
            for c in msg["tool_calls"].as_array().cloned().unwrap_or_default() {
                let id = c["id"].as_str().unwrap_or("call_0").to_string();
                output.push(json!({
                    "type": "function_call",
                    "id": format!("fc_{}", id.trim_start_matches("call_")),
                    "call_id": id,
                    "name": c["function"]["name"],
                    "arguments": c["function"]["arguments"],
                    "status": "completed"
                }));
            }
            let mut out = responses_body(output);
            out["model"] = body["model"].clone();
            out
        }
        _ => body,
    }
}

// ---------------------------------------------------------------------------------------------
// Serving

/// A rejection: status, message, param, code.
struct ApiErr {
    status: u16,
    kind: &'static str,
    message: String,
    param: Option<String>,
    code: Option<String>,
}

fn invalid(message: impl Into<String>, param: Option<&str>, code: Option<&str>) -> ApiErr {
    ApiErr {
        status: 400,
        kind: "invalid_request_error",
        message: message.into(),
        param: param.map(str::to_string),
        code: code.map(str::to_string),
    }
}

fn reject(state: &Mutex<State>, rec: &Recorded, e: ApiErr) -> Reply {
    state
        .lock()
        .unwrap()
        .violations
        .push(format!("{} {}: {}", rec.method, rec.path, e.message));
    Reply::json(
        e.status,
        &error_body(&e.message, e.kind, e.param.as_deref(), e.code.as_deref()),
    )
}

fn handle(state: &Mutex<State>, rec: Recorded) -> Reply {
    let api = match (rec.method.as_str(), rec.path.as_str()) {
        ("POST", "/v1/responses") => Some(Api::Responses),
        ("POST", "/v1/chat/completions") => Some(Api::Chat),
        ("POST", "/v1/moderations") => None,
        (m, p) => {
            let mut e = invalid(format!("Invalid URL ({m} {p})"), None, None);
            e.status = 404;
            return reject(state, &rec, e);
        }
    };
    let auth_ok = rec
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .is_some_and(|k| !k.trim().is_empty());
    if !auth_ok {
        let mut e = invalid(
            "You didn't provide an API key. You need to provide your API key in an Authorization \
             header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            None,
            None,
        );
        e.status = 401;
        return reject(state, &rec, e);
    }
    if !rec.header("content-type").is_some_and(|c| {
        c.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    }) {
        return reject(
            state,
            &rec,
            invalid(
                "Unsupported content type: expected 'application/json'. We could not parse the JSON \
                 body of your request.",
                None,
                None,
            ),
        );
    }
    let body: Value = match serde_json::from_slice(&rec.body) {
        Ok(v) => v,
        Err(_) => {
            return reject(
                state,
                &rec,
                invalid(
                    "We could not parse the JSON body of your request. (HINT: This likely means you \
                     aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
                     but what was sent was not valid JSON.)",
                    None,
                    None,
                ),
            )
        }
    };
    let Some(api) = api else {
        return moderate(state, &rec, &body);
    };

    let checked = match api {
        Api::Responses => {
            let prev = {
                let st = state.lock().unwrap();
                match body.get("previous_response_id").and_then(Value::as_str) {
                    Some(id) => st.stored.get(id).cloned().ok_or(id.to_string()),
                    None => Ok(vec![]),
                }
            };
            match prev {
                Ok(prev_calls) => validate_responses(&body, &prev_calls),
                Err(id) => Err(invalid(
                    format!("Previous response with id '{id}' not found."),
                    Some("previous_response_id"),
                    Some("previous_response_not_found"),
                )),
            }
        }
        Api::Chat => validate_chat(&body),
    };
    if let Err(e) = checked {
        return reject(state, &rec, e);
    }

    // The next step: script first, then the handler, then the default text.
    let (scripted, handler) = {
        let mut st = state.lock().unwrap();
        let s = st.script.pop_front();
        (s, st.handler.clone())
    };
    let step = match (scripted, handler) {
        (Some(s), _) => s,
        (None, Some(h)) => h(&body, api),
        (None, None) => Step::Reply(responses_text(DEFAULT_TEXT)),
    };
    match step {
        Step::Reply(v) => Reply::json(200, &finish(state, &rec, &body, api, v)),
        Step::Slow(d, v) => Reply::json(200, &finish(state, &rec, &body, api, v)).after(d),
        Step::Status(code, v) => Reply::json(code, &v),
        Step::RetryAfter(code, secs) => {
            let b = if code == 429 {
                error_body(
                    &format!(
                        "Rate limit reached for {} in organization org-fake on requests per min \
                         (RPM): Limit 3, Used 3, Requested 1. Please try again in {secs}s.",
                        body["model"].as_str().unwrap_or("gpt")
                    ),
                    "requests",
                    None,
                    Some("rate_limit_exceeded"),
                )
            } else {
                error_body(
                    "The server is overloaded or not ready yet.",
                    "server_error",
                    None,
                    None,
                )
            };
            Reply::json(code, &b).with_header("retry-after", &secs.to_string())
        }
        Step::Garbage(s) => Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: s.into_bytes(),
            delay: Duration::ZERO,
        },
        Step::Hang(d) => {
            let v = match api {
                Api::Responses => responses_text(""),
                Api::Chat => chat_text(""),
            };
            Reply::json(200, &finish(state, &rec, &body, api, v)).after(d)
        }
    }
}

/// Fits a scripted body to the request: right format, fresh id, the requested model, usage
/// input tokens (≈ request bytes / 4) when the body left them 0; stores Responses.
fn finish(state: &Mutex<State>, rec: &Recorded, req: &Value, api: Api, body: Value) -> Value {
    let mut v = convert(body, api);
    let input_tokens = (rec.body.len() as u64 / 4).max(1);
    if v["model"] == BUILDER_MODEL {
        if let Some(m) = req["model"].as_str() {
            v["model"] = json!(m);
        }
    }
    match api {
        Api::Responses if v["object"] == "response" => {
            v["id"] = json!(long_id("resp_"));
            v["created_at"] = json!(now());
            for key in [
                "instructions",
                "max_output_tokens",
                "previous_response_id",
                "tool_choice",
                "tools",
                "parallel_tool_calls",
                "store",
                "metadata",
            ] {
                if let Some(x) = req.get(key) {
                    v[key] = x.clone();
                }
            }
            if v["usage"]["input_tokens"].as_u64() == Some(0) {
                v["usage"]["input_tokens"] = json!(input_tokens);
                let out = v["usage"]["output_tokens"].as_u64().unwrap_or(0);
                v["usage"]["total_tokens"] = json!(input_tokens + out);
            }
            if req.get("store") != Some(&Value::Bool(false)) {
                let calls = v["output"]
                    .as_array()
                    .map(|items| {
                        items
                            .iter()
                            .filter(|i| i["type"] == "function_call")
                            .filter_map(|i| i["call_id"].as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default();
                let id = v["id"].as_str().unwrap_or_default().to_string();
                state.lock().unwrap().stored.insert(id, calls);
            }
        }
        Api::Chat if v["object"] == "chat.completion" => {
            v["id"] = json!(format!("chatcmpl-{:029x}", next_n() as u128 * 7919));
            v["created"] = json!(now());
            if v["usage"]["prompt_tokens"].as_u64() == Some(0) {
                v["usage"]["prompt_tokens"] = json!(input_tokens);
                let out = v["usage"]["completion_tokens"].as_u64().unwrap_or(0);
                v["usage"]["total_tokens"] = json!(input_tokens + out);
            }
        }
        _ => {}
    }
    v
}

// ---------------------------------------------------------------------------------------------
// Validation helpers

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "an integer",
        Value::Number(_) => "a decimal",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn bad_type(param: &str, expected: &str, got: &Value) -> ApiErr {
    invalid(
        format!(
            "Invalid type for '{param}': expected {expected}, but got {} instead.",
            type_name(got)
        ),
        Some(param),
        Some("invalid_type"),
    )
}

fn missing(param: &str) -> ApiErr {
    invalid(
        format!("Missing required parameter: '{param}'."),
        Some(param),
        Some("missing_required_parameter"),
    )
}

fn unknown(param: &str) -> ApiErr {
    invalid(
        format!("Unknown parameter: '{param}'."),
        Some(param),
        Some("unknown_parameter"),
    )
}

fn bad_value(param: &str, got: &str, supported: &[&str]) -> ApiErr {
    let list = supported
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>();
    let list = match list.len() {
        0 => String::new(),
        1 => list[0].clone(),
        n => format!("{}, and {}", list[..n - 1].join(", "), list[n - 1]),
    };
    invalid(
        format!("Invalid value: '{got}'. Supported values are: {list}."),
        Some(param),
        Some("invalid_value"),
    )
}

fn want_str<'a>(obj: &'a Map<String, Value>, key: &str, param: &str) -> Result<&'a str, ApiErr> {
    match obj.get(key) {
        None => Err(missing(param)),
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(bad_type(param, "a string", other)),
    }
}

fn opt_type(
    obj: &Map<String, Value>,
    key: &str,
    expected: &str,
    ok: fn(&Value) -> bool,
) -> Result<(), ApiErr> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if ok(v) => Ok(()),
        Some(v) => Err(bad_type(key, expected, v)),
    }
}

fn is_int(v: &Value) -> bool {
    v.is_i64() || v.is_u64()
}

fn only_keys(obj: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), ApiErr> {
    match obj.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(unknown(&format!("{at}.{k}"))),
        None => Ok(()),
    }
}

fn is_reasoning_model(model: &str) -> bool {
    (model.starts_with('o') && model[1..].starts_with(|c: char| c.is_ascii_digit()))
        || (model.starts_with("gpt-5") && !model.starts_with("gpt-5-chat"))
}

fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Checks a function's `parameters`; with `strict`, OpenAI's strict-mode rules.
/// One function definition (name, description, strict, parameters) as both APIs check it;
/// `at` is where it sits in the request. Only the wording of a duplicate differs by API.
fn check_function(
    f: &Map<String, Value>,
    at: &str,
    declared: &mut Vec<String>,
    api: Api,
) -> Result<(), ApiErr> {
    let name = want_str(f, "name", &format!("{at}.name"))?;
    if !valid_name(name) {
        return Err(invalid(
            format!("Invalid '{at}.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'."),
            Some(&format!("{at}.name")),
            Some("invalid_value"),
        ));
    }
    if declared.iter().any(|d| d == name) {
        return Err(match api {
            Api::Responses => invalid(
                format!("Duplicate tool name: '{name}'. Tool names must be unique."),
                Some("tools"),
                Some("invalid_value"),
            ),
            Api::Chat => invalid(
                format!("Duplicate tool name: '{name}'."),
                Some("tools"),
                None,
            ),
        });
    }
    if let Some(d) = f
        .get("description")
        .filter(|d| !d.is_null() && !d.is_string())
    {
        return Err(bad_type(&format!("{at}.description"), "a string", d));
    }
    let strict = match f.get("strict") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(v) => return Err(bad_type(&format!("{at}.strict"), "a boolean", v)),
    };
    check_parameters(
        name,
        f.get("parameters"),
        strict,
        &format!("{at}.parameters"),
    )?;
    declared.push(name.to_string());
    Ok(())
}

fn check_parameters(
    fname: &str,
    params: Option<&Value>,
    strict: bool,
    param: &str,
) -> Result<(), ApiErr> {
    let schema_err = |msg: String| {
        invalid(
            format!("Invalid schema for function '{fname}': {msg}"),
            Some(param),
            Some("invalid_function_parameters"),
        )
    };
    let params = match params {
        None | Some(Value::Null) => {
            if strict {
                return Err(schema_err("strict mode requires 'parameters'.".into()));
            }
            return Ok(());
        }
        Some(p) => p,
    };
    let Some(obj) = params.as_object() else {
        return Err(bad_type(param, "an object", params));
    };
    let ty = obj
        .get("type")
        .map(|t| t.to_string())
        .unwrap_or_else(|| "None".into());
    if obj.get("type") != Some(&json!("object")) {
        return Err(schema_err(format!(
            "schema must be a JSON Schema of 'type: \"object\"', got 'type: {ty}'."
        )));
    }
    if strict {
        strict_walk(params, &mut Vec::new()).map_err(schema_err)?;
    }
    Ok(())
}

fn is_object_schema(s: &Map<String, Value>) -> bool {
    match s.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(ts)) => ts.iter().any(|t| t == "object"),
        _ => s.contains_key("properties"),
    }
}

fn strict_walk(schema: &Value, ctx: &mut Vec<String>) -> Result<(), String> {
    let Some(s) = schema.as_object() else {
        return Ok(());
    };
    let context = format!(
        "In context=({})",
        ctx.iter()
            .map(|c| format!("'{c}'"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if is_object_schema(s) {
        if s.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Err(format!(
                "{context}, 'additionalProperties' is required to be supplied and to be false."
            ));
        }
        let props: Vec<String> = s
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        let required: Vec<String> = match s.get("required") {
            Some(Value::Array(r)) => r
                .iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect(),
            None if props.is_empty() => vec![],
            _ => {
                return Err(format!(
                    "{context}, 'required' is required to be supplied and to be an array including \
                     every key in properties."
                ))
            }
        };
        if let Some(m) = props.iter().find(|p| !required.contains(p)) {
            return Err(format!(
                "{context}, 'required' is required to be supplied and to be an array including \
                 every key in properties. Missing '{m}'."
            ));
        }
        if let Some(x) = required.iter().find(|r| !props.contains(r)) {
            return Err(format!(
                "{context}, 'required' includes an extra key '{x}' not in properties."
            ));
        }
        if let Some(p) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in p {
                ctx.push("properties".into());
                ctx.push(k.clone());
                strict_walk(sub, ctx)?;
                ctx.truncate(ctx.len() - 2);
            }
        }
    }
    match s.get("items") {
        Some(Value::Array(items)) => {
            for (i, it) in items.iter().enumerate() {
                ctx.push("items".into());
                ctx.push(i.to_string());
                strict_walk(it, ctx)?;
                ctx.truncate(ctx.len() - 2);
            }
        }
        Some(it) => {
            ctx.push("items".into());
            strict_walk(it, ctx)?;
            ctx.pop();
        }
        None => {}
    }
    for key in ["anyOf", "allOf", "oneOf", "prefixItems"] {
        if let Some(list) = s.get(key).and_then(Value::as_array) {
            for (i, sub) in list.iter().enumerate() {
                ctx.push(key.into());
                ctx.push(i.to_string());
                strict_walk(sub, ctx)?;
                ctx.truncate(ctx.len() - 2);
            }
        }
    }
    for key in ["$defs", "definitions"] {
        if let Some(defs) = s.get(key).and_then(Value::as_object) {
            for (k, sub) in defs {
                ctx.push(key.into());
                ctx.push(k.clone());
                strict_walk(sub, ctx)?;
                ctx.truncate(ctx.len() - 2);
            }
        }
    }
    Ok(())
}

/// temperature / top_p checks shared by both endpoints.
fn check_sampling(obj: &Map<String, Value>, model: &str) -> Result<(), ApiErr> {
    for (key, max) in [("temperature", 2.0), ("top_p", 1.0)] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let Some(x) = v.as_f64() else {
                    return Err(bad_type(key, "a decimal", v));
                };
                if !(0.0..=max).contains(&x) {
                    return Err(invalid(
                        format!("Invalid '{key}': decimal above maximum value. Expected a value <= {max}, but got {x} instead."),
                        Some(key),
                        Some("decimal_above_max_value"),
                    ));
                }
                if is_reasoning_model(model) && x != 1.0 {
                    return Err(invalid(
                        format!("Unsupported value: '{key}' does not support {x} with this model. Only the default (1) value is supported."),
                        Some(key),
                        Some("unsupported_value"),
                    ));
                }
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Responses API

const RESPONSES_FIELDS: &[&str] = &[
    "model",
    "input",
    "instructions",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_output_tokens",
    "store",
    "reasoning",
    "temperature",
    "top_p",
    "text",
    "metadata",
    "user",
    "previous_response_id",
    "truncation",
    "stream",
    "include",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
];

const BUILTIN_TOOLS: &[&str] = &[
    "web_search",
    "web_search_preview",
    "file_search",
    "code_interpreter",
    "image_generation",
    "mcp",
    "computer_use_preview",
    "local_shell",
    "custom",
];

fn validate_responses(body: &Value, prev_calls: &[String]) -> Result<(), ApiErr> {
    let Some(obj) = body.as_object() else {
        return Err(invalid(
            "The request body must be a JSON object.",
            None,
            None,
        ));
    };
    if let Some(k) = obj.keys().find(|k| !RESPONSES_FIELDS.contains(&k.as_str())) {
        return Err(unknown(k));
    }
    let model = want_str(obj, "model", "model")?;
    if model.is_empty() {
        return Err(missing("model"));
    }
    if obj.get("stream") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "fake: 'stream': true is not supported by the fake",
            Some("stream"),
            None,
        ));
    }
    opt_type(obj, "instructions", "a string", Value::is_string)?;
    opt_type(obj, "store", "a boolean", Value::is_boolean)?;
    opt_type(obj, "parallel_tool_calls", "a boolean", Value::is_boolean)?;
    opt_type(obj, "previous_response_id", "a string", Value::is_string)?;
    opt_type(obj, "user", "a string", Value::is_string)?;
    opt_type(obj, "prompt_cache_key", "a string", Value::is_string)?;
    opt_type(obj, "safety_identifier", "a string", Value::is_string)?;
    opt_type(obj, "text", "an object", Value::is_object)?;
    opt_type(obj, "metadata", "an object", Value::is_object)?;
    opt_type(obj, "include", "an array", Value::is_array)?;
    if let Some(t) = obj.get("truncation").filter(|t| !t.is_null()) {
        match t.as_str() {
            Some("auto" | "disabled") => {}
            Some(other) => return Err(bad_value("truncation", other, &["auto", "disabled"])),
            None => return Err(bad_type("truncation", "a string", t)),
        }
    }
    if let Some(m) = obj.get("max_output_tokens").filter(|m| !m.is_null()) {
        if !is_int(m) {
            return Err(bad_type("max_output_tokens", "an integer", m));
        }
        if m.as_i64().unwrap_or(i64::MAX) < 16 {
            return Err(invalid(
                format!("Invalid 'max_output_tokens': integer below minimum value. Expected a value >= 16, but got {m} instead."),
                Some("max_output_tokens"),
                Some("integer_below_min_value"),
            ));
        }
    }
    check_sampling(obj, model)?;
    if let Some(r) = obj.get("reasoning").filter(|r| !r.is_null()) {
        let Some(ro) = r.as_object() else {
            return Err(bad_type("reasoning", "an object", r));
        };
        if !(model.starts_with('o') || model.starts_with("gpt-5")) {
            return Err(invalid(
                "Unsupported parameter: 'reasoning.effort' is not supported with this model.",
                Some("reasoning.effort"),
                Some("unsupported_parameter"),
            ));
        }
        only_keys(ro, &["effort", "summary", "generate_summary"], "reasoning")?;
        if let Some(e) = ro.get("effort").filter(|e| !e.is_null()) {
            let ok = ["none", "minimal", "low", "medium", "high", "xhigh"];
            match e.as_str() {
                Some(s) if ok.contains(&s) => {}
                _ => return Err(bad_value("reasoning.effort", &e.to_string(), &ok)),
            }
        }
    }

    // tools
    let mut declared: Vec<String> = Vec::new();
    if let Some(tools) = obj.get("tools").filter(|t| !t.is_null()) {
        let Some(tools) = tools.as_array() else {
            return Err(bad_type("tools", "an array", tools));
        };
        for (i, tool) in tools.iter().enumerate() {
            let at = format!("tools[{i}]");
            let Some(t) = tool.as_object() else {
                return Err(bad_type(&at, "an object", tool));
            };
            let ty = want_str(t, "type", &format!("{at}.type"))?;
            if ty != "function" {
                if BUILTIN_TOOLS.contains(&ty) {
                    continue;
                }
                let mut all = vec!["function"];
                all.extend(BUILTIN_TOOLS);
                return Err(bad_value(&format!("{at}.type"), ty, &all));
            }
            only_keys(
                t,
                &["type", "name", "description", "parameters", "strict"],
                &at,
            )?;
            check_function(t, &at, &mut declared, Api::Responses)?;
        }
    }
    if let Some(tc) = obj.get("tool_choice").filter(|t| !t.is_null()) {
        match tc {
            Value::String(s) => match s.as_str() {
                "auto" | "none" => {}
                "required" => {
                    if obj
                        .get("tools")
                        .and_then(Value::as_array)
                        .is_none_or(|t| t.is_empty())
                    {
                        return Err(invalid(
                            "Tool choice 'required' must be specified with 'tools' parameter.",
                            Some("tool_choice"),
                            None,
                        ));
                    }
                }
                other => {
                    return Err(bad_value(
                        "tool_choice",
                        other,
                        &["none", "auto", "required"],
                    ))
                }
            },
            Value::Object(o) => {
                if o.get("type") == Some(&json!("function")) {
                    only_keys(o, &["type", "name"], "tool_choice")?;
                    let name = want_str(o, "name", "tool_choice.name")?;
                    if !declared.iter().any(|d| d == name) {
                        return Err(invalid(
                            format!("Tool choice 'function' named '{name}' not found in 'tools' parameter."),
                            Some("tool_choice"),
                            None,
                        ));
                    }
                } else if o.get("type") != Some(&json!("allowed_tools"))
                    && !o
                        .get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| BUILTIN_TOOLS.contains(&t))
                {
                    return Err(bad_value(
                        "tool_choice.type",
                        o.get("type").and_then(Value::as_str).unwrap_or("null"),
                        &["function", "allowed_tools"],
                    ));
                }
            }
            other => return Err(bad_type("tool_choice", "a string or an object", other)),
        }
    }

    // input
    let input = obj.get("input").ok_or_else(|| missing("input"))?;
    match input {
        Value::String(_) => {
            if let Some(c) = prev_calls.first() {
                return Err(no_output(c));
            }
            Ok(())
        }
        Value::Array(items) => validate_input_items(items, prev_calls),
        other => Err(bad_type("input", "a string or an array", other)),
    }
}

fn no_output(call_id: &str) -> ApiErr {
    invalid(
        format!("No tool output found for function call {call_id}."),
        Some("input"),
        None,
    )
}

fn validate_input_items(items: &[Value], prev_calls: &[String]) -> Result<(), ApiErr> {
    // call_id -> answered?
    let mut calls: Vec<(String, bool)> = prev_calls.iter().map(|c| (c.clone(), false)).collect();
    for (i, item) in items.iter().enumerate() {
        let at = format!("input[{i}]");
        let Some(o) = item.as_object() else {
            return Err(bad_type(&at, "an object", item));
        };
        let ty = match o.get("type") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(v) => return Err(bad_type(&format!("{at}.type"), "a string", v)),
        };
        match ty {
            None | Some("message") => validate_message_item(o, &at)?,
            Some("function_call") => {
                only_keys(
                    o,
                    &["type", "id", "call_id", "name", "arguments", "status"],
                    &at,
                )?;
                let call_id = want_str(o, "call_id", &format!("{at}.call_id"))?;
                want_str(o, "name", &format!("{at}.name"))?;
                want_str(o, "arguments", &format!("{at}.arguments"))?;
                if calls.iter().any(|(c, _)| c == call_id) {
                    return Err(invalid(
                        format!("Duplicate value for '{at}.call_id': a function call with call_id {call_id} already exists."),
                        Some(&format!("{at}.call_id")),
                        Some("invalid_value"),
                    ));
                }
                calls.push((call_id.to_string(), false));
            }
            Some("function_call_output") => {
                only_keys(o, &["type", "id", "call_id", "output", "status"], &at)?;
                let call_id = want_str(o, "call_id", &format!("{at}.call_id"))?;
                match o.get("output") {
                    None => return Err(missing(&format!("{at}.output"))),
                    Some(Value::String(_) | Value::Array(_)) => {}
                    Some(v) => return Err(bad_type(&format!("{at}.output"), "a string", v)),
                }
                match calls.iter_mut().find(|(c, _)| c == call_id) {
                    None => {
                        return Err(invalid(
                            format!(
                            "No tool call found for function call output with call_id {call_id}."
                        ),
                            Some("input"),
                            None,
                        ))
                    }
                    Some((_, answered)) if *answered => {
                        return Err(invalid(
                            format!("Duplicate function call output for call_id {call_id}."),
                            Some("input"),
                            None,
                        ))
                    }
                    Some((_, answered)) => *answered = true,
                }
            }
            Some("reasoning") => {
                only_keys(
                    o,
                    &[
                        "type",
                        "id",
                        "summary",
                        "encrypted_content",
                        "content",
                        "status",
                    ],
                    &at,
                )?;
                match o.get("summary") {
                    Some(Value::Array(_)) => {}
                    None => return Err(missing(&format!("{at}.summary"))),
                    Some(v) => return Err(bad_type(&format!("{at}.summary"), "an array", v)),
                }
            }
            Some("item_reference") => {
                only_keys(o, &["type", "id"], &at)?;
                want_str(o, "id", &format!("{at}.id"))?;
            }
            Some(other) => {
                return Err(bad_value(
                    &format!("{at}.type"),
                    other,
                    &[
                        "message",
                        "function_call",
                        "function_call_output",
                        "reasoning",
                        "item_reference",
                    ],
                ))
            }
        }
    }
    if let Some((c, _)) = calls.iter().find(|(_, answered)| !answered) {
        return Err(no_output(c));
    }
    Ok(())
}

fn validate_message_item(o: &Map<String, Value>, at: &str) -> Result<(), ApiErr> {
    only_keys(o, &["type", "role", "content", "id", "status"], at)?;
    let role = want_str(o, "role", &format!("{at}.role"))?;
    let roles = ["assistant", "system", "developer", "user"];
    if !roles.contains(&role) {
        return Err(bad_value(&format!("{at}.role"), role, &roles));
    }
    let content = o
        .get("content")
        .ok_or_else(|| missing(&format!("{at}.content")))?;
    match content {
        Value::String(_) => Ok(()),
        Value::Array(parts) => {
            let allowed: &[&str] = if role == "assistant" {
                &["output_text", "refusal"]
            } else {
                &["input_text", "input_image", "input_file"]
            };
            for (j, part) in parts.iter().enumerate() {
                let pat = format!("{at}.content[{j}]");
                let Some(p) = part.as_object() else {
                    return Err(bad_type(&pat, "an object", part));
                };
                let ty = want_str(p, "type", &format!("{pat}.type"))?;
                if !allowed.contains(&ty) {
                    return Err(bad_value(&format!("{pat}.type"), ty, allowed));
                }
                match ty {
                    "input_text" => {
                        only_keys(p, &["type", "text"], &pat)?;
                        want_str(p, "text", &format!("{pat}.text"))?;
                    }
                    "output_text" => {
                        only_keys(p, &["type", "text", "annotations", "logprobs"], &pat)?;
                        want_str(p, "text", &format!("{pat}.text"))?;
                    }
                    "refusal" => {
                        only_keys(p, &["type", "refusal"], &pat)?;
                        want_str(p, "refusal", &format!("{pat}.refusal"))?;
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        other => Err(bad_type(
            &format!("{at}.content"),
            "a string or an array",
            other,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Chat Completions

const CHAT_FIELDS: &[&str] = &[
    "model",
    "messages",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "max_tokens",
    "max_completion_tokens",
    "temperature",
    "top_p",
    "n",
    "stop",
    "stream",
    "response_format",
    "user",
    "seed",
    "reasoning_effort",
    "store",
    "metadata",
    "service_tier",
];

fn chat_extra(at: &str, key: &str) -> ApiErr {
    invalid(
        format!("Additional properties are not allowed ('{key}' was unexpected) - '{at}'"),
        None,
        None,
    )
}

fn chat_only_keys(o: &Map<String, Value>, known: &[&str], at: &str) -> Result<(), ApiErr> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(chat_extra(at, k)),
        None => Ok(()),
    }
}

fn validate_chat(body: &Value) -> Result<(), ApiErr> {
    let Some(obj) = body.as_object() else {
        return Err(invalid(
            "The request body must be a JSON object.",
            None,
            None,
        ));
    };
    if let Some(k) = obj.keys().find(|k| !CHAT_FIELDS.contains(&k.as_str())) {
        return Err(invalid(
            format!("Unrecognized request argument supplied: {k}"),
            None,
            None,
        ));
    }
    let model = want_str(obj, "model", "model")?;
    if model.is_empty() {
        return Err(missing("model"));
    }
    if obj.get("stream") == Some(&Value::Bool(true)) {
        return Err(invalid(
            "fake: 'stream': true is not supported by the fake",
            Some("stream"),
            None,
        ));
    }
    for key in ["max_tokens", "max_completion_tokens", "n", "seed"] {
        opt_type(obj, key, "an integer", is_int)?;
    }
    if is_reasoning_model(model) && obj.get("max_tokens").is_some_and(|m| !m.is_null()) {
        return Err(invalid(
            "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
            Some("max_tokens"),
            Some("unsupported_parameter"),
        ));
    }
    for key in ["max_tokens", "max_completion_tokens"] {
        if obj.get(key).and_then(Value::as_i64).is_some_and(|m| m < 1) {
            return Err(invalid(
                format!("Invalid '{key}': integer below minimum value. Expected a value >= 1."),
                Some(key),
                Some("integer_below_min_value"),
            ));
        }
    }
    if let Some(e) = obj.get("reasoning_effort").filter(|e| !e.is_null()) {
        if !is_reasoning_model(model) {
            return Err(invalid(
                "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
                Some("reasoning_effort"),
                Some("unsupported_parameter"),
            ));
        }
        let ok = ["none", "minimal", "low", "medium", "high", "xhigh"];
        if !e.as_str().is_some_and(|s| ok.contains(&s)) {
            return Err(bad_value("reasoning_effort", &e.to_string(), &ok));
        }
    }
    check_sampling(obj, model)?;
    opt_type(obj, "store", "a boolean", Value::is_boolean)?;
    opt_type(obj, "parallel_tool_calls", "a boolean", Value::is_boolean)?;
    opt_type(obj, "response_format", "an object", Value::is_object)?;
    opt_type(obj, "metadata", "an object", Value::is_object)?;
    opt_type(obj, "user", "a string", Value::is_string)?;

    let mut declared: Vec<String> = Vec::new();
    if let Some(tools) = obj.get("tools").filter(|t| !t.is_null()) {
        let Some(tools) = tools.as_array() else {
            return Err(bad_type("tools", "an array", tools));
        };
        for (i, tool) in tools.iter().enumerate() {
            let at = format!("tools[{i}]");
            let Some(t) = tool.as_object() else {
                return Err(bad_type(&at, "an object", tool));
            };
            chat_only_keys(t, &["type", "function"], &format!("tools.{i}"))?;
            let ty = want_str(t, "type", &format!("{at}.type"))?;
            if ty != "function" {
                return Err(bad_value(&format!("{at}.type"), ty, &["function"]));
            }
            let f = t
                .get("function")
                .ok_or_else(|| missing(&format!("{at}.function")))?;
            let Some(f) = f.as_object() else {
                return Err(bad_type(&format!("{at}.function"), "an object", f));
            };
            chat_only_keys(
                f,
                &["name", "description", "parameters", "strict"],
                &format!("tools.{i}.function"),
            )?;
            check_function(f, &format!("{at}.function"), &mut declared, Api::Chat)?;
        }
    }
    if let Some(tc) = obj.get("tool_choice").filter(|t| !t.is_null()) {
        match tc {
            Value::String(s) => match s.as_str() {
                "auto" | "none" => {}
                "required" => {
                    if declared.is_empty() {
                        return Err(invalid(
                            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
                            Some("tool_choice"),
                            None,
                        ));
                    }
                }
                other => {
                    return Err(bad_value(
                        "tool_choice",
                        other,
                        &["none", "auto", "required"],
                    ))
                }
            },
            Value::Object(o) => {
                chat_only_keys(o, &["type", "function"], "tool_choice")?;
                if o.get("type") != Some(&json!("function")) {
                    return Err(bad_value(
                        "tool_choice.type",
                        &o.get("type").map(|t| t.to_string()).unwrap_or_default(),
                        &["function"],
                    ));
                }
                let name = o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str)
                    .ok_or_else(|| missing("tool_choice.function.name"))?;
                if !declared.iter().any(|d| d == name) {
                    return Err(invalid(
                        format!("Invalid value for 'tool_choice': function '{name}' is not among the declared tools."),
                        Some("tool_choice"),
                        None,
                    ));
                }
            }
            other => return Err(bad_type("tool_choice", "a string or an object", other)),
        }
    }

    let messages = obj.get("messages").ok_or_else(|| missing("messages"))?;
    let Some(messages) = messages.as_array() else {
        return Err(bad_type("messages", "an array", messages));
    };
    if messages.is_empty() {
        return Err(invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    let mut pending: Vec<String> = Vec::new();
    let mut seen_calls: HashSet<String> = HashSet::new();
    let missing_responses = |pending: &[String]| {
        invalid(
            format!(
                "An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: {}",
                pending.join(", ")
            ),
            Some("messages"),
            None,
        )
    };
    for (i, m) in messages.iter().enumerate() {
        let at = format!("messages[{i}]");
        let Some(o) = m.as_object() else {
            return Err(bad_type(&at, "an object", m));
        };
        let role = want_str(o, "role", &format!("{at}.role"))?;
        let roles = [
            "system",
            "assistant",
            "user",
            "function",
            "tool",
            "developer",
        ];
        if !roles.contains(&role) || role == "function" {
            return Err(bad_value(&format!("{at}.role"), role, &roles));
        }
        if role != "tool" && !pending.is_empty() {
            return Err(missing_responses(&pending));
        }
        let content = o.get("content");
        let dot = format!("messages.{i}");
        match role {
            "system" | "developer" | "user" => {
                chat_only_keys(o, &["role", "content", "name"], &dot)?;
                let c = content.ok_or_else(|| missing(&format!("{at}.content")))?;
                let part_types: &[&str] = if role == "user" {
                    &["text", "image_url", "input_audio", "file"]
                } else {
                    &["text"]
                };
                check_chat_content(c, part_types, &at)?;
            }
            "assistant" => {
                chat_only_keys(
                    o,
                    &[
                        "role",
                        "content",
                        "name",
                        "tool_calls",
                        "refusal",
                        "audio",
                        "function_call",
                    ],
                    &dot,
                )?;
                let calls = match o.get("tool_calls") {
                    None | Some(Value::Null) => vec![],
                    Some(Value::Array(calls)) if calls.is_empty() => {
                        return Err(invalid(
                            format!("Invalid '{at}.tool_calls': empty array. Expected an array with minimum length 1, but got an empty array instead."),
                            Some(&format!("{at}.tool_calls")),
                            Some("empty_array"),
                        ))
                    }
                    Some(Value::Array(calls)) => calls.clone(),
                    Some(v) => return Err(bad_type(&format!("{at}.tool_calls"), "an array", v)),
                };
                match content {
                    None | Some(Value::Null) => {
                        if calls.is_empty() && o.get("refusal").is_none_or(Value::is_null) {
                            return Err(invalid(
                                format!("Invalid value for '{at}.content': expected a string, got null."),
                                Some(&format!("{at}.content")),
                                None,
                            ));
                        }
                    }
                    Some(c) => check_chat_content(c, &["text", "refusal"], &at)?,
                }
                for (j, call) in calls.iter().enumerate() {
                    let cat = format!("{at}.tool_calls[{j}]");
                    let Some(c) = call.as_object() else {
                        return Err(bad_type(&cat, "an object", call));
                    };
                    chat_only_keys(
                        c,
                        &["id", "type", "function"],
                        &format!("{dot}.tool_calls.{j}"),
                    )?;
                    let id = want_str(c, "id", &format!("{cat}.id"))?;
                    let ty = want_str(c, "type", &format!("{cat}.type"))?;
                    if ty != "function" {
                        return Err(bad_value(&format!("{cat}.type"), ty, &["function"]));
                    }
                    let f = c
                        .get("function")
                        .ok_or_else(|| missing(&format!("{cat}.function")))?;
                    let Some(f) = f.as_object() else {
                        return Err(bad_type(&format!("{cat}.function"), "an object", f));
                    };
                    chat_only_keys(
                        f,
                        &["name", "arguments"],
                        &format!("{dot}.tool_calls.{j}.function"),
                    )?;
                    want_str(f, "name", &format!("{cat}.function.name"))?;
                    want_str(f, "arguments", &format!("{cat}.function.arguments"))?;
                    if !seen_calls.insert(id.to_string()) {
                        return Err(invalid(
                            format!("Duplicate tool_call id '{id}' in '{cat}.id'."),
                            Some(&format!("{cat}.id")),
                            None,
                        ));
                    }
                    pending.push(id.to_string());
                }
            }
            "tool" => {
                chat_only_keys(o, &["role", "content", "tool_call_id"], &dot)?;
                let id = want_str(o, "tool_call_id", &format!("{at}.tool_call_id"))?;
                let c = content.ok_or_else(|| missing(&format!("{at}.content")))?;
                check_chat_content(c, &["text"], &at)?;
                match pending.iter().position(|p| p == id) {
                    Some(pos) => {
                        pending.remove(pos);
                    }
                    None => {
                        return Err(invalid(
                            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                            Some(&format!("{at}.role")),
                            None,
                        ))
                    }
                }
            }
            _ => unreachable!(),
        }
    }
    if !pending.is_empty() {
        return Err(missing_responses(&pending));
    }
    Ok(())
}

fn check_chat_content(c: &Value, part_types: &[&str], at: &str) -> Result<(), ApiErr> {
    match c {
        Value::String(_) => Ok(()),
        Value::Array(parts) => {
            for (j, part) in parts.iter().enumerate() {
                let pat = format!("{at}.content[{j}]");
                let Some(p) = part.as_object() else {
                    return Err(bad_type(&pat, "an object", part));
                };
                let ty = want_str(p, "type", &format!("{pat}.type"))?;
                if !part_types.contains(&ty) {
                    return Err(bad_value(&format!("{pat}.type"), ty, part_types));
                }
                if ty == "text" {
                    want_str(p, "text", &format!("{pat}.text"))?;
                }
            }
            Ok(())
        }
        other => Err(bad_type(
            &format!("{at}.content"),
            "a string or an array",
            other,
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Moderation

const MOD_CATEGORIES: &[&str] = &[
    "harassment",
    "harassment/threatening",
    "hate",
    "hate/threatening",
    "illicit",
    "illicit/violent",
    "self-harm",
    "self-harm/intent",
    "self-harm/instructions",
    "sexual",
    "sexual/minors",
    "violence",
    "violence/graphic",
];

fn moderate(state: &Mutex<State>, rec: &Recorded, body: &Value) -> Reply {
    let Some(obj) = body.as_object() else {
        return reject(
            state,
            rec,
            invalid("The request body must be a JSON object.", None, None),
        );
    };
    if let Some(k) = obj
        .keys()
        .find(|k| !["input", "model"].contains(&k.as_str()))
    {
        return reject(
            state,
            rec,
            invalid(
                format!("Unrecognized request argument supplied: {k}"),
                None,
                None,
            ),
        );
    }
    if let Some(m) = obj.get("model").filter(|m| !m.is_string()) {
        return reject(state, rec, bad_type("model", "a string", m));
    }
    let model = obj
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("omni-moderation-latest")
        .to_string();
    // One text per result: a string, an array of strings, or one multimodal array.
    let texts: Vec<String> = match obj.get("input") {
        None => return reject(state, rec, missing("input")),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) if a.iter().all(Value::is_string) && !a.is_empty() => {
            a.iter().map(|s| s.as_str().unwrap().to_string()).collect()
        }
        Some(Value::Array(a)) if !a.is_empty() && a.iter().all(Value::is_object) => {
            let mut text = String::new();
            for (i, p) in a.iter().enumerate() {
                match p["type"].as_str() {
                    Some("text") if p["text"].is_string() => {
                        text.push_str(p["text"].as_str().unwrap())
                    }
                    Some("image_url") if p["image_url"]["url"].is_string() => {}
                    _ => {
                        return reject(
                            state,
                            rec,
                            invalid(
                                format!("Invalid value for 'input[{i}]'."),
                                Some("input"),
                                Some("invalid_value"),
                            ),
                        )
                    }
                }
            }
            vec![text]
        }
        Some(v) => return reject(state, rec, bad_type("input", "a string or an array", v)),
    };
    let flags = state.lock().unwrap().flags.clone();
    let results: Vec<Value> = texts
        .iter()
        .map(|t| {
            let lower = t.to_lowercase();
            let hit: HashSet<&str> = flags
                .iter()
                .filter(|(w, _)| lower.contains(w.as_str()))
                .map(|(_, c)| c.as_str())
                .collect();
            let mut categories = Map::new();
            let mut scores = Map::new();
            let mut applied = Map::new();
            for c in MOD_CATEGORIES.iter().copied().chain(hit.iter().copied()) {
                let on = hit.contains(c);
                categories.insert(c.to_string(), json!(on));
                scores.insert(c.to_string(), json!(if on { 0.97 } else { 0.0001 }));
                applied.insert(c.to_string(), json!(["text"]));
            }
            json!({
                "flagged": !hit.is_empty(),
                "categories": categories,
                "category_scores": scores,
                "category_applied_input_types": applied
            })
        })
        .collect();
    Reply::json(
        200,
        &json!({"id": long_id("modr-"), "model": model, "results": results}),
    )
}

//! `GET /api/openapi.json`: the machine-readable contract of every endpoint in
//! [`super::route`]. Schemas say exactly what the parsers in [`super::inspire`] and
//! [`super::tags`] accept and what the handlers answer: the end-to-end tests validate real
//! responses against this document, and schemathesis generates requests from it.
//!
//! Errors are the one shape of [`super::ApiError::body`]; each operation lists the statuses
//! it can answer and, for each status, the `error.code`s that status carries there.

use super::inspire::{MAX_BODY_BYTES, MAX_MESSAGE_CHARS};
use serde_json::{json, Map, Value};

/// The UUID syntax `ids::is_uuid` accepts (any case; the server lowercases).
const UUID_PATTERN: &str =
    "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

/// Every `error.code` the API can answer, with its status.
pub const ERROR_CODES: &[(&str, u16)] = &[
    ("invalid_json", 400),
    ("bad_parameter", 400),
    ("invalid_session_id", 400),
    ("content_unsafe", 400),
    ("unauthorized", 401),
    ("not_found", 404),
    ("session_not_found", 404),
    ("tag_not_found", 404),
    ("method_not_allowed", 405),
    ("turn_in_progress", 409),
    ("session_closed", 409),
    ("payload_too_large", 413),
    ("validation_failed", 422),
    ("rate_limited", 429),
    ("internal", 500),
    ("upstream_unavailable", 502),
];

fn r(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn nullable(name: &str) -> Value {
    json!({ "oneOf": [{ "type": "null" }, r(name)] })
}

/// An object with exactly these properties, all required.
fn closed(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

fn string() -> Value {
    json!({ "type": "string" })
}

fn count() -> Value {
    json!({ "type": "integer", "minimum": 0 })
}

fn strings() -> Value {
    json!({ "type": "array", "items": { "type": "string" } })
}

fn score() -> Value {
    json!({ "type": ["integer", "null"], "minimum": 0, "maximum": 100 })
}

/// The reusable schemas: tags, directions, the final prompt, the turn and status bodies.
fn schemas() -> Map<String, Value> {
    let mut s = Map::new();
    let mut put = |k: &str, v: Value| {
        s.insert(k.to_string(), v);
    };

    put(
        "Rating",
        json!({ "type": "string", "enum": ["all-ages", "r15", "r18", "blocked"],
                "description": "A tag's rating; `blocked` tags are never shown in searches or directions." }),
    );
    put(
        "AccessLevel",
        json!({ "type": "string", "enum": ["all-ages", "r15", "r18"] }),
    );
    put(
        "InspireCategory",
        json!({ "type": "string", "enum": ["CHARACTER", "APPEARANCE", "CLOTHING", "SCENE", "STYLE",
                                            "EFFECT", "ACTION", "MOOD", "QUALITY", "META"] }),
    );
    put(
        "TagSource",
        json!({ "type": "string", "enum": ["embedded", "supabase", "embedded_fallback"],
                "description": "`embedded_fallback`: Supabase failed and the embedded index answered." }),
    );
    put(
        "Phase",
        json!({ "type": "string", "enum": ["understanding", "exploring", "refining", "finalizing", "completed", "aborted"] }),
    );
    put(
        "Mode",
        json!({ "type": "string", "enum": ["offline", "llm"] }),
    );
    put(
        "Language",
        json!({ "type": "string", "enum": ["zh-TW", "en"] }),
    );
    put(
        "AbortReason",
        json!({ "type": ["string", "null"],
                "enum": ["turn_limit", "tool_limit", "cost_limit", "timeout", "repetition", null] }),
    );
    put(
        "SessionId",
        json!({ "type": "string", "format": "uuid", "pattern": UUID_PATTERN }),
    );
    put(
        "TagBrief",
        closed(json!({
            "name": string(),
            "category": { "type": "string", "description": "The table's main_category; empty when it has none." },
            "inspire_category": r("InspireCategory"),
            "post_count": count(),
            "rating": r("AccessLevel"),
        })),
    );
    put(
        "TagDetail",
        closed(json!({
            "name": string(),
            "category": { "type": ["string", "null"] },
            "sub_category": { "type": ["string", "null"] },
            "inspire_category": r("InspireCategory"),
            "post_count": count(),
            "rating": r("Rating"),
            "source": r("TagSource"),
        })),
    );
    put(
        "TagChip",
        closed(json!({ "name": string(), "category": r("InspireCategory") })),
    );
    put(
        "Direction",
        closed(json!({
            "index": { "type": "integer", "minimum": 1, "maximum": 3, "description": "1-based." },
            "title": string(),
            "concept": string(),
            "vibe": string(),
            "main_tags": strings(),
            "tags": { "type": "array", "items": r("TagChip") },
            "quick_preview": string(),
            "uniqueness": string(),
            "notes": { "type": "array", "items": string(), "description": "What the tag checks changed." },
        })),
    );
    put(
        "FinalOutput",
        closed(json!({
            "title": string(),
            "concept": { "type": "string", "maxLength": 200 },
            "positive_prompt": { "type": "string", "maxLength": 500 },
            "negative_prompt": string(),
            "structure": closed(json!({
                "subject": strings(), "appearance": strings(), "scene": strings(),
                "mood": strings(), "style": strings(),
            })),
            "parameters": closed(json!({
                "cfg_scale": { "type": "number", "minimum": 1, "maximum": 20 },
                "steps": { "type": "integer", "minimum": 1, "maximum": 100 },
                "sampler": string(),
                "size": { "type": "string", "description": "WIDTHxHEIGHT" },
            })),
            "usage_tips": { "type": "string", "maxLength": 200 },
            "quality_score": { "type": "integer", "minimum": 0, "maximum": 100 },
            "ready_to_use": { "type": "boolean" },
        })),
    );
    put(
        "ToolCalls",
        json!({ "type": "object", "additionalProperties": count(),
                "description": "Calls per tool name." }),
    );
    put(
        "TurnResponse",
        closed(json!({
            "session_id": r("SessionId"),
            "type": { "type": "string", "enum": ["directions", "question", "message", "completed"] },
            "message": string(),
            "phase": r("Phase"),
            "directions": { "type": "array", "items": r("Direction"), "maxItems": 3 },
            "selected_direction": { "type": ["integer", "null"], "minimum": 1, "maximum": 3 },
            "final_output": nullable("FinalOutput"),
            "abort_reason": r("AbortReason"),
            "metadata": closed(json!({
                "turn": count(),
                "model_calls": count(),
                "tool_calls": r("ToolCalls"),
                "input_tokens": count(),
                "output_tokens": count(),
                "cost_usd": { "type": "number", "minimum": 0 },
                "session_cost_usd": { "type": "number", "minimum": 0 },
                "quality_score": score(),
                "duration_ms": count(),
                "upstream_ms": count(),
                "model_ms": { "type": "array", "items": count(), "description": "Latency of each model call, in order." },
                "instructions": { "type": "string", "description": "Version of the agent's instructions." },
            })),
            "mode": r("Mode"),
            "language": r("Language"),
        })),
    );
    let mut message = closed(json!({
        "role": { "type": "string", "enum": ["user", "assistant", "system"],
                  "description": "`system` marks a failed turn; `content` then says why." },
        "content": string(),
        "at": { "type": "string", "format": "date-time" },
        "turn": { "type": "integer", "minimum": 1 },
        "failed": { "type": "boolean", "const": true },
    }));
    message["required"] = json!(["role", "content", "at", "turn"]);
    put("Message", message);
    put(
        "SessionStatus",
        closed(json!({
            "session_id": r("SessionId"),
            "phase": r("Phase"),
            "created_at": { "type": "string", "format": "date-time" },
            "updated_at": { "type": "string", "format": "date-time" },
            "access_level": r("AccessLevel"),
            "language": r("Language"),
            "mode": r("Mode"),
            "turns": count(),
            "failed_turns": count(),
            "model_calls": count(),
            "tool_calls": r("ToolCalls"),
            "tool_events": count(),
            "tool_time_ms": count(),
            "input_tokens": count(),
            "output_tokens": count(),
            "cost_usd": { "type": "number", "minimum": 0 },
            "quality_score": score(),
            "directions": { "type": "array", "items": r("Direction"), "maxItems": 3 },
            "selected_direction": { "type": ["integer", "null"], "minimum": 1, "maximum": 3 },
            "final_output": nullable("FinalOutput"),
            "abort_reason": r("AbortReason"),
            "last_turn_status": { "type": ["string", "null"], "enum": ["ok", "failed", "running", "interrupted", null],
                                  "description": "`interrupted`: the turn was cut off (the instance restarted); the next turn records it as failed." },
            "feedback_count": count(),
            "transcript_items": count(),
            "transcript_user_items": count(),
            "orphaned_tool_calls": count(),
            "schema_version": { "type": "integer", "minimum": 1 },
            "messages": { "type": "array", "items": r("Message"), "maxItems": 20,
                          "description": "The last 20 messages." },
        })),
    );
    put(
        "SafeAlternative",
        closed(json!({
            "index": { "type": "integer", "minimum": 1, "maximum": 3 },
            "title": string(),
            "concept": string(),
            "vibe": string(),
            "title_en": string(),
            "concept_en": string(),
            "main_tags": strings(),
            "tags": { "type": "array", "items": closed(json!({
                "name": string(),
                "category": { "oneOf": [{ "type": "null" }, r("InspireCategory")] },
            })) },
        })),
    );
    put(
        "TagSearchResponse",
        closed(json!({
            "query": { "type": "string", "minLength": 1 },
            "results": { "type": "array", "items": r("TagBrief"), "maxItems": 100 },
            "source": r("TagSource"),
        })),
    );
    put(
        "TagPopularResponse",
        closed(json!({
            "results": { "type": "array", "items": r("TagBrief"), "maxItems": 100 },
            "source": r("TagSource"),
        })),
    );
    put(
        "TagCategoriesResponse",
        closed(json!({
            "categories": { "type": "array", "items": closed(json!({
                "name": { "type": ["string", "null"], "description": "null for tags without a main category." },
                "count": count(),
            })) },
            "total": count(),
        })),
    );
    let mut llm = closed(json!({
        "mode": r("Mode"),
        "configured": { "type": "boolean" },
        "api": { "type": "string", "enum": ["responses", "chat"] },
        "model": string(),
        "first_turn_model": { "type": ["string", "null"] },
    }));
    llm["required"] = json!(["mode", "configured"]);
    put(
        "Health",
        closed(json!({
            "status": { "const": "ok" },
            "version": string(),
            "mode": r("Mode"),
            "storage": closed(json!({ "sessions": string(), "consistency": string() })),
            "tag_source": { "type": "string", "enum": ["embedded", "supabase"] },
            "llm": llm,
        })),
    );
    put(
        "FeedbackResponse",
        closed(json!({ "success": { "const": true }, "message": string() })),
    );
    put(
        "DeleteResponse",
        closed(json!({ "deleted": { "const": true } })),
    );
    put(
        "OpenApiDocument",
        json!({ "type": "object", "required": ["openapi", "info", "paths"],
                "properties": { "openapi": { "type": "string" }, "info": { "type": "object" },
                                "paths": { "type": "object" } } }),
    );
    put("Error", error_schema(&[]));
    s
}

/// The one error body, with `error.code` limited to `codes` (all codes when empty).
/// Detail fields appear only with the codes that carry them.
fn error_schema(codes: &[&str]) -> Value {
    let all: Vec<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
    let codes = if codes.is_empty() { &all[..] } else { codes };
    let mut props = Map::new();
    props.insert("code".into(), json!({ "type": "string", "enum": codes }));
    props.insert(
        "message".into(),
        json!({ "type": "string", "minLength": 1, "description": "Plain words for people." }),
    );
    let has = |c: &str| codes.contains(&c);
    if has("validation_failed") {
        props.insert(
            "field".into(),
            json!({ "type": "string", "description": "validation_failed: which field (`body` for a non-object body)." }),
        );
    }
    if has("bad_parameter") {
        props.insert(
            "parameter".into(),
            json!({ "type": "string", "description": "bad_parameter: which query parameter." }),
        );
    }
    if has("method_not_allowed") {
        props.insert(
            "allow".into(),
            json!({ "type": "array", "items": { "type": "string" } }),
        );
    }
    if has("tag_not_found") {
        props.insert(
            "suggestions".into(),
            json!({ "type": "array", "items": { "type": "string" }, "maxItems": 5,
                    "description": "tag_not_found: the closest real tags." }),
        );
    }
    if has("rate_limited") {
        props.insert(
            "retry_after_s".into(),
            json!({ "type": "integer", "minimum": 0, "description": "rate_limited: also the Retry-After header." }),
        );
    }
    if has("content_unsafe") {
        props.insert(
            "safe_alternatives".into(),
            json!({ "type": "array", "items": r("SafeAlternative"), "minItems": 3, "maxItems": 3 }),
        );
    }
    if has("session_closed") {
        props.insert("abort_reason".into(), r("AbortReason"));
        props.insert("final_output".into(), nullable("FinalOutput"));
    }
    json!({
        "type": "object",
        "required": ["error", "request_id"],
        "additionalProperties": false,
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "additionalProperties": false,
                "properties": Value::Object(props),
            },
            "request_id": { "type": "string", "minLength": 1, "description": "Also the X-Request-Id header." },
        },
    })
}

fn headers_common() -> Value {
    json!({
        "X-Request-Id": { "description": "This request's id (also in error bodies).", "schema": { "type": "string" } },
        "Server-Timing": { "description": "`total;dur=<ms>`, plus `upstream;dur=<ms>` when the Worker waited on a model or database.", "schema": { "type": "string" } },
    })
}

fn json_response(description: &str, schema: Value) -> Value {
    json!({
        "description": description,
        "headers": headers_common(),
        "content": { "application/json": { "schema": schema } },
    })
}

fn error_response(status: u16, codes: &[&str]) -> Value {
    let description = codes.join(" / ");
    let mut resp = json_response(&description, error_schema(codes));
    let h = resp["headers"].as_object_mut().unwrap();
    if status == 429 {
        h.insert(
            "Retry-After".into(),
            json!({ "description": "Seconds to wait.", "schema": { "type": "string" } }),
        );
    }
    if status == 401 {
        h.insert(
            "WWW-Authenticate".into(),
            json!({ "schema": { "type": "string", "const": "Bearer" } }),
        );
    }
    if status == 405 {
        h.insert(
            "Allow".into(),
            json!({ "description": "The methods this path takes.", "schema": { "type": "string" } }),
        );
    }
    resp
}

/// The responses of one operation: `ok` is (status, description, schema); `errors` maps each
/// status to the codes it carries. `auth` adds 401 (only when `INSPIRE_API_TOKEN` is set).
fn responses(ok: (u16, &str, Value), errors: &[(u16, &[&str])], auth: bool) -> Value {
    let mut m = Map::new();
    m.insert(ok.0.to_string(), json_response(ok.1, ok.2));
    let mut errors = errors.to_vec();
    if auth {
        errors.push((401, &["unauthorized"]));
    }
    errors.sort_by_key(|e| e.0);
    for (status, codes) in errors {
        m.insert(status.to_string(), error_response(status, codes));
    }
    Value::Object(m)
}

fn body(schema: Value) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": schema } } })
}

fn message_schema(description: &str) -> Value {
    json!({
        "type": "string", "minLength": 1, "maxLength": MAX_MESSAGE_CHARS,
        "pattern": "\\S",
        "description": format!("{description} 1-{MAX_MESSAGE_CHARS} characters, not only whitespace; trimmed."),
    })
}

fn start_body() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["message"],
        "properties": {
            "message": message_schema("What the user wants to see."),
            "user_access_level": {
                "type": ["string", "null"], "enum": ["all-ages", "r15", "r18", null],
                "description": "The highest tag rating this session may use; default all-ages. Case and `all_ages` are also accepted.",
            },
            "language": {
                "type": ["string", "null"], "enum": ["zh-TW", "en", null],
                "description": "Default: the message's language.",
            },
        },
    })
}

fn continue_body() -> Value {
    let select = json!({
        "type": "object", "additionalProperties": false, "required": ["type", "direction"],
        "properties": {
            "type": { "const": "select" },
            "direction": { "type": "integer", "minimum": 1, "maximum": 3,
                           "description": "1-based; at most the number of directions shown." },
        },
    });
    let finalize = json!({
        "type": "object", "additionalProperties": false, "required": ["type"],
        "properties": { "type": { "const": "finalize" } },
    });
    let mut message = message_schema("The user's next message; optional with an action.");
    message["type"] = json!(["string", "null"]);
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["session_id"],
        "properties": {
            "session_id": r("SessionId"),
            "message": message,
            "action": { "oneOf": [{ "type": "null" }, select, finalize] },
        },
        "anyOf": [
            { "required": ["message"], "properties": { "message": { "type": "string" } } },
            { "required": ["action"], "properties": { "action": { "type": "object" } } },
        ],
    })
}

fn feedback_body() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["session_id", "satisfaction"],
        "properties": {
            "session_id": r("SessionId"),
            "satisfaction": { "type": "integer", "minimum": 1, "maximum": 5 },
            "text": { "type": ["string", "null"], "maxLength": MAX_MESSAGE_CHARS },
            "would_use_again": { "type": ["boolean", "null"], "description": "Default true." },
        },
    })
}

fn turn_responses() -> Value {
    let mut rs = responses(
        (200, "The turn's answer. With `Accept: text/event-stream`: progress events, then `done` carrying this same JSON (or the error body if the turn failed).", r("TurnResponse")),
        &[],
        false,
    );
    rs["200"]["content"]["text/event-stream"] = json!({
        "schema": { "type": "string",
                    "description": "Server-Sent Events: `phase` {phase,label}, `tool_started` {tool,call_id,label}, `tool_finished` {tool,call_id,duration_ms,summary,ok}, `directions` {directions}, `message` {message}, `final` {final_output}, `error` (the error body), and last `done` (the TurnResponse or the error body)." },
    });
    rs
}

fn merge(mut a: Value, b: Value) -> Value {
    if let (Some(a), Value::Object(b)) = (a.as_object_mut(), b) {
        a.extend(b);
    }
    a
}

fn session_path_param() -> Value {
    json!({
        "name": "session_id", "in": "path", "required": true,
        "description": "The session's UUID; anything else is 400 invalid_session_id.",
        "schema": { "type": "string", "format": "uuid", "pattern": UUID_PATTERN },
    })
}

fn query_param(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

fn filter_params() -> Vec<Value> {
    vec![
        query_param(
            "limit",
            "1-100, default 20.",
            json!({ "type": "integer", "minimum": 1, "maximum": 100 }),
        ),
        query_param(
            "category",
            "A main_category from /api/tags/categories (any case).",
            json!({ "type": "string" }),
        ),
        query_param(
            "min_posts",
            "Only tags with at least this many posts.",
            json!({ "type": "integer", "minimum": 0 }),
        ),
        query_param(
            "rating",
            "The highest rating to include; default all-ages.",
            r("AccessLevel"),
        ),
    ]
}

fn paths() -> Value {
    let session_errors_post: &[(u16, &[&str])] = &[
        (
            400,
            &["invalid_json", "invalid_session_id", "content_unsafe"],
        ),
        (404, &["session_not_found"]),
        (409, &["turn_in_progress", "session_closed"]),
        (413, &["payload_too_large"]),
        (422, &["validation_failed"]),
        (429, &["rate_limited"]),
        (502, &["upstream_unavailable"]),
    ];
    let links = json!({
        "status": { "operationId": "sessionStatus", "parameters": { "session_id": "$response.body#/session_id" } },
        "erase": { "operationId": "deleteSession", "parameters": { "session_id": "$response.body#/session_id" } },
        "refine": { "operationId": "continueSession",
                    "requestBody": { "session_id": "$response.body#/session_id", "message": "更夢幻一點" } },
        "select": { "operationId": "continueSession",
                    "requestBody": { "session_id": "$response.body#/session_id", "action": { "type": "select", "direction": 1 } } },
        "rate": { "operationId": "sessionFeedback",
                  "requestBody": { "session_id": "$response.body#/session_id", "satisfaction": 5 } },
    });
    let start = merge(
        responses(
            (200, "", json!({})),
            &[
                (400, &["invalid_json", "content_unsafe"]),
                (413, &["payload_too_large"]),
                (422, &["validation_failed"]),
                (429, &["rate_limited"]),
                (502, &["upstream_unavailable"]),
            ],
            true,
        ),
        json!({ "200": merge(turn_responses()["200"].clone(), json!({ "links": links })) }),
    );
    let cont = merge(
        responses((200, "", json!({})), session_errors_post, true),
        json!({ "200": turn_responses()["200"].clone() }),
    );
    let mut search_params = vec![query_param(
        "q",
        "Text to look for (1-199 characters after trimming; `+` is a space).",
        json!({ "type": "string", "minLength": 1, "maxLength": 199, "pattern": "\\S" }),
    )];
    search_params[0]["required"] = json!(true);
    search_params.extend(filter_params());

    json!({
        "/api/health": { "get": {
            "operationId": "health", "tags": ["meta"], "summary": "What this deployment runs on.",
            "responses": responses((200, "OK", r("Health")), &[], false),
        }},
        "/api/openapi.json": { "get": {
            "operationId": "openapi", "tags": ["meta"], "summary": "This document.",
            "responses": responses((200, "The OpenAPI document.", r("OpenApiDocument")), &[], false),
        }},
        "/api/tags/search": { "get": {
            "operationId": "searchTags", "tags": ["tags"],
            "summary": "Tags starting with q (most popular first), then tags containing it.",
            "parameters": search_params,
            "responses": responses((200, "Matching tags.", r("TagSearchResponse")), &[
                (400, &["bad_parameter"]), (502, &["upstream_unavailable"]),
            ], true),
        }},
        "/api/tags/popular": { "get": {
            "operationId": "popularTags", "tags": ["tags"], "summary": "The most used tags.",
            "parameters": filter_params(),
            "responses": responses((200, "Tags, most posts first.", r("TagPopularResponse")), &[
                (400, &["bad_parameter"]), (502, &["upstream_unavailable"]),
            ], true),
        }},
        "/api/tags/categories": { "get": {
            "operationId": "tagCategories", "tags": ["tags"], "summary": "Tags per main category.",
            "responses": responses((200, "Counts.", r("TagCategoriesResponse")), &[], true),
        }},
        "/api/tags/{name}": { "get": {
            "operationId": "lookupTag", "tags": ["tags"], "summary": "One tag, or 404 with the closest real tags.",
            "parameters": [{
                "name": "name", "in": "path", "required": true,
                "description": "The tag (percent-encoded; `+` stays `+`). `search`, `popular` and `categories` are the endpoints above.",
                "schema": { "type": "string", "minLength": 1, "maxLength": 199 },
            }],
            "responses": responses((200, "The tag. (`search`, `popular` and `categories` are the endpoints above and answer with their own bodies.)",
                json!({ "oneOf": [r("TagDetail"), r("TagPopularResponse"), r("TagCategoriesResponse")] })), &[
                (400, &["bad_parameter"]), (404, &["tag_not_found", "not_found"]),
                (502, &["upstream_unavailable"]),
            ], true),
        }},
        "/api/inspire/start": { "post": {
            "operationId": "startSession", "tags": ["inspire"],
            "summary": "Start a conversation with the first message.",
            "description": format!("Bodies over {MAX_BODY_BYTES} bytes are 413. Errors found before the turn starts are JSON even when streaming."),
            "requestBody": body(start_body()),
            "responses": start,
        }},
        "/api/inspire/continue": { "post": {
            "operationId": "continueSession", "tags": ["inspire"],
            "summary": "The next message, or an action: select a direction or finalize.",
            "description": format!("`message` is required unless `action` is given. Bodies over {MAX_BODY_BYTES} bytes are 413."),
            "requestBody": body(continue_body()),
            "responses": cont,
        }},
        "/api/inspire/status/{session_id}": { "get": {
            "operationId": "sessionStatus", "tags": ["inspire"], "summary": "The session's state and last 20 messages.",
            "parameters": [session_path_param()],
            "responses": responses((200, "The session.", r("SessionStatus")), &[
                (400, &["invalid_session_id"]), (404, &["session_not_found", "not_found"]),
            ], true),
        }},
        "/api/inspire/feedback": { "post": {
            "operationId": "sessionFeedback", "tags": ["inspire"], "summary": "Rate a session.",
            "requestBody": body(feedback_body()),
            "responses": responses((200, "Recorded.", r("FeedbackResponse")), &[
                (400, &["invalid_json", "invalid_session_id"]), (404, &["session_not_found"]),
                (413, &["payload_too_large"]), (422, &["validation_failed"]),
            ], true),
        }},
        "/api/inspire/session/{session_id}": { "delete": {
            "operationId": "deleteSession", "tags": ["inspire"], "summary": "Erase a session; it is 404 afterwards.",
            "parameters": [session_path_param()],
            "responses": responses((200, "Erased.", r("DeleteResponse")), &[
                (400, &["invalid_session_id"]), (404, &["session_not_found", "not_found"]),
                (409, &["turn_in_progress"]),
            ], true),
        }},
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut error_responses = Map::new();
    for (name, status, codes) in [
        ("NotFound", 404, &["not_found"][..]),
        ("MethodNotAllowed", 405, &["method_not_allowed"][..]),
        ("Unauthorized", 401, &["unauthorized"][..]),
        ("Internal", 500, &["internal"][..]),
    ] {
        error_responses.insert(name.into(), error_response(status, codes));
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Inspire Edge",
            "version": crate::VERSION,
            "description": concat!(
                "A conversational partner that turns a feeling into a Stable Diffusion prompt.\n\n",
                "Every error is `{\"error\": {\"code\", \"message\", ...details}, \"request_id\"}`. ",
                "Paths under /api/ that match no endpoint answer 404 `not_found` ",
                "(components.responses.NotFound); a known path with another method answers 405 ",
                "`method_not_allowed` with an `Allow` header (components.responses.MethodNotAllowed); ",
                "OPTIONS on any endpoint is a CORS preflight (204). With `INSPIRE_API_TOKEN` set, ",
                "every endpoint but health and openapi.json needs `Authorization: Bearer <token>` (else 401)."
            ),
        },
        "servers": [{ "url": "/" }],
        "tags": [
            { "name": "inspire", "description": "Conversations." },
            { "name": "tags", "description": "The Danbooru tag index." },
            { "name": "meta" },
        ],
        "security": [{}, { "bearerAuth": [] }],
        "paths": paths(),
        "components": {
            "schemas": Value::Object(schemas()),
            "responses": Value::Object(error_responses),
            "securitySchemes": { "bearerAuth": { "type": "http", "scheme": "bearer",
                "description": "Only when the deployment sets INSPIRE_API_TOKEN." } },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::route::{route, Route};

    /// Every `$ref` in `v`, with its JSON path.
    fn refs<'a>(v: &'a Value, path: String, out: &mut Vec<(String, &'a str)>) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if k == "$ref" {
                        out.push((path.clone(), x.as_str().expect("$ref is a string")));
                    } else {
                        refs(x, format!("{path}/{k}"), out);
                    }
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    refs(x, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    fn pointer<'a>(doc: &'a Value, r: &str) -> Option<&'a Value> {
        doc.pointer(r.strip_prefix('#')?)
    }

    #[test]
    fn every_ref_resolves() {
        let doc = document();
        let mut all = Vec::new();
        refs(&doc, String::new(), &mut all);
        assert!(all.len() > 20);
        for (at, r) in all {
            assert!(
                pointer(&doc, r).is_some(),
                "{at}: $ref {r} does not resolve"
            );
        }
    }

    #[test]
    fn every_operation_has_responses_with_schemas() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                let rs = op["responses"]
                    .as_object()
                    .unwrap_or_else(|| panic!("{method} {path}: no responses"));
                assert!(
                    rs.keys().any(|s| s.starts_with('2')),
                    "{method} {path}: no success"
                );
                for (status, resp) in rs {
                    assert!(status.parse::<u16>().is_ok(), "{method} {path}: {status}");
                    assert!(resp["description"].is_string(), "{method} {path} {status}");
                    let schema = &resp["content"]["application/json"]["schema"];
                    assert!(
                        schema.is_object(),
                        "{method} {path} {status}: no JSON schema"
                    );
                    if status.starts_with('4') || status.starts_with('5') {
                        let codes = schema["properties"]["error"]["properties"]["code"]["enum"]
                            .as_array()
                            .unwrap();
                        for c in codes {
                            let want = ERROR_CODES
                                .iter()
                                .find(|(k, _)| c == k)
                                .map(|x| x.1.to_string());
                            assert_eq!(want.as_deref(), Some(status.as_str()), "{path} {c}");
                        }
                    }
                }
                assert!(op["operationId"].is_string());
                // Path parameters are declared.
                for seg in path.split('/').filter(|s| s.starts_with('{')) {
                    let name = &seg[1..seg.len() - 1];
                    assert!(
                        op["parameters"]
                            .as_array()
                            .is_some_and(|ps| ps.iter().any(|p| p["name"] == name)),
                        "{path}: parameter {name} not declared"
                    );
                }
            }
        }
    }

    #[test]
    fn links_name_real_operations() {
        let doc = document();
        let mut ids = Vec::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                ids.push(op["operationId"].as_str().unwrap().to_string());
            }
        }
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "operationIds are unique");
        let links = doc["paths"]["/api/inspire/start"]["post"]["responses"]["200"]["links"]
            .as_object()
            .unwrap();
        assert!(!links.is_empty());
        for (name, l) in links {
            let id = l["operationId"].as_str().unwrap().to_string();
            assert!(ids.contains(&id), "link {name}: no operation {id}");
        }
    }

    #[test]
    fn every_route_is_documented_and_nothing_else() {
        let doc = document();
        let paths = doc["paths"].as_object().unwrap();
        let mut seen = Vec::new();
        for (path, item) in paths {
            for method in item.as_object().unwrap().keys() {
                let concrete = path
                    .replace("{name}", "long_hair")
                    .replace("{session_id}", "123e4567-e89b-42d3-a456-426614174000");
                let m = method.to_uppercase();
                let got = route(&m, &concrete);
                assert!(
                    matches!(got, Ok(ref r) if *r != Route::Asset && *r != Route::Preflight),
                    "{m} {path} does not route: {got:?}"
                );
                seen.push(std::mem::discriminant(&got.unwrap()));
            }
        }
        // Every endpoint variant of Route (all but Preflight and Asset) appears.
        let id = "x".to_string();
        for r in [
            Route::Health,
            Route::OpenApi,
            Route::TagSearch,
            Route::TagPopular,
            Route::TagCategories,
            Route::TagLookup(id.clone()),
            Route::InspireStart,
            Route::InspireContinue,
            Route::InspireStatus(id.clone()),
            Route::InspireFeedback,
            Route::InspireDelete(id),
        ] {
            assert!(
                seen.contains(&std::mem::discriminant(&r)),
                "{r:?} undocumented"
            );
        }
        assert_eq!(seen.len(), 11);
    }

    #[test]
    fn every_error_code_is_documented_with_its_status() {
        use crate::api::ApiError;
        let errors = [
            ApiError::NotFound { path: "/".into() },
            ApiError::MethodNotAllowed { allow: vec![] },
            ApiError::InvalidJson { detail: "".into() },
            ApiError::Validation {
                field: "".into(),
                message: "".into(),
            },
            ApiError::BadParameter {
                parameter: "".into(),
                message: "".into(),
            },
            ApiError::PayloadTooLarge { limit_bytes: 1 },
            ApiError::InvalidSessionId,
            ApiError::SessionNotFound,
            ApiError::TagNotFound {
                name: "".into(),
                suggestions: vec![],
            },
            ApiError::TurnInProgress,
            ApiError::RateLimited { retry_after_s: 1 },
            ApiError::Unauthorized,
            ApiError::ContentUnsafe {
                message: "".into(),
                extra: Map::new(),
            },
            ApiError::SessionClosed {
                message: "".into(),
                extra: Map::new(),
            },
            ApiError::Upstream { message: "".into() },
            ApiError::Internal { detail: "".into() },
        ];
        assert_eq!(errors.len(), ERROR_CODES.len());
        for e in errors {
            assert!(
                ERROR_CODES.contains(&(e.code(), e.status())),
                "{} {}",
                e.code(),
                e.status()
            );
        }
    }

    #[test]
    fn request_limits_match_the_parsers() {
        let doc = document();
        let start = &doc["paths"]["/api/inspire/start"]["post"]["requestBody"]["content"]
            ["application/json"]["schema"];
        assert_eq!(
            start["properties"]["message"]["maxLength"],
            MAX_MESSAGE_CHARS
        );
        assert_eq!(start["additionalProperties"], false);
        // A body the schema allows parses, and one it forbids does not.
        let ok = crate::api::inspire::parse_start(
            br#"{"message":"a","user_access_level":"r18","language":"en"}"#,
        );
        assert!(ok.is_ok());
        assert!(crate::api::inspire::parse_start(br#"{"message":"a","x":1}"#).is_err());
    }
}

//! The adapter to Cloudflare Workers: the fetch entry point, the router glue, and the
//! platform implementations of the core's ports. Nothing here decides behaviour; it moves
//! requests between the platform and the pure core.

mod platform;
mod protocol;
mod rate_limiter;
mod session_object;
mod store;

use crate::api::inspire::{parse_continue, parse_feedback, parse_start, MAX_BODY_BYTES};
use crate::api::{self, ApiError, Route};
use crate::config::Config;
use crate::ids::{is_uuid, uuid_v4};
use crate::safety::{check_user_text, refusal_message, safe_alternatives};
use crate::session::Action;
use crate::tags::fallback::FallbackStore;
use crate::tags::postgrest::PostgrestStore;
use platform::FetchSender;
use protocol::{FeedbackCall, TurnCall, ORIGIN, REQUEST_ID_HEADER, UPSTREAM_HEADER};
use serde_json::{json, Value};
use worker::{event, Context, Env, Headers, Method, Request, RequestInit, Response, Result};

type ApiResult = std::result::Result<Response, ApiError>;

/// Per-request facts every handler and response decorator needs.
struct Call {
    request_id: String,
    started_ms: f64,
    config: Config,
    origin: Option<String>,
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let call = Call {
        request_id: request_id(),
        started_ms: js_sys::Date::now(),
        config: config_from_env(&env),
        origin: req.headers().get("origin").ok().flatten(),
    };
    let path = req.path();
    let method = req.method().to_string();
    let routed = api::route(&method, &path);
    let is_api = !matches!(routed, Ok(Route::Asset));
    let result = match routed {
        Ok(Route::Asset) => serve_asset(req, &env).await,
        Ok(r) => dispatch(r, req, &env, &call).await,
        Err(e) => Err(e),
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => error_response(&e, &call.request_id)?,
    };
    decorate(response, &call, is_api)
}

async fn dispatch(route: Route, req: Request, env: &Env, call: &Call) -> ApiResult {
    let query = req
        .url()
        .map_err(internal)?
        .query()
        .unwrap_or("")
        .to_string();
    if needs_token(&route) {
        authorize(&req, &call.config)?;
    }
    let store = tag_store(&call.config);
    match route {
        Route::Health => json(&api::health::health(&call.config), 200),
        Route::OpenApi => json(&api::openapi::document(), 200),
        Route::Preflight => Response::empty()
            .map(|r| r.with_status(204))
            .map_err(internal),
        Route::TagSearch => json(&api::tags::search(&store, &query).await?, 200),
        Route::TagLookup(name) => json(&api::tags::lookup(&store, &name).await?, 200),
        Route::TagPopular => json(&api::tags::popular(&store, &query).await?, 200),
        Route::TagCategories => json(&api::tags::categories(), 200),
        Route::InspireStart => start(req, env, call).await,
        Route::InspireContinue => continue_turn(req, env, call).await,
        Route::InspireFeedback => feedback(req, env, call).await,
        Route::InspireStatus(id) => {
            to_session(env, &checked_id(&id)?, Method::Get, "/status", None, call).await
        }
        Route::InspireDelete(id) => {
            to_session(
                env,
                &checked_id(&id)?,
                Method::Delete,
                "/session",
                None,
                call,
            )
            .await
        }
        Route::Asset => Err(ApiError::NotFound { path: req.path() }),
    }
}

async fn start(mut req: Request, env: &Env, call: &Call) -> ApiResult {
    let stream = wants_stream(&req);
    let body = read_body(&mut req).await?;
    let r = parse_start(&body)?;
    let english = r
        .english
        .unwrap_or_else(|| crate::lexicon::detect_language(&r.message) == "en");
    rate_limit(env, &req, "start", call.config.rate_limit_start_per_min).await?;
    check_text(&r.message, english, &call.config).await?;
    let mut bytes = [0u8; 16];
    getrandom::getrandom(&mut bytes).map_err(internal)?;
    let id = uuid_v4(bytes);
    let turn = TurnCall {
        start: true,
        session_id: id.clone(),
        message: Some(r.message),
        access: Some(r.access.as_str().into()),
        english: r.english,
        select: None,
        finalize: false,
        stream,
    };
    to_session(
        env,
        &id,
        Method::Post,
        "/turn",
        Some(serde_json::to_value(turn).map_err(internal)?),
        call,
    )
    .await
}

async fn continue_turn(mut req: Request, env: &Env, call: &Call) -> ApiResult {
    let stream = wants_stream(&req);
    let body = read_body(&mut req).await?;
    let r = parse_continue(&body)?;
    rate_limit(
        env,
        &req,
        "continue",
        call.config.rate_limit_continue_per_min,
    )
    .await?;
    if let Some(m) = &r.message {
        check_text(m, crate::lexicon::detect_language(m) == "en", &call.config).await?;
    }
    let turn = TurnCall {
        start: false,
        session_id: r.session_id.clone(),
        message: r.message,
        access: None,
        english: None,
        select: match r.action {
            Some(Action::Select(n)) => Some(n),
            _ => None,
        },
        finalize: r.action == Some(Action::Finalize),
        stream,
    };
    to_session(
        env,
        &r.session_id,
        Method::Post,
        "/turn",
        Some(serde_json::to_value(turn).map_err(internal)?),
        call,
    )
    .await
}

async fn feedback(mut req: Request, env: &Env, call: &Call) -> ApiResult {
    let body = read_body(&mut req).await?;
    let f = parse_feedback(&body)?;
    let fc = FeedbackCall {
        satisfaction: f.satisfaction,
        text: f.text,
        would_use_again: f.would_use_again,
    };
    to_session(
        env,
        &f.session_id,
        Method::Post,
        "/feedback",
        Some(serde_json::to_value(fc).map_err(internal)?),
        call,
    )
    .await
}

fn checked_id(id: &str) -> std::result::Result<String, ApiError> {
    if is_uuid(id) {
        Ok(id.to_lowercase())
    } else {
        Err(ApiError::InvalidSessionId)
    }
}

/// Sends a request to the session's Durable Object and hands its answer back.
async fn to_session(
    env: &Env,
    id: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    call: &Call,
) -> ApiResult {
    let stub = env
        .durable_object("INSPIRE_SESSION")
        .map_err(internal)?
        .id_from_name(id)
        .map_err(internal)?
        .get_stub()
        .map_err(internal)?;
    let headers = Headers::new();
    headers
        .set(REQUEST_ID_HEADER, &call.request_id)
        .map_err(internal)?;
    headers
        .set("content-type", "application/json")
        .map_err(internal)?;
    let mut init = RequestInit::new();
    init.with_method(method).with_headers(headers);
    if let Some(b) = body {
        init.with_body(Some(b.to_string().into()));
    }
    let req = Request::new_with_init(&format!("{ORIGIN}{path}"), &init).map_err(internal)?;
    let resp = stub.fetch_with_request(req).await.map_err(internal)?;
    mutable(resp)
}

/// Responses from bindings have immutable headers; copy them so they can be decorated.
fn mutable(resp: Response) -> ApiResult {
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v).map_err(internal)?;
    }
    // Null-body statuses (a 304 for a cached asset) must not carry a body stream along.
    let status = resp.status_code();
    if matches!(status, 101 | 204 | 205 | 304) {
        return Response::empty()
            .map(|r| r.with_status(status).with_headers(headers))
            .map_err(internal);
    }
    Ok(resp.with_headers(headers))
}

fn wants_stream(req: &Request) -> bool {
    req.headers()
        .get("accept")
        .ok()
        .flatten()
        .is_some_and(|a| a.contains("text/event-stream"))
}

async fn read_body(req: &mut Request) -> std::result::Result<Vec<u8>, ApiError> {
    let declared = req
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        });
    }
    let body = req.bytes().await.map_err(|e| ApiError::InvalidJson {
        detail: e.to_string(),
    })?;
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        });
    }
    Ok(body)
}

/// The local word list always; OpenAI's moderation too when a key is set (failing open).
async fn check_text(
    text: &str,
    english: bool,
    config: &Config,
) -> std::result::Result<(), ApiError> {
    let mut unsafe_ = check_user_text(text).is_blocked();
    if !unsafe_ {
        if let Some(key) = &config.openai_api_key {
            unsafe_ =
                crate::moderation::flagged(&FetchSender, &config.moderation_endpoint(), key, text)
                    .await
                    == Some(true);
        }
    }
    if !unsafe_ {
        return Ok(());
    }
    let alternatives: Vec<Value> = safe_alternatives()
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let tags: Vec<Value> = a
                .main_tags
                .iter()
                .map(|t| {
                    let category = crate::tags::index::index()
                        .get(t)
                        .map(|x| x.inspire_category());
                    json!({ "name": t, "category": category })
                })
                .collect();
            json!({
                "index": i + 1,
                "title": if english { a.title_en } else { a.title },
                "concept": if english { a.concept_en } else { a.concept },
                "vibe": a.vibe, "title_en": a.title_en, "concept_en": a.concept_en,
                "main_tags": a.main_tags, "tags": tags,
            })
        })
        .collect();
    let mut extra = serde_json::Map::new();
    extra.insert("safe_alternatives".into(), json!(alternatives));
    Err(ApiError::ContentUnsafe {
        message: refusal_message(english).into(),
        extra,
    })
}

async fn rate_limit(
    env: &Env,
    req: &Request,
    endpoint: &str,
    limit: u32,
) -> std::result::Result<(), ApiError> {
    let ip = req
        .headers()
        .get("cf-connecting-ip")
        .ok()
        .flatten()
        .unwrap_or_else(|| "unknown".into());
    let stub = env
        .durable_object("RATE_LIMITER")
        .map_err(internal)?
        .id_from_name(&format!("{endpoint}:{ip}"))
        .map_err(internal)?
        .get_stub()
        .map_err(internal)?;
    let mut init = RequestInit::new();
    init.with_method(Method::Post)
        .with_body(Some(json!({ "limit": limit }).to_string().into()));
    let r = Request::new_with_init(&format!("{ORIGIN}/hit"), &init).map_err(internal)?;
    let mut resp = stub.fetch_with_request(r).await.map_err(internal)?;
    let v: Value = resp.json().await.map_err(internal)?;
    if v["allowed"] == true {
        Ok(())
    } else {
        Err(ApiError::RateLimited {
            retry_after_s: v["retry_after_s"].as_u64().unwrap_or(60),
        })
    }
}

fn needs_token(route: &Route) -> bool {
    !matches!(
        route,
        Route::Health | Route::OpenApi | Route::Preflight | Route::Asset
    )
}

/// With `INSPIRE_API_TOKEN` set, API calls need `Authorization: Bearer <token>`.
fn authorize(req: &Request, config: &Config) -> std::result::Result<(), ApiError> {
    let Some(token) = &config.api_token else {
        return Ok(());
    };
    let given = req
        .headers()
        .get("authorization")
        .ok()
        .flatten()
        .unwrap_or_default();
    let given = given.strip_prefix("Bearer ").unwrap_or("");
    // Compare without stopping at the first difference.
    let same = given.len() == token.len()
        && given
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if same {
        Ok(())
    } else {
        Err(ApiError::Unauthorized)
    }
}

/// Supabase when configured, with the embedded index as the fallback; the index alone otherwise.
pub(crate) fn tag_store(config: &Config) -> FallbackStore<PostgrestStore<FetchSender>, fn(&str)> {
    let primary = match (&config.supabase_url, &config.supabase_key) {
        (Some(url), Some(key)) if config.uses_supabase() => Some(PostgrestStore {
            http: FetchSender,
            base_url: url.clone(),
            key: key.clone(),
            timeout_ms: config.supabase_timeout_ms,
        }),
        _ => None,
    };
    FallbackStore {
        primary,
        on_fallback: log_fallback,
    }
}

fn log_fallback(message: &str) {
    worker::console_warn!("{message}");
}

/// Static files from `www/` through the assets binding; the Worker runs first so that
/// every response, static or not, carries a request id.
async fn serve_asset(req: Request, env: &Env) -> ApiResult {
    let assets = env.assets("ASSETS").map_err(internal)?;
    let resp = assets.fetch_request(req).await.map_err(internal)?;
    mutable(resp)
}

fn json(value: &Value, status: u16) -> ApiResult {
    Response::from_json(value)
        .map(|r| r.with_status(status))
        .map_err(internal)
}

pub(crate) fn error_response(e: &ApiError, request_id: &str) -> Result<Response> {
    if let ApiError::Internal { detail } = e {
        worker::console_error!("request {request_id}: internal error: {detail}");
    }
    let mut resp = Response::from_json(&e.body(request_id))?.with_status(e.status());
    for (k, v) in e.headers() {
        resp.headers_mut().set(k, &v)?;
    }
    Ok(resp)
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal {
        detail: e.to_string(),
    }
}

/// Adds the request id to every response; timing, no-store and CORS to API ones.
fn decorate(mut resp: Response, call: &Call, is_api: bool) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("X-Request-Id", &call.request_id)?;
    h.set("X-Content-Type-Options", "nosniff")?;
    if !is_api {
        h.set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")?;
        h.set("Referrer-Policy", "no-referrer")?;
        return Ok(resp);
    }
    let total = js_sys::Date::now() - call.started_ms;
    let upstream = h.get(UPSTREAM_HEADER)?.and_then(|v| v.parse::<f64>().ok());
    let mut timing = format!("total;dur={total:.1}");
    if let Some(u) = upstream {
        timing.push_str(&format!(", upstream;dur={u:.1}"));
        h.delete(UPSTREAM_HEADER)?;
    }
    h.set("Server-Timing", &timing)?;
    if h.get("cache-control")?.is_none() {
        h.set("Cache-Control", "no-store")?;
    }
    if let Some(origin) = call
        .origin
        .as_ref()
        .filter(|o| call.config.cors_origins.iter().any(|a| a == *o || a == "*"))
    {
        h.set("Access-Control-Allow-Origin", origin)?;
        h.set("Vary", "Origin")?;
        h.set("Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS")?;
        h.set(
            "Access-Control-Allow-Headers",
            "content-type, authorization, accept",
        )?;
        h.set(
            "Access-Control-Expose-Headers",
            "x-request-id, server-timing, retry-after",
        )?;
        h.set("Access-Control-Max-Age", "600")?;
    }
    Ok(resp)
}

fn request_id() -> String {
    let mut bytes = [0u8; 8];
    // Randomness failing means the platform is broken; a fixed id is still a usable id.
    let _ = getrandom::getrandom(&mut bytes);
    crate::ids::hex(&bytes)
}

pub(crate) fn config_from_env(env: &Env) -> Config {
    Config::from_lookup(|name| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

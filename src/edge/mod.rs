//! The adapter to Cloudflare Workers: the fetch entry point, the router glue, and the
//! platform implementations of the core's ports. Nothing here decides behaviour; it moves
//! requests between the platform and the pure core.

mod platform;
mod session_object;

use crate::api::{self, ApiError, Route};
use crate::config::Config;
use crate::tags::fallback::FallbackStore;
use crate::tags::postgrest::PostgrestStore;
use platform::FetchSender;
use worker::{event, Context, Env, Headers, Request, Response, Result};

/// Per-request facts every handler and response decorator needs.
struct Call {
    request_id: String,
    started_ms: f64,
    config: Config,
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> Result<Response> {
    let call = Call {
        request_id: request_id(),
        started_ms: js_sys::Date::now(),
        config: config_from_env(&env),
    };
    let path = req.path();
    let method = req.method().to_string();
    let routed = api::route(&method, &path);
    let is_api = !matches!(routed, Ok(Route::Asset));
    let result = match routed {
        Ok(Route::Asset) => serve_asset(req, &env).await,
        Ok(r) => dispatch(r, req, &call).await,
        Err(e) => Err(e),
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => error_response(&e, &call.request_id)?,
    };
    decorate(response, &call, is_api)
}

async fn dispatch(
    route: Route,
    req: Request,
    call: &Call,
) -> std::result::Result<Response, ApiError> {
    let query = req
        .url()
        .map_err(internal)?
        .query()
        .unwrap_or("")
        .to_string();
    let store = tag_store(&call.config);
    match route {
        Route::Health => json(&api::health::health(&call.config), 200),
        Route::Preflight => Response::empty()
            .map(|r| r.with_status(204))
            .map_err(internal),
        Route::TagSearch => json(&api::tags::search(&store, &query).await?, 200),
        Route::TagLookup(name) => json(&api::tags::lookup(&store, &name).await?, 200),
        Route::TagPopular => json(&api::tags::popular(&store, &query).await?, 200),
        Route::TagCategories => json(&api::tags::categories(), 200),
        _ => Err(ApiError::NotFound { path: req.path() }),
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
async fn serve_asset(req: Request, env: &Env) -> std::result::Result<Response, ApiError> {
    let assets = env.assets("ASSETS").map_err(internal)?;
    let resp = assets.fetch_request(req).await.map_err(internal)?;
    // Responses from a binding have immutable headers; copy them so they can be decorated.
    let headers = Headers::new();
    for (k, v) in resp.headers().entries() {
        headers.set(&k, &v).map_err(internal)?;
    }
    Ok(resp.with_headers(headers))
}

fn json(value: &serde_json::Value, status: u16) -> std::result::Result<Response, ApiError> {
    Response::from_json(value)
        .map(|r| r.with_status(status))
        .map_err(internal)
}

fn error_response(e: &ApiError, request_id: &str) -> Result<Response> {
    if let ApiError::Internal { detail } = e {
        worker::console_error!("request {request_id}: internal error: {detail}");
    }
    let mut resp = Response::from_json(&e.body(request_id))?.with_status(e.status());
    for (k, v) in e.headers() {
        resp.headers_mut().set(k, &v)?;
    }
    Ok(resp)
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal {
        detail: e.to_string(),
    }
}

/// Adds the request id to every response, and timing and no-store caching to API ones.
fn decorate(mut resp: Response, call: &Call, is_api: bool) -> Result<Response> {
    let h = resp.headers_mut();
    h.set("X-Request-Id", &call.request_id)?;
    if is_api {
        let total = js_sys::Date::now() - call.started_ms;
        h.set("Server-Timing", &format!("total;dur={total:.1}"))?;
        h.set("Cache-Control", "no-store")?;
    }
    h.set("X-Content-Type-Options", "nosniff")?;
    Ok(resp)
}

fn request_id() -> String {
    let mut bytes = [0u8; 8];
    // Randomness failing means the platform is broken; a fixed id is still a usable id.
    let _ = getrandom::getrandom(&mut bytes);
    crate::ids::hex(&bytes)
}

fn config_from_env(env: &Env) -> Config {
    Config::from_lookup(|name| {
        env.secret(name)
            .ok()
            .map(|s| s.to_string())
            .or_else(|| env.var(name).ok().map(|v| v.to_string()))
    })
}

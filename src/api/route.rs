//! Which handler serves a request: a pure function of method and path, so 404 and 405
//! are decided in one place and tested natively.

use super::ApiError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Health,
    OpenApi,
    TagSearch,
    TagPopular,
    TagCategories,
    TagLookup(String),
    InspireStart,
    InspireContinue,
    InspireStatus(String),
    InspireFeedback,
    InspireDelete(String),
    /// A CORS preflight for an API path.
    Preflight,
    /// Anything outside `/api/`: a static file from `www/`.
    Asset,
}

/// Resolves a request. Paths under `/api/` that match no endpoint are 404; paths that
/// match an endpoint with another method are 405 with the methods that would work.
pub fn route(method: &str, path: &str) -> Result<Route, ApiError> {
    let Some(rest) = path.strip_prefix("/api/") else {
        return Ok(Route::Asset);
    };
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let (allow, found): (&[&'static str], Option<Route>) = match segments.as_slice() {
        ["health"] => (&["GET"], get(method, Route::Health)),
        ["openapi.json"] => (&["GET"], get(method, Route::OpenApi)),
        ["tags", "search"] => (&["GET"], get(method, Route::TagSearch)),
        ["tags", "popular"] => (&["GET"], get(method, Route::TagPopular)),
        ["tags", "categories"] => (&["GET"], get(method, Route::TagCategories)),
        ["tags", name] if !name.is_empty() => (
            &["GET"],
            get(method, Route::TagLookup(decode_segment(name))),
        ),
        ["inspire", "start"] => (&["POST"], post(method, Route::InspireStart)),
        ["inspire", "continue"] => (&["POST"], post(method, Route::InspireContinue)),
        ["inspire", "feedback"] => (&["POST"], post(method, Route::InspireFeedback)),
        ["inspire", "status", id] if !id.is_empty() => {
            (&["GET"], get(method, Route::InspireStatus(id.to_string())))
        }
        ["inspire", "session", id] if !id.is_empty() => (
            &["DELETE"],
            (method == "DELETE").then(|| Route::InspireDelete(id.to_string())),
        ),
        _ => {
            return Err(ApiError::NotFound {
                path: path.to_string(),
            })
        }
    };
    if method == "OPTIONS" {
        return Ok(Route::Preflight);
    }
    found.ok_or_else(|| {
        let mut allow = allow.to_vec();
        allow.push("OPTIONS");
        ApiError::MethodNotAllowed { allow }
    })
}

fn get(method: &str, r: Route) -> Option<Route> {
    // HEAD is answered like GET by the platform, so it is allowed wherever GET is.
    matches!(method, "GET" | "HEAD").then_some(r)
}

fn post(method: &str, r: Route) -> Option<Route> {
    (method == "POST").then_some(r)
}

/// Percent-decodes one path segment (tag names such as `:d` or `yorigami_shion_(cosplay)`
/// arrive encoded). A `+` stays a `+` in a path (`+_+` is a tag).
pub fn decode_segment(s: &str) -> String {
    percent_decode(s, false)
}

/// Percent-decodes `s`; in query strings `plus_as_space` turns `+` into a space.
/// Invalid escapes are kept as they are; invalid UTF-8 becomes U+FFFD.
pub fn percent_decode(s: &str, plus_as_space: bool) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(if plus_as_space && b == b'+' { b' ' } else { b });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_routes_resolve() {
        assert_eq!(route("GET", "/api/health"), Ok(Route::Health));
        assert_eq!(route("GET", "/api/health/"), Ok(Route::Health));
        assert_eq!(route("POST", "/api/inspire/start"), Ok(Route::InspireStart));
        assert_eq!(route("GET", "/api/tags/search"), Ok(Route::TagSearch));
        assert_eq!(
            route("GET", "/api/tags/long_hair"),
            Ok(Route::TagLookup("long_hair".into()))
        );
        assert_eq!(
            route("DELETE", "/api/inspire/session/abc"),
            Ok(Route::InspireDelete("abc".into()))
        );
        assert_eq!(route("GET", "/"), Ok(Route::Asset));
        assert_eq!(route("GET", "/app.js"), Ok(Route::Asset));
        assert_eq!(route("OPTIONS", "/api/inspire/start"), Ok(Route::Preflight));
    }

    #[test]
    fn unknown_api_paths_are_404() {
        for p in [
            "/api/",
            "/api/nope",
            "/api/inspire",
            "/api/inspire/status/",
            "/api/tags/a/b",
        ] {
            assert_eq!(
                route("GET", p),
                Err(ApiError::NotFound { path: p.into() }),
                "{p}"
            );
        }
    }

    #[test]
    fn wrong_methods_are_405_with_allow() {
        let Err(e) = route("POST", "/api/health") else {
            panic!("expected 405")
        };
        assert_eq!(e.status(), 405);
        assert_eq!(e.headers()[0].1, "GET, OPTIONS");
        let Err(e) = route("GET", "/api/inspire/start") else {
            panic!("expected 405")
        };
        assert_eq!(e.headers()[0].1, "POST, OPTIONS");
    }

    #[test]
    fn segments_are_percent_decoded() {
        assert_eq!(decode_segment("%3Ad"), ":d");
        assert_eq!(
            decode_segment("yorigami_shion_%28cosplay%29"),
            "yorigami_shion_(cosplay)"
        );
        assert_eq!(decode_segment("long%20hair"), "long hair");
        assert_eq!(decode_segment("100%"), "100%");
        assert_eq!(decode_segment("%E6%AB%BB"), "櫻");
        assert_eq!(decode_segment("%櫻"), "%櫻");
        assert_eq!(decode_segment("+_+"), "+_+");
        assert_eq!(percent_decode("long+hair", true), "long hair");
    }
}

//! `ApiError`: every failure the API can answer, each knowing its status and stable code.
//! One function renders the project's single error shape:
//! `{"error": {"code", "message", ...details}, "request_id"}`.

use serde_json::{json, Map, Value};

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// No route for this path.
    NotFound { path: String },
    /// The path exists but not for this method; `allow` lists the methods that do.
    MethodNotAllowed { allow: Vec<&'static str> },
    /// The body is not JSON.
    InvalidJson { detail: String },
    /// A field is missing, has the wrong type, or is out of range.
    Validation { field: String, message: String },
    /// A query parameter is out of range or malformed.
    BadParameter { parameter: String, message: String },
    /// The body is larger than the API accepts.
    PayloadTooLarge { limit_bytes: usize },
    /// A session id that is not a UUID.
    InvalidSessionId,
    /// A well-formed session id with no session behind it (never created, erased or expired).
    SessionNotFound,
    /// A tag that does not exist, with the closest real tags.
    TagNotFound {
        name: String,
        suggestions: Vec<String>,
    },
    /// Another turn of the same session is still running.
    TurnInProgress,
    /// Too many requests from this client; retry after the given seconds.
    RateLimited { retry_after_s: u64 },
    /// The API token is missing or wrong.
    Unauthorized,
    /// The user's message was refused by the safety check. `body` carries the friendly
    /// alternatives (built by the safety module).
    ContentUnsafe {
        message: String,
        extra: Map<String, Value>,
    },
    /// The session has ended (limit reached or completed) and takes no more turns.
    SessionClosed {
        message: String,
        extra: Map<String, Value>,
    },
    /// An upstream (model, database) failed in a way that could not be retried away.
    Upstream { message: String },
    /// A bug or platform failure; the detail goes to the log, never to the user.
    Internal { detail: String },
}

impl ApiError {
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound { .. } | Self::SessionNotFound | Self::TagNotFound { .. } => 404,
            Self::MethodNotAllowed { .. } => 405,
            Self::InvalidJson { .. }
            | Self::BadParameter { .. }
            | Self::InvalidSessionId
            | Self::ContentUnsafe { .. } => 400,
            Self::Validation { .. } => 422,
            Self::PayloadTooLarge { .. } => 413,
            Self::TurnInProgress | Self::SessionClosed { .. } => 409,
            Self::RateLimited { .. } => 429,
            Self::Unauthorized => 401,
            Self::Upstream { .. } => 502,
            Self::Internal { .. } => 500,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound { .. } => "not_found",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::InvalidJson { .. } => "invalid_json",
            Self::Validation { .. } => "validation_failed",
            Self::BadParameter { .. } => "bad_parameter",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::InvalidSessionId => "invalid_session_id",
            Self::SessionNotFound => "session_not_found",
            Self::TagNotFound { .. } => "tag_not_found",
            Self::TurnInProgress => "turn_in_progress",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized => "unauthorized",
            Self::ContentUnsafe { .. } => "content_unsafe",
            Self::SessionClosed { .. } => "session_closed",
            Self::Upstream { .. } => "upstream_unavailable",
            Self::Internal { .. } => "internal",
        }
    }

    /// The message shown to people: plain words, never upstream text or stack traces.
    pub fn message(&self) -> String {
        match self {
            Self::NotFound { path } => format!("No such endpoint: {path}"),
            Self::MethodNotAllowed { allow } => {
                format!("Method not allowed here; use {}", allow.join(", "))
            }
            Self::InvalidJson { detail } => format!("The request body is not valid JSON: {detail}"),
            Self::Validation { field, message } => format!("{field}: {message}"),
            Self::BadParameter { parameter, message } => format!("{parameter}: {message}"),
            Self::PayloadTooLarge { limit_bytes } => {
                format!("The request body is larger than {limit_bytes} bytes")
            }
            Self::InvalidSessionId => "The session id is not a valid UUID".into(),
            Self::SessionNotFound => "This conversation does not exist or was erased".into(),
            Self::TagNotFound { name, .. } => format!("No tag named '{name}'"),
            Self::TurnInProgress => {
                "The previous message is still being answered; try again in a moment".into()
            }
            Self::RateLimited { retry_after_s } => {
                format!("Too many requests; try again in {retry_after_s} s")
            }
            Self::Unauthorized => "A valid API token is required".into(),
            Self::ContentUnsafe { message, .. } | Self::SessionClosed { message, .. } => {
                message.clone()
            }
            Self::Upstream { message } => message.clone(),
            Self::Internal { .. } => "Something went wrong on our side; please try again".into(),
        }
    }

    /// Extra fields placed inside `error` next to `code` and `message`.
    fn details(&self) -> Map<String, Value> {
        let mut m = Map::new();
        match self {
            Self::Validation { field, .. } => {
                m.insert("field".into(), json!(field));
            }
            Self::BadParameter { parameter, .. } => {
                m.insert("parameter".into(), json!(parameter));
            }
            Self::MethodNotAllowed { allow } => {
                m.insert("allow".into(), json!(allow));
            }
            Self::TagNotFound { suggestions, .. } => {
                m.insert("suggestions".into(), json!(suggestions));
            }
            Self::RateLimited { retry_after_s } => {
                m.insert("retry_after_s".into(), json!(retry_after_s));
            }
            Self::ContentUnsafe { extra, .. } | Self::SessionClosed { extra, .. } => {
                m.extend(extra.clone());
            }
            _ => {}
        }
        m
    }

    /// Response headers this error needs besides the JSON content type.
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::MethodNotAllowed { allow } => vec![("Allow", allow.join(", "))],
            Self::RateLimited { retry_after_s } => vec![("Retry-After", retry_after_s.to_string())],
            Self::Unauthorized => vec![("WWW-Authenticate", "Bearer".into())],
            _ => vec![],
        }
    }

    /// The project's one error body.
    pub fn body(&self, request_id: &str) -> Value {
        let mut error = Map::new();
        error.insert("code".into(), json!(self.code()));
        error.insert("message".into(), json!(self.message()));
        error.extend(self.details());
        json!({ "error": Value::Object(error), "request_id": request_id })
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::InvalidJson {
            detail: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_renders_the_one_shape() {
        let errors = [
            ApiError::NotFound { path: "/x".into() },
            ApiError::MethodNotAllowed { allow: vec!["GET"] },
            ApiError::Validation {
                field: "message".into(),
                message: "required".into(),
            },
            ApiError::RateLimited { retry_after_s: 7 },
            ApiError::Internal {
                detail: "secret stack".into(),
            },
        ];
        for e in errors {
            let body = e.body("rid-1");
            assert_eq!(body["request_id"], "rid-1");
            assert_eq!(body["error"]["code"], e.code());
            assert!(body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()));
            assert!((400..600).contains(&e.status()));
        }
    }

    #[test]
    fn internal_detail_never_reaches_the_user() {
        let e = ApiError::Internal {
            detail: "db password wrong".into(),
        };
        assert!(!e.body("r").to_string().contains("password"));
    }

    #[test]
    fn statuses_and_headers() {
        assert_eq!(
            ApiError::Validation {
                field: "a".into(),
                message: "b".into()
            }
            .status(),
            422
        );
        let e = ApiError::MethodNotAllowed {
            allow: vec!["GET", "DELETE"],
        };
        assert_eq!(e.status(), 405);
        assert_eq!(e.headers(), vec![("Allow", "GET, DELETE".to_string())]);
        let e = ApiError::RateLimited { retry_after_s: 12 };
        assert_eq!(e.headers(), vec![("Retry-After", "12".to_string())]);
        assert_eq!(e.body("r")["error"]["retry_after_s"], 12);
    }
}

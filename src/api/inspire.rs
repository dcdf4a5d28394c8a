//! Request bodies of the Inspire endpoints, parsed and validated at the edge so the core
//! never sees raw JSON: size, JSON syntax, field types, ranges and unknown fields.

use super::ApiError;
use crate::ids::is_uuid;
use crate::session::Action;
use crate::tags::Rating;
use serde_json::{Map, Value};

pub const MAX_BODY_BYTES: usize = 16 * 1024;
pub const MAX_MESSAGE_CHARS: usize = 500;

#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    pub message: String,
    pub access: Rating,
    /// `Some(true)` for English, `Some(false)` for zh-TW, `None` to follow the message.
    pub english: Option<bool>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContinueRequest {
    pub session_id: String,
    pub message: Option<String>,
    pub action: Option<Action>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedbackRequest {
    pub session_id: String,
    pub satisfaction: u8,
    pub text: Option<String>,
    pub would_use_again: bool,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Validation {
        field: field.into(),
        message: message.into(),
    }
}

/// The body as a JSON object with only `allowed` keys.
fn object(body: &[u8], allowed: &[&str]) -> Result<Map<String, Value>, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::PayloadTooLarge {
            limit_bytes: MAX_BODY_BYTES,
        });
    }
    let v: Value = serde_json::from_slice(body)?;
    let Value::Object(map) = v else {
        return Err(invalid("body", "must be a JSON object"));
    };
    if let Some(k) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(k, "is not a known field"));
    }
    Ok(map)
}

fn message(map: &Map<String, Value>, required: bool) -> Result<Option<String>, ApiError> {
    match map.get("message") {
        None | Some(Value::Null) if !required => Ok(None),
        None | Some(Value::Null) => Err(invalid("message", "is required")),
        Some(Value::String(s)) => {
            let n = s.trim().chars().count();
            if n == 0 || s.chars().count() > MAX_MESSAGE_CHARS {
                return Err(invalid(
                    "message",
                    format!("must be 1-{MAX_MESSAGE_CHARS} characters"),
                ));
            }
            Ok(Some(s.trim().to_string()))
        }
        Some(_) => Err(invalid("message", "must be a string")),
    }
}

fn session_id(map: &Map<String, Value>) -> Result<String, ApiError> {
    match map.get("session_id") {
        None | Some(Value::Null) => Err(invalid("session_id", "is required")),
        Some(Value::String(s)) if is_uuid(s) => Ok(s.to_lowercase()),
        Some(Value::String(_)) => Err(ApiError::InvalidSessionId),
        Some(_) => Err(invalid("session_id", "must be a string")),
    }
}

pub fn parse_start(body: &[u8]) -> Result<StartRequest, ApiError> {
    let map = object(body, &["message", "user_access_level", "language"])?;
    let message = message(&map, true)?.unwrap_or_default();
    let access = match map.get("user_access_level") {
        None | Some(Value::Null) => Rating::AllAges,
        Some(Value::String(s)) => match Rating::parse(s) {
            Some(r) if r != Rating::Blocked => r,
            _ => return Err(invalid("user_access_level", "must be all-ages, r15 or r18")),
        },
        Some(_) => return Err(invalid("user_access_level", "must be a string")),
    };
    let english = match map.get("language") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s == "en" => Some(true),
        Some(Value::String(s)) if s == "zh-TW" => Some(false),
        Some(_) => return Err(invalid("language", "must be zh-TW or en")),
    };
    Ok(StartRequest {
        message,
        access,
        english,
    })
}

pub fn parse_continue(body: &[u8]) -> Result<ContinueRequest, ApiError> {
    let map = object(body, &["session_id", "message", "action"])?;
    let session_id = session_id(&map)?;
    let message = message(&map, false)?;
    let action = match map.get("action") {
        None | Some(Value::Null) => None,
        Some(Value::Object(a)) => Some(action(a)?),
        Some(_) => return Err(invalid("action", "must be an object")),
    };
    if message.is_none() && action.is_none() {
        return Err(invalid("message", "is required unless an action is given"));
    }
    Ok(ContinueRequest {
        session_id,
        message,
        action,
    })
}

fn action(a: &Map<String, Value>) -> Result<Action, ApiError> {
    match a.get("type").and_then(Value::as_str) {
        Some("select") => {
            if a.keys().any(|k| k != "type" && k != "direction") {
                return Err(invalid("action", "select takes only type and direction"));
            }
            match a.get("direction").and_then(Value::as_u64) {
                Some(n @ 1..=3) => Ok(Action::Select(n as usize)),
                _ => Err(invalid("action.direction", "must be 1, 2 or 3")),
            }
        }
        Some("finalize") if a.len() == 1 => Ok(Action::Finalize),
        Some("finalize") => Err(invalid("action", "finalize takes only type")),
        _ => Err(invalid("action.type", "must be select or finalize")),
    }
}

pub fn parse_feedback(body: &[u8]) -> Result<FeedbackRequest, ApiError> {
    let map = object(
        body,
        &["session_id", "satisfaction", "text", "would_use_again"],
    )?;
    let session_id = session_id(&map)?;
    let satisfaction = match map.get("satisfaction").and_then(Value::as_u64) {
        Some(n @ 1..=5) if map["satisfaction"].is_u64() => n as u8,
        _ => {
            return Err(invalid(
                "satisfaction",
                "must be a whole number from 1 to 5",
            ))
        }
    };
    let text = match map.get("text") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() <= MAX_MESSAGE_CHARS => {
            Some(s.trim().to_string()).filter(|s| !s.is_empty())
        }
        Some(Value::String(_)) => {
            return Err(invalid(
                "text",
                format!("must be at most {MAX_MESSAGE_CHARS} characters"),
            ))
        }
        Some(_) => return Err(invalid("text", "must be a string")),
    };
    let would_use_again = match map.get("would_use_again") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(invalid("would_use_again", "must be true or false")),
    };
    Ok(FeedbackRequest {
        session_id,
        satisfaction,
        text,
        would_use_again,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: ApiError) -> (u16, String) {
        let b = e.body("r");
        (
            e.status(),
            b["error"]["field"]
                .as_str()
                .unwrap_or(b["error"]["code"].as_str().unwrap())
                .to_string(),
        )
    }

    #[test]
    fn start_bodies() {
        let ok = parse_start(
            r#"{"message":" 櫻花 ","user_access_level":"r15","language":"en"}"#.as_bytes(),
        )
        .unwrap();
        assert_eq!(
            ok,
            StartRequest {
                message: "櫻花".into(),
                access: Rating::R15,
                english: Some(true)
            }
        );
        assert_eq!(
            parse_start(br#"{"message":"a"}"#).unwrap().access,
            Rating::AllAges
        );
        assert_eq!(
            field(parse_start(b"{not json").unwrap_err()),
            (400, "invalid_json".into())
        );
        assert_eq!(
            field(parse_start(br#"{}"#).unwrap_err()),
            (422, "message".into())
        );
        assert_eq!(
            field(parse_start(br#"{"message":"   "}"#).unwrap_err()),
            (422, "message".into())
        );
        let long = format!(r#"{{"message":"{}"}}"#, "櫻".repeat(501));
        assert_eq!(
            field(parse_start(long.as_bytes()).unwrap_err()),
            (422, "message".into())
        );
        let max = format!(r#"{{"message":"{}"}}"#, "櫻".repeat(500));
        assert!(parse_start(max.as_bytes()).is_ok());
        assert_eq!(
            field(parse_start(br#"{"message":"a","user_access_level":"blocked"}"#).unwrap_err()),
            (422, "user_access_level".into())
        );
        assert_eq!(
            field(parse_start(br#"{"message":"a","language":"fr"}"#).unwrap_err()),
            (422, "language".into())
        );
        assert_eq!(
            field(parse_start(br#"{"message":"a","extra":1}"#).unwrap_err()),
            (422, "extra".into())
        );
        assert_eq!(
            field(parse_start(br#"[1]"#).unwrap_err()),
            (422, "body".into())
        );
        let huge = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(parse_start(&huge).unwrap_err().status(), 413);
    }

    #[test]
    fn continue_bodies() {
        let id = "123e4567-e89b-42d3-a456-426614174000";
        let c = parse_continue(
            format!(r#"{{"session_id":"{id}","action":{{"type":"select","direction":2}}}}"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(c.action, Some(Action::Select(2)));
        let c = parse_continue(
            format!(r#"{{"session_id":"{id}","message":"done","action":{{"type":"finalize"}}}}"#)
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(c.action, Some(Action::Finalize));
        assert_eq!(
            field(parse_continue(br#"{"session_id":"nope","message":"a"}"#).unwrap_err()),
            (400, "invalid_session_id".into())
        );
        assert_eq!(
            field(parse_continue(br#"{"message":"a"}"#).unwrap_err()),
            (422, "session_id".into())
        );
        assert_eq!(
            field(parse_continue(format!(r#"{{"session_id":"{id}"}}"#).as_bytes()).unwrap_err()),
            (422, "message".into())
        );
        assert_eq!(
            field(
                parse_continue(
                    format!(
                        r#"{{"session_id":"{id}","action":{{"type":"select","direction":7}}}}"#
                    )
                    .as_bytes()
                )
                .unwrap_err()
            ),
            (422, "action.direction".into())
        );
        assert_eq!(
            field(
                parse_continue(
                    format!(r#"{{"session_id":"{id}","action":{{"type":"dance"}}}}"#).as_bytes()
                )
                .unwrap_err()
            ),
            (422, "action.type".into())
        );
    }

    #[test]
    fn feedback_bodies() {
        let id = "123e4567-e89b-42d3-a456-426614174000";
        let f = parse_feedback(
            format!(r#"{{"session_id":"{id}","satisfaction":5,"text":"非常好！"}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(
            (f.satisfaction, f.text.as_deref(), f.would_use_again),
            (5, Some("非常好！"), true)
        );
        for bad in ["0", "6", "4.5", "\"5\""] {
            let body = format!(r#"{{"session_id":"{id}","satisfaction":{bad}}}"#);
            assert_eq!(
                field(parse_feedback(body.as_bytes()).unwrap_err()),
                (422, "satisfaction".into()),
                "{bad}"
            );
        }
        let long = format!(
            r#"{{"session_id":"{id}","satisfaction":3,"text":"{}"}}"#,
            "a".repeat(501)
        );
        assert_eq!(
            field(parse_feedback(long.as_bytes()).unwrap_err()),
            (422, "text".into())
        );
    }
}

//! OpenAI's moderation endpoint, used on every user message when a key is set. It fails
//! open: an outage never blocks a user (the local word list still applies).

use crate::http::{HttpRequest, HttpSend};
use serde_json::{json, Value};

pub const TIMEOUT_MS: u64 = 5_000;

/// `Some(true)` when flagged, `Some(false)` when clean, `None` when the service could not
/// answer (the caller lets the message through).
pub async fn flagged<H: HttpSend>(http: &H, url: &str, key: &str, text: &str) -> Option<bool> {
    let req = HttpRequest::post_json(
        url.to_string(),
        &json!({ "model": "omni-moderation-latest", "input": text }),
        TIMEOUT_MS,
    )
    .header("authorization", &format!("Bearer {key}"));
    let resp = http.send(req).await.ok()?;
    if resp.status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&resp.body).ok()?;
    v.pointer("/results/0/flagged").and_then(Value::as_bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpError, HttpResponse};

    struct One(Result<HttpResponse, HttpError>);
    impl HttpSend for One {
        async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
            assert!(req.body.unwrap().contains("omni-moderation-latest"));
            self.0.clone()
        }
    }

    fn check(r: Result<HttpResponse, HttpError>) -> Option<bool> {
        futures_util::FutureExt::now_or_never(flagged(&One(r), "http://m/v1/moderations", "k", "x"))
            .unwrap()
    }

    #[test]
    fn flagged_clean_and_fail_open() {
        let ok = |b: &str| {
            Ok(HttpResponse {
                status: 200,
                headers: vec![],
                body: b.into(),
            })
        };
        assert_eq!(check(ok(r#"{"results":[{"flagged":true}]}"#)), Some(true));
        assert_eq!(check(ok(r#"{"results":[{"flagged":false}]}"#)), Some(false));
        assert_eq!(check(ok("garbage")), None);
        assert_eq!(
            check(Ok(HttpResponse {
                status: 503,
                headers: vec![],
                body: String::new()
            })),
            None
        );
        assert_eq!(check(Err(HttpError::Timeout)), None);
    }
}

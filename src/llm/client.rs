//! `HttpModel`: a `ModelClient` over HTTP in either wire format, with a per-request timeout
//! and retries (429, 500, 502, 503, 504, network errors, timeouts and malformed bodies; up to
//! 2 retries, exponential backoff with jitter, honouring `Retry-After`). Other 4xx fail at
//! once; the upstream's message is kept for the log, never shown to the user.

use super::{chat, responses, ModelClient, ModelError, ModelReply, ModelRequest};
use crate::clock::Clock;
use crate::config::LlmApi;
use crate::http::{HttpError, HttpRequest, HttpResponse, HttpSend};
use serde_json::Value;

pub struct HttpModel<H, C> {
    pub api: LlmApi,
    pub base_url: String,
    pub api_key: String,
    pub timeout_ms: u64,
    pub max_retries: u32,
    pub http: H,
    pub clock: C,
}

/// What one attempt came to.
enum Attempt {
    Done(ModelReply),
    Retry {
        status: Option<u16>,
        detail: String,
        wait_hint_ms: Option<u64>,
    },
    Fail(ModelError),
}

const MAX_WAIT_MS: u64 = 20_000;

impl<H: HttpSend, C: Clock> HttpModel<H, C> {
    fn request(&self, req: &ModelRequest) -> HttpRequest {
        let (path, body) = match self.api {
            LlmApi::Responses => ("responses", responses::body(req)),
            LlmApi::Chat => ("chat/completions", chat::body(req)),
        };
        HttpRequest::post_json(format!("{}/{path}", self.base_url), &body, self.timeout_ms)
            .header("authorization", &format!("Bearer {}", self.api_key))
    }

    fn judge(&self, result: Result<HttpResponse, HttpError>) -> Attempt {
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    status: None,
                    detail: e.to_string(),
                    wait_hint_ms: None,
                }
            }
        };
        let detail = || {
            format!(
                "HTTP {}: {}",
                resp.status,
                resp.body.chars().take(500).collect::<String>()
            )
        };
        match resp.status {
            200..=299 => {
                let parsed = serde_json::from_str::<Value>(&resp.body)
                    .map_err(|e| e.to_string())
                    .and_then(|v| match self.api {
                        LlmApi::Responses => responses::parse(&v),
                        LlmApi::Chat => chat::parse(&v),
                    });
                match parsed {
                    Ok(reply) => Attempt::Done(reply),
                    Err(e) => Attempt::Retry {
                        status: Some(resp.status),
                        detail: format!("malformed reply: {e}"),
                        wait_hint_ms: None,
                    },
                }
            }
            429 | 500 | 502 | 503 | 504 => Attempt::Retry {
                status: Some(resp.status),
                detail: detail(),
                wait_hint_ms: retry_after_ms(&resp),
            },
            s => Attempt::Fail(ModelError::Rejected {
                status: s,
                detail: detail(),
            }),
        }
    }

    /// Exponential backoff (500 ms, 1 s, …) plus up to 250 ms of jitter, or the upstream's
    /// `Retry-After` when it gave one; never more than 20 s.
    fn backoff_ms(&self, attempt: u32, hint: Option<u64>) -> u64 {
        let jitter = self.clock.now_ms().wrapping_mul(2_654_435_761) % 251;
        hint.unwrap_or(500 * 2u64.pow(attempt) + jitter)
            .min(MAX_WAIT_MS)
    }
}

/// `Retry-After` in seconds, or OpenAI's `retry-after-ms`.
fn retry_after_ms(resp: &HttpResponse) -> Option<u64> {
    if let Some(ms) = resp
        .header("retry-after-ms")
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        return Some(ms.max(0.0) as u64);
    }
    resp.header("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|s| (s.max(0.0) * 1000.0) as u64)
}

impl<H: HttpSend, C: Clock> ModelClient for HttpModel<H, C> {
    async fn respond(&self, req: &ModelRequest<'_>) -> Result<ModelReply, ModelError> {
        let started = self.clock.now_ms();
        let mut attempt = 0;
        loop {
            match self.judge(self.http.send(self.request(req)).await) {
                Attempt::Done(mut reply) => {
                    reply.upstream_ms = self.clock.now_ms().saturating_sub(started);
                    return Ok(reply);
                }
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry {
                    status,
                    detail,
                    wait_hint_ms,
                } => {
                    if attempt >= self.max_retries {
                        return Err(ModelError::Unavailable { status, detail });
                    }
                    self.clock
                        .sleep_ms(self.backoff_ms(attempt, wait_hint_ms))
                        .await;
                    attempt += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolChoice;
    use crate::transcript::Item;
    use std::cell::{Cell, RefCell};

    struct Script(
        RefCell<Vec<Result<HttpResponse, HttpError>>>,
        RefCell<Vec<HttpRequest>>,
    );
    impl HttpSend for Script {
        async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
            self.1.borrow_mut().push(req);
            self.0.borrow_mut().remove(0)
        }
    }
    struct FakeClock(Cell<u64>, RefCell<Vec<u64>>);
    impl Clock for FakeClock {
        fn now_ms(&self) -> u64 {
            self.0.get()
        }
        async fn sleep_ms(&self, ms: u64) {
            self.1.borrow_mut().push(ms);
            self.0.set(self.0.get() + ms);
        }
    }

    fn resp(status: u16, body: &str, headers: &[(&str, &str)]) -> Result<HttpResponse, HttpError> {
        Ok(HttpResponse {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.into(),
        })
    }

    const OK: &str = r#"{"output":[{"type":"message","content":[{"type":"output_text","text":"hi"}]}],"usage":{"input_tokens":3,"output_tokens":2}}"#;

    fn model(script: Vec<Result<HttpResponse, HttpError>>) -> HttpModel<Script, FakeClock> {
        HttpModel {
            api: LlmApi::Responses,
            base_url: "http://m/v1".into(),
            api_key: "sk".into(),
            timeout_ms: 30_000,
            max_retries: 2,
            http: Script(RefCell::new(script), RefCell::new(vec![])),
            clock: FakeClock(Cell::new(1000), RefCell::new(vec![])),
        }
    }

    fn call(m: &HttpModel<Script, FakeClock>) -> Result<ModelReply, ModelError> {
        let items = vec![Item::user("x")];
        let req = ModelRequest {
            model: "gpt-4o-mini",
            instructions: "i",
            items: &items,
            tools: &[],
            tool_choice: ToolChoice::Auto,
            max_output_tokens: 100,
        };
        futures_util::FutureExt::now_or_never(m.respond(&req)).unwrap()
    }

    #[test]
    fn retries_429_honouring_retry_after_then_succeeds() {
        let m = model(vec![
            resp(429, "{}", &[("Retry-After", "3")]),
            resp(503, "busy", &[]),
            resp(200, OK, &[]),
        ]);
        let r = call(&m).unwrap();
        assert_eq!(r.text.as_deref(), Some("hi"));
        let waits = m.clock.1.borrow().clone();
        assert_eq!(waits[0], 3000);
        assert!((1000..=1250).contains(&waits[1]), "{waits:?}");
        assert_eq!(r.upstream_ms, waits.iter().sum::<u64>());
        let sent = m.http.1.borrow();
        assert_eq!(sent.len(), 3);
        assert_eq!(sent[0].url, "http://m/v1/responses");
        assert!(sent[0]
            .headers
            .contains(&("authorization".into(), "Bearer sk".into())));
        assert_eq!(sent[0].timeout_ms, 30_000);
    }

    #[test]
    fn gives_up_after_two_retries() {
        let m = model(vec![
            resp(500, "a", &[]),
            Err(HttpError::Timeout),
            resp(200, "garbage", &[]),
        ]);
        let e = call(&m).unwrap_err();
        assert!(matches!(e, ModelError::Unavailable { .. }));
        assert!(e.detail().contains("malformed"));
        assert_eq!(m.http.1.borrow().len(), 3);
    }

    #[test]
    fn other_4xx_fail_at_once() {
        let m = model(vec![resp(
            400,
            r#"{"error":{"message":"Unknown parameter"}}"#,
            &[],
        )]);
        let e = call(&m).unwrap_err();
        assert_eq!(
            e,
            ModelError::Rejected {
                status: 400,
                detail: r#"HTTP 400: {"error":{"message":"Unknown parameter"}}"#.into()
            }
        );
        assert_eq!(m.http.1.borrow().len(), 1);
    }
}

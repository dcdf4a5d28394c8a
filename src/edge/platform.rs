//! Platform implementations of the core's ports: `HttpSend` over `fetch` (with an abort on
//! timeout) and `Clock` over `Date.now()` and `Delay`.

use crate::clock::Clock;
use crate::http::{HttpError, HttpRequest, HttpResponse, HttpSend};
use futures_util::future::{select, Either};
use std::time::Duration;
use worker::{AbortController, Delay, Fetch, Headers, Method, Request, RequestInit};

#[derive(Clone, Copy, Default)]
pub struct FetchSender;

impl HttpSend for FetchSender {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
        let headers = Headers::new();
        for (k, v) in &req.headers {
            headers.set(k, v).map_err(net)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::from(req.method.to_string()))
            .with_headers(headers);
        if let Some(body) = &req.body {
            init.with_body(Some(body.as_str().into()));
        }
        let request = Request::new_with_init(&req.url, &init).map_err(net)?;
        let controller = AbortController::default();
        let signal = controller.signal();
        let call = async move {
            let fetch = Fetch::Request(request);
            let mut resp = fetch.send_with_signal(&signal).await.map_err(net)?;
            let status = resp.status_code();
            let headers = resp.headers().entries().collect();
            let body = resp.text().await.map_err(net)?;
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        let timeout = Delay::from(Duration::from_millis(req.timeout_ms));
        match select(Box::pin(call), timeout).await {
            Either::Left((result, _)) => result,
            Either::Right(_) => {
                controller.abort();
                Err(HttpError::Timeout)
            }
        }
    }
}

fn net(e: impl std::fmt::Display) -> HttpError {
    HttpError::Network(e.to_string())
}

#[derive(Clone, Copy, Default)]
pub struct WorkerClock;

impl Clock for WorkerClock {
    fn now_ms(&self) -> u64 {
        js_sys::Date::now() as u64
    }
    async fn sleep_ms(&self, ms: u64) {
        Delay::from(Duration::from_millis(ms)).await;
    }
}

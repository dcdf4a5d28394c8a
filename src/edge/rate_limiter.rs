//! The rate-limit Durable Object: one per client address and endpoint, holding a sliding
//! window in memory (losing it on eviction only forgives a few requests).

use crate::ratelimit::Window;
use serde::Deserialize;
use serde_json::json;
use std::cell::RefCell;
use worker::{durable_object, DurableObject, Env, Request, Response, Result, State};

#[durable_object]
pub struct RateLimiter {
    window: RefCell<Window>,
}

#[derive(Deserialize)]
pub struct Hit {
    pub limit: u32,
}

impl DurableObject for RateLimiter {
    fn new(_state: State, _env: Env) -> Self {
        Self {
            window: RefCell::new(Window::default()),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let hit: Hit = req.json().await?;
        let now = js_sys::Date::now() as u64;
        let verdict = self.window.borrow_mut().hit(now, hit.limit, 60_000);
        Response::from_json(&match verdict {
            Ok(()) => json!({ "allowed": true }),
            Err(retry_after_s) => json!({ "allowed": false, "retry_after_s": retry_after_s }),
        })
    }
}

//! Shared support for the end-to-end tests: the Worker under `wrangler dev`, fake upstreams,
//! and small HTTP helpers.
#![allow(dead_code)]

pub mod fake;
pub mod fake_openai;
pub mod fake_postgrest;
pub mod llm_script;
pub mod schema;
pub mod worker;

pub use fake::{FakeServer, Reply};
pub use worker::{Worker, WorkerOptions};

use serde_json::Value;

/// A response read whole: status, headers and JSON body (Null when not JSON).
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
    pub json: Value,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

pub async fn read(resp: reqwest::Response) -> Got {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap_or_default();
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Got {
        status,
        headers,
        text,
        json,
    }
}

pub async fn get(url: &str) -> Got {
    read(client().get(url).send().await.expect("GET")).await
}

pub async fn post(url: &str, body: &Value) -> Got {
    read(client().post(url).json(body).send().await.expect("POST")).await
}

/// Asserts the project's one error shape and returns the error code.
pub fn assert_error_shape(g: &Got) -> String {
    let code = g.json["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error.code in {}", g.text));
    assert!(
        g.json["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{}",
        g.text
    );
    let rid = g.json["request_id"].as_str().expect("request_id");
    assert_eq!(
        Some(rid),
        g.header("x-request-id"),
        "body and header request ids differ"
    );
    code.to_string()
}

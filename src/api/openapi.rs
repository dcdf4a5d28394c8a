//! `GET /api/openapi.json` (placeholder; written next).

pub fn document() -> serde_json::Value {
    serde_json::json!({ "openapi": "3.1.0", "info": { "title": "Inspire Edge", "version": crate::VERSION }, "paths": {} })
}

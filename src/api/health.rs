//! `GET /api/health`: what this deployment runs on, without revealing secrets.

use crate::config::Config;
use serde_json::{json, Value};

pub fn health(config: &Config) -> Value {
    let llm = if config.offline() {
        json!({ "mode": "offline", "configured": false })
    } else {
        json!({
            "mode": "llm",
            "configured": true,
            "api": config.llm_api,
            "model": config.llm_model,
            "first_turn_model": config.llm_model_first_turn,
        })
    };
    json!({
        "status": "ok",
        "version": crate::VERSION,
        "mode": if config.offline() { "offline" } else { "llm" },
        "storage": { "sessions": "durable_object_sqlite", "consistency": "strong" },
        "tag_source": if config.uses_supabase() { "supabase" } else { "embedded" },
        "llm": llm,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_reports_offline_without_a_key_and_hides_secrets() {
        let h = health(&Config::from_lookup(|_| None));
        assert_eq!(h["status"], "ok");
        assert_eq!(h["mode"], "offline");
        assert_eq!(h["tag_source"], "embedded");
        let h = health(&Config::from_lookup(|k| {
            (k == "OPENAI_API_KEY").then(|| "sk-secret".into())
        }));
        assert_eq!(h["llm"]["mode"], "llm");
        assert!(!h.to_string().contains("sk-secret"));
    }
}

//! Configuration: every var and secret the Worker reads, parsed once per request from a
//! lookup function, so the rules (defaults, what counts as "configured") are tested natively.

use serde::Serialize;

/// Which model API the agent talks to, or none at all (the offline planner).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlmApi {
    Responses,
    Chat,
}

/// Where tags come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TagSource {
    Embedded,
    Supabase,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub llm_api: LlmApi,
    pub llm_base_url: String,
    pub llm_model: String,
    pub llm_model_first_turn: Option<String>,
    pub openai_api_key: Option<String>,
    pub llm_timeout_ms: u64,
    /// Overrides of the model price table: `model=input_per_mtok:output_per_mtok;...`.
    pub llm_prices: Option<String>,
    pub moderation_url: Option<String>,
    pub tag_source: TagSource,
    pub supabase_url: Option<String>,
    pub supabase_key: Option<String>,
    pub supabase_timeout_ms: u64,
    /// Idle sessions are erased after this long (`SESSION_TTL_DAYS`, fractions allowed).
    pub session_ttl_ms: u64,
    pub max_cost_usd: f64,
    pub max_turns: u32,
    pub turn_timeout_ms: u64,
    pub rate_limit_start_per_min: u32,
    pub rate_limit_continue_per_min: u32,
    pub api_token: Option<String>,
    /// Origins allowed by CORS; empty means same origin only.
    pub cors_origins: Vec<String>,
}

impl Config {
    /// Reads every setting through `get` (vars and secrets alike); blank values count as unset.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Config {
        let get = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let num = |k: &str, d: u64| get(k).and_then(|v| v.parse().ok()).unwrap_or(d);
        let supabase_url = get("SUPABASE_URL").map(|u| u.trim_end_matches('/').to_string());
        let supabase_key = get("SUPABASE_KEY");
        let tag_source = match get("TAG_SOURCE").as_deref() {
            Some("embedded") => TagSource::Embedded,
            Some("supabase") => TagSource::Supabase,
            _ if supabase_url.is_some() && supabase_key.is_some() => TagSource::Supabase,
            _ => TagSource::Embedded,
        };
        Config {
            llm_api: match get("LLM_API").as_deref() {
                Some("chat") => LlmApi::Chat,
                _ => LlmApi::Responses,
            },
            llm_base_url: get("LLM_BASE_URL")
                .unwrap_or_else(|| "https://api.openai.com/v1".into())
                .trim_end_matches('/')
                .to_string(),
            llm_model: get("LLM_MODEL").unwrap_or_else(|| "gpt-4o-mini".into()),
            llm_model_first_turn: get("LLM_MODEL_FIRST_TURN"),
            openai_api_key: get("OPENAI_API_KEY"),
            llm_timeout_ms: num("LLM_TIMEOUT_MS", 30_000),
            llm_prices: get("LLM_PRICES"),
            moderation_url: get("MODERATION_URL"),
            tag_source,
            supabase_url,
            supabase_key,
            supabase_timeout_ms: num("SUPABASE_TIMEOUT_MS", 3_000),
            session_ttl_ms: (get("SESSION_TTL_DAYS")
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|d| d.is_finite() && *d > 0.0)
                .unwrap_or(30.0)
                * 86_400_000.0) as u64,
            max_cost_usd: get("MAX_COST_USD")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0.05),
            turn_timeout_ms: num("TURN_TIMEOUT_S", 120) * 1000,
            max_turns: num("MAX_TURNS", 15).clamp(1, 1000) as u32,
            rate_limit_start_per_min: num("RATE_LIMIT_START_PER_MIN", 10) as u32,
            rate_limit_continue_per_min: num("RATE_LIMIT_CONTINUE_PER_MIN", 30) as u32,
            api_token: get("INSPIRE_API_TOKEN"),
            cors_origins: get("CORS_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(|o| o.trim().to_string())
                        .filter(|o| !o.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// With no key the offline planner plays the model's part.
    pub fn offline(&self) -> bool {
        self.openai_api_key.is_none()
    }

    /// Supabase is used only when it is selected and fully configured.
    /// Where moderation requests go: `MODERATION_URL`, else the model API's `/moderations`.
    pub fn moderation_endpoint(&self) -> String {
        self.moderation_url
            .clone()
            .unwrap_or_else(|| format!("{}/moderations", self.llm_base_url))
    }

    pub fn uses_supabase(&self) -> bool {
        self.tag_source == TagSource::Supabase
            && self.supabase_url.is_some()
            && self.supabase_key.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_offline_and_embedded() {
        let c = cfg(&[]);
        assert!(c.offline());
        assert!(!c.uses_supabase());
        assert_eq!(c.llm_api, LlmApi::Responses);
        assert_eq!(c.llm_base_url, "https://api.openai.com/v1");
        assert_eq!(c.max_cost_usd, 0.05);
        assert_eq!(c.turn_timeout_ms, 120_000);
        assert_eq!(c.max_turns, 15);
        assert_eq!(c.session_ttl_ms, 30 * 86_400_000);
        assert_eq!(
            (c.rate_limit_start_per_min, c.rate_limit_continue_per_min),
            (10, 30)
        );
    }

    #[test]
    fn supabase_needs_url_and_key_and_can_be_forced_off() {
        assert!(!cfg(&[("SUPABASE_URL", "http://x")]).uses_supabase());
        let both = [("SUPABASE_URL", "http://x/"), ("SUPABASE_KEY", "k")];
        let c = cfg(&both);
        assert!(c.uses_supabase());
        assert_eq!(c.supabase_url.as_deref(), Some("http://x"));
        let mut forced = both.to_vec();
        forced.push(("TAG_SOURCE", "embedded"));
        assert!(!cfg(&forced).uses_supabase());
    }

    #[test]
    fn blank_values_count_as_unset() {
        let c = cfg(&[
            ("OPENAI_API_KEY", "  "),
            ("CORS_ORIGINS", "https://a.com, https://b.com"),
        ]);
        assert!(c.offline());
        assert_eq!(c.cors_origins, vec!["https://a.com", "https://b.com"]);
        assert_eq!(cfg(&[("LLM_API", "chat")]).llm_api, LlmApi::Chat);
        assert_eq!(
            cfg(&[("SESSION_TTL_DAYS", "0.5")]).session_ttl_ms,
            43_200_000
        );
        assert_eq!(
            cfg(&[("SESSION_TTL_DAYS", "-1")]).session_ttl_ms,
            30 * 86_400_000
        );
        assert_eq!(
            cfg(&[]).moderation_endpoint(),
            "https://api.openai.com/v1/moderations"
        );
    }
}

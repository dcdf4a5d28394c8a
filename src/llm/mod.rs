//! Model clients: a neutral request/reply (what the agent loop speaks), the two OpenAI wire
//! formats (Responses and Chat Completions), retries, and prices.
//!
//! Wire types are written here rather than taken from `async-openai`: its types crate pulls
//! `derive_builder`, `reqwest`-facing features and thousands of generated structs, while the
//! agent needs a dozen fields of each format; see README "Dependencies".

pub mod chat;
pub mod client;
pub mod pricing;
pub mod responses;

use crate::transcript::Item;
use serde_json::Value;

/// A function tool offered to the model; `parameters` is a strict JSON schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub parameters: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ToolChoice {
    Auto,
    /// Force this function.
    Function(&'static str),
}

#[derive(Debug, Clone)]
pub struct ModelRequest<'a> {
    pub model: &'a str,
    pub instructions: &'a str,
    pub items: &'a [Item],
    pub tools: &'a [ToolSpec],
    pub tool_choice: ToolChoice,
    pub max_output_tokens: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ToolCall {
    pub call_id: String,
    pub name: String,
    pub arguments: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelReply {
    pub text: Option<String>,
    pub calls: Vec<ToolCall>,
    pub usage: Usage,
    /// Time spent waiting on the upstream (all attempts and backoff), for Server-Timing.
    pub upstream_ms: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ModelError {
    /// Still failing after the retries (429, 5xx, network, timeout, malformed body).
    Unavailable { status: Option<u16>, detail: String },
    /// A request the upstream refused (4xx other than 429): no point retrying.
    Rejected { status: u16, detail: String },
}

impl ModelError {
    /// The upstream's words, for the log only.
    pub fn detail(&self) -> &str {
        match self {
            ModelError::Unavailable { detail, .. } | ModelError::Rejected { detail, .. } => detail,
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait ModelClient {
    async fn respond(&self, req: &ModelRequest<'_>) -> Result<ModelReply, ModelError>;
    /// "llm" or "offline", reported in every response.
    fn mode(&self) -> &'static str {
        "llm"
    }
}

/// Reasoning models take `reasoning: {effort}` and no sampling parameters.
pub fn is_reasoning_model(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    m.starts_with("gpt-5") || m.starts_with("o1") || m.starts_with("o3") || m.starts_with("o4")
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasoning_models() {
        assert!(super::is_reasoning_model("gpt-5-mini"));
        assert!(super::is_reasoning_model("o4-mini"));
        assert!(super::is_reasoning_model("openai/gpt-5"));
        assert!(!super::is_reasoning_model("gpt-4o-mini"));
        assert!(!super::is_reasoning_model("llama3.1"));
    }
}

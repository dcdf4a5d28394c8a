//! The Worker → session object protocol: internal requests carry typed JSON and the
//! caller's request id; answers are already in the public API's shapes.

use crate::session::Action;
use serde::{Deserialize, Serialize};

pub const ORIGIN: &str = "https://session.inspire";
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// Milliseconds the session spent waiting on upstreams, for Server-Timing.
pub const UPSTREAM_HEADER: &str = "x-upstream-ms";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TurnCall {
    pub start: bool,
    pub session_id: String,
    pub message: Option<String>,
    /// Start only: the access level and language fixed for the whole session.
    pub access: Option<String>,
    pub english: Option<bool>,
    /// 1-based direction to select.
    pub select: Option<usize>,
    pub finalize: bool,
    pub stream: bool,
}

impl TurnCall {
    pub fn action(&self) -> Option<Action> {
        match (self.select, self.finalize) {
            (Some(n), _) => Some(Action::Select(n)),
            (None, true) => Some(Action::Finalize),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeedbackCall {
    pub satisfaction: u8,
    pub text: Option<String>,
    pub would_use_again: bool,
}

//! A conversation's state and rules, independent of storage: what a request asks of the next
//! turn, how a finished turn changes the session, the limits kept across requests (turns,
//! tool calls, cost, time, repeated feedback), and the JSON the API answers with.

use crate::agent::{LimitHit, ReplyKind, TurnOutcome, TurnStats};
use crate::conversation::{finalize_text, is_finalize_request, parse_selection, select_text};
use crate::tags::Rating;
use crate::tools::ideas::Direction;
use crate::tools::FINALIZE_PROMPT;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Understanding,
    Exploring,
    Refining,
    Finalizing,
    Completed,
    Aborted,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Understanding => "understanding",
            Phase::Exploring => "exploring",
            Phase::Refining => "refining",
            Phase::Finalizing => "finalizing",
            Phase::Completed => "completed",
            Phase::Aborted => "aborted",
        }
    }
    pub fn parse(s: &str) -> Phase {
        match s {
            "exploring" => Phase::Exploring,
            "refining" => Phase::Refining,
            "finalizing" => Phase::Finalizing,
            "completed" => Phase::Completed,
            "aborted" => Phase::Aborted,
            _ => Phase::Understanding,
        }
    }
}

/// Limits kept across requests (the original rebuilt them per request, so they never fired).
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub max_turns: u32,
    pub max_calls_per_tool: u32,
    pub max_cost_usd: f64,
    pub turn_timeout_ms: u64,
    /// This many identical messages in a row end the session.
    pub repeat_threshold: usize,
    /// An idle session is erased after this long.
    pub idle_ttl_ms: u64,
}

impl Limits {
    pub fn from_config(c: &crate::config::Config) -> Limits {
        Limits {
            max_turns: c.max_turns,
            max_calls_per_tool: 5,
            max_cost_usd: c.max_cost_usd,
            turn_timeout_ms: c.turn_timeout_ms,
            repeat_threshold: 3,
            idle_ttl_ms: c.session_ttl_ms,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortReason {
    TurnLimit,
    ToolLimit,
    CostLimit,
    Timeout,
    Repetition,
}

impl AbortReason {
    pub fn code(self) -> &'static str {
        match self {
            AbortReason::TurnLimit => "turn_limit",
            AbortReason::ToolLimit => "tool_limit",
            AbortReason::CostLimit => "cost_limit",
            AbortReason::Timeout => "timeout",
            AbortReason::Repetition => "repetition",
        }
    }

    /// Friendly words, nothing technical: the user gets the best result so far.
    pub fn message(self, english: bool) -> &'static str {
        match (self, english) {
            (AbortReason::CostLimit, false) => "這回合我們走捷徑，直接定一個最接近的給你。",
            (AbortReason::TurnLimit, false) => "聊了好多輪！我把最接近的版本整理給你，想再玩可以開新對話。",
            (AbortReason::Repetition, false) => "我們好像在原地打轉，先把最接近的版本給你，換個說法再來也可以。",
            (_, false) => "我們先停在這裡，這是目前最接近的版本，想再試可以開新對話。",
            (AbortReason::CostLimit, true) => "Let's take a shortcut: here's the closest result so far.",
            (AbortReason::TurnLimit, true) => "We've chatted a lot! Here's the closest version; start a new chat to keep playing.",
            (AbortReason::Repetition, true) => "We seem to be going in circles, so here's the closest version so far.",
            (_, true) => "Let's pause here: this is the closest version so far. Start a new chat to try again.",
        }
    }
}

/// Everything the session remembers besides its transcript.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionState {
    pub id: String,
    pub phase: Phase,
    pub access: Rating,
    pub english: bool,
    pub mode: String,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub turns: u32,
    pub model_calls: u32,
    pub tool_calls: BTreeMap<String, u32>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub quality_score: Option<u8>,
    pub directions: Vec<Direction>,
    pub selected: Option<usize>,
    pub final_output: Option<Value>,
    pub abort_reason: Option<String>,
    pub asked_question: bool,
}

impl SessionState {
    pub fn new(id: String, access: Rating, english: bool, mode: &str, now_ms: u64) -> SessionState {
        SessionState {
            id,
            phase: Phase::Understanding,
            access,
            english,
            mode: mode.into(),
            created_ms: now_ms,
            updated_ms: now_ms,
            turns: 0,
            model_calls: 0,
            tool_calls: BTreeMap::new(),
            input_tokens: 0,
            output_tokens: 0,
            cost_usd: 0.0,
            quality_score: None,
            directions: Vec::new(),
            selected: None,
            final_output: None,
            abort_reason: None,
            asked_question: false,
        }
    }
}

/// An explicit choice sent by the page, so it need not phrase it as text.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Select(usize),
    Finalize,
}

/// What the next turn will do.
#[derive(Debug, Clone, PartialEq)]
pub struct Prepared {
    pub user_text: String,
    pub force_tool: Option<&'static str>,
    pub select: Option<usize>,
}

/// Why a turn does not run.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The session has ended; it takes no more turns.
    Closed,
    /// The action does not fit the session (`field`, message).
    Invalid(&'static str, String),
    /// A limit is reached before the turn: the session ends now.
    Abort(AbortReason),
}

/// Turns a request into the next turn's input, or refuses it. `recent` are the latest user
/// messages, newest last.
pub fn prepare(
    s: &SessionState,
    message: Option<&str>,
    action: Option<&Action>,
    recent: &[String],
    limits: &Limits,
) -> Result<Prepared, Refusal> {
    if s.phase == Phase::Aborted {
        return Err(Refusal::Closed);
    }
    let message = message.map(str::trim).filter(|m| !m.is_empty());
    let prepared = match action {
        Some(Action::Select(n)) => {
            let Some(d) = s.directions.get(n.wrapping_sub(1)) else {
                return Err(Refusal::Invalid(
                    "action.direction",
                    format!("must be between 1 and {}", s.directions.len()),
                ));
            };
            let mut text = select_text(*n, &d.title, s.english);
            if let Some(m) = message {
                text = format!("{text}\n{m}");
            }
            Prepared {
                user_text: text,
                force_tool: None,
                select: Some(*n),
            }
        }
        Some(Action::Finalize) => {
            if s.directions.is_empty() {
                return Err(Refusal::Invalid(
                    "action",
                    "there is nothing to finalize yet".into(),
                ));
            }
            Prepared {
                user_text: message.map_or_else(|| finalize_text(s.english), str::to_string),
                force_tool: Some(FINALIZE_PROMPT),
                select: None,
            }
        }
        None => {
            let Some(m) = message else {
                return Err(Refusal::Invalid("message", "is required".into()));
            };
            let finalize = !s.directions.is_empty() && is_finalize_request(m);
            Prepared {
                user_text: m.to_string(),
                force_tool: finalize.then_some(FINALIZE_PROMPT),
                select: parse_selection(m, s.directions.len()),
            }
        }
    };
    if s.turns >= limits.max_turns {
        return Err(Refusal::Abort(AbortReason::TurnLimit));
    }
    let same = |t: &String| normalize_message(t) == normalize_message(&prepared.user_text);
    let n = limits.repeat_threshold.saturating_sub(1);
    if n > 0 && recent.len() >= n && recent[recent.len() - n..].iter().all(same) {
        return Err(Refusal::Abort(AbortReason::Repetition));
    }
    Ok(prepared)
}

fn normalize_message(t: &str) -> String {
    t.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Folds a finished turn into the session; returns the limit it reached, if any.
pub fn apply(
    s: &mut SessionState,
    p: &Prepared,
    o: &TurnOutcome,
    now_ms: u64,
    limits: &Limits,
) -> Option<AbortReason> {
    s.turns += 1;
    s.updated_ms = now_ms;
    add_stats(s, &o.stats);
    if let Some(q) = o.quality_score {
        s.quality_score = Some(q);
    }
    if let Some(d) = &o.directions {
        // A wholly new set (new titles) starts the choice over; a refined set keeps it.
        let same_set = d.len() == s.directions.len()
            && d.iter().zip(&s.directions).all(|(a, b)| a.title == b.title);
        if !same_set {
            s.selected = None;
        }
        s.directions = d.clone();
    }
    if let Some(n) = p.select {
        s.selected = Some(n);
    }
    if let Some(f) = &o.final_output {
        s.final_output = Some(f.clone());
    }
    s.asked_question |= o.kind == ReplyKind::Question;
    s.phase = match o.kind {
        ReplyKind::Completed => Phase::Completed,
        _ if s.selected.is_some() => Phase::Refining,
        _ if !s.directions.is_empty() => Phase::Exploring,
        _ => Phase::Understanding,
    };
    match &o.limit {
        Some(LimitHit::ToolCalls { .. }) => Some(AbortReason::ToolLimit),
        Some(LimitHit::Cost) => Some(AbortReason::CostLimit),
        None if s.cost_usd >= limits.max_cost_usd => Some(AbortReason::CostLimit),
        None => None,
    }
}

fn add_stats(s: &mut SessionState, t: &TurnStats) {
    s.model_calls += t.model_calls;
    s.input_tokens += t.input_tokens;
    s.output_tokens += t.output_tokens;
    s.cost_usd += t.cost_usd;
    for (k, v) in &t.tool_calls {
        *s.tool_calls.entry(k.clone()).or_insert(0) += v;
    }
}

/// Ends the session with `reason`, keeping `best` (the best result so far) as its output.
pub fn abort(s: &mut SessionState, reason: AbortReason, best: Option<Value>, now_ms: u64) {
    s.phase = Phase::Aborted;
    s.abort_reason = Some(reason.code().into());
    s.updated_ms = now_ms;
    if s.final_output.is_none() {
        s.final_output = best;
    }
}

/// The direction a best-effort result is built from: the chosen one, else the first.
pub fn best_direction(s: &SessionState) -> Option<&Direction> {
    s.selected
        .and_then(|n| s.directions.get(n - 1))
        .or_else(|| s.directions.first())
}

/// The answer to `start` and `continue`.
pub fn turn_response(
    s: &SessionState,
    kind: &str,
    message: &str,
    turn: Option<&TurnStats>,
    duration_ms: u64,
) -> Value {
    let zero = TurnStats::default();
    let t = turn.unwrap_or(&zero);
    json!({
        "session_id": s.id,
        "type": kind,
        "message": message,
        "phase": s.phase,
        "directions": s.directions,
        "selected_direction": s.selected,
        "final_output": s.final_output,
        "abort_reason": s.abort_reason,
        "metadata": {
            "turn": s.turns,
            "model_calls": t.model_calls,
            "tool_calls": t.tool_calls,
            "input_tokens": t.input_tokens,
            "output_tokens": t.output_tokens,
            "cost_usd": t.cost_usd,
            "session_cost_usd": s.cost_usd,
            "quality_score": s.quality_score,
            "duration_ms": duration_ms,
            "upstream_ms": t.upstream_ms,
            "model_ms": t.model_ms,
            "instructions": crate::agent::INSTRUCTIONS_VERSION,
        },
        "mode": s.mode,
        "language": if s.english { "en" } else { "zh-TW" },
    })
}

/// The reply kind as the API names it.
pub fn kind_name(k: ReplyKind) -> &'static str {
    match k {
        ReplyKind::Directions => "directions",
        ReplyKind::Question => "question",
        ReplyKind::Message => "message",
        ReplyKind::Completed => "completed",
    }
}

#[cfg(test)]
mod tests;

//! The agent loop: one user turn = model call → run all its tool calls concurrently → one
//! output per call, in call order → model again → … until a reply without tool calls or the
//! model-call budget is spent. Pure: the model, the tag store and the clock are ports.

use crate::clock::Clock;
use crate::llm::pricing::Prices;
use crate::llm::{ModelClient, ModelError, ModelRequest, ToolCall, ToolChoice};
use crate::tags::{Rating, TagStore};
use crate::tools::ideas::Direction;
use crate::tools::{
    self, ToolContext, FINALIZE_PROMPT, GENERATE_IDEAS, UNDERSTAND_INTENT, VALIDATE_QUALITY,
};
use crate::transcript::{trim_to_budget, Item};
use futures_util::future::join_all;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

pub const INSTRUCTIONS_VERSION: &str = "inspire-v1";
const INSTRUCTIONS: &str = include_str!("../../prompts/inspire-v1.md");

/// The system prompt for a session.
pub fn instructions(access: Rating, english: bool) -> String {
    INSTRUCTIONS
        .replace(
            "{language}",
            if english {
                "English"
            } else {
                "Traditional Chinese (zh-TW)"
            },
        )
        .replace("{access_level}", access.as_str())
}

/// Per-turn budgets.
#[derive(Debug, Clone)]
pub struct Budgets {
    pub max_model_calls: u32,
    pub max_calls_per_tool: u32,
    /// The transcript sent to the model is trimmed oldest-first to this many tokens.
    pub history_tokens: usize,
    pub max_output_tokens: u32,
    /// What is left of the session's cost cap.
    pub cost_left_usd: f64,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            max_model_calls: 6,
            max_calls_per_tool: 5,
            history_tokens: 12_000,
            max_output_tokens: 2_000,
            cost_left_usd: 0.05,
        }
    }
}

/// What a turn is about to do.
pub struct TurnInput<'a> {
    pub model: &'a str,
    pub history: &'a [Item],
    pub user_text: String,
    pub access: Rating,
    pub english: bool,
    /// Force this tool on the first model call (the API's finalize action).
    pub force_tool: Option<&'static str>,
    /// No directions have been shown yet in this session.
    pub needs_directions: bool,
    /// A clarifying question is still allowed (once per session, before any directions).
    pub may_ask: bool,
    pub budgets: Budgets,
}

/// Progress, as it happens (streamed to the browser).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Phase {
        phase: String,
        label: String,
    },
    ToolStarted {
        tool: String,
        call_id: String,
        label: String,
    },
    ToolFinished {
        tool: String,
        call_id: String,
        duration_ms: u64,
        summary: String,
        ok: bool,
    },
    Directions {
        directions: Vec<Direction>,
    },
    Message {
        message: String,
    },
    Final {
        final_output: Value,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    Directions,
    Question,
    Message,
    Completed,
}

/// A limit reached during the turn; the session aborts with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "limit", rename_all = "snake_case")]
pub enum LimitHit {
    ToolCalls { tool: String },
    Cost,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TurnStats {
    pub model_calls: u32,
    pub tool_calls: BTreeMap<String, u32>,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost_usd: f64,
    pub upstream_ms: u64,
    /// Latency of each model call, in order.
    pub model_ms: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TurnOutcome {
    /// The turn's items, starting with the user's, ready to append to the transcript.
    pub items: Vec<Item>,
    pub reply: String,
    pub kind: ReplyKind,
    pub directions: Option<Vec<Direction>>,
    pub final_output: Option<Value>,
    pub quality_score: Option<u8>,
    pub stats: TurnStats,
    pub limit: Option<LimitHit>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TurnError {
    Model(ModelError),
}

/// What the tools changed during the turn.
#[derive(Default)]
struct Effects {
    directions: Option<Vec<Direction>>,
    final_output: Option<Value>,
    quality_score: Option<u8>,
    asked_clarification: bool,
}

pub async fn run_turn<M, S, C>(
    model: &M,
    store: &S,
    clock: &C,
    prices: &Prices,
    input: TurnInput<'_>,
    emit: &dyn Fn(Event),
) -> Result<TurnOutcome, TurnError>
where
    M: ModelClient,
    S: TagStore,
    C: Clock,
{
    let ctx = ToolContext {
        store,
        access: input.access,
        english: input.english,
    };
    let instructions = instructions(input.access, input.english);
    let specs = tools::specs();
    let mut items = vec![Item::user(input.user_text.clone())];
    let mut stats = TurnStats::default();
    let mut fx = Effects::default();
    let mut limit = None;
    let mut reply: Option<String> = None;
    let mut force = input.force_tool;
    let mut forced_ideas = false;
    emit(phase_event(
        if input.needs_directions {
            "understanding"
        } else {
            "refining"
        },
        input.english,
    ));

    while stats.model_calls < input.budgets.max_model_calls {
        if stats.cost_usd >= input.budgets.cost_left_usd {
            limit = Some(LimitHit::Cost);
            break;
        }
        let mut history: Vec<Item> = input.history.to_vec();
        history.extend(items.iter().cloned());
        let req = ModelRequest {
            model: input.model,
            instructions: &instructions,
            items: trim_to_budget(&history, input.budgets.history_tokens),
            tools: &specs,
            tool_choice: force.take().map_or(ToolChoice::Auto, ToolChoice::Function),
            max_output_tokens: input.budgets.max_output_tokens,
        };
        let started = clock.now_ms();
        let answer = model.respond(&req).await.map_err(TurnError::Model)?;
        stats.model_calls += 1;
        stats.model_ms.push(clock.now_ms().saturating_sub(started));
        stats.upstream_ms += answer.upstream_ms;
        stats.input_tokens += answer.usage.input_tokens;
        stats.output_tokens += answer.usage.output_tokens;
        stats.cost_usd += prices.cost_usd(input.model, answer.usage);

        if answer.calls.is_empty() {
            let text = answer.text.unwrap_or_default();
            // The first turn must end with directions, unless a single question is allowed.
            let question_ok = input.may_ask && fx.asked_clarification;
            if input.needs_directions && fx.directions.is_none() && !question_ok && !forced_ideas {
                forced_ideas = true;
                force = Some(GENERATE_IDEAS);
                continue;
            }
            items.push(Item::assistant(text.clone()));
            reply = Some(text);
            break;
        }

        if let Some(t) = answer.text.as_ref().filter(|t| !t.trim().is_empty()) {
            items.push(Item::assistant(t.clone()));
        }
        for c in &answer.calls {
            items.push(Item::ToolCall {
                call_id: c.call_id.clone(),
                name: c.name.clone(),
                arguments: c.arguments.clone(),
            });
        }
        let outputs = run_calls(
            &ctx,
            clock,
            &answer.calls,
            &mut stats,
            &input.budgets,
            &mut limit,
            emit,
        )
        .await;
        for (call, result) in answer.calls.iter().zip(outputs) {
            apply_effects(&call.name, &result, &mut fx, emit);
            let output = match &result {
                Ok(v) => v.to_string(),
                Err(e) => e.to_output().to_string(),
            };
            items.push(Item::ToolOutput {
                call_id: call.call_id.clone(),
                output,
            });
        }
        if limit.is_some() {
            break;
        }
    }

    let kind = if fx.final_output.is_some() {
        ReplyKind::Completed
    } else if fx.directions.is_some() {
        ReplyKind::Directions
    } else if input.needs_directions && fx.asked_clarification && reply.is_some() && input.may_ask {
        ReplyKind::Question
    } else {
        ReplyKind::Message
    };
    let reply = match reply.filter(|r| !r.trim().is_empty()) {
        Some(r) => r,
        None => {
            // The budget ran out mid-way: close the turn with a reply so the transcript stays whole.
            let text = fallback_reply(kind, input.english);
            items.push(Item::assistant(text.clone()));
            text
        }
    };
    emit(Event::Message {
        message: reply.clone(),
    });
    Ok(TurnOutcome {
        items,
        reply,
        kind,
        directions: fx.directions,
        final_output: fx.final_output,
        quality_score: fx.quality_score,
        stats,
        limit,
    })
}

/// Runs every call of one model reply at once; results come back in call order. Calls past
/// a tool's per-turn budget are answered with an error and mark the limit.
async fn run_calls<S: TagStore, C: Clock>(
    ctx: &ToolContext<'_, S>,
    clock: &C,
    calls: &[ToolCall],
    stats: &mut TurnStats,
    budgets: &Budgets,
    limit: &mut Option<LimitHit>,
    emit: &dyn Fn(Event),
) -> Vec<Result<Value, tools::ToolError>> {
    let mut allowed = Vec::with_capacity(calls.len());
    for c in calls {
        let n = stats.tool_calls.entry(c.name.clone()).or_insert(0);
        *n += 1;
        let ok = *n <= budgets.max_calls_per_tool;
        if !ok && limit.is_none() {
            *limit = Some(LimitHit::ToolCalls {
                tool: c.name.clone(),
            });
        }
        allowed.push(ok);
    }
    let runs = calls.iter().zip(allowed).map(|(c, ok)| async move {
        if !ok {
            return Err(tools::ToolError(format!(
                "{}: called too many times this turn",
                c.name
            )));
        }
        emit(Event::ToolStarted {
            tool: c.name.clone(),
            call_id: c.call_id.clone(),
            label: tool_label(&c.name, ctx.english).into(),
        });
        let t0 = clock.now_ms();
        let result = tools::run(ctx, &c.name, &c.arguments).await;
        emit(Event::ToolFinished {
            tool: c.name.clone(),
            call_id: c.call_id.clone(),
            duration_ms: clock.now_ms().saturating_sub(t0),
            summary: tools::summarize(&c.name, &result, ctx.english),
            ok: result.is_ok(),
        });
        result
    });
    join_all(runs).await
}

fn apply_effects(
    tool: &str,
    result: &Result<Value, tools::ToolError>,
    fx: &mut Effects,
    emit: &dyn Fn(Event),
) {
    let Ok(v) = result else { return };
    match tool {
        UNDERSTAND_INTENT => {
            fx.asked_clarification |=
                v["next_action"] == "ask_clarification" || v["clarity_level"] == "very_vague";
        }
        GENERATE_IDEAS => {
            if let Ok(d) = serde_json::from_value::<Vec<Direction>>(v["directions"].clone()) {
                emit(Event::Directions {
                    directions: d.clone(),
                });
                fx.directions = Some(d);
            }
        }
        VALIDATE_QUALITY => fx.quality_score = v["score"].as_u64().map(|s| s as u8),
        FINALIZE_PROMPT => {
            fx.quality_score = v["quality_score"].as_u64().map(|s| s as u8);
            emit(Event::Final {
                final_output: v["output"].clone(),
            });
            fx.final_output = Some(v["output"].clone());
        }
        _ => {}
    }
}

pub fn tool_label(tool: &str, english: bool) -> &'static str {
    match (tool, english) {
        (UNDERSTAND_INTENT, false) => "理解意圖…",
        (tools::SEARCH_EXAMPLES, false) => "搜尋標籤…",
        (GENERATE_IDEAS, false) => "產生方向…",
        (VALIDATE_QUALITY, false) => "檢查品質…",
        (FINALIZE_PROMPT, false) => "整理最終 prompt…",
        (UNDERSTAND_INTENT, true) => "Understanding…",
        (tools::SEARCH_EXAMPLES, true) => "Searching tags…",
        (GENERATE_IDEAS, true) => "Creating directions…",
        (VALIDATE_QUALITY, true) => "Checking quality…",
        (FINALIZE_PROMPT, true) => "Finishing the prompt…",
        (_, false) => "處理中…",
        (_, true) => "Working…",
    }
}

fn phase_event(phase: &str, english: bool) -> Event {
    let label = match (phase, english) {
        ("understanding", false) => "正在理解創作意圖…",
        ("understanding", true) => "Understanding your idea…",
        (_, false) => "正在優化細節…",
        (_, true) => "Refining the details…",
    };
    Event::Phase {
        phase: phase.into(),
        label: label.into(),
    }
}

/// A friendly closing line when the model produced no text.
pub fn fallback_reply(kind: ReplyKind, english: bool) -> String {
    match (kind, english) {
        (ReplyKind::Completed, false) => "完成了！給你完整版 ✨".into(),
        (ReplyKind::Directions, false) => "給你幾個方向，選一個我們繼續聊！".into(),
        (_, false) => "我先整理到這裡，想調整什麼直接說，或說「完成」拿最終 prompt。".into(),
        (ReplyKind::Completed, true) => "Done! Here's the full prompt ✨".into(),
        (ReplyKind::Directions, true) => {
            "Here are a few directions. Pick one and we'll keep going!".into()
        }
        (_, true) => {
            "That's where we are. Tell me what to change, or say \"finalize\" for the prompt."
                .into()
        }
    }
}

/// Helpers for native tests of conversations.
#[cfg(test)]
pub mod testkit {
    use super::*;
    use crate::tags::index::EmbeddedStore;

    /// A clock that never moves; sleeping returns at once.
    pub struct StillClock;
    impl Clock for StillClock {
        fn now_ms(&self) -> u64 {
            0
        }
        async fn sleep_ms(&self, _ms: u64) {}
    }

    pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures_util::FutureExt::now_or_never(f).expect("native fakes are ready at once")
    }

    /// Runs one turn after `history` with `model`, collecting its events.
    pub fn turn<M: ModelClient>(
        model: &M,
        history: &[Item],
        text: &str,
        force: Option<&'static str>,
    ) -> (TurnOutcome, Vec<Event>) {
        let events = std::cell::RefCell::new(Vec::new());
        let needs = !history.iter().any(|i| matches!(i, Item::ToolOutput { output, .. } if output.contains("\"ready_for_selection\"")));
        let input = TurnInput {
            model: "gpt-4o-mini",
            history,
            user_text: text.into(),
            access: Rating::AllAges,
            english: crate::lexicon::detect_language(text) == "en",
            force_tool: force,
            needs_directions: needs,
            may_ask: needs,
            budgets: Budgets {
                history_tokens: usize::MAX,
                ..Budgets::default()
            },
        };
        let out = block_on(run_turn(
            model,
            &EmbeddedStore,
            &StillClock,
            &Prices::load(None),
            input,
            &|e| events.borrow_mut().push(e),
        ));
        (out.expect("turn"), events.into_inner())
    }

    /// Runs several turns, each seeing the ones before.
    pub fn converse<M: ModelClient>(model: &M, texts: &[&str]) -> Vec<TurnOutcome> {
        let mut history = Vec::new();
        let mut outs = Vec::new();
        for t in texts {
            let force = if crate::conversation::is_finalize_request(t) {
                Some(FINALIZE_PROMPT)
            } else {
                None
            };
            let (o, _) = turn(model, &history, t, force);
            history.extend(o.items.clone());
            outs.push(o);
        }
        outs
    }
}

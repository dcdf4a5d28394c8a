//! The session Durable Object: one per conversation. It owns the SQLite tables, the
//! one-turn-at-a-time guard, the limits, expiry, and runs the agent's turns.

use super::platform::{FetchSender, WorkerClock};
use super::protocol::{FeedbackCall, TurnCall, REQUEST_ID_HEADER, UPSTREAM_HEADER};
use super::store::{self, TurnRecord};
use super::{config_from_env, error_response, internal, tag_store};
use crate::agent::{self, Budgets, Event, TurnInput, TurnOutcome};
use crate::api::ApiError;
use crate::clock::{rfc3339, Clock};
use crate::config::Config;
use crate::llm::client::HttpModel;
use crate::llm::pricing::Prices;
use crate::llm::{ModelClient, ModelError, ModelReply, ModelRequest};
use crate::planner::Planner;
use crate::session::{self, AbortReason, Limits, Prepared, Refusal, SessionState};
use crate::tags::Rating;
use crate::tools::{self, ToolContext};
use futures_util::future::{select, Either};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use worker::{
    durable_object, DurableObject, Env, Request, Response, Result, SqlStorage, State, Storage,
};

#[durable_object]
pub struct InspireSession {
    core: Rc<Core>,
}

struct Core {
    sql: SqlStorage,
    storage: Storage,
    env: Env,
    /// The turn running in this instance (seq, started at). A persisted guard without one
    /// here means the instance restarted mid-turn.
    running: RefCell<Option<(i64, u64)>>,
}

impl DurableObject for InspireSession {
    fn new(state: State, env: Env) -> Self {
        let sql = state.storage().sql();
        let storage = state.storage();
        Self {
            core: Rc::new(Core {
                sql,
                storage,
                env,
                running: RefCell::new(None),
            }),
        }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let rid = req.headers().get(REQUEST_ID_HEADER)?.unwrap_or_default();
        let result = match (req.method().to_string().as_str(), req.path().as_str()) {
            ("POST", "/turn") => match req.json::<TurnCall>().await {
                Ok(call) => self.core.clone().turn(call, &rid).await,
                Err(e) => Err(ApiError::Internal {
                    detail: e.to_string(),
                }),
            },
            ("GET", "/status") => self.core.status().map(|v| json_response(&v, 200)),
            ("POST", "/feedback") => match req.json::<FeedbackCall>().await {
                Ok(f) => self.core.feedback(f).map(|v| json_response(&v, 200)),
                Err(e) => Err(ApiError::Internal {
                    detail: e.to_string(),
                }),
            },
            ("DELETE", "/session") => self.core.erase().await.map(|v| json_response(&v, 200)),
            _ => Err(ApiError::NotFound { path: req.path() }),
        };
        result.or_else(|e| error_response(&e, &rid))
    }

    async fn alarm(&self) -> Result<Response> {
        self.core.expire().await?;
        Response::ok("ok")
    }
}

fn json_response(v: &Value, status: u16) -> Response {
    Response::from_json(v)
        .map(|r| r.with_status(status))
        .unwrap_or_else(|_| Response::error("encoding failed", 500).unwrap())
}

/// The model for this deployment: the planner without a key, else the configured API.
enum Model {
    Offline(Planner),
    Http(HttpModel<FetchSender, WorkerClock>),
}

impl ModelClient for Model {
    async fn respond(&self, req: &ModelRequest<'_>) -> std::result::Result<ModelReply, ModelError> {
        match self {
            Model::Offline(p) => p.respond(req).await,
            Model::Http(m) => m.respond(req).await,
        }
    }
    fn mode(&self) -> &'static str {
        match self {
            Model::Offline(_) => "offline",
            Model::Http(_) => "llm",
        }
    }
}

fn model_for(c: &Config) -> Model {
    match &c.openai_api_key {
        None => Model::Offline(Planner),
        Some(key) => Model::Http(HttpModel {
            api: c.llm_api,
            base_url: c.llm_base_url.clone(),
            api_key: key.clone(),
            timeout_ms: c.llm_timeout_ms,
            max_retries: 2,
            http: FetchSender,
            clock: WorkerClock,
        }),
    }
}

/// A turn that passed every check and holds the guard.
struct Admitted {
    state: SessionState,
    prepared: Prepared,
    seq: i64,
    started_ms: u64,
    history: Vec<crate::transcript::Item>,
}

impl Core {
    fn now(&self) -> u64 {
        WorkerClock.now_ms()
    }

    async fn turn(
        self: Rc<Self>,
        call: TurnCall,
        rid: &str,
    ) -> std::result::Result<Response, ApiError> {
        store::migrate(&self.sql).map_err(internal)?;
        let config = config_from_env(&self.env);
        let limits = Limits::from_config(&config);
        let admitted = match self.admit(&call, &config, &limits) {
            Ok(a) => a,
            Err(Early::Api(e)) => return Err(e),
            Err(Early::Answer(v)) => return Ok(answer(v, call.stream, rid)),
        };
        if call.stream {
            let (tx, rx) = futures_channel::mpsc::unbounded::<String>();
            let rid = rid.to_string();
            let core = self.clone();
            worker::wasm_bindgen_futures::spawn_local(async move {
                let sink = |e: &Event| {
                    let _ = tx.unbounded_send(crate::sse::event(event_name(e), &event_data(e)));
                };
                let (status, body) = core.run(admitted, &config, &limits, &rid, &sink).await;
                if status >= 400 {
                    let _ = tx.unbounded_send(crate::sse::event("error", &body.to_string()));
                }
                let _ = tx.unbounded_send(crate::sse::event("done", &body.to_string()));
            });
            let stream = rx.map(|s| Ok::<Vec<u8>, worker::Error>(s.into_bytes()));
            let mut resp = Response::from_stream(stream).map_err(internal)?;
            let h = resp.headers_mut();
            h.set("content-type", "text/event-stream; charset=utf-8")
                .map_err(internal)?;
            h.set("cache-control", "no-store").map_err(internal)?;
            return Ok(resp);
        }
        let (status, body) = self.run(admitted, &config, &limits, rid, &|_| {}).await;
        let mut resp = json_response(&body, status);
        let upstream = body["metadata"]["upstream_ms"].as_u64().unwrap_or(0);
        resp.headers_mut()
            .set(UPSTREAM_HEADER, &upstream.to_string())
            .map_err(internal)?;
        Ok(resp)
    }

    /// Every check before a turn, then the guard. No await between the guard check and
    /// setting it, so a concurrent request cannot slip in.
    fn admit(
        &self,
        call: &TurnCall,
        config: &Config,
        limits: &Limits,
    ) -> std::result::Result<Admitted, Early> {
        let now = self.now();
        let loaded = store::load(&self.sql).map_err(|e| Early::Api(internal(e)))?;
        let mut state = match (loaded, call.start) {
            (Some(l), false) => {
                self.recover_guard(&l, limits, now).map_err(Early::Api)?;
                l.state
            }
            (None, true) => {
                let access = call
                    .access
                    .as_deref()
                    .and_then(Rating::parse)
                    .unwrap_or(Rating::AllAges);
                let english = call.english.unwrap_or_else(|| {
                    crate::lexicon::detect_language(call.message.as_deref().unwrap_or("")) == "en"
                });
                let mode = if config.offline() { "offline" } else { "llm" };
                SessionState::new(call.session_id.clone(), access, english, mode, now)
            }
            (Some(_), true) => return Err(Early::Api(internal("session id collision"))),
            (None, false) => return Err(Early::Api(ApiError::SessionNotFound)),
        };
        let recent = store::recent_user_texts(&self.sql, limits.repeat_threshold)
            .map_err(|e| Early::Api(internal(e)))?;
        let prepared = match session::prepare(
            &state,
            call.message.as_deref(),
            call.action().as_ref(),
            &recent,
            limits,
        ) {
            Ok(p) => p,
            Err(Refusal::Closed) => {
                let mut extra = serde_json::Map::new();
                extra.insert("abort_reason".into(), json!(state.abort_reason));
                extra.insert("final_output".into(), json!(state.final_output));
                return Err(Early::Api(ApiError::SessionClosed {
                    message: closed_message(state.english).into(),
                    extra,
                }));
            }
            Err(Refusal::Invalid(field, message)) => {
                return Err(Early::Api(ApiError::Validation {
                    field: field.into(),
                    message,
                }))
            }
            Err(Refusal::Abort(reason)) => {
                let best = best_result(&state);
                session::abort(&mut state, reason, best, now);
                store::save(&self.sql, &state).map_err(|e| Early::Api(internal(e)))?;
                return Err(Early::Answer(session::turn_response(
                    &state,
                    "message",
                    reason.message(state.english),
                    None,
                    0,
                )));
            }
        };
        if call.start {
            store::save(&self.sql, &state).map_err(|e| Early::Api(internal(e)))?;
        }
        let history = store::items(&self.sql).map_err(|e| Early::Api(internal(e)))?;
        let seq = store::open_turn(&self.sql, &prepared.user_text, now)
            .map_err(|e| Early::Api(internal(e)))?;
        *self.running.borrow_mut() = Some((seq, now));
        Ok(Admitted {
            state,
            prepared,
            seq,
            started_ms: now,
            history,
        })
    }

    /// 409 while another turn runs here; a guard left by a crashed or cut-off turn is
    /// cleared and that turn recorded as failed.
    fn recover_guard(
        &self,
        l: &store::Loaded,
        limits: &Limits,
        now: u64,
    ) -> std::result::Result<(), ApiError> {
        let here = *self.running.borrow();
        if let Some((_, since)) = here {
            if now.saturating_sub(since) < limits.turn_timeout_ms {
                return Err(ApiError::TurnInProgress);
            }
        }
        if let (Some(seq), Some(_)) = (l.running_seq, l.running_since) {
            let why = if here.is_some() {
                "turn timed out"
            } else {
                "turn interrupted"
            };
            store::fail_turn(&self.sql, seq, why, now).map_err(internal)?;
            *self.running.borrow_mut() = None;
        }
        Ok(())
    }

    /// Runs an admitted turn to its end and commits it; returns the HTTP status and body.
    async fn run(
        &self,
        a: Admitted,
        config: &Config,
        limits: &Limits,
        rid: &str,
        emit: &dyn Fn(&Event),
    ) -> (u16, Value) {
        let Admitted {
            mut state,
            prepared,
            seq,
            started_ms,
            history,
        } = a;
        let model = model_for(config);
        let store = tag_store(config);
        let prices = Prices::load(config.llm_prices.as_deref());
        let model_name = match (&config.llm_model_first_turn, state.turns) {
            (Some(first), 0) => first.clone(),
            _ => config.llm_model.clone(),
        };
        let tool_events = RefCell::new(Vec::new());
        let on_event = |e: Event| {
            if let Event::ToolFinished {
                tool,
                call_id,
                duration_ms,
                summary,
                ok,
            } = &e
            {
                tool_events.borrow_mut().push((
                    call_id.clone(),
                    tool.clone(),
                    *duration_ms,
                    *ok,
                    summary.clone(),
                ));
            }
            emit(&e);
        };
        let input = TurnInput {
            model: &model_name,
            history: &history,
            user_text: prepared.user_text.clone(),
            access: state.access,
            english: state.english,
            force_tool: prepared.force_tool,
            needs_directions: state.directions.is_empty(),
            may_ask: state.directions.is_empty() && !state.asked_question,
            budgets: Budgets {
                max_calls_per_tool: limits.max_calls_per_tool,
                cost_left_usd: (limits.max_cost_usd - state.cost_usd).max(0.0),
                history_tokens: if config.offline() { usize::MAX } else { 12_000 },
                ..Budgets::default()
            },
        };
        let turn = agent::run_turn(&model, &store, &WorkerClock, &prices, input, &on_event);
        let deadline = worker::Delay::from(Duration::from_millis(limits.turn_timeout_ms));
        let outcome = match select(Box::pin(turn), deadline).await {
            Either::Left((Ok(o), _)) => Ok(o),
            Either::Left((Err(agent::TurnError::Model(e)), _)) => Err(e),
            Either::Right(_) => {
                let now = self.now();
                *self.running.borrow_mut() = None;
                let _ = store::fail_turn(&self.sql, seq, "turn timed out", now);
                let best = best_result(&state);
                session::abort(&mut state, AbortReason::Timeout, best, now);
                let _ = store::save(&self.sql, &state);
                return (
                    200,
                    session::turn_response(
                        &state,
                        "message",
                        AbortReason::Timeout.message(state.english),
                        None,
                        now - started_ms,
                    ),
                );
            }
        };
        let now = self.now();
        *self.running.borrow_mut() = None;
        match outcome {
            Ok(o) => {
                self.finish(
                    state,
                    &prepared,
                    o,
                    seq,
                    started_ms,
                    now,
                    limits,
                    &tool_events.into_inner(),
                    emit,
                )
                .await
            }
            Err(e) => {
                worker::console_error!("request {rid}: model failed: {}", e.detail());
                let _ = store::fail_turn(&self.sql, seq, "model unavailable", now);
                let err = ApiError::Upstream {
                    message: upstream_message(state.english).into(),
                };
                (err.status(), err.body(rid))
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn finish(
        &self,
        mut state: SessionState,
        prepared: &Prepared,
        o: TurnOutcome,
        seq: i64,
        started_ms: u64,
        now: u64,
        limits: &Limits,
        tool_events: &[(String, String, u64, bool, String)],
        emit: &dyn Fn(&Event),
    ) -> (u16, Value) {
        let hit = session::apply(&mut state, prepared, &o, now, limits);
        let mut message = o.reply.clone();
        let mut kind = session::kind_name(o.kind);
        if let Some(reason) = hit {
            let best = best_result(&state);
            session::abort(&mut state, reason, best, now);
            message = format!("{} {}", o.reply, reason.message(state.english));
            kind = "message";
        }
        let record = TurnRecord {
            seq,
            items: &o.items,
            reply: &o.reply,
            kind,
            stats: &o.stats,
            tool_events,
            now_ms: now,
        };
        if let Err(e) = store::commit_turn(&self.sql, &state, &record) {
            return (
                500,
                ApiError::Internal {
                    detail: e.to_string(),
                }
                .body(""),
            );
        }
        let _ = self
            .storage
            .set_alarm(Duration::from_millis(limits.idle_ttl_ms))
            .await;
        if let Some(f) = state.final_output.as_ref().filter(|_| hit.is_some()) {
            emit(&Event::Final {
                final_output: f.clone(),
            });
        }
        (
            200,
            session::turn_response(
                &state,
                kind,
                &message,
                Some(&o.stats),
                now.saturating_sub(started_ms),
            ),
        )
    }

    /// The session, without creating tables in an object that never held one.
    fn existing(&self) -> std::result::Result<store::Loaded, ApiError> {
        if !store::exists(&self.sql).map_err(internal)? {
            return Err(ApiError::SessionNotFound);
        }
        store::migrate(&self.sql).map_err(internal)?;
        store::load(&self.sql)
            .map_err(internal)?
            .ok_or(ApiError::SessionNotFound)
    }

    fn status(&self) -> std::result::Result<Value, ApiError> {
        let l = self.existing()?;
        let (messages, last, failed) = store::messages(&self.sql, 20).map_err(internal)?;
        let running = self.running.borrow().is_some();
        let s = &l.state;
        let events = store::tool_events(&self.sql).map_err(internal)?;
        let tool_ms: u64 = events.iter().map(|e| e.duration_ms.max(0) as u64).sum();
        let items = store::items(&self.sql).map_err(internal)?;
        let orphans = orphaned_calls(&items, &events);
        Ok(json!({
            "session_id": s.id,
            "phase": s.phase,
            "created_at": rfc3339(s.created_ms),
            "updated_at": rfc3339(s.updated_ms),
            "access_level": s.access,
            "language": if s.english { "en" } else { "zh-TW" },
            "mode": s.mode,
            "turns": s.turns,
            "failed_turns": failed,
            "model_calls": s.model_calls,
            "tool_calls": s.tool_calls,
            "tool_events": events.len(),
            "tool_time_ms": tool_ms,
            "input_tokens": s.input_tokens,
            "output_tokens": s.output_tokens,
            "cost_usd": s.cost_usd,
            "quality_score": s.quality_score,
            "directions": s.directions,
            "selected_direction": s.selected,
            "final_output": s.final_output,
            "abort_reason": s.abort_reason,
            // A turn left "running" by an instance that is gone was cut off; the next turn
            // records it as failed.
            "last_turn_status": match (running, last.as_deref()) {
                (true, _) => Some("running".to_string()),
                (false, Some("running")) => Some("interrupted".to_string()),
                (false, other) => other.map(str::to_string),
            },
            "feedback_count": store::feedback_count(&self.sql).map_err(internal)?,
            "transcript_items": items.len(),
            "transcript_user_items": items.iter().filter(|i| matches!(i, crate::transcript::Item::User { .. })).count(),
            "orphaned_tool_calls": orphans,
            "schema_version": store::SCHEMA_VERSION,
            "messages": messages,
        }))
    }

    fn feedback(&self, f: FeedbackCall) -> std::result::Result<Value, ApiError> {
        let l = self.existing()?;
        store::add_feedback(
            &self.sql,
            f.satisfaction,
            f.text,
            f.would_use_again,
            self.now(),
        )
        .map_err(internal)?;
        let msg = if l.state.english {
            "Thanks for the feedback!"
        } else {
            "感謝你的回饋！這會幫我們把 Inspire 做得更好 🙏"
        };
        Ok(json!({ "success": true, "message": msg }))
    }

    async fn erase(&self) -> std::result::Result<Value, ApiError> {
        self.existing()?;
        if self.running.borrow().is_some() {
            return Err(ApiError::TurnInProgress);
        }
        self.storage.delete_alarm().await.map_err(internal)?;
        self.storage.delete_all().await.map_err(internal)?;
        Ok(json!({ "deleted": true }))
    }

    /// The alarm: erase the session when it has been idle past its time to live.
    async fn expire(&self) -> Result<()> {
        store::migrate(&self.sql)?;
        let ttl = Limits::from_config(&config_from_env(&self.env)).idle_ttl_ms;
        match store::load(&self.sql)? {
            Some(l) if self.now().saturating_sub(l.state.updated_ms) < ttl => {
                let left = ttl - self.now().saturating_sub(l.state.updated_ms);
                self.storage
                    .set_alarm(Duration::from_millis(left.max(1000)))
                    .await
            }
            _ => self.storage.delete_all().await,
        }
    }
}

/// Tool calls without exactly one output, and tool events whose call is not in the
/// transcript: both must be zero in a consistent session.
fn orphaned_calls(items: &[crate::transcript::Item], events: &[store::ToolEventRow]) -> usize {
    use crate::transcript::Item;
    let calls: Vec<&str> = items
        .iter()
        .filter_map(|i| match i {
            Item::ToolCall { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    let outputs = |id: &str| {
        items
            .iter()
            .filter(|i| matches!(i, Item::ToolOutput { call_id, .. } if call_id == id))
            .count()
    };
    let unanswered = calls.iter().filter(|id| outputs(id) != 1).count();
    let stray = events
        .iter()
        .filter(|e| !calls.contains(&e.call_id.as_str()))
        .count();
    unanswered + stray
}

enum Early {
    Api(ApiError),
    /// The session ended before the turn (a limit): answer with its state.
    Answer(Value),
}

fn answer(v: Value, stream: bool, _rid: &str) -> Response {
    if !stream {
        return json_response(&v, 200);
    }
    let text = format!(
        "{}{}",
        crate::sse::event("message", &json!({ "message": v["message"] }).to_string()),
        crate::sse::event("done", &v.to_string())
    );
    let mut r = Response::ok(text).unwrap_or_else(|_| json_response(&v, 200));
    let _ = r
        .headers_mut()
        .set("content-type", "text/event-stream; charset=utf-8");
    r
}

/// The best result so far for an ending session: the delivered prompt, else the chosen (or
/// first) direction finalised without the model.
fn best_result(s: &SessionState) -> Option<Value> {
    if s.final_output.is_some() {
        return s.final_output.clone();
    }
    let d = session::best_direction(s)?;
    let ctx = ToolContext {
        store: &crate::tags::index::EmbeddedStore,
        access: s.access,
        english: s.english,
    };
    let args = tools::finalize::args_for(&d.title, &d.concept, &d.main_tags, 0.0, 0, s.english)
        .to_string();
    let run = tools::run(&ctx, tools::FINALIZE_PROMPT, &args);
    // The embedded store answers at once, so this future is ready on its first poll.
    futures_util::FutureExt::now_or_never(run)
        .and_then(|r| r.ok())
        .map(|v| v["output"].clone())
}

fn closed_message(english: bool) -> &'static str {
    if english {
        "This conversation has ended. Start a new one to keep creating!"
    } else {
        "這段對話已經結束囉，開個新對話繼續創作吧！"
    }
}

fn upstream_message(english: bool) -> &'static str {
    if english {
        "I couldn't reach my creative engine just now. Your message is saved; please try again."
    } else {
        "剛剛連不上創作引擎，你的訊息已保留，稍後再試一次。"
    }
}

fn event_name(e: &Event) -> &'static str {
    match e {
        Event::Phase { .. } => "phase",
        Event::ToolStarted { .. } => "tool_started",
        Event::ToolFinished { .. } => "tool_finished",
        Event::Directions { .. } => "directions",
        Event::Message { .. } => "message",
        Event::Final { .. } => "final",
    }
}

fn event_data(e: &Event) -> String {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.remove("event");
    }
    v.to_string()
}

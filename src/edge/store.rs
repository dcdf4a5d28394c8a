//! The session's SQLite tables: schema with a version and in-place migrations, and the
//! reads and writes of a turn. Every write of a finished turn happens in one synchronous
//! stretch with no await, which Durable Objects commit atomically.

use crate::clock::rfc3339;
use crate::session::{Phase, SessionState};
use crate::tags::Rating;
use crate::transcript::Item;
use serde::Deserialize;
use serde_json::Value;
use worker::{Result, SqlStorage, SqlStorageValue};

/// Migration `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&[&str]] = &[
    &[
        "CREATE TABLE IF NOT EXISTS session (id TEXT PRIMARY KEY, phase TEXT NOT NULL, access_level TEXT NOT NULL,
          english INTEGER NOT NULL, mode TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
          turns INTEGER NOT NULL DEFAULT 0, model_calls INTEGER NOT NULL DEFAULT 0, tool_calls TEXT NOT NULL DEFAULT '{}',
          input_tokens INTEGER NOT NULL DEFAULT 0, output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0,
          quality_score INTEGER, directions TEXT NOT NULL DEFAULT '[]', selected_direction INTEGER, final_output TEXT,
          abort_reason TEXT, asked_question INTEGER NOT NULL DEFAULT 0, turn_started_at INTEGER, turn_seq INTEGER)",
        "CREATE TABLE IF NOT EXISTS turns (seq INTEGER PRIMARY KEY, user_text TEXT NOT NULL, reply TEXT,
          status TEXT NOT NULL, error TEXT, kind TEXT, started_at INTEGER NOT NULL, ended_at INTEGER,
          model_calls INTEGER NOT NULL DEFAULT 0, input_tokens INTEGER NOT NULL DEFAULT 0,
          output_tokens INTEGER NOT NULL DEFAULT 0, cost_usd REAL NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY AUTOINCREMENT, turn INTEGER NOT NULL, item TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS tool_events (id INTEGER PRIMARY KEY AUTOINCREMENT, turn INTEGER NOT NULL,
          call_id TEXT NOT NULL, tool TEXT NOT NULL, duration_ms INTEGER NOT NULL, ok INTEGER NOT NULL, summary TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, satisfaction INTEGER NOT NULL,
          text TEXT, would_use_again INTEGER NOT NULL, created_at INTEGER NOT NULL)",
    ],
    // v2: how long each turn waited on upstreams (for benchmarks and Server-Timing).
    &["ALTER TABLE turns ADD COLUMN upstream_ms INTEGER NOT NULL DEFAULT 0"],
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Deserialize)]
struct Count {
    n: i64,
}

/// Whether this object has ever held a session (without creating anything).
pub fn exists(sql: &SqlStorage) -> Result<bool> {
    let rows: Vec<Count> = sql
        .exec(
            "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'session'",
            None,
        )?
        .to_array()?;
    Ok(rows.first().is_some_and(|r| r.n > 0))
}

/// Creates or upgrades the schema in place. Cheap when it is current (one read).
pub fn migrate(sql: &SqlStorage) -> Result<()> {
    sql.exec(
        "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        None,
    )?;
    let rows: Vec<Count> = sql
        .exec(
            "SELECT value AS n FROM meta WHERE key = 'schema_version'",
            None,
        )?
        .to_array()?;
    let current = rows.first().map_or(0, |r| r.n);
    for (v, steps) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        for s in *steps {
            sql.exec(s, None)?;
        }
        sql.exec(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            vec![SqlStorageValue::from(v as i64 + 1)],
        )?;
    }
    Ok(())
}

fn int(v: u64) -> SqlStorageValue {
    SqlStorageValue::from(v as i64)
}

fn text(v: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::from(v.into())
}

fn opt_text(v: Option<String>) -> SqlStorageValue {
    SqlStorageValue::from(v)
}

#[derive(Deserialize)]
struct SessionRow {
    id: String,
    phase: String,
    access_level: String,
    english: i64,
    mode: String,
    created_at: f64,
    updated_at: f64,
    turns: i64,
    model_calls: i64,
    tool_calls: String,
    input_tokens: f64,
    output_tokens: f64,
    cost_usd: f64,
    quality_score: Option<i64>,
    directions: String,
    selected_direction: Option<i64>,
    final_output: Option<String>,
    abort_reason: Option<String>,
    asked_question: i64,
    turn_started_at: Option<f64>,
    turn_seq: Option<i64>,
}

/// The session row with its persisted turn guard (`turn_started_at`, `turn_seq`).
pub struct Loaded {
    pub state: SessionState,
    pub running_since: Option<u64>,
    pub running_seq: Option<i64>,
}

pub fn load(sql: &SqlStorage) -> Result<Option<Loaded>> {
    let rows: Vec<SessionRow> = sql
        .exec("SELECT * FROM session LIMIT 1", None)?
        .to_array()?;
    Ok(rows.into_iter().next().map(|r| Loaded {
        running_since: r.turn_started_at.map(|t| t as u64),
        running_seq: r.turn_seq,
        state: SessionState {
            id: r.id,
            phase: Phase::parse(&r.phase),
            access: Rating::parse(&r.access_level).unwrap_or(Rating::AllAges),
            english: r.english != 0,
            mode: r.mode,
            created_ms: r.created_at as u64,
            updated_ms: r.updated_at as u64,
            turns: r.turns as u32,
            model_calls: r.model_calls as u32,
            tool_calls: serde_json::from_str(&r.tool_calls).unwrap_or_default(),
            input_tokens: r.input_tokens as u64,
            output_tokens: r.output_tokens as u64,
            cost_usd: r.cost_usd,
            quality_score: r.quality_score.map(|q| q as u8),
            directions: serde_json::from_str(&r.directions).unwrap_or_default(),
            selected: r.selected_direction.map(|n| n as usize),
            final_output: r.final_output.and_then(|f| serde_json::from_str(&f).ok()),
            abort_reason: r.abort_reason,
            asked_question: r.asked_question != 0,
        },
    }))
}

/// Writes the whole session row (insert or replace), clearing the turn guard.
pub fn save(sql: &SqlStorage, s: &SessionState) -> Result<()> {
    sql.exec(
        "INSERT OR REPLACE INTO session (id, phase, access_level, english, mode, created_at, updated_at, turns,
           model_calls, tool_calls, input_tokens, output_tokens, cost_usd, quality_score, directions,
           selected_direction, final_output, abort_reason, asked_question, turn_started_at, turn_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL)",
        vec![
            text(s.id.clone()),
            text(s.phase.as_str()),
            text(s.access.as_str()),
            int(s.english as u64),
            text(s.mode.clone()),
            int(s.created_ms),
            int(s.updated_ms),
            int(s.turns as u64),
            int(s.model_calls as u64),
            text(serde_json::to_string(&s.tool_calls).unwrap_or_else(|_| "{}".into())),
            int(s.input_tokens),
            int(s.output_tokens),
            SqlStorageValue::from(s.cost_usd),
            SqlStorageValue::from(s.quality_score.map(|q| q as i64)),
            text(serde_json::to_string(&s.directions).unwrap_or_else(|_| "[]".into())),
            SqlStorageValue::from(s.selected.map(|n| n as i64)),
            opt_text(s.final_output.as_ref().map(Value::to_string)),
            opt_text(s.abort_reason.clone()),
            int(s.asked_question as u64),
        ],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct Seq {
    seq: Option<i64>,
}

/// Opens a turn: a `running` row with the user's words, and the guard on the session row.
pub fn open_turn(sql: &SqlStorage, user_text: &str, now_ms: u64) -> Result<i64> {
    let rows: Vec<Seq> = sql
        .exec("SELECT MAX(seq) AS seq FROM turns", None)?
        .to_array()?;
    let seq = rows.first().and_then(|r| r.seq).unwrap_or(0) + 1;
    sql.exec(
        "INSERT INTO turns (seq, user_text, status, started_at) VALUES (?, ?, 'running', ?)",
        vec![SqlStorageValue::from(seq), text(user_text), int(now_ms)],
    )?;
    sql.exec(
        "UPDATE session SET turn_started_at = ?, turn_seq = ?",
        vec![int(now_ms), SqlStorageValue::from(seq)],
    )?;
    Ok(seq)
}

/// What a finished turn stores.
pub struct TurnRecord<'a> {
    pub seq: i64,
    pub items: &'a [Item],
    pub reply: &'a str,
    pub kind: &'a str,
    pub stats: &'a crate::agent::TurnStats,
    pub tool_events: &'a [(String, String, u64, bool, String)],
    pub now_ms: u64,
}

/// Commits a finished turn: its items, tool events, the turn row and the session row.
pub fn commit_turn(sql: &SqlStorage, s: &SessionState, t: &TurnRecord) -> Result<()> {
    for it in t.items {
        let json =
            serde_json::to_string(it).map_err(|e| worker::Error::RustError(e.to_string()))?;
        sql.exec(
            "INSERT INTO items (turn, item) VALUES (?, ?)",
            vec![SqlStorageValue::from(t.seq), text(json)],
        )?;
    }
    for (call_id, tool, ms, ok, summary) in t.tool_events {
        sql.exec(
            "INSERT INTO tool_events (turn, call_id, tool, duration_ms, ok, summary) VALUES (?, ?, ?, ?, ?, ?)",
            vec![SqlStorageValue::from(t.seq), text(call_id.clone()), text(tool.clone()), int(*ms), int(*ok as u64), text(summary.clone())],
        )?;
    }
    sql.exec(
        "UPDATE turns SET status = 'ok', reply = ?, kind = ?, ended_at = ?, model_calls = ?, input_tokens = ?,
           output_tokens = ?, cost_usd = ?, upstream_ms = ? WHERE seq = ?",
        vec![
            text(t.reply),
            text(t.kind),
            int(t.now_ms),
            int(t.stats.model_calls as u64),
            int(t.stats.input_tokens),
            int(t.stats.output_tokens),
            SqlStorageValue::from(t.stats.cost_usd),
            int(t.stats.upstream_ms),
            SqlStorageValue::from(t.seq),
        ],
    )?;
    save(sql, s)
}

/// Records a failed or interrupted turn: the user's words stay (in the turn row and as a
/// transcript item the model will see), nothing else of the turn is kept.
pub fn fail_turn(sql: &SqlStorage, seq: i64, error: &str, now_ms: u64) -> Result<()> {
    #[derive(Deserialize)]
    struct U {
        user_text: String,
        status: String,
    }
    let rows: Vec<U> = sql
        .exec(
            "SELECT user_text, status FROM turns WHERE seq = ?",
            vec![SqlStorageValue::from(seq)],
        )?
        .to_array()?;
    if let Some(u) = rows.into_iter().next().filter(|u| u.status == "running") {
        let item = serde_json::to_string(&Item::user(u.user_text)).unwrap_or_default();
        sql.exec(
            "INSERT INTO items (turn, item) VALUES (?, ?)",
            vec![SqlStorageValue::from(seq), text(item)],
        )?;
        sql.exec(
            "UPDATE turns SET status = 'failed', error = ?, ended_at = ? WHERE seq = ?",
            vec![text(error), int(now_ms), SqlStorageValue::from(seq)],
        )?;
    }
    sql.exec(
        "UPDATE session SET turn_started_at = NULL, turn_seq = NULL, updated_at = ?",
        vec![int(now_ms)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
struct ItemRow {
    item: String,
}

/// The whole transcript, oldest first.
pub fn items(sql: &SqlStorage) -> Result<Vec<Item>> {
    let rows: Vec<ItemRow> = sql
        .exec("SELECT item FROM items ORDER BY seq", None)?
        .to_array()?;
    Ok(rows
        .iter()
        .filter_map(|r| serde_json::from_str(&r.item).ok())
        .collect())
}

#[derive(Deserialize)]
struct TurnRow {
    seq: i64,
    user_text: String,
    reply: Option<String>,
    status: String,
    error: Option<String>,
    started_at: f64,
    ended_at: Option<f64>,
}

/// The latest user messages, newest last (for the repetition limit).
pub fn recent_user_texts(sql: &SqlStorage, n: usize) -> Result<Vec<String>> {
    let rows: Vec<TurnRow> = sql
        .exec(
            "SELECT * FROM turns ORDER BY seq DESC LIMIT ?",
            vec![SqlStorageValue::from(n as i64)],
        )?
        .to_array()?;
    Ok(rows.into_iter().rev().map(|r| r.user_text).collect())
}

/// The status view of the conversation: the last `limit` messages and the last turn's status.
pub fn messages(sql: &SqlStorage, limit: usize) -> Result<(Vec<Value>, Option<String>, u32)> {
    let rows: Vec<TurnRow> = sql
        .exec("SELECT * FROM turns ORDER BY seq", None)?
        .to_array()?;
    let mut out = Vec::new();
    let mut failed = 0;
    for r in &rows {
        out.push(serde_json::json!({ "role": "user", "content": r.user_text, "at": rfc3339(r.started_at as u64), "turn": r.seq }));
        match (r.status.as_str(), &r.reply) {
            ("ok", Some(reply)) => out.push(serde_json::json!({
                "role": "assistant", "content": reply, "at": rfc3339(r.ended_at.unwrap_or(r.started_at) as u64), "turn": r.seq })),
            ("failed", _) => {
                failed += 1;
                out.push(serde_json::json!({ "role": "system", "content": r.error.clone().unwrap_or_default(),
                    "at": rfc3339(r.ended_at.unwrap_or(r.started_at) as u64), "turn": r.seq, "failed": true }))
            }
            _ => {}
        }
    }
    let last = rows.last().map(|r| r.status.clone());
    let skip = out.len().saturating_sub(limit);
    Ok((out.split_off(skip), last, failed))
}

pub fn add_feedback(
    sql: &SqlStorage,
    satisfaction: u8,
    text_: Option<String>,
    again: bool,
    now_ms: u64,
) -> Result<()> {
    sql.exec(
        "INSERT INTO feedback (satisfaction, text, would_use_again, created_at) VALUES (?, ?, ?, ?)",
        vec![int(satisfaction as u64), opt_text(text_), int(again as u64), int(now_ms)],
    )?;
    Ok(())
}

#[derive(Deserialize)]
pub struct ToolEventRow {
    pub call_id: String,
    pub duration_ms: i64,
}

pub fn tool_events(sql: &SqlStorage) -> Result<Vec<ToolEventRow>> {
    sql.exec(
        "SELECT call_id, duration_ms FROM tool_events ORDER BY id",
        None,
    )?
    .to_array()
}

pub fn feedback_count(sql: &SqlStorage) -> Result<i64> {
    let rows: Vec<Count> = sql
        .exec("SELECT COUNT(*) AS n FROM feedback", None)?
        .to_array()?;
    Ok(rows.first().map_or(0, |r| r.n))
}

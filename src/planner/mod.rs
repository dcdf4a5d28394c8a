//! The offline planner: a deterministic stand-in for the model, used when no API key is
//! configured. It reads the transcript like a model would, asks for the same five tools
//! through the same loop, and writes short friendly replies. Same conversation, same result.

pub mod compose;
pub mod data;

use crate::conversation::{is_finalize_request, parse_selection};
use crate::lexicon::{detect_language, lexicon};
use crate::llm::{ModelClient, ModelError, ModelReply, ModelRequest, ToolCall, ToolChoice, Usage};
use crate::tools::finalize::args_for;
use crate::tools::ideas::Direction;
use crate::tools::{
    FINALIZE_PROMPT, GENERATE_IDEAS, SEARCH_EXAMPLES, UNDERSTAND_INTENT, VALIDATE_QUALITY,
};
use crate::transcript::Item;
use compose::{direction_tags, idea, push_tags, read, top_up, Reading};
use data::{adjustments_in, Adjustment};
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, Default)]
pub struct Planner;

impl ModelClient for Planner {
    async fn respond(&self, req: &ModelRequest<'_>) -> Result<ModelReply, ModelError> {
        Ok(plan(req))
    }
    fn mode(&self) -> &'static str {
        "offline"
    }
}

/// The conversation as the planner sees it.
struct View<'a> {
    items: &'a [Item],
    /// Index of the current turn's user item.
    turn: usize,
    text: &'a str,
    english: bool,
}

impl<'a> View<'a> {
    fn new(items: &'a [Item]) -> View<'a> {
        let turn = items
            .iter()
            .rposition(|i| matches!(i, Item::User { .. }))
            .unwrap_or(0);
        let text = match items.get(turn) {
            Some(Item::User { text }) => text.as_str(),
            _ => "",
        };
        // The language of the conversation is the language of its first message.
        let first = items
            .iter()
            .find_map(|i| match i {
                Item::User { text } => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or(text);
        View {
            items,
            turn,
            text,
            english: detect_language(first) == "en",
        }
    }

    /// (tool name, arguments, output) of every answered call, oldest first.
    fn calls(&self, from: usize) -> Vec<(&'a str, Value, Value)> {
        let mut out = Vec::new();
        for (i, it) in self.items.iter().enumerate().skip(from) {
            if let Item::ToolCall {
                call_id,
                name,
                arguments,
            } = it
            {
                let output = self.items[i..].iter().find_map(|o| match o {
                    Item::ToolOutput { call_id: c, output } if c == call_id => {
                        serde_json::from_str(output).ok()
                    }
                    _ => None,
                });
                out.push((
                    name.as_str(),
                    serde_json::from_str(arguments).unwrap_or(Value::Null),
                    output.unwrap_or(Value::Null),
                ));
            }
        }
        out
    }

    fn this_turn(&self) -> Vec<(&'a str, Value, Value)> {
        self.calls(self.turn)
    }

    /// The directions shown last, with where the current set began ("new" generation).
    fn directions(&self) -> Option<(Vec<Direction>, usize)> {
        let mut latest = None;
        let mut began = 0;
        for (i, it) in self.items.iter().enumerate().take(self.turn) {
            let Item::ToolCall {
                name,
                arguments,
                call_id,
            } = it
            else {
                continue;
            };
            if name != GENERATE_IDEAS {
                continue;
            }
            let ok = self.items[i..].iter().find_map(|o| match o {
                Item::ToolOutput { call_id: c, output } if c == call_id => {
                    serde_json::from_str::<Value>(output).ok()
                }
                _ => None,
            });
            let Some(d) = ok.and_then(|v| {
                serde_json::from_value::<Vec<Direction>>(v["directions"].clone()).ok()
            }) else {
                continue;
            };
            let args: Value = serde_json::from_str(arguments).unwrap_or(Value::Null);
            if !args["generation_basis"]
                .as_str()
                .unwrap_or("")
                .starts_with("refine")
            {
                began = i;
            }
            latest = Some(d);
        }
        latest.map(|d| (d, began))
    }

    /// The user's words that started the current directions (the message before `began`).
    fn opening_text(&self, began: usize) -> &'a str {
        self.items[..began]
            .iter()
            .rev()
            .find_map(|i| match i {
                Item::User { text } => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or("")
    }

    /// The user texts of earlier turns since `from`.
    fn earlier_user_texts(&self, from: usize) -> Vec<&'a str> {
        self.items[from..self.turn]
            .iter()
            .filter_map(|i| match i {
                Item::User { text } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

fn plan(req: &ModelRequest) -> ModelReply {
    let v = View::new(req.items);
    let done = v.this_turn();
    let forced = match req.tool_choice {
        ToolChoice::Function(name) => Some(name),
        ToolChoice::Auto => None,
    };
    let current = v.directions();
    let reply = match (&current, forced) {
        (Some((dirs, began)), Some(FINALIZE_PROMPT)) => finalize(&v, dirs, *began, &done),
        (Some((dirs, began)), _) => follow_up(&v, dirs, *began, &done),
        (None, _) => new_directions(&v, &done),
    };
    ModelReply {
        usage: Usage::default(),
        upstream_ms: 0,
        ..reply
    }
}

fn say(text: String) -> ModelReply {
    ModelReply {
        text: Some(text),
        ..ModelReply::default()
    }
}

fn call(v: &View, k: usize, name: &str, args: Value) -> ToolCall {
    ToolCall {
        call_id: format!("plan_{}_{k}", v.items.len()),
        name: name.into(),
        arguments: args.to_string(),
    }
}

fn calls(v: &View, list: Vec<(&str, Value)>) -> ModelReply {
    ModelReply {
        calls: list
            .into_iter()
            .enumerate()
            .map(|(k, (n, a))| call(v, k, n, a))
            .collect(),
        ..ModelReply::default()
    }
}

/// A first message, or a new description: understand and search, then three directions.
fn new_directions(v: &View, done: &[(&str, Value, Value)]) -> ModelReply {
    let reading = read(v.text);
    if let Some((_, _, out)) = done.iter().find(|c| c.0 == GENERATE_IDEAS) {
        if out.get("directions").is_none() {
            // Never retry the same plan: say so and let the user add detail.
            return say(if v.english {
                "I couldn't shape that yet. Tell me a person, a place or a mood?".into()
            } else {
                "這個我還抓不到感覺，說說人物、場景或氛圍？".into()
            });
        }
        return say(directions_reply(out, &reading, v.english));
    }
    if done.iter().any(|c| c.0 == UNDERSTAND_INTENT) {
        let tags = direction_tags(&reading);
        let ideas: Vec<Value> = (0..3)
            .map(|k| idea(k, &reading, &tags[k], v.english))
            .collect();
        let basis = format!("new: {}", reading.phrases().join(", "));
        return calls(
            v,
            vec![(
                GENERATE_IDEAS,
                json!({ "ideas": ideas, "generation_basis": basis, "diversity_achieved": "high" }),
            )],
        );
    }
    calls(
        v,
        vec![
            (UNDERSTAND_INTENT, intent_args(&reading)),
            (SEARCH_EXAMPLES, search_args(&reading)),
        ],
    )
}

fn intent_args(r: &Reading) -> Value {
    let n = r.matches.len();
    let clarity = match n {
        0 => "very_vague",
        1 => "somewhat_vague",
        2 | 3 => "mostly_clear",
        _ => "crystal_clear",
    };
    let styles = r
        .matches
        .iter()
        .filter(|m| m.entry.facet == "style")
        .flat_map(|m| m.entry.tags.iter());
    let style = styles.fold("unspecified", |acc, t| {
        match (acc, crate::recipes::style_of(std::slice::from_ref(t))) {
            ("unspecified", crate::recipes::Style::Realistic) => "realistic",
            ("unspecified", crate::recipes::Style::ArtisticPainterly) => "artistic",
            ("unspecified", _) => "anime",
            (a, _) => a,
        }
    });
    json!({
        "core_mood": r.mood.label_zh,
        "visual_elements": r.phrases(),
        "style_preference": style,
        "clarity_level": clarity,
        "confidence": (0.35 + 0.15 * n as f64).min(0.95),
        "next_action": "generate_directly",
    })
}

fn search_args(r: &Reading) -> Value {
    let mut kws: Vec<String> = r
        .matches
        .iter()
        .filter_map(|m| m.entry.tags.first().cloned())
        .collect();
    kws.dedup();
    kws.truncate(5);
    if kws.is_empty() {
        kws.extend(r.mood.led[0].iter().take(2).cloned());
    }
    json!({ "search_keywords": kws, "search_purpose": "find_scene_tags", "search_strategy": "keyword", "min_popularity": 1000, "max_results": 10 })
}

fn directions_reply(out: &Value, reading: &Reading, english: bool) -> String {
    let titles: Vec<&str> = out["directions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["title"].as_str())
        .collect();
    match (english, reading.matches.is_empty()) {
        (false, false) => format!("收到！給你三個方向：{}，選一個吧 😊", titles.join("、")),
        (false, true) => "先給你三個方向，選一個吧！想畫什麼人物或場景呢？".into(),
        (true, false) => format!("Got it! Three directions: {}. Pick one!", titles.join(", ")),
        (true, true) => {
            "Here are three directions to start. What person or place do you picture?".into()
        }
    }
}

/// A later message: a choice, a refinement, a request to finish, or new concepts.
fn follow_up(
    v: &View,
    dirs: &[Direction],
    began: usize,
    done: &[(&str, Value, Value)],
) -> ModelReply {
    if is_finalize_request(v.text) || done.iter().any(|c| c.0 == VALIDATE_QUALITY) {
        return finalize(v, dirs, began, done);
    }
    if let Some(n) = parse_selection(v.text, dirs.len()) {
        let title = &dirs[n - 1].title;
        return say(if v.english {
            format!("Got it! Going with \"{title}\" 👌 Say \"dreamier\" or \"at night\" to adjust, or \"finalize\".")
        } else {
            format!(
                "收到！就用「{title}」這個方向 👌 想調整可以說「更夢幻」「加夜景」，或說「完成」。"
            )
        });
    }
    if let Some((_, _, out)) = done.iter().find(|c| c.0 == GENERATE_IDEAS) {
        return say(refine_reply(v, out));
    }
    let change = Change::read(v.text);
    if change.is_empty() {
        let reading = read(v.text);
        if reading.matches.len() >= 3 {
            return new_directions(v, done);
        }
        return say(if v.english {
            "How should I adjust it? Try \"dreamier\", \"at night\", \"add a cat\", or pick a direction.".into()
        } else {
            "想怎麼調整呢？可以說「更夢幻」「加夜景」「加一隻貓」，或選一個方向。".into()
        });
    }
    let selected = selected(v, dirs, began);
    let concepts = read(v.opening_text(began)).user_tags();
    let ideas: Vec<Value> = dirs
        .iter()
        .map(|d| {
            let mut tags = d.main_tags.clone();
            if selected.is_none_or(|s| s == d.index) {
                tags = change.apply(&tags, &concepts, d.index - 1);
            }
            json!({ "title": d.title, "concept": d.concept, "vibe": d.vibe, "main_tags": tags,
                    "quick_preview": tags.iter().take(6).cloned().collect::<Vec<_>>().join(", "), "uniqueness": d.uniqueness })
        })
        .collect();
    let basis = format!("refine: {}", change.keys().join(","));
    calls(
        v,
        vec![(
            GENERATE_IDEAS,
            json!({ "ideas": ideas, "generation_basis": basis, "diversity_achieved": "high" }),
        )],
    )
}

/// The direction chosen since the current set began: the last choice in words.
fn selected(v: &View, dirs: &[Direction], began: usize) -> Option<usize> {
    v.earlier_user_texts(began)
        .into_iter()
        .rev()
        .find_map(|t| parse_selection(t, dirs.len()))
}

/// What a refinement message asks to change.
struct Change {
    adjustments: Vec<&'static Adjustment>,
    add: Vec<String>,
    remove: Vec<String>,
}

const ADD_CUES: &[&str] = &[
    "加一隻",
    "加一個",
    "加一只",
    "加一个",
    "加上",
    "加入",
    "添加",
    "多一隻",
    "多一個",
    "再加",
    "加",
    "add ",
    "with ",
    "include ",
];
const REMOVE_CUES: &[&str] = &[
    "去掉",
    "移除",
    "拿掉",
    "刪掉",
    "删掉",
    "刪除",
    "删除",
    "不要",
    "去除",
    "remove ",
    "without ",
    "drop ",
    "get rid of ",
    "no ",
];

impl Change {
    fn read(text: &str) -> Change {
        let adjustments = adjustments_in(text);
        let lower = text.to_lowercase();
        let mut add = Vec::new();
        let mut remove = Vec::new();
        // Text covered by an adjustment phrase is not read again as an addition or removal.
        let mut rest = lower.clone();
        for a in &adjustments {
            for p in a.phrases_zh.iter().chain(a.phrases_en.iter()) {
                rest = rest.replace(p.as_str(), " ");
            }
        }
        for (cues, out) in [(REMOVE_CUES, &mut remove), (ADD_CUES, &mut add)] {
            for cue in cues {
                while let Some(pos) = rest.find(cue) {
                    let after = &rest[pos + cue.len()..];
                    let end = after
                        .find(['，', ',', '。', '.', '、', ';', '；', '!', '！'])
                        .unwrap_or(after.len());
                    let segment = after[..end].to_string();
                    for m in lexicon().scan(&segment) {
                        out.extend(m.entry.tags.iter().cloned());
                    }
                    rest.replace_range(pos..pos + cue.len() + end, " ");
                }
            }
        }
        add.retain(|t| !remove.contains(t));
        Change {
            adjustments,
            add,
            remove,
        }
    }

    fn is_empty(&self) -> bool {
        self.adjustments.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }

    fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self.adjustments.iter().map(|a| a.key.clone()).collect();
        if !self.add.is_empty() {
            k.push(format!("add:{}", self.add.join("+")));
        }
        if !self.remove.is_empty() {
            k.push(format!("remove:{}", self.remove.join("+")));
        }
        k
    }

    /// Removals first; then the user's own concepts, the additions, and the rest of the old
    /// list, each kept only where it conflicts with nothing before it — except that an
    /// addition beats an old tag it contradicts. Topped up to 10 and cut at 15, so fillers go
    /// first when space runs out.
    fn apply(&self, tags: &[String], concepts: &[String], kind: usize) -> Vec<String> {
        let removed: Vec<&String> = self
            .adjustments
            .iter()
            .flat_map(|a| a.remove.iter())
            .chain(self.remove.iter())
            .collect();
        let added: Vec<String> = self
            .adjustments
            .iter()
            .flat_map(|a| a.add.iter().cloned())
            .chain(self.add.iter().cloned())
            .collect();
        let mut wins = Vec::new();
        push_tags(&mut wins, added.iter(), 15);
        let kept: Vec<String> = tags
            .iter()
            .filter(|t| {
                !removed.contains(t) && !crate::tags::category::conflicts_with_any(t, &wins)
            })
            .cloned()
            .collect();
        let (own, rest): (Vec<String>, Vec<String>) =
            kept.into_iter().partition(|t| concepts.contains(t));
        let mut list = Vec::new();
        push_tags(
            &mut list,
            own.iter().chain(wins.iter()).chain(rest.iter()),
            15,
        );
        top_up(&mut list, kind, 10);
        list
    }
}

fn refine_reply(v: &View, out: &Value) -> String {
    if out.get("error").is_some() {
        return if v.english {
            "Hmm, that change didn't fit. Try another one?".into()
        } else {
            "這個調整不太合，換個說法試試？".into()
        };
    }
    let change = Change::read(v.text);
    let labels: Vec<String> = change
        .adjustments
        .iter()
        .map(|a| {
            if v.english {
                a.phrases_en.first().cloned().unwrap_or_default()
            } else {
                a.phrases_zh.first().cloned().unwrap_or_default()
            }
        })
        .collect();
    let mut added: Vec<String> = change
        .adjustments
        .iter()
        .flat_map(|a| a.add.iter().cloned())
        .chain(change.add.iter().cloned())
        .collect();
    added.dedup();
    let removed: Vec<String> = change.remove.clone();
    let sep = if v.english { ", " } else { "、" };
    let listed = match added.len() {
        0 => String::new(),
        1 | 2 => added.join(sep),
        n => {
            if v.english {
                format!("{}, {} and {} more", added[0], added[1], n - 2)
            } else {
                format!("{}、{} 等 {n} 項", added[0], added[1])
            }
        }
    };
    match (v.english, labels.is_empty()) {
        // A named refinement: its name, then what it brought in.
        (false, false) if listed.is_empty() => format!("好！{}", labels.join(sep)),
        (false, false) => format!("好！{}（{listed}）", labels.join(sep)),
        (true, false) if listed.is_empty() => format!("Done: {}.", labels.join(sep)),
        (true, false) => format!("Done: {} ({listed}).", labels.join(sep)),
        // Things added or removed by name.
        (false, true) => match (listed.is_empty(), removed.is_empty()) {
            (false, true) => format!("好！加上了 {listed}"),
            (true, false) => format!("好！拿掉了 {}", removed.join(sep)),
            (true, true) => "好！調整好了".to_string(),
            _ => format!("好！加上 {listed}，拿掉 {}", removed.join(sep)),
        },
        (true, true) => match (listed.is_empty(), removed.is_empty()) {
            (false, true) => format!("Done: added {listed}."),
            (true, false) => format!("Done: removed {}.", removed.join(sep)),
            (true, true) => "Done: updated.".to_string(),
            _ => format!("Done: added {listed}, removed {}.", removed.join(sep)),
        },
    }
}

/// Validate the chosen direction, fix what validation asks, then deliver.
fn finalize(
    v: &View,
    dirs: &[Direction],
    began: usize,
    done: &[(&str, Value, Value)],
) -> ModelReply {
    if let Some((_, _, out)) = done.iter().rev().find(|c| c.0 == FINALIZE_PROMPT) {
        return say(match (out.get("output"), v.english) {
            (Some(_), false) => {
                format!("完成！給你完整版 ✨ 品質分數 {}/100", out["quality_score"])
            }
            (Some(_), true) => format!(
                "Done! Here's the full prompt ✨ Quality {}/100.",
                out["quality_score"]
            ),
            (None, false) => "這組還差一點，我們再調整一下好嗎？".into(),
            (None, true) => "This one isn't quite there yet. Shall we adjust it a bit?".into(),
        });
    }
    let chosen = selected(v, dirs, began).unwrap_or(1);
    let d = &dirs[chosen - 1];
    let validations: Vec<&(&str, Value, Value)> =
        done.iter().filter(|c| c.0 == VALIDATE_QUALITY).collect();
    let Some((_, args, report)) = validations.last() else {
        return calls(v, vec![(VALIDATE_QUALITY, validate_args(&d.main_tags))]);
    };
    let tags: Vec<String> =
        serde_json::from_value(args["tags_to_validate"].clone()).unwrap_or_default();
    if report["is_valid"] == true || validations.len() >= 3 {
        let (cfg, steps) = parameter_deltas(v, began);
        return calls(
            v,
            vec![(
                FINALIZE_PROMPT,
                args_for(&d.title, &d.concept, &tags, cfg, steps, v.english),
            )],
        );
    }
    calls(
        v,
        vec![(
            VALIDATE_QUALITY,
            validate_args(&apply_fixes(&tags, &report["quick_fixes"], d.index - 1)),
        )],
    )
}

fn validate_args(tags: &[String]) -> Value {
    json!({ "tags_to_validate": tags, "check_aspects": crate::tools::validate::ASPECTS, "strictness": "moderate" })
}

/// Applies validation's quick fixes: replacements, removals, additions, then tops up.
fn apply_fixes(tags: &[String], fixes: &Value, kind: usize) -> Vec<String> {
    let list =
        |k: &str| -> Vec<String> { serde_json::from_value(fixes[k].clone()).unwrap_or_default() };
    let replace = fixes["replace"].as_object().cloned().unwrap_or_default();
    let remove = list("remove");
    let mut out: Vec<String> = tags
        .iter()
        .map(|t| {
            replace
                .get(t)
                .and_then(Value::as_str)
                .map_or(t.clone(), str::to_string)
        })
        .filter(|t| !remove.contains(t))
        .collect();
    out.dedup();
    let mut fixed = Vec::new();
    push_tags(&mut fixed, out.iter(), 15);
    push_tags(&mut fixed, list("add").iter(), 15);
    top_up(&mut fixed, kind, 10);
    fixed
}

/// CFG and step changes of the refinements applied since the current directions began.
fn parameter_deltas(v: &View, began: usize) -> (f64, i64) {
    v.earlier_user_texts(began)
        .into_iter()
        .flat_map(adjustments_in)
        .fold((0.0, 0), |(c, s), a| (c + a.cfg_delta, s + a.steps_delta))
}
#[cfg(test)]
mod tests;

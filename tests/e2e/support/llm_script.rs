//! A competent fake model for conversations through the real Worker: a handler for
//! `FakeOpenAi::with_handler` that reads the conversation in the request (either wire format)
//! and answers the way a good model would: understand + search in parallel, three real
//! directions, refinements, validation and finalisation, and short replies.

use super::fake_openai::{responses_calls, responses_text, Api, Step};
use serde_json::{json, Value};

/// One conversation item, read from either wire format.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    User(String),
    Assistant(String),
    Call(String, Value),
    Output(Value),
}

/// The conversation a request carries, oldest first.
pub fn conversation(body: &Value, api: Api) -> Vec<Seen> {
    let text = |c: &Value| match c {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let args = |a: &Value| serde_json::from_str(a.as_str().unwrap_or("{}")).unwrap_or(Value::Null);
    let out = |o: &Value| serde_json::from_str(o.as_str().unwrap_or("null")).unwrap_or(Value::Null);
    let mut seen = Vec::new();
    match api {
        Api::Responses => {
            for it in body["input"].as_array().into_iter().flatten() {
                match (it["type"].as_str(), it["role"].as_str()) {
                    (Some("function_call"), _) => seen.push(Seen::Call(
                        it["name"].as_str().unwrap_or("").into(),
                        args(&it["arguments"]),
                    )),
                    (Some("function_call_output"), _) => {
                        seen.push(Seen::Output(out(&it["output"])))
                    }
                    (_, Some("user")) => seen.push(Seen::User(text(&it["content"]))),
                    (_, Some("assistant")) => seen.push(Seen::Assistant(text(&it["content"]))),
                    _ => {}
                }
            }
        }
        Api::Chat => {
            for m in body["messages"].as_array().into_iter().flatten() {
                match m["role"].as_str() {
                    Some("user") => seen.push(Seen::User(text(&m["content"]))),
                    Some("assistant") => {
                        if !text(&m["content"]).is_empty() {
                            seen.push(Seen::Assistant(text(&m["content"])));
                        }
                        for c in m["tool_calls"].as_array().into_iter().flatten() {
                            seen.push(Seen::Call(
                                c["function"]["name"].as_str().unwrap_or("").into(),
                                args(&c["function"]["arguments"]),
                            ));
                        }
                    }
                    Some("tool") => seen.push(Seen::Output(out(&m["content"]))),
                    _ => {}
                }
            }
        }
    }
    seen
}

/// The tool the request forces, if any.
pub fn forced(body: &Value) -> Option<String> {
    body["tool_choice"]["name"]
        .as_str()
        .or(body["tool_choice"]["function"]["name"].as_str())
        .map(str::to_string)
}

pub const IDEAS: [(&str, &[&str]); 3] = [
    (
        "櫻下靜語",
        &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "outdoors",
            "smile",
            "long_hair",
            "petals",
            "spring_(season)",
            "light_particles",
            "tree",
        ],
    ),
    (
        "夜櫻燈影",
        &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "night",
            "lantern",
            "outdoors",
            "moonlight",
            "petals",
            "long_hair",
            "light_smile",
        ],
    ),
    (
        "水彩春日",
        &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "watercolor_(medium)",
            "traditional_media",
            "pastel_colors",
            "petals",
            "outdoors",
            "sky",
            "day",
        ],
    ),
];

pub fn ideas_args(extra: &[&str]) -> Value {
    let ideas: Vec<Value> = IDEAS
        .iter()
        .map(|(title, tags)| {
            let mut t: Vec<&str> = tags.to_vec();
            t.extend(extra.iter().filter(|e| !tags.contains(e)));
            t.truncate(15);
            json!({ "title": title, "concept": format!("{title}的畫面"), "vibe": "溫柔、寧靜", "main_tags": t,
                    "quick_preview": t[..5].join(", "), "uniqueness": "不同的切入點" })
        })
        .collect();
    json!({ "ideas": ideas, "generation_basis": "user words", "diversity_achieved": "high" })
}

fn latest_tags(seen: &[Seen], choice: usize) -> Vec<String> {
    seen.iter()
        .rev()
        .find_map(|s| match s {
            Seen::Call(n, a) if n == "generate_ideas" => {
                a["ideas"][choice - 1]["main_tags"].as_array().cloned()
            }
            _ => None,
        })
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_else(|| IDEAS[choice - 1].1.iter().map(|s| s.to_string()).collect())
}

fn chosen(seen: &[Seen]) -> usize {
    seen.iter()
        .rev()
        .find_map(|s| match s {
            Seen::User(t) => ["1", "2", "3"].iter().position(|d| {
                t.contains(&format!("方向 {d}")) || t.contains(&format!("direction {d}"))
            }),
            _ => None,
        })
        .map_or(1, |p| p + 1)
}

pub fn finalize_args(tags: &[String]) -> Value {
    json!({ "final_output": {
        "title": "櫻下靜語", "concept": "櫻花樹下的和服少女",
        "positive_prompt": tags.join(", "), "negative_prompt": "lowres, bad_anatomy",
        "structure": { "subject": ["1girl"], "appearance": ["kimono"], "scene": ["cherry_blossoms"], "mood": [], "style": [] },
        "parameters": { "cfg_scale": 7.5, "steps": 30, "sampler": "DPM++ 2M Karras", "size": "512x768" },
        "usage_tips": "CFG 7-8 效果最好" }, "quality_score": 90 })
}

fn is_finalize(t: &str) -> bool {
    ["最終", "完成", "final"]
        .iter()
        .any(|c| t.to_lowercase().contains(c))
}

/// The handler: a good model's next step for any request.
pub fn competent(body: &Value, api: Api) -> Step {
    let seen = conversation(body, api);
    let last_user = seen
        .iter()
        .rposition(|s| matches!(s, Seen::User(_)))
        .unwrap_or(0);
    let text = match &seen.get(last_user) {
        Some(Seen::User(t)) => t.clone(),
        _ => String::new(),
    };
    let after = &seen[last_user + 1..];
    let had_ideas = seen[..last_user]
        .iter()
        .any(|s| matches!(s, Seen::Call(n, _) if n == "generate_ideas"));
    let calls = |list: Vec<(&str, Value)>| Step::Reply(responses_calls(&list));
    match (forced(body).as_deref(), after.last()) {
        (Some("finalize_prompt"), _) => calls(vec![(
            "finalize_prompt",
            finalize_args(&latest_tags(&seen, chosen(&seen))),
        )]),
        (Some("generate_ideas"), _) => calls(vec![("generate_ideas", ideas_args(&[]))]),
        (_, None) if !had_ideas => calls(vec![
            (
                "understand_intent",
                json!({ "core_mood": "溫柔", "visual_elements": ["cherry blossoms", "kimono"], "style_preference": "anime", "clarity_level": "mostly_clear", "confidence": 0.8, "next_action": "generate_directly" }),
            ),
            (
                "search_examples",
                json!({ "search_keywords": ["cherry", "kimono"], "search_purpose": "find_scene_tags", "search_strategy": "keyword", "min_popularity": 1000, "max_results": 10 }),
            ),
        ]),
        (_, None) if is_finalize(&text) => calls(vec![(
            "validate_quality",
            json!({ "tags_to_validate": latest_tags(&seen, chosen(&seen)), "check_aspects": ["validity", "conflicts", "redundancy", "balance", "popularity"], "strictness": "moderate" }),
        )]),
        (_, None) if text.contains("方向") || text.contains("direction") => {
            Step::Reply(responses_text("收到！就用這個方向 👌"))
        }
        (_, None) => {
            let extra: &[&str] = if text.contains('夜') || text.contains("night") {
                &["night_sky", "moonlight"]
            } else {
                &["sparkle", "bloom"]
            };
            calls(vec![("generate_ideas", ideas_args(extra))])
        }
        (_, Some(Seen::Output(_))) => {
            let last_call = after.iter().rev().find_map(|s| match s {
                Seen::Call(n, _) => Some(n.as_str()),
                _ => None,
            });
            match last_call {
                Some("understand_intent") | Some("search_examples") => {
                    calls(vec![("generate_ideas", ideas_args(&[]))])
                }
                Some("validate_quality") => calls(vec![(
                    "finalize_prompt",
                    finalize_args(&latest_tags(&seen, chosen(&seen))),
                )]),
                Some("finalize_prompt") => Step::Reply(responses_text("完成！給你完整版 ✨")),
                _ => Step::Reply(responses_text("給你三個方向，選一個吧！")),
            }
        }
        _ => Step::Reply(responses_text("好的！")),
    }
}

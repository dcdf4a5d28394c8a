//! The agent with a scripted fake of the OpenAI API, through the real Worker: scenarios
//! adapted from the reference's S1-S10, both wire formats, and what the loop promises
//! (parallel calls answered in order, malformed arguments survived, invented tags checked,
//! the whole history sent every turn).

use crate::support::fake_openai::{
    responses_calls, responses_raw_call, responses_text, FakeOpenAi, Step,
};
use crate::support::fake_postgrest::{FakePostgrest, Fault};
use crate::support::llm_script::{finalize_args, ideas_args, IDEAS};
use crate::support::{assert_error_shape, get, post, Got, Worker, WorkerOptions};
use serde_json::{json, Value};

fn opts(model: &FakeOpenAi) -> WorkerOptions {
    WorkerOptions::relaxed().with_model(model.base_url())
}

fn understand(clarity: &str, next: &str) -> (&'static str, Value) {
    (
        "understand_intent",
        json!({ "core_mood": "寧靜", "visual_elements": ["cherry blossoms", "kimono"], "style_preference": "anime",
        "clarity_level": clarity, "confidence": if clarity == "very_vague" { 0.3 } else { 0.85 }, "next_action": next }),
    )
}

fn search(keywords: &[&str]) -> (&'static str, Value) {
    (
        "search_examples",
        json!({ "search_keywords": keywords, "search_purpose": "find_scene_tags", "search_strategy": "auto", "min_popularity": 1000, "max_results": 10 }),
    )
}

fn reply(calls: Vec<(&str, Value)>) -> Step {
    Step::Reply(responses_calls(&calls))
}

fn text(t: &str) -> Step {
    Step::Reply(responses_text(t))
}

async fn start(w: &Worker, m: &str) -> Got {
    post(&w.url("/api/inspire/start"), &json!({ "message": m })).await
}

async fn cont(w: &Worker, body: Value) -> Got {
    post(&w.url("/api/inspire/continue"), &body).await
}

/// The `input` items of a recorded Responses request.
fn input(model: &FakeOpenAi, i: usize) -> Vec<Value> {
    model.requests()[i].json()["input"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

fn assert_valid_directions(g: &Got) {
    let dirs = g.json["directions"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", g.text));
    assert!((2..=3).contains(&dirs.len()));
    for d in dirs {
        assert!(d["title"].as_str().unwrap().chars().count() <= 10);
        let n = d["main_tags"].as_array().unwrap().len();
        assert!((10..=15).contains(&n), "{n} tags");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn s1_clear_input_gives_directions_with_parallel_understanding() {
    let model = FakeOpenAi::start(vec![
        reply(vec![
            understand("mostly_clear", "generate_directly"),
            search(&["cherry", "kimono"]),
        ]),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("給你三個方向，選一個吧 😊"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "櫻花樹下的和服少女，溫柔寧靜的氛圍").await;
    assert_eq!(
        (s.status, s.json["type"].as_str()),
        (200, Some("directions")),
        "{}",
        s.text
    );
    assert_valid_directions(&s);
    let tools = &s.json["metadata"]["tool_calls"];
    assert_eq!(
        (
            tools["understand_intent"].as_u64(),
            tools["search_examples"].as_u64(),
            tools["generate_ideas"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(s.json["metadata"]["model_calls"], 3);
    // Both parallel calls were answered, once each, in call order, before the next call.
    let second = input(&model, 1);
    let outputs: Vec<&str> = second
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["call_id"].as_str().unwrap())
        .collect();
    let calls: Vec<&str> = second
        .iter()
        .filter(|i| i["type"] == "function_call")
        .map(|i| i["call_id"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, calls);
    let req = model.requests()[0].json();
    assert_eq!(req["store"], false);
    assert!(req["instructions"].as_str().unwrap().contains("Inspire"));
    assert_eq!(req["tools"].as_array().unwrap().len(), 5);
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn s2_vague_input_may_ask_once_then_directions_are_forced() {
    let model = FakeOpenAi::start(vec![
        reply(vec![understand("very_vague", "ask_clarification")]),
        text("想畫人物還是風景呢？"),
        // The second turn the model dodges again; the loop forces generate_ideas.
        text("你覺得呢？"),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("給你三個方向！"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "孤獨的感覺").await;
    assert_eq!(
        (s.json["type"].as_str(), s.json["phase"].as_str()),
        (Some("question"), Some("understanding")),
        "{}",
        s.text
    );
    let id = s.json["session_id"].as_str().unwrap();
    let c = cont(&w, json!({ "session_id": id, "message": "隨便" })).await;
    assert_eq!(c.json["type"], "directions", "{}", c.text);
    let forced = model.requests()[3].json();
    assert_eq!(
        forced["tool_choice"],
        json!({ "type": "function", "name": "generate_ideas" })
    );
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_chinese_keywords_find_real_tags() {
    let model = FakeOpenAi::start(vec![
        reply(vec![search(&["孤獨", "夜晚", "city"])]),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("三個方向來了"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    assert_eq!(start(&w, "孤獨又夢幻的城市夜晚").await.status, 200);
    let out = input(&model, 1)
        .into_iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    let v: Value = serde_json::from_str(out["output"].as_str().unwrap()).unwrap();
    let tags: Vec<&str> = v["examples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["tag"].as_str().unwrap())
        .collect();
    assert!(tags.contains(&"night"), "{tags:?}");
    assert!(v["examples"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["popularity"].as_u64().unwrap() >= 1000));
}

#[tokio::test(flavor = "multi_thread")]
async fn s4_refinement_then_a_refused_finalize_is_repaired() {
    let good: Vec<String> = IDEAS[1].1.iter().map(|s| s.to_string()).collect();
    let bad: Vec<String> = ["1girl", "zzz_made_up_tag", "qqq_other_fake"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let model = FakeOpenAi::start(vec![
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("三個方向！"),
        text("收到！就用這個 👌"),
        reply(vec![("generate_ideas", ideas_args(&["sparkle", "bloom"]))]),
        text("好！更夢幻"),
        reply(vec![("finalize_prompt", finalize_args(&bad))]),
        reply(vec![("finalize_prompt", finalize_args(&good))]),
        text("完成！給你完整版 ✨"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "櫻花樹下的和服少女").await;
    let id = s.json["session_id"].as_str().unwrap().to_string();
    cont(
        &w,
        json!({ "session_id": id, "action": { "type": "select", "direction": 2 } }),
    )
    .await;
    let r = cont(&w, json!({ "session_id": id, "message": "更夢幻" })).await;
    assert!(r.json["directions"][1]["main_tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t == "sparkle"));
    let f = cont(
        &w,
        json!({ "session_id": id, "action": { "type": "finalize" } }),
    )
    .await;
    assert_eq!(f.json["type"], "completed", "{}", f.text);
    assert!(f.json["final_output"]["quality_score"].as_u64().unwrap() >= 85);
    // The model sent "lowres, bad_anatomy"; the safety prefix was added in front.
    let negative = f.json["final_output"]["negative_prompt"].as_str().unwrap();
    assert!(
        negative.starts_with("nsfw, child, loli, shota, gore, lowres"),
        "{negative}"
    );
    // The refused attempt reached the model as an error it could act on.
    let last = input(&model, 7);
    let refused = last
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["output"].as_str().unwrap())
        .find(|o| o.contains("below 70"));
    assert!(refused.is_some(), "the refusal was sent back to the model");
    // A later turn's request holds the earlier turns.
    let history = serde_json::to_string(&last).unwrap();
    assert!(
        history.contains("櫻花樹下的和服少女")
            && history.contains("選擇方向 2")
            && history.contains("更夢幻")
    );
    assert_eq!(f.json["metadata"]["tool_calls"]["finalize_prompt"], 2);
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}

#[tokio::test(flavor = "multi_thread")]
async fn s5_s6_s7_parameters_expert_tags_and_tips_survive() {
    let mut expert = ideas_args(&["subsurface_scattering", "photorealistic"]);
    expert["ideas"][0]["main_tags"][10] = json!("long_hiar");
    let mut fin = finalize_args(
        &IDEAS[0]
            .1
            .iter()
            .map(|s| s.to_string())
            .chain(["subsurface_scattering".to_string()])
            .collect::<Vec<_>>(),
    );
    fin["final_output"]["parameters"]["cfg_scale"] = json!(7.5);
    let model = FakeOpenAi::start(vec![
        reply(vec![("generate_ideas", expert)]),
        text("三個混合風格的方向"),
        reply(vec![("finalize_prompt", fin)]),
        text("完成"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "寫實和動漫混合風格的和服少女，subsurface scattering").await;
    let first = &s.json["directions"][0];
    let tags: Vec<&str> = first["main_tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tags.contains(&"subsurface_scattering"),
        "expert tags are kept: {tags:?}"
    );
    assert!(
        first["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("long_hiar")),
        "{}",
        first
    );
    let id = s.json["session_id"].as_str().unwrap();
    let f = cont(
        &w,
        json!({ "session_id": id, "message": "生成最終 prompt" }),
    )
    .await;
    let out = &f.json["final_output"];
    let cfg = out["parameters"]["cfg_scale"].as_f64().unwrap();
    assert!((6.5..=8.5).contains(&cfg), "{cfg}");
    assert!(!out["usage_tips"].as_str().unwrap().is_empty());
    let n = out["positive_prompt"].as_str().unwrap().split(", ").count();
    assert!((10..=15).contains(&n), "{n}");
}

#[tokio::test(flavor = "multi_thread")]
async fn s8_unsafe_input_never_reaches_the_model() {
    let model = FakeOpenAi::start(vec![]).await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "蘿莉 裸體").await;
    assert_eq!(
        (s.status, assert_error_shape(&s).as_str()),
        (400, "content_unsafe")
    );
    let alts = s.json["error"]["safe_alternatives"].as_array().unwrap();
    assert_eq!(alts.len(), 3);
    let m = s.json["error"]["message"].as_str().unwrap();
    assert!(m.contains("改用") && m.contains("象徵"), "{m}");
    assert!(
        model.requests().is_empty(),
        "no model call for refused input"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn s10_database_failure_falls_back_and_the_turn_completes() {
    let pg = FakePostgrest::start().await;
    pg.set_fault(Fault::Status(503));
    let model = FakeOpenAi::start(vec![
        reply(vec![search(&["cherry", "kimono"])]),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("我直接用靈感先帶你看三個方向"),
    ])
    .await;
    let w = Worker::start(
        opts(&model)
            .var("SUPABASE_URL", pg.url())
            .var("SUPABASE_KEY", FakePostgrest::KEY),
    )
    .await;
    let s = start(&w, "櫻花樹下的和服少女").await;
    assert_eq!(s.json["type"], "directions", "{}", s.text);
    let out = input(&model, 1)
        .into_iter()
        .find(|i| i["type"] == "function_call_output")
        .unwrap();
    assert!(out["output"]
        .as_str()
        .unwrap()
        .contains("embedded_fallback"));
    assert!(!s.text.contains("資料庫錯誤") && !s.text.contains("系統故障"));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_arguments_and_unknown_tools_become_readable_errors() {
    let model = FakeOpenAi::start(vec![
        Step::Reply(responses_raw_call("generate_ideas", "{\"ideas\": [oops")),
        reply(vec![("paint_picture", json!({}))]),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("好了！"),
    ])
    .await;
    let w = Worker::start(opts(&model)).await;
    let s = start(&w, "櫻花").await;
    assert_eq!(s.json["type"], "directions", "{}", s.text);
    let outs: Vec<String> = input(&model, 2)
        .iter()
        .filter(|i| i["type"] == "function_call_output")
        .map(|i| i["output"].as_str().unwrap().to_string())
        .collect();
    assert!(outs[0].contains("not valid JSON"), "{outs:?}");
    assert!(outs[1].contains("unknown tool"), "{outs:?}");
    let st = get(&w.url(&format!(
        "/api/inspire/status/{}",
        s.json["session_id"].as_str().unwrap()
    )))
    .await;
    assert_eq!(st.json["orphaned_tool_calls"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn chat_completions_wire_format() {
    let model = FakeOpenAi::start(vec![
        reply(vec![
            understand("mostly_clear", "generate_directly"),
            search(&["kimono"]),
        ]),
        reply(vec![("generate_ideas", ideas_args(&[]))]),
        text("三個方向"),
        text("收到"),
    ])
    .await;
    let w = Worker::start(opts(&model).var("LLM_API", "chat")).await;
    let s = start(&w, "和服少女").await;
    assert_eq!(s.json["type"], "directions", "{}", s.text);
    let id = s.json["session_id"].as_str().unwrap();
    assert_eq!(
        cont(&w, json!({ "session_id": id, "message": "第一個" }))
            .await
            .status,
        200
    );
    let reqs = model.requests();
    assert!(reqs.iter().all(|r| r.path == "/v1/chat/completions"));
    let last = reqs.last().unwrap().json();
    assert_eq!(last["messages"][0]["role"], "system");
    assert!(last["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["role"] == "tool"));
    assert!(model.violations().is_empty(), "{:?}", model.violations());
}

//! The web page in headless Chromium against the real Worker: `node --test tests/browser/`
//! (playwright-core driving Debian's Chromium) with `BASE_URL` pointing at a Worker started
//! here. Three backends: offline (the built-in planner), LLM mode with a scripted fake OpenAI
//! that answers any number of conversations, and LLM mode with the model down (every call 500).
//!
//! The suites run one at a time (a lock), so a full `cargo test` does not start three Chromiums
//! on a 2-core machine. node's output is printed when a suite fails and is always kept in
//! `test-artifacts/browser-<label>.log`; screenshots land in `test-artifacts/screenshots/<label>/`.

use crate::support::fake_openai::{
    error_body, responses_calls, responses_text, Api, FakeOpenAi, Step,
};
use crate::support::worker::repo_root;
use crate::support::{Worker, WorkerOptions};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One browser suite at a time across this test binary.
static SUITE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Generous bound for one suite (it takes well under a minute when the machine is idle).
const SUITE_TIMEOUT: Duration = Duration::from_secs(420);

fn chromium() -> String {
    std::env::var("CHROMIUM_PATH").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

/// Runs `node --test tests/browser/` against `base`; returns (exit ok, node's output).
async fn run_node(base: &str, label: &str, mode: &str, expect_model_error: bool) -> (bool, String) {
    assert!(
        std::path::Path::new(&chromium()).exists(),
        "Chromium not found at {} (install Debian's `chromium`, or set CHROMIUM_PATH)",
        chromium()
    );
    let root = repo_root();
    assert!(
        root.join("node_modules/playwright-core").exists(),
        "node_modules/playwright-core missing: run `make setup`"
    );
    let artifacts = root.join("test-artifacts");
    std::fs::create_dir_all(&artifacts).expect("create test-artifacts");
    let log_path: PathBuf = artifacts.join(format!("browser-{label}.log"));
    let base = base.to_string();
    let mode = mode.to_string();
    let label = label.to_string();
    tokio::task::spawn_blocking(move || {
        let log = std::fs::File::create(&log_path).expect("create node log");
        let mut cmd = Command::new("node");
        cmd.args(["--test", "--test-reporter=spec", "tests/browser/"])
            .current_dir(&root)
            .env("BASE_URL", &base)
            .env("INSPIRE_MODE", &mode)
            .env(
                "EXPECT_MODEL_ERROR",
                if expect_model_error { "1" } else { "0" },
            )
            .env("CHROMIUM_PATH", chromium())
            .env("SCREENSHOTS_LABEL", &label)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let started = Instant::now();
        let mut child = cmd.spawn().expect("spawn node (is Node.js installed?)");
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait for node") {
                break Some(s);
            }
            if started.elapsed() > SUITE_TIMEOUT {
                // node and the Chromium it launched share the process group.
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(200));
        };
        let mut out = std::fs::read_to_string(&log_path).unwrap_or_default();
        out.push_str(&format!(
            "\n[browser suite '{label}' took {:.1} s]\n",
            started.elapsed().as_secs_f64()
        ));
        if status.is_none() {
            out.push_str(&format!("[killed after {} s]\n", SUITE_TIMEOUT.as_secs()));
        }
        (status.is_some_and(|s| s.success()), out)
    })
    .await
    .expect("node runner")
}

fn assert_suite(ok: bool, out: &str, worker: &Worker) {
    if !ok {
        panic!(
            "browser suite failed; node's output:\n{out}\n--- wrangler log (tail) ---\n{}",
            tail(&worker.log(), 80)
        );
    }
    println!("{out}");
}

fn tail(s: &str, lines: usize) -> String {
    let v: Vec<&str> = s.lines().collect();
    v[v.len().saturating_sub(lines)..].join("\n")
}

fn llm_worker_options(fake: &FakeOpenAi) -> WorkerOptions {
    WorkerOptions::relaxed().with_model(fake.base_url())
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_suite_offline() {
    let _one = SUITE.lock().await;
    let w = Worker::start(WorkerOptions::relaxed()).await;
    let (ok, out) = run_node(&w.base, "offline", "offline", false).await;
    assert_suite(ok, &out, &w);
    assert!(
        out.contains("# fail 0") || out.contains("ℹ fail 0"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_suite_llm_with_fake_model() {
    let _one = SUITE.lock().await;
    // A message containing "#fail-once" fails one whole turn (the first call and the Worker's
    // 2 retries answer 500); sent again, it succeeds.
    let failed = std::sync::atomic::AtomicU32::new(0);
    let fake = FakeOpenAi::with_handler(move |body, api| {
        let last_user = body["input"]
            .as_array()
            .and_then(|items| items.iter().rev().find(|i| i["role"] == "user"))
            .map(|i| i["content"].to_string())
            .unwrap_or_default();
        if last_user.contains("#fail-once")
            && failed.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 3
        {
            return Step::Status(
                500,
                error_body("The server had an error.", "server_error", None, None),
            );
        }
        scripted_model(body, api)
    })
    .await;
    let w = Worker::start(llm_worker_options(&fake)).await;
    let (ok, out) = run_node(&w.base, "llm", "llm", false).await;
    assert_suite(ok, &out, &w);
    let reqs = fake.requests();
    assert!(
        reqs.len() >= 10,
        "the page's turns reached the model: {} requests",
        reqs.len()
    );
    assert!(
        reqs.iter()
            .any(|r| r.json()["tool_choice"]["name"] == "finalize_prompt"),
        "a finalize turn forced finalize_prompt"
    );
    assert_eq!(
        fake.violations(),
        Vec::<String>::new(),
        "every model request was valid"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn browser_suite_model_down() {
    let _one = SUITE.lock().await;
    let fake = FakeOpenAi::with_handler(|_, _| {
        Step::Status(
            500,
            error_body(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
                None,
            ),
        )
    })
    .await;
    let w = Worker::start(llm_worker_options(&fake)).await;
    let (ok, out) = run_node(&w.base, "model-down", "llm", true).await;
    assert_suite(ok, &out, &w);
    let ran = out
        .lines()
        .any(|l| l.contains("model error") && !l.contains("SKIP") && !l.contains('﹣'));
    assert!(ran, "the model-error test ran (not skipped):\n{out}");
    // Each failed turn: the first call and 2 retries.
    assert!(fake.requests().len() >= 3, "{}", fake.requests().len());
    assert_eq!(fake.violations(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// The scripted model: a small, deterministic stand-in for the real one that answers whatever
// conversation the page drives, always with valid tool arguments and real Danbooru tags.

struct Idea {
    title: &'static str,
    concept: &'static str,
    vibe: &'static str,
    tags: &'static [&'static str],
    uniqueness: &'static str,
}

const SAKURA: [Idea; 3] = [
    Idea {
        title: "櫻下靜語",
        concept: "和服少女在盛開的櫻花樹下微笑，花瓣輕落",
        vibe: "溫柔、寧靜、春日",
        tags: &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "petals",
            "outdoors",
            "tree",
            "smile",
            "long_hair",
            "black_hair",
            "hair_flower",
            "upper_body",
            "looking_at_viewer",
            "day",
        ],
        uniqueness: "近景人物，重在表情",
    },
    Idea {
        title: "夜櫻燈影",
        concept: "夜晚的櫻花道，紙燈籠映著和服少女的側影",
        vibe: "幽靜、溫暖、夜色",
        tags: &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "night",
            "paper_lantern",
            "outdoors",
            "falling_petals",
            "from_side",
            "full_body",
            "night_sky",
            "standing",
        ],
        uniqueness: "夜景與燈光",
    },
    Idea {
        title: "水彩春意",
        concept: "淡彩水彩筆觸的春日少女，坐在花間",
        vibe: "清新、柔和、手繪感",
        tags: &[
            "1girl",
            "solo",
            "kimono",
            "cherry_blossoms",
            "watercolor_(medium)",
            "traditional_media",
            "pastel_colors",
            "petals",
            "spring_(season)",
            "flower",
            "smile",
            "sitting",
        ],
        uniqueness: "水彩畫風",
    },
];

const NEON: [Idea; 3] = [
    Idea {
        title: "霓虹獨行",
        concept: "少女戴著帽兜走在霓虹閃爍的雨夜街頭",
        vibe: "孤獨、冷冽、都市",
        tags: &[
            "1girl",
            "solo",
            "cyberpunk",
            "city",
            "night",
            "neon_lights",
            "street",
            "hood",
            "hoodie",
            "rain",
            "from_behind",
            "standing",
        ],
        uniqueness: "背影與街道",
    },
    Idea {
        title: "雨夜倒影",
        concept: "撐傘的少女站在積水旁，霓虹倒映在水面",
        vibe: "迷離、潮濕、靜謐",
        tags: &[
            "1girl",
            "solo",
            "cyberpunk",
            "city",
            "night",
            "rain",
            "puddle",
            "reflection",
            "umbrella",
            "neon_lights",
            "city_lights",
            "full_body",
        ],
        uniqueness: "水面倒影",
    },
    Idea {
        title: "高樓俯瞰",
        concept: "少女坐在天台邊緣，俯瞰整座不夜城",
        vibe: "遼闊、寂寞、風",
        tags: &[
            "1girl",
            "solo",
            "cyberpunk",
            "skyscraper",
            "night",
            "city_lights",
            "rooftop",
            "wind",
            "from_above",
            "sitting",
            "scenery",
            "city",
        ],
        uniqueness: "高處俯瞰的大場景",
    },
];

const STARS: [Idea; 3] = [
    Idea {
        title: "星河獨望",
        concept: "少女站在草原上，背對鏡頭仰望銀河",
        vibe: "遼闊、孤獨、夢幻",
        tags: &[
            "1girl",
            "solo",
            "starry_sky",
            "night_sky",
            "milky_way",
            "field",
            "standing",
            "from_behind",
            "long_hair",
            "wind",
            "scenery",
            "outdoors",
        ],
        uniqueness: "背影與銀河",
    },
    Idea {
        title: "流星願望",
        concept: "花海中的少女抬頭看著劃過的流星",
        vibe: "浪漫、期待、溫柔",
        tags: &[
            "1girl",
            "solo",
            "starry_sky",
            "night",
            "shooting_star",
            "field",
            "flower_field",
            "sitting",
            "looking_up",
            "smile",
            "outdoors",
            "scenery",
        ],
        uniqueness: "流星與花海",
    },
    Idea {
        title: "夢幻星塵",
        concept: "白裙少女被發光的星塵環繞，髮絲飄起",
        vibe: "奇幻、閃耀、輕盈",
        tags: &[
            "1girl",
            "solo",
            "starry_sky",
            "night_sky",
            "light_particles",
            "sparkle",
            "dress",
            "white_dress",
            "floating_hair",
            "glowing",
            "fantasy",
            "full_body",
        ],
        uniqueness: "奇幻光效",
    },
];

/// Added to every direction once the user asks for a change ("更夢幻一點").
const REFINE_TAGS: [&str; 3] = ["light_particles", "sparkle", "glowing"];

fn theme(first_user_text: &str) -> &'static [Idea; 3] {
    let t = first_user_text.to_lowercase();
    if ["霓虹", "賽博", "cyber", "neon"]
        .iter()
        .any(|k| t.contains(k))
    {
        &NEON
    } else if ["星", "star"].iter().any(|k| t.contains(k)) {
        &STARS
    } else {
        &SAKURA
    }
}

fn idea_tags(idea: &Idea, refined: bool) -> Vec<&'static str> {
    let mut tags: Vec<&'static str> = idea.tags.to_vec();
    if refined {
        for t in REFINE_TAGS {
            if !tags.contains(&t) && tags.len() < 15 {
                tags.push(t);
            }
        }
    }
    tags
}

fn ideas_args(ideas: &[Idea; 3], refined: bool) -> Value {
    let list: Vec<Value> = ideas
        .iter()
        .map(|i| {
            let tags = idea_tags(i, refined);
            json!({
                "title": i.title,
                "concept": i.concept,
                "vibe": if refined { format!("{}、更夢幻", i.vibe) } else { i.vibe.to_string() },
                "main_tags": tags,
                "quick_preview": tags[..6].join(", "),
                "uniqueness": i.uniqueness,
            })
        })
        .collect();
    json!({
        "ideas": list,
        "generation_basis": "使用者描述的場景與情緒，加上搜尋到的熱門標籤",
        "diversity_achieved": "high",
    })
}

fn finalize_args(idea: &Idea, refined: bool) -> Value {
    let tags = idea_tags(idea, refined);
    let pick =
        |set: &[&str]| -> Vec<&str> { tags.iter().copied().filter(|t| set.contains(t)).collect() };
    json!({
        "final_output": {
            "title": idea.title,
            "concept": idea.concept,
            "positive_prompt": tags.join(", "),
            "negative_prompt": "lowres, bad_anatomy, bad_hands, worst_quality, jpeg_artifacts",
            "structure": {
                "subject": pick(&["1girl", "solo"]),
                "appearance": pick(&["kimono", "long_hair", "black_hair", "hair_flower", "hood", "hoodie", "dress", "white_dress", "floating_hair"]),
                "scene": pick(&["cherry_blossoms", "outdoors", "tree", "night", "city", "street", "rain", "field", "starry_sky", "night_sky", "milky_way", "rooftop", "skyscraper"]),
                "mood": pick(&["smile", "light_particles", "sparkle", "glowing", "wind"]),
                "style": pick(&["watercolor_(medium)", "traditional_media", "pastel_colors", "cyberpunk", "fantasy"]),
            },
            "parameters": { "cfg_scale": 7.0, "steps": 30, "sampler": "DPM++ 2M Karras", "size": "512x768" },
            "usage_tips": "適合動漫模型；CFG 6-8 之間微調，先固定 seed 比較差異。",
        },
        "quality_score": 88,
    })
}

fn understand_args(text: &str) -> Value {
    json!({
        "core_mood": "溫柔夢幻",
        "visual_elements": [text.chars().take(20).collect::<String>()],
        "style_preference": "anime",
        "clarity_level": "mostly_clear",
        "confidence": 0.85,
        "next_action": "generate_directly",
    })
}

fn search_args() -> Value {
    json!({
        "search_keywords": ["girl", "night", "flower"],
        "search_purpose": "find_scene_tags",
        "search_strategy": "keyword",
        "min_popularity": 1000,
        "max_results": 10,
    })
}

fn validate_args(tags: &[&str]) -> Value {
    json!({
        "tags_to_validate": tags,
        "check_aspects": ["validity", "conflicts", "redundancy", "balance", "popularity"],
        "strictness": "moderate",
    })
}

/// The user's chosen direction, from the latest "選擇方向 N" / "direction N" in the history.
fn selected(user_texts: &[String]) -> usize {
    user_texts
        .iter()
        .rev()
        .find_map(|t| {
            let rest = t
                .split_once("選擇方向")
                .or_else(|| t.split_once("direction"))?
                .1;
            rest.trim()
                .chars()
                .next()?
                .to_digit(10)
                .filter(|n| (1..=3).contains(n))
        })
        .unwrap_or(1) as usize
}

fn is_select(t: &str) -> bool {
    t.contains("選擇方向") || t.to_lowercase().contains("choose direction")
}

fn scripted_model(body: &Value, api: Api) -> Step {
    assert_eq!(
        api,
        Api::Responses,
        "the Worker speaks the Responses API by default"
    );
    let input = body["input"].as_array().cloned().unwrap_or_default();
    let is_user = |i: &Value| i["type"] == "message" && i["role"] == "user";
    let text_of = |i: &Value| match &i["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    let user_texts: Vec<String> = input.iter().filter(|i| is_user(i)).map(text_of).collect();
    let first = user_texts.first().cloned().unwrap_or_default();
    let last_user = user_texts.last().cloned().unwrap_or_default();
    let ideas = theme(&first);
    // Refined once any user message after the first is neither a choice nor a finalize request.
    let refined = user_texts
        .iter()
        .skip(1)
        .any(|t| !is_select(t) && !t.contains("最終") && !t.to_lowercase().contains("final"));
    let chosen = &ideas[selected(&user_texts) - 1];
    let had_ideas = input
        .iter()
        .any(|i| i["type"] == "function_call" && i["name"] == "generate_ideas");

    if let Some(forced) = body["tool_choice"]["name"].as_str() {
        return Step::Reply(match forced {
            "finalize_prompt" => {
                responses_calls(&[("finalize_prompt", finalize_args(chosen, refined))])
            }
            "generate_ideas" => responses_calls(&[("generate_ideas", ideas_args(ideas, refined))]),
            other => panic!("unexpected forced tool {other}"),
        });
    }
    let last = input.last().cloned().unwrap_or(Value::Null);
    if is_user(&last) {
        let calls = if !had_ideas {
            vec![
                ("understand_intent", understand_args(&last_user)),
                ("search_examples", search_args()),
            ]
        } else if is_select(&last_user) {
            vec![("generate_ideas", ideas_args(ideas, refined))]
        } else {
            vec![(
                "validate_quality",
                validate_args(&idea_tags(chosen, refined)),
            )]
        };
        return Step::Reply(responses_calls(&calls));
    }
    if last["type"] == "function_call_output" {
        let call_id = last["call_id"].as_str().unwrap_or("");
        let name = input
            .iter()
            .find(|i| i["type"] == "function_call" && i["call_id"].as_str() == Some(call_id))
            .and_then(|i| i["name"].as_str())
            .unwrap_or("");
        let reply = match name {
            "understand_intent" | "search_examples" | "validate_quality" => {
                responses_calls(&[("generate_ideas", ideas_args(ideas, refined))])
            }
            "generate_ideas" if is_select(&last_user) => responses_text(&format!(
                "好，就用「{}」！想再調整可以直接說，例如「更夢幻一點」，或按「生成最終 prompt」。",
                chosen.title
            )),
            "generate_ideas" if refined && user_texts.len() > 1 => {
                responses_text("更夢幻了！加上光點、閃光和微微發亮的效果 ✨")
            }
            "generate_ideas" => responses_text(&format!(
                "給你三個方向：{}、{}、{}，選一個吧！",
                ideas[0].title, ideas[1].title, ideas[2].title
            )),
            "finalize_prompt" => responses_text("完成了！這是你的完整 prompt ✨"),
            _ => responses_text("好的！"),
        };
        return Step::Reply(reply);
    }
    Step::Reply(responses_text("好的！"))
}

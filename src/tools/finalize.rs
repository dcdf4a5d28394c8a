//! `finalize_prompt`: the deliverable. The positive prompt is validated again here (the
//! model's own score is not trusted): below 70 or with blocked tags it refuses, with the
//! issues and quick fixes so the caller can repair and retry. Structure and parameters are
//! real objects; the negative prompt always carries the safety prefix.

use super::validate::{validate, ASPECTS};
use super::{strict_object, string_array, ToolContext, ToolError};
use crate::recipes::{
    negative_for, parameters_for, style_of, usage_tip, with_safety_prefix, Parameters,
};
use crate::tags::index::index;
use crate::tags::{InspireCategory, TagStore};
use serde::Deserialize;
use serde_json::{json, Value};

pub const MAX_POSITIVE_CHARS: usize = 500;
pub const MIN_SCORE: u8 = 70;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Structure {
    pub subject: Vec<String>,
    pub appearance: Vec<String>,
    pub scene: Vec<String>,
    pub mood: Vec<String>,
    pub style: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterArgs {
    pub cfg_scale: f64,
    pub steps: i64,
    pub sampler: String,
    pub size: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalOutputArgs {
    pub title: String,
    pub concept: String,
    pub positive_prompt: String,
    pub negative_prompt: String,
    pub structure: Structure,
    pub parameters: ParameterArgs,
    pub usage_tips: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub final_output: FinalOutputArgs,
    pub quality_score: i64,
}

pub fn schema() -> Value {
    let structure = strict_object(json!({
        "subject": string_array("Who or what: 1girl, solo, …"),
        "appearance": string_array("Hair, eyes, clothing."),
        "scene": string_array("Place, weather, time."),
        "mood": string_array("Expression, light, atmosphere."),
        "style": string_array("Art style and medium."),
    }));
    let parameters = strict_object(json!({
        "cfg_scale": { "type": "number", "description": "1-20, usually 6-9." },
        "steps": { "type": "integer", "description": "20-100, usually 28-45." },
        "sampler": { "type": "string", "description": "e.g. DPM++ 2M Karras, Euler a." },
        "size": { "type": "string", "description": "WIDTHxHEIGHT, e.g. 512x768." },
    }));
    strict_object(json!({
        "final_output": strict_object(json!({
            "title": { "type": "string" },
            "concept": { "type": "string" },
            "positive_prompt": { "type": "string", "description": "Comma-separated tags, at most 500 characters." },
            "negative_prompt": { "type": "string", "description": "Comma-separated; the safety prefix is added if missing." },
            "structure": structure,
            "parameters": parameters,
            "usage_tips": { "type": "string", "description": "At most 200 characters." },
        })),
        "quality_score": { "type": "integer", "description": "The score validate_quality gave." },
    }))
}

pub async fn run<S: TagStore>(ctx: &ToolContext<'_, S>, a: Args) -> Result<Value, ToolError> {
    let f = a.final_output;
    if f.title.trim().is_empty() || f.positive_prompt.trim().is_empty() {
        return Err(ToolError(
            "finalize_prompt: title and positive_prompt are required".into(),
        ));
    }
    let tags: Vec<String> = f
        .positive_prompt
        .split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect();
    let report = validate(ctx, &tags, ASPECTS).await?;
    if !report.blocked.is_empty() {
        return Err(ToolError(format!(
            "finalize_prompt: refused: remove these unsafe tags first: {}",
            report.blocked.join(", ")
        )));
    }
    if report.score < MIN_SCORE {
        return Err(ToolError(format!(
            "finalize_prompt: refused: quality score {} is below {MIN_SCORE}; apply these fixes and try again: {}",
            report.score,
            report.to_json()
        )));
    }
    let positive = fit_positive(&report.clean);
    let kept: Vec<String> = positive.split(", ").map(str::to_string).collect();
    let style = style_of(&kept);
    let preset = parameters_for(style, &kept);
    let negative = if f.negative_prompt.trim().is_empty() {
        negative_for(style)
    } else {
        with_safety_prefix(&f.negative_prompt)
    };
    let tips = f.usage_tips.trim();
    let tips = if tips.is_empty() {
        usage_tip(style, ctx.english).to_string()
    } else {
        tips.chars().take(200).collect()
    };
    let output = json!({
        "title": f.title.trim(),
        "concept": f.concept.trim().chars().take(200).collect::<String>(),
        "positive_prompt": positive,
        "negative_prompt": negative,
        "structure": structure(&kept, &f.structure),
        "parameters": parameters(&f.parameters, &preset),
        "usage_tips": tips,
        "quality_score": report.score,
        "ready_to_use": true,
    });
    Ok(
        json!({ "status": "completed", "output": output, "quality_score": report.score, "ready_to_use": true }),
    )
}

/// Joins tags with ", ", dropping trailing tags until it fits in 500 characters.
fn fit_positive(tags: &[String]) -> String {
    let mut out = String::new();
    for t in tags {
        let extra = if out.is_empty() {
            t.chars().count()
        } else {
            t.chars().count() + 2
        };
        if out.chars().count() + extra > MAX_POSITIVE_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push_str(", ");
        }
        out.push_str(t);
    }
    out
}

/// The model's parameters, kept within sane ranges; the style preset fills what is invalid.
fn parameters(p: &ParameterArgs, preset: &Parameters) -> Parameters {
    let cfg = if p.cfg_scale.is_finite() && p.cfg_scale > 0.0 {
        (p.cfg_scale.clamp(1.0, 20.0) * 2.0).round() / 2.0
    } else {
        preset.cfg_scale
    };
    let steps = if p.steps > 0 {
        p.steps.clamp(20, 100) as u32
    } else {
        preset.steps
    };
    let sampler = if p.sampler.trim().is_empty() {
        preset.sampler.clone()
    } else {
        p.sampler.trim().chars().take(40).collect()
    };
    let size = if valid_size(&p.size) {
        p.size.trim().to_string()
    } else {
        preset.size.clone()
    };
    Parameters {
        cfg_scale: cfg,
        steps,
        sampler,
        size,
    }
}

fn valid_size(s: &str) -> bool {
    let Some((w, h)) = s.trim().split_once('x') else {
        return false;
    };
    let ok = |v: &str| {
        v.parse::<u32>()
            .is_ok_and(|n| (256..=2048).contains(&n) && n % 8 == 0)
    };
    ok(w) && ok(h)
}

/// subject / appearance / scene / mood / style over the final tags: the model's placement
/// where it named a kept tag, the tag's category otherwise, so every tag appears once.
fn structure(tags: &[String], given: &Structure) -> Value {
    let slots = ["subject", "appearance", "scene", "mood", "style"];
    let given_lists = [
        &given.subject,
        &given.appearance,
        &given.scene,
        &given.mood,
        &given.style,
    ];
    let mut out: Vec<Vec<String>> = vec![Vec::new(); 5];
    for t in tags {
        let placed = given_lists
            .iter()
            .position(|l| l.iter().any(|g| crate::tags::category::normalize(g) == *t));
        let slot = placed.unwrap_or_else(|| slot_of(t));
        out[slot].push(t.clone());
    }
    let mut v = serde_json::Map::new();
    for (name, list) in slots.iter().zip(out) {
        v.insert(name.to_string(), json!(list));
    }
    Value::Object(v)
}

fn slot_of(tag: &str) -> usize {
    use InspireCategory::*;
    match index().get(tag).map(|t| t.inspire_category()) {
        Some(Character | Action) => 0,
        Some(Appearance | Clothing) => 1,
        Some(Scene) => 2,
        Some(Mood | Effect) => 3,
        _ => 4,
    }
}

/// Arguments for `finalize_prompt` built from a tag list (the planner's and the abort path's
/// way to deliver), with the style preset's parameters adjusted by refinements.
pub fn args_for(
    title: &str,
    concept: &str,
    tags: &[String],
    cfg_delta: f64,
    steps_delta: i64,
    english: bool,
) -> Value {
    let style = style_of(tags);
    let p = parameters_for(style, tags);
    json!({
        "final_output": {
            "title": title, "concept": concept,
            "positive_prompt": tags.join(", "),
            "negative_prompt": negative_for(style),
            "structure": { "subject": [], "appearance": [], "scene": [], "mood": [], "style": [] },
            "parameters": { "cfg_scale": p.cfg_scale + cfg_delta, "steps": p.steps as i64 + steps_delta, "sampler": p.sampler, "size": p.size },
            "usage_tips": usage_tip(style, english),
        },
        "quality_score": 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::index::EmbeddedStore;
    use crate::tags::Rating;
    use futures_util::FutureExt;

    fn finalize(tags: &[&str], negative: &str) -> Result<Value, ToolError> {
        let ctx = ToolContext {
            store: &EmbeddedStore,
            access: Rating::AllAges,
            english: false,
        };
        let tags: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
        let mut args = args_for("櫻下", "concept", &tags, 0.0, 0, false);
        args["final_output"]["negative_prompt"] = json!(negative);
        run(&ctx, serde_json::from_value(args).unwrap())
            .now_or_never()
            .unwrap()
    }

    const GOOD: &[&str] = crate::tools::SAMPLE_TAGS;

    #[test]
    fn delivers_a_validated_prompt_with_real_objects() {
        let r = finalize(GOOD, "lowres, blurry").unwrap();
        let o = &r["output"];
        assert_eq!(r["status"], "completed");
        assert_eq!(r["ready_to_use"], true);
        assert!(r["quality_score"].as_u64().unwrap() >= 70);
        assert!(o["negative_prompt"]
            .as_str()
            .unwrap()
            .starts_with("nsfw, child, loli, shota, gore, lowres"));
        assert!(o["parameters"]["cfg_scale"].is_number() && o["parameters"]["steps"].is_number());
        assert_eq!(o["parameters"]["sampler"], "DPM++ 2M Karras");
        let s = &o["structure"];
        assert!(s["subject"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "1girl"));
        assert!(s["appearance"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "kimono"));
        let placed: usize = ["subject", "appearance", "scene", "mood", "style"]
            .iter()
            .map(|k| s[k].as_array().unwrap().len())
            .sum();
        assert_eq!(placed, GOOD.len());
    }

    #[test]
    fn refuses_below_seventy_and_with_blocked_tags() {
        let e = finalize(&["1girl", "zzz_not_a_tag", "qqq_nope"], "").unwrap_err();
        assert!(e.0.contains("below 70"), "{}", e.0);
        let mut with_blocked = GOOD.to_vec();
        with_blocked.push("loli");
        let e = finalize(&with_blocked, "").unwrap_err();
        assert!(e.0.contains("unsafe"), "{}", e.0);
    }

    #[test]
    fn conflicts_are_removed_and_the_prompt_fits() {
        let mut tags = GOOD.to_vec();
        tags.push("short_hair");
        let r = finalize(&tags, "").unwrap();
        assert!(!r["output"]["positive_prompt"]
            .as_str()
            .unwrap()
            .contains("short_hair"));
        let long: Vec<String> = (0..200).map(|_| "a".repeat(9)).collect();
        assert!(fit_positive(&long).chars().count() <= MAX_POSITIVE_CHARS);
    }

    #[test]
    fn parameters_are_clamped_and_sizes_checked() {
        let preset = parameters_for(crate::recipes::Style::AnimeDreamy, &[]);
        let p = parameters(
            &ParameterArgs {
                cfg_scale: 99.0,
                steps: 5,
                sampler: " ".into(),
                size: "513x768".into(),
            },
            &preset,
        );
        assert_eq!(
            (p.cfg_scale, p.steps, p.sampler.as_str(), p.size.as_str()),
            (20.0, 20, "DPM++ 2M Karras", "512x768")
        );
        assert!(valid_size("768x512") && !valid_size("768*512") && !valid_size("4096x512"));
    }
}

//! `understand_intent`: records the model's reading of what the user wants. No I/O; its
//! value is making the model commit to a mood, elements and a next step.

use super::{strict_object, string_array, string_enum, ToolError};
use serde::Deserialize;
use serde_json::{json, Value};

pub const STYLES: &[&str] = &["anime", "realistic", "artistic", "mixed", "unspecified"];
pub const CLARITY: &[&str] = &[
    "crystal_clear",
    "mostly_clear",
    "somewhat_vague",
    "very_vague",
];
pub const NEXT: &[&str] = &[
    "generate_directly",
    "ask_clarification",
    "search_references",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub core_mood: String,
    pub visual_elements: Vec<String>,
    pub style_preference: String,
    pub clarity_level: String,
    pub confidence: f64,
    pub next_action: String,
}

pub fn schema() -> Value {
    strict_object(json!({
        "core_mood": { "type": "string", "description": "The feeling at the heart of the request, in a few words." },
        "visual_elements": string_array("Concrete things to show (subjects, places, objects, light)."),
        "style_preference": string_enum(STYLES, "The art style the user leans to."),
        "clarity_level": string_enum(CLARITY, "How clear the request is."),
        "confidence": { "type": "number", "description": "0 to 1: how sure you are of this reading." },
        "next_action": string_enum(NEXT, "generate_directly when confidence ≥ 0.6; ask_clarification at most once per conversation."),
    }))
}

pub fn run(a: Args) -> Result<Value, ToolError> {
    let check = |v: &str, allowed: &[&str], field: &str| {
        if allowed.contains(&v) {
            Ok(())
        } else {
            Err(ToolError(format!(
                "understand_intent: {field} must be one of {}",
                allowed.join(", ")
            )))
        }
    };
    check(&a.style_preference, STYLES, "style_preference")?;
    check(&a.clarity_level, CLARITY, "clarity_level")?;
    check(&a.next_action, NEXT, "next_action")?;
    if !a.confidence.is_finite() {
        return Err(ToolError(
            "understand_intent: confidence must be a number from 0 to 1".into(),
        ));
    }
    let confidence = a.confidence.clamp(0.0, 1.0);
    Ok(json!({
        "status": "understood",
        "summary": format!("理解：{}，清晰度 {}", a.core_mood.trim(), a.clarity_level),
        "next_action": a.next_action,
        "confidence": confidence,
        "core_mood": a.core_mood.trim(),
        "clarity_level": a.clarity_level,
        "visual_elements": a.visual_elements,
        "style_preference": a.style_preference,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(conf: f64, next: &str) -> Args {
        Args {
            core_mood: "孤獨".into(),
            visual_elements: vec!["moon".into()],
            style_preference: "anime".into(),
            clarity_level: "very_vague".into(),
            confidence: conf,
            next_action: next.into(),
        }
    }

    #[test]
    fn contract_holds() {
        let r = run(args(1.5, "generate_directly")).unwrap();
        assert_eq!(r["confidence"], 1.0);
        assert_eq!(r["status"], "understood");
        assert!(r["summary"].as_str().unwrap().contains("孤獨"));
        assert!(run(args(0.5, "dance")).is_err());
        assert!(run(args(f64::NAN, "generate_directly")).is_err());
    }
}

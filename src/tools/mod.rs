//! The agent's five tools (reference §4, defects fixed): their strict JSON schemas, typed
//! arguments, and full behaviour. Each takes the model's JSON arguments and returns a JSON
//! result, or an error the model can read (`{"error": "..."}`); none ever fails the turn.

pub mod finalize;
pub mod ideas;
pub mod intent;
pub mod search;
pub mod validate;

use crate::llm::ToolSpec;
use crate::tags::{Rating, TagStore};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

pub const UNDERSTAND_INTENT: &str = "understand_intent";
pub const SEARCH_EXAMPLES: &str = "search_examples";
pub const GENERATE_IDEAS: &str = "generate_ideas";
pub const VALIDATE_QUALITY: &str = "validate_quality";
pub const FINALIZE_PROMPT: &str = "finalize_prompt";

/// What every tool may use: the tag store, the session's fixed access level, the language.
pub struct ToolContext<'a, S> {
    pub store: &'a S,
    pub access: Rating,
    pub english: bool,
}

/// A failure the model should see and can fix (bad arguments, a contract not met).
#[derive(Debug, Clone, PartialEq)]
pub struct ToolError(pub String);

impl ToolError {
    pub fn to_output(&self) -> Value {
        json!({ "error": self.0 })
    }
}

/// Parses arguments strictly: not JSON, wrong types, missing or unknown fields are errors
/// the model reads, never a crash.
pub fn parse_args<T: DeserializeOwned>(tool: &str, arguments: &str) -> Result<T, ToolError> {
    let v: Value = serde_json::from_str(arguments)
        .map_err(|e| ToolError(format!("{tool}: arguments are not valid JSON ({e})")))?;
    serde_json::from_value(v)
        .map_err(|e| ToolError(format!("{tool}: arguments do not match the schema ({e})")))
}

/// Runs one tool call. Unknown tools are an error output, like any other failure.
pub async fn run<S: TagStore>(
    ctx: &ToolContext<'_, S>,
    name: &str,
    arguments: &str,
) -> Result<Value, ToolError> {
    match name {
        UNDERSTAND_INTENT => intent::run(parse_args(name, arguments)?),
        SEARCH_EXAMPLES => search::run(ctx, parse_args(name, arguments)?).await,
        GENERATE_IDEAS => ideas::run(ctx, parse_args(name, arguments)?).await,
        VALIDATE_QUALITY => validate::run(ctx, parse_args(name, arguments)?).await,
        FINALIZE_PROMPT => finalize::run(ctx, parse_args(name, arguments)?).await,
        other => Err(ToolError(format!(
            "unknown tool '{other}'; use one of the five tools offered"
        ))),
    }
}

/// A one-line summary of a tool result for progress events and logs.
pub fn summarize(name: &str, result: &Result<Value, ToolError>, english: bool) -> String {
    let r = match result {
        Ok(v) => v,
        Err(e) => {
            return if english {
                format!("needs another try: {}", short(&e.0))
            } else {
                format!("需要再調整：{}", short(&e.0))
            }
        }
    };
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    match (name, english) {
        (UNDERSTAND_INTENT, false) => format!("理解：{}", r["core_mood"].as_str().unwrap_or("")),
        (UNDERSTAND_INTENT, true) => {
            format!("understood: {}", r["core_mood"].as_str().unwrap_or(""))
        }
        (SEARCH_EXAMPLES, false) => format!("找到 {} 個參考標籤", n("found")),
        (SEARCH_EXAMPLES, true) => format!("found {} reference tags", n("found")),
        (GENERATE_IDEAS, false) => format!("產生 {} 個方向", n("count")),
        (GENERATE_IDEAS, true) => format!("{} directions", n("count")),
        (VALIDATE_QUALITY, false) => format!("品質分數 {}", n("score")),
        (VALIDATE_QUALITY, true) => format!("quality score {}", n("score")),
        (FINALIZE_PROMPT, false) => format!("完成，分數 {}", n("quality_score")),
        (FINALIZE_PROMPT, true) => format!("done, score {}", n("quality_score")),
        _ => String::new(),
    }
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        t.push('…');
    }
    t
}

/// The five tools as offered to the model, with strict schemas: every object lists all its
/// properties as required and allows no others.
pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: UNDERSTAND_INTENT,
            description: "Record your understanding of the user's creative intent: mood, visual elements, style, how clear the request is, and what to do next.",
            parameters: intent::schema(),
        },
        ToolSpec {
            name: SEARCH_EXAMPLES,
            description: "Search the 140,790 Danbooru tags for real, popular tags containing the keywords (English keywords; Chinese words are mapped through the lexicon). Results respect the session's access level.",
            parameters: search::schema(),
        },
        ToolSpec {
            name: GENERATE_IDEAS,
            description: "Show the user 2-3 clearly different creative directions, each with a title of at most 10 characters, a one-line concept, a vibe and 10-15 existing Danbooru tags. Also used to show the updated set after a refinement.",
            parameters: ideas::schema(),
        },
        ToolSpec {
            name: VALIDATE_QUALITY,
            description: "Score a tag list 0-100: invalid tags, unsafe tags, conflicts, redundancy, category balance and popularity; returns issues and quick fixes.",
            parameters: validate::schema(),
        },
        ToolSpec {
            name: FINALIZE_PROMPT,
            description: "Deliver the final prompt: positive and negative prompt, structure, generation parameters and usage tips. Refused below a quality score of 70 or with unsafe tags.",
            parameters: finalize::schema(),
        },
    ]
}

/// A good, real, all-ages tag list for the tools' tests.
#[cfg(test)]
pub(crate) const SAMPLE_TAGS: &[&str] = &[
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
];

/// `{"type":"object", properties, required: all, additionalProperties: false}`.
pub fn strict_object(properties: Value) -> Value {
    let required: Vec<String> = properties
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    json!({ "type": "object", "properties": properties, "required": required, "additionalProperties": false })
}

pub fn string_enum(values: &[&str], description: &str) -> Value {
    json!({ "type": "string", "enum": values, "description": description })
}

pub fn string_array(description: &str) -> Value {
    json!({ "type": "array", "items": { "type": "string" }, "description": description })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// OpenAI's strict-mode rules, checked recursively on every schema we send.
    fn assert_strict(schema: &Value, path: &str) {
        if schema["type"] == "object" {
            assert_eq!(
                schema["additionalProperties"], false,
                "{path}: additionalProperties"
            );
            let props: Vec<&String> = schema["properties"].as_object().unwrap().keys().collect();
            let req: Vec<&str> = schema["required"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(props.len(), req.len(), "{path}: all properties required");
            for (k, v) in schema["properties"].as_object().unwrap() {
                assert!(req.contains(&k.as_str()), "{path}.{k} not required");
                assert_strict(v, &format!("{path}.{k}"));
            }
        }
        if schema["type"] == "array" {
            assert_strict(&schema["items"], &format!("{path}[]"));
        }
    }

    #[test]
    fn every_schema_is_strict() {
        let specs = specs();
        assert_eq!(specs.len(), 5);
        for s in specs {
            assert_strict(&s.parameters, s.name);
        }
    }

    #[test]
    fn bad_arguments_are_readable_errors() {
        let e = parse_args::<intent::Args>("understand_intent", "{not json").unwrap_err();
        assert!(e.0.contains("not valid JSON"));
        let e = parse_args::<intent::Args>("understand_intent", "{\"core_mood\": 3}").unwrap_err();
        assert!(e.0.contains("schema"));
        assert_eq!(e.to_output()["error"], e.0);
    }
}

//! The OpenAI Responses API wire format: `POST {base}/responses`.

use super::{is_reasoning_model, ModelReply, ModelRequest, ToolCall, ToolChoice, Usage};
use crate::transcript::Item;
use serde_json::{json, Value};

pub fn body(req: &ModelRequest) -> Value {
    let input: Vec<Value> = req
        .items
        .iter()
        .map(|it| match it {
            Item::User { text } => json!({ "type": "message", "role": "user", "content": text }),
            Item::Assistant { text } => json!({ "type": "message", "role": "assistant", "content": text }),
            Item::ToolCall { call_id, name, arguments } => {
                json!({ "type": "function_call", "call_id": call_id, "name": name, "arguments": arguments })
            }
            Item::ToolOutput { call_id, output } => {
                json!({ "type": "function_call_output", "call_id": call_id, "output": output })
            }
        })
        .collect();
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|t| {
            json!({ "type": "function", "name": t.name, "description": t.description,
                    "parameters": t.parameters, "strict": true })
        })
        .collect();
    let mut body = json!({
        "model": req.model,
        "instructions": req.instructions,
        "input": input,
        "tools": tools,
        "tool_choice": match req.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::Function(name) => json!({ "type": "function", "name": name }),
        },
        "parallel_tool_calls": true,
        "max_output_tokens": req.max_output_tokens,
        "store": false,
    });
    if is_reasoning_model(req.model) {
        body["reasoning"] = json!({ "effort": "low" });
    }
    body
}

/// Reads `output` (message, function_call; reasoning items are skipped) and `usage`.
pub fn parse(v: &Value) -> Result<ModelReply, String> {
    let output = v
        .get("output")
        .and_then(Value::as_array)
        .ok_or("response has no output array")?;
    let mut texts = Vec::new();
    let mut calls = Vec::new();
    for item in output {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                for part in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let text = part
                        .get("text")
                        .or_else(|| part.get("refusal"))
                        .and_then(Value::as_str);
                    if let Some(t) = text {
                        texts.push(t.to_string());
                    }
                }
            }
            Some("function_call") => {
                let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_string);
                let (Some(call_id), Some(name)) = (field("call_id"), field("name")) else {
                    return Err("function_call without call_id or name".into());
                };
                calls.push(ToolCall {
                    call_id,
                    name,
                    arguments: field("arguments").unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    let text = Some(texts.join("")).filter(|t| !t.trim().is_empty());
    if text.is_none() && calls.is_empty() {
        return Err("response has neither text nor tool calls".into());
    }
    let usage = Usage {
        input_tokens: v["usage"]["input_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["output_tokens"].as_u64().unwrap_or(0),
    };
    Ok(ModelReply {
        text,
        calls,
        usage,
        upstream_ms: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::ToolSpec;

    #[test]
    fn body_carries_history_tools_and_no_reasoning_for_4o() {
        let items = vec![
            Item::user("hi"),
            Item::ToolCall {
                call_id: "c1".into(),
                name: "t".into(),
                arguments: "{}".into(),
            },
            Item::ToolOutput {
                call_id: "c1".into(),
                output: "{\"ok\":1}".into(),
            },
            Item::assistant("yo"),
        ];
        let tools = vec![ToolSpec {
            name: "t",
            description: "d",
            parameters: json!({"type":"object"}),
        }];
        let req = ModelRequest {
            model: "gpt-4o-mini",
            instructions: "be kind",
            items: &items,
            tools: &tools,
            tool_choice: ToolChoice::Function("t"),
            max_output_tokens: 800,
        };
        let b = body(&req);
        assert_eq!(b["instructions"], "be kind");
        assert_eq!(b["store"], false);
        assert_eq!(b["input"][1]["type"], "function_call");
        assert_eq!(b["input"][2]["call_id"], "c1");
        assert_eq!(b["tools"][0]["strict"], true);
        assert_eq!(b["tool_choice"]["name"], "t");
        assert!(b.get("reasoning").is_none());
        let b5 = body(&ModelRequest {
            model: "gpt-5-mini",
            ..req
        });
        assert_eq!(b5["reasoning"]["effort"], "low");
    }

    #[test]
    fn parses_text_calls_and_usage() {
        let v = json!({"output":[
            {"type":"reasoning","id":"rs_1","summary":[]},
            {"type":"function_call","id":"fc_1","call_id":"call_1","name":"a","arguments":"{\"x\":1}","status":"completed"},
            {"type":"function_call","id":"fc_2","call_id":"call_2","name":"b","arguments":"{}","status":"completed"},
            {"type":"message","role":"assistant","content":[{"type":"output_text","text":"hello","annotations":[]}]}
        ],"usage":{"input_tokens":10,"output_tokens":5,"total_tokens":15}});
        let r = parse(&v).unwrap();
        assert_eq!(r.text.as_deref(), Some("hello"));
        assert_eq!(r.calls.len(), 2);
        assert_eq!(r.calls[1].call_id, "call_2");
        assert_eq!(
            r.usage,
            Usage {
                input_tokens: 10,
                output_tokens: 5
            }
        );
    }

    #[test]
    fn rejects_empty_and_malformed() {
        assert!(parse(&json!({"output": []})).is_err());
        assert!(parse(&json!({"nope": 1})).is_err());
        assert!(parse(&json!({"output":[{"type":"function_call","name":"a"}]})).is_err());
    }
}

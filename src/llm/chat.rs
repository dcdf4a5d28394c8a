//! The Chat Completions wire format (`POST {base}/chat/completions`), so any
//! OpenAI-compatible server works (OpenRouter, Groq, vLLM, Ollama, LM Studio, Workers AI).

use super::{is_reasoning_model, ModelReply, ModelRequest, ToolCall, ToolChoice, Usage};
use crate::transcript::Item;
use serde_json::{json, Value};

pub fn body(req: &ModelRequest) -> Value {
    let mut messages = vec![json!({ "role": "system", "content": req.instructions })];
    for it in req.items {
        match it {
            Item::User { text } => messages.push(json!({ "role": "user", "content": text })),
            Item::Assistant { text } => {
                messages.push(json!({ "role": "assistant", "content": text }))
            }
            Item::ToolCall {
                call_id,
                name,
                arguments,
            } => {
                let call = json!({ "id": call_id, "type": "function",
                                   "function": { "name": name, "arguments": arguments } });
                // Calls of one model reply share one assistant message, after its text if any.
                match messages.last_mut() {
                    Some(m) if m["role"] == "assistant" && m.get("tool_calls").is_some() => {
                        m["tool_calls"].as_array_mut().unwrap().push(call)
                    }
                    Some(m) if m["role"] == "assistant" => m["tool_calls"] = json!([call]),
                    _ => messages.push(
                        json!({ "role": "assistant", "content": null, "tool_calls": [call] }),
                    ),
                }
            }
            Item::ToolOutput { call_id, output } => {
                messages.push(json!({ "role": "tool", "tool_call_id": call_id, "content": output }))
            }
        }
    }
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|t| {
            json!({ "type": "function", "function": {
                "name": t.name, "description": t.description, "parameters": t.parameters, "strict": true } })
        })
        .collect();
    let mut body = json!({
        "model": req.model,
        "messages": messages,
        "tools": tools,
        "tool_choice": match req.tool_choice {
            ToolChoice::Auto => json!("auto"),
            ToolChoice::Function(name) => json!({ "type": "function", "function": { "name": name } }),
        },
        "parallel_tool_calls": true,
    });
    if is_reasoning_model(req.model) {
        body["max_completion_tokens"] = json!(req.max_output_tokens);
        body["reasoning_effort"] = json!("low");
    } else {
        body["max_tokens"] = json!(req.max_output_tokens);
    }
    body
}

pub fn parse(v: &Value) -> Result<ModelReply, String> {
    let msg = v
        .pointer("/choices/0/message")
        .ok_or("response has no choices[0].message")?;
    let text = msg
        .get("content")
        .and_then(Value::as_str)
        .map(str::to_string)
        .filter(|t| !t.trim().is_empty());
    let mut calls = Vec::new();
    for c in msg
        .get("tool_calls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let id = c.get("id").and_then(Value::as_str);
        let name = c.pointer("/function/name").and_then(Value::as_str);
        let (Some(id), Some(name)) = (id, name) else {
            return Err("tool call without id or name".into());
        };
        let arguments = match c.pointer("/function/arguments") {
            Some(Value::String(s)) => s.clone(),
            // Some servers send the arguments as an object instead of a string.
            Some(other) => other.to_string(),
            None => String::new(),
        };
        calls.push(ToolCall {
            call_id: id.to_string(),
            name: name.to_string(),
            arguments,
        });
    }
    if text.is_none() && calls.is_empty() {
        return Err("response has neither text nor tool calls".into());
    }
    let usage = Usage {
        input_tokens: v["usage"]["prompt_tokens"].as_u64().unwrap_or(0),
        output_tokens: v["usage"]["completion_tokens"].as_u64().unwrap_or(0),
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

    #[test]
    fn tool_calls_group_into_one_assistant_message() {
        let items = vec![
            Item::user("hi"),
            Item::assistant("thinking"),
            Item::ToolCall {
                call_id: "a".into(),
                name: "x".into(),
                arguments: "{}".into(),
            },
            Item::ToolCall {
                call_id: "b".into(),
                name: "y".into(),
                arguments: "{}".into(),
            },
            Item::ToolOutput {
                call_id: "a".into(),
                output: "1".into(),
            },
            Item::ToolOutput {
                call_id: "b".into(),
                output: "2".into(),
            },
        ];
        let req = ModelRequest {
            model: "m",
            instructions: "sys",
            items: &items,
            tools: &[],
            tool_choice: ToolChoice::Auto,
            max_output_tokens: 100,
        };
        let b = body(&req);
        let m = b["messages"].as_array().unwrap();
        assert_eq!(m.len(), 5);
        assert_eq!(m[0]["role"], "system");
        assert_eq!(m[2]["content"], "thinking");
        assert_eq!(m[2]["tool_calls"].as_array().unwrap().len(), 2);
        assert_eq!(m[3]["role"], "tool");
        assert_eq!(m[4]["tool_call_id"], "b");
        assert_eq!(b["max_tokens"], 100);
    }

    #[test]
    fn parses_calls_with_string_or_object_arguments() {
        let v = json!({"choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[
            {"id":"call_1","type":"function","function":{"name":"a","arguments":"{\"k\":1}"}},
            {"id":"call_2","type":"function","function":{"name":"b","arguments":{"k":2}}}]},"finish_reason":"tool_calls"}],
            "usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}});
        let r = parse(&v).unwrap();
        assert_eq!(r.text, None);
        assert_eq!(r.calls[1].arguments, "{\"k\":2}");
        assert_eq!(r.usage.input_tokens, 7);
        assert!(
            parse(&json!({"choices":[{"message":{"role":"assistant","content":""}}]})).is_err()
        );
    }
}

//! Server-Sent Events: `sse::event` then `sse::parse` gives back the name (without CR and
//! LF) and the data (every line break as LF), one event per frame; and a parser
//! that follows the SSE specification reads the same event for JSON data (what the Worker
//! sends), so a browser sees what the tests see.
#![no_main]

use inspire::sse::{event, parse};
use libfuzzer_sys::fuzz_target;

/// The SSE specification's parser (HTML §9.2.6), for complete events: lines end at CRLF,
/// LF or CR; `field: value` with one optional space removed; data lines joined by LF.
fn spec_parse(stream: &str) -> Vec<(String, String)> {
    let mut events = Vec::new();
    let (mut name, mut data, mut has_data) = (String::new(), String::new(), false);
    let normalized = stream.replace("\r\n", "\n").replace('\r', "\n");
    for line in normalized.split('\n') {
        if line.is_empty() {
            if has_data {
                let d = data.strip_suffix('\n').unwrap_or(&data).to_string();
                let n = if name.is_empty() {
                    "message".to_string()
                } else {
                    name.clone()
                };
                events.push((n, d));
            }
            name.clear();
            data.clear();
            has_data = false;
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => name = value.to_string(),
            "data" => {
                data.push_str(value);
                data.push('\n');
                has_data = true;
            }
            _ => {}
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (name, payload) = text.split_once('\0').unwrap_or(("message", &text));
    let frame = event(name, payload);
    let clean_name: String = name.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    // CRLF, CR and LF all end a data line (as for EventSource); lines are joined by LF.
    let clean_data: String = payload.replace("\r\n", "\n").replace('\r', "\n");
    assert_eq!(
        parse(&frame),
        vec![(clean_name.clone(), clean_data)],
        "frame {frame:?}"
    );

    // Two events in a row stay two events.
    let two = format!("{frame}{}", event("done", "{}"));
    let parsed = parse(&two);
    assert_eq!(parsed.len(), 2);
    assert_eq!(parsed[1], ("done".to_string(), "{}".to_string()));

    // JSON data, as the Worker sends it, reads the same with a spec-following parser.
    let json = serde_json::to_string(&serde_json::json!({ "message": payload })).unwrap();
    let spec = spec_parse(&event(name, &json));
    let want_name = if clean_name.trim().is_empty() && clean_name.is_empty() {
        "message".to_string()
    } else {
        clean_name
    };
    assert_eq!(spec, vec![(want_name, json)], "spec parser disagrees");
});

//! Server-Sent Events: one event per frame, `event:` name and JSON `data:` lines.

/// Encodes one event. Every line of `data` gets its own `data:` field, so any text is safe;
/// `\r\n`, `\r` and `\n` all end a line, as they do for the browser's EventSource.
pub fn event(name: &str, data: &str) -> String {
    let name: String = name.chars().filter(|c| !matches!(c, '\n' | '\r')).collect();
    let mut out = format!("event: {name}\n");
    for line in data.replace("\r\n", "\n").split(['\n', '\r']) {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Decodes a stream's text into (event, data) pairs; for tests and the browser's logic.
pub fn parse(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter(|f| !f.trim().is_empty())
        .map(|frame| {
            let mut name = String::from("message");
            let mut data = Vec::new();
            for line in frame.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_string();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                }
            }
            (name, data.join("\n"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_multiline_data() {
        let e = event("message", "{\"a\":1}\nsecond");
        assert_eq!(e, "event: message\ndata: {\"a\":1}\ndata: second\n\n");
        let two = format!("{}{}", e, event("done", "{}"));
        assert_eq!(
            parse(&two),
            vec![
                ("message".into(), "{\"a\":1}\nsecond".into()),
                ("done".into(), "{}".into())
            ]
        );
    }

    #[test]
    fn a_lone_carriage_return_ends_a_line_too() {
        assert_eq!(
            event("m", "a\rb\r\nc"),
            "event: m\ndata: a\ndata: b\ndata: c\n\n"
        );
    }

    #[test]
    fn names_cannot_break_frames() {
        assert_eq!(event("a\nb", "x"), "event: ab\ndata: x\n\n");
    }
}

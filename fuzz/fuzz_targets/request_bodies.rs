//! Request parsing at the edge: the three JSON body parsers, query strings, routing and
//! percent-decoding, on arbitrary bytes. Never a panic; every error is a 4xx of the one
//! error shape; every accepted body keeps the documented limits.
#![no_main]

use inspire::api::inspire::{parse_continue, parse_feedback, parse_start, MAX_MESSAGE_CHARS};
use inspire::api::route::{percent_decode, route};
use inspire::api::tags::query_pairs;
use inspire::api::ApiError;
use inspire::session::Action;
use libfuzzer_sys::fuzz_target;

fn check_error(e: &ApiError) {
    assert!(
        matches!(e.status(), 400 | 413 | 422),
        "a body error must be 400, 413 or 422: {e:?}"
    );
    let body = e.body("rid");
    assert_eq!(body["error"]["code"], e.code());
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
}

fn check_message(m: &str) {
    let n = m.chars().count();
    assert!(
        n >= 1 && n <= MAX_MESSAGE_CHARS,
        "message of {n} chars accepted"
    );
    assert_eq!(m, m.trim(), "accepted message is not trimmed");
}

fn check_id(id: &str) {
    assert!(inspire::ids::is_uuid(id), "{id:?} is not a UUID");
    assert_eq!(id, id.to_lowercase());
}

fuzz_target!(|data: &[u8]| {
    match parse_start(data) {
        Ok(r) => check_message(&r.message),
        Err(e) => check_error(&e),
    }
    match parse_continue(data) {
        Ok(r) => {
            check_id(&r.session_id);
            assert!(r.message.is_some() || r.action.is_some());
            if let Some(m) = &r.message {
                check_message(m);
            }
            if let Some(Action::Select(n)) = r.action {
                assert!((1..=3).contains(&n));
            }
        }
        Err(e) => check_error(&e),
    }
    match parse_feedback(data) {
        Ok(f) => {
            check_id(&f.session_id);
            assert!((1..=5).contains(&f.satisfaction));
            if let Some(t) = &f.text {
                assert!(!t.is_empty() && t.chars().count() <= MAX_MESSAGE_CHARS);
            }
        }
        Err(e) => check_error(&e),
    }

    let text = String::from_utf8_lossy(data);
    for (k, v) in query_pairs(&text) {
        assert!(!k.contains('&') || text.contains("%26"));
        let _ = v;
    }
    for plus in [false, true] {
        let d = percent_decode(&text, plus);
        if !text.contains('%') && !(plus && text.contains('+')) {
            assert_eq!(d, text, "decoding changed a string without escapes");
        }
    }
    let method = ["GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT"]
        [data.first().map_or(0, |b| *b as usize % 6)];
    let path = format!("/api/{}", text.get(1..).unwrap_or(""));
    match route(method, &path) {
        Ok(_) => {}
        Err(e) => {
            assert!(matches!(e.status(), 404 | 405), "{e:?}");
            if e.status() == 405 {
                assert!(e
                    .headers()
                    .iter()
                    .any(|(k, v)| *k == "Allow" && v.contains("OPTIONS")));
            }
        }
    }
});

//! PostgREST encoding: `quote_list_value` and `like_literal` never panic; a list of quoted
//! values parses back (with PostgREST's own list grammar, re-implemented below) to the
//! original values; a LIKE literal matches exactly its text (`*` being the one wildcard);
//! and the URL percent-encoding decodes back to the original.
#![no_main]

use inspire::api::route::percent_decode;
use inspire::http::percent_encode;
use inspire::tags::postgrest::{like_literal, quote_list_value};
use libfuzzer_sys::fuzz_target;

/// PostgREST's `in.(…)` list grammar (QueryParams.hs): elements separated by `,`, the list
/// closed by `)`; an element is either `"…"` (where `\x` is `x`), followed by `,` or `)`,
/// or any run of characters other than `,` and `)`.
fn parse_list(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix('(')?;
    let chars: Vec<char> = inner.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        let mut v = String::new();
        let quoted_end = if chars.get(i) == Some(&'"') {
            let mut j = i + 1;
            let mut q = String::new();
            let mut closed = false;
            while j < chars.len() {
                match chars[j] {
                    '\\' if j + 1 < chars.len() => {
                        q.push(chars[j + 1]);
                        j += 2;
                    }
                    '\\' => break,
                    '"' => {
                        closed = true;
                        j += 1;
                        break;
                    }
                    c => {
                        q.push(c);
                        j += 1;
                    }
                }
            }
            // The quoted form counts only when followed by `,` or `)`.
            (closed && matches!(chars.get(j), Some(',' | ')'))).then(|| (q, j))
        } else {
            None
        };
        match quoted_end {
            Some((q, j)) => {
                v = q;
                i = j;
            }
            None => {
                while i < chars.len() && !matches!(chars[i], ',' | ')') {
                    v.push(chars[i]);
                    i += 1;
                }
            }
        }
        out.push(v);
        match chars.get(i) {
            Some(',') => i += 1,
            Some(')') if i + 1 == chars.len() => return Some(out),
            _ => return None,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Like {
    Lit(char),
    Any,
}

/// A LIKE pattern with `\` as the escape, as tokens (PostgREST turns `*` into `%` first).
fn like_tokens(p: &str) -> Vec<Like> {
    let mut out = Vec::new();
    let mut it = p.chars();
    while let Some(c) = it.next() {
        match c {
            '\\' => out.push(Like::Lit(it.next().expect("dangling escape"))),
            '%' | '*' | '_' => out.push(Like::Any),
            c => out.push(Like::Lit(c)),
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Several values, separated by NUL bytes in the input.
    let values: Vec<&str> = text.split('\0').collect();

    let quoted: Vec<String> = values.iter().map(|v| quote_list_value(v)).collect();
    let list = format!("({})", quoted.join(","));
    let back = parse_list(&list).unwrap_or_else(|| panic!("unparseable list {list:?}"));
    assert_eq!(back, values, "list {list:?} does not parse back");

    for v in &values {
        let want: Vec<Like> = v
            .chars()
            .map(|c| if c == '*' { Like::Any } else { Like::Lit(c) })
            .collect();
        assert_eq!(like_tokens(&like_literal(v)), want, "like_literal({v:?})");
    }

    let encoded = percent_encode(&list);
    assert!(encoded.is_ascii());
    assert_eq!(percent_decode(&encoded, true), list, "percent round trip");
});

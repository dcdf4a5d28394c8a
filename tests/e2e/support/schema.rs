//! A small JSON-Schema validator for the subset the OpenAPI document uses, so the end-to-end
//! tests can check real responses against `/api/openapi.json` without another crate.
//!
//! Supported: `type` (a name or a list, including `"null"`; `integer` means a number with no
//! fraction), `properties`, `required`, `additionalProperties` (false or a schema), `items`,
//! `minItems`/`maxItems`, `enum`, `const`, `minimum`/`maximum`, `minLength`/`maxLength`
//! (in Unicode code points), `oneOf` (exactly one), `anyOf`, `allOf`, `not`, `$ref` to
//! `#/...` in the same document, and `format` `uuid` and `date-time`. `pattern` is not
//! checked (no regex engine; the document uses it only for requests). Annotations
//! (`description`, `title`, `example`, …) are ignored. Any other keyword is reported as a
//! violation, so the document cannot silently rely on something this does not check.

use serde_json::Value;

const ANNOTATIONS: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "readOnly",
    "writeOnly",
    "pattern",
];

/// Validates `value` against `schema`, resolving `$ref`s in `root`. Returns the violations,
/// each as `<json path>: <what is wrong>`; empty means valid.
pub fn validate(root: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    check(root, schema, value, "$", &mut out, 0);
    out
}

/// Resolves a local `$ref` (`#/components/schemas/X`).
pub fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn has_type(v: &Value, t: &str) -> bool {
    match t {
        "integer" => match v {
            Value::Number(n) => {
                n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
            }
            _ => false,
        },
        "number" => v.is_number(),
        other => type_name(v) == other,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// `YYYY-MM-DDTHH:MM:SS` with optional fraction, then `Z` or `±HH:MM`.
fn is_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        r.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit)) && r.end <= b.len()
    };
    if b.len() < 20
        || !digits(0..4)
        || b[4] != b'-'
        || !digits(5..7)
        || b[7] != b'-'
        || !digits(8..10)
        || !matches!(b[10], b'T' | b't')
        || !digits(11..13)
        || b[13] != b':'
        || !digits(14..16)
        || b[16] != b':'
        || !digits(17..19)
    {
        return false;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return false;
        }
    }
    match &b[i..] {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    }
}

fn check(root: &Value, schema: &Value, v: &Value, path: &str, out: &mut Vec<String>, depth: usize) {
    if depth > 64 {
        out.push(format!("{path}: schema nesting too deep (a $ref cycle?)"));
        return;
    }
    let s = match schema {
        Value::Bool(true) => return,
        Value::Bool(false) => {
            out.push(format!("{path}: no value is allowed here"));
            return;
        }
        Value::Object(s) => s,
        other => {
            out.push(format!("{path}: schema is not an object: {other}"));
            return;
        }
    };
    for (k, kv) in s {
        match k.as_str() {
            "$ref" => match kv.as_str().and_then(|r| resolve(root, r)) {
                Some(target) => check(root, target, v, path, out, depth + 1),
                None => out.push(format!("{path}: $ref {kv} does not resolve")),
            },
            "type" => {
                let types: Vec<&str> = match kv {
                    Value::String(t) => vec![t.as_str()],
                    Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                    _ => vec![],
                };
                if !types.iter().any(|t| has_type(v, t)) {
                    out.push(format!(
                        "{path}: expected type {}, got {} {}",
                        types.join(" or "),
                        type_name(v),
                        short(v)
                    ));
                }
            }
            "enum" => {
                let options = kv.as_array().map(Vec::as_slice).unwrap_or(&[]);
                if !options.iter().any(|o| same(o, v)) {
                    out.push(format!("{path}: {} is not one of {}", short(v), short(kv)));
                }
            }
            "const" => {
                if !same(kv, v) {
                    out.push(format!("{path}: expected {kv}, got {}", short(v)));
                }
            }
            "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                if let (Some(n), Some(limit)) = (v.as_f64(), kv.as_f64()) {
                    let ok = match k.as_str() {
                        "minimum" => n >= limit,
                        "maximum" => n <= limit,
                        "exclusiveMinimum" => n > limit,
                        _ => n < limit,
                    };
                    if !ok {
                        out.push(format!("{path}: {n} violates {k} {limit}"));
                    }
                }
            }
            "minLength" | "maxLength" => {
                if let (Some(text), Some(limit)) = (v.as_str(), kv.as_u64()) {
                    let n = text.chars().count() as u64;
                    if (k == "minLength" && n < limit) || (k == "maxLength" && n > limit) {
                        out.push(format!("{path}: length {n} violates {k} {limit}"));
                    }
                }
            }
            "minItems" | "maxItems" => {
                if let (Some(a), Some(limit)) = (v.as_array(), kv.as_u64()) {
                    let n = a.len() as u64;
                    if (k == "minItems" && n < limit) || (k == "maxItems" && n > limit) {
                        out.push(format!("{path}: {n} items violates {k} {limit}"));
                    }
                }
            }
            "format" => {
                if let Some(text) = v.as_str() {
                    let ok = match kv.as_str() {
                        Some("uuid") => is_uuid(text),
                        Some("date-time") => is_date_time(text),
                        _ => true,
                    };
                    if !ok {
                        out.push(format!("{path}: {} is not a {kv}", short(v)));
                    }
                }
            }
            "required" => {
                if let Some(o) = v.as_object() {
                    for name in kv
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                    {
                        if !o.contains_key(name) {
                            out.push(format!("{path}: required property '{name}' is missing"));
                        }
                    }
                }
            }
            "properties" => {
                if let (Some(o), Some(props)) = (v.as_object(), kv.as_object()) {
                    for (name, sub) in props {
                        if let Some(x) = o.get(name) {
                            check(root, sub, x, &format!("{path}.{name}"), out, depth + 1);
                        }
                    }
                }
            }
            "additionalProperties" => {
                if let Some(o) = v.as_object() {
                    let known = s.get("properties").and_then(Value::as_object);
                    for (name, x) in o {
                        if known.is_some_and(|p| p.contains_key(name)) {
                            continue;
                        }
                        match kv {
                            Value::Bool(false) => out.push(format!(
                                "{path}: property '{name}' is not allowed (additionalProperties: false)"
                            )),
                            Value::Bool(true) => {}
                            sub => check(root, sub, x, &format!("{path}.{name}"), out, depth + 1),
                        }
                    }
                }
            }
            "items" => {
                if let Some(a) = v.as_array() {
                    for (i, x) in a.iter().enumerate() {
                        check(root, kv, x, &format!("{path}[{i}]"), out, depth + 1);
                    }
                }
            }
            "oneOf" | "anyOf" | "allOf" => {
                let branches = kv.as_array().map(Vec::as_slice).unwrap_or(&[]);
                let results: Vec<Vec<String>> = branches
                    .iter()
                    .map(|b| {
                        let mut e = Vec::new();
                        check(root, b, v, path, &mut e, depth + 1);
                        e
                    })
                    .collect();
                let passed = results.iter().filter(|e| e.is_empty()).count();
                match k.as_str() {
                    "allOf" => out.extend(results.into_iter().flatten()),
                    "anyOf" if passed == 0 => out.push(format!(
                        "{path}: matches none of anyOf: {}",
                        results
                            .iter()
                            .map(|e| e.join("; "))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )),
                    "oneOf" if passed == 0 => out.push(format!(
                        "{path}: matches none of oneOf: {}",
                        results
                            .iter()
                            .map(|e| e.join("; "))
                            .collect::<Vec<_>>()
                            .join(" | ")
                    )),
                    "oneOf" if passed > 1 => out.push(format!(
                        "{path}: matches {passed} branches of oneOf, not exactly one"
                    )),
                    _ => {}
                }
            }
            "not" => {
                let mut e = Vec::new();
                check(root, kv, v, path, &mut e, depth + 1);
                if e.is_empty() {
                    out.push(format!("{path}: {} matches a schema under `not`", short(v)));
                }
            }
            other if ANNOTATIONS.contains(&other) => {}
            other => out.push(format!("{path}: unsupported schema keyword '{other}'")),
        }
    }
}

/// JSON equality where 1 and 1.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_subset_works() {
        let root = json!({ "components": { "schemas": {
            "T": { "type": "object", "required": ["a"], "additionalProperties": false,
                   "properties": { "a": { "type": ["integer", "null"], "minimum": 1 },
                                   "b": { "type": "array", "items": { "enum": ["x", "y"] }, "maxItems": 2 },
                                   "c": { "oneOf": [{ "type": "null" }, { "type": "string", "minLength": 2, "format": "uuid" }] } } } } } });
        let s = json!({ "$ref": "#/components/schemas/T" });
        assert!(validate(&root, &s, &json!({ "a": 1, "b": ["x"] })).is_empty());
        assert!(validate(&root, &s, &json!({ "a": null, "c": null })).is_empty());
        let e = validate(
            &root,
            &s,
            &json!({ "a": 0, "b": ["z", "x", "y"], "d": 1, "c": "no" }),
        );
        assert_eq!(e.len(), 5, "{e:#?}");
        assert!(e.iter().any(|m| m.starts_with("$.b[0]:")));
        assert!(e.iter().any(|m| m.contains("'d' is not allowed")));
        let e = validate(&root, &s, &json!({ "b": 3 }));
        assert!(e.iter().any(|m| m.contains("'a' is missing")), "{e:?}");
        assert!(e.iter().any(|m| m.contains("expected type array")), "{e:?}");
        assert!(!validate(&root, &json!({ "frob": 1 }), &json!(1)).is_empty());
        assert!(is_date_time("2026-11-25T01:02:03Z"));
        assert!(!is_date_time("2026-11-25 01:02:03"));
    }
}

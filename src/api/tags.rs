//! The tag API: `/api/tags/search`, `/api/tags/{name}`, `/api/tags/popular`,
//! `/api/tags/categories`. Parameters are validated here; the store does the searching.

use super::route::percent_decode;
use super::ApiError;
use crate::tags::index::index;
use crate::tags::{Answer, Rating, Tag, TagFilter, TagStore};
use serde_json::{json, Value};

const MAX_QUERY_CHARS: usize = 199;

/// `key=value` pairs of a raw query string, percent-decoded (`+` as space).
pub fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k, true), percent_decode(v, true))
        })
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn bad(parameter: &str, message: impl Into<String>) -> ApiError {
    ApiError::BadParameter {
        parameter: parameter.into(),
        message: message.into(),
    }
}

/// Reads `limit`, `category`, `min_posts` and `rating` into a filter.
fn filter_from(pairs: &[(String, String)]) -> Result<TagFilter, ApiError> {
    let limit = match param(pairs, "limit") {
        None => 20,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => return Err(bad("limit", "must be a whole number from 1 to 100")),
        },
    };
    let category = match param(pairs, "category") {
        None => None,
        Some(c) => {
            let c = c.trim().to_uppercase();
            if !index().is_category(&c) {
                return Err(bad(
                    "category",
                    format!("unknown category '{c}'; see /api/tags/categories"),
                ));
            }
            Some(c)
        }
    };
    let min_posts = match param(pairs, "min_posts") {
        None => 0,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| bad("min_posts", "must be a whole number ≥ 0"))?,
    };
    let max_rating = match param(pairs, "rating") {
        None => Rating::AllAges,
        Some(v) => match Rating::parse(v.trim()) {
            Some(r) if r != Rating::Blocked => r,
            _ => return Err(bad("rating", "must be all-ages, r15 or r18")),
        },
    };
    Ok(TagFilter {
        min_posts,
        category,
        max_rating,
        limit,
    })
}

fn brief(t: &Tag) -> Value {
    json!({ "name": t.name, "category": t.category, "inspire_category": t.inspire_category(), "post_count": t.post_count, "rating": t.rating() })
}

/// `GET /api/tags/search`: prefix matches first (what autocomplete wants), then tags that
/// contain the text, most popular first within each group.
pub async fn search(store: &impl TagStore, query: &str) -> Result<Value, ApiError> {
    let pairs = query_pairs(query);
    let q = param(&pairs, "q").map(str::trim).unwrap_or("");
    if q.is_empty() {
        return Err(bad("q", "is required"));
    }
    if q.chars().count() > MAX_QUERY_CHARS {
        return Err(bad(
            "q",
            format!("must be at most {MAX_QUERY_CHARS} characters"),
        ));
    }
    let filter = filter_from(&pairs)?;
    let upstream = |e: crate::tags::TagError| ApiError::Upstream { message: e.0 };
    let Answer {
        value: mut results,
        source,
    } = store.prefix(q, &filter).await.map_err(upstream)?;
    if results.len() < filter.limit {
        let contains = store
            .keywords(&[q.to_string()], &filter)
            .await
            .map_err(upstream)?;
        for t in contains.value {
            if results.len() == filter.limit {
                break;
            }
            if !results.iter().any(|r| r.name == t.name) {
                results.push(t);
            }
        }
    }
    Ok(
        json!({ "query": q, "results": results.iter().map(brief).collect::<Vec<_>>(), "source": source }),
    )
}

/// `GET /api/tags/{name}`: one tag, or 404 with the closest real tags.
pub async fn lookup(store: &impl TagStore, name: &str) -> Result<Value, ApiError> {
    if name.trim().is_empty() || name.chars().count() > MAX_QUERY_CHARS {
        return Err(bad("name", "must be 1-199 characters"));
    }
    let answer = store
        .lookup(&[name.to_string()])
        .await
        .map_err(|e| ApiError::Upstream { message: e.0 })?;
    match answer.value.into_iter().next().flatten() {
        Some(t) => {
            let mut v = t.to_json();
            v["source"] = json!(answer.source);
            Ok(v)
        }
        None => Err(ApiError::TagNotFound {
            name: name.to_string(),
            suggestions: index()
                .suggest(name, 5)
                .into_iter()
                .map(|t| t.name)
                .collect(),
        }),
    }
}

/// `GET /api/tags/popular?category=&limit=&rating=`.
pub async fn popular(store: &impl TagStore, query: &str) -> Result<Value, ApiError> {
    let filter = filter_from(&query_pairs(query))?;
    let a = store
        .popular(&filter)
        .await
        .map_err(|e| ApiError::Upstream { message: e.0 })?;
    Ok(json!({ "results": a.value.iter().map(brief).collect::<Vec<_>>(), "source": a.source }))
}

/// `GET /api/tags/categories`: how many tags each `main_category` holds.
pub fn categories() -> Value {
    let counts = index().category_counts();
    let total: usize = counts.iter().map(|c| c.1).sum();
    let list: Vec<Value> = counts
        .iter()
        .map(|(name, count)| json!({ "name": if name.is_empty() { Value::Null } else { json!(name) }, "count": count }))
        .collect();
    json!({ "categories": list, "total": total })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::index::EmbeddedStore;
    use futures_util::FutureExt;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        f.now_or_never().expect("embedded store is synchronous")
    }

    #[test]
    fn search_merges_prefix_then_contains() {
        let v = run(search(&EmbeddedStore, "q=kimono&limit=30")).unwrap();
        let names: Vec<&str> = v["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap())
            .collect();
        assert_eq!(names.len(), 30);
        assert_eq!(names[0], "kimono");
        let first_contains = names.iter().position(|n| !n.starts_with("kimono")).unwrap();
        assert!(names[first_contains..]
            .iter()
            .all(|n| !n.starts_with("kimono") && n.contains("kimono")));
        assert!(names.contains(&"print_kimono"));
        assert_eq!(v["source"], "embedded");
        assert!(v["results"][0]["rating"].is_string());
    }

    #[test]
    fn space_and_case_insensitive_query() {
        let v = run(search(&EmbeddedStore, "q=Long+Hair&limit=1")).unwrap();
        assert_eq!(v["results"][0]["name"], "long_hair");
    }

    #[test]
    fn bad_parameters_are_400() {
        for q in [
            "q=a&limit=0",
            "q=a&limit=1000",
            "q=a&limit=x",
            "q=a&category=NOPE",
            "q=",
            "limit=5",
            "q=a&rating=blocked",
            "q=a&min_posts=-1",
        ] {
            let e = run(search(&EmbeddedStore, q)).unwrap_err();
            assert_eq!(e.status(), 400, "{q}");
        }
        let long = format!("q={}", "a".repeat(200));
        assert_eq!(
            run(search(&EmbeddedStore, &long)).unwrap_err().status(),
            400
        );
        let ok = format!("q={}", "a".repeat(199));
        assert!(run(search(&EmbeddedStore, &ok)).is_ok());
    }

    #[test]
    fn lookup_and_suggestions() {
        let v = run(lookup(&EmbeddedStore, "long_hair")).unwrap();
        assert_eq!(v["name"], "long_hair");
        assert_eq!(v["rating"], "all-ages");
        assert_eq!(v["inspire_category"], "APPEARANCE");
        let e = run(lookup(&EmbeddedStore, "long_hiar")).unwrap_err();
        assert_eq!(e.status(), 404);
        assert_eq!(e.body("r")["error"]["suggestions"][0], "long_hair");
    }

    #[test]
    fn popular_and_categories() {
        let v = run(popular(&EmbeddedStore, "category=environment&limit=5")).unwrap();
        assert_eq!(v["results"].as_array().unwrap().len(), 5);
        let c = categories();
        assert_eq!(c["total"], 140_790);
        assert_eq!(c["categories"][0]["name"], "ARTIST");
    }
}

//! `search_examples`: popular real tags for the model to build from. Keyword search over the
//! tag store with a popularity floor and the session's access level applied; Chinese words
//! are first mapped to tags through the lexicon, since tag names are English.

use super::{strict_object, string_array, string_enum, ToolContext, ToolError};
use crate::lexicon::{is_cjk, lexicon};
use crate::tags::{Source, Tag, TagFilter, TagStore, MAX_KEYWORDS};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub search_keywords: Vec<String>,
    pub search_purpose: String,
    pub search_strategy: String,
    pub min_popularity: i64,
    pub max_results: i64,
}

pub fn schema() -> Value {
    strict_object(json!({
        "search_keywords": string_array("Up to 5 short keywords, e.g. [\"cherry\", \"kimono\"]."),
        "search_purpose": string_enum(&["find_mood_tags", "find_scene_tags", "find_style_tags", "validate_combination"], "Why you search."),
        "search_strategy": string_enum(&["keyword", "semantic", "auto"], "keyword search is what runs; semantic and auto fall back to it."),
        "min_popularity": { "type": "integer", "description": "Minimum post count, usually 1000." },
        "max_results": { "type": "integer", "description": "1 to 30, usually 10." },
    }))
}

pub async fn run<S: TagStore>(ctx: &ToolContext<'_, S>, a: Args) -> Result<Value, ToolError> {
    let keywords: Vec<String> = a
        .search_keywords
        .iter()
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty())
        .take(MAX_KEYWORDS)
        .collect();
    if keywords.is_empty() {
        return Err(ToolError(
            "search_examples: give at least one keyword".into(),
        ));
    }
    let filter = TagFilter {
        min_posts: a.min_popularity.clamp(0, 10_000_000) as u64,
        category: None,
        max_rating: ctx.access,
        limit: a.max_results.clamp(1, 30) as usize,
    };
    let (words, phrases): (Vec<String>, Vec<String>) =
        keywords.into_iter().partition(|k| !k.chars().any(is_cjk));
    let mut found: Vec<Tag> = Vec::new();
    let mut source = Source::Embedded;
    // Chinese: the lexicon's tags for each phrase, checked against the store.
    let mapped: Vec<String> = phrases
        .iter()
        .flat_map(|p| lexicon().scan(p))
        .flat_map(|m| m.entry.tags.clone())
        .collect();
    if !mapped.is_empty() {
        let answer = ctx
            .store
            .lookup(&mapped)
            .await
            .map_err(|e| ToolError(format!("search_examples: {e}")))?;
        source = answer.source;
        found.extend(
            answer
                .value
                .into_iter()
                .flatten()
                .filter(|t| filter.admits(t)),
        );
    }
    if !words.is_empty() {
        let answer = ctx
            .store
            .keywords(&words, &filter)
            .await
            .map_err(|e| ToolError(format!("search_examples: {e}")))?;
        if answer.source != Source::Embedded {
            source = answer.source;
        }
        found.extend(answer.value);
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|t| seen.insert(t.name.clone()));
    found.truncate(filter.limit);
    let examples: Vec<Value> = found
        .iter()
        .map(|t| {
            json!({
                "tag": t.name,
                "category": t.inspire_category(),
                "popularity": t.post_count,
                "usage_hint": format!("{} 次使用", thousands(t.post_count)),
            })
        })
        .collect();
    Ok(json!({
        "examples": examples,
        "search_strategy_used": "keyword",
        "found": examples.len(),
        "source": source,
    }))
}

/// 1234567 → "1,234,567".
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::index::EmbeddedStore;
    use crate::tags::Rating;
    use futures_util::FutureExt;

    fn search(access: Rating, kws: &[&str], max: i64) -> Value {
        let ctx = ToolContext {
            store: &EmbeddedStore,
            access,
            english: false,
        };
        let a = Args {
            search_keywords: kws.iter().map(|s| s.to_string()).collect(),
            search_purpose: "find_scene_tags".into(),
            search_strategy: "auto".into(),
            min_popularity: 1000,
            max_results: max,
        };
        run(&ctx, a).now_or_never().unwrap().unwrap()
    }

    #[test]
    fn keyword_examples_have_the_contract_shape() {
        let r = search(Rating::AllAges, &["cherry", "kimono"], 10);
        assert_eq!(r["search_strategy_used"], "keyword");
        let ex = r["examples"].as_array().unwrap();
        assert_eq!(ex.len(), 10);
        assert_eq!(r["found"], 10);
        assert!(ex.iter().all(|e| e["popularity"].as_u64().unwrap() >= 1000));
        assert!(ex[0]["usage_hint"].as_str().unwrap().ends_with("次使用"));
        assert!(ex.iter().any(|e| e["tag"] == "kimono"));
    }

    #[test]
    fn access_level_filters_results() {
        let r = search(Rating::AllAges, &["breasts"], 30);
        let tags: Vec<&str> = r["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["tag"].as_str().unwrap())
            .collect();
        assert!(!tags.contains(&"large_breasts"), "{tags:?}");
        let r = search(Rating::R15, &["breasts"], 30);
        assert!(r["examples"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["tag"] == "large_breasts"));
    }

    #[test]
    fn chinese_keywords_go_through_the_lexicon() {
        let r = search(Rating::AllAges, &["櫻花", "和服"], 10);
        let tags: Vec<&str> = r["examples"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["tag"].as_str().unwrap())
            .collect();
        assert!(
            tags.contains(&"cherry_blossoms") && tags.contains(&"kimono"),
            "{tags:?}"
        );
    }

    #[test]
    fn thousands_separator() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234), "1,234");
        assert_eq!(thousands(96138304), "96,138,304");
    }
}

//! `validate_quality`: the full scoring of reference §4.4 with its defects fixed — real
//! lookups, the safety filter for the session's access level, conflicts, redundancy, category
//! balance and popularity, clamped to 0-100, with quick fixes the model (or planner) applies.

use super::{strict_object, string_array, string_enum, ToolContext, ToolError};
use crate::safety::safe_alternatives;
use crate::tags::category::{find_conflicts, normalize, resolve_alias};
use crate::tags::index::index;
use crate::tags::{InspireCategory, Rating, Tag, TagStore};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

pub const ASPECTS: &[&str] = &[
    "validity",
    "conflicts",
    "redundancy",
    "balance",
    "popularity",
];

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub tags_to_validate: Vec<String>,
    pub check_aspects: Vec<String>,
    pub strictness: String,
}

pub fn schema() -> Value {
    strict_object(json!({
        "tags_to_validate": string_array("The tags of the prompt, e.g. [\"1girl\", \"kimono\"]."),
        "check_aspects": { "type": "array", "items": { "type": "string", "enum": ASPECTS }, "description": "Which checks to run; all five is best." },
        "strictness": string_enum(&["lenient", "moderate", "strict"], "Reported back; the scoring is the same."),
    }))
}

/// The outcome of a validation, also used directly by `finalize_prompt` and the planner.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub score: u8,
    pub issues: Vec<Value>,
    pub remove: Vec<String>,
    pub add: Vec<String>,
    pub replace: Vec<(String, String)>,
    pub blocked: Vec<String>,
    /// The tags that passed (valid, allowed), aliases resolved, in the given order.
    pub clean: Vec<String>,
    pub categories: Vec<InspireCategory>,
}

impl Report {
    pub fn to_json(&self) -> Value {
        let replace: Map<String, Value> = self
            .replace
            .iter()
            .map(|(a, b)| (a.clone(), json!(b)))
            .collect();
        let warnings: Vec<&str> = self
            .issues
            .iter()
            .filter(|i| i["severity"] != "critical")
            .filter_map(|i| i["description"].as_str())
            .collect();
        json!({
            "is_valid": self.score >= 70 && self.blocked.is_empty(),
            "score": self.score,
            "issues": self.issues,
            "quick_fixes": { "remove": self.remove, "add": self.add, "replace": replace },
            "warnings": warnings,
            "suggestions": self.suggestions(),
        })
    }

    fn suggestions(&self) -> Vec<String> {
        let has = |c: InspireCategory| self.categories.contains(&c);
        let mut s = Vec::new();
        if !has(InspireCategory::Scene) {
            s.push("add a scene or background tag".to_string());
        }
        if !has(InspireCategory::Style) && !has(InspireCategory::Effect) {
            s.push("add a style, light or effect tag".to_string());
        }
        s
    }
}

pub async fn run<S: TagStore>(ctx: &ToolContext<'_, S>, a: Args) -> Result<Value, ToolError> {
    if a.tags_to_validate.iter().all(|t| t.trim().is_empty()) {
        return Err(ToolError(
            "validate_quality: give the tags to validate".into(),
        ));
    }
    if let Some(bad) = a
        .check_aspects
        .iter()
        .find(|x| !ASPECTS.contains(&x.as_str()))
    {
        return Err(ToolError(format!(
            "validate_quality: unknown aspect '{bad}'; use {}",
            ASPECTS.join(", ")
        )));
    }
    let aspects: Vec<&str> = if a.check_aspects.is_empty() {
        ASPECTS.to_vec()
    } else {
        a.check_aspects.iter().map(String::as_str).collect()
    };
    let report = validate(ctx, &a.tags_to_validate, &aspects).await?;
    Ok(report.to_json())
}

/// Scores `tags` for the session's access level. Safety always runs.
pub async fn validate<S: TagStore>(
    ctx: &ToolContext<'_, S>,
    tags: &[String],
    aspects: &[&str],
) -> Result<Report, ToolError> {
    let on = |x: &str| aspects.contains(&x);
    let mut score: i32 = 100;
    let mut r = Report {
        score: 0,
        issues: vec![],
        remove: vec![],
        add: vec![],
        replace: vec![],
        blocked: vec![],
        clean: vec![],
        categories: vec![],
    };

    // 0. Normalise, note alias/canonical pairs (redundancy), resolve, dedupe in order.
    let given: Vec<String> = dedupe(tags.iter().map(|t| normalize(t)).filter(|t| !t.is_empty()));
    let redundant: Vec<(String, String)> = given
        .iter()
        .filter_map(|t| {
            let canon = resolve_alias(t);
            (canon != *t && given.contains(&canon)).then(|| (t.clone(), canon))
        })
        .collect();
    let resolved: Vec<String> = dedupe(given.iter().map(|t| resolve_alias(t)));

    // 1. Validity against the store.
    let looked = ctx
        .store
        .lookup(&resolved)
        .await
        .map_err(|e| ToolError(format!("validate_quality: {e}")))?
        .value;
    let (mut found, mut invalid): (Vec<Tag>, Vec<String>) = (vec![], vec![]);
    for (name, tag) in resolved.iter().zip(looked) {
        match tag {
            Some(t) => found.push(t),
            None => invalid.push(name.clone()),
        }
    }
    if on("validity") && !invalid.is_empty() {
        score -= 35;
        r.issues.push(issue(
            "invalid_tag",
            "critical",
            format!("{} 個無效標籤", invalid.len()),
            &invalid,
        ));
        r.remove.extend(invalid.iter().cloned());
        for bad in &invalid {
            if let Some(s) = index()
                .suggest(bad, 3)
                .into_iter()
                .find(|t| t.rating().allowed_for(ctx.access))
            {
                r.replace.push((bad.clone(), s.name));
            }
        }
    }

    // 2. Safety, always: anything above the access level goes; blocked costs 50.
    let (allowed, removed): (Vec<Tag>, Vec<Tag>) = found
        .into_iter()
        .partition(|t| t.rating().allowed_for(ctx.access));
    r.blocked = removed
        .iter()
        .filter(|t| t.rating() == Rating::Blocked)
        .map(|t| t.name.clone())
        .collect();
    if !removed.is_empty() {
        let names: Vec<String> = removed.iter().map(|t| t.name.clone()).collect();
        let severity = if r.blocked.is_empty() {
            "info"
        } else {
            "critical"
        };
        if !r.blocked.is_empty() {
            score -= 50;
            r.add.extend(
                safe_alternatives()[0]
                    .main_tags
                    .iter()
                    .take(5)
                    .map(|t| t.to_string()),
            );
        }
        r.issues.push(issue(
            "content_filtered",
            severity,
            format!("移除了 {} 個不適當標籤", names.len()),
            &names,
        ));
        r.remove.extend(names);
    }
    let safe: Vec<String> = allowed.iter().map(|t| t.name.clone()).collect();

    // 3. Conflicts: one penalty, the second tag of each pair removed.
    let mut conflicted = BTreeSet::new();
    if on("conflicts") {
        let pairs = find_conflicts(&safe);
        if !pairs.is_empty() {
            score -= 25;
        }
        for (a, b) in pairs {
            r.issues.push(issue(
                "conflict",
                "warning",
                format!("'{a}' 與 '{b}' 衝突"),
                &[a.clone(), b.clone()],
            ));
            conflicted.insert(b.clone());
            r.remove.push(b);
        }
    }

    // 4. Redundancy: an alias beside its canonical tag.
    if on("redundancy") {
        for (alias, canon) in &redundant {
            score -= 5;
            r.issues.push(issue(
                "redundancy",
                "info",
                format!("'{alias}' 與 '{canon}' 重複"),
                &[alias.clone(), canon.clone()],
            ));
            r.remove.push(alias.clone());
        }
    }

    // 5. Balance: at least 3 Inspire categories besides META.
    let cats: BTreeSet<InspireCategory> = allowed
        .iter()
        .map(Tag::inspire_category)
        .filter(|c| *c != InspireCategory::Meta)
        .collect();
    r.categories = cats.iter().copied().collect();
    if on("balance") && cats.len() < 3 {
        score -= 20;
        r.issues.push(issue(
            "imbalance",
            "warning",
            format!("類別不足（{}/3）", cats.len()),
            &[],
        ));
    }

    // 6. Popularity: more than 40 % obscure tags.
    if on("popularity") && !allowed.is_empty() {
        let rare: Vec<String> = allowed
            .iter()
            .filter(|t| t.post_count > 0 && t.post_count < 1000)
            .map(|t| t.name.clone())
            .collect();
        let ratio = rare.len() as f64 / allowed.len() as f64;
        if ratio > 0.4 {
            score -= 5;
            let first: Vec<String> = rare.into_iter().take(5).collect();
            r.issues.push(issue(
                "unpopular",
                "info",
                format!("冷門標籤比例過高（{:.0}%）", ratio * 100.0),
                &first,
            ));
        }
    }

    r.score = score.clamp(0, 100) as u8;
    r.remove = dedupe(r.remove.into_iter());
    r.clean = safe
        .into_iter()
        .filter(|t| !conflicted.contains(t))
        .collect();
    Ok(r)
}

fn issue(kind: &str, severity: &str, description: String, affected: &[String]) -> Value {
    json!({ "type": kind, "severity": severity, "description": description, "affected_tags": affected })
}

fn dedupe(it: impl Iterator<Item = String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    it.filter(|t| seen.insert(t.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::index::EmbeddedStore;
    use futures_util::FutureExt;

    fn check(access: Rating, tags: &[&str], aspects: &[&str]) -> Report {
        let ctx = ToolContext {
            store: &EmbeddedStore,
            access,
            english: false,
        };
        let tags: Vec<String> = tags.iter().map(|s| s.to_string()).collect();
        validate(&ctx, &tags, aspects)
            .now_or_never()
            .unwrap()
            .unwrap()
    }

    #[test]
    fn golden_example_invalid_and_conflict() {
        let r = check(
            Rating::AllAges,
            &["invalid_tag", "long_hair", "short_hair", "1girl"],
            &["validity", "conflicts"],
        );
        assert_eq!(r.score, 40);
        assert!(
            r.remove.contains(&"invalid_tag".to_string())
                && r.remove.contains(&"short_hair".to_string())
        );
        // With balance as well, only two categories (APPEARANCE, CHARACTER) remain: 40 - 20.
        let r = check(
            Rating::AllAges,
            &["invalid_tag", "long_hair", "short_hair", "1girl"],
            &["validity", "conflicts", "balance"],
        );
        assert_eq!(r.score, 20);
    }

    #[test]
    fn a_good_prompt_scores_100() {
        let r = check(
            Rating::AllAges,
            &[
                "1girl",
                "solo",
                "long_hair",
                "kimono",
                "cherry_blossoms",
                "outdoors",
                "smile",
                "watercolor_(medium)",
                "light_particles",
                "spring_(season)",
            ],
            ASPECTS,
        );
        assert_eq!(r.score, 100, "{:?}", r.issues);
        assert!(r.to_json()["is_valid"].as_bool().unwrap());
    }

    #[test]
    fn typos_get_replacements_and_the_score_is_clamped() {
        let r = check(
            Rating::AllAges,
            &["long_hiar", "loli", "day", "night", "longhair", "long_hair"],
            ASPECTS,
        );
        assert_eq!(
            r.replace,
            vec![("long_hiar".to_string(), "long_hair".to_string())]
        );
        assert_eq!(r.blocked, vec!["loli".to_string()]);
        assert!(
            !r.add.is_empty(),
            "blocked content suggests safe alternatives"
        );
        // 100 - 35 - 50 - 25 - 5 - 20 < 0 → clamped.
        assert_eq!(r.score, 0);
        let v = r.to_json();
        assert_eq!(v["is_valid"], false);
        assert!(v["quick_fixes"]["remove"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "longhair"));
    }

    #[test]
    fn rated_tags_are_removed_by_access_level_without_the_blocked_penalty() {
        let r = check(
            Rating::AllAges,
            &["1girl", "large_breasts", "beach", "smile"],
            ASPECTS,
        );
        assert!(r.remove.contains(&"large_breasts".to_string()));
        assert!(r.blocked.is_empty());
        let r15 = check(
            Rating::R15,
            &["1girl", "large_breasts", "beach", "smile"],
            ASPECTS,
        );
        assert!(!r15.remove.contains(&"large_breasts".to_string()));
    }

    #[test]
    fn mostly_obscure_tags_cost_five() {
        let rare: Vec<&str> = index_rare(5);
        let mut tags = vec!["1girl", "outdoors", "smile"];
        tags.extend(rare.iter());
        let r = check(Rating::AllAges, &tags, &["popularity"]);
        assert_eq!(r.score, 95);
    }

    fn index_rare(n: usize) -> Vec<&'static str> {
        let f = crate::tags::TagFilter {
            limit: 100_000,
            ..Default::default()
        };
        let all = index().popular(&f);
        let names: Vec<String> = all
            .iter()
            .rev()
            .filter(|t| t.post_count < 1000 && t.category == "OBJECTS")
            .take(n)
            .map(|t| t.name.clone())
            .collect();
        names
            .into_iter()
            .map(|s| &*Box::leak(s.into_boxed_str()))
            .collect()
    }
}

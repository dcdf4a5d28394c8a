//! `generate_ideas`: the 2-3 creative directions the user chooses from. Every tag is checked
//! against the store before it reaches the user: unknown tags are replaced by the closest
//! real tag or dropped, tags above the session's access level are dropped, conflicting tags
//! are dropped, and each direction says what changed in its `notes`.

use super::{strict_object, string_array, string_enum, ToolContext, ToolError};
use crate::tags::category::{conflicts_with_any, normalize, resolve_alias};
use crate::tags::index::index;
use crate::tags::{InspireCategory, TagStore};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const MIN_TAGS: usize = 10;
pub const MAX_TAGS: usize = 15;
pub const MAX_TITLE_CHARS: usize = 10;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Idea {
    pub title: String,
    pub concept: String,
    pub vibe: String,
    pub main_tags: Vec<String>,
    pub quick_preview: String,
    pub uniqueness: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Args {
    pub ideas: Vec<Idea>,
    pub generation_basis: String,
    pub diversity_achieved: String,
}

/// A direction as shown to the user and kept by the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Direction {
    /// 1-based position among the directions shown.
    pub index: usize,
    pub title: String,
    pub concept: String,
    pub vibe: String,
    pub main_tags: Vec<String>,
    /// The same tags with their Inspire category (for chip colours).
    pub tags: Vec<TagChip>,
    pub quick_preview: String,
    pub uniqueness: String,
    /// What the checks changed ("'long_hiar' → 'long_hair'").
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagChip {
    pub name: String,
    pub category: InspireCategory,
}

pub fn schema() -> Value {
    let idea = strict_object(json!({
        "title": { "type": "string", "description": "At most 10 characters (Chinese characters count one each)." },
        "concept": { "type": "string", "description": "One line: what the picture is." },
        "vibe": { "type": "string", "description": "A few mood words." },
        "main_tags": string_array("10-15 existing Danbooru tags, underscore form, the user's own concepts first."),
        "quick_preview": { "type": "string", "description": "A short comma-separated preview of the prompt." },
        "uniqueness": { "type": "string", "description": "What sets this direction apart from the others." },
    }));
    strict_object(json!({
        "ideas": { "type": "array", "items": idea, "description": "2 or 3 clearly different directions." },
        "generation_basis": { "type": "string", "description": "What the directions are built on." },
        "diversity_achieved": string_enum(&["low", "moderate", "high"], "How different the directions are."),
    }))
}

pub async fn run<S: TagStore>(ctx: &ToolContext<'_, S>, a: Args) -> Result<Value, ToolError> {
    if !(2..=3).contains(&a.ideas.len()) {
        return Err(ToolError(format!(
            "generate_ideas: give 2 or 3 ideas, not {}",
            a.ideas.len()
        )));
    }
    let mut directions = Vec::new();
    let mut problems = Vec::new();
    for (i, idea) in a.ideas.iter().enumerate() {
        let title = idea.title.trim();
        let chars = title.chars().count();
        if chars == 0 || chars > MAX_TITLE_CHARS {
            problems.push(format!(
                "idea {}: the title must be 1-{MAX_TITLE_CHARS} characters (it has {chars})",
                i + 1
            ));
            continue;
        }
        let (tags, notes) = clean_tags(ctx, &idea.main_tags).await?;
        if tags.len() < MIN_TAGS {
            problems.push(format!(
                "idea {} '{title}': only {} usable tags after checks ({}); give {MIN_TAGS}-{MAX_TAGS} existing Danbooru tags",
                i + 1,
                tags.len(),
                notes.join("; ")
            ));
            continue;
        }
        directions.push(direction(i + 1, idea, tags, notes));
    }
    if !problems.is_empty() {
        return Err(ToolError(format!(
            "generate_ideas: {}",
            problems.join(" | ")
        )));
    }
    Ok(json!({
        "status": "generated",
        "count": directions.len(),
        "directions": directions,
        "diversity_achieved": if ["low", "moderate", "high"].contains(&a.diversity_achieved.as_str()) { a.diversity_achieved.as_str() } else { "moderate" },
        "ready_for_selection": true,
    }))
}

fn direction(
    index: usize,
    idea: &Idea,
    tags: Vec<(String, InspireCategory)>,
    notes: Vec<String>,
) -> Direction {
    Direction {
        index,
        title: idea.title.trim().to_string(),
        concept: idea.concept.trim().to_string(),
        vibe: idea.vibe.trim().to_string(),
        main_tags: tags.iter().map(|t| t.0.clone()).collect(),
        tags: tags
            .into_iter()
            .map(|(name, category)| TagChip { name, category })
            .collect(),
        quick_preview: idea.quick_preview.trim().to_string(),
        uniqueness: idea.uniqueness.trim().to_string(),
        notes,
    }
}

/// Checks a direction's tags against the store and the session's access level; returns the
/// kept tags (at most 15, in order) and notes on what changed.
pub async fn clean_tags<S: TagStore>(
    ctx: &ToolContext<'_, S>,
    raw: &[String],
) -> Result<(Vec<(String, InspireCategory)>, Vec<String>), ToolError> {
    let mut names: Vec<String> = Vec::new();
    for t in raw {
        let n = resolve_alias(&normalize(t));
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    let found = ctx
        .store
        .lookup(&names)
        .await
        .map_err(|e| ToolError(format!("generate_ideas: {e}")))?
        .value;
    let mut kept: Vec<(String, InspireCategory)> = Vec::new();
    let mut notes = Vec::new();
    let note = |zh: String, en: String| if ctx.english { en } else { zh };
    for (name, tag) in names.iter().zip(found) {
        let tag = match tag {
            Some(t) => t,
            None => match index()
                .suggest(name, 3)
                .into_iter()
                .find(|s| s.rating().allowed_for(ctx.access))
            {
                Some(s) if !kept.iter().any(|k| k.0 == s.name) => {
                    notes.push(note(
                        format!("「{name}」改為「{}」", s.name),
                        format!("'{name}' → '{}'", s.name),
                    ));
                    s
                }
                _ => {
                    notes.push(note(
                        format!("移除不存在的標籤「{name}」"),
                        format!("removed '{name}' (no such tag)"),
                    ));
                    continue;
                }
            },
        };
        if !tag.rating().allowed_for(ctx.access) {
            notes.push(note(
                "移除 1 個不適合的標籤".into(),
                "removed 1 unsuitable tag".into(),
            ));
            continue;
        }
        let others: Vec<String> = kept.iter().map(|k| k.0.clone()).collect();
        if conflicts_with_any(&tag.name, &others) {
            notes.push(note(
                format!("移除與其他標籤衝突的「{}」", tag.name),
                format!("removed '{}' (conflicts with another tag)", tag.name),
            ));
            continue;
        }
        kept.push((tag.name.clone(), tag.inspire_category()));
    }
    if kept.len() > MAX_TAGS {
        kept.truncate(MAX_TAGS);
        notes.push(note(
            format!("只保留前 {MAX_TAGS} 個標籤"),
            format!("kept the first {MAX_TAGS} tags"),
        ));
    }
    Ok((kept, notes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::index::EmbeddedStore;
    use crate::tags::Rating;
    use futures_util::FutureExt;

    fn idea(title: &str, tags: &[&str]) -> Idea {
        Idea {
            title: title.into(),
            concept: "c".into(),
            vibe: "v".into(),
            main_tags: tags.iter().map(|s| s.to_string()).collect(),
            quick_preview: "p".into(),
            uniqueness: "u".into(),
        }
    }

    const GOOD: &[&str] = crate::tools::SAMPLE_TAGS;

    fn run_ideas(access: Rating, ideas: Vec<Idea>) -> Result<Value, ToolError> {
        let ctx = ToolContext {
            store: &EmbeddedStore,
            access,
            english: false,
        };
        run(
            &ctx,
            Args {
                ideas,
                generation_basis: "b".into(),
                diversity_achieved: "high".into(),
            },
        )
        .now_or_never()
        .unwrap()
    }

    #[test]
    fn valid_directions_pass_with_categories() {
        let r = run_ideas(
            Rating::AllAges,
            vec![idea("櫻下靜語", GOOD), idea("Spring", GOOD)],
        )
        .unwrap();
        assert_eq!(r["count"], 2);
        assert_eq!(r["ready_for_selection"], true);
        let d: Direction = serde_json::from_value(r["directions"][0].clone()).unwrap();
        assert_eq!(d.index, 1);
        assert_eq!(d.main_tags.len(), 11);
        assert_eq!(d.tags[2].category, InspireCategory::Clothing);
    }

    #[test]
    fn invented_tags_are_replaced_or_dropped_with_notes() {
        let mut tags = GOOD.to_vec();
        tags.extend([
            "long_hiar",
            "zzqx_not_a_tag_at_all",
            "short_hair",
            "large_breasts",
        ]);
        let r = run_ideas(Rating::AllAges, vec![idea("a", &tags), idea("b", GOOD)]).unwrap();
        let d: Direction = serde_json::from_value(r["directions"][0].clone()).unwrap();
        assert!(!d.main_tags.contains(&"zzqx_not_a_tag_at_all".to_string()));
        assert!(
            !d.main_tags.contains(&"short_hair".to_string()),
            "conflicts with long_hair"
        );
        assert!(
            !d.main_tags.contains(&"large_breasts".to_string()),
            "above all-ages"
        );
        assert_eq!(d.notes.len(), 4, "{:?}", d.notes);
        assert!(d.main_tags.iter().filter(|t| *t == "long_hair").count() == 1);
    }

    #[test]
    fn contract_violations_are_errors_the_model_can_fix() {
        assert!(
            run_ideas(Rating::AllAges, vec![idea("a", GOOD)]).is_err(),
            "one idea"
        );
        let e = run_ideas(
            Rating::AllAges,
            vec![idea("這個標題真的太長了啦啦啦", GOOD), idea("b", GOOD)],
        )
        .unwrap_err();
        assert!(e.0.contains("title"), "{}", e.0);
        let e = run_ideas(
            Rating::AllAges,
            vec![idea("a", &GOOD[..5]), idea("b", GOOD)],
        )
        .unwrap_err();
        assert!(e.0.contains("only 5 usable tags"), "{}", e.0);
        // Ten characters is fine, counted as characters not bytes.
        assert!(run_ideas(
            Rating::AllAges,
            vec![idea("一二三四五六七八九十", GOOD), idea("b", GOOD)]
        )
        .is_ok());
    }

    #[test]
    fn at_most_fifteen_tags() {
        let mut many: Vec<&str> = GOOD.to_vec();
        many.extend(["sky", "day", "cloud", "blue_sky", "flower", "hair_ornament"]);
        let r = run_ideas(Rating::AllAges, vec![idea("a", &many), idea("b", GOOD)]).unwrap();
        assert_eq!(
            r["directions"][0]["main_tags"].as_array().unwrap().len(),
            15
        );
    }
}

//! Inspire's own tag categories (used for balance scoring and chip colours), the conflict
//! pairs and the alias table. The pairs and aliases are data files.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum InspireCategory {
    Character,
    Appearance,
    Clothing,
    Scene,
    Style,
    Effect,
    Action,
    Mood,
    Quality,
    Meta,
}

impl InspireCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Character => "CHARACTER",
            Self::Appearance => "APPEARANCE",
            Self::Clothing => "CLOTHING",
            Self::Scene => "SCENE",
            Self::Style => "STYLE",
            Self::Effect => "EFFECT",
            Self::Action => "ACTION",
            Self::Mood => "MOOD",
            Self::Quality => "QUALITY",
            Self::Meta => "META",
        }
    }
}

/// The Inspire category of a tag. The table's `sub_category` is the most specific hint, then
/// `main_category`; the reference's name rules decide the rest. Unlike the original, the real
/// table values (OBJECTS, VISUAL_EFFECTS, ART_STYLE, sub-categories such as HAIR) are mapped,
/// so `long_hair` is APPEARANCE, not CHARACTER.
pub fn categorize(name: &str, main_category: &str, sub_category: &str) -> InspireCategory {
    use InspireCategory::*;
    let by_sub = match sub_category {
        "HAIR" | "BODY_PARTS" | "BODY_FEATURES" | "EYES" | "FACE" => Some(Appearance),
        "CLOTHING" | "ACCESSORIES" => Some(Clothing),
        "EXPRESSION" | "EMOTION" => Some(Mood),
        "POSE" | "BODY_POSE" | "GESTURE" | "INTERACTION" | "ACTION" => Some(Action),
        "INDOOR" | "OUTDOOR" | "URBAN" | "NATURE" | "WEATHER" | "SEASON" | "TIME" => Some(Scene),
        "EFFECTS" | "LIGHTING" => Some(Effect),
        "CHARACTER_COUNT" => Some(Character),
        "FRAMING" | "PERSPECTIVE" => Some(Meta),
        _ => None,
    };
    if let Some(c) = by_sub {
        return c;
    }
    let by_main = match main_category {
        "CHARACTER" | "CHARACTER_COUNT" | "PERSON" => Some(Character),
        "BODY_PARTS" | "APPEARANCE" => Some(Appearance),
        "ENVIRONMENT" => Some(Scene),
        "ART_STYLE" | "TECHNICAL" | "THEME_CONCEPT" => Some(Style),
        "VISUAL_EFFECTS" => Some(Effect),
        "ACTION_POSE" => Some(Action),
        "QUALITY" => Some(Quality),
        _ => None,
    };
    by_main.unwrap_or_else(|| categorize_by_name(name))
}

/// The reference's name rules (§4.7), first match wins.
fn categorize_by_name(name: &str) -> InspireCategory {
    use InspireCategory::*;
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if [
        "1girl",
        "1boy",
        "solo",
        "2girls",
        "3girls",
        "multiple_girls",
        "multiple_boys",
    ]
    .contains(&name)
        || name.starts_with("no_humans")
        || name.starts_with("solo")
    {
        Character
    } else if name.ends_with("_hair")
        || name.ends_with("_eyes")
        || has(&["hair", "eyes", "skin", "face", "lips", "nose"])
    {
        Appearance
    } else if name.ends_with("_dress")
        || name.ends_with("_uniform")
        || name.ends_with("_suit")
        || has(&[
            "dress", "shirt", "pants", "skirt", "uniform", "jacket", "coat",
        ])
    {
        Clothing
    } else if [
        "outdoors", "indoors", "forest", "beach", "city", "mountain", "sky", "ocean", "room",
    ]
    .contains(&name)
        || has(&["background", "scenery", "landscape"])
    {
        Scene
    } else if name.ends_with("_style")
        || name.ends_with("_art")
        || [
            "realistic",
            "anime",
            "photorealistic",
            "abstract",
            "artistic",
        ]
        .contains(&name)
    {
        Style
    } else if (name.ends_with("ing") && !["clothing", "ring", "earring"].contains(&name))
        || [
            "sitting", "standing", "walking", "running", "flying", "swimming", "dancing",
        ]
        .contains(&name)
    {
        Action
    } else if [
        "smile",
        "sad",
        "happy",
        "angry",
        "peaceful",
        "dreamy",
        "mysterious",
        "cheerful",
        "melancholic",
    ]
    .contains(&name)
    {
        Mood
    } else if [
        "masterpiece",
        "best_quality",
        "high_quality",
        "highly_detailed",
        "absurdres",
        "highres",
    ]
    .contains(&name)
    {
        Quality
    } else if has(&["lighting", "glow", "particle", "shadow", "light", "effect"]) {
        Effect
    } else {
        Meta
    }
}

fn conflict_pairs() -> &'static [(String, String)] {
    static PAIRS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    PAIRS.get_or_init(|| parse_pairs(include_str!("../../data/conflicts.tsv")))
}

fn aliases() -> &'static HashMap<String, String> {
    static ALIASES: OnceLock<HashMap<String, String>> = OnceLock::new();
    ALIASES.get_or_init(|| {
        parse_pairs(include_str!("../../data/aliases.tsv"))
            .into_iter()
            .collect()
    })
}

fn parse_pairs(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .map(|(a, b)| (a.trim().to_string(), b.trim().to_string()))
        .collect()
}

/// Lowercases, trims, and treats spaces as underscores: "Long Hair" → "long_hair".
pub fn normalize(name: &str) -> String {
    name.trim()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
}

/// The canonical tag for an alias ("longhair" → "long_hair"), or the normalised name itself.
pub fn resolve_alias(name: &str) -> String {
    let n = normalize(name);
    aliases().get(&n).cloned().unwrap_or(n)
}

/// Every conflicting pair present in `tags`, in the order of the pair table. The second of
/// each pair is the one to remove.
pub fn find_conflicts(tags: &[String]) -> Vec<(String, String)> {
    let present = |t: &str| tags.iter().any(|x| x.eq_ignore_ascii_case(t));
    conflict_pairs()
        .iter()
        .filter(|(a, b)| present(a) && present(b))
        .cloned()
        .collect()
}

/// Whether `tag` contradicts any tag in `others`.
pub fn conflicts_with_any(tag: &str, others: &[String]) -> bool {
    conflict_pairs().iter().any(|(a, b)| {
        (a == tag && others.iter().any(|o| o == b)) || (b == tag && others.iter().any(|o| o == a))
    })
}

/// All `(alias, canonical)` pairs, for tests and checks.
pub fn alias_pairs() -> Vec<(String, String)> {
    aliases()
        .iter()
        .map(|(a, b)| (a.clone(), b.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(tags: &[&str]) -> Vec<String> {
        tags.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn thirty_one_conflict_pairs_symmetric() {
        assert_eq!(conflict_pairs().len(), 31);
        assert_eq!(
            find_conflicts(&v(&["long_hair", "1girl", "short_hair"])),
            vec![("long_hair".into(), "short_hair".into())]
        );
        assert_eq!(find_conflicts(&v(&["short_hair", "long_hair"])).len(), 1);
        assert!(find_conflicts(&v(&["long_hair", "1girl", "night"])).is_empty());
        assert!(conflicts_with_any("day", &v(&["night"])));
        assert!(conflicts_with_any("night", &v(&["day"])));
        assert!(!conflicts_with_any("night", &v(&["rain"])));
    }

    #[test]
    fn aliases_and_normalisation() {
        assert_eq!(normalize("  Long Hair "), "long_hair");
        assert_eq!(resolve_alias("LongHair"), "long_hair");
        assert_eq!(resolve_alias("sakura"), "cherry_blossoms");
        assert_eq!(resolve_alias("kimono"), "kimono");
    }

    #[test]
    fn categories_from_data_then_names() {
        use InspireCategory::*;
        assert_eq!(
            categorize("long_hair", "CHARACTER_RELATED", "HAIR"),
            Appearance
        );
        assert_eq!(
            categorize("school_uniform", "CHARACTER_RELATED", "CLOTHING"),
            Clothing
        );
        assert_eq!(
            categorize("1girl", "CHARACTER_RELATED", "CHARACTER_COUNT"),
            Character
        );
        assert_eq!(categorize("smile", "ACTION_POSE", "EXPRESSION"), Mood);
        assert_eq!(categorize("outdoors", "ENVIRONMENT", ""), Scene);
        assert_eq!(categorize("light_particles", "VISUAL_EFFECTS", ""), Effect);
        assert_eq!(categorize("watercolor_(medium)", "ART_STYLE", ""), Style);
        assert_eq!(categorize("highres", "TECHNICAL", ""), Style);
        assert_eq!(categorize("sky", "", ""), Scene);
        assert_eq!(categorize("glowing_eyes", "", ""), Appearance);
        assert_eq!(categorize("sitting", "", ""), Action);
        assert_eq!(categorize("umbrella", "OBJECTS", ""), Meta);
        assert_eq!(serde_json::to_value(Appearance).unwrap(), "APPEARANCE");
    }
}

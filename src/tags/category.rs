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

/// The Inspire category of a tag. The table's categories are noisy (`dress` is TECHNICAL,
/// `cityscape` CLOTHING, `grass` ADULT_CONTENT), so clear name patterns decide first, then
/// the table's `sub_category` and `main_category` (never its ADULT_CONTENT labels), then the
/// reference's weaker name rules; what is left is META.
pub fn categorize(name: &str, main_category: &str, sub_category: &str) -> InspireCategory {
    if let Some(c) = by_clear_name(name) {
        return c;
    }
    let trusted = main_category != "ADULT_CONTENT";
    let by_sub = trusted.then(|| by_sub_category(sub_category)).flatten();
    let by_main = trusted.then(|| by_main_category(main_category)).flatten();
    by_sub.or(by_main).unwrap_or_else(|| by_weak_name(name))
}

fn by_sub_category(sub: &str) -> Option<InspireCategory> {
    use InspireCategory::*;
    Some(match sub {
        "HAIR" | "BODY_PARTS" | "BODY_FEATURES" | "EYES" | "FACE" => Appearance,
        "CLOTHING" | "ACCESSORIES" => Clothing,
        "EXPRESSION" | "EMOTION" => Mood,
        "POSE" | "BODY_POSE" | "GESTURE" | "INTERACTION" | "ACTION" => Action,
        "INDOOR" | "OUTDOOR" | "URBAN" | "NATURE" | "WEATHER" | "SEASON" => Scene,
        "EFFECTS" | "LIGHTING" => Effect,
        "CHARACTER_COUNT" => Character,
        "FRAMING" | "PERSPECTIVE" => Meta,
        _ => return None,
    })
}

fn by_main_category(main: &str) -> Option<InspireCategory> {
    use InspireCategory::*;
    Some(match main {
        "CHARACTER" | "CHARACTER_COUNT" | "PERSON" => Character,
        "BODY_PARTS" | "APPEARANCE" => Appearance,
        "ENVIRONMENT" => Scene,
        "ART_STYLE" | "THEME_CONCEPT" => Style,
        "VISUAL_EFFECTS" => Effect,
        "ACTION_POSE" => Action,
        "QUALITY" => Quality,
        _ => return None,
    })
}

const CLOTHES: &[&str] = &[
    "dress",
    "shirt",
    "pants",
    "skirt",
    "uniform",
    "jacket",
    "coat",
    "kimono",
    "hoodie",
    "sweater",
    "bikini",
    "swimsuit",
    "apron",
    "robe",
    "armor",
    "scarf",
    "hat",
    "gloves",
    "boots",
    "shoes",
    "thighhighs",
    "pantyhose",
    "socks",
    "ribbon",
    "bow",
    "necktie",
    "serafuku",
    "yukata",
    "cape",
    "cloak",
];
const SCENERY: &[&str] = &[
    "outdoors",
    "indoors",
    "forest",
    "beach",
    "city",
    "mountain",
    "sky",
    "ocean",
    "sea",
    "room",
    "grass",
    "tree",
    "field",
    "river",
    "lake",
    "street",
    "night",
    "day",
    "sunset",
    "sunrise",
    "rain",
    "snow",
    "cloud",
    "water",
    "building",
    "garden",
    "shrine",
    "classroom",
    "library",
    "cafe",
    "bedroom",
    "window",
    "cherry_blossoms",
    "flower",
    "autumn_leaves",
    "starry_sky",
    "night_sky",
    "moon",
    "horizon",
];

/// Patterns that say what a tag is regardless of the table.
fn by_clear_name(name: &str) -> Option<InspireCategory> {
    use InspireCategory::*;
    let words: Vec<&str> = name
        .split(['_', '(', ')'])
        .filter(|w| !w.is_empty())
        .collect();
    let has_word = |list: &[&str]| words.iter().any(|w| list.contains(w));
    Some(
        if [
            "1girl",
            "1boy",
            "solo",
            "2girls",
            "3girls",
            "multiple_girls",
            "multiple_boys",
            "no_humans",
        ]
        .contains(&name)
        {
            Character
        } else if name.ends_with("_hair") || name.ends_with("_eyes") || name.ends_with("_skin") {
            Appearance
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
        } else if name.contains("smile")
            || [
                "smile",
                "sad",
                "happy",
                "angry",
                "peaceful",
                "dreamy",
                "mysterious",
                "cheerful",
                "melancholic",
                "blush",
                "crying",
                "tears",
                "lonely",
            ]
            .contains(&name)
        {
            Mood
        } else if name.ends_with("_style")
            || name.ends_with("_(medium)")
            || name.ends_with("_colors")
            || name.ends_with("_theme")
            || [
                "realistic",
                "anime",
                "photorealistic",
                "abstract",
                "artistic",
                "sketch",
                "painterly",
                "lineart",
            ]
            .contains(&name)
        {
            Style
        } else if name.ends_with("scape")
            || SCENERY.contains(&name)
            || name.contains("background")
            || name.contains("scenery")
        {
            Scene
        } else if has_word(CLOTHES)
            || name.ends_with("_dress")
            || name.ends_with("_uniform")
            || name.ends_with("_suit")
        {
            Clothing
        } else {
            return None;
        },
    )
}

/// The reference's remaining name rules, used only when the table says nothing useful.
fn by_weak_name(name: &str) -> InspireCategory {
    use InspireCategory::*;
    let has = |words: &[&str]| words.iter().any(|w| name.contains(w));
    if has(&["hair", "eyes", "skin", "face", "lips", "nose"]) {
        Appearance
    } else if (name.ends_with("ing")
        && !["clothing", "ring", "earring", "building"].contains(&name))
        || [
            "sitting", "standing", "walking", "running", "flying", "swimming", "dancing",
        ]
        .contains(&name)
    {
        Action
    } else if has(&[
        "lighting", "glow", "particle", "shadow", "light", "effect", "sparkle", "bloom",
    ]) {
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
        assert_eq!(categorize("highres", "TECHNICAL", ""), Quality);
        assert_eq!(categorize("sky", "", ""), Scene);
        assert_eq!(categorize("glowing_eyes", "", ""), Appearance);
        assert_eq!(categorize("sitting", "", ""), Action);
        assert_eq!(categorize("umbrella", "OBJECTS", ""), Meta);
        // The table's noise does not decide.
        assert_eq!(categorize("dress", "TECHNICAL", ""), Clothing);
        assert_eq!(categorize("white_dress", "TECHNICAL", ""), Clothing);
        assert_eq!(
            categorize("cityscape", "CHARACTER_RELATED", "CLOTHING"),
            Scene
        );
        assert_eq!(categorize("grass", "ADULT_CONTENT", "EXPLICIT_BODY"), Scene);
        assert_eq!(categorize("light_smile", "VISUAL_EFFECTS", ""), Mood);
        assert_eq!(categorize("pastel_colors", "THEME_CONCEPT", "TIME"), Style);
        assert_eq!(categorize("glasses", "ADULT_CONTENT", ""), Meta);
        assert_eq!(serde_json::to_value(Appearance).unwrap(), "APPEARANCE");
    }
}

//! Prompt recipes (reference §4.7): generation parameter presets and negative prompts by
//! style, and the safety prefix every negative prompt carries.

use serde::Serialize;

/// Always at the head of a negative prompt unless all of its words are already present.
pub const SAFETY_PREFIX: &[&str] = &["nsfw", "child", "loli", "shota", "gore"];
const QUALITY_NEGATIVES: &[&str] = &[
    "lowres",
    "bad_anatomy",
    "bad_hands",
    "cropped",
    "worst_quality",
    "jpeg_artifacts",
    "blurry",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    AnimeDreamy,
    Realistic,
    AbstractSurreal,
    ArtisticPainterly,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameters {
    pub cfg_scale: f64,
    pub steps: u32,
    pub sampler: String,
    pub size: String,
}

/// The style a tag list leans to (the reference's keyword selection, applied to tags).
pub fn style_of(tags: &[String]) -> Style {
    let has = |words: &[&str]| tags.iter().any(|t| words.iter().any(|w| t.contains(w)));
    if has(&["realistic", "photo"]) {
        Style::Realistic
    } else if has(&["abstract", "surreal"]) {
        Style::AbstractSurreal
    } else if has(&[
        "painting",
        "watercolor",
        "oil_",
        "impressionism",
        "sketch",
        "traditional_media",
    ]) {
        Style::ArtisticPainterly
    } else {
        Style::AnimeDreamy
    }
}

/// The preset for a style, sized by framing: landscapes wide, people tall.
pub fn parameters_for(style: Style, tags: &[String]) -> Parameters {
    let (cfg_scale, steps, sampler) = match style {
        Style::AnimeDreamy => (8.0, 35, "DPM++ 2M Karras"),
        Style::Realistic => (6.0, 32, "DPM++ 2M Karras"),
        Style::AbstractSurreal => (7.5, 45, "Euler a"),
        Style::ArtisticPainterly => (7.0, 35, "DPM++ 2M Karras"),
    };
    let wide = tags.iter().any(|t| {
        matches!(
            t.as_str(),
            "scenery" | "landscape" | "wide_shot" | "very_wide_shot" | "no_humans" | "panorama"
        )
    });
    Parameters {
        cfg_scale,
        steps,
        sampler: sampler.into(),
        size: if wide { "768x512" } else { "512x768" }.into(),
    }
}

/// The negative prompt for a style, safety prefix first.
pub fn negative_for(style: Style) -> String {
    let mut words: Vec<&str> = SAFETY_PREFIX.to_vec();
    match style {
        Style::AnimeDreamy => {
            words.extend(QUALITY_NEGATIVES);
            words.push("grainy");
        }
        Style::ArtisticPainterly => words.extend(
            QUALITY_NEGATIVES
                .iter()
                .filter(|w| !matches!(**w, "bad_hands" | "blurry")),
        ),
        Style::Realistic => {
            words.extend(QUALITY_NEGATIVES);
            words.extend(["grainy", "deformed", "overexposed", "underexposed"]);
        }
        Style::AbstractSurreal => {
            words.extend(["lowres", "cropped", "worst_quality", "jpeg_artifacts"]);
        }
    }
    words.join(", ")
}

/// Makes sure a negative prompt carries the safety prefix, comparing whole words (not
/// substrings, and not case): any missing prefix word is added at the front, once.
pub fn with_safety_prefix(negative: &str) -> String {
    let words: Vec<String> = negative
        .split(',')
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
        .collect();
    let has = |p: &str| {
        words
            .iter()
            .any(|w| crate::tags::category::normalize(w) == p)
    };
    let mut out: Vec<String> = SAFETY_PREFIX
        .iter()
        .filter(|p| !has(p))
        .map(|p| p.to_string())
        .collect();
    if out.is_empty() {
        return words.join(", ");
    }
    out.extend(words);
    out.join(", ")
}

/// A short usage tip for the preset, in the user's language.
pub fn usage_tip(style: Style, english: bool) -> &'static str {
    match (style, english) {
        (Style::AnimeDreamy, false) => "適合動漫模型；CFG 7-9、步數 30-40 之間微調，先固定 seed 比較差異。",
        (Style::Realistic, false) => "適合寫實模型；CFG 保持 5-7，步數 28-36，臉部可再加細節修復。",
        (Style::AbstractSurreal, false) => "抽象風格變化大，多跑幾次挑最喜歡的；CFG 6-9、步數 40-60。",
        (Style::ArtisticPainterly, false) => "繪畫感風格；CFG 6-8、步數 30-40，可加畫材標籤強化筆觸。",
        (Style::AnimeDreamy, true) => "Made for anime models: tune CFG 7-9 and 30-40 steps; fix the seed to compare changes.",
        (Style::Realistic, true) => "For realistic checkpoints: keep CFG 5-7 and 28-36 steps; add face restoration if needed.",
        (Style::AbstractSurreal, true) => "Abstract styles vary a lot: run several seeds; CFG 6-9, 40-60 steps.",
        (Style::ArtisticPainterly, true) => "Painterly look: CFG 6-8, 30-40 steps; add medium tags to strengthen the strokes.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(t: &[&str]) -> Vec<String> {
        t.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn presets_by_style() {
        assert_eq!(style_of(&v(&["1girl", "photorealistic"])), Style::Realistic);
        assert_eq!(
            style_of(&v(&["watercolor_(medium)"])),
            Style::ArtisticPainterly
        );
        assert_eq!(style_of(&v(&["1girl"])), Style::AnimeDreamy);
        let p = parameters_for(Style::AnimeDreamy, &v(&["1girl"]));
        assert_eq!(
            (p.cfg_scale, p.steps, p.size.as_str()),
            (8.0, 35, "512x768")
        );
        let p = parameters_for(Style::AbstractSurreal, &v(&["scenery"]));
        assert_eq!(
            (p.sampler.as_str(), p.size.as_str()),
            ("Euler a", "768x512")
        );
    }

    #[test]
    fn negative_prompts_start_with_the_safety_prefix() {
        for s in [
            Style::AnimeDreamy,
            Style::Realistic,
            Style::AbstractSurreal,
            Style::ArtisticPainterly,
        ] {
            assert!(negative_for(s).starts_with("nsfw, child, loli, shota, gore, "));
        }
        assert_eq!(
            with_safety_prefix("lowres"),
            "nsfw, child, loli, shota, gore, lowres"
        );
        // Substrings do not count: "children's_drawing" is not "child".
        assert!(with_safety_prefix("NSFW, children's_drawing")
            .starts_with("child, loli, shota, gore, NSFW"));
        let full = "nsfw, child, loli, shota, gore, blurry";
        assert_eq!(with_safety_prefix(full), full);
        assert_eq!(with_safety_prefix(""), "nsfw, child, loli, shota, gore");
    }
}

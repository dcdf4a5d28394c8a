//! The planner's data: how each mood is interpreted three ways (`data/moods.tsv`) and the six
//! refinements with their tags and parameter changes (`data/adjustments.tsv`).

use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub struct Mood {
    pub key: String,
    pub label_zh: String,
    pub label_en: String,
    /// Tags for the mood-led, scene-led and style-led directions.
    pub led: [Vec<String>; 3],
}

#[derive(Debug, Clone, PartialEq)]
pub struct Adjustment {
    pub key: String,
    pub phrases_zh: Vec<String>,
    pub phrases_en: Vec<String>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
    pub cfg_delta: f64,
    pub steps_delta: i64,
}

fn list(s: &str, sep: char) -> Vec<String> {
    s.split(sep)
        .map(|x| x.trim().to_string())
        .filter(|x| !x.is_empty())
        .collect()
}

pub fn moods() -> &'static [Mood] {
    static M: OnceLock<Vec<Mood>> = OnceLock::new();
    M.get_or_init(|| {
        include_str!("../../data/moods.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 6).then(|| Mood {
                    key: f[0].trim().into(),
                    label_zh: f[1].trim().into(),
                    label_en: f[2].trim().into(),
                    led: [list(f[3], ','), list(f[4], ','), list(f[5], ',')],
                })
            })
            .collect()
    })
}

pub fn default_mood() -> &'static Mood {
    moods()
        .iter()
        .find(|m| m.key == "default")
        .unwrap_or(&moods()[0])
}

pub fn adjustments() -> &'static [Adjustment] {
    static A: OnceLock<Vec<Adjustment>> = OnceLock::new();
    A.get_or_init(|| {
        include_str!("../../data/adjustments.tsv")
            .lines()
            .skip(1)
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() >= 7).then(|| Adjustment {
                    key: f[0].trim().into(),
                    phrases_zh: list(f[1], '|'),
                    phrases_en: list(f[2], '|')
                        .into_iter()
                        .map(|p| p.to_lowercase())
                        .collect(),
                    add: list(f[3], ','),
                    remove: list(f[4], ','),
                    cfg_delta: f[5].trim().parse().unwrap_or(0.0),
                    steps_delta: f[6].trim().parse().unwrap_or(0),
                })
            })
            .collect()
    })
}

/// The adjustments a message asks for, in table order. Chinese phrases match anywhere;
/// English phrases match as whole words.
pub fn adjustments_in(text: &str) -> Vec<&'static Adjustment> {
    let lower = text.to_lowercase();
    let padded = format!(
        " {} ",
        lower
            .chars()
            .map(|c| if c.is_alphanumeric() || c == '\'' {
                c
            } else {
                ' '
            })
            .collect::<String>()
    );
    adjustments()
        .iter()
        .filter(|a| {
            a.phrases_zh.iter().any(|p| lower.contains(p.as_str()))
                || a.phrases_en
                    .iter()
                    .any(|p| padded.contains(&format!(" {p} ")))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_loads() {
        assert!(moods().len() >= 20);
        assert_eq!(default_mood().key, "default");
        assert_eq!(adjustments().len(), 6);
    }

    #[test]
    fn the_six_refinements_in_both_languages() {
        for (text, key) in [
            ("可以更夢幻一點嗎？", "dreamier"),
            ("更寫實", "realistic"),
            ("少人像", "less_portrait"),
            ("加夜景", "night"),
            ("更明亮", "brighter"),
            ("更柔和", "softer"),
            ("Make it dreamier please", "dreamier"),
            ("more realistic", "realistic"),
            ("no people", "less_portrait"),
            ("at night", "night"),
            ("brighter!", "brighter"),
            ("softer", "softer"),
        ] {
            let found: Vec<&str> = adjustments_in(text)
                .iter()
                .map(|a| a.key.as_str())
                .collect();
            assert_eq!(found, vec![key], "{text}");
        }
        assert!(adjustments_in("a knight").is_empty());
    }
}

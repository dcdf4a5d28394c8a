//! Building directions from what the user said: the user's concepts first, then each
//! direction's own interpretation of the mood, topped up to a full tag list. Every tag is
//! checked to exist, to be all-ages, and not to conflict with those already chosen.

use super::data::{default_mood, moods, Mood};
use crate::lexicon::{lexicon, Match};
use crate::tags::category::conflicts_with_any;
use crate::tags::index::index;
use crate::tags::Rating;
use serde_json::{json, Value};

/// Fillers per direction (mood-led, scene-led, style-led) used when a list is short.
const FILLERS: [&[&str]; 3] = [
    &[
        "looking_at_viewer",
        "upper_body",
        "light_smile",
        "blurry_background",
        "bokeh",
        "from_side",
        "head_tilt",
        "floating_hair",
        "parted_lips",
        "hand_up",
        "sparkle",
        "portrait",
        "closed_mouth",
    ],
    &[
        "scenery",
        "wide_shot",
        "sky",
        "cloud",
        "horizon",
        "light_rays",
        "landscape",
        "tree",
        "nature",
        "reflection",
        "wind",
        "lens_flare",
        "dappled_sunlight",
    ],
    &[
        "traditional_media",
        "watercolor_(medium)",
        "limited_palette",
        "film_grain",
        "chromatic_aberration",
        "sketch",
        "lineart",
        "painterly",
        "brush_stroke",
        "colored_pencil_(medium)",
        "halftone",
        "faux_traditional_media",
        "partially_colored",
    ],
];
/// When the user names nobody: a person for the mood and style directions, none for the scene.
const DEFAULT_SUBJECTS: [&[&str]; 3] = [
    &["1girl", "solo"],
    &["scenery", "no_humans"],
    &["1girl", "solo"],
];
pub const MAX_SHARED: usize = 6;

/// What the planner understood of a message.
pub struct Reading<'a> {
    pub matches: Vec<Match<'a>>,
    pub mood: &'static Mood,
    pub has_subject: bool,
}

pub fn read(text: &str) -> Reading<'_> {
    let matches = lexicon().scan(text);
    let lower = text.to_lowercase();
    // The mood: a mood label named in the text, else a mood-facet phrase whose tags a mood shares.
    let named = moods()
        .iter()
        .filter(|m| m.key != "default")
        .filter_map(|m| {
            let pos = [
                lower.find(&m.label_zh),
                find_word(&lower, &m.label_en.to_lowercase()),
            ]
            .into_iter()
            .flatten()
            .min();
            pos.map(|p| (p, m))
        });
    let mood = named.min_by_key(|(p, _)| *p).map(|(_, m)| m).or_else(|| {
        matches
            .iter()
            .filter(|m| m.entry.facet == "mood")
            .find_map(|m| {
                moods().iter().find(|md| {
                    md.key != "default" && md.led[0].iter().any(|t| m.entry.tags.contains(t))
                })
            })
    });
    let has_subject = matches.iter().any(|m| m.entry.facet == "subject");
    Reading {
        matches,
        mood: mood.unwrap_or(default_mood()),
        has_subject,
    }
}

fn find_word(text: &str, word: &str) -> Option<usize> {
    if word.is_empty() {
        return None;
    }
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = text[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        let after = text[i + word.len()..]
            .chars()
            .next()
            .is_none_or(|c| !c.is_alphanumeric());
        before && after
    })
}

impl Reading<'_> {
    /// The user's tags in the order they were said, without duplicates.
    pub fn user_tags(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in self.matches.iter().flat_map(|m| m.entry.tags.iter()) {
            if !out.contains(t) {
                out.push(t.clone());
            }
        }
        out
    }

    pub fn phrases(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in &self.matches {
            if !out.contains(&m.entry.phrase) {
                out.push(m.entry.phrase.clone());
            }
        }
        out
    }
}

/// Adds `tags` to `list` when they exist, are all-ages, are new, and conflict with nothing
/// already there; stops at `max`.
pub fn push_tags<'a>(
    list: &mut Vec<String>,
    tags: impl IntoIterator<Item = &'a String>,
    max: usize,
) {
    for t in tags {
        if list.len() >= max {
            return;
        }
        let ok = index()
            .get(t)
            .is_some_and(|x| x.name == *t && x.rating() == Rating::AllAges);
        if ok && !list.contains(t) && !conflicts_with_any(t, list) {
            list.push(t.clone());
        }
    }
}

fn owned(tags: &[&str]) -> Vec<String> {
    tags.iter().map(|s| s.to_string()).collect()
}

/// Three directions' tag lists: shared user concepts (at most 6), then each direction's own
/// interpretation, never reusing another direction's non-shared tags, so no two directions
/// share more than half their tags.
pub fn direction_tags(reading: &Reading) -> [Vec<String>; 3] {
    let user = reading.user_tags();
    // Without a named subject two directions add a default person, which counts as shared.
    let cap = if reading.has_subject {
        MAX_SHARED
    } else {
        MAX_SHARED - 1
    };
    let mut shared = Vec::new();
    push_tags(&mut shared, user.iter(), cap);
    let extra: Vec<&String> = user.iter().filter(|t| !shared.contains(t)).collect();
    // Long lists keep the shared concepts at most half of each.
    let target = 14;
    let mut out: [Vec<String>; 3] = Default::default();
    for k in 0..3 {
        let mut list = shared.clone();
        let taken: Vec<String> = out[..k]
            .iter()
            .flatten()
            .filter(|t| !shared.contains(t))
            .cloned()
            .collect();
        let fresh = |tags: &[String]| {
            tags.iter()
                .filter(|t| !taken.contains(t))
                .cloned()
                .collect::<Vec<_>>()
        };
        // Concepts beyond the shared ones go round-robin, so each lands in some direction.
        let extras: Vec<String> = extra
            .iter()
            .skip(k)
            .step_by(3)
            .map(|t| (*t).clone())
            .collect();
        push_tags(&mut list, fresh(&extras).iter(), 15);
        if !reading.has_subject {
            push_tags(&mut list, owned(DEFAULT_SUBJECTS[k]).iter(), 15);
        }
        push_tags(&mut list, fresh(&reading.mood.led[k]).iter(), target);
        push_tags(&mut list, fresh(&owned(FILLERS[k])).iter(), target);
        // Still short of the minimum: fillers of the other kinds, only as many as needed.
        for f in FILLERS {
            push_tags(
                &mut list,
                fresh(&owned(f)).iter(),
                crate::tools::ideas::MIN_TAGS,
            );
        }
        out[k] = list;
    }
    out
}

/// Tops a list up to `min` with the fillers of its direction kind (0 mood, 1 scene, 2 style).
pub fn top_up(list: &mut Vec<String>, kind: usize, min: usize) {
    for k in [kind, (kind + 1) % 3, (kind + 2) % 3] {
        if list.len() >= min {
            return;
        }
        push_tags(list, owned(FILLERS[k]).iter(), min);
    }
}

/// The `generate_ideas` idea for one direction.
pub fn idea(kind: usize, reading: &Reading, tags: &[String], english: bool) -> Value {
    let m = reading.mood;
    let phrases = reading.phrases();
    // Concrete things read best in a concept line: no mood words, no trailing particles.
    let mut concrete: Vec<String> = Vec::new();
    for x in reading.matches.iter().filter(|x| x.entry.facet != "mood") {
        let p = x.entry.phrase.trim_end_matches(['的', '之']).to_string();
        if !concrete.contains(&p) {
            concrete.push(p);
        }
    }
    let concepts: Vec<&str> = concrete.iter().take(3).map(String::as_str).collect();
    let what = if concepts.is_empty() {
        if english {
            "the feeling".to_string()
        } else {
            "這份感覺".to_string()
        }
    } else {
        concepts.join(if english { ", " } else { "、" })
    };
    // With no mood named, the first thing the user named gives the titles their word.
    let named = (m.key == "default").then(|| phrases.first()).flatten();
    let (title, concept, vibe, unique) = if english {
        // English words are long: the mood-led title is the mood, the others name the
        // setting or medium the direction actually uses ("Night", "Watercolor").
        let label = capitalise(named.map_or(m.label_en.as_str(), |p| p.as_str()));
        let title = match kind {
            0 => label.clone(),
            _ => m.led[kind]
                .iter()
                .find(|t| tags.contains(t))
                .map(|t| humanise(t))
                .unwrap_or_else(|| label.clone()),
        };
        let title = fit_title(&title);
        let concepts = [
            format!("Mood first: {what}, told through expression and light."),
            format!("Scene first: {what} inside a setting that tells the story."),
            format!("Style first: {what} rendered with a painterly touch."),
        ];
        let vibes = ["quiet, intimate", "open, atmospheric", "artistic, textured"];
        let uniq = [
            "focuses on the character's emotion",
            "focuses on the surroundings",
            "focuses on the art style",
        ];
        (
            title,
            concepts[kind].clone(),
            format!("{}, {}", m.label_en, vibes[kind]),
            uniq[kind].to_string(),
        )
    } else {
        let label = &m.label_zh;
        let titles = [
            format!("{label}心境"),
            format!("{label}之境"),
            format!("{label}畫意"),
        ];
        let concepts = [
            format!("以情緒帶領：{what}，用表情與光影說出{label}。"),
            format!("以場景帶領：把{what}放進會說故事的環境。"),
            format!("以畫風帶領：用繪畫質感呈現{what}。"),
        ];
        let vibes = ["內斂、細膩", "遼闊、有氛圍", "藝術感、有質地"];
        let uniq = ["重點在人物情緒", "重點在環境氛圍", "重點在畫風質感"];
        (
            titles[kind].chars().take(10).collect(),
            concepts[kind].clone(),
            format!("{label}・{}", vibes[kind]),
            uniq[kind].to_string(),
        )
    };
    json!({
        "title": title,
        "concept": concept,
        "vibe": vibe,
        "main_tags": tags,
        "quick_preview": tags.iter().take(6).cloned().collect::<Vec<_>>().join(", "),
        "uniqueness": unique,
    })
}

/// `watercolor_(medium)` → "Watercolor", `night_sky` → "Night Sky".
fn humanise(tag: &str) -> String {
    let base = tag.split("_(").next().unwrap_or(tag);
    base.split('_')
        .map(capitalise)
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most 10 characters, cut at a word boundary when possible.
fn fit_title(t: &str) -> String {
    if t.chars().count() <= crate::tools::ideas::MAX_TITLE_CHARS {
        return t.to_string();
    }
    let mut out = String::new();
    for w in t.split(' ') {
        let next = if out.is_empty() {
            w.to_string()
        } else {
            format!("{out} {w}")
        };
        if next.chars().count() > crate::tools::ideas::MAX_TITLE_CHARS {
            break;
        }
        out = next;
    }
    if out.is_empty() {
        t.chars()
            .take(crate::tools::ideas::MAX_TITLE_CHARS)
            .collect()
    } else {
        out
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Overlap of two tag lists relative to the smaller one.
pub fn overlap(a: &[String], b: &[String]) -> f64 {
    let shared = a.iter().filter(|t| b.contains(t)).count();
    shared as f64 / a.len().min(b.len()).max(1) as f64
}

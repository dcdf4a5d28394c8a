//! Content ratings of tags: every Danbooru tag is all-ages, r15, r18 or blocked.
//!
//! # How a tag is rated
//! A tag is lowercased and split into whole tokens at every character that is not a letter or a
//! digit (`_`, `-`, `(`, `)`, spaces, `'`, `!`, ...). The curated lists in `data/ratings.txt`
//! are matched against those tokens, never against substrings, so `ass` rates `huge_ass` but
//! not `glasses`, `grass`, `classroom` or `assault_rifle`; `cum` does not rate `cucumber`, nor
//! `cock` `peacock`, nor `kid` `kidney`. An entry is a token (`pussy`), a phrase of contiguous
//! tokens (`spread_legs`), or an exact tag (`=covered_nipples`).
//!
//! The highest level found wins (blocked > r18 > r15 > all-ages), with three refinements:
//! - **Exact tags win outright.** `=covered_nipples` in `[r15]` keeps that tag at r15 although
//!   `nipples` is r18; `=aizawa_shota` in `[all-ages]` keeps a character's given name safe.
//! - **Neutral phrases.** A phrase in `[all-ages]` neutralises its tokens wherever it occurs:
//!   `breast_pocket`, `cigarette_butt`, `kid_icarus`, `same_sex`.
//! - **Minors and sexual content.** Words that mark a minor are blocked on their own (`loli`,
//!   `shota`, `child`, `toddler`); milder ones in `[minor]` (`young`, `aged_down`) are blocked
//!   only in a tag that also has an r15 or r18 word.
//!
//! # Proper names
//! ARTIST, CHARACTER and COPYRIGHT tags (and `..._(cosplay)` tags, which are character names)
//! name real people and works, and ordinary words in those names are not content:
//! `dick_grayson`, `kid_icarus`, `destiny_child`, `sex_pistols_(stand)`, `yuri_lowell`. Entries
//! marked `~` in the data ("ambiguous": `dick`, `cock`, `kid`, `child`, `sex`, `yuri`, `bra`,
//! `naked`, ...) therefore count only outside those categories. Unambiguous words still count in
//! names: an artist or title containing `loli`, `shota`, `guro` or `semen` is rated by it.
//!
//! The table's `main_category` is used for nothing else. In particular `ADULT_CONTENT` is not
//! trusted: it was filled by substring matching (it holds `glasses` and `grass`) and misses
//! `loli`, which is filed under CHARACTER_RELATED.
//!
//! The lists are parsed once, lazily, into hash maps keyed by token, so rating a tag costs a
//! split and a few lookups; search results can be rated by the thousand.

use std::collections::HashMap;
use std::sync::OnceLock;

/// The curated lists (format described at the top of the file).
const RATINGS_DATA: &str = include_str!("../../data/ratings.txt");

/// How explicit a tag is, ordered from safest to never shown.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Rating {
    #[serde(rename = "all-ages")]
    AllAges,
    #[serde(rename = "r15")]
    R15,
    #[serde(rename = "r18")]
    R18,
    #[serde(rename = "blocked")]
    Blocked,
}

impl Rating {
    /// Parses `all-ages` (or `all_ages`), `r15`, `r18` or `blocked`, ignoring case and
    /// surrounding whitespace.
    pub fn parse(s: &str) -> Option<Rating> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all-ages" | "all_ages" => Some(Rating::AllAges),
            "r15" => Some(Rating::R15),
            "r18" => Some(Rating::R18),
            "blocked" => Some(Rating::Blocked),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Rating::AllAges => "all-ages",
            Rating::R15 => "r15",
            Rating::R18 => "r18",
            Rating::Blocked => "blocked",
        }
    }

    /// Whether a tag of this rating may be shown to a session whose access level is `access`
    /// (access is never Blocked). Blocked is never allowed.
    pub fn allowed_for(self, access: Rating) -> bool {
        // An access level of Blocked would be a bug upstream; treat it as the highest real one.
        self != Rating::Blocked && self <= access.min(Rating::R18)
    }
}

impl std::fmt::Display for Rating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rates one tag. `main_category` is the table's category (empty or unknown is fine); it only
/// decides whether the tag is a proper name (see the module doc).
pub fn classify(name: &str, main_category: &str) -> Rating {
    let lists = lists();
    let name = name.trim();
    // Tags are stored lowercase with underscores; accept other spellings from callers.
    let normalized: std::borrow::Cow<'_, str> =
        if name.chars().any(|c| c.is_uppercase() || c == ' ') {
            name.to_lowercase().replace(' ', "_").into()
        } else {
            name.into()
        };
    if let Some(&rating) = lists.exact.get(normalized.as_ref()) {
        return rating;
    }

    let tokens: Vec<&str> = tokens(&normalized).collect();
    let proper = is_proper_name(main_category, &tokens);

    // Tokens covered by a neutral phrase (bit i = token i; tokens past 64 are never neutral).
    let mut neutral: u64 = 0;
    for (i, token) in tokens.iter().enumerate() {
        for phrase in lists.neutral.get(token).into_iter().flatten() {
            if phrase_at(&tokens, i, phrase) {
                for j in i..(i + phrase.len()).min(64) {
                    neutral |= 1 << j;
                }
            }
        }
    }

    let mut level = Rating::AllAges;
    let mut minor = false;
    for (i, token) in tokens.iter().enumerate() {
        for entry in lists.phrases.get(token).into_iter().flatten() {
            if (entry.ambiguous && proper) || !phrase_at(&tokens, i, &entry.tokens) {
                continue;
            }
            let span = i..(i + entry.tokens.len()).min(64);
            if span.clone().any(|j| neutral & (1 << j) != 0) {
                continue;
            }
            match entry.mark {
                Mark::Minor => minor = true,
                // Blocked minor words (`loli`, `child`) need no combination rule.
                Mark::Level(l) => level = level.max(l),
            }
        }
    }
    if minor && level >= Rating::R15 {
        Rating::Blocked
    } else {
        level
    }
}

/// ARTIST, CHARACTER and COPYRIGHT tags, and `..._(cosplay)` tags (a character's name).
fn is_proper_name(main_category: &str, tokens: &[&str]) -> bool {
    let category = main_category.trim();
    ["ARTIST", "CHARACTER", "COPYRIGHT"]
        .iter()
        .any(|c| category.eq_ignore_ascii_case(c))
        || tokens.last() == Some(&"cosplay")
}

/// The whole tokens of a (lowercase) tag.
fn tokens(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
}

fn phrase_at(tokens: &[&str], i: usize, phrase: &[&'static str]) -> bool {
    tokens.len() >= i + phrase.len() && tokens[i..i + phrase.len()] == *phrase
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mark {
    Level(Rating),
    Minor,
}

#[derive(Debug)]
struct Entry {
    tokens: Vec<&'static str>,
    mark: Mark,
    ambiguous: bool,
}

#[derive(Debug, Default)]
struct Lists {
    /// `=tag` entries: the whole tag, rated outright.
    exact: HashMap<&'static str, Rating>,
    /// Token and phrase entries, keyed by their first token.
    phrases: HashMap<&'static str, Vec<Entry>>,
    /// `[all-ages]` phrases, keyed by their first token.
    neutral: HashMap<&'static str, Vec<Vec<&'static str>>>,
}

fn lists() -> &'static Lists {
    static LISTS: OnceLock<Lists> = OnceLock::new();
    // The data is compiled in and checked by the tests, so a parse error is a bug here.
    LISTS.get_or_init(|| parse_lists(RATINGS_DATA).expect("data/ratings.txt is well-formed"))
}

#[derive(Clone, Copy, PartialEq)]
enum Section {
    Level(Rating),
    Minor,
    AllAges,
}

fn parse_lists(data: &'static str) -> Result<Lists, String> {
    let mut lists = Lists::default();
    let mut section: Option<Section> = None;
    for (n, raw) in data.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(match name {
                "blocked" => Section::Level(Rating::Blocked),
                "r18" => Section::Level(Rating::R18),
                "r15" => Section::Level(Rating::R15),
                "minor" => Section::Minor,
                "all-ages" => Section::AllAges,
                other => return Err(format!("line {}: unknown section [{other}]", n + 1)),
            });
            continue;
        }
        let section = section.ok_or_else(|| format!("line {}: entry before a section", n + 1))?;
        let (ambiguous, entry) = match line.strip_prefix('~') {
            Some(rest) => (true, rest),
            None => (false, line),
        };
        if entry.chars().any(|c| c.is_uppercase()) {
            return Err(format!("line {}: entries must be lowercase", n + 1));
        }
        if let Some(tag) = entry.strip_prefix('=') {
            let rating = match section {
                Section::Level(r) => r,
                Section::AllAges => Rating::AllAges,
                Section::Minor => {
                    return Err(format!(
                        "line {}: exact tags make no sense in [minor]",
                        n + 1
                    ))
                }
            };
            if lists.exact.insert(tag, rating).is_some() {
                return Err(format!("line {}: duplicate exact tag {tag}", n + 1));
            }
            continue;
        }
        let toks: Vec<&'static str> = tokens(entry).collect();
        let Some(&first) = toks.first() else {
            return Err(format!("line {}: empty entry", n + 1));
        };
        match section {
            Section::AllAges => lists.neutral.entry(first).or_default().push(toks),
            Section::Minor | Section::Level(_) => {
                let mark = match section {
                    Section::Level(r) => Mark::Level(r),
                    _ => Mark::Minor,
                };
                lists.phrases.entry(first).or_default().push(Entry {
                    tokens: toks,
                    mark,
                    ambiguous,
                });
            }
        }
    }
    Ok(lists)
}

/// Drops a `#` comment that starts the line or follows whitespace (the convention of the
/// project's word-list data files).
pub(crate) fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            return &line[..i];
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses() {
        let lists = parse_lists(RATINGS_DATA).unwrap();
        assert!(lists.exact.len() > 20);
        assert!(lists.phrases.len() > 200);
        assert!(!lists.neutral.is_empty());
    }

    #[test]
    fn rates_a_table_of_tags() {
        use Rating::*;
        // (tag, main_category, expected)
        let table: &[(&str, &str, Rating)] = &[
            // substring false positives of the original classifier
            ("glasses", "ADULT_CONTENT", AllAges),
            ("sunglasses", "ADULT_CONTENT", AllAges),
            ("grass", "ADULT_CONTENT", AllAges),
            ("on_grass", "ADULT_CONTENT", AllAges),
            ("classroom", "ADULT_CONTENT", AllAges),
            ("peacock", "", AllAges),
            ("cockpit", "OBJECTS", AllAges),
            ("cucumber", "ADULT_CONTENT", AllAges),
            ("cumulonimbus_cloud", "ADULT_CONTENT", AllAges),
            ("scissors", "OBJECTS", AllAges),
            ("kidney", "", AllAges),
            ("minority", "", AllAges),
            ("assault_rifle", "ADULT_CONTENT", AllAges),
            ("bass_guitar", "ADULT_CONTENT", AllAges),
            ("butterfly", "ADULT_CONTENT", AllAges),
            ("buttons", "ADULT_CONTENT", AllAges),
            ("embarrassed", "ADULT_CONTENT", AllAges),
            ("sextuplets", "ADULT_CONTENT", AllAges),
            ("kidnapping", "", AllAges),
            ("hourglass", "ADULT_CONTENT", AllAges),
            ("scathach_(fate)", "CHARACTER", AllAges),
            ("striped_clothes", "CHARACTER_RELATED", AllAges),
            ("microphone", "OBJECTS", AllAges),
            // clothing and everyday tags that look risky but are not
            ("thighhighs", "CHARACTER_RELATED", AllAges),
            ("thigh_strap", "CHARACTER_RELATED", AllAges),
            ("pantyhose", "CHARACTER_RELATED", AllAges),
            ("breast_pocket", "CHARACTER_RELATED", AllAges),
            ("breastplate", "OBJECTS", AllAges),
            ("double-breasted", "CHARACTER_RELATED", AllAges),
            ("cigarette_butt", "ADULT_CONTENT", AllAges),
            ("lolita_fashion", "CHARACTER_RELATED", AllAges),
            ("gothic_lolita", "CHARACTER_RELATED", AllAges),
            ("film_strip", "OBJECTS", AllAges),
            ("covered_navel", "ADULT_CONTENT", AllAges),
            ("tied_up_(nonsexual)", "ADULT_CONTENT", AllAges),
            ("see-through_sleeves", "CHARACTER_RELATED", AllAges),
            ("cheek_bulge", "CHARACTER_RELATED", AllAges),
            ("swimsuit", "CHARACTER_RELATED", AllAges),
            ("kiss", "ACTION_POSE", AllAges),
            ("blood", "VISUAL_EFFECTS", AllAges),
            ("cherry_blossoms", "ENVIRONMENT", AllAges),
            ("1girl", "CHARACTER_RELATED", AllAges),
            // proper names with a risky-looking token
            ("dick_grayson", "CHARACTER", AllAges),
            ("dick_gumshoe", "CHARACTER", AllAges),
            ("kid_icarus", "COPYRIGHT", AllAges),
            ("pit_(kid_icarus)", "CHARACTER", AllAges),
            ("palutena_bow_(kid_icarus)", "OBJECTS", AllAges),
            ("kaitou_kid_(cosplay)", "", AllAges),
            ("destiny_child", "COPYRIGHT", AllAges),
            ("child_of_light_(game)", "COPYRIGHT", AllAges),
            ("final_fantasy_vii_advent_children", "COPYRIGHT", AllAges),
            ("sex_pistols_(stand)", "CHARACTER", AllAges),
            ("cock_robin", "ARTIST", AllAges),
            ("yuri_lowell", "CHARACTER", AllAges),
            ("yuru_yuri", "COPYRIGHT", AllAges),
            ("naked_snake", "CHARACTER", AllAges),
            ("bra_(dragon_ball)", "CHARACTER", AllAges),
            ("kill_me_baby", "COPYRIGHT", AllAges),
            ("aizawa_shota", "CHARACTER", AllAges),
            ("gore_magala", "CHARACTER", AllAges),
            ("ursa_minor_(constellation)", "ENVIRONMENT", AllAges),
            ("suicide_squad", "COPYRIGHT", AllAges),
            // unambiguous words count in names too
            ("loli_bitch_island", "COPYRIGHT", Blocked),
            ("futa_yuri_ryona", "ARTIST", Blocked),
            ("semen_sprinkler_j", "COPYRIGHT", R18),
            // the same ambiguous words outside names
            ("dick_in_a_box", "", R18),
            ("yuri", "ADULT_CONTENT", R15),
            ("child", "CHARACTER_RELATED", Blocked),
            // r15: suggestive
            ("breasts", "CHARACTER_RELATED", R15),
            ("large_breasts", "CHARACTER_RELATED", R15),
            ("cleavage", "CHARACTER_RELATED", R15),
            ("ass", "ADULT_CONTENT", R15),
            ("thighs", "CHARACTER_RELATED", R15),
            ("panties", "CHARACTER_RELATED", R15),
            ("underwear", "CHARACTER_RELATED", R15),
            ("lingerie", "CHARACTER_RELATED", R15),
            ("bikini", "CHARACTER_RELATED", R15),
            ("sideboob", "ADULT_CONTENT", R15),
            ("see-through_clothes", "CHARACTER_RELATED", R15),
            ("spread_legs", "CHARACTER_RELATED", R15),
            ("covered_nipples", "ADULT_CONTENT", R15),
            ("partial_nudity", "", R15),
            ("sexually_suggestive", "ADULT_CONTENT", R15),
            ("skirt_lift", "CHARACTER_RELATED", R15),
            ("topless_male", "ADULT_CONTENT", R15),
            ("same-sex_bathing", "ADULT_CONTENT", R15),
            ("cameltoe", "ADULT_CONTENT", R15),
            ("convenient_censoring", "ADULT_CONTENT", R15),
            // r18: explicit
            ("nude", "ADULT_CONTENT", R18),
            ("completely_nude", "ADULT_CONTENT", R18),
            ("nipples", "ADULT_CONTENT", R18),
            ("pussy", "ADULT_CONTENT", R18),
            ("penis", "ADULT_CONTENT", R18),
            ("sex", "ADULT_CONTENT", R18),
            ("cum", "ADULT_CONTENT", R18),
            ("fellatio", "ADULT_CONTENT", R18),
            ("ahegao", "ADULT_CONTENT", R18),
            ("censored", "ADULT_CONTENT", R18),
            ("mosaic_censoring", "ADULT_CONTENT", R18),
            ("naked_apron", "ADULT_CONTENT", R18),
            ("sex_toy", "ADULT_CONTENT", R18),
            ("cowgirl_position", "CHARACTER_RELATED", R18),
            ("r-18", "", R18),
            ("nsfw", "", R18),
            ("teamwork_(sexual)", "ADULT_CONTENT", R18),
            // blocked: minors, extreme gore, non-consent
            ("loli", "CHARACTER_RELATED", Blocked),
            ("shota", "COMPOSITION", Blocked),
            ("toddler", "CHARACTER_RELATED", Blocked),
            ("oppai_loli", "ADULT_CONTENT", Blocked),
            ("kodomo_doushi", "ADULT_CONTENT", Blocked),
            ("mother_and_child", "CHARACTER_RELATED", Blocked),
            ("guro", "ADULT_CONTENT", Blocked),
            ("ryona", "ADULT_CONTENT", Blocked),
            ("rape", "ADULT_CONTENT", Blocked),
            ("bestiality", "ADULT_CONTENT", Blocked),
            ("decapitation", "CHARACTER", Blocked),
            ("onee-shota", "COMPOSITION", Blocked),
            // minors combined with sexual content
            ("aged_down_nude", "", Blocked),
            ("young_girl_bikini", "", Blocked),
            ("aged_down", "CHARACTER_RELATED", AllAges),
            ("randoseru", "CHARACTER_RELATED", AllAges),
            ("child_panties", "", Blocked),
            // callers' spellings
            ("Large Breasts", "", R15),
            ("  NUDE ", "", R18),
        ];
        assert!(table.len() >= 80);
        let mut wrong = Vec::new();
        for &(tag, category, want) in table {
            let got = classify(tag, category);
            if got != want {
                wrong.push(format!("{tag} [{category}]: want {want}, got {got}"));
            }
        }
        assert!(wrong.is_empty(), "misrated:\n{}", wrong.join("\n"));
    }

    #[test]
    fn allowed_for_follows_the_access_hierarchy() {
        use Rating::*;
        assert!(AllAges.allowed_for(AllAges));
        assert!(!R15.allowed_for(AllAges));
        assert!(!R18.allowed_for(AllAges));
        assert!(AllAges.allowed_for(R15));
        assert!(R15.allowed_for(R15));
        assert!(!R18.allowed_for(R15));
        assert!(AllAges.allowed_for(R18));
        assert!(R15.allowed_for(R18));
        assert!(R18.allowed_for(R18));
        for access in [AllAges, R15, R18, Blocked] {
            assert!(!Blocked.allowed_for(access), "blocked shown at {access}");
        }
        // A (buggy) Blocked access level behaves like R18.
        assert!(R18.allowed_for(Blocked));
    }

    #[test]
    fn parse_and_as_str_round_trip() {
        use Rating::*;
        for r in [AllAges, R15, R18, Blocked] {
            assert_eq!(Rating::parse(r.as_str()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.as_str())
            );
            assert_eq!(
                serde_json::from_str::<Rating>(&format!("\"{}\"", r.as_str())).unwrap(),
                r
            );
        }
        assert_eq!(Rating::parse("all_ages"), Some(AllAges));
        assert_eq!(Rating::parse(" ALL-AGES "), Some(AllAges));
        assert_eq!(Rating::parse("R18"), Some(R18));
        assert_eq!(Rating::parse("Blocked"), Some(Blocked));
        for bad in ["", "r16", "all ages", "nsfw", "r-18x"] {
            assert_eq!(Rating::parse(bad), None, "{bad}");
        }
        assert!(AllAges < R15 && R15 < R18 && R18 < Blocked);
    }

    /// Reads the whole tag table; run with
    /// `cargo test --lib rating -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn report_rating_counts() {
        let ix = crate::tags::index::index();
        let mut counts: HashMap<Rating, usize> = HashMap::new();
        let mut samples: HashMap<Rating, Vec<String>> = HashMap::new();
        let mut rows = 0;
        let started = std::time::Instant::now();
        for id in 0..ix.len() {
            let t = ix.tag(id);
            let (name, category) = (t.name, t.category);
            let r = classify(&name, &category);
            rows += 1;
            *counts.entry(r).or_default() += 1;
            samples.entry(r).or_default().push(name);
        }
        let elapsed = started.elapsed();
        assert_eq!(rows, 140_790);
        println!("{rows} tags rated in {elapsed:?}");
        for r in [Rating::AllAges, Rating::R15, Rating::R18, Rating::Blocked] {
            println!(
                "{:>9}: {}",
                r.as_str(),
                counts.get(&r).copied().unwrap_or(0)
            );
        }
        for r in [Rating::R15, Rating::R18, Rating::Blocked] {
            let all = samples.remove(&r).unwrap_or_default();
            // Spread the 30 samples over the whole (post-count ordered) list.
            let step = (all.len() / 30).max(1);
            let picked: Vec<&str> = all
                .iter()
                .step_by(step)
                .take(30)
                .map(|s| s.as_str())
                .collect();
            println!("\n{} samples: {}", r.as_str(), picked.join(" "));
        }
    }
}

//! Safety of the user's free text, checked before the agent runs, and the friendly way out
//! when a request is refused: a refusal line and three symbolic alternative directions.
//!
//! # Policy
//! The check is a local word list (`data/blocked_terms.txt`, Traditional Chinese, Simplified
//! Chinese and English). It refuses:
//! - **minors in a sexual context**: words that sexualise minors on their own (蘿莉, 幼女,
//!   loli, shota, underage, pedophile, ...), and any text that names a child or teenager
//!   (child, kid, teen, schoolgirl, 小孩, 兒童, 女學生, ...) together with a sexual or suggestive
//!   word (sexy, lingerie, naked, 性感, 內衣, ...);
//! - **explicit sexual content and sexual violence** (porn, sex, nsfw, 色情, 做愛, 強姦, ...);
//! - **extreme violence** (gore, snuff, dismemberment, 虐殺, 肢解, ...).
//!
//! It does not refuse a child, a kiss or a swimsuit on their own: "a mother holding her child
//! under cherry blossoms" is a fine subject. Such a text never gets minor tags anyway, because
//! the tag ratings (`tags::rating`) block `child`, `loli` and their like at every access level.
//! Suggestive words alone ("a sexy evening gown") pass here; the tag ratings and the session's
//! access level decide what the prompt may contain.
//!
//! # Matching
//! Chinese has no word boundaries, so a non-ASCII term matches as a substring (after
//! lowercasing, folding full-width letters and dropping whitespace, so 蘿 莉 still matches).
//! ASCII terms match whole words (runs of ASCII letters and digits, any case), so `sex` never
//! matches "Sussex" nor `kid` "skidding"; `decapitat*` matches any word starting so. An
//! `[allow]` list removes innocent words that contain a term (年幼女孩, 蘿莉塔, "cum laude").
//!
//! This is one layer, not the only one: the agent's instructions, the tag ratings and the
//! access level stand behind it, so the list aims at clear cases and few false refusals.

use crate::tags::rating::strip_comment;
use std::collections::HashMap;
use std::sync::OnceLock;

const BLOCKED_TERMS_DATA: &str = include_str!("../data/blocked_terms.txt");

/// The result of checking a user's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputVerdict {
    Allowed,
    /// Refused. `category` ("minors", "sexual", "violence") is for logs and metrics, never
    /// shown to users.
    Blocked {
        category: &'static str,
    },
}

impl InputVerdict {
    pub fn is_blocked(&self) -> bool {
        matches!(self, InputVerdict::Blocked { .. })
    }
}

/// Checks the user's free text against the local lists (see the module doc).
pub fn check_user_text(text: &str) -> InputVerdict {
    let terms = terms();
    let normalized = normalize(text);
    let mut found = Found::default();

    // Whole ASCII words, with words of allowed phrases taken out.
    let words: Vec<&str> = normalized
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut allowed = vec![false; words.len()];
    for phrase in &terms.allow_words {
        for i in 0..words.len() {
            if words_at(&words, i, phrase, false) {
                allowed[i..i + phrase.len()]
                    .iter_mut()
                    .for_each(|a| *a = true);
            }
        }
    }
    for (i, word) in words.iter().enumerate() {
        if allowed[i] {
            continue;
        }
        for term in lookup_words(terms, word) {
            let end = i + term.words.len();
            if words_at(&words, i, &term.words, term.prefix) && !allowed[i..end].contains(&true) {
                found.mark(term.kind);
            }
        }
    }

    // Substrings for Chinese (and Japanese), with whitespace and allowed words taken out.
    let mut haystack: String = normalized
        .chars()
        .filter(|c| !c.is_whitespace() && !is_invisible(*c))
        .collect();
    for allow in &terms.allow_substrings {
        if haystack.contains(allow) {
            haystack = haystack.replace(allow, "|");
        }
    }
    for (substring, kind) in &terms.substrings {
        if haystack.contains(substring) {
            found.mark(*kind);
        }
    }

    found.verdict()
}

/// One of the three symbolic directions offered when a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SafeAlternative {
    /// Traditional Chinese title, at most 10 characters.
    pub title: &'static str,
    pub title_en: &'static str,
    pub concept: &'static str,
    pub concept_en: &'static str,
    /// Mood adjectives separated by 、.
    pub vibe: &'static str,
    /// 10-12 Danbooru tags, all existing and all-ages.
    pub main_tags: &'static [&'static str],
}

static SAFE_ALTERNATIVES: [SafeAlternative; 3] = [
    SafeAlternative {
        title: "光影意象",
        title_en: "Light and shadow",
        concept: "用光線、剪影與倒影承載情緒，不靠人物也能說故事",
        concept_en: "Let light, silhouettes and reflections carry the feeling; the story needs no figure",
        vibe: "空靈、溫柔、靜謐",
        main_tags: &[
            "light_particles",
            "light_rays",
            "sunbeam",
            "dappled_sunlight",
            "backlighting",
            "lens_flare",
            "bokeh",
            "sparkle",
            "glowing",
            "silhouette",
            "reflection",
            "shadow",
        ],
    },
    SafeAlternative {
        title: "自然元素",
        title_en: "Natural elements",
        concept: "把情緒交給花、葉、風與水，讓風景替你說話",
        concept_en: "Hand the feeling to flowers, leaves, wind and water; let the landscape speak",
        vibe: "療癒、清新、寧靜",
        main_tags: &[
            "nature",
            "scenery",
            "no_humans",
            "flower_field",
            "cherry_blossoms",
            "falling_petals",
            "leaf",
            "tree",
            "river",
            "water_drop",
            "blue_sky",
            "wind",
        ],
    },
    SafeAlternative {
        title: "抽象幾何",
        title_en: "Abstract geometry",
        concept: "以形狀、色塊與對稱構成畫面，用節奏與色彩表達感受",
        concept_en: "Build the image from shapes, colour fields and symmetry; rhythm and colour hold the mood",
        vibe: "現代、簡潔、繽紛",
        main_tags: &[
            "abstract",
            "abstract_background",
            "geometric_pattern",
            "symmetry",
            "circle",
            "triangle",
            "hexagon",
            "cube",
            "spiral",
            "prism",
            "gradient_background",
            "colorful",
        ],
    },
];

/// Three safe, symbolic alternative directions offered when input is refused: 光影意象 (light
/// and shadow), 自然元素 (natural elements), 抽象幾何 (abstract geometry).
pub fn safe_alternatives() -> &'static [SafeAlternative; 3] {
    &SAFE_ALTERNATIVES
}

/// The friendly refusal: no lecture, no explanation of why, an offer of symbolic expression.
pub fn refusal_message(english: bool) -> &'static str {
    if english {
        "This theme is easy to take too far, so I'll switch to symbolic expression. It works \
         beautifully too 👇 Pick one of these three safe directions:"
    } else {
        "這題材容易踩線，我改用象徵表達，效果也很棒👇 挑一個安全又有味道的方向吧："
    }
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Sexualised minors on their own.
    Minors,
    Sexual,
    Violence,
    /// A child or teenager: refused only with Sexual or Suggestive.
    Minor,
    /// Suggestive: refused only with Minor.
    Suggestive,
}

#[derive(Default)]
struct Found {
    minors: bool,
    sexual: bool,
    violence: bool,
    minor: bool,
    suggestive: bool,
}

impl Found {
    fn mark(&mut self, kind: Kind) {
        match kind {
            Kind::Minors => self.minors = true,
            Kind::Sexual => self.sexual = true,
            Kind::Violence => self.violence = true,
            Kind::Minor => self.minor = true,
            Kind::Suggestive => self.suggestive = true,
        }
    }

    fn verdict(&self) -> InputVerdict {
        let category = if self.minors || (self.minor && (self.sexual || self.suggestive)) {
            "minors"
        } else if self.sexual {
            "sexual"
        } else if self.violence {
            "violence"
        } else {
            return InputVerdict::Allowed;
        };
        InputVerdict::Blocked { category }
    }
}

#[derive(Debug)]
struct WordTerm {
    words: Vec<&'static str>,
    /// The last word matches any word it starts (`decapitat*`).
    prefix: bool,
    kind: Kind,
}

#[derive(Debug, Default)]
struct Terms {
    /// ASCII terms keyed by their first word (prefix terms whose first word is the prefix are
    /// in `prefix_words`).
    words: HashMap<&'static str, Vec<WordTerm>>,
    prefix_words: Vec<WordTerm>,
    substrings: Vec<(&'static str, Kind)>,
    allow_words: Vec<Vec<&'static str>>,
    allow_substrings: Vec<String>,
}

fn lookup_words<'a>(terms: &'a Terms, word: &str) -> impl Iterator<Item = &'a WordTerm> {
    terms
        .words
        .get(word)
        .into_iter()
        .flatten()
        .chain(terms.prefix_words.iter())
}

fn words_at(words: &[&str], i: usize, term: &[&str], prefix: bool) -> bool {
    if words.len() < i + term.len() {
        return false;
    }
    let last = term.len() - 1;
    term.iter().enumerate().all(|(k, t)| {
        if prefix && k == last {
            words[i + k].starts_with(t)
        } else {
            words[i + k] == *t
        }
    })
}

fn terms() -> &'static Terms {
    static TERMS: OnceLock<Terms> = OnceLock::new();
    // The data is compiled in and checked by the tests, so a parse error is a bug here.
    TERMS.get_or_init(|| {
        parse_terms(BLOCKED_TERMS_DATA).expect("data/blocked_terms.txt is well-formed")
    })
}

fn parse_terms(data: &'static str) -> Result<Terms, String> {
    let mut terms = Terms::default();
    // None = the [allow] section.
    let mut section: Option<Option<Kind>> = None;
    for (n, raw) in data.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(match name {
                "minors" => Some(Kind::Minors),
                "sexual" => Some(Kind::Sexual),
                "violence" => Some(Kind::Violence),
                "minor" => Some(Kind::Minor),
                "suggestive" => Some(Kind::Suggestive),
                "allow" => None,
                other => return Err(format!("line {}: unknown section [{other}]", n + 1)),
            });
            continue;
        }
        let kind = section.ok_or_else(|| format!("line {}: term before a section", n + 1))?;
        if line != line.to_lowercase() {
            return Err(format!("line {}: terms must be lowercase", n + 1));
        }
        if line.is_ascii() {
            let (body, prefix) = match line.strip_suffix('*') {
                Some(body) => (body, true),
                None => (line, false),
            };
            let words: Vec<&'static str> = body
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect();
            if words.is_empty() {
                return Err(format!("line {}: empty term", n + 1));
            }
            match kind {
                None => terms.allow_words.push(words),
                Some(kind) => {
                    let term = WordTerm {
                        words,
                        prefix,
                        kind,
                    };
                    if prefix && term.words.len() == 1 {
                        terms.prefix_words.push(term);
                    } else {
                        terms.words.entry(term.words[0]).or_default().push(term);
                    }
                }
            }
        } else {
            match kind {
                None => terms.allow_substrings.push(line.to_string()),
                Some(kind) => terms.substrings.push((line, kind)),
            }
        }
    }
    Ok(terms)
}

/// Lowercases and folds full-width ASCII (ｌｏｌｉ → loli) and the ideographic space.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Zero-width characters that could split a term without showing.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::rating::{classify, Rating};

    #[test]
    fn the_data_file_parses() {
        let terms = parse_terms(BLOCKED_TERMS_DATA).unwrap();
        assert!(terms.words.len() > 100);
        assert!(terms.substrings.len() > 100);
        assert!(!terms.prefix_words.is_empty());
        assert!(!terms.allow_words.is_empty() && !terms.allow_substrings.is_empty());
    }

    #[test]
    fn checks_a_table_of_inputs() {
        const OK: Option<&str> = None;
        let table: &[(&str, Option<&str>)] = &[
            // allowed: ordinary moods, children without sexual context, look-alike words
            ("想要一張春天櫻花下的溫柔畫面", OK),
            ("a mother holding her child under cherry blossoms", OK),
            ("kids playing in the snow, warm and nostalgic", OK),
            ("孩子們在公園裡放風箏，陽光很暖", OK),
            ("年幼女孩在雨中撐傘的背影", OK),
            ("蘿莉塔風格的洋裝，粉色系甜美感", OK),
            ("gothic lolita dress in a candlelit library", OK),
            ("a classroom at dusk, chalk dust in the light", OK),
            ("the car was skidding on a rainy road in Sussex", OK),
            ("a sexy evening gown on a rooftop at night", OK),
            ("性感的都會女子，霓虹夜景", OK),
            ("she graduated summa cum laude, proud and happy", OK),
            ("理性與感性交織的抽象畫", OK),
            ("十字路口交會的人潮，黃昏", OK),
            ("水乳交融的色彩漸層", OK),
            ("清晨的露點溫度很低，霧氣瀰漫", OK),
            ("punk rock poster like the Sex Pistols", OK),
            ("孤獨的感覺，像深夜一個人走在街上", OK),
            (
                "a knight's lonely battle, dramatic lighting, a little blood",
                OK,
            ),
            ("幼女戰記風格的軍裝少女", OK),
            ("a mother kissing her baby goodnight", OK),
            ("children in swimsuits at the beach, summer vacation", OK),
            ("血腥瑪麗調酒，昏暗的酒吧", OK),
            ("little girl in a bikini", Some("minors")),
            // minors in a sexual context
            ("蘿莉 泳裝 誘惑", Some("minors")),
            ("萝莉 可爱", Some("minors")),
            ("幼女", Some("minors")),
            ("cute loli girl", Some("minors")),
            ("shota with cat ears", Some("minors")),
            ("underage girl in bed", Some("minors")),
            ("ＬＯＬＩ art", Some("minors")),
            ("蘿 莉", Some("minors")),
            ("sexy schoolgirl in lingerie", Some("minors")),
            ("a child in lingerie", Some("minors")),
            ("性感的小學生", Some("minors")),
            ("穿內衣的小女孩", Some("minors")),
            ("naked kids", Some("minors")),
            ("teen girl, seductive pose", Some("minors")),
            // explicit sexual content and sexual violence
            ("nsfw anime girl", Some("sexual")),
            ("two people having sex", Some("sexual")),
            ("Explicit SEX scene", Some("sexual")),
            ("porn style", Some("sexual")),
            ("色情插畫", Some("sexual")),
            ("做爱的画面", Some("sexual")),
            ("全裸的女人躺在床上", Some("sexual")),
            ("強姦", Some("sexual")),
            ("a naked woman in the shower", Some("sexual")),
            ("r-18 illustration", Some("sexual")),
            // extreme violence
            ("gore, dismembered bodies everywhere", Some("violence")),
            ("a decapitated head on a spike", Some("violence")),
            ("snuff film aesthetic", Some("violence")),
            ("血腥獵奇的虐殺場面", Some("violence")),
            ("碎尸现场", Some("violence")),
        ];
        assert!(table.len() >= 30);
        let mut wrong = Vec::new();
        for &(text, want) in table {
            let got = match check_user_text(text) {
                InputVerdict::Allowed => None,
                InputVerdict::Blocked { category } => Some(category),
            };
            if got != want {
                wrong.push(format!("{text:?}: want {want:?}, got {got:?}"));
            }
        }
        assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
    }

    #[test]
    fn refusal_message_is_friendly_and_symbolic() {
        let zh = refusal_message(false);
        assert!(zh.contains("改用") && zh.contains("象徵") && zh.contains("安全"));
        for word in ["禁止", "違規", "不允許", "违规", "不允许"] {
            assert!(!zh.contains(word), "{word}");
        }
        let en = refusal_message(true).to_lowercase();
        assert!(en.contains("symbolic"));
        for word in [
            "forbidden",
            "violation",
            "not allowed",
            "prohibited",
            "policy",
        ] {
            assert!(!en.contains(word), "{word}");
        }
    }

    #[test]
    fn safe_alternatives_are_three_distinct_directions() {
        let alts = safe_alternatives();
        let titles: Vec<&str> = alts.iter().map(|a| a.title).collect();
        assert_eq!(titles, ["光影意象", "自然元素", "抽象幾何"]);
        for a in alts {
            assert!(a.title.chars().count() <= 10, "{}", a.title);
            assert!(!a.title_en.is_empty() && !a.concept.is_empty() && !a.concept_en.is_empty());
            assert!(a.vibe.contains('、'));
            assert!((10..=12).contains(&a.main_tags.len()), "{}", a.title);
            // Nothing in an alternative should itself be refused.
            for text in [a.title, a.title_en, a.concept, a.concept_en, a.vibe] {
                assert_eq!(check_user_text(text), InputVerdict::Allowed, "{text}");
            }
        }
    }

    #[test]
    fn safe_alternative_tags_exist_and_are_all_ages() {
        // The embedded index is the tag table (built from data/tags_final.csv.gz).
        for alt in safe_alternatives() {
            for tag in alt.main_tags {
                let t = crate::tags::index::index()
                    .get(tag)
                    .filter(|t| t.name == *tag)
                    .unwrap_or_else(|| panic!("{tag} ({}) is not in the tag table", alt.title));
                assert_eq!(classify(tag, &t.category), Rating::AllAges, "{tag}");
            }
        }
    }
}

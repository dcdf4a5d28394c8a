//! The lexicon: words and phrases people type (Traditional and Simplified Chinese, English)
//! mapped to real tags, with a facet saying what kind of thing each is. Kept as data
//! (`data/lexicon.tsv`). Chinese has no spaces, so text is matched longest phrase first.

use std::collections::HashMap;
use std::sync::OnceLock;

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub phrase: String,
    pub facet: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Match<'a> {
    pub entry: &'a Entry,
    /// Byte offset of the phrase in the scanned text.
    pub at: usize,
}

pub struct Lexicon {
    entries: Vec<Entry>,
    zh: HashMap<String, usize>,
    en: HashMap<String, usize>,
    max_zh_chars: usize,
    max_en_words: usize,
}

pub fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| Lexicon::parse(include_str!("../data/lexicon.tsv")))
}

/// CJK ideographs and the punctuation around them form the Chinese runs of a text.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FFFF)
}

/// "zh-TW" when the text has any Chinese character, else "en".
pub fn detect_language(text: &str) -> &'static str {
    if text.chars().any(is_cjk) {
        "zh-TW"
    } else {
        "en"
    }
}

impl Lexicon {
    fn parse(text: &str) -> Lexicon {
        let mut lex = Lexicon {
            entries: Vec::new(),
            zh: HashMap::new(),
            en: HashMap::new(),
            max_zh_chars: 1,
            max_en_words: 1,
        };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 4 || f[0].trim().is_empty() {
                continue;
            }
            let entry = Entry {
                phrase: f[0].trim().to_lowercase(),
                facet: f[2].trim().to_string(),
                tags: f[3]
                    .split(',')
                    .map(|t| t.trim().to_string())
                    .filter(|t| !t.is_empty())
                    .collect(),
            };
            let id = lex.entries.len();
            if f[1].trim() == "zh" {
                lex.max_zh_chars = lex.max_zh_chars.max(entry.phrase.chars().count());
                lex.zh.entry(entry.phrase.clone()).or_insert(id);
            } else {
                lex.max_en_words = lex.max_en_words.max(entry.phrase.split(' ').count());
                lex.en.entry(entry.phrase.clone()).or_insert(id);
            }
            lex.entries.push(entry);
        }
        lex
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Every known phrase in `text`, left to right, longest first at each position.
    pub fn scan(&self, text: &str) -> Vec<Match<'_>> {
        let lower = text.to_lowercase();
        let chars: Vec<(usize, char)> = lower.char_indices().collect();
        let mut out = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            let (at, c) = chars[i];
            if is_cjk(c) {
                i += self.match_zh(&lower, &chars, i, &mut out);
            } else if c.is_alphanumeric() {
                i += self.match_en(&chars, i, at, &mut out);
            } else {
                i += 1;
            }
        }
        out
    }

    /// Longest Chinese phrase starting at char `i`; returns how many chars to advance.
    fn match_zh<'a>(
        &'a self,
        text: &str,
        chars: &[(usize, char)],
        i: usize,
        out: &mut Vec<Match<'a>>,
    ) -> usize {
        let longest = self.max_zh_chars.min(chars.len() - i);
        for len in (1..=longest).rev() {
            let start = chars[i].0;
            let end = chars.get(i + len).map_or(text.len(), |c| c.0);
            if let Some(&id) = self.zh.get(&text[start..end]) {
                out.push(Match {
                    entry: &self.entries[id],
                    at: start,
                });
                return len;
            }
        }
        1
    }

    /// Longest English phrase (whole words) starting at char `i`; returns chars to advance.
    fn match_en<'a>(
        &'a self,
        chars: &[(usize, char)],
        i: usize,
        at: usize,
        out: &mut Vec<Match<'a>>,
    ) -> usize {
        // Words: alphanumerics with inner hyphens or apostrophes; separators: anything else.
        let mut words: Vec<(String, usize)> = Vec::new(); // (word, char index after it)
        let mut j = i;
        while words.len() < self.max_en_words && j < chars.len() {
            let mut w = String::new();
            while j < chars.len()
                && (chars[j].1.is_alphanumeric() && !is_cjk(chars[j].1)
                    || matches!(chars[j].1, '-' | '\''))
            {
                w.push(chars[j].1);
                j += 1;
            }
            if w.is_empty() {
                break;
            }
            words.push((w, j));
            // Only plain spaces join words of one phrase.
            if j < chars.len() && chars[j].1 == ' ' {
                j += 1;
            } else {
                break;
            }
        }
        for n in (1..=words.len()).rev() {
            let phrase: Vec<&str> = words[..n].iter().map(|w| w.0.as_str()).collect();
            if let Some(&id) = self.en.get(&phrase.join(" ")) {
                out.push(Match {
                    entry: &self.entries[id],
                    at,
                });
                return words[n - 1].1 - i;
            }
        }
        words.first().map_or(1, |w| w.1 - i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrases(text: &str) -> Vec<String> {
        lexicon()
            .scan(text)
            .iter()
            .map(|m| m.entry.phrase.clone())
            .collect()
    }

    fn tags(text: &str) -> Vec<String> {
        lexicon()
            .scan(text)
            .iter()
            .flat_map(|m| m.entry.tags.clone())
            .collect()
    }

    #[test]
    fn has_hundreds_of_entries_in_both_languages() {
        assert!(lexicon().entries().len() >= 400);
        assert!(lexicon().zh.len() >= 200 && lexicon().en.len() >= 200);
    }

    #[test]
    fn chinese_longest_phrase_first() {
        let t = tags("櫻花樹下的和服少女，溫柔寧靜的氛圍");
        for want in ["cherry_blossoms", "kimono", "1girl"] {
            assert!(t.contains(&want.to_string()), "{want} not in {t:?}");
        }
        let p = phrases("櫻花樹下");
        assert_eq!(p.len(), 1, "{p:?}");
    }

    #[test]
    fn english_whole_words_only() {
        let t = tags("A girl with long hair under cherry blossoms at night");
        for want in ["long_hair", "cherry_blossoms", "night"] {
            assert!(t.contains(&want.to_string()), "{want} not in {t:?}");
        }
        // "rainbow" must not match "rain".
        assert!(!tags("rainbow").contains(&"rain".to_string()));
    }

    #[test]
    fn mixed_language_text() {
        let t = tags("一個 cyberpunk 城市，neon lights 下的少女");
        assert!(t.contains(&"1girl".to_string()), "{t:?}");
        assert!(t.iter().any(|x| x == "cyberpunk"), "{t:?}");
        assert_eq!(detect_language("hello 你好"), "zh-TW");
        assert_eq!(detect_language("hello"), "en");
    }
}

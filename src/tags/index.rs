//! The embedded tag index: all 140,790 tags compiled into the Worker (tables made by
//! `build.rs`), initialised lazily on first use. Tag ids are table order, which is
//! `post_count` descending, so "most popular first" is simply "lowest id first".

use super::category::{normalize, resolve_alias};
use super::{Answer, Tag, TagError, TagFilter, TagStore};
use std::sync::OnceLock;

static NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/tag_names.txt"));
static COUNTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tag_counts.bin"));
static CATS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tag_cats.bin"));
static SORTED: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/tag_sorted.bin"));
static CAT_NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/tag_cat_names.txt"));

/// How many of the most popular names a keyword search tries before scanning them all.
const POPULAR_HEAD: usize = 8_000;

/// The index over the embedded tables. Cheap to build: it only finds line offsets.
pub struct TagIndex {
    /// Byte offset of each name in `NAMES`, plus one past the end.
    starts: Vec<u32>,
    main_names: Vec<&'static str>,
    sub_names: Vec<&'static str>,
}

/// The process-wide index, built on first use (never at module start).
pub fn index() -> &'static TagIndex {
    static INDEX: OnceLock<TagIndex> = OnceLock::new();
    INDEX.get_or_init(TagIndex::build)
}

impl TagIndex {
    fn build() -> TagIndex {
        let mut starts = Vec::with_capacity(COUNTS.len() / 4 + 1);
        starts.push(0);
        starts.extend(NAMES.match_indices('\n').map(|(i, _)| i as u32 + 1));
        starts.push(NAMES.len() as u32 + 1);
        let mut lines = CAT_NAMES.lines();
        let split = |l: Option<&'static str>| l.unwrap_or("").split(',').collect::<Vec<_>>();
        let main_names = split(lines.next());
        let sub_names = split(lines.next());
        TagIndex {
            starts,
            main_names,
            sub_names,
        }
    }

    pub fn len(&self) -> usize {
        self.starts.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn name(&self, id: usize) -> &'static str {
        &NAMES[self.starts[id] as usize..self.starts[id + 1] as usize - 1]
    }

    fn post_count(&self, id: usize) -> u64 {
        u32::from_le_bytes(COUNTS[id * 4..id * 4 + 4].try_into().unwrap()) as u64
    }

    fn main_category(&self, id: usize) -> &'static str {
        self.main_names
            .get(CATS[id * 2] as usize)
            .copied()
            .unwrap_or("")
    }

    /// The tag with id `id` (ids are popularity ranks, 0 = most used).
    pub fn tag(&self, id: usize) -> Tag {
        Tag {
            name: self.name(id).to_string(),
            category: self.main_category(id).to_string(),
            sub_category: self
                .sub_names
                .get(CATS[id * 2 + 1] as usize)
                .copied()
                .unwrap_or("")
                .to_string(),
            post_count: self.post_count(id),
        }
    }

    fn sorted_id(&self, pos: usize) -> usize {
        u32::from_le_bytes(SORTED[pos * 4..pos * 4 + 4].try_into().unwrap()) as usize
    }

    /// Position in name order of the first name not less than `key`.
    fn lower_bound(&self, key: &str) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.name(self.sorted_id(mid)) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn find(&self, normalized: &str) -> Option<usize> {
        let pos = self.lower_bound(normalized);
        (pos < self.len() && self.name(self.sorted_id(pos)) == normalized)
            .then(|| self.sorted_id(pos))
    }

    /// Exact lookup of one name: case-insensitive, spaces as underscores, aliases resolved.
    pub fn get(&self, name: &str) -> Option<Tag> {
        let n = normalize(name);
        self.find(&n)
            .or_else(|| self.find(&resolve_alias(&n)))
            .map(|id| self.tag(id))
    }

    pub fn exists(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Collects tags in popularity order from candidate ids (already ascending), filtered.
    fn collect(&self, ids: impl Iterator<Item = usize>, filter: &TagFilter) -> Vec<Tag> {
        ids.take_while(|&id| self.post_count(id) >= filter.min_posts)
            .filter(|&id| {
                filter
                    .category
                    .as_deref()
                    .is_none_or(|c| c == self.main_category(id))
            })
            .map(|id| self.tag(id))
            .filter(|t| filter.admits(t))
            .take(filter.limit)
            .collect()
    }

    /// Autocomplete: names starting with `prefix`, most popular first.
    pub fn prefix(&self, prefix: &str, filter: &TagFilter) -> Vec<Tag> {
        let p = normalize(prefix);
        if p.is_empty() {
            return Vec::new();
        }
        let start = self.lower_bound(&p);
        let mut ids: Vec<usize> = (start..self.len())
            .map(|pos| self.sorted_id(pos))
            .take_while(|&id| self.name(id).starts_with(&p))
            .collect();
        ids.sort_unstable();
        self.collect(ids.into_iter(), filter)
    }

    /// Names containing any of the first 5 keywords (the original's `ILIKE '%kw%'`).
    pub fn keywords(&self, keywords: &[String], filter: &TagFilter) -> Vec<Tag> {
        let kws = super::search_keywords(keywords);
        if kws.is_empty() {
            return Vec::new();
        }
        // Common keywords fill the page among the most popular names, so look there first;
        // otherwise one pass of each keyword over the whole name table (its cost is the
        // table's size plus the matches, however rare the keyword).
        let head = self.len().min(POPULAR_HEAD);
        let early = self.collect(
            (0..head).filter(|&id| kws.iter().any(|k| self.name(id).contains(k.as_str()))),
            filter,
        );
        if early.len() >= filter.limit || self.post_count(head.saturating_sub(1)) < filter.min_posts
        {
            return early;
        }
        let mut ids: Vec<usize> = kws
            .iter()
            .flat_map(|k| {
                NAMES
                    .match_indices(k.as_str())
                    .map(|(pos, _)| self.starts.partition_point(|&s| s as usize <= pos) - 1)
            })
            .collect();
        ids.sort_unstable();
        ids.dedup();
        self.collect(ids.into_iter(), filter)
    }

    /// The most popular tags, optionally of one `main_category`.
    pub fn popular(&self, filter: &TagFilter) -> Vec<Tag> {
        self.collect(0..self.len(), filter)
    }

    /// For an unknown name, the closest existing tags within edit distance 2 (adjacent
    /// transpositions count as one edit), ranked by distance then popularity.
    pub fn suggest(&self, name: &str, limit: usize) -> Vec<Tag> {
        let q = normalize(name);
        let q = q.as_bytes();
        if q.is_empty() || q.len() > 120 {
            return Vec::new();
        }
        let mut hits: Vec<(usize, usize)> = (0..self.len())
            .filter_map(|id| {
                let n = self.name(id).as_bytes();
                if n.len().abs_diff(q.len()) > 2 || n == q {
                    return None;
                }
                bounded_osa(q, n, 2).map(|d| (d, id))
            })
            .collect();
        hits.sort_unstable();
        hits.into_iter()
            .take(limit)
            .map(|(_, id)| self.tag(id))
            .collect()
    }

    /// How many tags have each `main_category` (the empty one as ""), largest first.
    pub fn category_counts(&self) -> Vec<(&'static str, usize)> {
        let mut counts = vec![0usize; self.main_names.len()];
        for id in 0..self.len() {
            counts[CATS[id * 2] as usize] += 1;
        }
        let mut out: Vec<_> = self.main_names.iter().copied().zip(counts).collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }

    pub fn is_category(&self, name: &str) -> bool {
        !name.is_empty() && self.main_names.contains(&name)
    }
}

/// Optimal-string-alignment distance between `a` and `b` if it is at most `max`, computed
/// only in the band |i - j| <= max so a far-off name costs a few comparisons.
pub fn bounded_osa(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let (n, m) = (a.len(), b.len());
    let big = max + 1;
    let mut prev2 = vec![big; m + 1];
    let mut prev: Vec<usize> = (0..=m).map(|j| j.min(big)).collect();
    let mut cur = vec![big; m + 1];
    for i in 1..=n {
        cur.iter_mut().for_each(|c| *c = big);
        cur[0] = i.min(big);
        let lo = i.saturating_sub(max).max(1);
        let hi = (i + max).min(m);
        let mut row_min = cur[0];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (prev[j - 1] + cost).min(prev[j] + 1).min(cur[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(prev2[j - 2] + 1);
            }
            cur[j] = d.min(big);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[m] <= max).then_some(prev[m])
}

/// The embedded index as a `TagStore`; it never fails.
#[derive(Debug, Clone, Copy, Default)]
pub struct EmbeddedStore;

impl TagStore for EmbeddedStore {
    async fn lookup(&self, names: &[String]) -> Result<Answer<Vec<Option<Tag>>>, TagError> {
        Ok(Answer::embedded(
            names.iter().map(|n| index().get(n)).collect(),
        ))
    }
    async fn prefix(&self, prefix: &str, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        Ok(Answer::embedded(index().prefix(prefix, filter)))
    }
    async fn keywords(
        &self,
        keywords: &[String],
        filter: &TagFilter,
    ) -> Result<Answer<Vec<Tag>>, TagError> {
        Ok(Answer::embedded(index().keywords(keywords, filter)))
    }
    async fn popular(&self, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        Ok(Answer::embedded(index().popular(filter)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::Rating;

    fn names(tags: &[Tag]) -> Vec<&str> {
        tags.iter().map(|t| t.name.as_str()).collect()
    }

    fn any() -> TagFilter {
        TagFilter {
            max_rating: Rating::R18,
            limit: 50,
            ..TagFilter::default()
        }
    }

    #[test]
    fn holds_every_row_in_popularity_order() {
        let ix = index();
        assert_eq!(ix.len(), 140_790);
        assert_eq!(ix.name(0), "1girl");
        assert_eq!(ix.post_count(0), 96_138_304);
        assert!((1..ix.len()).all(|i| ix.post_count(i - 1) >= ix.post_count(i)));
        assert!((1..ix.len()).all(|p| ix.name(ix.sorted_id(p - 1)) < ix.name(ix.sorted_id(p))));
    }

    #[test]
    fn exact_lookup_is_case_and_space_insensitive_with_aliases() {
        let ix = index();
        let t = ix.get("Long Hair").expect("long hair");
        assert_eq!(t.name, "long_hair");
        assert_eq!(t.category, "CHARACTER_RELATED");
        assert_eq!(t.sub_category, "HAIR");
        assert_eq!(ix.get("longhair").unwrap().name, "long_hair");
        assert_eq!(ix.get("sakura").unwrap().name, "cherry_blossoms");
        for reserved in [
            "yorigami_shion_(cosplay)",
            ":d",
            "^_^",
            "don't_say_\"lazy\"",
        ] {
            assert_eq!(ix.get(reserved).map(|t| t.name), Some(reserved.to_string()));
        }
        assert!(ix.get("long_hiar").is_none());
        assert!(ix.get("").is_none());
    }

    #[test]
    fn prefix_is_ordered_by_popularity() {
        let r = index().prefix("long", &any());
        assert_eq!(r[0].name, "long_hair");
        assert!(r.iter().all(|t| t.name.starts_with("long")));
        assert!(r.windows(2).all(|w| w[0].post_count >= w[1].post_count));
        assert!(index().prefix("zzzzqqq", &any()).is_empty());
        assert!(index().prefix("  ", &any()).is_empty());
    }

    #[test]
    fn keyword_search_matches_substrings_with_a_floor() {
        let f = TagFilter {
            min_posts: 1000,
            limit: 30,
            ..any()
        };
        let r = index().keywords(&["cherry".into(), "sakura".into()], &f);
        assert!(names(&r).contains(&"cherry_blossoms"));
        assert!(r
            .iter()
            .all(|t| t.post_count >= 1000
                && (t.name.contains("cherry") || t.name.contains("sakura"))));
        assert!(r.windows(2).all(|w| w[0].post_count >= w[1].post_count));
        // Only the first five keywords count.
        let six: Vec<String> = ["zzz1", "zzz2", "zzz3", "zzz4", "zzz5", "kimono"]
            .map(String::from)
            .to_vec();
        assert!(index().keywords(&six, &f).is_empty());
    }

    #[test]
    fn filters_category_and_rating() {
        let f = TagFilter {
            category: Some("ENVIRONMENT".into()),
            limit: 10,
            ..TagFilter::default()
        };
        let r = index().popular(&f);
        assert_eq!(r.len(), 10);
        assert!(r.iter().all(|t| t.category == "ENVIRONMENT"));
        let all_ages = TagFilter {
            limit: 200,
            ..TagFilter::default()
        };
        assert!(index()
            .popular(&all_ages)
            .iter()
            .all(|t| t.rating() == Rating::AllAges));
    }

    #[test]
    fn typo_suggestions() {
        let s = index().suggest("long_hiar", 3);
        assert_eq!(s[0].name, "long_hair");
        let s = index().suggest("cherry_blossom", 3);
        assert_eq!(s[0].name, "cherry_blossoms");
        let s = index().suggest("Blue Eyse", 3);
        assert_eq!(s[0].name, "blue_eyes");
        assert!(index().suggest("qqqqqqqqqqqqqqqqqq", 3).is_empty());
    }

    #[test]
    fn osa_distance() {
        assert_eq!(bounded_osa(b"long_hiar", b"long_hair", 2), Some(1));
        assert_eq!(bounded_osa(b"kitten", b"sitting", 2), None);
        assert_eq!(bounded_osa(b"abc", b"abc", 2), Some(0));
        assert_eq!(bounded_osa(b"", b"ab", 2), Some(2));
        assert_eq!(bounded_osa(b"abcd", b"abdc", 1), Some(1));
        assert_eq!(bounded_osa(b"abcdef", b"azcdez", 2), Some(2));
    }

    #[test]
    fn category_counts_cover_every_tag() {
        let c = index().category_counts();
        assert_eq!(c.iter().map(|x| x.1).sum::<usize>(), 140_790);
        assert_eq!(c[0], ("ARTIST", 59_196));
        assert!(index().is_category("ENVIRONMENT"));
        assert!(!index().is_category("NOPE"));
    }
}

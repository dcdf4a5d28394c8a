//! Tag knowledge: the `TagStore` port, its two implementations (the embedded index and the
//! Supabase PostgREST adapter, with fallback from one to the other), content ratings, and
//! Inspire's categories, conflicts and aliases.

pub mod category;
pub mod fallback;
pub mod index;
pub mod postgrest;
pub mod rating;

pub use category::InspireCategory;
pub use rating::Rating;

use serde::Serialize;

/// One Danbooru tag as the agent and the API see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    pub name: String,
    /// The table's `main_category` (empty when the table has none). A hint, not authoritative.
    pub category: String,
    pub sub_category: String,
    pub post_count: u64,
}

impl Tag {
    pub fn rating(&self) -> Rating {
        rating::classify(&self.name, &self.category)
    }
    pub fn inspire_category(&self) -> InspireCategory {
        category::categorize(&self.name, &self.category, &self.sub_category)
    }
    /// The JSON the tag API returns for a tag.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "category": empty_as_null(&self.category),
            "sub_category": empty_as_null(&self.sub_category),
            "inspire_category": self.inspire_category(),
            "post_count": self.post_count,
            "rating": self.rating(),
        })
    }
}

fn empty_as_null(s: &str) -> serde_json::Value {
    if s.is_empty() {
        serde_json::Value::Null
    } else {
        serde_json::Value::String(s.to_string())
    }
}

/// Filters shared by the searches. Results are always ordered by `post_count` descending.
#[derive(Debug, Clone, PartialEq)]
pub struct TagFilter {
    pub min_posts: u64,
    /// The table's `main_category`, exactly.
    pub category: Option<String>,
    /// The highest rating allowed; tags rated above it (and blocked ones) are left out.
    pub max_rating: Rating,
    pub limit: usize,
}

impl Default for TagFilter {
    fn default() -> Self {
        TagFilter {
            min_posts: 0,
            category: None,
            max_rating: Rating::AllAges,
            limit: 20,
        }
    }
}

impl TagFilter {
    pub fn admits(&self, tag: &Tag) -> bool {
        tag.post_count >= self.min_posts
            && self.category.as_deref().is_none_or(|c| c == tag.category)
            && tag.rating().allowed_for(self.max_rating)
    }
}

/// Where a result came from; `EmbeddedFallback` means Supabase failed and the embedded index
/// answered instead (the user's turn never fails for it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Embedded,
    Supabase,
    EmbeddedFallback,
}

/// A store failure (only the Supabase adapter has any).
#[derive(Debug, Clone, PartialEq)]
pub struct TagError(pub String);

impl std::fmt::Display for TagError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A store's answer and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Answer<T> {
    pub fn embedded(value: T) -> Self {
        Answer {
            value,
            source: Source::Embedded,
        }
    }
}

/// The port the tools and the tag API use. Names are normalised (case, spaces) and aliases
/// resolved by the implementations; every search is ordered by `post_count` descending.
#[allow(async_fn_in_trait)]
pub trait TagStore {
    /// Exact lookup: one entry per input name, `None` where no such tag exists.
    async fn lookup(&self, names: &[String]) -> Result<Answer<Vec<Option<Tag>>>, TagError>;
    /// Tags whose name starts with `prefix`.
    async fn prefix(&self, prefix: &str, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError>;
    /// Tags containing any of up to 5 keywords (more are ignored).
    async fn keywords(
        &self,
        keywords: &[String],
        filter: &TagFilter,
    ) -> Result<Answer<Vec<Tag>>, TagError>;
    /// The most popular tags, optionally of one `main_category` (in `filter`).
    async fn popular(&self, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError>;
}

/// At most this many keywords are searched at once (as the original did).
pub const MAX_KEYWORDS: usize = 5;

/// The keywords a search uses: normalised, non-empty, at most `MAX_KEYWORDS`.
pub fn search_keywords(keywords: &[String]) -> Vec<String> {
    keywords
        .iter()
        .map(|k| category::normalize(k))
        .filter(|k| !k.is_empty())
        .take(MAX_KEYWORDS)
        .collect()
}

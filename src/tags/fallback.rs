//! Supabase first, the embedded index when Supabase fails: the user's turn never fails
//! because the database did. Each answer says which store gave it.

use super::index::EmbeddedStore;
use super::{Answer, Source, Tag, TagError, TagFilter, TagStore};

/// Uses `primary` when there is one; on any error answers from the embedded index with
/// `Source::EmbeddedFallback` and reports the reason through `on_fallback` (the log).
pub struct FallbackStore<P, L> {
    pub primary: Option<P>,
    pub on_fallback: L,
}

impl<P: TagStore, L: Fn(&str)> FallbackStore<P, L> {
    fn fall_back<T>(&self, op: &str, e: TagError, value: T) -> Answer<T> {
        (self.on_fallback)(&format!("tag store fallback in {op}: {e}"));
        Answer {
            value,
            source: Source::EmbeddedFallback,
        }
    }
}

macro_rules! with_fallback {
    ($self:ident, $op:literal, $call:ident ( $($arg:expr),* )) => {{
        let Some(p) = &$self.primary else {
            return EmbeddedStore.$call($($arg),*).await;
        };
        match p.$call($($arg),*).await {
            Ok(a) => Ok(a),
            Err(e) => {
                let local = EmbeddedStore.$call($($arg),*).await?;
                Ok($self.fall_back($op, e, local.value))
            }
        }
    }};
}

impl<P: TagStore, L: Fn(&str)> TagStore for FallbackStore<P, L> {
    async fn lookup(&self, names: &[String]) -> Result<Answer<Vec<Option<Tag>>>, TagError> {
        with_fallback!(self, "lookup", lookup(names))
    }
    async fn prefix(&self, prefix: &str, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        with_fallback!(self, "prefix", prefix(prefix, filter))
    }
    async fn keywords(
        &self,
        keywords: &[String],
        filter: &TagFilter,
    ) -> Result<Answer<Vec<Tag>>, TagError> {
        with_fallback!(self, "keywords", keywords(keywords, filter))
    }
    async fn popular(&self, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        with_fallback!(self, "popular", popular(filter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    struct Broken;
    impl TagStore for Broken {
        async fn lookup(&self, _: &[String]) -> Result<Answer<Vec<Option<Tag>>>, TagError> {
            Err(TagError("down".into()))
        }
        async fn prefix(&self, _: &str, _: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
            Err(TagError("down".into()))
        }
        async fn keywords(
            &self,
            _: &[String],
            _: &TagFilter,
        ) -> Result<Answer<Vec<Tag>>, TagError> {
            Err(TagError("down".into()))
        }
        async fn popular(&self, _: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
            Err(TagError("down".into()))
        }
    }

    #[test]
    fn a_failing_primary_falls_back_and_logs() {
        let log = RefCell::new(Vec::<String>::new());
        let s = FallbackStore {
            primary: Some(Broken),
            on_fallback: |m: &str| log.borrow_mut().push(m.into()),
        };
        let a = futures_util::FutureExt::now_or_never(s.lookup(&["long hair".into()]))
            .unwrap()
            .unwrap();
        assert_eq!(a.source, Source::EmbeddedFallback);
        assert_eq!(a.value[0].as_ref().unwrap().name, "long_hair");
        assert_eq!(log.borrow().len(), 1);
        assert!(log.borrow()[0].contains("down"));
    }

    #[test]
    fn without_primary_the_index_answers() {
        let s: FallbackStore<Broken, _> = FallbackStore {
            primary: None,
            on_fallback: |_: &str| {},
        };
        let a = futures_util::FutureExt::now_or_never(s.popular(&TagFilter::default()))
            .unwrap()
            .unwrap();
        assert_eq!(a.source, Source::Embedded);
        assert_eq!(a.value.len(), 20);
    }
}

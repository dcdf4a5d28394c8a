//! The `TagStore` over Supabase's REST API (PostgREST): `GET {url}/rest/v1/tags_final` with
//! filters, quoted and escaped exactly as PostgREST parses them.

use super::category::{normalize, resolve_alias};
use super::{Answer, Source, Tag, TagError, TagFilter, TagStore};
use crate::http::{percent_encode, HttpRequest, HttpSend};
use serde::Deserialize;

const COLUMNS: &str = "name,main_category,sub_category,post_count";
/// Rows are filtered by rating after they arrive, so a search may need more than one page.
const MAX_PAGES: usize = 4;

pub struct PostgrestStore<H> {
    pub http: H,
    pub base_url: String,
    pub key: String,
    pub timeout_ms: u64,
}

#[derive(Deserialize)]
struct Row {
    name: String,
    main_category: Option<String>,
    sub_category: Option<String>,
    post_count: u64,
}

impl From<Row> for Tag {
    fn from(r: Row) -> Tag {
        Tag {
            name: r.name,
            category: r.main_category.unwrap_or_default(),
            sub_category: r.sub_category.unwrap_or_default(),
            post_count: r.post_count,
        }
    }
}

/// Quotes a value for a PostgREST list (`in.(…)`, `or=(…)`): values with reserved
/// characters are double-quoted, with `"` and `\` backslash-escaped inside.
pub fn quote_list_value(v: &str) -> String {
    let reserved =
        |c: char| matches!(c, ',' | '.' | ':' | '(' | ')' | '"' | '\\') || c.is_whitespace();
    if v.is_empty() || v.chars().any(reserved) {
        format!("\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\""))
    } else {
        v.to_string()
    }
}

/// Escapes SQL LIKE metacharacters (`%`, `_`, `\`) so a keyword matches literally; PostgREST's
/// `*` is then added as the wildcard.
pub fn like_literal(v: &str) -> String {
    let mut out = String::with_capacity(v.len() + 4);
    for c in v.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        if c == '*' {
            // `*` is PostgREST's wildcard; a literal one cannot be expressed, so match any.
            out.push('%');
            continue;
        }
        out.push(c);
    }
    out
}

impl<H: HttpSend> PostgrestStore<H> {
    fn url(&self, params: &[(&str, String)]) -> String {
        let q: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
            .collect();
        format!("{}/rest/v1/tags_final?{}", self.base_url, q.join("&"))
    }

    async fn rows(&self, params: &[(&str, String)]) -> Result<Vec<Tag>, TagError> {
        let req = HttpRequest::get(self.url(params), self.timeout_ms)
            .header("apikey", &self.key)
            .header("authorization", &format!("Bearer {}", self.key))
            .header("accept", "application/json");
        let resp = self
            .http
            .send(req)
            .await
            .map_err(|e| TagError(format!("supabase: {e}")))?;
        if resp.status != 200 {
            let snippet: String = resp.body.chars().take(300).collect();
            return Err(TagError(format!(
                "supabase answered {}: {snippet}",
                resp.status
            )));
        }
        let rows: Vec<Row> = serde_json::from_str(&resp.body)
            .map_err(|e| TagError(format!("supabase sent malformed JSON: {e}")))?;
        Ok(rows.into_iter().map(Tag::from).collect())
    }

    /// Runs an ordered search with `filter`, paging until `filter.limit` rows pass the
    /// rating check or the table runs out.
    async fn search(
        &self,
        mut params: Vec<(&str, String)>,
        filter: &TagFilter,
    ) -> Result<Vec<Tag>, TagError> {
        params.push(("select", COLUMNS.into()));
        if filter.min_posts > 0 {
            params.push(("post_count", format!("gte.{}", filter.min_posts)));
        }
        if let Some(c) = &filter.category {
            params.push(("main_category", format!("eq.{c}")));
        }
        params.push(("order", "post_count.desc,name.asc".into()));
        let page = (filter.limit * 2).max(20);
        params.push(("limit", page.to_string()));
        let mut out = Vec::new();
        for n in 0..MAX_PAGES {
            let mut p = params.clone();
            p.push(("offset", (n * page).to_string()));
            let rows = self.rows(&p).await?;
            let exhausted = rows.len() < page;
            out.extend(rows.into_iter().filter(|t| filter.admits(t)));
            if out.len() >= filter.limit || exhausted {
                break;
            }
        }
        out.truncate(filter.limit);
        Ok(out)
    }
}

impl<H: HttpSend> TagStore for PostgrestStore<H> {
    async fn lookup(&self, names: &[String]) -> Result<Answer<Vec<Option<Tag>>>, TagError> {
        let wanted: Vec<(String, String)> = names
            .iter()
            .map(|n| (normalize(n), resolve_alias(n)))
            .collect();
        let mut all: Vec<&str> = wanted
            .iter()
            .flat_map(|(a, b)| [a.as_str(), b.as_str()])
            .filter(|s| !s.is_empty())
            .collect();
        all.sort_unstable();
        all.dedup();
        let found = if all.is_empty() {
            Vec::new()
        } else {
            let list: Vec<String> = all.iter().map(|n| quote_list_value(n)).collect();
            self.rows(&[
                ("select", COLUMNS.into()),
                ("name", format!("in.({})", list.join(","))),
            ])
            .await?
        };
        let get = |n: &str| found.iter().find(|t| t.name == n).cloned();
        let value = wanted
            .iter()
            .map(|(n, alias)| get(n).or_else(|| get(alias)))
            .collect();
        Ok(Answer {
            value,
            source: Source::Supabase,
        })
    }

    async fn prefix(&self, prefix: &str, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        let p = normalize(prefix);
        if p.is_empty() {
            return Ok(Answer {
                value: Vec::new(),
                source: Source::Supabase,
            });
        }
        let value = self
            .search(
                vec![("name", format!("ilike.{}*", like_literal(&p)))],
                filter,
            )
            .await?;
        Ok(Answer {
            value,
            source: Source::Supabase,
        })
    }

    async fn keywords(
        &self,
        keywords: &[String],
        filter: &TagFilter,
    ) -> Result<Answer<Vec<Tag>>, TagError> {
        let kws = super::search_keywords(keywords);
        if kws.is_empty() {
            return Ok(Answer {
                value: Vec::new(),
                source: Source::Supabase,
            });
        }
        let conds: Vec<String> = kws
            .iter()
            .map(|k| {
                format!(
                    "name.ilike.{}",
                    quote_list_value(&format!("*{}*", like_literal(k)))
                )
            })
            .collect();
        let value = self
            .search(vec![("or", format!("({})", conds.join(",")))], filter)
            .await?;
        Ok(Answer {
            value,
            source: Source::Supabase,
        })
    }

    async fn popular(&self, filter: &TagFilter) -> Result<Answer<Vec<Tag>>, TagError> {
        let value = self.search(Vec::new(), filter).await?;
        Ok(Answer {
            value,
            source: Source::Supabase,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{HttpError, HttpResponse};
    use std::cell::RefCell;

    /// Records requests and answers each with the next canned response.
    struct Canned {
        sent: RefCell<Vec<HttpRequest>>,
        replies: RefCell<Vec<Result<HttpResponse, HttpError>>>,
    }

    impl HttpSend for Canned {
        async fn send(&self, req: HttpRequest) -> Result<HttpResponse, HttpError> {
            self.sent.borrow_mut().push(req);
            self.replies.borrow_mut().remove(0)
        }
    }

    fn store(replies: Vec<Result<HttpResponse, HttpError>>) -> PostgrestStore<Canned> {
        PostgrestStore {
            http: Canned {
                sent: RefCell::new(vec![]),
                replies: RefCell::new(replies),
            },
            base_url: "http://pg".into(),
            key: "k".into(),
            timeout_ms: 1000,
        }
    }

    fn ok(body: &str) -> Result<HttpResponse, HttpError> {
        Ok(HttpResponse {
            status: 200,
            headers: vec![],
            body: body.into(),
        })
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        futures_util::FutureExt::now_or_never(f).expect("fake futures are ready at once")
    }

    fn decoded_query(req: &HttpRequest) -> String {
        crate::api::route::percent_decode(req.url.split_once('?').unwrap().1, false)
    }

    #[test]
    fn quoting_follows_postgrest() {
        assert_eq!(quote_list_value("long_hair"), "long_hair");
        assert_eq!(
            quote_list_value("yorigami_shion_(cosplay)"),
            "\"yorigami_shion_(cosplay)\""
        );
        assert_eq!(quote_list_value(":d"), "\":d\"");
        assert_eq!(quote_list_value("^_^"), "^_^");
        assert_eq!(quote_list_value("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(quote_list_value("st._louis"), "\"st._louis\"");
        assert_eq!(like_literal("long_hair"), "long\\_hair");
        assert_eq!(like_literal("100%"), "100\\%");
    }

    #[test]
    fn lookup_sends_quoted_in_list_with_keys_and_maps_rows() {
        let s = store(vec![ok(
            r#"[{"name":":d","main_category":null,"sub_category":null,"post_count":5}]"#,
        )]);
        let names = vec![":D".to_string(), "nope".to_string()];
        let a = block_on(s.lookup(&names)).unwrap();
        assert_eq!(a.source, Source::Supabase);
        assert_eq!(a.value[0].as_ref().unwrap().name, ":d");
        assert!(a.value[1].is_none());
        let sent = s.http.sent.borrow();
        let q = decoded_query(&sent[0]);
        assert!(q.contains("name=in.(\":d\",nope)"), "{q}");
        assert!(sent[0].headers.contains(&("apikey".into(), "k".into())));
        assert!(sent[0]
            .headers
            .contains(&("authorization".into(), "Bearer k".into())));
    }

    #[test]
    fn keywords_use_or_with_like_and_floor() {
        let s = store(vec![ok("[]")]);
        let f = TagFilter {
            min_posts: 1000,
            ..TagFilter::default()
        };
        block_on(s.keywords(&["cherry blossom".into(), "a,b".into()], &f)).unwrap();
        let q = decoded_query(&s.http.sent.borrow()[0]);
        assert!(
            q.contains(r#"or=(name.ilike."*cherry\\_blossom*",name.ilike."*a,b*")"#),
            "{q}"
        );
        assert!(q.contains("post_count=gte.1000"), "{q}");
        assert!(q.contains("order=post_count.desc,name.asc"), "{q}");
    }

    #[test]
    fn errors_are_reported_not_hidden() {
        let s = store(vec![Ok(HttpResponse {
            status: 500,
            headers: vec![],
            body: "boom".into(),
        })]);
        assert!(block_on(s.popular(&TagFilter::default()))
            .unwrap_err()
            .0
            .contains("500"));
        let s = store(vec![Err(HttpError::Timeout)]);
        assert!(block_on(s.popular(&TagFilter::default()))
            .unwrap_err()
            .0
            .contains("timed out"));
        let s = store(vec![ok("{not json")]);
        assert!(block_on(s.popular(&TagFilter::default()))
            .unwrap_err()
            .0
            .contains("malformed"));
    }
}

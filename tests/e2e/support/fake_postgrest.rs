//! A fake of Supabase's PostgREST serving `tags_final` from `data/tags_final.csv.gz`.
//!
//! It parses query strings the way PostgREST does (the query is `+`-to-space and
//! percent-decoded first, as Haskell's `parseQueryReplacePlus True`; lists in `in.(…)` and
//! `or=(…)` split on `,` and end at `)`, with double-quoted values whose `\` escapes the next
//! character), and evaluates filters with SQL semantics (LIKE `%`/`_` wildcards and `\`
//! escape, `*` turned into `%` first; NULL three-valued logic). Malformed filters answer 400
//! with PostgREST's `PGRST100` body; unknown columns `42703`.
//!
//! Things PostgREST accepts silently but that are almost surely client bugs (text after the
//! closing `)` of a list, which PostgREST ignores; parameters that are not filters, which it
//! ignores on tables) are answered as PostgREST would and recorded in `violations()`, with
//! every 4xx the fake answers itself.

use super::fake::{FakeServer, Recorded, Reply};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A fault injected into subsequent requests (until changed).
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    None,
    /// Answers this status with a PostgREST/Supabase-style error body.
    Status(u16),
    /// Waits this long, then answers 504 as Supabase's gateway does on an upstream timeout.
    Hang(Duration),
    /// Waits this long, then answers normally.
    Delay(Duration),
}

pub struct FakePostgrest {
    pub server: FakeServer,
    state: Arc<Mutex<PgState>>,
}

struct PgState {
    fault: Fault,
    violations: Vec<String>,
}

impl FakePostgrest {
    /// The only key accepted, both as `apikey` and as `Authorization: Bearer`.
    pub const KEY: &'static str = "test-service-key";

    pub async fn start() -> FakePostgrest {
        let state = Arc::new(Mutex::new(PgState {
            fault: Fault::None,
            violations: vec![],
        }));
        let shared = state.clone();
        let server = FakeServer::start(move |rec: Recorded| {
            let state = shared.clone();
            async move { handle(&state, &rec) }
        })
        .await;
        FakePostgrest { server, state }
    }

    /// What `SUPABASE_URL` is set to (no trailing slash).
    pub fn url(&self) -> String {
        self.server.url.clone()
    }

    pub fn set_fault(&self, f: Fault) {
        self.state.lock().unwrap().fault = f;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.server.requests()
    }

    /// Every 4xx the fake answered itself and every suspicious request it accepted.
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }
}

// ---------------------------------------------------------------------------------------------
// The table

pub struct TagRow {
    pub name: String,
    pub main_category: Option<String>,
    pub sub_category: Option<String>,
    pub post_count: i64,
    chars: Vec<char>,
    lower: Vec<char>,
}

pub struct Table {
    /// Sorted by post_count descending (stable: file order for ties).
    pub rows: Vec<TagRow>,
    by_name: HashMap<String, Vec<usize>>,
}

/// The table, loaded once per test process.
pub fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The same table the Worker embeds: the repository's compressed copy.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("data/tags_final.csv.gz");
        let file =
            std::fs::File::open(&path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()));
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text)
            .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let records = parse_csv(&text);
        let header = &records[0];
        let col = |n: &str| {
            header
                .iter()
                .position(|h| h == n)
                .unwrap_or_else(|| panic!("no column {n}"))
        };
        let (ni, mi, si, pi) = (
            col("name"),
            col("main_category"),
            col("sub_category"),
            col("post_count"),
        );
        let opt = |s: &str| {
            if s.is_empty() {
                None
            } else {
                Some(s.to_string())
            }
        };
        let mut rows: Vec<TagRow> = records[1..]
            .iter()
            .filter(|r| r.len() > pi)
            .map(|r| TagRow {
                name: r[ni].clone(),
                main_category: opt(&r[mi]),
                sub_category: opt(&r[si]),
                post_count: r[pi].trim().parse().unwrap_or(0),
                chars: r[ni].chars().collect(),
                lower: r[ni].to_lowercase().chars().collect(),
            })
            .collect();
        rows.sort_by(|a, b| b.post_count.cmp(&a.post_count));
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, r) in rows.iter().enumerate() {
            by_name.entry(r.name.clone()).or_default().push(i);
        }
        Table { rows, by_name }
    })
}

/// RFC 4180 CSV: quoted fields with `""` escapes, CRLF or LF line ends.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Serving

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Col {
    Name,
    Main,
    Sub,
    Count,
}

const COLUMNS: [(&str, Col); 4] = [
    ("name", Col::Name),
    ("main_category", Col::Main),
    ("sub_category", Col::Sub),
    ("post_count", Col::Count),
];

fn col_of(name: &str) -> Option<Col> {
    COLUMNS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

/// An error answer: status and body.
struct PgErr {
    status: u16,
    body: String,
}

fn pg_error(
    status: u16,
    code: &str,
    message: &str,
    details: Option<&str>,
    hint: Option<&str>,
) -> PgErr {
    let body =
        serde_json::json!({"code": code, "details": details, "hint": hint, "message": message});
    PgErr {
        status,
        body: body.to_string(),
    }
}

fn no_column(name: &str) -> PgErr {
    pg_error(
        400,
        "42703",
        &format!("column tags_final.{name} does not exist"),
        None,
        None,
    )
}

fn json_reply(status: u16, body: String) -> Reply {
    Reply {
        status,
        headers: vec![(
            "content-type".into(),
            "application/json; charset=utf-8".into(),
        )],
        body: body.into_bytes(),
        delay: Duration::ZERO,
    }
}

fn handle(state: &Mutex<PgState>, rec: &Recorded) -> Reply {
    let fault = state.lock().unwrap().fault.clone();
    match fault {
        Fault::None | Fault::Delay(_) => {}
        Fault::Status(code) => {
            let e = if code >= 500 {
                pg_error(
                    code,
                    "PGRST000",
                    "Database connection error. Retrying the connection.",
                    Some("injected fault"),
                    None,
                )
            } else {
                pg_error(code, "PGRST000", "injected fault", None, None)
            };
            return json_reply(e.status, e.body);
        }
        Fault::Hang(d) => {
            return json_reply(
                504,
                r#"{"message":"An invalid response was received from the upstream server"}"#.into(),
            )
            .after(d)
        }
    }
    let mut notes = Vec::new();
    let reply = match serve(rec, &mut notes) {
        Ok(r) => r,
        Err(e) => {
            notes.push(format!("answered {}: {}", e.status, e.body));
            json_reply(e.status, e.body)
        }
    };
    if !notes.is_empty() {
        let mut st = state.lock().unwrap();
        for n in notes {
            st.violations
                .push(format!("{} {}?{}: {n}", rec.method, rec.path, rec.query));
        }
    }
    match fault {
        Fault::Delay(d) => reply.after(d),
        _ => reply,
    }
}

fn serve(rec: &Recorded, notes: &mut Vec<String>) -> Result<Reply, PgErr> {
    let Some(rel) = rec.path.strip_prefix("/rest/v1/") else {
        return Err(PgErr {
            status: 404,
            body: r#"{"message":"no Route matched with those values"}"#.into(),
        });
    };
    // Supabase's gateway checks the apikey; PostgREST checks the JWT.
    match rec.header("apikey") {
        None => {
            return Err(PgErr {
                status: 401,
                body: r#"{"message":"No API key found in request","hint":"No `apikey` request header or url param was found."}"#.into(),
            })
        }
        Some(k) if k != FakePostgrest::KEY => {
            return Err(PgErr {
                status: 401,
                body: r#"{"message":"Invalid API key","hint":"Double check your Supabase `anon` or `service_role` API key."}"#.into(),
            })
        }
        Some(_) => {}
    }
    let bearer = rec
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "));
    if bearer != Some(FakePostgrest::KEY) {
        let msg = if bearer.is_none() {
            "No suitable key or wrong key type"
        } else {
            "JWSError JWSInvalidSignature"
        };
        return Err(pg_error(401, "PGRST301", msg, None, None));
    }
    if rel != "tags_final" {
        return Err(pg_error(
            404,
            "PGRST205",
            &format!("Could not find the table 'public.{rel}' in the schema cache"),
            None,
            Some("Perhaps you meant the table 'public.tags_final'"),
        ));
    }
    if rec.method != "GET" && rec.method != "HEAD" {
        return Err(pg_error(
            405,
            "PGRST117",
            &format!("Unsupported HTTP method: {}", rec.method),
            None,
            None,
        ));
    }

    let q = Query::parse(&rec.query, notes)?;
    let prefer_count = rec
        .header("prefer")
        .is_some_and(|p| p.contains("count=exact"));
    let single = rec
        .header("accept")
        .is_some_and(|a| a.contains("application/vnd.pgrst.object+json"));
    let t = table();

    // Candidates: by the name index when a root filter allows, else every row.
    let indexed: Option<Vec<usize>> = q.conds.iter().find_map(|c| match c {
        Cond::Leaf(Leaf {
            col: Col::Name,
            neg: false,
            test: Test::TextEq(v),
        }) => Some(t.by_name.get(v).cloned().unwrap_or_default()),
        Cond::Leaf(Leaf {
            col: Col::Name,
            neg: false,
            test: Test::TextIn(set),
        }) => {
            let mut ix: Vec<usize> = set
                .iter()
                .filter_map(|v| t.by_name.get(v))
                .flatten()
                .copied()
                .collect();
            ix.sort_unstable();
            ix.dedup();
            Some(ix)
        }
        _ => None,
    });
    let natural_order =
        q.order.is_empty() || (q.order.len() == 1 && q.order[0].0 == Col::Count && q.order[0].1);
    let stop_after = match (natural_order, prefer_count, q.limit) {
        (true, false, Some(l)) => Some(q.offset + l),
        _ => None,
    };
    let mut hits: Vec<usize> = Vec::new();
    let consider = |i: usize, hits: &mut Vec<usize>| {
        if q.conds.iter().all(|c| c.eval(&t.rows[i]) == Some(true)) {
            hits.push(i);
        }
    };
    match &indexed {
        Some(ix) => ix.iter().for_each(|&i| consider(i, &mut hits)),
        None => {
            for i in 0..t.rows.len() {
                consider(i, &mut hits);
                if stop_after.is_some_and(|s| hits.len() >= s) {
                    break;
                }
            }
        }
    }
    if !natural_order {
        hits.sort_by(|&a, &b| {
            let (ra, rb) = (&t.rows[a], &t.rows[b]);
            for &(col, desc, nulls_first) in &q.order {
                let ord = compare(ra, rb, col, desc, nulls_first);
                if ord != std::cmp::Ordering::Equal {
                    return ord;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let total = hits.len();
    let page: Vec<usize> = hits
        .into_iter()
        .skip(q.offset)
        .take(q.limit.unwrap_or(usize::MAX))
        .collect();
    let objects: Vec<String> = page.iter().map(|&i| q.render(&t.rows[i])).collect();
    let range = if page.is_empty() {
        "*".to_string()
    } else {
        format!("{}-{}", q.offset, q.offset + page.len() - 1)
    };
    let range = format!(
        "{range}/{}",
        if prefer_count {
            total.to_string()
        } else {
            "*".into()
        }
    );
    let body = if single {
        if objects.len() != 1 {
            return Ok(json_reply(
                406,
                pg_error(
                    406,
                    "PGRST116",
                    "JSON object requested, multiple (or no) rows returned",
                    Some(&format!("The result contains {} rows", objects.len())),
                    None,
                )
                .body,
            ));
        }
        objects[0].clone()
    } else {
        format!("[{}]", objects.join(","))
    };
    let body = if rec.method == "HEAD" {
        String::new()
    } else {
        body
    };
    Ok(json_reply(200, body).with_header("content-range", &range))
}

fn compare(a: &TagRow, b: &TagRow, col: Col, desc: bool, nulls_first: bool) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    let (x, y): (Option<String>, Option<String>) = match col {
        Col::Count => {
            let o = a.post_count.cmp(&b.post_count);
            return if desc { o.reverse() } else { o };
        }
        Col::Name => (Some(a.name.clone()), Some(b.name.clone())),
        Col::Main => (a.main_category.clone(), b.main_category.clone()),
        Col::Sub => (a.sub_category.clone(), b.sub_category.clone()),
    };
    match (x, y) {
        (None, None) => Equal,
        (None, Some(_)) => {
            if nulls_first {
                Less
            } else {
                Greater
            }
        }
        (Some(_), None) => {
            if nulls_first {
                Greater
            } else {
                Less
            }
        }
        (Some(x), Some(y)) => {
            let o = x.cmp(&y);
            if desc {
                o.reverse()
            } else {
                o
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query model

#[derive(Debug)]
enum Test {
    TextEq(String),
    TextCmp(&'static str, String),
    TextIn(HashSet<String>),
    Like(Vec<Tok>, bool),
    IntCmp(&'static str, i64),
    IntIn(Vec<i64>),
    IsNull,
}

#[derive(Debug)]
struct Leaf {
    col: Col,
    neg: bool,
    test: Test,
}

#[derive(Debug)]
enum Cond {
    Leaf(Leaf),
    Tree {
        neg: bool,
        and: bool,
        items: Vec<Cond>,
    },
}

fn kleene_not(x: Option<bool>) -> Option<bool> {
    x.map(|b| !b)
}

impl Cond {
    /// SQL three-valued result.
    fn eval(&self, r: &TagRow) -> Option<bool> {
        match self {
            Cond::Leaf(l) => {
                let v = l.eval(r);
                if l.neg {
                    kleene_not(v)
                } else {
                    v
                }
            }
            Cond::Tree { neg, and, items } => {
                let mut acc = Some(*and);
                for c in items {
                    let v = c.eval(r);
                    acc = if *and {
                        match (acc, v) {
                            (Some(false), _) | (_, Some(false)) => Some(false),
                            (Some(true), Some(true)) => Some(true),
                            _ => None,
                        }
                    } else {
                        match (acc, v) {
                            (Some(true), _) | (_, Some(true)) => Some(true),
                            (Some(false), Some(false)) => Some(false),
                            _ => None,
                        }
                    };
                }
                if *neg {
                    kleene_not(acc)
                } else {
                    acc
                }
            }
        }
    }
}

fn cmp_holds(op: &str, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "eq" => o == Equal,
        "neq" => o != Equal,
        "gt" => o == Greater,
        "gte" => o != Less,
        "lt" => o == Less,
        "lte" => o != Greater,
        _ => false,
    }
}

impl Leaf {
    fn eval(&self, r: &TagRow) -> Option<bool> {
        let text: Option<&str> = match self.col {
            Col::Name => Some(&r.name),
            Col::Main => r.main_category.as_deref(),
            Col::Sub => r.sub_category.as_deref(),
            Col::Count => None,
        };
        match &self.test {
            Test::IsNull => Some(self.col != Col::Count && text.is_none()),
            Test::IntCmp(op, n) => Some(cmp_holds(op, r.post_count.cmp(n))),
            Test::IntIn(ns) => Some(ns.contains(&r.post_count)),
            Test::TextEq(v) => text.map(|t| t == v),
            Test::TextCmp(op, v) => text.map(|t| cmp_holds(op, t.cmp(v.as_str()))),
            Test::TextIn(set) => text.map(|t| set.contains(t)),
            Test::Like(pat, ci) => {
                let t = text?;
                Some(if self.col == Col::Name {
                    like(pat, if *ci { &r.lower } else { &r.chars })
                } else {
                    let s: Vec<char> = if *ci {
                        t.to_lowercase().chars().collect()
                    } else {
                        t.chars().collect()
                    };
                    like(pat, &s)
                })
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Any,
    One,
    Lit(char),
}

/// Compiles a PostgREST like/ilike value: `*` becomes `%` first, then SQL LIKE rules.
fn like_pattern(value: &str, ci: bool) -> Result<Vec<Tok>, PgErr> {
    let v = value.replace('*', "%");
    let mut toks = Vec::new();
    let mut it = v.chars();
    while let Some(c) = it.next() {
        toks.push(match c {
            '%' => Tok::Any,
            '_' => Tok::One,
            '\\' => match it.next() {
                Some(e) => Tok::Lit(e),
                None => {
                    return Err(pg_error(
                        400,
                        "22025",
                        "LIKE pattern must not end with escape character",
                        None,
                        None,
                    ))
                }
            },
            c => Tok::Lit(c),
        });
    }
    if ci {
        for t in &mut toks {
            if let Tok::Lit(c) = t {
                let lower: Vec<char> = c.to_lowercase().collect();
                if lower.len() == 1 {
                    *c = lower[0];
                }
            }
        }
    }
    Ok(toks)
}

/// Wildcard match with backtracking on the last `%`.
fn like(pat: &[Tok], s: &[char]) -> bool {
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(p) {
            Some(Tok::Any) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Tok::One) => {
                p += 1;
                i += 1;
            }
            Some(Tok::Lit(c)) if *c == s[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|t| *t == Tok::Any)
}

struct SelectItem {
    key: String,
    col: Col,
    as_text: bool,
}

struct Query {
    select: Vec<SelectItem>,
    conds: Vec<Cond>,
    /// (column, descending, nulls first)
    order: Vec<(Col, bool, bool)>,
    limit: Option<usize>,
    offset: usize,
}

/// `parseQueryReplacePlus True`: `+` is a space, then `%XX` decoded (a bad `%` kept as is).
fn url_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len()
                && b[i + 1].is_ascii_hexdigit()
                && b[i + 2].is_ascii_hexdigit() =>
            {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
                continue;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Query {
    fn parse(raw: &str, notes: &mut Vec<String>) -> Result<Query, PgErr> {
        let params: Vec<(String, String, bool)> = raw
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (url_decode(k), url_decode(v), true),
                None => (url_decode(p), String::new(), false),
            })
            .collect();
        let mut q = Query {
            select: vec![],
            conds: vec![],
            order: vec![],
            limit: None,
            offset: 0,
        };
        let select = params
            .iter()
            .find(|(k, _, _)| k == "select")
            .map(|(_, v, _)| v.as_str())
            .unwrap_or("*");
        q.select = parse_select(select)?;
        for (k, v, has_eq) in &params {
            if !has_eq || v.is_empty() {
                if k != "select" {
                    notes.push(format!(
                        "parameter '{k}' has no value: ignored by PostgREST"
                    ));
                }
                continue;
            }
            match k.as_str() {
                "select" => {}
                "order" => q.order = parse_order(v)?,
                "limit" => match v.trim().parse::<usize>() {
                    Ok(n) => q.limit = Some(n),
                    Err(_) => {
                        notes.push(format!("limit '{v}' is not a number: ignored by PostgREST"))
                    }
                },
                "offset" => match v.trim().parse::<usize>() {
                    Ok(n) => q.offset = n,
                    Err(_) => notes.push(format!(
                        "offset '{v}' is not a number: ignored by PostgREST"
                    )),
                },
                "or" | "and" | "not.or" | "not.and" => {
                    let op = k.trim_start_matches("not.");
                    let neg = k.starts_with("not.");
                    let mut p = Cursor::new(
                        &format!("{op}{v}"),
                        format!("failed to parse logic tree ({v})"),
                    );
                    let mut tree = p.logic_tree()?;
                    if let Cond::Tree { neg: n, .. } = &mut tree {
                        *n = neg;
                    }
                    p.trailing(notes);
                    q.conds.push(tree);
                }
                "columns" | "on_conflict" => notes.push(format!("'{k}' is meaningless on GET")),
                key if key.contains('.') => {
                    notes.push(format!("embedded filter '{key}' not supported by the fake"));
                    return Err(pg_error(
                        400,
                        "PGRST108",
                        &format!("'{key}' is not an embedded resource in this request"),
                        None,
                        None,
                    ));
                }
                key => {
                    if !has_operator(v) {
                        notes.push(format!(
                            "'{key}={v}' has no operator: ignored by PostgREST on a table"
                        ));
                        continue;
                    }
                    let mut p = Cursor::new(v, format!("failed to parse filter ({v})"));
                    let leaf = p.op_expr(key, false)?;
                    p.trailing(notes);
                    q.conds.push(Cond::Leaf(leaf));
                }
            }
        }
        Ok(q)
    }

    fn render(&self, r: &TagRow) -> String {
        let mut out = String::from("{");
        for (i, s) in self.select.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(&s.key).unwrap());
            out.push(':');
            let v = match s.col {
                Col::Name => serde_json::to_string(&r.name).unwrap(),
                Col::Main => serde_json::to_string(&r.main_category).unwrap(),
                Col::Sub => serde_json::to_string(&r.sub_category).unwrap(),
                Col::Count if s.as_text => format!("\"{}\"", r.post_count),
                Col::Count => r.post_count.to_string(),
            };
            out.push_str(&v);
        }
        out.push('}');
        out
    }
}

fn is_operator(s: &str) -> bool {
    matches!(
        s,
        "eq" | "gte"
            | "gt"
            | "lte"
            | "lt"
            | "neq"
            | "like"
            | "ilike"
            | "cs"
            | "cd"
            | "ov"
            | "sl"
            | "sr"
            | "nxr"
            | "nxl"
            | "adj"
            | "match"
            | "imatch"
            | "fts"
            | "plfts"
            | "phfts"
            | "wfts"
    )
}

/// PostgREST's pre-check telling filters from (ignored) parameters.
fn has_operator(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    match parts.as_slice() {
        ["not", _, ..] => true,
        ["is", ..] | ["in", ..] => true,
        [x, ..] => {
            is_operator(x)
                || v.split('(')
                    .next()
                    .is_some_and(|p| p != v && is_operator(p))
        }
        _ => false,
    }
}

fn parse_select(s: &str) -> Result<Vec<SelectItem>, PgErr> {
    let mut p = Cursor::new(s, format!("failed to parse select parameter ({s})"));
    let mut items = Vec::new();
    loop {
        p.ws();
        if p.eat("*") {
            for (n, c) in COLUMNS {
                items.push(SelectItem {
                    key: n.into(),
                    col: c,
                    as_text: false,
                });
            }
        } else {
            let first = p.field_name()?;
            let (alias, name) = if p.peek() == Some(':') && p.peek_at(1) != Some(':') {
                p.i += 1;
                (Some(first), p.field_name()?)
            } else {
                (None, first)
            };
            let mut as_text = false;
            if p.eat("::") {
                let cast = p.identifier()?;
                as_text = matches!(cast.as_str(), "text" | "varchar");
            }
            if p.peek() == Some('(') {
                return Err(pg_error(
                    400,
                    "PGRST200",
                    &format!("Could not find a relationship between 'tags_final' and '{name}' in the schema cache"),
                    None,
                    None,
                ));
            }
            let col = col_of(&name).ok_or_else(|| no_column(&name))?;
            items.push(SelectItem {
                key: alias.unwrap_or(name),
                col,
                as_text,
            });
        }
        p.ws();
        match p.peek() {
            None => break,
            Some(',') => p.i += 1,
            Some(_) => return Err(p.fail("\",\" or end of input")),
        }
    }
    Ok(items)
}

fn parse_order(s: &str) -> Result<Vec<(Col, bool, bool)>, PgErr> {
    let mut p = Cursor::new(s, format!("failed to parse order ({s})"));
    let mut terms = Vec::new();
    loop {
        p.ws();
        let name = p.field_name()?;
        p.ws();
        let mut desc = false;
        if p.eat(".asc") {
        } else if p.eat(".desc") {
            desc = true;
        }
        let mut nulls_first = desc;
        if p.eat(".nullsfirst") {
            nulls_first = true;
        } else if p.eat(".nullslast") {
            nulls_first = false;
        }
        p.ws();
        let col = col_of(&name).ok_or_else(|| no_column(&name))?;
        terms.push((col, desc, nulls_first));
        match p.peek() {
            None => break,
            Some(',') => p.i += 1,
            Some(_) => {
                return Err(p.fail(
                    "\"asc\", \"desc\", \"nullsfirst\", \"nullslast\", \",\" or end of input",
                ))
            }
        }
    }
    Ok(terms)
}

// ---------------------------------------------------------------------------------------------
// The filter grammar

struct Cursor {
    s: Vec<char>,
    i: usize,
    what: String,
}

impl Cursor {
    fn new(s: &str, what: String) -> Cursor {
        Cursor {
            s: s.chars().collect(),
            i: 0,
            what,
        }
    }
    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }
    fn peek_at(&self, k: usize) -> Option<char> {
        self.s.get(self.i + k).copied()
    }
    fn starts(&self, lit: &str) -> bool {
        let l: Vec<char> = lit.chars().collect();
        self.s.len() >= self.i + l.len() && self.s[self.i..self.i + l.len()] == l[..]
    }
    fn eat(&mut self, lit: &str) -> bool {
        if self.starts(lit) {
            self.i += lit.chars().count();
            true
        } else {
            false
        }
    }
    fn ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t')) {
            self.i += 1;
        }
    }
    fn fail(&self, expecting: &str) -> PgErr {
        let unexpected = match self.peek() {
            Some(c) => format!("unexpected {:?}", c.to_string()),
            None => "unexpected end of input".to_string(),
        };
        pg_error(
            400,
            "PGRST100",
            &format!("\"{}\" (line 1, column {})", self.what, self.i + 1),
            Some(&format!("{unexpected} expecting {expecting}")),
            None,
        )
    }
    fn fail_msg(&self, details: &str) -> PgErr {
        pg_error(
            400,
            "PGRST100",
            &format!("\"{}\" (line 1, column {})", self.what, self.i + 1),
            Some(details),
            None,
        )
    }
    /// Text PostgREST ignores after a complete value: recorded as suspicious.
    fn trailing(&self, notes: &mut Vec<String>) {
        if self.i < self.s.len() {
            let rest: String = self.s[self.i..].iter().collect();
            notes.push(format!(
                "{}: PostgREST ignores the trailing {rest:?} (a value needing quotes?)",
                self.what
            ));
        }
    }

    fn identifier(&mut self) -> Result<String, PgErr> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ' ' || c == '$')
        {
            self.i += 1;
        }
        if self.i == start {
            return Err(self.fail("letter or digit"));
        }
        Ok(self.s[start..self.i]
            .iter()
            .collect::<String>()
            .trim()
            .to_string())
    }

    /// A double-quoted value (`\` escapes any character); `None` (input restored) if absent.
    fn quoted(&mut self) -> Option<String> {
        let save = self.i;
        if self.peek() != Some('"') {
            return None;
        }
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => {
                    self.i = save;
                    return None;
                }
                Some('\\') => match self.peek_at(1) {
                    Some(c) => {
                        out.push(c);
                        self.i += 2;
                    }
                    None => {
                        self.i = save;
                        return None;
                    }
                },
                Some('"') => {
                    self.i += 1;
                    return Some(out);
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    /// `pQuotedValue <|> identifiers separated by '-'`.
    fn field_name(&mut self) -> Result<String, PgErr> {
        if let Some(q) = self.quoted() {
            return Ok(q);
        }
        let mut parts = vec![self
            .identifier()
            .map_err(|_| self.fail("field name (* or [a..z0..9_$])"))?];
        while self.peek() == Some('-') && self.peek_at(1) != Some('>') {
            self.i += 1;
            parts.push(self.identifier()?);
        }
        if self.starts("->") {
            return Err(self.fail_msg("JSON paths are not supported by the fake"));
        }
        Ok(parts.join("-"))
    }

    /// A quoted value must be followed by `,` `)` or the end; otherwise the raw text is taken.
    fn quoted_element(&mut self) -> Option<String> {
        let save = self.i;
        let q = self.quoted()?;
        if matches!(self.peek(), None | Some(',' | ')')) {
            Some(q)
        } else {
            self.i = save;
            None
        }
    }

    fn unquoted(&mut self) -> String {
        let start = self.i;
        while self.peek().is_some_and(|c| c != ',' && c != ')') {
            self.i += 1;
        }
        self.s[start..self.i].iter().collect()
    }

    /// `( elem , elem … )`
    fn list(&mut self) -> Result<Vec<String>, PgErr> {
        self.ws();
        if !self.eat("(") {
            return Err(self.fail("\"(\""));
        }
        self.ws();
        let mut items = Vec::new();
        loop {
            let e = match self.quoted_element() {
                Some(q) => q,
                None => self.unquoted(),
            };
            items.push(e);
            if !self.eat(",") {
                break;
            }
        }
        self.ws();
        if !self.eat(")") {
            return Err(self.fail("\",\" or \")\""));
        }
        self.ws();
        Ok(items)
    }

    /// The value of a filter inside a logic tree.
    fn logic_value(&mut self) -> String {
        if let Some(q) = self.quoted_element() {
            return q;
        }
        if self.peek() == Some('{') {
            let save = self.i;
            self.i += 1;
            while self.peek().is_some_and(|c| c != '{' && c != '}') {
                self.i += 1;
            }
            if self.eat("}") {
                return self.s[save..self.i].iter().collect();
            }
            self.i = save;
        }
        self.unquoted()
    }

    /// `[not.]op.value` for column `col`.
    fn op_expr(&mut self, col_name: &str, in_logic: bool) -> Result<Leaf, PgErr> {
        let neg = self.eat("not.");
        let col = col_of(col_name);
        if self.eat("in.") {
            let items = self.list()?;
            let col = col.ok_or_else(|| no_column(col_name))?;
            let test = if col == Col::Count {
                Test::IntIn(
                    items
                        .iter()
                        .map(|v| int_value(v))
                        .collect::<Result<_, _>>()?,
                )
            } else {
                Test::TextIn(items.into_iter().collect())
            };
            return Ok(Leaf { col, neg, test });
        }
        if self.eat("is.") {
            let rest: String = self.s[self.i..].iter().collect::<String>().to_lowercase();
            let word = ["null", "unknown", "true", "false"]
                .into_iter()
                .find(|w| rest.starts_with(w));
            let Some(word) = word else {
                return Err(self.fail("null or trilean value (unknown, true, false)"));
            };
            self.i += word.len();
            let col = col.ok_or_else(|| no_column(col_name))?;
            if word != "null" {
                return Err(pg_error(
                    400,
                    "42804",
                    &format!(
                        "argument of IS {} must be type boolean, not type text",
                        word.to_uppercase()
                    ),
                    None,
                    None,
                ));
            }
            return Ok(Leaf {
                col,
                neg,
                test: Test::IsNull,
            });
        }
        let start = self.i;
        while self.peek().is_some_and(|c| c != '.') {
            self.i += 1;
        }
        if self.peek().is_none() {
            self.i = start;
            return Err(self.fail("operator (eq, gt, ...)"));
        }
        let op: String = self.s[start..self.i].iter().collect();
        if !is_operator(&op) {
            return Err(self.fail_msg(&format!("unknown single value operator {op}")));
        }
        self.i += 1;
        let value = if in_logic {
            self.logic_value()
        } else {
            let v: String = self.s[self.i..].iter().collect();
            self.i = self.s.len();
            v
        };
        let col = col.ok_or_else(|| no_column(col_name))?;
        let op: &'static str = match op.as_str() {
            "eq" => "eq",
            "neq" => "neq",
            "gt" => "gt",
            "gte" => "gte",
            "lt" => "lt",
            "lte" => "lte",
            "like" => "like",
            "ilike" => "ilike",
            other => {
                return Err(pg_error(
                    400,
                    "PGRST100",
                    &format!("operator '{other}' is not supported by the fake"),
                    None,
                    None,
                ))
            }
        };
        let test = match (op, col) {
            ("like" | "ilike", Col::Count) => {
                return Err(pg_error(
                    404,
                    "42883",
                    &format!("operator does not exist: integer {} unknown", if op == "like" { "~~" } else { "~~*" }),
                    None,
                    Some("No operator matches the given name and argument types. You might need to add explicit type casts."),
                ))
            }
            ("like", _) => Test::Like(like_pattern(&value, false)?, false),
            ("ilike", _) => Test::Like(like_pattern(&value, true)?, true),
            ("eq", c) if c != Col::Count => Test::TextEq(value),
            (op, Col::Count) => Test::IntCmp(op, int_value(&value)?),
            (op, _) => Test::TextCmp(op, value),
        };
        Ok(Leaf { col, neg, test })
    }

    /// `[not.](and|or)( tree , tree … )` or a `field.op.value` statement.
    fn logic_tree(&mut self) -> Result<Cond, PgErr> {
        // A statement first, as PostgREST tries it.
        let save = self.i;
        let stmt = (|| -> Result<Cond, PgErr> {
            self.ws();
            let field = self.field_name()?;
            self.ws();
            if !self.eat(".") {
                return Err(self.fail("delimiter (.)"));
            }
            Ok(Cond::Leaf(self.op_expr(&field, true)?))
        })();
        let stmt_err = match stmt {
            Ok(c) => return Ok(c),
            Err(e)
                if e.body.contains("\"42703\"")
                    || e.body.contains("\"22P02\"")
                    || e.body.contains("\"42883\"") =>
            {
                return Err(e)
            }
            Err(e) => (self.i, e),
        };
        self.i = save;
        let neg = self.eat("not.");
        let and = if self.eat("and") {
            true
        } else if self.eat("or") {
            false
        } else {
            return Err(if stmt_err.0 > self.i {
                stmt_err.1
            } else {
                self.fail("logic operator (and, or)")
            });
        };
        self.ws();
        if !self.eat("(") {
            return Err(if stmt_err.0 > self.i {
                stmt_err.1
            } else {
                self.fail("\"(\"")
            });
        }
        self.ws();
        let mut items = vec![self.logic_tree()?];
        loop {
            self.ws();
            if !self.eat(",") {
                break;
            }
            self.ws();
            items.push(self.logic_tree()?);
        }
        self.ws();
        if !self.eat(")") {
            return Err(self.fail("\",\" or \")\""));
        }
        self.ws();
        Ok(Cond::Tree { neg, and, items })
    }
}

fn int_value(v: &str) -> Result<i64, PgErr> {
    v.trim().parse::<i64>().map_err(|_| {
        pg_error(
            400,
            "22P02",
            &format!("invalid input syntax for type integer: \"{v}\""),
            None,
            None,
        )
    })
}

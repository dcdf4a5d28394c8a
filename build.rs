//! Turns the committed tag table (`data/tags_final.csv.gz`) into compact binary tables that
//! the Worker embeds with `include_bytes!`: the work of parsing and sorting is done once here,
//! so the Worker's first-use initialisation only scans for line offsets.
//!
//! Outputs in OUT_DIR:
//! - `tag_names.txt`: names joined by '\n', in table order (post_count descending);
//! - `tag_counts.bin`: post_count as u32 little-endian, one per tag;
//! - `tag_cats.bin`: two bytes per tag, indexes into the category name lists (0 = none);
//! - `tag_cat_names.txt`: line 1 main categories, line 2 sub categories, comma-separated;
//! - `tag_sorted.bin`: tag ids (u32 LE) in ascending name order, for binary search.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

fn main() {
    let src = "data/tags_final.csv.gz";
    println!("cargo:rerun-if-changed={src}");
    let mut csv = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(src).expect("open tag table"))
        .read_to_string(&mut csv)
        .expect("decompress tag table");

    let mut rows: Vec<(String, u32, String, String)> = Vec::new();
    for (i, line) in csv.lines().enumerate().skip(1) {
        let mut f = split_csv_line(line);
        assert!(
            f.len() == 6,
            "line {}: expected 6 fields, got {}",
            i + 1,
            f.len()
        );
        assert!(!f[0].is_empty(), "line {}: empty name", i + 1);
        let count: u64 = f[5]
            .parse()
            .unwrap_or_else(|_| panic!("line {}: post_count", i + 1));
        let sub = std::mem::take(&mut f[2]);
        let main = std::mem::take(&mut f[1]);
        rows.push((
            std::mem::take(&mut f[0]),
            count.min(u32::MAX as u64) as u32,
            main,
            sub,
        ));
    }
    // Tag ids are this order: post_count descending, ties by name in byte order. Search
    // results rely on it ("most popular first" = "lowest id first"), and the Supabase adapter
    // asks PostgREST for the same order (`order=post_count.desc,name.asc`, name COLLATE "C").
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));

    let mut counts = Vec::with_capacity(rows.len() * 4);
    let mut cats = Vec::with_capacity(rows.len() * 2);
    let mut mains = Interner::default();
    let mut subs = Interner::default();
    for (_, count, main, sub) in &rows {
        counts.extend_from_slice(&count.to_le_bytes());
        cats.push(mains.id(main));
        cats.push(subs.id(sub));
    }
    let names: Vec<String> = rows.into_iter().map(|r| r.0).collect();

    let mut sorted: Vec<u32> = (0..names.len() as u32).collect();
    sorted.sort_by(|&a, &b| names[a as usize].cmp(&names[b as usize]));
    let sorted_bytes: Vec<u8> = sorted.iter().flat_map(|i| i.to_le_bytes()).collect();

    let out = std::env::var("OUT_DIR").unwrap();
    let out = Path::new(&out);
    std::fs::write(out.join("tag_names.txt"), names.join("\n")).unwrap();
    std::fs::write(out.join("tag_counts.bin"), counts).unwrap();
    std::fs::write(out.join("tag_cats.bin"), cats).unwrap();
    std::fs::write(out.join("tag_sorted.bin"), sorted_bytes).unwrap();
    std::fs::write(
        out.join("tag_cat_names.txt"),
        format!("{}\n{}", mains.names.join(","), subs.names.join(",")),
    )
    .unwrap();
}

/// Category names to small ids; id 0 is the empty category.
struct Interner {
    names: Vec<String>,
    ids: BTreeMap<String, u8>,
}

impl Default for Interner {
    fn default() -> Self {
        Interner {
            names: vec![String::new()],
            ids: BTreeMap::from([(String::new(), 0)]),
        }
    }
}

impl Interner {
    fn id(&mut self, name: &str) -> u8 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u8::try_from(self.names.len()).expect("at most 255 categories");
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }
}

/// Splits one CSV line with RFC 4180 quoting (tag names may contain quotes).
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(ch) = chars.next() {
        match (ch, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut cur)),
            _ => cur.push(ch),
        }
    }
    fields.push(cur);
    fields
}

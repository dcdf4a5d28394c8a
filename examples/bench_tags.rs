//! Native figures of the embedded tag index: first-use initialisation time and memory, and
//! p50/p99 latency of exact lookup (15 names), prefix, keyword (3 keywords) and typo
//! suggestion over inputs drawn from all 140,790 tags. Run: `cargo run --release --example bench_tags`.

use inspire::tags::index::index;
use inspire::tags::TagFilter;
use std::time::Instant;

/// A small deterministic generator, so every run measures the same inputs.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn percentiles(mut us: Vec<f64>) -> (f64, f64) {
    us.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let at = |p: f64| us[((us.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

fn bench(name: &str, runs: usize, mut f: impl FnMut(usize)) {
    let mut us = Vec::with_capacity(runs);
    for i in 0..runs {
        let t = Instant::now();
        f(i);
        us.push(t.elapsed().as_secs_f64() * 1e6);
    }
    let (p50, p99) = percentiles(us);
    println!("| {name:<34} | {runs:>6} | {p50:>10.1} | {p99:>10.1} |");
}

fn main() {
    let rss0 = rss_kib();
    let t = Instant::now();
    let ix = index();
    let init_ms = t.elapsed().as_secs_f64() * 1e3;
    let rss1 = rss_kib();
    println!("command: cargo run --release --example bench_tags");
    println!("tags: {}", ix.len());
    println!("first-use initialisation: {init_ms:.2} ms, resident memory +{} KiB (the tables themselves are static data in the binary)", rss1.saturating_sub(rss0));

    let all: Vec<_> = (0..ix.len()).map(|id| ix.tag(id)).collect();
    let names: Vec<String> = all.iter().map(|t| t.name.clone()).collect();
    assert_eq!(names.len(), 140_790);
    let mut rng = Lcg(42);
    println!();
    println!("| query                              |   runs |  p50 (µs)  |  p99 (µs)  |");
    println!("|------------------------------------|--------|------------|------------|");
    let batches: Vec<Vec<String>> = (0..2000)
        .map(|_| {
            (0..15)
                .map(|_| names[rng.next(names.len())].clone())
                .collect()
        })
        .collect();
    bench("exact lookup, 15 names", batches.len(), |i| {
        let found = batches[i].iter().filter(|n| ix.get(n).is_some()).count();
        assert_eq!(found, 15);
    });
    let prefixes: Vec<String> = (0..2000)
        .map(|_| names[rng.next(names.len())].chars().take(3).collect())
        .collect();
    let f = TagFilter {
        limit: 20,
        ..TagFilter::default()
    };
    bench("prefix (3 chars), limit 20", prefixes.len(), |i| {
        std::hint::black_box(ix.prefix(&prefixes[i], &f));
    });
    let kws: Vec<Vec<String>> = (0..500)
        .map(|_| {
            (0..3)
                .map(|_| {
                    let n = &names[rng.next(20_000)];
                    let c: Vec<char> = n.chars().collect();
                    let len = c.len().min(5);
                    c[..len].iter().collect()
                })
                .collect()
        })
        .collect();
    let kf = TagFilter {
        min_posts: 1000,
        limit: 10,
        ..TagFilter::default()
    };
    bench("keyword (3 keywords), ≥1000 posts", kws.len(), |i| {
        std::hint::black_box(ix.keywords(&kws[i], &kf));
    });
    let rare = TagFilter {
        min_posts: 0,
        limit: 10,
        ..TagFilter::default()
    };
    bench("keyword (3 rare keywords), full scan", 200, |i| {
        let k = vec![format!("zq{i}x"), format!("qz{i}y"), format!("xq{i}z")];
        std::hint::black_box(ix.keywords(&k, &rare));
    });
    let typos: Vec<String> = (0..300)
        .map(|_| {
            let mut c: Vec<char> = names[rng.next(50_000)].chars().collect();
            if c.len() > 3 {
                c.swap(1, 2);
            }
            c.into_iter().collect()
        })
        .collect();
    bench("typo suggestion (edit distance ≤ 2)", typos.len(), |i| {
        std::hint::black_box(ix.suggest(&typos[i], 5));
    });
    let t = Instant::now();
    let mut counts = [0usize; 4];
    for tag in &all {
        counts[tag.rating() as usize] += 1;
    }
    println!();
    println!(
        "ratings of all tags: all-ages {}, r15 {}, r18 {}, blocked {} ({:.0} ms to classify all)",
        counts[0],
        counts[1],
        counts[2],
        counts[3],
        t.elapsed().as_secs_f64() * 1e3
    );
}

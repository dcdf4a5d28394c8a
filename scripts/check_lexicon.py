#!/usr/bin/env python3
"""Check the offline planner's data files against the tag table.

Checks data/lexicon.tsv, data/moods.tsv and data/adjustments.tsv:
  * every tag exists in data/tags_final.csv.gz (the table the Worker embeds)
  * no two tags of one entry / row conflict (reference §4.7 CONFLICT_PAIRS + a few extras)
  * no unsafe tags (small deny list of tags and tag words)
  * lexicon: header, >= 400 entries, both languages, known facets, 1-4 tags,
    phrases unique per language, English phrases lowercase
  * moods: 4-6 tags per direction, a `default` row
  * adjustments: the six keys, numeric deltas, add/remove disjoint

Python 3 standard library only.  Exit status 1 (with messages) on failure;
prints counts per facet and language on success.

Usage: python3 scripts/check_lexicon.py [--csv PATH]
"""
import csv
import os
import gzip
import sys
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CSV = os.path.join(REPO, "data", "tags_final.csv.gz")
DATA = os.path.join(REPO, "data")

# The 31 CONFLICT_PAIRS of reference §4.7 (symmetric, case-insensitive).
REFERENCE_CONFLICTS = [
    # hair length
    ("long_hair", "short_hair"), ("long_hair", "bald"), ("long_hair", "no_hair"),
    ("short_hair", "very_long_hair"), ("bald", "very_long_hair"),
    # character count
    ("solo", "multiple_girls"), ("solo", "2girls"), ("solo", "3girls"),
    ("solo", "multiple_boys"), ("1girl", "no_humans"), ("1boy", "no_humans"),
    ("1girl", "1boy"),
    # time
    ("day", "night"), ("sunrise", "sunset"), ("morning", "evening"),
    # weather
    ("sunny", "cloudy"), ("sunny", "rain"), ("clear_sky", "cloudy"),
    # framing
    ("close-up", "wide_shot"), ("close-up", "full_body"), ("portrait", "full_body"),
    ("upper_body", "full_body"), ("upper_body", "lower_body"),
    # eye colour
    ("blue_eyes", "red_eyes"), ("blue_eyes", "green_eyes"), ("red_eyes", "green_eyes"),
    ("brown_eyes", "blue_eyes"),
    # hair colour
    ("blonde_hair", "black_hair"), ("blonde_hair", "brown_hair"), ("black_hair", "white_hair"),
    # place
    ("indoors", "outdoors"),
]
assert len(REFERENCE_CONFLICTS) == 31

# Extra pairs for real tags the reference list misses (several reference tags,
# e.g. sunny/cloudy, do not exist in the table).  Stricter data, same spirit.
EXTRA_CONFLICTS = [
    ("clear_sky", "cloudy_sky"), ("clear_sky", "rain"),
    ("blue_sky", "night"), ("blue_sky", "night_sky"),
    ("day", "night_sky"), ("day", "starry_sky"),
    ("very_short_hair", "long_hair"), ("very_short_hair", "very_long_hair"),
    ("no_humans", "solo"), ("no_humans", "2girls"), ("no_humans", "3girls"),
    ("no_humans", "multiple_girls"), ("no_humans", "2boys"),
    ("no_humans", "multiple_boys"), ("no_humans", "male_focus"),
    ("solo", "2boys"), ("solo", "couple"),
    ("close-up", "very_wide_shot"), ("portrait", "wide_shot"),
    ("colorful", "monochrome"), ("colorful", "greyscale"),
]

CONFLICTS = {frozenset(p) for p in REFERENCE_CONFLICTS + EXTRA_CONFLICTS}

# Never allowed: whole tags, and words that may not appear in a tag (split on "_").
DENY_TAGS = {
    "nsfw", "loli", "shota", "child", "nude", "naked", "nipples", "breasts", "sex",
    "underwear", "panties", "bra", "lingerie", "cleavage", "pussy", "penis", "cum",
    "topless", "bottomless", "ass", "hetero", "yuri", "yaoi", "gore", "guro",
    "blood", "bikini", "micro_bikini", "pantyshot", "upskirt", "bondage", "bdsm",
    "aged_down", "onee-shota", "onee-loli", "pubic_hair", "futanari", "vibrator",
    "condom", "groin", "cameltoe", "sideboob", "underboob", "no_bra", "no_panties",
    "spread_legs", "erection", "masturbation", "fellatio", "paizuri", "rape",
    "tentacles", "bathing", "onsen", "wet_shirt", "see-through_clothes", "bound",
    "restrained", "shibari", "skirt_lift", "clothes_lift", "undressing", "suicide",
}
DENY_WORDS = {
    "loli", "shota", "child", "nude", "naked", "nipple", "nipples", "breast",
    "breasts", "sex", "underwear", "panties", "panty", "bra", "lingerie",
    "cleavage", "pussy", "penis", "cum", "topless", "bottomless", "ass", "crotch",
    "pubic", "nsfw", "hentai", "erotic", "lewd", "gore", "guro", "futa",
    "futanari", "vagina", "genitals", "anus", "orgasm", "bondage", "fetish",
    "bikini", "thong", "pantyshot", "upskirt", "cameltoe", "areola", "areolae",
}

FACETS = [
    "subject", "hair_length", "hair_color", "hair_style", "eyes", "clothing",
    "accessory", "animal", "animal_feature", "pose", "action", "expression",
    "place_indoor", "place_outdoor", "weather", "season", "time", "light", "color",
    "mood", "style", "framing", "angle", "object", "plant", "effect",
]

MOOD_KEYS_REQUIRED = {"default"}
ADJUSTMENT_KEYS = ["dreamier", "realistic", "less_portrait", "night", "brighter", "softer"]

errors = []


def err(where, msg):
    errors.append(f"{where}: {msg}")


def load_tags(path):
    names = {}
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            names[row["name"].strip().lower()] = row.get("main_category", "")
    return names


def read_tsv(path, header):
    rows = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        err(path, "empty file")
        return rows
    got = lines[0].split("\t")
    if got != header:
        err(path, f"header is {got}, expected {header}")
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            err(f"{path}:{n}", "blank line")
            continue
        cols = line.split("\t")
        if len(cols) != len(header):
            err(f"{path}:{n}", f"expected {len(header)} columns, got {len(cols)}")
            continue
        if any(c != c.strip() for c in cols):
            err(f"{path}:{n}", "leading/trailing whitespace in a column")
        rows.append((n, cols))
    return rows


def split_tags(s):
    return [t.strip() for t in s.split(",")]


def check_tags(where, tags, names):
    """Existence, format, duplicates and safety of one tag list."""
    for t in tags:
        if not t:
            err(where, "empty tag (stray comma?)")
            continue
        if t != t.lower() or " " in t:
            err(where, f"tag {t!r} must be lowercase underscore form")
        if t not in names:
            err(where, f"tag {t!r} not in tags_final.csv")
        if t in DENY_TAGS or any(w in DENY_WORDS for w in t.split("_")):
            err(where, f"tag {t!r} is on the deny list")
    dups = [t for t, c in Counter(tags).items() if c > 1]
    if dups:
        err(where, f"duplicate tags {dups}")


def check_conflicts(where, tags):
    low = [t.lower() for t in tags]
    for i in range(len(low)):
        for j in range(i + 1, len(low)):
            if frozenset((low[i], low[j])) in CONFLICTS:
                err(where, f"conflicting tags {low[i]} / {low[j]}")


def check_lexicon(names):
    path = os.path.join(DATA, "lexicon.tsv")
    rows = read_tsv(path, ["phrase", "lang", "facet", "tags"])
    seen = {}
    per_facet = Counter()
    per_lang = Counter()
    per_facet_lang = Counter()
    for n, (phrase, lang, facet, tags) in rows:
        where = f"lexicon.tsv:{n} ({phrase})"
        if not phrase:
            err(where, "empty phrase")
        if lang not in ("zh", "en"):
            err(where, f"lang {lang!r} must be zh or en")
        if lang == "en" and phrase != phrase.lower():
            err(where, "English phrases must be lowercase")
        if lang == "zh" and " " in phrase:
            err(where, "Chinese phrases must not contain spaces")
        if lang == "zh" and not any("\u3400" <= ch <= "\u9fff" for ch in phrase):
            err(where, "Chinese phrases must contain a CJK character")
        if lang == "zh" and phrase != phrase.lower():
            err(where, "Latin letters in Chinese phrases must be lowercase")
        if facet not in FACETS:
            err(where, f"unknown facet {facet!r}")
        key = (lang, phrase)
        if key in seen:
            err(where, f"phrase duplicated (first on line {seen[key]})")
        else:
            seen[key] = n
        tl = split_tags(tags)
        if not 1 <= len(tl) <= 4:
            err(where, f"{len(tl)} tags, expected 1-4")
        check_tags(where, tl, names)
        check_conflicts(where, tl)
        per_facet[facet] += 1
        per_lang[lang] += 1
        per_facet_lang[(facet, lang)] += 1
    if len(rows) < 400:
        err("lexicon.tsv", f"only {len(rows)} entries, need >= 400")
    for lang in ("zh", "en"):
        if per_lang[lang] == 0:
            err("lexicon.tsv", f"no {lang} entries")
    for facet in FACETS:
        if per_facet[facet] == 0:
            err("lexicon.tsv", f"no entries for facet {facet}")
    return len(rows), per_facet, per_lang, per_facet_lang


def check_moods(names):
    path = os.path.join(DATA, "moods.tsv")
    cols = ["mood", "lang_label_zh", "lang_label_en", "mood_led", "scene_led", "style_led"]
    rows = read_tsv(path, cols)
    keys = Counter()
    for n, row in rows:
        key = row[0]
        keys[key] += 1
        where = f"moods.tsv:{n} ({key})"
        if not key or key != key.lower():
            err(where, "mood key must be non-empty lowercase")
        if not row[1] or not row[2]:
            err(where, "missing label")
        all_tags = []
        for name, val in zip(cols[3:], row[3:]):
            tl = split_tags(val)
            if not 4 <= len(tl) <= 6:
                err(f"{where} {name}", f"{len(tl)} tags, expected 4-6")
            check_tags(f"{where} {name}", tl, names)
            check_conflicts(f"{where} {name}", tl)
            all_tags += tl
        check_conflicts(f"{where} (whole row)", list(dict.fromkeys(all_tags)))
    for k, c in keys.items():
        if c > 1:
            err("moods.tsv", f"mood {k!r} appears {c} times")
    for k in MOOD_KEYS_REQUIRED:
        if k not in keys:
            err("moods.tsv", f"missing required mood {k!r}")
    return len(rows)


def check_adjustments(names):
    path = os.path.join(DATA, "adjustments.tsv")
    cols = ["key", "phrases_zh", "phrases_en", "add", "remove", "cfg_delta", "steps_delta"]
    rows = read_tsv(path, cols)
    keys = [row[0] for _, row in rows]
    if sorted(keys) != sorted(ADJUSTMENT_KEYS):
        err("adjustments.tsv", f"keys {keys}, expected {ADJUSTMENT_KEYS}")
    phrase_owner = {}
    for n, row in rows:
        key, pzh, pen, add, remove, cfg, steps = row
        where = f"adjustments.tsv:{n} ({key})"
        for lang, ps in (("zh", pzh), ("en", pen)):
            plist = [p for p in ps.split("|")]
            if not plist or any(not p.strip() for p in plist):
                err(where, f"empty {lang} phrase")
            for p in plist:
                if lang == "en" and p != p.lower():
                    err(where, f"English phrase {p!r} must be lowercase")
                other = phrase_owner.get((lang, p))
                if other and other != key:
                    err(where, f"phrase {p!r} also used by {other}")
                phrase_owner[(lang, p)] = key
        al, rl = split_tags(add), split_tags(remove)
        check_tags(f"{where} add", al, names)
        check_conflicts(f"{where} add", al)
        check_tags(f"{where} remove", rl, names)
        both = set(al) & set(rl)
        if both:
            err(where, f"tags both added and removed: {sorted(both)}")
        try:
            float(cfg)
        except ValueError:
            err(where, f"cfg_delta {cfg!r} is not a number")
        try:
            int(steps)
        except ValueError:
            err(where, f"steps_delta {steps!r} is not an integer")
    return len(rows)


def main():
    csv_path = DEFAULT_CSV
    if "--csv" in sys.argv:
        csv_path = sys.argv[sys.argv.index("--csv") + 1]
    if not os.path.exists(csv_path):
        print(f"check_lexicon: tag table not found at {csv_path}", file=sys.stderr)
        return 1
    names = load_tags(csv_path)
    n_lex, per_facet, per_lang, per_facet_lang = check_lexicon(names)
    n_moods = check_moods(names)
    n_adj = check_adjustments(names)
    if errors:
        for e in errors[:200]:
            print(e, file=sys.stderr)
        if len(errors) > 200:
            print(f"... and {len(errors) - 200} more", file=sys.stderr)
        print(f"check_lexicon: FAILED with {len(errors)} problem(s)", file=sys.stderr)
        return 1
    print(f"tags_final.csv: {len(names)} tags")
    print(f"lexicon.tsv: {n_lex} entries (zh {per_lang['zh']}, en {per_lang['en']})")
    print(f"  {'facet':<15}{'zh':>6}{'en':>6}{'total':>7}")
    for facet in FACETS:
        print(f"  {facet:<15}{per_facet_lang[(facet, 'zh')]:>6}"
              f"{per_facet_lang[(facet, 'en')]:>6}{per_facet[facet]:>7}")
    print(f"moods.tsv: {n_moods} moods")
    print(f"adjustments.tsv: {n_adj} adjustments")
    print("check_lexicon: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())

//! The planner's behaviour, natively: lexicon integrity, directions for 30+ inputs, and whole
//! conversations in both languages.

use super::compose::overlap;
use super::data::{adjustments, moods};
use super::Planner;
use crate::agent::testkit::{converse, turn};
use crate::agent::{Event, ReplyKind};
use crate::lexicon::lexicon;
use crate::tags::category::find_conflicts;
use crate::tags::index::index;
use crate::tags::Rating;
use crate::tools::ideas::Direction;
use crate::tools::{FINALIZE_PROMPT, GENERATE_IDEAS, SEARCH_EXAMPLES, UNDERSTAND_INTENT};

#[test]
fn every_lexicon_tag_exists_is_all_ages_and_no_entry_conflicts() {
    for e in lexicon().entries() {
        for t in &e.tags {
            let tag = index()
                .get(t)
                .unwrap_or_else(|| panic!("'{}' maps to unknown tag '{t}'", e.phrase));
            assert_eq!(
                tag.name, *t,
                "'{}': '{t}' is an alias, use the tag itself",
                e.phrase
            );
            assert_eq!(
                tag.rating(),
                Rating::AllAges,
                "'{}': '{t}' is not all-ages",
                e.phrase
            );
        }
        assert!(
            find_conflicts(&e.tags).is_empty(),
            "'{}' has conflicting tags",
            e.phrase
        );
    }
    for m in moods() {
        for list in &m.led {
            assert!(list.iter().all(|t| index().exists(t)), "mood {}", m.key);
            assert!(find_conflicts(list).is_empty(), "mood {}", m.key);
        }
    }
    for a in adjustments() {
        assert!(
            a.add.iter().chain(&a.remove).all(|t| index().exists(t)),
            "adjustment {}",
            a.key
        );
        assert!(find_conflicts(&a.add).is_empty(), "adjustment {}", a.key);
    }
}

fn first_directions(text: &str) -> (Vec<Direction>, String, Vec<Event>) {
    let (o, events) = turn(&Planner, &[], text, None);
    assert_eq!(o.kind, ReplyKind::Directions, "{text}: {}", o.reply);
    (o.directions.expect("directions"), o.reply, events)
}

/// (input, tags every direction must contain, tags some direction must contain)
const CASES: &[(&str, &[&str], &[&str])] = &[
    (
        "櫻花樹下的和服少女，溫柔寧靜的氛圍",
        &["cherry_blossoms", "kimono", "1girl"],
        &[],
    ),
    (
        "霓虹燈閃爍的賽博龐克城市，孤獨的少女在街頭",
        &["1girl", "cyberpunk"],
        &["neon_lights"],
    ),
    (
        "浩瀚星空下，少女站在草原上，夢幻又孤獨",
        &["1girl", "starry_sky"],
        &["standing"],
    ),
    ("孤獨的感覺", &[], &["1girl", "no_humans"]),
    (
        "下雨的夜晚，撐傘的女孩",
        &["rain", "night", "1girl"],
        &["umbrella"],
    ),
    ("海邊的夕陽，白色連身裙", &["sunset"], &["white_dress"]),
    ("貓耳女僕在咖啡廳", &["cat_ears"], &["maid"]),
    ("雪中的神社，紅色圍巾", &["snow"], &["red_scarf"]),
    (
        "長髮藍眼的少女在圖書館看書",
        &["long_hair", "blue_eyes", "1girl"],
        &["library"],
    ),
    ("一隻貓睡在窗邊，午後陽光", &["cat"], &["window"]),
    ("水彩風格的森林小屋", &["forest"], &["watercolor_(medium)"]),
    (
        "穿著水手服的短髮女孩在教室",
        &["short_hair", "serafuku"],
        &["classroom"],
    ),
    ("秋天的楓葉和溫暖的光", &["autumn_leaves"], &[]),
    ("夏日祭典的煙火", &["fireworks"], &[]),
    ("騎士與巨龍的史詩戰鬥", &[], &["dragon"]),
    ("賽博龐克", &["cyberpunk"], &[]),
    ("悲傷", &[], &[]),
    (
        "a girl with long hair under cherry blossoms",
        &["1girl", "long_hair", "cherry_blossoms"],
        &[],
    ),
    ("lonely city at night in the rain", &["night"], &["rain"]),
    ("a cat sleeping by the window", &["cat"], &["window"]),
    (
        "a knight in armor fighting a dragon",
        &[],
        &["dragon", "armor"],
    ),
    ("cozy cafe with a maid and a cup of coffee", &[], &["maid"]),
    (
        "sunset at the beach, white dress",
        &["sunset"],
        &["white_dress"],
    ),
    (
        "watercolor forest cabin",
        &["forest"],
        &["watercolor_(medium)"],
    ),
    ("dreamy starry sky over a meadow", &["starry_sky"], &[]),
    (
        "cyberpunk street with neon lights",
        &["cyberpunk"],
        &["neon_lights"],
    ),
    (
        "a boy with short hair and glasses",
        &["1boy", "short_hair"],
        &["glasses"],
    ),
    ("snowy mountain at sunrise", &["snow"], &["mountain"]),
    ("autumn leaves and warm light", &["autumn_leaves"], &[]),
    ("something", &[], &[]),
    ("一個 cyberpunk 城市裡的 girl", &["cyberpunk", "1girl"], &[]),
    ("櫻花 and kimono", &["cherry_blossoms", "kimono"], &[]),
];

#[test]
fn thirty_inputs_give_three_clearly_different_valid_directions() {
    assert!(CASES.len() >= 30);
    for (text, every, some) in CASES {
        let (dirs, reply, _) = first_directions(text);
        assert_eq!(dirs.len(), 3, "{text}");
        for d in &dirs {
            assert!(
                (10..=15).contains(&d.main_tags.len()),
                "{text}: {} tags in {}",
                d.main_tags.len(),
                d.title
            );
            assert!(d.title.chars().count() <= 10, "{text}: title {}", d.title);
            assert!(
                find_conflicts(&d.main_tags).is_empty(),
                "{text}: conflicts in {:?}",
                d.main_tags
            );
            assert!(d.main_tags.iter().all(|t| index()
                .get(t)
                .is_some_and(|x| x.rating() == Rating::AllAges)));
            for t in *every {
                assert!(
                    d.main_tags.iter().any(|x| x == t),
                    "{text}: '{t}' missing from {:?}",
                    d.main_tags
                );
            }
        }
        for t in *some {
            assert!(
                dirs.iter().any(|d| d.main_tags.iter().any(|x| x == t)),
                "{text}: no direction has '{t}'"
            );
        }
        for i in 0..3 {
            for j in i + 1..3 {
                let o = overlap(&dirs[i].main_tags, &dirs[j].main_tags);
                assert!(
                    o <= 0.5,
                    "{text}: directions {i} and {j} share {o:.2}: {:?} / {:?}",
                    dirs[i].main_tags,
                    dirs[j].main_tags
                );
            }
        }
        assert!(!reply.is_empty());
    }
}

#[test]
fn unrecognised_input_still_gets_directions_and_a_question() {
    let (dirs, reply, _) = first_directions("嗯……");
    assert_eq!(dirs.len(), 3);
    assert!(reply.contains('？'), "{reply}");
    let (_, reply, _) = first_directions("hmm");
    assert!(reply.contains('?'), "{reply}");
}

#[test]
fn first_turn_uses_the_tools_in_order_with_parallel_understanding() {
    let (_, _, events) = first_directions("櫻花樹下的和服少女");
    let started: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::ToolStarted { tool, .. } => Some(tool.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        started,
        vec![UNDERSTAND_INTENT, SEARCH_EXAMPLES, GENERATE_IDEAS]
    );
}

fn tags_of(o: &crate::agent::TurnOutcome, index: usize) -> Vec<String> {
    o.directions.as_ref().expect("directions")[index - 1]
        .main_tags
        .clone()
}

#[test]
fn chinese_conversation_select_refine_twice_finalize() {
    let turns = converse(
        &Planner,
        &[
            "櫻花樹下的和服少女，溫柔寧靜的氛圍",
            "選擇方向 2",
            "可以更夢幻一點嗎？",
            "加夜景",
            "生成最終 prompt",
        ],
    );
    assert_eq!(turns[0].kind, ReplyKind::Directions);
    assert!(turns[1].reply.contains("收到"), "{}", turns[1].reply);
    assert!(turns[1].directions.is_none());
    // Dreamier: its tags arrive in direction 2 only; the others are untouched.
    let before = tags_of(&turns[0], 2);
    let dreamy = tags_of(&turns[2], 2);
    assert!(
        dreamy.contains(&"light_particles".to_string()) && dreamy.contains(&"bloom".to_string()),
        "{dreamy:?}"
    );
    assert_eq!(tags_of(&turns[2], 1), tags_of(&turns[0], 1));
    assert_ne!(before, dreamy);
    assert!(turns[2].reply.starts_with("好！"), "{}", turns[2].reply);
    // Night: night tags in, day tags out, the dreamy ones kept.
    let night = tags_of(&turns[3], 2);
    assert!(
        night.contains(&"night".to_string()) && night.contains(&"moonlight".to_string()),
        "{night:?}"
    );
    assert!(!night.contains(&"day".to_string()) && !night.contains(&"blue_sky".to_string()));
    assert!(night.contains(&"light_particles".to_string()));
    // Finalize: validated, safe, the refinements' CFG changes applied (+0.5 +0.5 on 8.0).
    let fin = &turns[4];
    assert_eq!(fin.kind, ReplyKind::Completed);
    let out = fin.final_output.as_ref().unwrap();
    assert!(out["quality_score"].as_u64().unwrap() >= 70);
    assert!(out["negative_prompt"]
        .as_str()
        .unwrap()
        .starts_with("nsfw, child, loli"));
    let positive = out["positive_prompt"].as_str().unwrap();
    assert!(
        positive.contains("night") && positive.contains("kimono"),
        "{positive}"
    );
    assert!(find_conflicts(&positive.split(", ").map(String::from).collect::<Vec<_>>()).is_empty());
    assert_eq!(out["parameters"]["cfg_scale"], 9.0);
    assert!(fin.reply.contains("完成"), "{}", fin.reply);
}

#[test]
fn english_conversation_with_named_additions_and_removals() {
    let turns = converse(
        &Planner,
        &[
            "a girl with an umbrella in a rainy city",
            "I'll take 1",
            "add a cat",
            "remove the umbrella",
            "finalize",
        ],
    );
    assert_eq!(turns[0].kind, ReplyKind::Directions);
    assert!(turns[0].reply.starts_with("Got it"), "{}", turns[0].reply);
    assert!(tags_of(&turns[0], 1).contains(&"umbrella".to_string()));
    assert!(
        tags_of(&turns[2], 1).contains(&"cat".to_string()),
        "{:?}",
        tags_of(&turns[2], 1)
    );
    let after = tags_of(&turns[3], 1);
    assert!(
        !after.contains(&"umbrella".to_string()) && after.contains(&"cat".to_string()),
        "{after:?}"
    );
    let out = turns[4].final_output.as_ref().expect("final output");
    assert!(out["positive_prompt"].as_str().unwrap().contains("cat"));
    assert!(!out["positive_prompt"]
        .as_str()
        .unwrap()
        .contains("umbrella"));
    assert!(turns[4].reply.starts_with("Done"), "{}", turns[4].reply);
}

#[test]
fn less_portrait_and_realistic_change_tags_and_parameters() {
    let turns = converse(
        &Planner,
        &["櫻花樹下的和服少女", "第一個", "少人像", "更寫實", "完成"],
    );
    let t = tags_of(&turns[2], 1);
    assert!(
        t.contains(&"no_humans".to_string()) && !t.contains(&"1girl".to_string()),
        "{t:?}"
    );
    let t = tags_of(&turns[3], 1);
    assert!(t.contains(&"photorealistic".to_string()), "{t:?}");
    let out = turns[4].final_output.as_ref().unwrap();
    // Realistic preset (cfg 6, 32 steps) with the realistic refinement (−1 cfg, +5 steps).
    assert_eq!(out["parameters"]["cfg_scale"], 5.0);
    assert_eq!(out["parameters"]["steps"], 37);
    assert_eq!(out["parameters"]["size"], "768x512");
}

#[test]
fn the_finalize_action_forces_finalize_even_without_a_selection() {
    let (first, _) = turn(&Planner, &[], "海邊的夕陽", None);
    let (fin, _) = turn(
        &Planner,
        &first.items,
        "生成最終 prompt",
        Some(FINALIZE_PROMPT),
    );
    assert_eq!(fin.kind, ReplyKind::Completed);
    assert_eq!(
        fin.final_output.unwrap()["title"],
        first.directions.unwrap()[0].title
    );
}

#[test]
fn deterministic() {
    let a = converse(
        &Planner,
        &[
            "浩瀚星空下，少女站在草原上，夢幻又孤獨",
            "第三個",
            "更柔和",
            "完成",
        ],
    );
    let b = converse(
        &Planner,
        &[
            "浩瀚星空下，少女站在草原上，夢幻又孤獨",
            "第三個",
            "更柔和",
            "完成",
        ],
    );
    assert_eq!(a, b);
}

#[test]
fn replies_keep_the_tone_limits() {
    let turns = converse(
        &Planner,
        &["櫻花樹下的和服少女", "選擇方向 2", "更明亮", "完成"],
    );
    for t in turns {
        let sentences: Vec<&str> = t
            .reply
            .split(['。', '！', '？', '\n'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect();
        assert!(sentences.len() <= 3, "{}", t.reply);
        assert!(t.reply.chars().count() <= 80, "{}", t.reply);
        assert!(sentences[0].chars().count() <= 18, "{}", t.reply);
    }
}

#[test]
fn english_titles_fit_and_name_the_direction() {
    let (dirs, _, _) = first_directions("a lonely girl on a rainy neon street at night");
    let titles: Vec<&str> = dirs.iter().map(|d| d.title.as_str()).collect();
    assert_eq!(titles[0], "Lonely");
    assert!(
        titles
            .iter()
            .all(|t| t.chars().count() <= 10 && !t.contains('_')),
        "{titles:?}"
    );
    assert_eq!(
        titles
            .iter()
            .collect::<std::collections::HashSet<_>>()
            .len(),
        3,
        "{titles:?}"
    );
}

#[test]
fn additions_and_removals_are_said_plainly() {
    let turns = converse(
        &Planner,
        &[
            "a girl with an umbrella in a rainy city",
            "add a cat",
            "remove the umbrella",
        ],
    );
    assert_eq!(turns[1].reply, "Done: added cat.");
    assert_eq!(turns[2].reply, "Done: removed umbrella.");
    let turns = converse(&Planner, &["撐傘的女孩在雨中", "加一隻貓"]);
    assert!(
        turns[1].reply.starts_with("好！加上了"),
        "{}",
        turns[1].reply
    );
}

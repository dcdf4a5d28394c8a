//! Reading what a user's message asks for, shared by the session (which records choices the
//! API makes explicit) and the offline planner: choosing a direction, or finishing.

/// A 1-based direction number chosen in free text ("選擇方向 2", "第二個", "I'll take 2",
/// "option 3", "the second one"), if the text is a choice among `count` directions.
pub fn parse_selection(text: &str, count: usize) -> Option<usize> {
    let t = text.trim().to_lowercase();
    if t.chars().count() > 40 || count == 0 {
        return None;
    }
    let n = number_in(&t)?;
    let cues = [
        "方向",
        "選",
        "选",
        "第",
        "要",
        "take",
        "choose",
        "pick",
        "option",
        "direction",
        "number",
        "#",
        "go with",
        "one",
        "個",
        "个",
    ];
    let bare = t
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .all(|c| c.is_ascii_digit());
    ((bare || cues.iter().any(|c| t.contains(c))) && (1..=count).contains(&n)).then_some(n)
}

/// The first number written as digits, Chinese numerals (一二三) or English ordinals/words.
fn number_in(t: &str) -> Option<usize> {
    if let Some(d) = t.chars().find(|c| c.is_ascii_digit()) {
        return d.to_digit(10).map(|d| d as usize);
    }
    let words: [(&[&str], usize); 3] = [
        (&["一", "first", "one"], 1),
        (&["二", "兩", "两", "second", "two"], 2),
        (&["三", "third", "three"], 3),
    ];
    // The earliest mention wins ("第一個" → 1 even though "one" might also appear later).
    words
        .iter()
        .filter_map(|(ws, n)| {
            ws.iter()
                .filter_map(|w| t.find(w))
                .min()
                .map(|pos| (pos, *n))
        })
        .min()
        .map(|(_, n)| n)
}

/// Whether the message asks for the final prompt ("生成最終 prompt", "完成", "finalize").
pub fn is_finalize_request(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    const CUES: &[&str] = &[
        "最終",
        "最终",
        "完成",
        "定稿",
        "輸出 prompt",
        "输出 prompt",
        "給我 prompt",
        "給我完整",
        "完整版",
        "就這樣",
        "就这样",
        "finalize",
        "final prompt",
        "finish",
        "done",
        "that's it",
        "wrap it up",
        "give me the prompt",
    ];
    CUES.iter().any(|c| t.contains(c))
}

/// What the session writes into the transcript for an explicit API action, so the model
/// (and the planner) see the choice in words.
pub fn select_text(index: usize, title: &str, english: bool) -> String {
    if english {
        format!("I choose direction {index}: {title}")
    } else {
        format!("選擇方向 {index}：{title}")
    }
}

pub fn finalize_text(english: bool) -> String {
    if english {
        "Please generate the final prompt.".into()
    } else {
        "生成最終 prompt".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selections_in_both_languages() {
        for (text, want) in [
            ("選擇方向 2", Some(2)),
            ("選擇方向 2：櫻下靜語", Some(2)),
            ("第二個", Some(2)),
            ("我要第3個", Some(3)),
            ("方向一", Some(1)),
            ("I'll take 2", Some(2)),
            ("option 3", Some(3)),
            ("the second one", Some(2)),
            ("2", Some(2)),
            ("#1", Some(1)),
            ("選擇方向 5", None),
            ("更夢幻一點", None),
            ("add two cats", None),
            ("make it dreamier", None),
        ] {
            assert_eq!(parse_selection(text, 3), want, "{text}");
        }
    }

    #[test]
    fn finalize_requests() {
        for t in [
            "生成最終 prompt",
            "完成",
            "好了，完成吧",
            "finalize",
            "Give me the final prompt",
            "done!",
        ] {
            assert!(is_finalize_request(t), "{t}");
        }
        for t in ["更夢幻", "選擇方向 2", "add a cat"] {
            assert!(!is_finalize_request(t), "{t}");
        }
    }
}

use super::*;
use crate::agent::testkit::turn;
use crate::planner::Planner;

fn limits() -> Limits {
    Limits {
        max_turns: 15,
        max_calls_per_tool: 5,
        max_cost_usd: 0.05,
        turn_timeout_ms: 120_000,
        repeat_threshold: 3,
        idle_ttl_ms: 86_400_000,
    }
}

fn started() -> (SessionState, Vec<crate::transcript::Item>) {
    let mut s = SessionState::new("id".into(), Rating::AllAges, false, "offline", 1);
    let p = prepare(&s, Some("櫻花樹下的和服少女"), None, &[], &limits()).unwrap();
    let (o, _) = turn(&Planner, &[], &p.user_text, p.force_tool);
    assert_eq!(apply(&mut s, &p, &o, 2, &limits()), None);
    (s, o.items)
}

#[test]
fn a_first_turn_shows_directions() {
    let (s, _) = started();
    assert_eq!(s.phase, Phase::Exploring);
    assert_eq!(s.turns, 1);
    assert_eq!(s.directions.len(), 3);
    assert_eq!(s.tool_calls["generate_ideas"], 1);
    let r = turn_response(&s, "directions", "hi", None, 5);
    assert_eq!(r["phase"], "exploring");
    assert_eq!(r["directions"].as_array().unwrap().len(), 3);
    assert_eq!(r["language"], "zh-TW");
}

#[test]
fn actions_become_words_and_selection_sticks_through_refinement() {
    let (mut s, mut history) = started();
    let p = prepare(&s, None, Some(&Action::Select(2)), &[], &limits()).unwrap();
    assert!(p.user_text.starts_with("選擇方向 2："));
    assert_eq!(p.select, Some(2));
    let (o, _) = turn(&Planner, &history, &p.user_text, p.force_tool);
    apply(&mut s, &p, &o, 3, &limits());
    history.extend(o.items);
    assert_eq!((s.phase, s.selected), (Phase::Refining, Some(2)));
    let p = prepare(&s, Some("更夢幻"), None, &[], &limits()).unwrap();
    let (o, _) = turn(&Planner, &history, &p.user_text, p.force_tool);
    apply(&mut s, &p, &o, 4, &limits());
    history.extend(o.items);
    assert_eq!(s.selected, Some(2), "a refined set keeps the choice");
    let p = prepare(&s, None, Some(&Action::Finalize), &[], &limits()).unwrap();
    assert_eq!(p.force_tool, Some(FINALIZE_PROMPT));
    let (o, _) = turn(&Planner, &history, &p.user_text, p.force_tool);
    apply(&mut s, &p, &o, 5, &limits());
    assert_eq!(s.phase, Phase::Completed);
    assert!(s.final_output.is_some() && s.quality_score.unwrap() >= 70);
}

#[test]
fn invalid_actions_and_closed_sessions_are_refused() {
    let (mut s, _) = started();
    assert!(matches!(
        prepare(&s, None, Some(&Action::Select(4)), &[], &limits()),
        Err(Refusal::Invalid("action.direction", _))
    ));
    assert!(matches!(
        prepare(&s, None, None, &[], &limits()),
        Err(Refusal::Invalid("message", _))
    ));
    let fresh = SessionState::new("x".into(), Rating::AllAges, false, "offline", 1);
    assert!(matches!(
        prepare(&fresh, None, Some(&Action::Finalize), &[], &limits()),
        Err(Refusal::Invalid("action", _))
    ));
    abort(&mut s, AbortReason::CostLimit, None, 9);
    assert_eq!(
        prepare(&s, Some("hi"), None, &[], &limits()),
        Err(Refusal::Closed)
    );
}

#[test]
fn turn_and_repetition_limits_fire_before_the_turn() {
    let (mut s, _) = started();
    s.turns = 15;
    assert_eq!(
        prepare(&s, Some("更夢幻"), None, &[], &limits()),
        Err(Refusal::Abort(AbortReason::TurnLimit))
    );
    s.turns = 3;
    let recent = vec!["要更夢幻".to_string(), "要更夢幻！".to_string()];
    assert_eq!(
        prepare(&s, Some("要 更夢幻"), None, &recent, &limits()),
        Err(Refusal::Abort(AbortReason::Repetition))
    );
    assert!(prepare(&s, Some("加夜景"), None, &recent, &limits()).is_ok());
}

#[test]
fn cost_over_the_cap_aborts_with_the_best_result() {
    let (mut s, history) = started();
    let tight = Limits {
        max_cost_usd: 0.0,
        ..limits()
    };
    let p = prepare(&s, Some("更柔和"), None, &[], &tight).unwrap();
    let (o, _) = turn(&Planner, &history, &p.user_text, None);
    assert_eq!(
        apply(&mut s, &p, &o, 3, &tight),
        Some(AbortReason::CostLimit)
    );
    abort(
        &mut s,
        AbortReason::CostLimit,
        Some(json!({"title": "best"})),
        4,
    );
    assert_eq!(s.phase, Phase::Aborted);
    assert_eq!(s.abort_reason.as_deref(), Some("cost_limit"));
    assert_eq!(s.final_output.as_ref().unwrap()["title"], "best");
    let m = AbortReason::CostLimit.message(false);
    assert!(m.contains("捷徑") && m.contains("最接近"));
    for bad in ["超過預算", "成本限制", "已達上限"] {
        assert!(!m.contains(bad));
    }
}

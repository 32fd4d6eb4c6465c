//! The rules of training as tables.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

const CUR: Completion = Completion { on_current_revision: true, expires_on: None };
const OLD: Completion = Completion { on_current_revision: false, expires_on: None };

#[test]
fn cell_status_table() {
    let today = d("2026-12-02");
    let lapsing = |s: &str| Completion { on_current_revision: true, expires_on: Some(d(s)) };
    let cases: &[(bool, Option<&str>, Option<Completion>, CellStatus)] = &[
        (false, None, None, CellStatus::NotRequired),
        (false, Some("2026-11-01"), None, CellStatus::NotRequired),
        (false, None, Some(CUR), CellStatus::NotRequired),
        (true, Some("2026-12-31"), None, CellStatus::Assigned),
        (true, Some("2026-12-10"), None, CellStatus::Assigned),
        (true, Some("2026-12-09"), None, CellStatus::DueSoon),
        (true, Some("2026-12-02"), None, CellStatus::DueSoon),
        (true, Some("2026-12-01"), None, CellStatus::Overdue),
        (true, None, Some(CUR), CellStatus::Completed),
        (true, Some("2026-12-01"), Some(CUR), CellStatus::Completed),
        (true, None, Some(lapsing("2026-12-03")), CellStatus::Completed),
        (true, None, Some(lapsing("2026-12-02")), CellStatus::Expired),
        (true, Some("2026-12-20"), Some(lapsing("2026-11-30")), CellStatus::Expired),
        (true, Some("2026-11-30"), Some(lapsing("2026-11-30")), CellStatus::Overdue),
        (true, Some("2026-12-20"), Some(OLD), CellStatus::Superseded),
        (true, Some("2026-12-01"), Some(OLD), CellStatus::Overdue),
        (true, None, None, CellStatus::Assigned),
    ];
    for (required, due, last, want) in cases {
        assert_eq!(cell_status(*required, due.map(d), *last, today), *want, "{required} {due:?} {last:?}");
    }
}

#[test]
fn every_status_has_a_distinct_code_and_symbol() {
    let codes: BTreeSet<char> = CellStatus::ALL.iter().map(|s| s.code()).collect();
    let symbols: BTreeSet<&str> = CellStatus::ALL.iter().map(|s| s.symbol()).collect();
    assert_eq!(codes.len(), 7);
    assert_eq!(symbols.len(), 7);
    for s in CellStatus::ALL {
        assert_eq!(CellStatus::from_code(s.code()), Some(s));
    }
}

#[test]
fn when_an_assignment_is_due() {
    let today = d("2026-12-02");
    let lapsing = |s: &str| Some(Completion { on_current_revision: true, expires_on: Some(d(s)) });
    // (an assignment open, the last completion, the train-by date, the due date wanted)
    type Case = (bool, Option<Completion>, Option<&'static str>, Option<&'static str>);
    let cases: &[Case] = &[
        // Never a second open assignment.
        (true, None, None, None),
        (true, Some(OLD), None, None),
        // Never trained: completion period from today, or the new revision's train-by date.
        (false, None, None, Some("2026-12-16")),
        (false, None, Some("2026-12-10"), Some("2026-12-10")),
        // A train-by date already past does not make it overdue on the day it is assigned.
        (false, None, Some("2026-11-10"), Some("2026-12-16")),
        // Trained on an older revision: a new assignment.
        (false, Some(OLD), Some("2026-12-20"), Some("2026-12-20")),
        // Current, not recurring: nothing.
        (false, Some(CUR), None, None),
        // Recurring: the refresher is assigned 14 days before the lapse, due on the last day
        // the completion counts.
        (false, lapsing("2027-01-01"), None, None),
        (false, lapsing("2026-12-16"), None, Some("2026-12-15")),
        (false, lapsing("2026-12-10"), None, Some("2026-12-09")),
        (false, lapsing("2026-12-03"), None, Some("2026-12-02")),
        // Lapsed while the server was down: due today.
        (false, lapsing("2026-11-01"), None, Some("2026-12-02")),
    ];
    for (open, last, train_by, want) in cases {
        assert_eq!(assignment_due(*open, *last, 14, train_by.map(d), today), want.map(d), "{open} {last:?}");
    }
}

#[test]
fn curricula_are_a_union_of_roles_and_department() {
    let lines = [
        CurriculumLine { requirement_id: RequirementId(1), role: Some(Role::Staff), department_id: None },
        CurriculumLine { requirement_id: RequirementId(2), role: None, department_id: Some(DepartmentId(7)) },
        CurriculumLine { requirement_id: RequirementId(1), role: None, department_id: Some(DepartmentId(7)) },
        CurriculumLine { requirement_id: RequirementId(3), role: Some(Role::Auditor), department_id: None },
    ];
    let ids = |v: &[i64]| v.iter().map(|i| RequirementId(*i)).collect::<BTreeSet<_>>();
    assert_eq!(required_of(&lines, &[Role::Staff], None), ids(&[1]));
    assert_eq!(required_of(&lines, &[Role::Staff], Some(DepartmentId(7))), ids(&[1, 2]));
    assert_eq!(required_of(&lines, &[Role::Auditor, Role::Staff], Some(DepartmentId(8))), ids(&[1, 3]));
    assert_eq!(required_of(&lines, &[Role::Executive], None), ids(&[]));
    let bad = CurriculumLine { requirement_id: RequirementId(1), role: None, department_id: None };
    assert!(bad.validate().unwrap_err().get("role").is_some());
}

fn quiz() -> Quiz {
    Quiz {
        questions: vec![
            Question { text: "One?".into(), options: vec!["a".into(), "b".into()], correct: vec![1] },
            Question { text: "Two?".into(), options: vec!["a".into(), "b".into(), "c".into()], correct: vec![0, 2] },
            Question { text: "Three?".into(), options: vec!["a".into(), "b".into()], correct: vec![0] },
            Question { text: "Four?".into(), options: vec!["a".into(), "b".into()], correct: vec![0] },
        ],
        pass_mark: 75,
        attempts_allowed: 3,
    }
}

#[test]
fn a_quiz_is_marked_question_by_question() {
    let q = quiz();
    assert_eq!(q.mark(&[vec![1], vec![0, 2], vec![0], vec![0]]), (100, true));
    assert_eq!(q.mark(&[vec![1], vec![2, 0], vec![0], vec![1]]), (75, true));
    // Half of a "choose all that apply" is wrong.
    assert_eq!(q.mark(&[vec![1], vec![0], vec![0], vec![1]]), (50, false));
    assert_eq!(q.mark(&[]), (0, false));
    // Choosing every option is not a way through.
    assert_eq!(q.mark(&[vec![0, 1], vec![0, 1, 2], vec![0, 1], vec![0, 1]]), (0, false));
}

#[test]
fn the_trainee_never_sees_the_key_and_gets_every_question_once() {
    let q = quiz();
    let sheet = q.for_trainee(42);
    let json = serde_json::to_string(&sheet).unwrap();
    assert!(!json.contains("correct"));
    let mut seen: Vec<u32> = sheet.iter().map(|s| s.index).collect();
    seen.sort_unstable();
    assert_eq!(seen, vec![0, 1, 2, 3]);
    assert!(sheet.iter().find(|s| s.index == 1).unwrap().several);
    // Some seed gives another order.
    assert!((0..20).any(|s| q.for_trainee(s).iter().map(|x| x.index).collect::<Vec<_>>() != vec![0, 1, 2, 3]));
}

#[test]
fn requirement_rules_name_the_field() {
    let base = RequirementInput {
        title: "Read SOP".into(),
        kind: RequirementKind::ReadAndUnderstand,
        document_id: None,
        quiz: None,
        recurrence_months: None,
        completion_days: 14,
    };
    assert!(base.validate().unwrap_err().get("document_id").is_some());
    let quiz_kind = RequirementInput { kind: RequirementKind::Quiz, ..base.clone() };
    assert!(quiz_kind.validate().unwrap_err().get("quiz").is_some());
    let mut bad = quiz();
    bad.questions[0].correct = vec![5];
    bad.pass_mark = 0;
    let e = RequirementInput { kind: RequirementKind::Quiz, quiz: Some(bad), completion_days: 0, ..base.clone() }
        .validate()
        .unwrap_err();
    assert!(e.get("quiz.questions[0].correct").is_some());
    assert!(e.get("quiz.pass_mark").is_some());
    assert!(e.get("completion_days").is_some());
    let ok = RequirementInput { document_id: Some(DocumentId(1)), recurrence_months: Some(12), ..base };
    assert!(ok.validate().is_ok());
}

#[test]
fn revision_in_force_and_training_baseline() {
    let revs = [
        RevisionFacts { seq: 1, effective_from: Some(d("2025-01-01")), no_retraining: false },
        RevisionFacts { seq: 2, effective_from: Some(d("2026-03-01")), no_retraining: false },
        RevisionFacts { seq: 3, effective_from: Some(d("2026-06-01")), no_retraining: true },
        RevisionFacts { seq: 4, effective_from: None, no_retraining: false },
    ];
    assert_eq!(in_force_on(&revs, d("2024-12-31")), None);
    assert_eq!(in_force_on(&revs, d("2026-03-01")), Some(2));
    assert_eq!(in_force_on(&revs, d("2026-12-01")), Some(3));
    assert_eq!(training_baseline(&revs, 3), 2);
    assert_eq!(training_baseline(&revs, 4), 4);
    assert_eq!(training_baseline(&revs, 1), 1);
    assert_eq!(expires_on(d("2026-01-31"), Some(1)), Some(d("2026-02-28")));
    assert_eq!(expires_on(d("2026-01-31"), None), None);
}

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
    assert_eq!(codes.len(), 8);
    assert_eq!(symbols.len(), 8);
    assert_eq!(CellStatus::Exempt.code(), 'n');
    assert_eq!(CellStatus::parse("exempt"), Some(CellStatus::Exempt));
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

#[test]
fn an_exempt_cell_whatever_was_done_and_never_counted() {
    let today = d("2026-12-02");
    // (required, exempt, due, last, the status)
    type Case = (bool, bool, Option<&'static str>, Option<Completion>, CellStatus);
    let cases: &[Case] = &[
        (true, true, None, None, CellStatus::Exempt),
        (true, true, Some("2026-11-01"), None, CellStatus::Exempt),
        (true, true, None, Some(CUR), CellStatus::Exempt),
        (true, true, Some("2026-12-20"), Some(OLD), CellStatus::Exempt),
        // Not required stays not required, exempt or not.
        (false, true, None, None, CellStatus::NotRequired),
        // Not exempt: as cell_status says.
        (true, false, Some("2026-12-01"), None, CellStatus::Overdue),
        (true, false, None, Some(CUR), CellStatus::Completed),
    ];
    for (required, exempt, due, last, want) in cases {
        assert_eq!(cell_status_exempt(*required, *exempt, due.map(d), *last, today), *want, "{required} {exempt}");
    }
    assert!(!CellStatus::Exempt.counts_as_required() && !CellStatus::NotRequired.counts_as_required());
    assert!(CellStatus::Overdue.counts_as_required());
    // An exemption applies through its last day.
    assert!(exemption_active(false, None, today));
    assert!(exemption_active(false, Some(today), today));
    assert!(!exemption_active(false, Some(d("2026-12-01")), today));
    assert!(!exemption_active(true, None, today));
}

fn person(id: i64, name: &str, department: &str, roles: &[Role]) -> MatrixPerson {
    MatrixPerson { id: UserId(id), name: name.into(), department: Some(department.into()), roles: roles.to_vec() }
}

#[test]
fn the_matrix_filters_rows_and_columns_and_exempt_cells_do_not_count() {
    let requirement =
        |id: i64| MatrixRequirement { id: RequirementId(id), title: format!("R{id}"), document_number: None };
    let m = Matrix {
        today: d("2026-12-02"),
        people: vec![
            person(1, "Lee Chen", "Assembly", &[Role::Staff]),
            person(2, "Marta Kowalska", "Assembly", &[Role::Staff, Role::Auditor]),
            person(3, "Tom Okafor", "Quality", &[Role::ProcessOwner]),
        ],
        requirements: vec![requirement(10), requirement(11)],
        cells: "cnoac-".into(),
    };
    let all = MatrixFilter::default();
    assert_eq!(m.select(|_| true, &all), m);
    let only = |f: MatrixFilter| m.select(|_| true, &f).people.iter().map(|p| p.id.0).collect::<Vec<_>>();
    assert_eq!(only(MatrixFilter { department: Some("Assembly".into()), ..all.clone() }), vec![1, 2]);
    assert_eq!(only(MatrixFilter { role: Some("auditor".into()), ..all.clone() }), vec![2]);
    assert_eq!(only(MatrixFilter { status: Some("overdue".into()), ..all.clone() }), vec![2]);
    assert_eq!(only(MatrixFilter { q: Some("OKA".into()), ..all.clone() }), vec![3]);
    assert_eq!(only(MatrixFilter { department: Some(" ".into()), ..all.clone() }), vec![1, 2, 3]);
    let one = m.select(|p| p.id.0 != 2, &MatrixFilter { requirement_id: Some(11), ..all.clone() });
    assert_eq!((one.people.len(), one.requirements.len(), one.cells.as_str()), (2, 1, "n-"));
    // Lee: 1 of 1 required (the exempt cell is not counted); Marta: 0 of 2; Tom: 1 of 1.
    let rates = m.completion_by_department();
    assert_eq!((rates[0].department.as_str(), rates[0].required, rates[0].completed), ("Assembly", 3, 1));
    assert!(
        MatrixFilter { status: Some("late".into()), ..all.clone() }.validate().unwrap_err().get("status").is_some()
    );
    assert!(MatrixFilter { role: Some("boss".into()), ..all }.validate().unwrap_err().get("role").is_some());
}

#[test]
fn exemption_and_session_inputs_name_their_fields() {
    let today = d("2026-12-02");
    let ex = ExemptionInput { user_id: UserId(1), requirement_id: RequirementId(2), reason: " ".into(), until: None };
    assert!(ex.validate(Some(today)).unwrap_err().get("reason").is_some());
    let past = ExemptionInput { reason: "Not on the line".into(), until: Some(d("2026-12-01")), ..ex.clone() };
    assert!(past.validate(Some(today)).unwrap_err().get("until").is_some());
    assert!(ExemptionInput { until: Some(today), ..past.clone() }.validate(Some(today)).is_ok());
    let long = ExemptionInput { reason: "x".repeat(EXEMPTION_REASON_MAX + 1), ..past };
    assert!(long.validate(None).unwrap_err().get("reason").is_some());
    assert!(RevokeInput { reason: String::new() }.validate().unwrap_err().get("reason").is_some());

    let s = ClassSessionInput {
        requirement_id: RequirementId(1),
        held_on: today,
        attendee_ids: vec![UserId(4), UserId(5), UserId(4)],
        notes: String::new(),
    };
    assert!(s.validate(Some(today)).unwrap_err().get("attendee_ids[2]").is_some());
    let none = ClassSessionInput { attendee_ids: Vec::new(), ..s.clone() };
    assert!(none.validate(Some(today)).unwrap_err().get("attendee_ids").is_some());
    let future = ClassSessionInput { held_on: d("2026-12-03"), attendee_ids: vec![UserId(4)], ..s.clone() };
    assert!(future.validate(Some(today)).unwrap_err().get("held_on").is_some());
    let notes = ClassSessionInput { notes: "n".repeat(SESSION_NOTES_MAX + 1), attendee_ids: vec![UserId(4)], ..s };
    assert!(notes.validate(Some(today)).unwrap_err().get("notes").is_some());
}

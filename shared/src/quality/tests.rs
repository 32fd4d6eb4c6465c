use chrono::NaiveDate;

use super::capa::{Move, next};
use super::metrics::pareto;
use super::*;
use crate::org::RecordMeta;

fn d(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

const MANAGER: Actor = Actor { manager: true, owner: false, verifier: false };
const OWNER: Actor = Actor { manager: false, owner: true, verifier: false };
const VERIFIER: Actor = Actor { manager: false, owner: false, verifier: true };
const NOBODY: Actor = Actor { manager: false, owner: false, verifier: false };
const MANAGER_OWNER: Actor = Actor { manager: true, owner: true, verifier: false };
const OWNER_VERIFIER: Actor = Actor { manager: false, owner: true, verifier: true };

/// Every legal move, from where, to where: all other (state, move) pairs are illegal.
const LEGAL: &[(CapaState, Move, CapaState)] = &[
    (CapaState::Draft, Move::Submit, CapaState::Triage),
    (CapaState::Triage, Move::Triage, CapaState::Investigation),
    (CapaState::Investigation, Move::SubmitPlan, CapaState::ActionPlan),
    (CapaState::ActionPlan, Move::ReturnPlan, CapaState::Investigation),
    (CapaState::ActionPlan, Move::ApprovePlan, CapaState::Implementation),
    (CapaState::Implementation, Move::CompleteImplementation, CapaState::Verification),
    (CapaState::Verification, Move::Verify, CapaState::Effectiveness),
    (CapaState::Verification, Move::RejectImplementation, CapaState::Implementation),
    (CapaState::Effectiveness, Move::Effective, CapaState::Closed),
    (CapaState::Effectiveness, Move::Ineffective, CapaState::Investigation),
    (CapaState::Effectiveness, Move::Inconclusive, CapaState::Effectiveness),
];

/// Who may make each move.
fn allowed(mv: Move, a: Actor) -> Result<(), StepError> {
    match mv {
        Move::Triage | Move::ReturnPlan | Move::ApprovePlan | Move::Cancel => {
            if a.manager {
                Ok(())
            } else {
                Err(StepError::NotManager)
            }
        }
        Move::Submit | Move::SubmitPlan | Move::CompleteImplementation => {
            if a.manager || a.owner {
                Ok(())
            } else {
                Err(StepError::NotOwner)
            }
        }
        _ if a.owner => Err(StepError::VerifierIsOwner),
        _ if a.verifier => Ok(()),
        _ => Err(StepError::NotVerifier),
    }
}

#[test]
fn every_state_move_and_actor() {
    let actors = [MANAGER, OWNER, VERIFIER, NOBODY, MANAGER_OWNER, OWNER_VERIFIER];
    let mut legal_seen = 0;
    for state in CapaState::ALL {
        for mv in Move::ALL {
            let target = LEGAL
                .iter()
                .find(|(s, m, _)| *s == state && *m == mv)
                .map(|(_, _, t)| *t)
                .or(if mv == Move::Cancel && state.is_open() { Some(CapaState::Cancelled) } else { None });
            for a in actors {
                let got = next(state, mv, a);
                let want = match target {
                    None => Err(StepError::WrongState),
                    Some(t) => allowed(mv, a).map(|()| t),
                };
                assert_eq!(got, want, "{state:?} {mv:?} {a:?}");
                if got.is_ok() {
                    legal_seen += 1;
                }
            }
        }
    }
    // 11 listed moves and cancel from 7 open states, each by at least one actor.
    assert!(legal_seen >= 18, "{legal_seen}");
    assert_eq!(next(CapaState::Closed, Move::Cancel, MANAGER), Err(StepError::WrongState));
    assert_eq!(next(CapaState::Verification, Move::Verify, MANAGER_OWNER), Err(StepError::VerifierIsOwner));
    assert_eq!(next(CapaState::Verification, Move::Verify, MANAGER), Err(StepError::NotVerifier));
}

fn capa(state: CapaState) -> Capa {
    Capa {
        id: CapaId(1),
        number: "CAPA-0001".into(),
        title: "Burrs on housings".into(),
        kind: capa::CapaKind::Corrective,
        state,
        nc: None,
        complaint: None,
        process_id: None,
        process_name: None,
        owner_id: Some(crate::auth::UserId(2)),
        owner_name: Some("Tom".into()),
        verifier_id: Some(crate::auth::UserId(3)),
        verifier_name: Some("Sam".into()),
        severity: None,
        likelihood: None,
        risk: None,
        due_on: Some(d("2026-12-31")),
        original_due_on: Some(d("2026-12-31")),
        effectiveness_due_on: None,
        investigation: Investigation { problem: "Burrs".into(), ..Investigation::default() },
        actions: vec![],
        extensions: vec![],
        effectiveness: vec![],
        reopen_count: 0,
        eight_d: false,
        plan_version: 1,
        opened_on: d("2026-11-01"),
        verification: None,
        closed_on: None,
        meta: RecordMeta {
            version: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            retired_at: None,
            retired_reason: None,
        },
    }
}

fn codes(r: Result<CapaState, crate::FieldErrors>, field: &str) -> Vec<String> {
    r.err().and_then(|e| e.get(field).map(<[String]>::to_vec)).unwrap_or_default()
}

#[test]
fn steps_name_what_is_missing() {
    let today = d("2026-12-02");
    let c = capa(CapaState::Triage);
    let triage = CapaStep::Triage {
        severity: 6,
        likelihood: 3,
        owner_id: Some(crate::auth::UserId(2)),
        verifier_id: Some(crate::auth::UserId(2)),
        due_on: Some(today),
        version: 1,
    };
    let r = triage.check(&c, MANAGER, &[], today);
    assert_eq!(codes(r.clone(), "severity"), ["invalid"]);
    assert_eq!(codes(r.clone(), "verifier_id"), [VERIFIER_IS_OWNER]);
    assert_eq!(codes(r, "due_on"), [TOO_EARLY]);

    let c = capa(CapaState::Investigation);
    let r = CapaStep::SubmitPlan { version: 1 }.check(&c, OWNER, &[], today);
    assert_eq!(codes(r.clone(), "investigation.causes"), [NO_CONFIRMED_CAUSE]);
    assert_eq!(codes(r, "actions"), [NO_ACTIONS]);

    let c = capa(CapaState::Implementation);
    let open =
        [OpenWork { action_id: capa::ActionId(1), description: "Document revision SOP-0001 rev B is draft".into() }];
    assert_eq!(
        codes(CapaStep::CompleteImplementation { version: 1 }.check(&c, OWNER, &open, today), "actions"),
        [WORK_OPEN]
    );
    assert_eq!(
        CapaStep::CompleteImplementation { version: 1 }.check(&c, OWNER, &[], today),
        Ok(CapaState::Verification)
    );

    let mut c = capa(CapaState::Effectiveness);
    c.effectiveness_due_on = Some(d("2026-12-10"));
    let step = CapaStep::RecordEffectiveness {
        result: EffectivenessResult::Inconclusive,
        note: "Too few lots".into(),
        next_check_on: None,
        version: 1,
    };
    let r = step.check(&c, VERIFIER, &[], today);
    assert_eq!(codes(r.clone(), "effectiveness_due_on"), [TOO_EARLY]);
    assert_eq!(codes(r, "next_check_on"), ["required"]);
    // The owner never verifies, not even as the quality manager.
    assert_eq!(codes(step.check(&c, MANAGER_OWNER, &[], d("2026-12-10")), "step"), [VERIFIER_IS_OWNER]);
}

#[test]
fn due_dates_move_only_by_extension() {
    let c = capa(CapaState::Investigation);
    let update = CapaUpdate {
        title: "t".into(),
        process_id: None,
        investigation: c.investigation.clone(),
        eight_d: false,
        due_on: Some(d("2027-03-01")),
        version: 1,
    };
    assert_eq!(update.check(&c, OWNER).unwrap_err().get("due_on").unwrap(), [USE_EXTENSION]);
    let earlier = ExtensionInput { due_on: Some(d("2026-12-20")), reason: "Supplier late".into(), version: 1 };
    assert_eq!(earlier.check(&c, OWNER).unwrap_err().get("due_on").unwrap(), [TOO_EARLY]);
    let later = ExtensionInput { due_on: Some(d("2027-01-20")), reason: "Supplier late".into(), version: 1 };
    assert_eq!(later.check(&c, OWNER), Ok(()));
    assert!(later.check(&c, VERIFIER).is_err());
    // The investigation is frozen once the plan is submitted.
    let mut c = capa(CapaState::Implementation);
    c.investigation.whys = vec!["a".into()];
    let update = CapaUpdate {
        title: "t".into(),
        process_id: None,
        investigation: Investigation { whys: vec!["b".into()], ..c.investigation.clone() },
        eight_d: false,
        due_on: None,
        version: 1,
    };
    assert_eq!(update.check(&c, OWNER).unwrap_err().get("investigation").unwrap(), [WRONG_STATE]);
}

#[test]
fn risk_rank() {
    assert_eq!(RiskRank::of(5, 3), RiskRank::High);
    assert_eq!(RiskRank::of(3, 5), RiskRank::High);
    assert_eq!(RiskRank::of(5, 1), RiskRank::Medium);
    assert_eq!(RiskRank::of(2, 3), RiskRank::Medium);
    assert_eq!(RiskRank::of(2, 2), RiskRank::Low);
    assert_eq!(RiskRank::of(1, 1), RiskRank::Low);
}

#[test]
fn percentiles_on_even_and_odd_counts() {
    let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(percentile(&mut v, 50.0), Some(5.5));
    assert!((percentile(&mut v, 90.0).unwrap() - 9.1).abs() < 1e-9);
    let mut v = vec![30.0, 10.0, 20.0, 40.0];
    assert_eq!(percentile(&mut v, 50.0), Some(25.0));
    assert!((percentile(&mut v, 90.0).unwrap() - 37.0).abs() < 1e-9);
    let mut v = vec![7.0, 3.0, 5.0];
    assert_eq!(percentile(&mut v, 50.0), Some(5.0));
    assert_eq!(percentile(&mut [], 50.0), None);
    assert_eq!(percentile(&mut [4.0], 90.0), Some(4.0));
}

fn facts(opened: &str, closed: Option<&str>, due: &str) -> CapaFacts {
    CapaFacts {
        process_id: None,
        state: if closed.is_some() { CapaState::Closed } else { CapaState::Investigation },
        found_on: None,
        opened_on: d(opened),
        closed_on: closed.map(d),
        original_due_on: Some(d(due)),
        investigated: true,
        root_cause_found: closed.is_some(),
        checks: vec![],
        reopen_count: 0,
    }
}

#[test]
fn metrics_by_hand() {
    // Four CAPAs closed in November after 10, 20, 30 and 40 days; one open; one opened earlier.
    let mut all = vec![
        facts("2026-10-22", Some("2026-11-01"), "2026-11-30"),
        facts("2026-10-21", Some("2026-11-10"), "2026-11-05"),
        facts("2026-10-31", Some("2026-11-30"), "2026-12-01"),
        facts("2026-11-05", Some("2026-12-15"), "2026-12-31"),
        facts("2026-11-10", None, "2026-12-31"),
    ];
    all[3].closed_on = Some(d("2026-11-14"));
    all[3].opened_on = d("2026-10-05");
    all[0].reopen_count = 1;
    all[0].checks =
        vec![(d("2026-10-25"), EffectivenessResult::Ineffective), (d("2026-11-01"), EffectivenessResult::Effective)];
    all[1].checks = vec![(d("2026-11-10"), EffectivenessResult::Effective)];
    all[2].checks =
        vec![(d("2026-11-20"), EffectivenessResult::Inconclusive), (d("2026-11-30"), EffectivenessResult::Ineffective)];
    all[4].found_on = Some(d("2026-11-03"));
    let m = CapaMetrics::compute(&all, d("2026-11-01"), d("2026-11-30"));
    assert_eq!(m.closed, 4);
    assert_eq!(m.opened, 1);
    // Closure days 10, 20, 30, 40: median 25, p90 37 (interpolated).
    assert_eq!(m.closure_median_days, Some(25.0));
    assert!((m.closure_p90_days.unwrap() - 37.0).abs() < 1e-9);
    // On time: the 1st (Nov 1 ≤ Nov 30), 3rd (Nov 30 ≤ Dec 1), 4th (Nov 14 ≤ Dec 31); not the 2nd.
    assert_eq!(m.on_time_rate, Some(75.0));
    // Verdicts in November: effective, effective, ineffective (the inconclusive one does not count).
    assert!((m.effectiveness_rate.unwrap() - 200.0 / 3.0).abs() < 1e-9);
    assert_eq!(m.reopen_rate, Some(25.0));
    assert_eq!(m.time_to_open_days, Some(7.0));
    // The one opened in November is investigated without a confirmed cause.
    assert_eq!(m.root_cause_rate, Some(0.0));
    let empty = CapaMetrics::compute(&all, d("2025-01-01"), d("2025-01-31"));
    assert_eq!(empty.closure_median_days, None);
    assert_eq!(empty.on_time_rate, None);
}

#[test]
fn pareto_orders_and_accumulates() {
    let bar = |label: &str, count| ParetoBar {
        id: None,
        label: label.into(),
        count,
        quantity: 0,
        cost: 0,
        cumulative_percent: 0.0,
    };
    let bars = pareto(vec![bar("b", 1), bar("a", 6), bar("c", 3)]);
    assert_eq!(bars.iter().map(|b| b.label.as_str()).collect::<Vec<_>>(), ["a", "c", "b"]);
    assert_eq!(bars.iter().map(|b| b.cumulative_percent).collect::<Vec<_>>(), [60.0, 90.0, 100.0]);
}

#[test]
fn amounts() {
    assert_eq!(parse_amount("1,234.5"), Some(123_450));
    assert_eq!(parse_amount("0"), Some(0));
    assert_eq!(parse_amount(""), Some(0));
    assert_eq!(parse_amount(".5"), Some(50));
    assert_eq!(parse_amount("12.345"), None);
    assert_eq!(parse_amount("-3"), None);
    assert_eq!(parse_amount("abc"), None);
    assert_eq!(format_amount(123_450), "1,234.50");
    assert_eq!(format_amount(5), "0.05");
    assert_eq!(format_amount(100_000_000), "1,000,000.00");
}

#[test]
fn an_nc_closes_only_evaluated_and_dispositioned() {
    let nc = Nc {
        id: NcId(1),
        number: "NC-00001".into(),
        source: NcSource::Internal,
        category_id: CategoryId(1),
        category: "Dimensional".into(),
        process_id: None,
        process_name: None,
        product: "Housing".into(),
        lot: String::new(),
        quantity: 4,
        description: "Out of tolerance".into(),
        containment: String::new(),
        reported_on: d("2026-12-01"),
        reported_by: crate::auth::UserId(5),
        reported_by_name: "Lee".into(),
        costs: Costs::default(),
        disposition: None,
        disposition_note: String::new(),
        dispositioned_by: None,
        evaluation: None,
        capa_id: None,
        capa_number: None,
        complaint_id: None,
        complaint_number: None,
        state: NcState::Open,
        closed_on: None,
        meta: capa(CapaState::Draft).meta,
    };
    let close = NcStep::Close { version: 1 };
    let e = close.check(&nc, true).unwrap_err();
    assert_eq!(e.get("disposition").unwrap(), [NO_DISPOSITION]);
    assert_eq!(e.get("evaluation").unwrap(), [NOT_EVALUATED]);
    let mut evaluated = nc.clone();
    evaluated.disposition = Some(Disposition::Rework);
    evaluated.evaluation = Some(Evaluation {
        capa_needed: true,
        rationale: "Third time".into(),
        root_cause: None,
        by: "P".into(),
        on: d("2026-12-01"),
    });
    assert_eq!(close.check(&evaluated, true).unwrap_err().get("capa_id").unwrap(), [CAPA_MISSING]);
    evaluated.capa_id = Some(CapaId(3));
    assert_eq!(close.check(&evaluated, true), Ok(()));
    // Only a qualified role decides the disposition; "use as is" needs its justification.
    let use_as_is = NcStep::Disposition { disposition: Disposition::UseAsIs, note: String::new(), version: 1 };
    assert_eq!(use_as_is.check(&nc, false).unwrap_err().get("disposition").unwrap(), [NOT_QUALIFIED]);
    assert_eq!(use_as_is.check(&nc, true).unwrap_err().get("note").unwrap(), ["required"]);
    let input = NcInput {
        source: NcSource::Internal,
        category_id: None,
        process_id: None,
        product: String::new(),
        lot: String::new(),
        quantity: 1,
        description: " ".into(),
        containment: String::new(),
        reported_on: Some(d("2026-12-05")),
        costs: Costs { scrap: -1, ..Costs::default() },
        complaint_id: None,
        version: None,
    };
    let e = input.validate(d("2026-12-02")).unwrap_err();
    assert_eq!(e.get("category_id").unwrap(), ["required"]);
    assert_eq!(e.get("description").unwrap(), ["required"]);
    assert_eq!(e.get("reported_on").unwrap(), [FUTURE_DATE]);
    assert_eq!(e.get("costs.scrap").unwrap(), [BAD_AMOUNT]);
}

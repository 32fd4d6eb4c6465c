//! The KPI rules on hand-computed cases.

use super::*;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

#[test]
fn formulas_on_hand_computed_cases_and_no_data_never_nan() {
    // Defect rate: 42 rejected of 5,000 produced = 0.84 %.
    assert_eq!(percent(42.0, 5000.0), Some(0.84));
    // Nothing produced: no data, not 0 % and not NaN.
    assert_eq!(percent(0.0, 0.0), None);
    assert_eq!(percent(3.0, 0.0), None);
    assert_eq!(percent(f64::NAN, 10.0), None);
    // COPQ: (1,200 + 800 + 500 + 300) / 40,000 = 7 %.
    assert_eq!(percent(1200.0 + 800.0 + 500.0 + 300.0, 40_000.0), Some(7.0));
    assert_eq!(median(&mut [9.0, 3.0, 40.0]), Some(9.0));
    assert_eq!(median(&mut [10.0, 20.0, 4.0, 30.0]), Some(15.0));
    assert_eq!(median(&mut []), None);
}

#[test]
fn judging_against_target_and_band_both_directions() {
    let defect = Kpi::DefectRate.def().target; // ≤ 1 % on target, ≤ 1.5 % at risk
    let cases = [
        (Some(0.5), KpiStatus::OnTarget),
        (Some(1.0), KpiStatus::OnTarget),
        (Some(1.2), KpiStatus::AtRisk),
        (Some(1.5), KpiStatus::AtRisk),
        (Some(1.51), KpiStatus::OffTarget),
        (None, KpiStatus::NoData),
        (Some(f64::INFINITY), KpiStatus::NoData),
    ];
    for (v, want) in cases {
        assert_eq!(Kpi::DefectRate.judge(v, defect), want, "{v:?}");
    }
    let training = Kpi::TrainingCompletion.def().target; // ≥ 95 % on target, ≥ 90 % at risk
    assert_eq!(Kpi::TrainingCompletion.judge(Some(96.0), training), KpiStatus::OnTarget);
    assert_eq!(Kpi::TrainingCompletion.judge(Some(92.0), training), KpiStatus::AtRisk);
    assert_eq!(Kpi::TrainingCompletion.judge(Some(80.0), training), KpiStatus::OffTarget);
    assert_eq!(Kpi::OverdueWork.judge(Some(0.0), Kpi::OverdueWork.def().target), KpiStatus::OnTarget);
    assert_eq!(Kpi::OverdueWork.judge(Some(6.0), Kpi::OverdueWork.def().target), KpiStatus::OffTarget);
}

#[test]
fn periods_are_months() {
    let p = Period::of(d("2026-01-15"));
    assert_eq!(p.to_string(), "2026-01");
    assert_eq!(p.prev().to_string(), "2025-12");
    let last = p.last(12);
    assert_eq!((last[0].to_string(), last[11].to_string()), ("2025-02".into(), "2026-01".into()));
    assert_eq!(Period::parse("2026-13"), None);
    assert_eq!(Period::parse("26-01"), None);
    assert_eq!(serde_json::to_string(&p).unwrap(), "\"2026-01\"");
    assert!(serde_json::from_str::<Period>("\"2026-1\"").is_err());
}

#[test]
fn days_show_their_half() {
    assert_eq!(Unit::Days.format(30.0), "30 days");
    assert_eq!(Unit::Days.format(30.5), "30.5 days");
    assert_eq!(Unit::Days.format(29.98), "30 days");
}

#[test]
fn weeks_and_quarters_by_the_calendar() {
    // ISO weeks start on Monday; week 1 holds the year's first Thursday, so 2026-12-31 is in
    // 2026-W53 and 2027-01-01 too; 2027-01-04 starts 2027-W01.
    let w = Span::of(Cadence::Week, d("2026-12-03"));
    assert_eq!((w.to_string(), w.first_day(), w.last_day()), ("2026-W49".into(), d("2026-11-30"), d("2026-12-06")));
    assert_eq!(Span::of(Cadence::Week, d("2027-01-01")).to_string(), "2026-W53");
    assert_eq!(Span::of(Cadence::Week, d("2027-01-04")).to_string(), "2027-W01");
    assert_eq!(Span::of(Cadence::Week, d("2027-01-04")).prev().to_string(), "2026-W53");
    let weeks = w.last(12);
    assert_eq!((weeks[0].to_string(), weeks[11]), ("2026-W38".into(), w));
    assert_eq!(Span::parse("2026-W49"), Some(w));
    assert_eq!(Span::parse("2025-W53"), None, "2025 has 52 ISO weeks");
    let q = Span::of(Cadence::Quarter, d("2026-12-03"));
    assert_eq!((q.to_string(), q.first_day(), q.last_day()), ("2026-Q4".into(), d("2026-10-01"), d("2026-12-31")));
    assert_eq!(q.months().iter().map(ToString::to_string).collect::<Vec<_>>(), ["2026-10", "2026-11", "2026-12"]);
    let quarters = q.last(12);
    assert_eq!(quarters[0].to_string(), "2024-Q1");
    assert_eq!((quarters[0].label(), quarters[11].short()), ("Q1 2024".into(), "Q4 26".into()));
    assert_eq!(Span::of(Cadence::Quarter, d("2026-02-28")).to_string(), "2026-Q1");
    for bad in ["2026-Q5", "2026-Q0", "2026-W5", "2026-W54", "2026-13", "26-Q1"] {
        assert_eq!(Span::parse(bad), None, "{bad}");
    }
    // A month on the wire is as before: `YYYY-MM`.
    let m = Span::month(Period::of(d("2026-02-10")));
    assert_eq!(
        (serde_json::to_string(&m).unwrap(), m.last_day(), m.label()),
        ("\"2026-02\"".into(), d("2026-02-28"), "Feb 2026".into())
    );
    assert_eq!(serde_json::from_str::<Span>("\"2026-Q4\"").unwrap(), q);
}

#[test]
fn weeks_only_where_the_records_are_dated() {
    let t = |kpi, cadence| TargetInput { kpi, from: "2026-06".into(), value: 5.0, at_risk: 8.0, cadence };
    assert!(t(Kpi::CustomerComplaints, Cadence::Week).validate().is_ok());
    assert!(t(Kpi::CustomerComplaints, Cadence::Quarter).validate().is_ok());
    // Measurements come a month at a time; the live counts are kept at each month's end.
    for kpi in [Kpi::Copq, Kpi::OverdueWork] {
        assert!(t(kpi, Cadence::Week).validate().unwrap_err().get("cadence").is_some(), "{kpi:?}");
        assert!(t(kpi, Cadence::Quarter).validate().is_ok(), "{kpi:?}");
    }
    // Left out, a target is monthly.
    let input: TargetInput =
        serde_json::from_str(r#"{"kpi": "copq", "from": "2026-06", "value": 5, "at_risk": 8}"#).unwrap();
    assert_eq!(input.cadence, Cadence::Month);
}

#[test]
fn a_tile_uses_the_target_of_each_month() {
    let periods = Span::month(Period::of(d("2026-03-01"))).last(3);
    let changed = periods[2];
    let tile = Tile::build(
        Kpi::DefectRate,
        &periods,
        |p| {
            if p >= changed {
                Target { value: 0.8, at_risk: 1.2, cadence: Cadence::Month }
            } else {
                Kpi::DefectRate.def().target
            }
        },
        |p| (p != periods[1]).then_some(0.9),
        "/x",
    );
    assert_eq!(tile.period, Some(changed));
    let targets: Vec<f64> = tile.trend.iter().map(|t| t.target).collect();
    assert_eq!(targets, vec![1.0, 1.0, 0.8]);
    let statuses: Vec<KpiStatus> = tile.trend.iter().map(|t| t.status).collect();
    assert_eq!(statuses, vec![KpiStatus::OnTarget, KpiStatus::NoData, KpiStatus::AtRisk]);
    assert_eq!((tile.value, tile.status), (Some(0.9), KpiStatus::AtRisk));
    // A month without data yet: the headline is the month before, against its target.
    let open = Tile::build(
        Kpi::DefectRate,
        &periods,
        |_| Kpi::DefectRate.def().target,
        |p| (p == periods[1]).then_some(1.2),
        "/x",
    );
    assert_eq!((open.value, open.period, open.status), (Some(1.2), Some(periods[1]), KpiStatus::AtRisk));
}

#[test]
fn measurement_rules_and_csv_problems_with_line_and_column() {
    let today = d("2026-12-02");
    let ok = MeasurementInput {
        series: Series::UnitsProduced,
        period: "2026-11".into(),
        value: 5000.0,
        source: "ERP".into(),
    };
    assert!(ok.validate(today).is_ok());
    let bad = MeasurementInput { value: 2.5, period: "2027-01".into(), source: String::new(), ..ok.clone() };
    let e = bad.validate(today).unwrap_err();
    for f in ["value", "period", "source"] {
        assert!(e.get(f).is_some(), "{f}");
    }
    let csv = "series,period,value,source\r\nunits_produced,2026-10,5000,ERP\r\nunits_rejected,2026-10,42,MES\r\n";
    assert_eq!(read_measurements_csv(csv, today).unwrap().len(), 2);
    let bad_csv = "series,period,value,source\nunits_produced,2026-10,5000,ERP\nwidgets,2026-10,1,ERP\nunits_rejected,2026/10,4x,MES\n";
    let problems = read_measurements_csv(bad_csv, today).unwrap_err();
    let seen: Vec<(usize, &str)> = problems.iter().map(|p| (p.line, p.column.as_str())).collect();
    assert_eq!(seen, vec![(3, "series"), (4, "value")]);
    let bad_period = "series,period,value,source\nunits_rejected,2026/10,4,MES\n";
    assert_eq!(read_measurements_csv(bad_period, today).unwrap_err()[0].column, "period");
}

#[test]
fn a_target_sits_on_the_right_side() {
    let t = |kpi, value, at_risk| TargetInput { kpi, from: "2026-06".into(), value, at_risk, cadence: Cadence::Month };
    assert!(t(Kpi::DefectRate, 1.0, 1.5).validate().is_ok());
    assert!(t(Kpi::DefectRate, 1.0, 0.5).validate().unwrap_err().get("at_risk").is_some());
    assert!(t(Kpi::TrainingCompletion, 95.0, 90.0).validate().is_ok());
    assert!(t(Kpi::TrainingCompletion, 95.0, 99.0).validate().is_err());
    let no_month = TargetInput { from: "June".into(), ..t(Kpi::Copq, 5.0, 7.0) };
    assert!(no_month.validate().unwrap_err().get("from").is_some());
}

#[test]
fn an_objectives_status_by_the_table() {
    use super::objective::{ObjectiveStatus as S, objective_status};
    let (today, later, past) = (d("2026-12-03"), d("2027-06-30"), d("2026-11-30"));
    // (KPI, target, latest, due, expected). Defect rate: lower is better, band 0.5 pp (1 → 1.5);
    // training completion: higher is better, band 5 pp (95 → 90); complaints: band 3 (5 → 8).
    let cases = [
        (Kpi::DefectRate, 0.8, Some(0.8), later, S::Achieved),
        (Kpi::DefectRate, 0.8, Some(0.5), past, S::Achieved),
        (Kpi::DefectRate, 0.8, Some(1.3), later, S::OnTrack),
        (Kpi::DefectRate, 0.8, Some(1.31), later, S::AtRisk),
        (Kpi::DefectRate, 0.8, Some(0.81), past, S::Missed),
        (Kpi::DefectRate, 0.8, Some(0.81), today, S::OnTrack),
        (Kpi::DefectRate, 0.8, None, past, S::NoData),
        (Kpi::DefectRate, 0.8, Some(f64::NAN), later, S::NoData),
        (Kpi::TrainingCompletion, 98.0, Some(98.0), later, S::Achieved),
        (Kpi::TrainingCompletion, 98.0, Some(93.0), later, S::OnTrack),
        (Kpi::TrainingCompletion, 98.0, Some(92.9), later, S::AtRisk),
        (Kpi::TrainingCompletion, 98.0, Some(97.9), past, S::Missed),
        (Kpi::CustomerComplaints, 3.0, Some(6.0), later, S::OnTrack),
        (Kpi::CustomerComplaints, 3.0, Some(7.0), later, S::AtRisk),
        (Kpi::OverdueWork, 0.0, Some(0.0), past, S::Achieved),
    ];
    for (kpi, target, latest, due, want) in cases {
        assert_eq!(objective_status(kpi, target, latest, due, today), want, "{kpi:?} {target} {latest:?} {due}");
    }
    assert_eq!(S::OnTrack.label(), "On track");
    assert_eq!(S::NoData.as_str(), "no_data");
}

#[test]
fn an_objective_input_names_each_bad_field() {
    use super::objective::ObjectiveInput;
    let ok = ObjectiveInput {
        title: "Defect rate under 0.8 %".into(),
        kpi: Kpi::DefectRate,
        target: 0.8,
        due_on: d("2027-06-30"),
        owner_id: crate::auth::UserId(1),
        notes: String::new(),
        version: None,
    };
    assert!(ok.validate().is_ok());
    let bad = ObjectiveInput { title: " ".into(), target: 120.0, notes: "x".repeat(2001), ..ok.clone() }.normalized();
    let e = bad.validate().unwrap_err();
    for field in ["title", "target", "notes"] {
        assert!(e.get(field).is_some(), "{field}: {e:?}");
    }
    let days = ObjectiveInput { kpi: Kpi::CapaClosureTime, target: 120.0, ..ok.clone() };
    assert!(days.validate().is_ok(), "120 days is a number of days");
    assert!(ObjectiveInput { target: f64::INFINITY, ..ok.clone() }.validate().is_err());
    assert!(ObjectiveInput { target: -1.0, ..ok }.validate().is_err());
}

#[test]
fn a_layout_names_a_repeated_tile() {
    let layout = DashboardLayout { tiles: vec![Kpi::Copq, Kpi::DefectRate, Kpi::Copq], version: 1 };
    let e = layout.validate().unwrap_err();
    assert!(e.get("tiles[2]").is_some(), "{e:?}");
    assert!(e.get("tiles[0]").is_none());
    assert_eq!(DashboardLayout::default().tiles, Kpi::ALL.to_vec());
    assert_eq!(DashboardLayout::parse_tiles(&layout.tiles_text()), layout.tiles);
    assert_eq!(DashboardLayout::parse_tiles("copq,gone,defect_rate"), vec![Kpi::Copq, Kpi::DefectRate]);
}

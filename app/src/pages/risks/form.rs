//! A risk: create and edit with the shared rules checked as you type (ratings on the matrix,
//! required fields, the status rules), the zone of each rating shown at once, controls with
//! their evidence, the signed acceptance, and the history.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::{Permission, UserId, UserSummary};
use shared::org::{Process, ProcessId, Record};
use shared::register::{
    Control, Evidence, EvidenceType, MatrixRevision, MatrixRevisionId, RevisionStatus, Risk, RiskId, RiskInput,
    RiskStatus,
};
use shared::signature::Meaning;
use shared::{ErrorBody, FieldErrors};

use super::register::RatingBadge;
use crate::api::{self, ApiError};
use crate::components::conflict::{ComparedField, ConflictPanel};
use crate::components::field::{FieldError, SelectField, TextField};
use crate::components::history::RecordHistory;
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::{NOT_SAVED, format_utc, loaded};
use crate::session::{can, session};

/// Categories offered (any other may be typed).
const CATEGORIES: &[&str] = &[
    "Product",
    "Process",
    "Supplier",
    "Customer",
    "Regulatory",
    "Health & safety",
    "Environment",
    "Information security",
    "Business",
    "Product safety",
];

type Choices = (Vec<MatrixRevision>, Vec<Process>, Vec<UserSummary>);

async fn choices() -> Result<Choices, ApiError> {
    Ok((api::list_matrix_revisions().await?, api::list_processes(true).await?, api::user_directory().await?))
}

// The signing dialog, loaded when first opened.
crate::part!(risk_record__sign, sign_dialog(args: SignArgs));

/// `/risks/new`
#[component]
pub fn RiskNew() -> impl IntoView {
    let data = crate::data::resource(choices);
    view! {
        <section>
            <h1>"New risk"</h1>
            {loaded(data, "the matrices, processes and users", |(revisions, processes, directory)| {
                view! { <RiskForm record=RwSignal::new(None) revisions processes directory /> }
            })}
        </section>
    }
}

/// `/risks/:id`
#[component]
pub fn RiskEdit() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(RiskId);
    let data = crate::data::resource(move || {
        let id = id();
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such risk."))) };
            let risk = api::get_risk(id).await?;
            let (revisions, processes, directory) = choices().await?;
            Ok((risk, revisions, processes, directory))
        }
    });
    view! {
        <section>
            {loaded(data, "the risk", move |(risk, revisions, processes, directory)| {
                let rid = risk.id.0;
                let record = RwSignal::new(Some(risk.clone()));
                let version = Signal::derive(move || record.with(|r| r.as_ref().map_or(0, |r| r.meta.version)));
                let what = Signal::derive(move || {
                    record.with(|r| r.as_ref().map(|r| format!("the acceptance of the residual risk of {} “{}” (residual {} · {})", r.reference, r.title, r.residual.score, r.residual.zone.label())).unwrap_or_default())
                });
                let rationale_required = Signal::derive(move || {
                    record.with(|r| r.as_ref().is_some_and(|r| r.residual.zone != shared::risk::Zone::Acceptable))
                });
                let reload = Callback::new(move |_| {
                    leptos::task::spawn_local(async move {
                        if let Ok(fresh) = api::get_risk(RiskId(rid)).await {
                            record.set(Some(fresh));
                        }
                    });
                });
                view! {
                    <h1>{move || record.with(|r| r.as_ref().map(|r| format!("{} {}", r.reference, r.title)).unwrap_or_default())}</h1>
                    <RiskForm record revisions processes directory />
                    <section class="approval" aria-labelledby="acceptance-title">
                        <h2 id="acceptance-title">"Acceptance of the residual risk"</h2>
                        {move || record.with(|r| r.as_ref().filter(|r| !r.acceptance_rationale.is_empty()).map(|r| view! {
                            <p><strong>"Rationale: "</strong><span data-testid="acceptance-rationale">{r.acceptance_rationale.clone()}</span></p>
                        }))}
                        <SignaturePanel dialog=(risk_record__sign::view, risk_record__sign::prefetch)
                            record_type=Risk::RECORD_TYPE
                            record_id=rid
                            version
                            meaning=Meaning::Approved
                            what
                            awaiting="Not accepted"
                            rationale=rationale_required
                            on_signed=reload
                        />
                    </section>
                    <RecordHistory record_type=Risk::RECORD_TYPE record_id=rid />
                }
            })}
        </section>
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    None,
    Saved,
    Conflict(String, Box<Risk>),
    Failed(String),
}

/// One control as edited: description and the process that evidences it.
#[derive(Debug, Clone, PartialEq)]
struct ControlRow {
    key: usize,
    description: RwSignal<String>,
    evidence: RwSignal<String>,
    /// Further evidence (kept as it was).
    other: Vec<Evidence>,
    /// The first evidence's label as loaded.
    controls_label: Option<String>,
}

/// An evidence reference as the value of its `<select>` option: `process:3`, `fmea_row:41`.
fn evidence_value(e: &Evidence) -> String {
    let kind = match e.record_type {
        EvidenceType::Process => "process",
        EvidenceType::FmeaRow => "fmea_row",
    };
    format!("{kind}:{}", e.record_id)
}

fn parse_evidence(v: &str) -> Option<Evidence> {
    let (kind, id) = v.split_once(':')?;
    let record_type = match kind {
        "process" => EvidenceType::Process,
        "fmea_row" => EvidenceType::FmeaRow,
        _ => return None,
    };
    Some(Evidence { record_type, record_id: id.parse().ok()?, label: String::new() })
}

fn text(v: Option<impl ToString>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[component]
fn RiskForm(
    record: RwSignal<Option<Risk>>,
    revisions: Vec<MatrixRevision>,
    processes: Vec<Process>,
    directory: Vec<UserSummary>,
) -> impl IntoView {
    let navigate = use_navigate();
    let s = session();
    let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let start = record.with_untracked(|r| r.as_ref().map(RiskInput::from_record)).unwrap_or_else(|| RiskInput {
        owner_id: me,
        matrix_revision_id: revisions.iter().find(|r| r.status == RevisionStatus::Effective).map(|r| r.id),
        ..Default::default()
    });
    let title = RwSignal::new(start.title.clone());
    let description = RwSignal::new(start.description.clone());
    let category = RwSignal::new(start.category.clone());
    let process = RwSignal::new(text(start.process_id));
    let owner = RwSignal::new(text(start.owner_id));
    let status = RwSignal::new(start.status.as_str().to_string());
    let review = RwSignal::new(text(start.review_date));
    let revision = RwSignal::new(text(start.matrix_revision_id));
    let il = RwSignal::new(text(start.inherent_likelihood));
    let is = RwSignal::new(text(start.inherent_severity));
    let rl = RwSignal::new(text(start.residual_likelihood));
    let rs = RwSignal::new(text(start.residual_severity));
    let reason = RwSignal::new(String::new());
    let next_key = StoredValue::new(0_usize);
    let to_rows = move |controls: &[Control]| {
        controls
            .iter()
            .map(|c| {
                let key = next_key.get_value();
                next_key.set_value(key + 1);
                let first = c.evidence.first();
                ControlRow {
                    key,
                    description: RwSignal::new(c.description.clone()),
                    evidence: RwSignal::new(first.map(evidence_value).unwrap_or_default()),
                    other: c.evidence.iter().skip(1).cloned().collect(),
                    controls_label: first.map(|e| format!("{}: {}", e.record_type.label(), e.label)),
                }
            })
            .collect::<Vec<_>>()
    };
    let controls = RwSignal::new(to_rows(&start.controls));

    let may_edit = move || {
        can(s, &[Permission::ManageRisks])
            || can(s, &[Permission::EditOwnRisks]) && record.with(|r| r.as_ref().is_none_or(|r| Some(r.owner_id) == me))
    };
    let revisions = StoredValue::new(revisions);
    let chosen_revision = move || {
        let id = revision.get().parse::<i64>().ok();
        revisions.with_value(|rs| rs.iter().find(|r| Some(r.id.0) == id).cloned())
    };
    let rationale = move || record.with(|r| r.as_ref().map(|r| r.acceptance_rationale.clone()).unwrap_or_default());

    let input = move || {
        RiskInput {
            title: title.get(),
            description: description.get(),
            category: category.get(),
            process_id: process.get().parse().ok().map(ProcessId),
            owner_id: owner.get().parse().ok().map(UserId),
            status: RiskStatus::parse(&status.get()).unwrap_or_default(),
            review_date: review.get().parse().ok(),
            matrix_revision_id: revision.get().parse().ok().map(MatrixRevisionId),
            inherent_likelihood: il.get().parse().ok(),
            inherent_severity: is.get().parse().ok(),
            residual_likelihood: rl.get().parse().ok(),
            residual_severity: rs.get().parse().ok(),
            controls: controls
                .get()
                .iter()
                .map(|c| Control {
                    description: c.description.get(),
                    evidence: parse_evidence(&c.evidence.get()).into_iter().chain(c.other.iter().cloned()).collect(),
                })
                .collect(),
            acceptance_rationale: rationale(),
            version: record.with(|r| r.as_ref().map(|r| r.meta.version)),
            reason: reason.get(),
        }
        .normalized()
    };
    let rules = move |input: &RiskInput| {
        let matrix = chosen_revision().map(|r| r.definition);
        record.with_untracked(|before| match before {
            Some(b) => input.validate_update(matrix.as_ref(), Some(b)),
            None => input.validate(matrix.as_ref(), None),
        })
    };
    // Errors show as soon as a field holds a value the rules refuse (e.g. a rating off the
    // matrix), and for every field once the user tried to save.
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(FieldErrors::new());
    let errors = Signal::derive(move || {
        let all = rules(&input()).err().unwrap_or_default();
        let mut shown = FieldErrors::new();
        for (field, codes) in all.0 {
            let typed = match field.as_str() {
                "inherent_likelihood" => !il.get().is_empty(),
                "inherent_severity" => !is.get().is_empty(),
                "residual_likelihood" => !rl.get().is_empty(),
                "residual_severity" => !rs.get().is_empty(),
                _ => false,
            };
            if attempted.get() || typed {
                for c in codes {
                    shown.add(field.clone(), c);
                }
            }
        }
        for (field, codes) in server_errors.get().0 {
            for code in codes {
                if !shown.get(&field).is_some_and(|c| c.contains(&code)) {
                    shown.add(field.clone(), code);
                }
            }
        }
        shown
    });
    let outcome = RwSignal::new(Outcome::None);

    // The version the form's fields were last loaded from.
    let loaded_version = StoredValue::new(record.with_untracked(|r| r.as_ref().map_or(0, |r| r.meta.version)));
    let load = move |r: &Risk| {
        let i = RiskInput::from_record(r);
        title.set(i.title);
        description.set(i.description);
        category.set(i.category);
        process.set(text(i.process_id));
        owner.set(text(i.owner_id));
        status.set(i.status.as_str().to_string());
        review.set(text(i.review_date));
        revision.set(text(i.matrix_revision_id));
        il.set(text(i.inherent_likelihood));
        is.set(text(i.inherent_severity));
        rl.set(text(i.residual_likelihood));
        rs.set(text(i.residual_severity));
        controls.set(to_rows(&i.controls));
        reason.set(String::new());
        attempted.set(false);
        loaded_version.set_value(r.meta.version);
        record.set(Some(r.clone()));
    };
    // The record changed under the form (e.g. the acceptance signed below it): load it, so
    // that the next save starts from what is saved (status included).
    Effect::new(move |_| {
        if let Some(r) = record.get()
            && r.meta.version != loaded_version.get_value()
        {
            load(&r);
        }
    });

    let save = crate::data::action(move |input: &RiskInput| {
        let input = input.clone();
        let id = record.with_untracked(|r| r.as_ref().map(|r| r.id));
        let navigate = navigate.clone();
        async move {
            let result = match id {
                None => api::create_risk(&input).await,
                Some(id) => api::update_risk(id, &input).await,
            };
            match result {
                Ok(saved) => {
                    outcome.set(Outcome::Saved);
                    load(&saved);
                    if id.is_none() {
                        navigate(&format!("/risks/{}", saved.id), Default::default());
                    }
                }
                Err(ApiError::Status(409, body)) => {
                    match body.current.clone().and_then(|c| serde_json::from_value::<Risk>(c).ok()) {
                        Some(current) => outcome.set(Outcome::Conflict(body.message, Box::new(current))),
                        None => outcome.set(Outcome::Failed(body.message)),
                    }
                }
                Err(ApiError::Status(422, body)) => {
                    server_errors.set(body.field_errors);
                    outcome.set(Outcome::Failed(NOT_SAVED.into()));
                }
                Err(e) => outcome.set(Outcome::Failed(e.to_string())),
            }
        }
    });
    let submit = move || {
        attempted.set(true);
        server_errors.set(FieldErrors::new());
        let input = input();
        if rules(&input).is_ok() {
            outcome.set(Outcome::None);
            save.dispatch(input);
        } else {
            outcome.set(Outcome::Failed(NOT_SAVED.into()));
        }
    };
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        submit();
    };
    let keep_mine = Callback::new(move |()| {
        if let Outcome::Conflict(_, theirs) = outcome.get_untracked() {
            // Base my values on their version (the fields keep what I typed).
            loaded_version.set_value(theirs.meta.version);
            record.set(Some(*theirs));
            submit();
        }
    });
    let take_theirs = Callback::new(move |()| {
        if let Outcome::Conflict(_, theirs) = outcome.get_untracked() {
            load(&theirs);
            server_errors.set(FieldErrors::new());
            outcome.set(Outcome::None);
        }
    });

    let level_options = move |axis: &'static str| {
        move || {
            chosen_revision()
                .map(|r| {
                    let levels = if axis == "likelihood" { r.definition.likelihood } else { r.definition.severity };
                    levels
                        .into_iter()
                        .enumerate()
                        .map(|(i, l)| view! { <option value=(i + 1).to_string() title=l.description.clone()>{format!("{} {}", i + 1, l.label)}</option> })
                        .collect_view()
                })
                .unwrap_or_default()
        }
    };
    let rating = move |l: RwSignal<String>, sv: RwSignal<String>| {
        move || {
            let r = chosen_revision()?;
            let (l, sv) = (l.get().parse::<u8>().ok()?, sv.get().parse::<u8>().ok()?);
            shared::register::Rating::on(&r.definition, l, sv).map(|rating| view! { <RatingBadge rating /> })
        }
    };
    let revision_options = {
        let current = record.with_untracked(|r| r.as_ref().map(|r| r.matrix_revision_id));
        revisions.with_value(|rs| {
            rs.iter()
                .filter(|r| r.status == RevisionStatus::Effective || Some(r.id) == current)
                .map(|r| {
                    let label = if r.status == RevisionStatus::Effective {
                        r.title()
                    } else {
                        format!("{} ({})", r.title(), r.status.label().to_lowercase())
                    };
                    view! { <option value=r.id.to_string()>{label}</option> }
                })
                .collect_view()
        })
    };
    let superseded = move || chosen_revision().is_some_and(|r| r.status == RevisionStatus::Superseded);
    let rescore_to = move || {
        let current = chosen_revision()?;
        revisions.with_value(|rs| {
            rs.iter().find(|r| r.matrix_id == current.matrix_id && r.status == RevisionStatus::Effective).cloned()
        })
    };
    let process_options = {
        let chosen = process.get_untracked();
        processes
            .iter()
            .filter(|p| p.meta.retired_at.is_none() || p.id.to_string() == chosen)
            .map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> })
            .collect_view()
    };
    let processes = StoredValue::new(processes);
    // The failure chains of the chosen process's FMEAs, High and Medium AP first, to cite:
    // from each worksheet's first rows only (a 10,000-row worksheet would hold up the form).
    const CHAINS_READ: usize = 1000;
    let chains = crate::data::resource(move || {
        let chosen = process.get().parse::<i64>().ok();
        async move {
            let Some(chosen) = chosen else { return Vec::new() };
            let mut out = Vec::new();
            for f in api::fmea_refs().await.unwrap_or_default().into_iter().filter(|f| f.process_id.0 == chosen) {
                if let Ok(sheet) = api::failure_chains(f.id, CHAINS_READ).await {
                    let mut rows: Vec<_> = sheet.rows.into_iter().filter(|r| r.ap.is_some()).collect();
                    rows.sort_by_key(|r| (r.ap, r.position));
                    for r in rows.into_iter().take(300) {
                        let ap = r.ap.map(|a| a.letter()).unwrap_or('-');
                        out.push((
                            format!("fmea_row:{}", r.id),
                            format!("FMEA {} row {} ({ap}): {}", f.fmea_number, r.position, r.failure_mode),
                        ));
                    }
                }
            }
            out
        }
    });
    let owner_options = {
        let chosen = record.with_untracked(|r| r.as_ref().map(|r| (r.owner_id, r.owner_name.clone())));
        let missing = chosen.filter(|(id, _)| !directory.iter().any(|u| u.id == *id));
        missing
            .map(|(id, name)| (id, format!("{name} (inactive)")))
            .into_iter()
            .chain(directory.iter().map(|u| (u.id, u.full_name.clone())))
            .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
            .collect_view()
    };
    let status_options = move || {
        let current = record.with(|r| r.as_ref().map(|r| r.status));
        RiskStatus::ALL
            .iter()
            .filter(|st| **st != RiskStatus::Accepted || current == Some(RiskStatus::Accepted))
            .map(|st| view! { <option value=st.as_str()>{st.label()}</option> })
            .collect_view()
    };
    let locked = move || !may_edit();

    view! {
        <form class="form risk-form" on:submit=on_submit novalidate>
            {move || match outcome.get() {
                Outcome::Conflict(message, theirs) => {
                    let mine = input();
                    let base = record.get_untracked().map(|b| RiskInput::from_record(&b)).unwrap_or_default();
                    let t = RiskInput::from_record(&theirs);
                    let pair = |l: Option<i64>, s: Option<i64>| format!("L{} × S{}", text(l), text(s));
                    let row = |label, base: String, mine: String, theirs: String| ComparedField { label, base, mine, theirs };
                    let fields = vec![
                        row("Title", base.title.clone(), mine.title.clone(), t.title.clone()),
                        row("Status", base.status.label().into(), mine.status.label().into(), t.status.label().into()),
                        row("Inherent", pair(base.inherent_likelihood, base.inherent_severity), pair(mine.inherent_likelihood, mine.inherent_severity), pair(t.inherent_likelihood, t.inherent_severity)),
                        row("Residual", pair(base.residual_likelihood, base.residual_severity), pair(mine.residual_likelihood, mine.residual_severity), pair(t.residual_likelihood, t.residual_severity)),
                        row("Review date", text(base.review_date), text(mine.review_date), text(t.review_date)),
                        row("Description", base.description.clone(), mine.description.clone(), t.description.clone()),
                    ];
                    view! {
                        <ConflictPanel message fields base_version=base.version.unwrap_or_default() their_version=theirs.meta.version
                            on_merge=None on_keep_mine=keep_mine on_take_theirs=take_theirs />
                    }.into_any()
                }
                Outcome::Saved => view! { <div class="alert alert-ok" role="status">"Saved."</div> }.into_any(),
                Outcome::Failed(message) => view! { <div class="alert alert-error" role="alert">{message}</div> }.into_any(),
                Outcome::None => ().into_any(),
            }}
            {move || record.get().map(|r| view! {
                <p class="meta">
                    {r.status.label()} " · Version " <span data-testid="version">{r.meta.version}</span>
                    " · last changed " {format_utc(&r.meta.updated_at)}
                    " · scored on " {format!("rev. {}", r.matrix_revision)}
                </p>
            })}
            <fieldset disabled=locked>
                <TextField name="title" label="Title" value=title errors required=true />
                <div class="field">
                    <label for="field-category">"Category" <span class="req" aria-hidden="true">" *"</span></label>
                    <input id="field-category" name="category" list="risk-categories" aria-describedby="field-category-error"
                        prop:value=move || category.get() on:input=move |ev| category.set(event_target_value(&ev)) />
                    <datalist id="risk-categories">{CATEGORIES.iter().map(|c| view! { <option value=*c /> }).collect_view()}</datalist>
                    <FieldError name="category" errors id="field-category-error".to_string() />
                </div>
                <div class="two">
                    <SelectField name="process_id" label="Process" value=process errors empty="Choose the process…" required=true>
                        {process_options}
                    </SelectField>
                    <SelectField name="owner_id" label="Risk owner" value=owner errors empty="Choose the owner…" required=true>
                        {owner_options}
                    </SelectField>
                </div>
                <div class="two">
                    <SelectField name="status" label="Status" value=status errors empty="Choose…" required=true>
                        {status_options}
                    </SelectField>
                    <TextField name="review_date" label="Next review" value=review errors kind="date" required=true />
                </div>
                {move || (record.with(|r| r.as_ref().is_some_and(|r| r.status == RiskStatus::Accepted)) && may_edit()).then(|| view! {
                    <p class="muted" data-testid="accepted-hint">"Accepted by signature: any change needs the status set back (e.g. to Treated) and a new acceptance."</p>
                })}
                <SelectField name="matrix_revision_id" label="Risk matrix" value=revision errors empty="Choose the matrix…" required=true>
                    {revision_options}
                </SelectField>
                {move || (superseded() && may_edit()).then(|| rescore_to().map(|to| {
                    let label = to.title();
                    view! {
                        <p class="alert alert-conflict">
                            "This risk was scored on a superseded matrix revision. "
                            <button type="button" class="btn" on:click=move |_| revision.set(to.id.to_string())>{format!("Re-score on {label}")}</button>
                            " (check the ratings, then save with a reason)."
                        </p>
                    }
                }))}
                <div class="ratings">
                    <fieldset class="rating">
                        <legend>"Inherent risk (before controls)"</legend>
                        <SelectField name="inherent_likelihood" label="Likelihood" value=il errors empty="—" required=true>{level_options("likelihood")}</SelectField>
                        <SelectField name="inherent_severity" label="Severity" value=is errors empty="—" required=true>{level_options("severity")}</SelectField>
                        <p class="rating-result" data-testid="inherent-rating">{rating(il, is)}</p>
                    </fieldset>
                    <fieldset class="rating">
                        <legend>"Residual risk (after controls)"</legend>
                        <SelectField name="residual_likelihood" label="Likelihood" value=rl errors empty="—" required=true>{level_options("likelihood")}</SelectField>
                        <SelectField name="residual_severity" label="Severity" value=rs errors empty="—" required=true>{level_options("severity")}</SelectField>
                        <p class="rating-result" data-testid="residual-rating">{rating(rl, rs)}</p>
                    </fieldset>
                </div>
                <TextField name="description" label="Description" value=description errors multiline=true />
                <fieldset class="controls">
                    <legend>"Controls and their evidence"</legend>
                    <For each=move || controls.get() key=|c| c.key let:c>
                        {
                            let index = move || controls.with(|cs| cs.iter().position(|x| x.key == c.key).unwrap_or_default());
                            let desc_field = move || format!("controls[{}].description", index());
                            let ev_field = move || format!("controls[{}].evidence", index());
                            let key = c.key;
                            view! {
                                <div class="control" class:has-error=move || errors.with(|e| e.get(&desc_field()).is_some() || e.get(&ev_field()).is_some())>
                                    <input aria-label="Control" placeholder="What the control is" prop:value=move || c.description.get()
                                        on:input=move |ev| c.description.set(event_target_value(&ev)) />
                                    <select aria-label="Evidence" on:change=move |ev| c.evidence.set(event_target_value(&ev)) prop:value=move || c.evidence.get()>
                                        <option value="">"No evidence yet"</option>
                                        <optgroup label="Processes">
                                            {processes.with_value(|ps| ps.iter().map(|p| view! { <option value=format!("process:{}", p.id)>{format!("Process: {}", p.name)}</option> }).collect_view())}
                                        </optgroup>
                                        <optgroup label="FMEA failure chains of this process">
                                            {move || chains.get().map(|list| list.into_iter().map(|(value, label)| view! { <option value=value>{label}</option> }).collect_view())}
                                        </optgroup>
                                        {
                                            // A cited chain of another process stays selectable.
                                            let current = c.evidence.get_untracked();
                                            c.controls_label.clone().filter(|_| current.starts_with("fmea_row:")).map(|label| view! { <option value=current.clone()>{label}</option> })
                                        }
                                    </select>
                                    <button type="button" class="btn" on:click=move |_| controls.update(|cs| cs.retain(|x| x.key != key))>"Remove"</button>
                                    {(!c.other.is_empty()).then(|| view! {
                                        <p class="also-cites">"Also cites: "
                                            {c.other.iter().map(|e| format!("{}: {}", e.record_type.label(), e.label)).collect::<Vec<_>>().join("; ")}
                                        </p>
                                    })}
                                    <p class="field-error" role="alert">{move || errors.with(|e| {
                                        [desc_field(), ev_field()].iter().flat_map(|f| e.get(f).unwrap_or_default().iter().map(|c| shared::validation::describe(c))).collect::<Vec<_>>().join(" ")
                                    })}</p>
                                </div>
                            }
                        }
                    </For>
                    <button type="button" class="btn" on:click=move |_| {
                        let key = next_key.get_value();
                        next_key.set_value(key + 1);
                        controls.update(|cs| cs.push(ControlRow { key, description: RwSignal::new(String::new()), evidence: RwSignal::new(String::new()), other: vec![], controls_label: None }));
                    }>"Add control"</button>
                </fieldset>
                <Show when=move || record.with(Option::is_some) && !locked()>
                    <TextField name="reason" label="Reason for change" value=reason errors required=true />
                </Show>
                <div class="actions">
                    <a class="btn" href="/risks">"Back to register"</a>
                    <button type="submit" class="btn btn-primary" hidden=locked disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </fieldset>
        </form>
    }
}

/// A risk's record, new or existing, a chunk of its own (see [`crate::area`]).
pub mod chunk {
    crate::area!(risk_record, Page { New => super::RiskNew, Risk => super::RiskEdit });
}

//! The process form, for create and edit. It validates with the same `shared` function the
//! server runs, shows field errors inline, and on a 409 shows both versions side by side
//! without losing what was typed.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::hooks::use_navigate;
use shared::FieldErrors;
use shared::auth::{Permission, UserId, UserSummary};
use shared::org::{Department, DepartmentId, Process, ProcessId, ProcessInput, Record, RetireInput};

use crate::api::{self, ApiError};
use crate::components::conflict::{ComparedField, ConflictPanel};
use crate::components::field::{SelectField, TextField};
use crate::components::history::RecordHistory;
use crate::components::status::{LifeBadge, NOT_SAVED, format_utc};
use crate::session::{can, session};

/// What the last save attempt left to show.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    None,
    Saved,
    /// 409: the server's message and the record as saved by someone else.
    Conflict(String, Box<Process>),
    Failed(String),
}

/// Create (`record` holds `None`) or edit a process.
#[component]
pub fn ProcessForm(
    /// The record being edited, as loaded and then as saved; `None` to create one.
    record: RwSignal<Option<Process>>,
    /// Departments to choose from (retired ones are shown only if already chosen).
    departments: Vec<Department>,
    /// Active users, to choose the owner from.
    directory: Vec<UserSummary>,
) -> impl IntoView {
    let navigate = use_navigate();
    let start = record.with_untracked(|r| r.as_ref().map(ProcessInput::from_record).unwrap_or_default());
    let name = RwSignal::new(start.name);
    let description = RwSignal::new(start.description);
    let owner = RwSignal::new(id_text(start.owner_id));
    let department = RwSignal::new(id_text(start.department_id));
    // Why this change (required when editing: a process is a controlled record).
    let reason = RwSignal::new(String::new());
    // Managers edit any process; a process owner only their own (the server decides, the form
    // only stays read-only for the others).
    let s = session();
    let may_edit = move || {
        can(s, &[Permission::ManageProcesses])
            || can(s, &[Permission::EditOwnProcesses])
                && record.with(|r| r.as_ref().and_then(|p| p.owner_id)) == s.with(|s| s.as_ref().map(|s| s.user.id))
    };

    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(FieldErrors::new());
    let outcome = RwSignal::new(Outcome::None);

    let input = move || {
        ProcessInput {
            name: name.get(),
            description: description.get(),
            owner_id: owner.get().parse().ok().map(UserId),
            department_id: department.get().parse().ok().map(DepartmentId),
            // The version the edit is based on is the record's as last loaded or saved.
            version: record.with(|r| r.as_ref().map(|p| p.meta.version)),
            reason: reason.get(),
        }
        .normalized()
    };
    // The shared rules: a change to an existing process also needs its reason.
    let rules = move |input: &ProcessInput| {
        if record.with_untracked(Option::is_some) { input.validate_update() } else { input.validate() }
    };
    // Errors shown: the shared rules, live once the user has tried to save, plus whatever the
    // server reported for the last attempt (e.g. a name already taken).
    let errors = Signal::derive(move || {
        let mut shown = if attempted.get() { rules(&input()).err().unwrap_or_default() } else { FieldErrors::new() };
        for (field, codes) in server_errors.get().0 {
            for code in codes {
                if !shown.get(&field).is_some_and(|c| c.contains(&code)) {
                    shown.add(field.clone(), code);
                }
            }
        }
        shown
    });

    let load = move |p: &Process| {
        name.set(p.name.clone());
        description.set(p.description.clone());
        owner.set(id_text(p.owner_id));
        department.set(p.department_id.to_string());
        reason.set(String::new());
        attempted.set(false);
        record.set(Some(p.clone()));
    };

    let save = crate::data::action(move |input: &ProcessInput| {
        let input = input.clone();
        let id = record.with_untracked(|r| r.as_ref().map(|p| p.id));
        let navigate = navigate.clone();
        async move {
            let result = match id {
                None => api::create_process(&input).await,
                Some(id) => api::update_process(id, &input).await,
            };
            match result {
                Ok(saved) => {
                    load(&saved);
                    outcome.set(Outcome::Saved);
                    if id.is_none() {
                        navigate(&format!("/admin/processes/{}", saved.id), Default::default());
                    }
                }
                Err(ApiError::Status(409, body)) => {
                    match body.current.clone().and_then(|c| serde_json::from_value::<Process>(c).ok()) {
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
            // Base my values on their version: a deliberate overwrite, which the audit trail
            // will show as a change from their values to mine.
            record.set(Some(*theirs));
            submit();
        }
    });
    // Three-way merge with the shared rule: base = the record the form was loaded from.
    let merged = move || -> Option<ProcessInput> {
        let Outcome::Conflict(_, theirs) = outcome.get_untracked() else { return None };
        let base = record.get_untracked().map(|b| ProcessInput::from_record(&b))?;
        ProcessInput::merge(&base, &input(), &ProcessInput::from_record(&theirs)).ok()
    };
    let merge = Callback::new(move |()| {
        if let (Some(m), Outcome::Conflict(_, theirs)) = (merged(), outcome.get_untracked()) {
            record.set(Some(*theirs));
            name.set(m.name);
            description.set(m.description);
            owner.set(id_text(m.owner_id));
            department.set(id_text(m.department_id));
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

    let department_name = {
        let departments = departments.clone();
        move |id: &str| departments.iter().find(|d| d.id.to_string() == id).map(|d| d.name.clone()).unwrap_or_default()
    };
    let options = {
        let chosen = department.get_untracked();
        departments
            .into_iter()
            .filter(|d| d.meta.retired_at.is_none() || d.id.to_string() == chosen)
            .map(|d| {
                let label = if d.meta.retired_at.is_some() { format!("{} (retired)", d.name) } else { d.name };
                view! { <option value=d.id.to_string()>{label}</option> }
            })
            .collect_view()
    };
    // An owner's name: from the directory, or from the record as loaded (an inactive owner).
    let owner_name = {
        let directory = directory.clone();
        move |id: Option<UserId>| match directory.iter().find(|u| Some(u.id) == id) {
            Some(u) => u.full_name.clone(),
            None => record
                .with_untracked(|r| r.as_ref().filter(|p| p.owner_id == id).map(|p| p.owner_name.clone()))
                .unwrap_or_else(|| id.map(|id| format!("user {id}")).unwrap_or_default()),
        }
    };
    let owners = {
        let chosen =
            record.with_untracked(|r| r.as_ref().and_then(|p| p.owner_id.map(|id| (id, p.owner_name.clone()))));
        let missing = chosen.filter(|(id, _)| !directory.iter().any(|u| u.id == *id));
        missing
            .map(|(id, name)| (id, format!("{name} (inactive)")))
            .into_iter()
            .chain(directory.into_iter().map(|u| (u.id, u.full_name)))
            .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
            .collect_view()
    };
    let retired = move || record.with(|r| r.as_ref().is_some_and(|p| p.meta.retired_at.is_some()));
    let locked = move || retired() || !may_edit();

    view! {
        <form class="form" on:submit=on_submit novalidate>
            {move || match outcome.get() {
                Outcome::Conflict(message, theirs) => {
                    let mine = input();
                    let base = record.get_untracked().map(|b| ProcessInput::from_record(&b)).unwrap_or_default();
                    let dept_name = department_name.clone();
                    let owner_name = owner_name.clone();
                    let dept = |d: Option<DepartmentId>| dept_name(&d.map(|d| d.to_string()).unwrap_or_default());
                    let row = |label, base: &str, mine: &str, theirs: &str| ComparedField {
                        label,
                        base: base.to_string(),
                        mine: mine.to_string(),
                        theirs: theirs.to_string(),
                    };
                    let fields = vec![
                        row("Name", &base.name, &mine.name, &theirs.name),
                        row("Process owner", &owner_name(base.owner_id), &owner_name(mine.owner_id), &theirs.owner_name),
                        row("Department", &dept(base.department_id), &dept(mine.department_id), &theirs.department_name),
                        row("Description", &base.description, &mine.description, &theirs.description),
                    ];
                    let on_merge = merged().map(|_| merge);
                    view! {
                        <ConflictPanel
                            message
                            fields
                            base_version=base.version.unwrap_or_default()
                            their_version=theirs.meta.version
                            on_merge
                            on_keep_mine=keep_mine
                            on_take_theirs=take_theirs
                        />
                    }
                        .into_any()
                }
                Outcome::Saved => view! { <div class="alert alert-ok" role="status">"Saved."</div> }.into_any(),
                Outcome::Failed(message) => view! { <div class="alert alert-error" role="alert">{message}</div> }.into_any(),
                Outcome::None => ().into_any(),
            }}
            {move || record.get().map(|p| view! {
                <p class="meta">
                    <LifeBadge retired=p.meta.retired_at.is_some() />
                    " Version " <span data-testid="version">{p.meta.version}</span>
                    " · last changed " {format_utc(&p.meta.updated_at)}
                    {p.meta.retired_reason.map(|r| format!(" · retired: {r}"))}
                </p>
            })}
            <fieldset disabled=locked>
                <TextField name="name" label="Name" value=name errors required=true />
                <SelectField name="owner_id" label="Process owner" value=owner errors empty="Choose the owner…" required=true>
                    {owners}
                </SelectField>
                {move || record.with(|r| {
                    r.as_ref().filter(|p| p.owner_id.is_none() && !p.owner_name.is_empty()).map(|p| {
                        view! { <p class="muted">"Recorded before user accounts existed as: " {p.owner_name.clone()}</p> }
                    })
                })}
                <SelectField name="department_id" label="Department" value=department errors empty="Choose a department…" required=true>
                    {options}
                </SelectField>
                <TextField name="description" label="Description" value=description errors multiline=true />
                <Show when=move || record.with(Option::is_some) && !locked()>
                    <TextField name="reason" label="Reason for change" value=reason errors required=true />
                </Show>
                <div class="actions">
                    <a class="btn" href="/admin/processes">"Back to list"</a>
                    <button type="submit" class="btn btn-primary" hidden=locked disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </fieldset>
        </form>
        {move || {
            record.get().filter(|p| p.meta.retired_at.is_none() && may_edit()).map(|p| view! { <RetireForm process=p on_retired=load /> })
        }}
        // Keyed on the version, so the history reloads after every save.
        {move || record.get().map(|p| view! { <RecordHistory record_type=Process::RECORD_TYPE record_id=p.id.0 /> })}
    }
}

/// An id as the text of a `<select>` value (empty for none).
fn id_text(id: Option<impl std::fmt::Display>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// Retire a process, with a reason.
#[component]
fn RetireForm(
    /// The process, at the version the decision is based on.
    process: Process,
    /// Called with the retired record.
    on_retired: impl Fn(&Process) + Copy + 'static,
) -> impl IntoView {
    let reason = RwSignal::new(String::new());
    let errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let id: ProcessId = process.id;
    let version = process.meta.version;
    let retire = crate::data::action(move |input: &RetireInput| {
        let input = input.clone();
        async move {
            match api::retire_process(id, &input).await {
                Ok(p) => on_retired(&p),
                Err(ApiError::Status(_, body)) if !body.field_errors.is_empty() => errors.set(body.field_errors),
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input = RetireInput { reason: reason.get(), version: Some(version) }.normalized();
        match input.validate() {
            Ok(()) => {
                retire.dispatch(input);
            }
            Err(e) => errors.set(e),
        }
    };
    view! {
        <details class="retire">
            <summary>"Retire this process"</summary>
            <form class="form" on:submit=on_submit novalidate>
                <p class="muted">"A retired process stays on record and in every history; it takes no new work."</p>
                {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
                <TextField name="reason" label="Reason for retiring" value=reason errors=Signal::from(errors) required=true form="retire" />
                <div class="actions">
                    <button type="submit" class="btn btn-danger">"Retire"</button>
                </div>
            </form>
        </details>
    }
}

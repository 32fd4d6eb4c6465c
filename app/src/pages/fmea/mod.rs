//! FMEA: the list of worksheets, a new FMEA's header, and the worksheet page (header, filters,
//! CSV export and import, the grid).

pub mod grid;

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::{Permission, UserId};
use shared::org::{ProcessId, Record};
use shared::worksheet::{Fmea, FmeaId, FmeaInput, FmeaKind, Row, RowCells, RowInput};
use shared::{ErrorBody, FieldErrors};

use crate::api::{self, ApiError};
use crate::components::field::{SelectField, TextField};
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::{NOT_SAVED, loaded};
use crate::session::{can, changes_of, session};
use grid::{Grid, View, read_file};

// Two chunks: the list and the header forms (here), and the worksheet ([`worksheet`]).
crate::area!(fmea, Page { List => FmeaList, New => FmeaNew, Header => FmeaHeaderEdit });

/// The worksheet, a chunk of its own (see [`crate::area`]).
pub mod worksheet {
    crate::area!(fmea_worksheet, Page { Worksheet => super::FmeaWorksheet });
}

// The signing dialog, loaded when first opened.
crate::part!(fmea_worksheet__sign, sign_dialog(args: SignArgs));

/// `/fmea`
#[component]
pub fn FmeaList() -> impl IntoView {
    crate::area::prefetch_next(worksheet::prefetch);
    let s = session();
    let changes = changes_of(Fmea::RECORD_TYPE);
    let list = crate::data::resource(move || {
        changes.track();
        api::list_fmeas()
    });
    view! {
        <section>
            <header class="page-head">
                <h1>"FMEA worksheets"</h1>
                <div class="tools">
                    <Show when=move || can(s, &[Permission::ManageFmeas, Permission::EditOwnFmeas])>
                        <A href="/fmea/new" attr:class="btn btn-primary">"New FMEA"</A>
                    </Show>
                </div>
            </header>
            {loaded(list, "the FMEAs", |list| {
                if list.is_empty() {
                    return view! { <p class="empty">"No FMEA yet."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="FMEAs">
                        <thead><tr>
                            <th scope="col">"FMEA ID"</th><th scope="col">"Type"</th><th scope="col">"Subject"</th>
                            <th scope="col">"Process"</th><th scope="col">"Responsible"</th><th scope="col" class="num">"Failure chains"</th>
                            <th scope="col">"Revision date"</th>
                        </tr></thead>
                        <tbody>
                            {list.into_iter().map(|f| view! {
                                <tr>
                                    <td><A href=format!("/fmea/{}", f.id)>{f.fmea_number.clone()}</A></td>
                                    <td>{f.kind.label()}</td>
                                    <td>{f.subject.clone()}</td>
                                    <td>{f.process_name.clone()}</td>
                                    <td>{f.responsible_name.clone()}</td>
                                    <td class="num">{f.rows}</td>
                                    <td>{f.revision_date.to_string()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// `/fmea/new`: the header of a new FMEA (planning, step 1).
#[component]
pub fn FmeaNew() -> impl IntoView {
    view! {
        <section>
            <h1>"New FMEA"</h1>
            <HeaderForm existing=None />
        </section>
    }
}

/// `/fmea/:id/header`: change an FMEA's header (revision date, team, responsibility…).
#[component]
pub fn FmeaHeaderEdit() -> impl IntoView {
    let params = use_params_map();
    let fmea = crate::data::resource(move || {
        let id = params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(FmeaId);
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such FMEA."))) };
            api::get_fmea(id).await
        }
    });
    view! {
        <section>
            {loaded(fmea, "the FMEA", |f| view! {
                <h1>{format!("Header of {} {}", f.kind.label(), f.fmea_number)}</h1>
                <HeaderForm existing=Some(f) />
            })}
        </section>
    }
}

/// The handbook's header of an FMEA, for a new one or to change one (with a reason). The team
/// is chosen from the active users, never typed.
#[component]
fn HeaderForm(
    /// The FMEA as saved; `None` for a new one.
    existing: Option<Fmea>,
) -> impl IntoView {
    let choices = crate::data::resource(|| async {
        Ok::<_, ApiError>((api::list_processes(false).await?, api::user_directory().await?))
    });
    let s = session();
    let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
    let today = crate::components::status::today_utc().to_string();
    let e = existing.clone();
    let text = |f: fn(&Fmea) -> String| RwSignal::new(e.as_ref().map(f).unwrap_or_default());
    let kind = RwSignal::new(e.as_ref().map_or("pfmea", |f| f.kind.as_str()).to_string());
    let number = text(|f| f.fmea_number.clone());
    let subject = text(|f| f.subject.clone());
    let company = text(|f| f.company.clone());
    let location = text(|f| f.location.clone());
    let customer = text(|f| f.customer.clone());
    let model_year = text(|f| f.model_year.clone());
    let start = RwSignal::new(e.as_ref().map_or(today.clone(), |f| f.start_date.to_string()));
    // A change to the header is a new revision of it: the revision date starts at today.
    let revision = RwSignal::new(today);
    let process = text(|f| f.process_id.to_string());
    let responsible =
        RwSignal::new(e.as_ref().map(|f| f.responsible_id).or(me).map(|u| u.to_string()).unwrap_or_default());
    let team = RwSignal::new(
        e.as_ref().map_or_else(|| me.into_iter().collect(), |f| f.team.iter().map(|m| m.id).collect::<Vec<_>>()),
    );
    let confidentiality = RwSignal::new(e.as_ref().map(|f| f.confidentiality).unwrap_or_default().as_str().to_string());
    let reason = RwSignal::new(String::new());
    let attempted = RwSignal::new(false);
    let server_errors = RwSignal::new(FieldErrors::new());
    let failure = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    let editing = existing.as_ref().map(|f| (f.id, f.meta.version));
    let input = move || {
        FmeaInput {
            kind: FmeaKind::parse(&kind.get()).unwrap_or_default(),
            fmea_number: number.get(),
            subject: subject.get(),
            company: company.get(),
            location: location.get(),
            customer: customer.get(),
            model_year: model_year.get(),
            start_date: start.get().parse().ok(),
            revision_date: revision.get().parse().ok(),
            process_id: process.get().parse().ok().map(ProcessId),
            responsible_id: responsible.get().parse().ok().map(UserId),
            team: team.get(),
            confidentiality: shared::worksheet::Confidentiality::ALL
                .into_iter()
                .find(|c| c.as_str() == confidentiality.get())
                .unwrap_or_default(),
            version: editing.map(|(_, v)| v),
            reason: reason.get(),
        }
        .normalized()
    };
    // The same shared rules as the handler: `validate` for a new FMEA, `validate_update` (with
    // the reason) for a change.
    let check = move |i: &FmeaInput| if editing.is_some() { i.validate_update() } else { i.validate() };
    let errors = Signal::derive(move || {
        let mut e = if attempted.get() { check(&input()).err().unwrap_or_default() } else { FieldErrors::new() };
        for (f, codes) in server_errors.get().0 {
            for c in codes {
                e.add(f.clone(), c);
            }
        }
        e
    });
    let save = crate::data::action(move |input: &FmeaInput| {
        let input = input.clone();
        let navigate = navigate.clone();
        async move {
            let result = match editing {
                Some((id, _)) => api::update_fmea(id, &input).await,
                None => api::create_fmea(&input).await,
            };
            match result {
                Ok(f) => navigate(&format!("/fmea/{}", f.id), Default::default()),
                Err(ApiError::Status(422, body)) => {
                    server_errors.set(body.field_errors);
                    failure.set(Some(NOT_SAVED.into()));
                }
                Err(ApiError::Status(409, body)) => failure.set(Some(format!(
                    "{} Reload the page to see their change; nothing of yours was saved.",
                    body.message
                ))),
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        attempted.set(true);
        server_errors.set(FieldErrors::new());
        let i = input();
        if check(&i).is_ok() {
            save.dispatch(i);
        } else {
            failure.set(Some(NOT_SAVED.into()));
        }
    };
    let cancel = existing.as_ref().map_or_else(|| "/fmea".to_string(), |f| format!("/fmea/{}", f.id));
    let is_new = existing.is_none();
    view! {
        {loaded(choices, "the processes and users", move |(processes, users)| {
            let cancel = cancel.clone();
            let members = users.clone();
            view! {
            <form class="form" on:submit=on_submit novalidate>
                {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
                <div class="two">
                    // The type is chosen once: a PFMEA's columns are not a DFMEA's.
                    {is_new.then(|| view! {
                        <SelectField name="kind" label="Type" value=kind errors empty="Choose…" required=true>
                            <option value="pfmea">"PFMEA (process)"</option>
                            <option value="dfmea">"DFMEA (design)"</option>
                        </SelectField>
                    })}
                    <TextField name="fmea_number" label="FMEA ID" value=number errors required=true />
                </div>
                <TextField name="subject" label="Subject" value=subject errors required=true />
                <div class="two">
                    <SelectField name="process_id" label="Process" value=process errors empty="Choose the process…" required=true>
                        {processes.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view()}
                    </SelectField>
                    <SelectField name="responsible_id" label="Responsibility" value=responsible errors empty="Choose…" required=true>
                        {users.iter().map(|u| view! { <option value=u.id.to_string()>{u.full_name.clone()}</option> }).collect_view()}
                    </SelectField>
                </div>
                <fieldset class="team" aria-describedby="team-hint">
                    <legend>"Team"</legend>
                    <p class="muted" id="team-hint">"The cross-functional team: its members may edit the worksheet."</p>
                    <div class="checks">
                        {members.iter().map(|u| {
                            let id = u.id;
                            view! {
                                <label class="check">
                                    <input type="checkbox" name="team" value=id.to_string()
                                        prop:checked=move || team.with(|t| t.contains(&id))
                                        on:change=move |ev| {
                                            let on = event_target_checked(&ev);
                                            team.update(|t| {
                                                t.retain(|m| *m != id);
                                                if on {
                                                    t.push(id);
                                                }
                                            });
                                        } />
                                    {u.full_name.clone()}
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    {move || errors.with(|e| e.get("team").and_then(|c| c.first()).map(|c| view! {
                        <p class="field-error" data-field="team">{shared::validation::describe(c)}</p>
                    }))}
                </fieldset>
                <div class="two">
                    <TextField name="company" label="Company" value=company errors />
                    <TextField name="location" label="Location" value=location errors />
                </div>
                <div class="two">
                    <TextField name="customer" label="Customer" value=customer errors />
                    <TextField name="model_year" label="Model year / program" value=model_year errors />
                </div>
                <div class="two">
                    <TextField name="start_date" label="Start date" value=start errors kind="date" required=true />
                    <TextField name="revision_date" label="Revision date" value=revision errors kind="date" required=true />
                </div>
                <SelectField name="confidentiality" label="Confidentiality" value=confidentiality errors empty="Choose…" required=true>
                    {shared::worksheet::Confidentiality::ALL.iter().map(|c| view! { <option value=c.as_str()>{c.label()}</option> }).collect_view()}
                </SelectField>
                {(!is_new).then(|| view! { <TextField name="reason" label="Reason for change" value=reason errors required=true /> })}
                <div class="actions">
                    <a class="btn" href=cancel>"Cancel"</a>
                    <button type="submit" class="btn btn-primary">{if is_new { "Create FMEA" } else { "Save header" }}</button>
                </div>
            </form>
        }})}
    }
}

/// Rows fetched first, so that a long worksheet shows its first screen while the rest loads.
const FIRST_ROWS: usize = 200;

/// `/fmea/:id`: the worksheet.
#[component]
pub fn FmeaWorksheet() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(FmeaId);
    let data = crate::data::resource(move || {
        let id = id();
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such FMEA."))) };
            Ok((api::worksheet_first(id, FIRST_ROWS).await?, api::user_directory().await?))
        }
    });
    let s = session();
    view! {
        <section class="worksheet-page">
            {loaded(data, "the worksheet", move |(sheet, users)| {
                let fmea = sheet.fmea.clone();
                // The first screen is here; the rest of a long worksheet follows. A row that a
                // live update brought in meanwhile stays when it is newer than the full load's.
                let complete = RwSignal::new(sheet.rows.len() as i64 >= fmea.rows);
                let rows = RwSignal::new(sheet.rows);
                if !complete.get_untracked() {
                    let id = fmea.id;
                    leptos::task::spawn_local(async move {
                        if let Ok(full) = api::worksheet(id).await {
                            let newer: std::collections::HashMap<_, _> =
                                rows.with_untracked(|r| r.iter().map(|x| (x.id, x.clone())).collect());
                            let merged = full
                                .rows
                                .into_iter()
                                .map(|r| match newer.get(&r.id) {
                                    Some(mine) if mine.version > r.version => mine.clone(),
                                    _ => r,
                                })
                                .collect();
                            rows.set(merged);
                        }
                        complete.set(true);
                    });
                }
                let me = s.with_untracked(|s| s.as_ref().map(|s| s.user.id));
                let editable = {
                    let f = fmea.clone();
                    Signal::derive(move || {
                        can(s, &[Permission::ManageFmeas])
                            || can(s, &[Permission::EditOwnFmeas])
                                && (Some(f.responsible_id) == me
                                    || f.process_owner_id.is_some() && f.process_owner_id == me
                                    || f.team.iter().any(|m| Some(m.id) == me))
                    })
                };
                let view_state = RwSignal::new(View { sort: "position".into(), ..Default::default() });
                let set = move |f: fn(&mut View, String)| move |ev| {
                    let v = event_target_value(&ev);
                    view_state.update(|s| f(s, v));
                };
                let counts = move || rows.with(|r| {
                    let h = r.iter().filter(|x| x.cells.ap() == Some(shared::fmea::ActionPriority::High)).count();
                    let m = r.iter().filter(|x| x.cells.ap() == Some(shared::fmea::ActionPriority::Medium)).count();
                    (r.len(), h, m)
                });
                let fid = fmea.id;
                let fmea_rows = fmea.rows;
                view! {
                    <header class="page-head">
                        <h1>{format!("{} {} — {}", fmea.kind.label(), fmea.fmea_number, fmea.subject)}</h1>
                        <div class="tools">
                            <a class="btn" href=format!("/api/v1/fmeas/{fid}/export.csv") download="">"Export CSV"</a>
                            <a class="btn" href=format!("/api/v1/fmeas/{fid}/export.xlsx") download="">"Export Excel"</a>
                            {move || editable.get().then(|| view! {
                                <A href=format!("/fmea/{fid}/header") attr:class="btn">"Edit header"</A>
                            })}
                            <A href="/fmea" attr:class="btn">"All FMEAs"</A>
                        </div>
                    </header>
                    <p class="meta">
                        {
                            let or_dash = |t: String| if t.trim().is_empty() { "—".to_string() } else { t };
                            let mut parts = vec![
                                format!("Process: {}", fmea.process_name),
                                format!("Responsibility: {}", fmea.responsible_name),
                                format!("Team: {}", or_dash(fmea.team.iter().map(|m| m.name.clone()).collect::<Vec<_>>().join(", "))),
                                format!("Customer: {}", or_dash(fmea.customer.clone())),
                            ];
                            parts.extend([&fmea.company, &fmea.location, &fmea.model_year].into_iter().filter(|t| !t.is_empty()).cloned());
                            parts.extend([
                                format!("Start {}", fmea.start_date),
                                format!("Revision {}", fmea.revision_date),
                                fmea.confidentiality.label().to_string(),
                            ]);
                            parts.join(" · ")
                        }
                    </p>
                    <div class="filters" role="search" aria-label="Filter the worksheet">
                        <label class="filter">"AP"
                            <select name="ap" on:change=set(|s, v| s.ap = v)>
                                <option value="">"All"</option><option value="H">"High"</option><option value="M">"Medium"</option><option value="L">"Low"</option>
                            </select>
                        </label>
                        <label class="filter">"Action"
                            <select name="status" on:change=set(|s, v| s.status = v)>
                                <option value="">"Any"</option><option value="pending">"Pending"</option><option value="overdue">"Overdue"</option>
                                <option value="completed">"Completed"</option><option value="none">"No action"</option>
                            </select>
                        </label>
                        <label class="filter">"Special characteristic"
                            <select name="special" on:change=set(|s, v| s.special = v)>
                                <option value="">"Any"</option><option value="any">"Marked"</option><option value="CC">"CC"</option><option value="SC">"SC"</option>
                            </select>
                        </label>
                        <label class="filter">"Search"
                            <input type="search" name="text" placeholder="Step, mode, effect, cause, action" on:input=set(|s, v| s.text = v) />
                        </label>
                        <label class="filter">"Sort"
                            <select name="sort" on:change=set(|s, v| s.sort = v)>
                                <option value="position">"Worksheet order"</option><option value="ap">"AP (High first)"</option>
                                <option value="severity">"Severity"</option><option value="rpn">"RPN"</option>
                            </select>
                        </label>
                        <span class="muted" data-testid="sheet-counts">{move || {
                            if complete.get() {
                                let (n, h, m) = counts();
                                format!("{n} failure chains · {h} High · {m} Medium")
                            } else {
                                format!("{} failure chains · loading all rows…", fmea_rows)
                            }
                        }}</span>
                    </div>
                    {move || editable.get().then(|| fmea_worksheet__row_tools::view(fid, rows))}
                    <div class="sheet-layout">
                        <StructureTree rows kind=fmea.kind view=view_state />
                        <div class="sheet-main">
                            <Grid fmea=fmea.clone() rows users view=view_state editable />
                            <p class="muted keys">"Keys: arrows move · Enter or F2 edits · typing starts editing · Esc cancels · Enter or Tab saves the row · Page Up/Down."</p>
                        </div>
                    </div>
                    <Baseline fmea=fid rows subject=fmea.fmea_number.clone() />
                }
            })}
        </section>
    }
}

// Adding and importing rows, for those who may edit the worksheet only: a chunk of its own.
crate::part!(fmea_worksheet__row_tools, row_tools(fmea: FmeaId, rows: RwSignal<Vec<Row>>));

/// Add a failure chain; import CSV.
fn row_tools(fmea: FmeaId, rows: RwSignal<Vec<Row>>) -> impl IntoView {
    let mode = RwSignal::new(String::new());
    let message = RwSignal::new(None::<Result<String, String>>);
    let problems = RwSignal::new(Vec::<shared::worksheet::ImportProblem>::new());
    let skip_bad = RwSignal::new(false);
    let file = NodeRef::<leptos::html::Input>::new();
    let add = move |ev: SubmitEvent| {
        ev.prevent_default();
        let input =
            RowInput { cells: RowCells { failure_mode: mode.get_untracked(), ..Default::default() }, version: None };
        if input.cells.failure_mode.trim().is_empty() {
            message.set(Some(Err("Type the failure mode of the new row.".into())));
            return;
        }
        leptos::task::spawn_local(async move {
            match api::create_row(fmea, &input).await {
                Ok(row) => {
                    mode.set(String::new());
                    message.set(Some(Ok(format!("Row {} added at the end.", row.position))));
                    rows.update(|r| {
                        if !r.iter().any(|x| x.id == row.id) {
                            r.push(row)
                        }
                    });
                }
                Err(e) => message.set(Some(Err(e.to_string()))),
            }
        });
    };
    let import = move |_| {
        let Some(input) = file.get_untracked() else { return };
        let skip = skip_bad.get_untracked();
        leptos::task::spawn_local(async move {
            let import = Import { fmea, input, skip_bad_rows: skip, rows, message, problems };
            if fmea_worksheet__row_tools__import::run(import).await.is_err() {
                message.set(Some(Err("The import could not be loaded: the network may have dropped, or Caliper has \
                     been updated. Reload the page and import again."
                    .into())));
            }
        });
    };
    view! {
        <div class="row-tools">
            <form class="inline" on:submit=add>
                <input name="new_failure_mode" aria-label="Failure mode of the new row" placeholder="Failure mode of a new row"
                    prop:value=move || mode.get() on:input=move |ev| mode.set(event_target_value(&ev)) />
                <button type="submit" class="btn">"Add row"</button>
            </form>
            <div class="inline">
                <input type="file" accept=".csv,text/csv" node_ref=file aria-label="CSV file to import" />
                <label class="check"><input type="checkbox" prop:checked=move || skip_bad.get() on:change=move |ev| skip_bad.set(event_target_checked(&ev)) />"Import the good rows only"</label>
                <button type="button" class="btn" on:click=import>"Import CSV"</button>
            </div>
        </div>
        {move || message.get().map(|m| match m {
            Ok(t) => view! { <div class="alert alert-ok" role="status">{t}</div> }.into_any(),
            Err(t) => view! { <div class="alert alert-error" role="alert">{t}</div> }.into_any(),
        })}
        {move || (!problems.with(Vec::is_empty)).then(|| view! {
            <table class="grid import-problems" aria-label="Import problems">
                <thead><tr><th scope="col">"Line"</th><th scope="col">"Column"</th><th scope="col">"Problem"</th></tr></thead>
                <tbody>
                    {problems.get().into_iter().take(200).map(|p| view! { <tr><td class="num">{p.line}</td><td>{p.column}</td><td>{p.reason}</td></tr> }).collect_view()}
                </tbody>
            </table>
        })}
    }
}

// Importing a CSV file into the worksheet: a chunk of its own, loaded when an import starts.
crate::step_part!(fmea_worksheet__row_tools__import, async import_csv_file(import: Import));

/// An import: into which FMEA, from which file input, and the page's state it reports to.
#[derive(Clone)]
struct Import {
    fmea: FmeaId,
    input: web_sys::HtmlInputElement,
    skip_bad_rows: bool,
    rows: RwSignal<Vec<Row>>,
    message: RwSignal<Option<Result<String, String>>>,
    problems: RwSignal<Vec<shared::worksheet::ImportProblem>>,
}

/// Imports the CSV file chosen in `input` (all its rows, or the good ones only), then shows the
/// server's report: how many rows came in, or every problem by line and column.
async fn import_csv_file(import: Import) {
    let Import { fmea, input, skip_bad_rows, rows, message, problems } = import;
    let Some(bytes) = read_file(&input).await else {
        message.set(Some(Err("Choose a CSV file first.".into())));
        return;
    };
    if bytes.len() > shared::worksheet::IMPORT_LIMIT_BYTES {
        problems.set(Vec::new());
        message.set(Some(Err(format!(
            "The file is {} MB; a worksheet import takes at most {} MB. Nothing was imported.",
            bytes.len().div_ceil(1024 * 1024),
            shared::worksheet::IMPORT_LIMIT_BYTES / (1024 * 1024)
        ))));
        return;
    }
    match api::import_csv(fmea, bytes, skip_bad_rows).await {
        Ok((status, body)) => {
            let report: Vec<shared::worksheet::ImportProblem> =
                serde_json::from_value(body["problems"].clone()).unwrap_or_default();
            let imported = body["imported"].as_u64().unwrap_or_default();
            problems.set(report);
            if status == 200 {
                message.set(Some(Ok(format!("{imported} row(s) imported."))));
                if let Ok(sheet) = api::worksheet(fmea).await {
                    rows.set(sheet.rows);
                }
            } else {
                let text = body["message"].as_str().map(str::to_string).unwrap_or_else(|| {
                    "Nothing was imported: correct the rows below, or tick “Import the good rows only”.".into()
                });
                message.set(Some(Err(text)));
            }
        }
        Err(e) => message.set(Some(Err(e.to_string()))),
    }
}

/// A process step (or focus element) of the structure tree, with its work elements (or lower
/// levels) and how many failure chains each holds.
type Step = (String, Vec<(String, usize)>);

/// Structure analysis as a tree (process item → process step → work element; DFMEA: next
/// higher level → focus element → next lower level), derived from the failure chains, with
/// their count; choosing a node filters the grid to it.
#[component]
fn StructureTree(rows: RwSignal<Vec<Row>>, kind: FmeaKind, view: RwSignal<View>) -> impl IntoView {
    // Built in one pass with an index per level (a 10,000-row worksheet has thousands of steps:
    // searching the lists instead made this quadratic, and it runs on every row saved). The
    // memo only re-renders the tree when the structure itself changed.
    let tree = Memo::new(move |_| {
        rows.with(|rows| {
            use std::collections::HashMap;
            let mut items: Vec<(String, Vec<Step>)> = Vec::new();
            let mut item_at: HashMap<&str, usize> = HashMap::new();
            let mut step_at: HashMap<(usize, &str), usize> = HashMap::new();
            let mut element_at: HashMap<(usize, usize, &str, &str), usize> = HashMap::new();
            for r in rows {
                let c = &r.cells;
                let item = *item_at.entry(c.structure_item.as_str()).or_insert_with(|| {
                    items.push((c.structure_item.clone(), Vec::new()));
                    items.len() - 1
                });
                let steps = &mut items[item].1;
                let step = *step_at.entry((item, c.structure_step.as_str())).or_insert_with(|| {
                    steps.push((c.structure_step.clone(), Vec::new()));
                    steps.len() - 1
                });
                let elements = &mut steps[step].1;
                let key = (item, step, c.structure_element.as_str(), c.element_type.as_str());
                match element_at.get(&key) {
                    Some(&e) => elements[e].1 += 1,
                    None => {
                        let label = if c.element_type.is_empty() {
                            c.structure_element.clone()
                        } else {
                            format!("{} ({})", c.structure_element, c.element_type)
                        };
                        element_at.insert(key, elements.len());
                        elements.push((label, 1));
                    }
                }
            }
            items
        })
    });
    let levels = if kind == FmeaKind::Pfmea {
        "Process item → step → work element"
    } else {
        "Next higher level → focus element → next lower level"
    };
    let pick = move |text: String| view.update(|v| v.text = text);
    view! {
        <nav class="structure-tree" aria-label="Structure analysis">
            <h2>"Structure"</h2>
            <p class="muted">{levels}</p>
            <button type="button" class="link" on:click=move |_| pick(String::new())>"All failure chains"</button>
            {move || {
                let big = rows.with(Vec::len) > 2000;
                tree.get().into_iter().map(|(item, steps)| view! {
                    <details open=true>
                        <summary>{if item.is_empty() { "(no item)".to_string() } else { item }}</summary>
                        <ul>
                            {steps.into_iter().take(if big { 200 } else { usize::MAX }).map(|(step, elements)| {
                                let s2 = step.clone();
                                view! {
                                    <li>
                                        <button type="button" class="link" on:click=move |_| pick(s2.clone())>{step.clone()}</button>
                                        <ul>
                                            {elements.into_iter().map(|(e, n)| view! { <li class="muted">{format!("{e} · {n}")}</li> }).collect_view()}
                                        </ul>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </details>
                }).collect_view()
            }}
        </nav>
    }
}

/// The worksheet baseline, approved by signature: it binds the header and every row as they
/// are; any change afterwards supersedes it.
#[component]
fn Baseline(fmea: FmeaId, rows: RwSignal<Vec<Row>>, subject: String) -> impl IntoView {
    // The content version follows every change to the rows (re-read when they change).
    let header = crate::data::resource(move || {
        rows.with(|r| r.iter().map(|x| x.version).sum::<i64>() + r.len() as i64);
        async move { api::get_fmea(fmea).await }
    });
    let version = Signal::derive(move || header.get().and_then(Result::ok).map_or(0, |f| f.content_version));
    let what = Signal::derive(move || format!("the baseline of FMEA {subject} (every row as it is now)"));
    view! {
        <section class="approval" aria-labelledby="baseline-title">
            <h2 id="baseline-title">"Baseline approval"</h2>
            <p class="muted">"Approving signs the whole worksheet as it is now; any later change shows the approval as superseded."</p>
            {move || (version.get() > 0).then(|| view! {
                <SignaturePanel dialog=(fmea_worksheet__sign::view, fmea_worksheet__sign::prefetch) record_type=Fmea::RECORD_TYPE record_id=fmea.0 version meaning=shared::signature::Meaning::Approved what awaiting="No approved baseline" />
            })}
        </section>
    }
}

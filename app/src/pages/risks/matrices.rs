//! Risk matrices: every matrix with its revisions, and a revision's page: the grid, the
//! editor of a draft (checked by the shared matrix rules as you edit), and its approval.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_params_map};
use shared::auth::Permission;
use shared::org::Record;
use shared::register::{MatrixInput, MatrixRevision, MatrixRevisionId, RevisionStatus};
use shared::risk::{Level, MAX_LEVELS, MIN_LEVELS, MatrixDefinition, Zone, ZoneColour, default_5x5};
use shared::signature::Meaning;
use shared::{ErrorBody, FieldErrors};

use crate::api::{self, ApiError};
use crate::components::field::TextField;
use crate::components::history::RecordHistory;
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::{NOT_SAVED, format_utc, loaded};
use crate::session::{can, changes_of, session};

fn status_badge(status: RevisionStatus) -> impl IntoView {
    let class = match status {
        RevisionStatus::Effective => "badge badge-active",
        RevisionStatus::Draft => "badge badge-update",
        RevisionStatus::Superseded => "badge badge-retired",
    };
    view! { <span class=class>{status.label()}</span> }
}

// The signing dialog, loaded when first opened.
crate::part!(risk_matrices__sign, sign_dialog(args: SignArgs));

/// `/risks/matrices`
#[component]
pub fn MatrixList() -> impl IntoView {
    let s = session();
    let changes = changes_of(MatrixRevision::RECORD_TYPE);
    let list = crate::data::resource(move || {
        changes.track();
        api::list_matrix_revisions()
    });
    let navigate = use_navigate();
    let failure = RwSignal::new(None::<String>);
    let create = crate::data::action(move |(): &()| {
        let navigate = navigate.clone();
        async move {
            let input = MatrixInput { definition: default_5x5(), change_note: "First issue".into(), version: None };
            match api::create_matrix(&input).await {
                Ok(r) => navigate(&format!("/risks/matrices/{}", r.id), Default::default()),
                Err(e) => failure.set(Some(e.to_string())),
            }
        }
    });
    view! {
        <section>
            <header class="page-head">
                <h1>"Risk matrices"</h1>
                <div class="tools">
                    <A href="/risks" attr:class="btn">"Risk register"</A>
                    <Show when=move || can(s, &[Permission::ManageRiskMatrices])>
                        <button type="button" class="btn btn-primary" on:click=move |_| { create.dispatch(()); }>"New matrix"</button>
                    </Show>
                </div>
            </header>
            <p class="muted">"A revision scores risks only once a quality manager approves it by signature; every risk keeps the revision that scored it until it is re-scored."</p>
            {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
            {loaded(list, "the matrices", |revisions| {
                if revisions.is_empty() {
                    return view! { <p class="empty">"No risk matrix yet."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="Risk matrix revisions">
                        <thead><tr>
                            <th scope="col">"Matrix"</th><th scope="col" class="num">"Rev."</th><th scope="col">"Size"</th>
                            <th scope="col">"Status"</th><th scope="col">"Approved"</th><th scope="col">"Change note"</th>
                        </tr></thead>
                        <tbody>
                            {revisions.into_iter().map(|r| view! {
                                <tr>
                                    <td><A href=format!("/risks/matrices/{}", r.id)>{r.definition.name.clone()}</A></td>
                                    <td class="num">{r.revision}</td>
                                    <td>{format!("{}×{}", r.definition.likelihood.len(), r.definition.severity.len())}</td>
                                    <td>{status_badge(r.status)}</td>
                                    <td>{r.approved_by.clone().map(|by| format!("{by}, {}", r.approved_at.map(|t| format_utc(&t)).unwrap_or_default()))}</td>
                                    <td>{r.change_note.clone()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

/// `/risks/matrices/:id`: one revision.
#[component]
pub fn MatrixRevisionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(MatrixRevisionId);
    let data = crate::data::resource(move || {
        let id = id();
        async move {
            let Some(id) = id else { return Err(ApiError::Status(404, ErrorBody::new("No such revision."))) };
            api::get_matrix_revision(id).await
        }
    });
    view! {
        <section>
            {loaded(data, "the matrix revision", |revision| {
                let rid = revision.id.0;
                let record = RwSignal::new(revision);
                let version = Signal::derive(move || record.with(|r| r.meta.version));
                let what = Signal::derive(move || record.with(|r| format!("the risk matrix “{}”, revision {}", r.definition.name, r.revision)));
                let reload = Callback::new(move |_| {
                    leptos::task::spawn_local(async move {
                        if let Ok(fresh) = api::get_matrix_revision(MatrixRevisionId(rid)).await {
                            record.set(fresh);
                        }
                    });
                });
                view! {
                    <h1>{move || record.with(|r| r.title())} " " {move || status_badge(record.with(|r| r.status))}</h1>
                    <MatrixEditor record />
                    <section class="approval" aria-labelledby="approval-title">
                        <h2 id="approval-title">"Approval"</h2>
                        <p class="muted">"Approving makes this revision the one new risks are scored on; it is frozen from then on."</p>
                        <SignaturePanel dialog=(risk_matrices__sign::view, risk_matrices__sign::prefetch)
                            record_type=MatrixRevision::RECORD_TYPE
                            record_id=rid
                            version
                            meaning=Meaning::Approved
                            what
                            awaiting="Awaiting approval"
                            on_signed=reload
                        />
                    </section>
                    <RecordHistory record_type=MatrixRevision::RECORD_TYPE record_id=rid />
                }
            })}
        </section>
    }
}

fn zone_short(z: Option<Zone>) -> &'static str {
    match z {
        Some(Zone::Acceptable) => "Acceptable",
        Some(Zone::ReduceAsFarAsPossible) => "ALARP",
        Some(Zone::Unacceptable) => "Unacceptable",
        None => "—",
    }
}

/// The matrix grid; a draft is edited here by those who manage matrices.
#[component]
fn MatrixEditor(record: RwSignal<MatrixRevision>) -> impl IntoView {
    let s = session();
    let navigate = use_navigate();
    let editable =
        move || can(s, &[Permission::ManageRiskMatrices]) && record.with(|r| r.status == RevisionStatus::Draft);
    let def = RwSignal::new(record.get_untracked().definition);
    let name = RwSignal::new(def.with_untracked(|d| d.name.clone()));
    let note = RwSignal::new(record.with_untracked(|r| r.change_note.clone()));
    let server_errors = RwSignal::new(FieldErrors::new());
    let outcome = RwSignal::new(None::<Result<(), String>>);
    Effect::new(move |_| def.update(|d| d.name = name.get()));
    let input = move || MatrixInput {
        definition: def.get(),
        change_note: note.get(),
        version: Some(record.with(|r| r.meta.version)),
    };
    let errors = Signal::derive(move || {
        let mut e = input().validate().err().unwrap_or_default();
        for (f, codes) in server_errors.get().0 {
            for c in codes {
                e.add(f.clone(), c);
            }
        }
        // The name field is `definition.name` in the rules; the form names it `name`.
        if let Some(codes) = e.get("definition.name").map(<[String]>::to_vec) {
            for c in codes {
                e.add("name", c);
            }
        }
        e
    });
    let save = crate::data::action(move |input: &MatrixInput| {
        let input = input.clone();
        let id = record.with_untracked(|r| r.id);
        async move {
            match api::update_matrix_revision(id, &input).await {
                Ok(saved) => {
                    record.set(saved);
                    outcome.set(Some(Ok(())));
                }
                Err(ApiError::Status(422, body)) => {
                    server_errors.set(body.field_errors);
                    outcome.set(Some(Err(NOT_SAVED.into())));
                }
                Err(e) => outcome.set(Some(Err(e.to_string()))),
            }
        }
    });
    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        server_errors.set(FieldErrors::new());
        let i = input();
        if i.validate().is_ok() {
            save.dispatch(i);
        } else {
            outcome.set(Some(Err(NOT_SAVED.into())));
        }
    };
    let start_next = crate::data::action(move |(): &()| {
        let navigate = navigate.clone();
        async move {
            let r = record.get_untracked();
            let input = MatrixInput {
                definition: r.definition.clone(),
                change_note: format!("Revision {} (describe the change)", r.revision + 1),
                version: None,
            };
            match api::create_matrix_revision(r.matrix_id, &input).await {
                Ok(next) => navigate(&format!("/risks/matrices/{}", next.id), Default::default()),
                Err(ApiError::Status(409, body)) => {
                    match body.current.and_then(|c| serde_json::from_value::<MatrixRevision>(c).ok()) {
                        Some(draft) => navigate(&format!("/risks/matrices/{}", draft.id), Default::default()),
                        None => outcome.set(Some(Err(body.message))),
                    }
                }
                Err(e) => outcome.set(Some(Err(e.to_string()))),
            }
        }
    });
    let cycle = move |l: usize, sv: usize| {
        if !editable() {
            return;
        }
        def.update(|d| {
            let uses_alarp = d.zones.iter().flatten().any(|z| *z == Some(Zone::ReduceAsFarAsPossible));
            let next = match d.zones[l][sv] {
                Some(Zone::Acceptable)
                    if uses_alarp || d.zones.iter().flatten().all(|z| *z != Some(Zone::Unacceptable)) =>
                {
                    Some(Zone::ReduceAsFarAsPossible)
                }
                Some(Zone::Acceptable) => Some(Zone::Unacceptable),
                Some(Zone::ReduceAsFarAsPossible) => Some(Zone::Unacceptable),
                Some(Zone::Unacceptable) | None => Some(Zone::Acceptable),
            };
            d.zones[l][sv] = next;
            for z in [Zone::Acceptable, Zone::ReduceAsFarAsPossible, Zone::Unacceptable] {
                if d.zones.iter().flatten().any(|c| *c == Some(z)) && !d.colours.iter().any(|c| c.zone == z) {
                    d.colours.push(ZoneColour { zone: z, colour: "#f9a825".into() });
                }
            }
        });
    };
    let resize = move |axis: &'static str, grow: bool| {
        def.update(|d: &mut MatrixDefinition| {
            let len = if axis == "likelihood" { d.likelihood.len() } else { d.severity.len() };
            if grow && len < MAX_LEVELS {
                let level = Level { label: format!("Level {}", len + 1), description: String::new() };
                if axis == "likelihood" {
                    d.likelihood.push(level);
                    let top = d.zones.last().cloned().unwrap_or_default();
                    d.zones.push(top);
                } else {
                    d.severity.push(level);
                    for row in &mut d.zones {
                        let last = row.last().copied().flatten();
                        row.push(last);
                    }
                }
            } else if !grow && len > MIN_LEVELS {
                if axis == "likelihood" {
                    d.likelihood.pop();
                    d.zones.pop();
                } else {
                    d.severity.pop();
                    for row in &mut d.zones {
                        row.pop();
                    }
                }
            }
        });
    };
    let colour_of = move |z: Zone| {
        def.with(|d| {
            d.colours.iter().find(|c| c.zone == z).map(|c| c.colour.clone()).unwrap_or_else(|| "#ffffff".into())
        })
    };
    let level_editor = move |axis: &'static str| {
        move || {
            let levels = def.with(|d| if axis == "likelihood" { d.likelihood.clone() } else { d.severity.clone() });
            levels
                .into_iter()
                .enumerate()
                .map(|(i, level)| {
                    let field = format!("definition.{axis}[{i}].label");
                    let f2 = field.clone();
                    view! {
                        <div class="level" class:has-error=move || errors.with(|e| e.get(&f2).is_some())>
                            <span class="level-n">{i + 1}</span>
                            <input aria-label=format!("{axis} {} label", i + 1) prop:value=level.label.clone() disabled=move || !editable()
                                on:change=move |ev| { let v = event_target_value(&ev); def.update(|d| { let a = if axis == "likelihood" { &mut d.likelihood } else { &mut d.severity }; a[i].label = v; }) } />
                            <input aria-label=format!("{axis} {} description", i + 1) prop:value=level.description.clone() disabled=move || !editable()
                                on:change=move |ev| { let v = event_target_value(&ev); def.update(|d| { let a = if axis == "likelihood" { &mut d.likelihood } else { &mut d.severity }; a[i].description = v; }) } />
                            <span class="field-error">{move || errors.with(|e| e.get(&field).map(|c| c.iter().map(|c| shared::validation::describe(c)).collect::<Vec<_>>().join(" ")))}</span>
                        </div>
                    }
                })
                .collect_view()
        }
    };

    view! {
        <form class="form matrix-form" on:submit=on_submit novalidate>
            {move || outcome.get().map(|o| match o {
                Ok(()) => view! { <div class="alert alert-ok" role="status">"Saved."</div> }.into_any(),
                Err(m) => view! { <div class="alert alert-error" role="alert">{m}</div> }.into_any(),
            })}
            {move || record.with(|r| r.approved_by.clone().map(|by| view! {
                <p class="meta">{format!("Approved by {by} · frozen. To change it, start a new revision.")}</p>
            }))}
            <fieldset disabled=move || !editable()>
                <TextField name="name" label="Name" value=name errors required=true />
            </fieldset>
            <p class="muted">"Zones: click a cell (when editing a draft) to change its zone. Likelihood rises upwards, severity to the right."</p>
            <table class="matrix-grid" aria-label="Zones of the matrix">
                <tbody>
                    {move || {
                        let d = def.get();
                        (0..d.likelihood.len()).rev().map(|l| {
                            let label = d.likelihood[l].label.clone();
                            view! {
                                <tr>
                                    <th scope="row">{format!("{} {label}", l + 1)}</th>
                                    {(0..d.severity.len()).map(|sv| {
                                        let zone = d.zones.get(l).and_then(|r| r.get(sv)).copied().flatten();
                                        let bg = zone.map(colour_of).unwrap_or_else(|| "#ffffff".into());
                                        let field = format!("definition.zones[{l}][{sv}]");
                                        let bad = errors.with_untracked(|e| e.get(&field).is_some());
                                        view! {
                                            <td class="zone-cell" class:bad=bad style=format!("background:{bg}")>
                                                <button type="button" disabled=move || !editable() on:click=move |_| cycle(l, sv)
                                                    aria-label=format!("likelihood {}, severity {}: {}{}", l + 1, sv + 1, zone.map(Zone::label).unwrap_or("no zone"),
                                                        // The name holds what the button shows (WCAG 2.5.3).
                                                        if zone == Some(Zone::ReduceAsFarAsPossible) { ", ALARP" } else { "" })>
                                                    {zone_short(zone)}
                                                </button>
                                            </td>
                                        }
                                    }).collect_view()}
                                </tr>
                            }
                        }).collect_view()
                    }}
                    <tr>
                        <th></th>
                        {move || def.with(|d| d.severity.iter().enumerate().map(|(i, s)| view! { <th scope="col">{format!("{} {}", i + 1, s.label)}</th> }).collect_view())}
                    </tr>
                </tbody>
            </table>
            <p class="field-error" role="alert">{move || errors.with(|e| e.0.iter().filter(|(f, _)| f.starts_with("definition.zones")).flat_map(|(_, c)| c.iter().map(|c| shared::validation::describe(c))).collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>().join(" "))}</p>
            <div class="two">
                <fieldset class="levels">
                    <legend>"Likelihood levels (lowest first)"</legend>
                    {level_editor("likelihood")}
                    <div hidden=move || !editable()>
                        <button type="button" class="btn" on:click=move |_| resize("likelihood", true)>"Add level"</button>
                        " "
                        <button type="button" class="btn" on:click=move |_| resize("likelihood", false)>"Remove top level"</button>
                    </div>
                </fieldset>
                <fieldset class="levels">
                    <legend>"Severity levels (lowest first)"</legend>
                    {level_editor("severity")}
                    <div hidden=move || !editable()>
                        <button type="button" class="btn" on:click=move |_| resize("severity", true)>"Add level"</button>
                        " "
                        <button type="button" class="btn" on:click=move |_| resize("severity", false)>"Remove top level"</button>
                    </div>
                </fieldset>
            </div>
            <fieldset class="colours" disabled=move || !editable()>
                <legend>"Zone colours"</legend>
                {move || def.with(|d| d.colours.clone()).into_iter().map(|c| {
                    let zone = c.zone;
                    view! {
                        <label class="check">
                            <input type="color" prop:value=c.colour.clone()
                                on:change=move |ev| { let v = event_target_value(&ev); def.update(|d| if let Some(x) = d.colours.iter_mut().find(|x| x.zone == zone) { x.colour = v; }) } />
                            {zone.label()}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset disabled=move || !editable()>
                <TextField name="change_note" label="Change note" value=note errors multiline=true required=true />
            </fieldset>
            <div class="actions">
                <a class="btn" href="/risks/matrices">"All matrices"</a>
                <button type="button" class="btn" hidden=move || !(can(s, &[Permission::ManageRiskMatrices]) && record.with(|r| r.status == RevisionStatus::Effective))
                    on:click=move |_| { start_next.dispatch(()); }>"Start a new revision"</button>
                <button type="submit" class="btn btn-primary" hidden=move || !editable() disabled=move || save.pending().get()>"Save draft"</button>
            </div>
        </form>
    }
}

/// The risk matrices, a chunk of their own (see [`crate::area`]).
pub mod chunk {
    crate::area!(risk_matrices, Page { List => super::MatrixList, Revision => super::MatrixRevisionPage });
}

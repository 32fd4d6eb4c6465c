//! The process list.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::auth::Permission;

use shared::org::{Process, Record};
use shared::signature::Meaning;

use crate::api;
use crate::components::signature::SignatureManifestation;
use crate::components::status::{LifeBadge, format_utc, loaded};
use crate::session::{can, changes_of, session};

/// All active processes (optionally the retired ones too), by name.
#[component]
pub fn ProcessList() -> impl IntoView {
    let show_retired = RwSignal::new(false);
    // Someone else's save (or signature) shows here without a reload.
    let changes = changes_of(Process::RECORD_TYPE);
    let processes = crate::data::resource(move || {
        // Read before the first await, so the resource reloads when either changes.
        changes.track();
        let include_retired = show_retired.get();
        async move {
            // The owner approvals (11.50: a signed record shows its signature wherever it is
            // listed).
            let processes = api::list_processes(include_retired).await?;
            let approvals = api::list_signatures("process", None).await?;
            Ok::<_, api::ApiError>((processes, approvals))
        }
    });
    let s = session();
    view! {
        <section>
            <header class="page-head">
                <h1>"Processes"</h1>
                <div class="tools">
                    <label class="check">
                        <input
                            type="checkbox"
                            prop:checked=move || show_retired.get()
                            on:change=move |ev| show_retired.set(event_target_checked(&ev))
                        />
                        "Show retired"
                    </label>
                    <Show when=move || can(s, &[Permission::ManageProcesses])>
                        <A href="/admin/processes/new" attr:class="btn btn-primary">"New process"</A>
                    </Show>
                </div>
            </header>
            {loaded(processes, "the processes", |(list, approvals)| {
                if list.is_empty() {
                    return view! { <p class="empty">"No processes yet. Create the first one."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="Processes">
                        <thead>
                            <tr>
                                <th scope="col">"Name"</th>
                                <th scope="col">"Department"</th>
                                <th scope="col">"Owner"</th>
                                <th scope="col">"Owner approval"</th>
                                <th scope="col">"Status"</th>
                                <th scope="col" class="num">"Version"</th>
                                <th scope="col">"Last changed"</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.into_iter().map(|p| {
                                let approval = approvals
                                    .iter()
                                    .find(|s| s.record_id == p.id.0 && s.meaning == Meaning::Approved && !s.superseded)
                                    .cloned();
                                view! {
                                <tr>
                                    <td><A href=format!("/admin/processes/{}", p.id)>{p.name}</A></td>
                                    <td>{p.department_name}</td>
                                    <td>{p.owner_name}</td>
                                    <td>{match approval {
                                        Some(signature) => view! { <SignatureManifestation signature compact=true /> }.into_any(),
                                        None => view! { <span class="sig-status">"Awaiting approval"</span> }.into_any(),
                                    }}</td>
                                    <td><LifeBadge retired=p.meta.retired_at.is_some() /></td>
                                    <td class="num">{p.meta.version}</td>
                                    <td>{format_utc(&p.meta.updated_at)}</td>
                                </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

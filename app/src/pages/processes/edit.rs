//! The pages that hold the process form: new and edit (with the owner assignment's approval).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::ErrorBody;
use shared::org::{Process, ProcessId, Record};
use shared::signature::Meaning;

use super::form::ProcessForm;
use crate::api::{self, ApiError};
use crate::components::signature::{SignArgs, SignaturePanel, sign_dialog};
use crate::components::status::loaded;

// The signing dialog, loaded when first opened.
crate::part!(admin__sign, sign_dialog(args: SignArgs));

/// `/admin/processes/new`
#[component]
pub fn ProcessNew() -> impl IntoView {
    let choices =
        crate::data::resource(|| async { Ok((api::list_departments(true).await?, api::user_directory().await?)) });
    view! {
        <section>
            <h1>"New process"</h1>
            {loaded(choices, "the departments and users", |(departments, directory)| {
                view! { <ProcessForm record=RwSignal::new(None) departments directory /> }
            })}
        </section>
    }
}

/// `/admin/processes/:id`
#[component]
pub fn ProcessEdit() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(ProcessId);
    let process = crate::data::resource(move || {
        let id = id();
        async move {
            let Some(id) = id else {
                return Err(ApiError::Status(404, ErrorBody::new("No such process.")));
            };
            let process = api::get_process(id).await?;
            let departments = api::list_departments(true).await?;
            let directory = api::user_directory().await?;
            Ok((process, departments, directory))
        }
    });
    view! {
        <section>
            {loaded(process, "the process", |(process, departments, directory)| {
                let id = process.id.0;
                let record = RwSignal::new(Some(process.clone()));
                let version = Signal::derive(move || record.with(|r| r.as_ref().map_or(0, |p| p.meta.version)));
                let what = Signal::derive(move || {
                    record.with(|r| {
                        r.as_ref()
                            .map(|p| format!("the assignment of {} as owner of the process “{}”", p.owner_name, p.name))
                            .unwrap_or_default()
                    })
                });
                view! {
                    <h1>{process.name}</h1>
                    <ProcessForm record departments directory />
                    <section class="approval" aria-labelledby="approval-title">
                        <h2 id="approval-title">"Owner assignment approval"</h2>
                        <SignaturePanel dialog=(admin__sign::view, admin__sign::prefetch)
                            record_type=Process::RECORD_TYPE
                            record_id=id
                            version
                            meaning=Meaning::Approved
                            what
                            awaiting="Awaiting approval"
                        />
                    </section>
                }
            })}
        </section>
    }
}

//! The pages that hold the process form: new and edit.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use shared::ErrorBody;
use shared::org::ProcessId;

use super::form::ProcessForm;
use crate::api::{self, ApiError};
use crate::components::status::loaded;

/// `/admin/processes/new`
#[component]
pub fn ProcessNew() -> impl IntoView {
    let departments = LocalResource::new(|| api::list_departments(true));
    view! {
        <section>
            <h1>"New process"</h1>
            {loaded(departments, "the departments", |departments| view! { <ProcessForm initial=None departments /> })}
        </section>
    }
}

/// `/admin/processes/:id`
#[component]
pub fn ProcessEdit() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).map(ProcessId);
    let process = LocalResource::new(move || {
        let id = id();
        async move {
            let Some(id) = id else {
                return Err(ApiError::Status(404, ErrorBody::new("No such process.")));
            };
            let process = api::get_process(id).await?;
            let departments = api::list_departments(true).await?;
            Ok((process, departments))
        }
    });
    view! {
        <section>
            {loaded(process, "the process", |(process, departments)| view! {
                <h1>{process.name.clone()}</h1>
                <ProcessForm initial=Some(process) departments />
            })}
        </section>
    }
}

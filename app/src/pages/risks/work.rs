//! `/work`: what waits for the signed-in user (reviews of the risks they own, FMEA actions they
//! are responsible for), overdue first.

use leptos::prelude::*;
use leptos_router::components::A;
use shared::org::Record;
use shared::register::Risk;
use shared::worksheet::Row;

use crate::api;
use crate::components::status::loaded;
use crate::session::changes_of;

crate::area!(work, Page { Mine => MyWork, Inbox => super::inbox::Inbox });

/// `/work`
#[component]
pub fn MyWork() -> impl IntoView {
    let risks = changes_of(Risk::RECORD_TYPE);
    let actions = changes_of(Row::RECORD_TYPE);
    let items = crate::data::resource(move || {
        risks.track();
        actions.track();
        api::work()
    });
    view! {
        <section>
            <h1>"My work"</h1>
            <p class="muted">"Due in the next 30 days, and everything overdue."</p>
            {loaded(items, "your work", |items| {
                if items.is_empty() {
                    return view! { <p class="empty">"Nothing due. Well done."</p> }.into_any();
                }
                view! {
                    <table class="grid" aria-label="My work">
                        <thead><tr>
                            <th scope="col">"Due"</th><th scope="col">"What"</th><th scope="col">"Ref."</th><th scope="col">"Title"</th>
                        </tr></thead>
                        <tbody>
                            {items.into_iter().map(|w| view! {
                                <tr data-testid="work-item" class:overdue=w.overdue>
                                    <td class="nowrap">{w.due.to_string()}{w.overdue.then(|| view! { <span class="badge badge-locked">" Overdue"</span> })}</td>
                                    <td>{w.kind.clone()}</td>
                                    <td class="nowrap">{w.reference.clone()}</td>
                                    <td><A href=w.href()>{w.title.clone()}</A></td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            })}
        </section>
    }
}

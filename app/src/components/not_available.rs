//! The honest page for an area that is not built yet: no fake numbers.

use leptos::prelude::*;

/// Says plainly that `area` is not available yet (or, with `missing`, that the page does not
/// exist).
#[component]
pub fn NotAvailable(
    /// The area's name.
    area: String,
    /// True for an unknown address rather than an area still to come.
    #[prop(optional)]
    missing: bool,
) -> impl IntoView {
    view! {
        <section class="placeholder">
            <h1>{area.clone()}</h1>
            {if missing {
                view! { <p>"There is no page at this address."</p> }.into_any()
            } else {
                view! {
                    <p>
                        <strong>{area}" is not available yet."</strong>
                        " This part of Caliper has not been built. Nothing here is sample or placeholder data."
                    </p>
                }
                    .into_any()
            }}
            <p>
                "Available now: " <a href="/admin/processes">"Processes"</a> ", "
                <a href="/admin/departments">"Departments"</a> " and " <a href="/admin/sites">"Sites"</a>
                " under Admin."
            </p>
        </section>
    }
}

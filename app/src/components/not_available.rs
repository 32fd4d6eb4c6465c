//! The honest page for an area that is not built yet: no fake numbers.

use leptos::prelude::*;

/// Says plainly that `area` is not available yet (or, with `missing`, that there is no page at
/// this address), and where to go instead.
#[component]
pub fn NotAvailable(
    /// The area's name (not shown with `missing`).
    area: String,
    /// True for an unknown address rather than an area still to come.
    #[prop(optional)]
    missing: bool,
) -> impl IntoView {
    view! {
        <section class="placeholder">
            {if missing {
                view! {
                    <h1>"Page not found"</h1>
                    <p>"There is no page at this address."</p>
                }
                    .into_any()
            } else {
                view! {
                    <h1>{area.clone()}</h1>
                    <p>
                        <strong>{area}" is not available yet."</strong>
                        " This part of Caliper has not been built. Nothing here is sample or placeholder data."
                    </p>
                }
                    .into_any()
            }}
            <p>"Choose another area in the menu, or go to the " <a href="/">"dashboard"</a> "."</p>
        </section>
    }
}

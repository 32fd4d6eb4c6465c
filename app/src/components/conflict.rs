//! The "changed by someone else" panel shown on a 409: both versions side by side, and a
//! choice. What the user typed stays in the form until they choose.

use leptos::prelude::*;

/// One compared field: label, the user's value, the saved value.
pub type ComparedField = (&'static str, String, String);

/// Shows the user's values beside the ones saved by someone else.
#[component]
pub fn ConflictPanel(
    /// Server's message.
    message: String,
    /// The fields, yours and theirs.
    fields: Vec<ComparedField>,
    /// Keep my values and save them over the newer version.
    on_keep_mine: Callback<()>,
    /// Discard my values and load the newer version.
    on_take_theirs: Callback<()>,
) -> impl IntoView {
    view! {
        <section class="alert alert-conflict" role="alert" aria-labelledby="conflict-title">
            <h2 id="conflict-title">"Changed by someone else"</h2>
            <p>{message}</p>
            <table class="compare">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"Your values (not saved)"</th>
                        <th scope="col">"Saved by someone else"</th>
                    </tr>
                </thead>
                <tbody>
                    {fields
                        .into_iter()
                        .map(|(label, mine, theirs)| {
                            let differs = mine != theirs;
                            view! {
                                <tr class:differs=differs>
                                    <th scope="row">{label}</th>
                                    <td class="mine">{mine}</td>
                                    <td class="theirs">{theirs}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <div class="actions">
                <button type="button" class="btn" on:click=move |_| on_take_theirs.run(())>
                    "Discard mine and reload theirs"
                </button>
                <button type="button" class="btn btn-primary" on:click=move |_| on_keep_mine.run(())>
                    "Save mine over theirs"
                </button>
            </div>
        </section>
    }
}

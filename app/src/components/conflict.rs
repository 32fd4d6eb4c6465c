//! The "changed by someone else" panel shown on a 409: the version the user started from, their
//! values and the newer saved values side by side, and a choice. What the user typed stays in
//! the form until they choose.

use leptos::prelude::*;

/// One compared field, as displayed.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparedField {
    /// Its label.
    pub label: &'static str,
    /// Value in the version the user started from.
    pub base: String,
    /// The user's value (not saved).
    pub mine: String,
    /// The value someone else saved.
    pub theirs: String,
}

/// Shows a three-way comparison and the ways out of a version conflict.
#[component]
pub fn ConflictPanel(
    /// Server's message.
    message: String,
    /// The compared fields.
    fields: Vec<ComparedField>,
    /// Version the user's edit was based on.
    base_version: i64,
    /// Version now saved.
    their_version: i64,
    /// Apply the user's changes on top of the newer version; `None` when both sides changed
    /// the same field (a person must choose).
    on_merge: Option<Callback<()>>,
    /// Keep my values and save them over the newer version.
    on_keep_mine: Callback<()>,
    /// Discard my values and load the newer version.
    on_take_theirs: Callback<()>,
) -> impl IntoView {
    let clashes: Vec<&str> = fields
        .iter()
        .filter(|f| f.mine != f.base && f.theirs != f.base && f.mine != f.theirs)
        .map(|f| f.label)
        .collect();
    view! {
        <section class="alert alert-conflict" role="alert" aria-labelledby="conflict-title">
            <h2 id="conflict-title">"Changed by someone else"</h2>
            <p>{message}</p>
            {if clashes.is_empty() {
                view! { <p>"Your changes and theirs touch different fields, so they can be combined."</p> }.into_any()
            } else {
                view! { <p><strong>"Both of you changed: " {clashes.join(", ")} "."</strong> " Choose which to keep."</p> }
                    .into_any()
            }}
            <table class="compare">
                <thead>
                    <tr>
                        <th scope="col">"Field"</th>
                        <th scope="col">"When you opened it (v" {base_version} ")"</th>
                        <th scope="col">"Yours (not saved)"</th>
                        <th scope="col">"Saved by someone else (v" {their_version} ")"</th>
                    </tr>
                </thead>
                <tbody>
                    {fields
                        .into_iter()
                        .map(|f| {
                            let mine_changed = f.mine != f.base;
                            let theirs_changed = f.theirs != f.base;
                            let clash = mine_changed && theirs_changed && f.mine != f.theirs;
                            view! {
                                <tr class:clash=clash>
                                    <th scope="row">{f.label}</th>
                                    <td class="base">{f.base}</td>
                                    <td class="mine" class:changed=mine_changed>{f.mine}</td>
                                    <td class="theirs" class:changed=theirs_changed>{f.theirs}</td>
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
                <button type="button" class="btn" class:btn-primary=on_merge.is_none() on:click=move |_| on_keep_mine.run(())>
                    "Save mine over theirs"
                </button>
                {on_merge.map(|merge| view! {
                    <button type="button" class="btn btn-primary" on:click=move |_| merge.run(())>
                        "Combine: apply my changes to their version"
                    </button>
                })}
            </div>
        </section>
    }
}

//! Small display helpers shared by pages.

use leptos::prelude::*;

use crate::api::ApiError;

/// Renders a load error in place of the content, with the server's message.
#[component]
pub fn LoadError(
    /// What failed.
    error: ApiError,
) -> impl IntoView {
    view! {
        <div class="alert alert-error" role="alert">
            <strong>"Could not load this page. "</strong>
            {error.to_string()}
        </div>
    }
}

/// "Active" or "Retired" badge.
#[component]
pub fn LifeBadge(
    /// Whether the record is retired.
    retired: bool,
) -> impl IntoView {
    if retired {
        view! { <span class="badge badge-retired">"Retired"</span> }
    } else {
        view! { <span class="badge badge-active">"Active"</span> }
    }
}

/// A UTC timestamp shown in the reader's terms: `2026-11-25 09:14 UTC`.
pub fn format_utc(t: &chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

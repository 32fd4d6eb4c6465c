//! Small display helpers shared by pages.

use leptos::prelude::*;

use crate::api::ApiError;

/// What a form says when the shared rules or the server refused its fields.
pub const NOT_SAVED: &str = "Not saved: correct the marked fields.";

/// The one way pages load data: `<Transition>` keeps the previous content on screen while a
/// resource reloads, `<ErrorBoundary>` shows the server's message in place of the content when
/// loading fails, and `render` draws the data.
pub fn loaded<T, V>(
    resource: crate::data::Res<Result<T, ApiError>>,
    what: &'static str,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + 'static,
    V: IntoView + 'static,
{
    view! {
        <Transition fallback=move || view! { <p class="muted">"Loading " {what} "…"</p> }>
            <ErrorBoundary fallback=move |errors| {
                view! {
                    <div class="alert alert-error" role="alert">
                        <strong>"Could not load " {what} ". "</strong>
                        {move || errors.get().into_iter().map(|(_, e)| e.to_string()).collect::<Vec<_>>().join(" ")}
                    </div>
                }
            }>
                {
                    let render = render.clone();
                    move || {
                        let render = render.clone();
                        let data = awaited(resource);
                        Suspend::new(async move { data.await.map(|data| render(data).into_any()) })
                    }
                }
            </ErrorBoundary>
        </Transition>
    }
}

/// A resource's value once it is loaded, as one boxed future per type of data: each page's
/// `Suspend` then holds a pointer to it rather than its own copy of the resource's polling.
fn awaited<T: Clone + 'static>(
    resource: crate::data::Res<Result<T, ApiError>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, ApiError>> + Send>> {
    Box::pin(send_wrapper::SendWrapper::new(async move {
        resource
            .value()
            .await
            .unwrap_or_else(|| Err(ApiError::Network("the page's data had an unexpected type".into())))
    }))
}

/// Like [`loaded`] for a record page with forms on it: draws again only when the data differ
/// from what is shown. A live update that brings nothing new (the echo of one's own step, which
/// the page has already reloaded) then leaves the forms being filled in alone.
pub fn loaded_distinct<T, V>(
    resource: crate::data::Res<Result<T, ApiError>>,
    what: &'static str,
    render: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + PartialEq + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let shown = RwSignal::new(None::<T>);
    let failure = RwSignal::new(None::<String>);
    Effect::new(move |_| match resource.get() {
        Some(Ok(data)) => {
            failure.set(None);
            if shown.with_untracked(|s| s.as_ref() != Some(&data)) {
                shown.set(Some(data));
            }
        }
        Some(Err(e)) => failure.set(Some(e.to_string())),
        None => {}
    });
    view! {
        {move || failure.get().map(|f| view! {
            <div class="alert alert-error" role="alert"><strong>"Could not load " {what} ". "</strong>{f}</div>
        })}
        {move || match shown.get() {
            Some(data) => render(data).into_any(),
            None => view! { <p class="muted">"Loading " {what} "…"</p> }.into_any(),
        }}
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

/// A UTC timestamp to the second: `2026-11-25 09:14:03`. Written out by hand: chrono's
/// `format()` would bring its whole strftime interpreter into the wasm (~10 KB compressed).
pub fn format_utc_seconds(t: &chrono::DateTime<chrono::Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!("{:04}-{:02}-{:02} {:02}:{:02}:{:02}", t.year(), t.month(), t.day(), t.hour(), t.minute(), t.second())
}

/// A UTC timestamp shown in the reader's terms: `2026-11-25 09:14 UTC`.
pub fn format_utc(t: &chrono::DateTime<chrono::Utc>) -> String {
    let seconds = format_utc_seconds(t);
    format!("{} UTC", &seconds[..seconds.len() - 3])
}

/// Today's date in UTC, from the browser's clock (the server decides what is overdue; the app
/// uses this for defaults and highlighting).
pub fn today_utc() -> chrono::NaiveDate {
    let d = js_sys::Date::new_0();
    chrono::NaiveDate::from_ymd_opt(d.get_utc_full_year() as i32, d.get_utc_month() + 1, d.get_utc_date())
        .unwrap_or_default()
}

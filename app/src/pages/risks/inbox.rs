//! `/inbox`: the signed-in user's notices (a revision approved, a revision in force, training
//! assigned, training due soon), newest first, unread ones marked; each opens its revision and is then read; "Mark all read"; and the
//! person's choice of which notices they get (one that carries training cannot be turned off).

use leptos::prelude::*;
use leptos_router::components::A;
use shared::document::{Notice, NoticeSettings};

use crate::api;
use crate::components::status::{format_utc, loaded};
use crate::session::changes_of;

/// `/inbox`
#[component]
pub fn Inbox() -> impl IntoView {
    let changes = changes_of("notice");
    let notices = crate::data::resource(move || {
        changes.track();
        api::notices()
    });
    let failure = RwSignal::new(None::<String>);
    let read_all = crate::data::action(move |(): &()| async move {
        match api::read_all_notices().await {
            Ok(()) => notices.refetch(),
            Err(e) => failure.set(Some(e.to_string())),
        }
    });
    view! {
        <section>
            <header class="page-head">
                <h1>"Inbox"</h1>
                <div class="actions">
                    <button type="button" class="btn" on:click=move |_| { read_all.dispatch(()); }>"Mark all read"</button>
                </div>
            </header>
            {move || failure.get().map(|f| view! { <div class="alert alert-error" role="alert">{f}</div> })}
            {loaded(notices, "your notices", move |list: Vec<Notice>| {
                if list.is_empty() {
                    return view! { <p class="empty">"No notices."</p> }.into_any();
                }
                view! {
                    <ul class="notices" aria-label="Notices">
                        {list.into_iter().map(|n| view! { <NoticeItem n on_read=Callback::new(move |()| notices.refetch()) /> }).collect_view()}
                    </ul>
                }.into_any()
            })}
            <Settings />
        </section>
    }
}

#[component]
fn NoticeItem(n: Notice, on_read: Callback<()>) -> impl IntoView {
    let unread = n.read_at.is_none();
    let id = n.id;
    let read = crate::data::action(move |(): &()| async move {
        if api::read_notice(id).await.is_ok() {
            on_read.run(());
        }
    });
    let (what, href) = (n.headline(), n.href());
    view! {
        <li class="notice" class:unread=unread data-testid="notice">
            {unread.then(|| view! { <span class="badge unread-mark">"Unread"</span> " " })}
            <A href=href on:click=move |_| { if unread { read.dispatch(()); } }>{what}</A>
            {n.marks_training().then(|| view! { " " <span class="badge">"Training assigned"</span> })}
            <span class="muted">{format!(" · {}", format_utc(&n.created_at))}</span>
            {unread.then(|| view! {
                " " <button type="button" class="btn btn-small" on:click=move |_| { read.dispatch(()); }>"Mark read"</button>
            })}
        </li>
    }
}

/// Which notices the person gets.
#[component]
fn Settings() -> impl IntoView {
    let settings = crate::data::resource(api::notice_settings);
    let saved = RwSignal::new(None::<Result<(), String>>);
    let save = crate::data::action(move |s: &NoticeSettings| {
        let s = *s;
        async move {
            saved.set(Some(api::set_notice_settings(&s).await.map(drop).map_err(|e| e.to_string())));
        }
    });
    view! {
        <section class="card" aria-labelledby="notice-settings-title">
            <h2 id="notice-settings-title">"Which notices you get"</h2>
            {loaded(settings, "your settings", move |current: NoticeSettings| {
                let approved = RwSignal::new(current.approved);
                let effective = RwSignal::new(current.effective);
                let changed = move || save.dispatch(NoticeSettings { approved: approved.get(), effective: effective.get() });
                view! {
                    <label class="check">
                        <input type="checkbox" name="approved" prop:checked=move || approved.get()
                            on:change=move |ev| { approved.set(event_target_checked(&ev)); changed(); } />
                        "A revision of a document I read or work on is approved"
                    </label>
                    <label class="check">
                        <input type="checkbox" name="effective" prop:checked=move || effective.get()
                            on:change=move |ev| { effective.set(event_target_checked(&ev)); changed(); } />
                        "A revision of a document I read or work on takes effect"
                    </label>
                    <p class="muted">"Notices of training assigned to you, or due soon, are always sent."</p>
                }
            })}
            {move || saved.get().map(|r| match r {
                Ok(()) => view! { <p class="alert alert-ok" role="status">"Saved."</p> }.into_any(),
                Err(e) => view! { <p class="alert alert-error" role="alert">{e}</p> }.into_any(),
            })}
        </section>
    }
}

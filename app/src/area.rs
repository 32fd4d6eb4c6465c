//! Areas loaded on first use. Each area's pages live in their own WebAssembly chunk: the
//! [`area!`](crate::area) macro marks the area's one entry point as a split point, and the build
//! (`cargo xtask build-app`: `wasm-split-cli`, then `wasm-bindgen`) moves every function only
//! that entry point reaches into the chunk. The shell (sign-in, navigation, session, API client,
//! shared components) stays in the initial load.
//!
//! A chunk that fails to load (a network drop, or a new build deployed under the open app, whose
//! old chunk files are gone) shows a message with a "Reload" button instead of aborting the
//! module: the split points are `fallible`. And every API answer names the build the server
//! serves (`X-Caliper-Build`): once it differs from this page's own build, the next navigation
//! asks to reload instead of loading a chunk of the new build into the old app.

use std::cell::{Cell, OnceCell};
use std::future::Future;
use std::task::{Context, Poll, Waker};

use leptos::prelude::*;
use leptos::wasm_split::SplitLoaderError;

/// Declares an area's pages and its split point, in the area's module:
/// `crate::area!(fmea, Page { List => FmeaList, New => FmeaNew });` gives
/// - `Page`, one variant per page (a route names one: `view=|| fmea::route(fmea::Page::List)`);
/// - `route(page)`, the view that loads the chunk when needed and shows the page;
/// - `prefetch()`, which starts loading the chunk (navigation links call it on hover/focus).
#[macro_export]
macro_rules! area {
    ($chunk:ident, Page { $($page:ident => $component:path),* $(,)? }) => {
        /// This area's pages.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Page {
            $($page),*
        }

        /// The area's entry point, split into its own chunk.
        #[::leptos::wasm_split::wasm_split(
            $chunk,
            wasm_split_path = ::leptos::wasm_split,
            fallible,
            preload(#[doc(hidden)] load)
        )]
        fn render(page: Page) -> Result<::leptos::prelude::AnyView, ::leptos::wasm_split::SplitLoaderError> {
            use ::leptos::prelude::IntoAny;
            Ok(match page {
                $(Page::$page => ::leptos::prelude::untrack(|| $component().into_any()),)*
            })
        }

        /// `page`, once this area's chunk is loaded.
        pub fn route(page: Page) -> impl ::leptos::prelude::IntoView {
            $crate::area::lazy(|| Box::pin(load()), move || render(page))
        }

        /// Starts loading this area's chunk (no-op when it is loaded or loading).
        #[allow(dead_code, reason = "an area reached only from another area's page has no navigation link")]
        pub fn prefetch() {
            $crate::area::prefetch(|| Box::pin(load()));
        }
    };
}

type Load = std::pin::Pin<Box<dyn Future<Output = Result<(), SplitLoaderError>>>>;

/// Polls a future once, without a waker; the future back when it is not finished (a loading
/// chunk must not be dropped mid-flight: the loader calls back into it).
fn poll_once<F: Future + ?Sized>(mut fut: std::pin::Pin<Box<F>>) -> Result<F::Output, std::pin::Pin<Box<F>>> {
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(out) => Ok(out),
        Poll::Pending => Err(fut),
    }
}

/// Where a chunk is in its loading.
#[derive(Clone, Copy, PartialEq)]
enum State {
    Loading,
    Loaded,
    Failed,
}

/// The page from `render` when its chunk is loaded; otherwise "Loading…" while `load` fetches
/// it, then the page, or a message with a "Reload" button when the chunk could not be loaded.
pub fn lazy<R>(load: fn() -> Load, render: impl Fn() -> R + Send + 'static) -> impl IntoView
where
    R: Future<Output = Result<AnyView, SplitLoaderError>> + 'static,
{
    if NEW_BUILD.get() {
        return view! { <NewBuild /> }.into_any();
    }
    let state = RwSignal::new(State::Loading);
    (move || {
        if state.get() == State::Failed {
            return view! { <ChunkFailed /> }.into_any();
        }
        match poll_once(load()) {
            // Loaded: the split function completes on its first poll, building the page under
            // this closure's owner, so a page of a loaded area renders at once.
            Ok(Ok(())) => match poll_once(Box::pin(render())) {
                Ok(Ok(page)) => page,
                _ => view! { <ChunkFailed /> }.into_any(),
            },
            Ok(Err(_)) => view! { <ChunkFailed /> }.into_any(),
            Err(loading) => {
                leptos::task::spawn_local(async move {
                    let outcome = loading.await;
                    state.set(if outcome.is_ok() { State::Loaded } else { State::Failed });
                });
                view! { <p class="muted" role="status">"Loading…"</p> }.into_any()
            }
        }
    })
    .into_any()
}

thread_local! {
    /// This page's build, from `<meta name="caliper-build">`.
    static OWN_BUILD: OnceCell<Option<String>> = const { OnceCell::new() };
    /// Whether the server has named another build since this page loaded.
    static NEW_BUILD: Cell<bool> = const { Cell::new(false) };
}

/// Notes the build the server named on an answer; a build other than this page's own means a
/// new version was deployed under the open app.
pub fn note_served_build(served: Option<String>) {
    let Some(served) = served else { return };
    let own = OWN_BUILD.with(|b| {
        b.get_or_init(|| {
            let meta = document().query_selector("meta[name=caliper-build]").ok().flatten()?;
            meta.get_attribute("content")
        })
        .clone()
    });
    if own.is_some_and(|own| own != served) {
        NEW_BUILD.set(true);
    }
}

/// Shown instead of the next page once a new build is being served.
#[component]
fn NewBuild() -> impl IntoView {
    view! {
        <section class="placeholder" role="alert">
            <h1>"Caliper has been updated"</h1>
            <p>"A new version of Caliper was installed while this page was open. Reload to continue with it; nothing you saved is lost."</p>
            <button type="button" class="btn btn-primary" on:click=|_| reload()>
                "Reload"
            </button>
        </section>
    }
}

/// Starts loading a chunk in the background; a failure is shown when the area is opened.
pub fn prefetch(load: fn() -> Load) {
    leptos::task::spawn_local(async move {
        let _ = load().await;
    });
}

/// Starts loading another chunk shortly after this page is shown, for the page a user most
/// likely opens next from it (a record from its register): the page's own data goes first, and
/// the click then usually finds the chunk ready.
pub fn prefetch_next(prefetch: fn()) {
    set_timeout(prefetch, std::time::Duration::from_millis(300));
}

/// Shown in place of a page whose code could not be loaded.
#[component]
fn ChunkFailed() -> impl IntoView {
    view! {
        <section class="placeholder" role="alert">
            <h1>"This page could not be loaded"</h1>
            <p>
                "Caliper could not fetch the code for this part of the app. The network may have dropped, or a new
                version of Caliper has been installed since this page was opened. Nothing you saved is lost."
            </p>
            <button type="button" class="btn btn-primary" on:click=|_| reload()>
                "Reload"
            </button>
        </section>
    }
}

/// Reloads the page (and with it the current build of the app).
pub fn reload() {
    let _ = window().location().reload();
}

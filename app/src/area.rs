//! Areas loaded on first use. Each area's pages live in their own WebAssembly chunk: the
//! [`area!`](crate::area) macro marks the area's one entry point as a split point, and the build
//! (`cargo xtask build-app`: `wasm-split-cli`, then `wasm-bindgen`) moves every function only
//! that entry point reaches into the chunk. The shell (sign-in, navigation, session, API client,
//! shared components) stays in the initial load. A part of a page ([`part!`](crate::part), a dialog
//! or form shown on a click, in some states or to some people) and a step the user starts
//! ([`step_part!`](crate::step_part)) are chunks of their own too, fetched when first needed.
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

        fn load_boxed() -> $crate::area::Load {
            Box::pin(load())
        }

        /// `page`, once this area's chunk is loaded.
        pub fn route(page: Page) -> ::leptos::prelude::AnyView {
            $crate::area::lazy(load_boxed, ::std::sync::Arc::new(move || Box::pin(render(page))), $crate::area::Unit::Page)
        }

        /// Starts loading this area's chunk (no-op when it is loaded or loading).
        #[allow(dead_code, reason = "an area reached only from another area's page has no navigation link")]
        pub fn prefetch() {
            $crate::area::prefetch(load_boxed);
        }
    };
}

/// Declares a part of a page that is loaded when it is first shown, not with its page: a form
/// or dialog a button opens. `crate::part!(dashboard__customise, customise(layout: RwSignal<DashboardLayout>));`
/// in the module of `fn customise(layout: …) -> impl IntoView` gives the module
/// `dashboard__customise` with `view(layout)`, the part (loaded when needed), and `prefetch()`.
///
/// The chunk's name is its page's chunk, `__`, and the part's name: the build bundles only what
/// the page's own chunk does not already hold (`cargo xtask build-app`), so a part must be shown
/// by that page only, never from another area.
#[macro_export]
macro_rules! part {
    ($chunk:ident, $function:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        #[allow(non_snake_case, reason = "the page's chunk, `__`, the part: the build reads the page from the name")]
        mod $chunk {
            #[allow(unused_imports)]
            use super::*;

            /// The part's entry point, split into its own chunk.
            #[::leptos::wasm_split::wasm_split(
                $chunk,
                wasm_split_path = ::leptos::wasm_split,
                fallible,
                preload(#[doc(hidden)] load)
            )]
            #[allow(clippy::boxed_local, reason = "one pointer across the split point's C ABI")]
            fn render(args: Box<($($ty,)*)>) -> Result<::leptos::prelude::AnyView, ::leptos::wasm_split::SplitLoaderError> {
                use ::leptos::prelude::IntoAny;
                let ($($arg,)*) = *args;
                Ok(::leptos::prelude::untrack(|| super::$function($($arg),*).into_any()))
            }

            fn load_boxed() -> $crate::area::Load {
                Box::pin(load())
            }

            /// The part, once its chunk is loaded.
            pub(super) fn view($($arg: $ty),*) -> ::leptos::prelude::AnyView {
                $crate::area::lazy(
                    load_boxed,
                    ::std::sync::Arc::new(move || Box::pin(render(Box::new(($($arg.clone(),)*))))),
                    $crate::area::Unit::Part,
                )
            }

            /// Starts loading the part's chunk (a button that shows it, on hover or focus).
            #[allow(dead_code, reason = "not every part is prefetched")]
            pub(super) fn prefetch() {
                $crate::area::prefetch(load_boxed);
            }
        }
    };
}

/// Declares a step of a page whose code is loaded when it is first taken, not with its page (an
/// import the user starts, say): `crate::step_part!(fmea_worksheet__import, async import(fmea: FmeaId));`
/// in the module of `async fn import(fmea: FmeaId)` gives the module `fmea_worksheet__import`
/// with `run(fmea)`, which loads the chunk and then does the step (`Err` when the chunk could
/// not be loaded). Named and bundled as [`part!`](crate::part).
#[macro_export]
macro_rules! step_part {
    ($chunk:ident, async $function:ident($($arg:ident: $ty:ty),* $(,)?)) => {
        #[allow(non_snake_case, reason = "the page's chunk, `__`, the part: the build reads the page from the name")]
        mod $chunk {
            #[allow(unused_imports)]
            use super::*;

            type Step = ::std::pin::Pin<Box<dyn ::std::future::Future<Output = ()>>>;

            /// The step's entry point, split into its own chunk.
            #[::leptos::wasm_split::wasm_split($chunk, wasm_split_path = ::leptos::wasm_split, fallible)]
            #[allow(clippy::boxed_local, reason = "one pointer across the split point's C ABI")]
            fn start(args: Box<($($ty,)*)>) -> Result<Step, ::leptos::wasm_split::SplitLoaderError> {
                let ($($arg,)*) = *args;
                Ok(Box::pin($function($($arg),*)))
            }

            /// Loads the step's chunk (once), then takes the step.
            pub(super) async fn run($($arg: $ty),*) -> Result<(), ::leptos::wasm_split::SplitLoaderError> {
                start(Box::new(($($arg,)*))).await?.await;
                Ok(())
            }
        }
    };
}

/// A chunk being loaded.
pub type Load = std::pin::Pin<Box<dyn Future<Output = Result<(), SplitLoaderError>>>>;

/// A split point's view, built once its chunk is loaded: one type for every area and part, so
/// that [`lazy`] is compiled once, not once per split point into the first load.
pub type Render = std::sync::Arc<
    dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = Result<AnyView, SplitLoaderError>>>> + Send + Sync,
>;

/// What a chunk holds: a whole page, or a part of one (which fails in place, not as a page).
#[derive(Clone, Copy, PartialEq)]
pub enum Unit {
    Page,
    Part,
}

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
pub fn lazy(load: fn() -> Load, render: Render, unit: Unit) -> AnyView {
    if NEW_BUILD.get() {
        return new_build(unit);
    }
    let state = RwSignal::new(State::Loading);
    (move || {
        if state.get() == State::Failed {
            return chunk_failed(unit);
        }
        match poll_once(load()) {
            // Loaded: the split function completes on its first poll, building the page under
            // this closure's owner, so a page of a loaded area renders at once.
            Ok(Ok(())) => match poll_once(render()) {
                Ok(Ok(page)) => page,
                _ => chunk_failed(unit),
            },
            Ok(Err(_)) => chunk_failed(unit),
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

/// Shown instead of the next page (or part of a page) once a new build is being served.
fn new_build(unit: Unit) -> AnyView {
    let text = "A new version of Caliper was installed while this page was open. Reload to continue with it; nothing \
                you saved is lost.";
    reload_notice(unit, "Caliper has been updated", "Caliper has been updated.", text)
}

/// A notice with a "Reload" button: a page's (a heading and its text), or a part's (one alert in
/// its place, the page around it left as it is).
fn reload_notice(unit: Unit, page_heading: &'static str, part_heading: &'static str, text: &'static str) -> AnyView {
    match unit {
        Unit::Page => view! {
            <section class="placeholder" role="alert">
                <h1>{page_heading}</h1>
                <p>{text}</p>
                <ReloadButton />
            </section>
        }
        .into_any(),
        Unit::Part => view! {
            <div class="alert alert-error" role="alert">
                <strong>{part_heading}</strong>" "{text}" "<ReloadButton />
            </div>
        }
        .into_any(),
    }
}

#[component]
fn ReloadButton() -> impl IntoView {
    view! {
        <button type="button" class="btn btn-primary" on:click=|_| reload()>
            "Reload"
        </button>
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

/// Shown in place of a page (or part of one) whose code could not be loaded.
fn chunk_failed(unit: Unit) -> AnyView {
    let text = "Caliper could not fetch the code for this part of the app. The network may have dropped, or a new \
                version of Caliper has been installed since this page was opened. Nothing you saved is lost.";
    reload_notice(unit, "This page could not be loaded", "This part of the page could not be loaded.", text)
}

/// Reloads the page (and with it the current build of the app).
pub fn reload() {
    let _ = window().location().reload();
}

//! How pages hold what they load and what they do: [`resource`] for a page's data, [`action`] for
//! a step the user starts (save, sign, retire…). Both are type-erased underneath (one
//! `LocalResource` of `Rc<dyn Any>`, one `Action` of an `Rc<dyn Any>` input) and typed on top
//! ([`Res`], [`Act`]), so that Leptos's resource and action machinery is compiled once for the
//! whole app instead of once per type of data and per action (about 10 % of the code; see the
//! README's budget section). The HTTP calls themselves are in [`crate::api`].

use leptos::prelude::{Action, Get as _, LocalResource, Memo};

/// A page's data, loaded by `fetch` and again whenever a signal that `fetch` reads changes.
///
/// Underneath is one `LocalResource` of a type-erased value (`Rc<dyn Any>`), whatever the page
/// loads: Leptos's resource machinery (the async-derived signal, its polling, the `Suspend` that
/// awaits it) is compiled once for the whole app instead of once per type of data (64 types);
/// [`Res`] gives the value back as `T`. The fetcher sits behind one pointer, its future boxed.
pub fn resource<T: 'static, Fut: std::future::Future<Output = T> + 'static>(
    fetch: impl Fn() -> Fut + 'static,
) -> Res<T> {
    let erased: std::rc::Rc<dyn Fn() -> Boxed<Erased>> = std::rc::Rc::new(move || {
        let f = fetch();
        Box::pin(async move { std::rc::Rc::new(f.await) as Erased }) as Boxed<Erased>
    });
    Res { inner: erased_resource(erased), of: std::marker::PhantomData }
}

/// A boxed future of `T`.
type Boxed<T> = std::pin::Pin<Box<dyn std::future::Future<Output = T>>>;

/// A value of any type: what a resource holds, what an action takes.
type Erased = std::rc::Rc<dyn std::any::Any>;

fn erased_resource(fetch: std::rc::Rc<dyn Fn() -> Boxed<Erased>>) -> LocalResource<Erased> {
    LocalResource::new(move || fetch())
}

/// A page's data of type `T` (see [`resource`]): a copyable handle, read as a `LocalResource`.
pub struct Res<T> {
    inner: LocalResource<Erased>,
    of: std::marker::PhantomData<fn() -> T>,
}

impl<T> Clone for Res<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Res<T> {}

impl<T: Clone + 'static> Res<T> {
    /// The value once loaded (tracked: a reactive context reruns when it changes).
    pub fn get(&self) -> Option<T> {
        self.inner.get().and_then(|v| cast(&v))
    }

    /// Loads it again.
    pub fn refetch(&self) {
        self.inner.refetch();
    }

    /// The value, once loaded (for a `Suspend`); `None` never happens (see [`cast`]).
    pub async fn value(self) -> Option<T> {
        cast(&self.inner.await)
    }
}

/// The value an erased resource holds, as the `T` it was made of: always `Some`, since only
/// [`resource`] makes them (no `expect`: nothing in the app may panic).
#[inline(never)]
fn cast<T: Clone + 'static>(v: &Erased) -> Option<T> {
    v.downcast_ref::<T>().cloned()
}

/// A step a page runs on the user's demand (save, sign, retire…): `run` gets the input and does
/// the work, setting the page's signals itself.
///
/// Underneath is one `Action` of a type-erased input (`Rc<dyn Any>`) and no output, whatever the
/// page's input: Leptos's action machinery (the dispatch, the pending count, the future's
/// wrapper) is compiled once for the whole app instead of once per action (58 of them).
pub fn action<I: 'static, Fut: std::future::Future<Output = ()> + 'static>(
    run: impl Fn(&I) -> Fut + 'static,
) -> Act<I> {
    let erased: ErasedRun = std::rc::Rc::new(move |input: &Erased| {
        match input.downcast_ref::<I>() {
            Some(input) => Box::pin(run(input)) as Boxed<()>,
            // Never: only `Act::dispatch` gives an input, of type `I`.
            None => Box::pin(async {}) as Boxed<()>,
        }
    });
    Act { inner: erased_action(erased), of: std::marker::PhantomData }
}

/// What an action does with its input.
type ErasedRun = std::rc::Rc<dyn Fn(&Erased) -> Boxed<()>>;

fn erased_action(run: ErasedRun) -> Action<Erased, ()> {
    Action::new_local(move |input: &Erased| run(input))
}

/// A page's step of input `I` (see [`action`]): a copyable handle.
pub struct Act<I> {
    inner: Action<Erased, ()>,
    of: std::marker::PhantomData<fn(I)>,
}

impl<I> Clone for Act<I> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<I> Copy for Act<I> {}

impl<I: 'static> Act<I> {
    /// Runs the step with `input`.
    pub fn dispatch(&self, input: I) {
        self.inner.dispatch_local(std::rc::Rc::new(input));
    }

    /// Whether a run is under way (tracked).
    pub fn pending(&self) -> Memo<bool> {
        self.inner.pending()
    }
}

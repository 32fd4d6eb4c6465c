//! Caliper's browser app: Leptos 0.8, client-side rendered, split into a chunk per area
//! ([`area`]) by `cargo xtask build-app` and served by the `caliper` server. Pages per domain
//! area, components per feature, and one typed API client ([`api`]) that is the only place that
//! speaks HTTP.

mod api;
mod app;
mod area;
mod components;
mod data;
mod pages;
mod session;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}

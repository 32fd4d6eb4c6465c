//! `sqlx::migrate!` embeds the migration folders at compile time; without this, a new
//! migration file would not rebuild the server and would silently be left out of the binary.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}

//! Procedural macros of anyio, re-exported by the `anyio` crate: use them as
//! `#[anyio::main]`, `#[anyio::test]`, `anyio::task_group!`, `anyio::fail_after!` and
//! `anyio::move_on_after!`. Their documentation lives on the re-exports, in
//! `anyio/src/macros.rs`, where its examples can use `anyio`.
//!
//! Each macro expands to calls of anyio's public API under `::anyio::__private` or the
//! crate root; on misuse it emits a `compile_error!` pointing at the offending token and
//! still emits the user's item, so that IDEs keep working.

mod body;
mod deadline;
mod entry;
mod group;
mod options;

use proc_macro::TokenStream;

#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Main, args.into(), item.into()).into()
}

#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    entry::expand(entry::Kind::Test, args.into(), item.into()).into()
}

#[proc_macro]
pub fn task_group(input: TokenStream) -> TokenStream {
    group::expand(input.into()).into()
}

#[proc_macro]
pub fn fail_after(input: TokenStream) -> TokenStream {
    deadline::expand(deadline::Kind::FailAfter, input.into()).into()
}

#[proc_macro]
pub fn move_on_after(input: TokenStream) -> TokenStream {
    deadline::expand(deadline::Kind::MoveOnAfter, input.into()).into()
}

//! Turning a macro's body expression into an `async` block.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Expr;

/// `async { body }`, without doubling the braces when the body is already a block
/// (which would trip the `unused_braces` lint in user code).
pub(crate) fn async_block(body: &Expr) -> TokenStream {
    match body {
        Expr::Block(block) if block.attrs.is_empty() && block.label.is_none() => {
            let block = &block.block;
            quote! { async #block }
        }
        other => quote! { async { #other } },
    }
}

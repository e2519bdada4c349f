//! `task_group!(|tg| { body })`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, Token};

/// `|ident| expr`
struct GroupInput {
    binding: Ident,
    body: Expr,
}

impl Parse for GroupInput {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if !input.peek(Token![|]) {
            return Err(input.error(
                "expected a closure-like body: `task_group!(|tg| { ... })`, where `tg` names \
                 the task group inside the body",
            ));
        }
        input.parse::<Token![|]>()?;
        let binding: Ident = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the name to bind the task group to, as in `|tg|`",
            )
        })?;
        if !input.peek(Token![|]) {
            return Err(input.error(
                "expected `|` after the task group's name: `task_group!(|tg| { ... })` takes \
                 exactly one name",
            ));
        }
        input.parse::<Token![|]>()?;
        let body: Expr = input.parse()?;
        if !input.is_empty() {
            return Err(input
                .error("unexpected tokens after the body: put every statement inside `{ ... }`"));
        }
        Ok(GroupInput { binding, body })
    }
}

pub(crate) fn expand(input: TokenStream) -> TokenStream {
    let GroupInput { binding, body } = match syn::parse2::<GroupInput>(input) {
        Ok(parsed) => parsed,
        Err(error) => return error.to_compile_error(),
    };
    let body = crate::body::async_block(&body);
    quote! {
        {
            let __anyio_task_group = ::anyio::TaskGroup::new();
            let #binding = &__anyio_task_group;
            __anyio_task_group.run(#body).await
        }
    }
}

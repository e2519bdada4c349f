//! `fail_after!(delay, { body })` and `move_on_after!(delay, { body })`.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::ParseStream;
use syn::{Expr, Token};

#[derive(Clone, Copy)]
pub(crate) enum Kind {
    FailAfter,
    MoveOnAfter,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::FailAfter => "fail_after",
            Kind::MoveOnAfter => "move_on_after",
        }
    }
}

/// `delay, body`
struct DeadlineInput {
    delay: Expr,
    body: Expr,
}

fn parse_input(kind: Kind, input: ParseStream<'_>) -> syn::Result<DeadlineInput> {
    let name = kind.name();
    if input.is_empty() {
        return Err(input.error(format!(
            "expected a delay and a body: `{name}!(1.5, {{ ... }})`"
        )));
    }
    let delay: Expr = input.parse()?;
    if !input.peek(Token![,]) {
        return Err(input.error(format!(
            "expected `,` after the delay: `{name}!(delay, {{ ... }})`, where the delay is \
             seconds (`1.5`, `2`) or a `Duration`"
        )));
    }
    input.parse::<Token![,]>()?;
    if input.is_empty() {
        return Err(input.error(format!(
            "expected the body after the delay: `{name}!(delay, {{ ... }})`"
        )));
    }
    let body: Expr = input.parse()?;
    if !matches!(&body, Expr::Block(block) if block.label.is_none()) {
        return Err(syn::Error::new_spanned(
            &body,
            format!(
                "the body of `{name}!` goes in braces: `{name}!(delay, {{ ... }})`; to put a \
                 deadline on a future `fut`, write `{name}!(delay, {{ fut.await }})`"
            ),
        ));
    }
    let _ = input.parse::<Option<Token![,]>>()?;
    if !input.is_empty() {
        return Err(input.error(format!(
            "unexpected tokens after the body: `{name}!` takes a delay and one body; put \
             every statement inside `{{ ... }}`"
        )));
    }
    Ok(DeadlineInput { delay, body })
}

pub(crate) fn expand(kind: Kind, input: TokenStream) -> TokenStream {
    let parser = |stream: ParseStream<'_>| parse_input(kind, stream);
    let DeadlineInput { delay, body } = match syn::parse::Parser::parse2(parser, input) {
        Ok(parsed) => parsed,
        Err(error) => return error.to_compile_error(),
    };
    let body = crate::body::async_block(&body);
    match kind {
        Kind::FailAfter => quote! { ::anyio::fail_after(#delay, #body).await },
        Kind::MoveOnAfter => quote! { ::anyio::move_on_after(#delay, #body).await },
    }
}

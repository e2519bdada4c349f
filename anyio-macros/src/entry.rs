//! `#[anyio::main]` and `#[anyio::test]`: run an `async fn` on an anyio runtime.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType};

use crate::options;

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }

    fn allowed_options(self) -> &'static [&'static str] {
        match self {
            Kind::Main => &["worker_threads"],
            Kind::Test => &["worker_threads", "timeout", "autojump", "seed", "seeds"],
        }
    }
}

pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => {
            let message = format!("`#[anyio::{}]` goes on an `async fn`: {error}", kind.name());
            let error = syn::Error::new(error.span(), message).to_compile_error();
            return quote! { #error #item };
        }
    };
    match check(kind, &function)
        .and_then(|()| options::parse(args, kind.name(), kind.allowed_options()))
    {
        Ok(options) => generate(kind, function, options),
        Err(error) => {
            let error = error.to_compile_error();
            let function = keep_for_type_checking(kind, function);
            quote! { #error #function }
        }
    }
}

/// The user's function as emitted beside a compile error, so that its body still
/// type-checks: an `async fn main` is renamed and paired with an empty `main`, which keeps
/// the compiler from adding "`main` function is not allowed to be `async`" to our error.
fn keep_for_type_checking(kind: Kind, mut function: ItemFn) -> TokenStream {
    if kind == Kind::Main && function.sig.ident == "main" && function.sig.asyncness.is_some() {
        function.sig.ident = syn::Ident::new("__anyio_main_body", function.sig.ident.span());
        quote! {
            #[allow(dead_code)]
            #function
            fn main() {}
        }
    } else {
        quote! { #function }
    }
}

/// Checks the function's shape; errors point at the offending token.
fn check(kind: Kind, function: &ItemFn) -> syn::Result<()> {
    let signature = &function.sig;
    let name = kind.name();
    if signature.asyncness.is_none() {
        return Err(syn::Error::new(
            signature.fn_token.span(),
            format!("`#[anyio::{name}]` needs an `async fn`: add `async` before `fn`"),
        ));
    }
    if kind == Kind::Main && signature.ident != "main" {
        return Err(syn::Error::new(
            signature.ident.span(),
            "`#[anyio::main]` goes on `async fn main()`; for other functions call \
             `anyio::run(...)`",
        ));
    }
    if let Some(argument) = signature.inputs.first() {
        return Err(syn::Error::new(
            argument.span(),
            format!(
                "`#[anyio::{name}]` functions take no arguments: remove them{}",
                if kind == Kind::Main {
                    " (read command-line arguments with `std::env::args()`)"
                } else {
                    ""
                }
            ),
        ));
    }
    if !signature.generics.params.is_empty() {
        return Err(syn::Error::new(
            signature.generics.span(),
            format!("`#[anyio::{name}]` functions cannot be generic: remove the parameters"),
        ));
    }
    Ok(())
}

fn generate(kind: Kind, function: ItemFn, options: options::Options) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = function;
    sig.asyncness = None;
    let output = match &sig.output {
        ReturnType::Default => quote! { () },
        ReturnType::Type(_, ty) => quote! { #ty },
    };
    let builder = match options.worker_threads {
        Some((threads, span)) => {
            quote_spanned! {span=> ::anyio::Runtime::builder().worker_threads(#threads) }
        }
        None => quote! { ::anyio::Runtime::builder() },
    };
    // Seeds: one thread, a virtual clock (autojump unless given), the seed's order.
    let seeded = options.seed.is_some() || options.seeds.is_some();
    let options = if seeded && options.autojump.is_none() {
        options::Options {
            autojump: Some((0.0, proc_macro2::Span::call_site())),
            ..options
        }
    } else {
        options
    };
    let builder = if seeded {
        quote! { #builder.worker_threads(0).seed(__anyio_seed) }
    } else {
        builder
    };
    // `autojump`: a mock clock that jumps to the next deadline when every task blocks.
    let builder = match options.autojump {
        Some((threshold, span)) => quote_spanned! {span=>
            #builder.clock(::anyio::testing::MockClock::new().autojump_threshold(#threshold))
        },
        None => builder,
    };
    let body = quote! { async move #block };
    let body = match options.timeout {
        // Under a mock clock, the timeout is real time: virtual time may pass in jumps.
        Some((seconds, _)) if options.autojump.is_some() => {
            let message = format!(
                "test `{}` timed out after {seconds} s of real time (its `timeout` option)",
                sig.ident
            );
            quote! {
                async move {
                    match ::anyio::__private::real_time_limit(#seconds, #body).await {
                        ::core::option::Option::Some(output) => output,
                        ::core::option::Option::None => ::core::panic!(#message),
                    }
                }
            }
        }
        Some((seconds, _)) => {
            let message = format!(
                "test `{}` timed out after {seconds} s (its `timeout` option)",
                sig.ident
            );
            quote! {
                async move {
                    match ::anyio::fail_after(#seconds, #body).await {
                        ::core::result::Result::Ok(output) => output,
                        ::core::result::Result::Err(_) => ::core::panic!(#message),
                    }
                }
            }
        }
        None => body,
    };
    let test_attr = if kind == Kind::Test {
        quote! { #[::core::prelude::v1::test] }
    } else {
        quote! {}
    };
    // First thing, before the body exists: a process started as a `to_process` worker
    // serves calls here instead (and a test records its name, so that workers can be
    // started as this test: libtest owns a test binary's `main`).
    let enter = match kind {
        Kind::Main => quote! { ::anyio::__private::enter_main(); },
        Kind::Test => {
            let name = sig.ident.to_string();
            quote! { ::anyio::__private::enter_test(::core::module_path!(), #name); }
        }
    };
    // A test's timeout is also enforced from a thread: a body that ignores the cancel
    // ends the test process with the task tree, instead of hanging the suite.
    let watchdog = match (kind, options.timeout) {
        (Kind::Test, Some((seconds, _))) => {
            let name = sig.ident.to_string();
            quote! {
                let __anyio_watchdog = ::anyio::__private::Watchdog::start(
                    &__anyio_runtime,
                    (#seconds) as f64,
                    #name,
                );
            }
        }
        _ => quote! {},
    };
    let run = quote! {
        let __anyio_body = #body;
        let __anyio_runtime = #builder
            .build()
            .unwrap_or_else(|error| ::core::panic!("anyio could not start its runtime: {error}"));
        #watchdog
        let __anyio_output: #output = __anyio_runtime.block_on(__anyio_body);
        __anyio_output
    };
    let seeds = match (options.seed, options.seeds) {
        (Some((options::Seed::Fixed(seed), _)), _) => Some(quote! { [#seed] }),
        (Some((options::Seed::Random, _)), _) => {
            Some(quote! { [::anyio::__private::random_seed()] })
        }
        (None, Some((count, _))) => Some(quote! { 0..#count }),
        (None, None) => None,
    };
    let run = match seeds {
        Some(seeds) => {
            let name = sig.ident.to_string();
            quote! {
                ::anyio::__private::run_with_seeds(#seeds, #name, |__anyio_seed: u64| -> #output {
                    #run
                })
            }
        }
        None => run,
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #enter
            #run
        }
    }
}

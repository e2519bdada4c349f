//! The options of `#[anyio::main(...)]` and `#[anyio::test(...)]`, each kept with its
//! span so that errors point at the user's token.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, MetaNameValue, Path, Token};

/// Parsed options; `None` means "not given".
#[derive(Default)]
pub(crate) struct Options {
    pub(crate) worker_threads: Option<(usize, Span)>,
    pub(crate) timeout: Option<(f64, Span)>,
    /// `autojump` (threshold 0) or `autojump = seconds`: a mock clock that jumps.
    pub(crate) autojump: Option<(f64, Span)>,
    /// `seed = N` or `seed = random`.
    pub(crate) seed: Option<(Seed, Span)>,
    /// `seeds = K`: seeds 0 to K-1 in turn.
    pub(crate) seeds: Option<(u64, Span)>,
}

/// The seed of `seed = ...`.
#[derive(Clone, Copy)]
pub(crate) enum Seed {
    Fixed(u64),
    Random,
}

/// Parses `name = value, ...`; `allowed` lists the option names valid for this macro.
pub(crate) fn parse(args: TokenStream, macro_name: &str, allowed: &[&str]) -> syn::Result<Options> {
    let mut options = Options::default();
    if args.is_empty() {
        return Ok(options);
    }
    let valid = allowed
        .iter()
        .map(|name| format!("`{name} = ...`"))
        .collect::<Vec<_>>()
        .join(", ");
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated
        .parse2(args)
        .map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("malformed option of `#[anyio::{macro_name}]`: expected {valid}"),
            )
        })?;
    for meta in metas {
        let pair = match meta {
            Meta::NameValue(pair) => pair,
            // `autojump` alone is a flag: a threshold of 0.
            Meta::Path(path) if path.is_ident("autojump") && allowed.contains(&"autojump") => {
                if options.autojump.is_some() {
                    return Err(syn::Error::new(
                        path.span(),
                        "option `autojump` is given twice",
                    ));
                }
                options.autojump = Some((0.0, path.span()));
                continue;
            }
            Meta::Path(path) => {
                return Err(syn::Error::new(
                    path.span(),
                    format!(
                        "option `{}` of `#[anyio::{macro_name}]` needs a value; valid options: \
                         {valid}",
                        path_text(&path)
                    ),
                ));
            }
            Meta::List(list) => {
                return Err(syn::Error::new(
                    list.path.span(),
                    format!(
                        "options of `#[anyio::{macro_name}]` are written `name = value`, not \
                         `{}(...)`; valid options: {valid}",
                        path_text(&list.path)
                    ),
                ));
            }
        };
        let Some(name) = pair.path.get_ident().map(ToString::to_string) else {
            return Err(syn::Error::new(
                pair.path.span(),
                format!("unknown option of `#[anyio::{macro_name}]`; valid options: {valid}"),
            ));
        };
        if !allowed.contains(&name.as_str()) {
            return Err(syn::Error::new(
                pair.path.span(),
                format!(
                    "unknown option `{name}` of `#[anyio::{macro_name}]`; valid options: {valid}"
                ),
            ));
        }
        let span = pair.value.span();
        match name.as_str() {
            "worker_threads" => {
                if options.worker_threads.is_some() {
                    return Err(duplicate(&pair, &name));
                }
                let threads = integer(&pair.value).ok_or_else(|| {
                    syn::Error::new(
                        span,
                        "`worker_threads` takes a whole number of threads, e.g. `worker_threads = 2`",
                    )
                })?;
                options.worker_threads = Some((threads, span));
            }
            "timeout" => {
                if options.timeout.is_some() {
                    return Err(duplicate(&pair, &name));
                }
                let seconds = seconds(&pair.value).ok_or_else(|| {
                    syn::Error::new(
                        span,
                        "`timeout` takes a positive number of seconds, e.g. `timeout = 10` or \
                         `timeout = 0.5`",
                    )
                })?;
                options.timeout = Some((seconds, span));
            }
            "autojump" => {
                if options.autojump.is_some() {
                    return Err(duplicate(&pair, &name));
                }
                let threshold = seconds_or_zero(&pair.value).ok_or_else(|| {
                    syn::Error::new(
                        span,
                        "`autojump` takes a threshold of 0 or more seconds, e.g. `autojump = \
                         0.01`, or no value (`autojump`: a threshold of 0)",
                    )
                })?;
                options.autojump = Some((threshold, span));
            }
            "seed" => {
                if options.seed.is_some() {
                    return Err(duplicate(&pair, &name));
                }
                let seed = match &pair.value {
                    Expr::Path(path) if path.path.is_ident("random") => Some(Seed::Random),
                    Expr::Lit(ExprLit {
                        lit: Lit::Int(int), ..
                    }) => int.base10_parse::<u64>().ok().map(Seed::Fixed),
                    _ => None,
                };
                let seed = seed.ok_or_else(|| {
                    syn::Error::new(
                        span,
                        "`seed` takes a whole number, e.g. `seed = 42`, or `seed = random`",
                    )
                })?;
                options.seed = Some((seed, span));
            }
            "seeds" => {
                if options.seeds.is_some() {
                    return Err(duplicate(&pair, &name));
                }
                let count = integer(&pair.value).filter(|&n| n > 0).ok_or_else(|| {
                    syn::Error::new(
                        span,
                        "`seeds` takes how many seeds to run the test under, e.g. `seeds = 100`",
                    )
                })?;
                options.seeds = Some((count as u64, span));
            }
            _ => unreachable!("checked against `allowed` above"),
        }
    }
    if let (Some(_), Some((_, span))) = (options.seed, options.seeds) {
        return Err(syn::Error::new(
            span,
            "give `seed` (one schedule) or `seeds` (several), not both",
        ));
    }
    Ok(options)
}

fn path_text(path: &Path) -> String {
    quote::ToTokens::to_token_stream(path)
        .to_string()
        .replace(' ', "")
}

fn duplicate(pair: &MetaNameValue, name: &str) -> syn::Error {
    syn::Error::new(pair.path.span(), format!("option `{name}` is given twice"))
}

fn integer(value: &Expr) -> Option<usize> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse().ok(),
        _ => None,
    }
}

fn seconds_or_zero(value: &Expr) -> Option<f64> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) if int.base10_digits() == "0" => Some(0.0),
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) if float.base10_parse::<f64>().ok() == Some(0.0) => Some(0.0),
        _ => seconds(value),
    }
}

fn seconds(value: &Expr) -> Option<f64> {
    let seconds: f64 = match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse().ok()?,
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse().ok()?,
        _ => return None,
    };
    (seconds.is_finite() && seconds > 0.0).then_some(seconds)
}

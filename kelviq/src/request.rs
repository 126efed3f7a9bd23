//! What every request builder shares: the client handle it owns, its mode ([`Async`], whose
//! `send` returns a `Send + 'static` future, or [`Blocking`], whose `send` waits), and the
//! per-call options (time-out, deadline, retry policy, extra headers).
//!
//! The setters and the request logic of each builder are written once; [`send_impls!`]
//! writes `send` and `send_with_response` for both modes around its one `execute`.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderName, HeaderValue, AUTHORIZATION};

use std::future::Future;

use crate::config::RetryPolicy;
use crate::core::{Core, Overrides};
use crate::error::ValidationError;
use crate::model::FromWire;
use crate::response::Response;
use crate::transport::RetryRule;

/// The mode of the async client's request builders: `send()` returns a future that owns
/// everything it needs (`Send + 'static`), so it can be spawned.
#[derive(Debug, Clone, Copy, Default)]
pub struct Async;

/// What every resource group and request builder holds: the shared core and the mode.
#[derive(Debug, Clone)]
pub(crate) struct Ctx<M> {
    pub(crate) core: Arc<Core>,
    // Read by the blocking mode's `send` only.
    #[cfg_attr(not(feature = "blocking"), allow(dead_code))]
    pub(crate) mode: M,
}

impl<M> Ctx<M> {
    /// One call of `operation` to the API host, under `rule` and the caller's `options`,
    /// its answer turned into the SDK's own type: what most builders' `execute` does once
    /// it has checked its input and built the generated request.
    pub(crate) async fn api_call<'a, T, W, E, F>(
        &'a self,
        operation: &'static str,
        rule: RetryRule,
        options: &RequestOptions,
        want_raw: bool,
        request: impl FnOnce(&'a kelviq_gen::Client) -> F,
    ) -> crate::Result<Response<T>>
    where
        T: FromWire<W>,
        F: Future<Output = std::result::Result<kelviq_gen::ResponseValue<W>, kelviq_gen::Error<E>>>,
    {
        let overrides = options.overrides(want_raw).map_err(invalid(operation))?;
        let core = &self.core;
        let spec = core.spec(operation, rule, &overrides);
        let answered = core.call(spec, request(core.api())).await?;
        Ok(Response::new(T::from_wire(answered.value), answered.raw))
    }

    /// [`api_call`](Self::api_call) through the catalog family's generated client (the same
    /// host, pool and transport).
    #[cfg(feature = "catalog")]
    pub(crate) async fn catalog_call<'a, T, W, E, F>(
        &'a self,
        operation: &'static str,
        rule: RetryRule,
        options: &RequestOptions,
        want_raw: bool,
        request: impl FnOnce(&'a kelviq_gen::catalog::Client) -> F,
    ) -> crate::Result<Response<T>>
    where
        T: FromWire<W>,
        F: Future<Output = std::result::Result<kelviq_gen::ResponseValue<W>, kelviq_gen::Error<E>>>,
    {
        let catalog = self.core.catalog();
        self.api_call(operation, rule, options, want_raw, move |_| {
            request(catalog)
        })
        .await
    }

    /// One call of `operation` through a family's generated client (`partner`, `admin`),
    /// built on the API host's pool and transport: `request` is the generated request's
    /// future, `credential` a header to send instead of the API key (the partner key, or an
    /// `Authorization` with another key).
    #[cfg(any(feature = "partner", feature = "admin", feature = "catalog"))]
    pub(crate) async fn family_call<T, W, E, F>(
        &self,
        operation: &'static str,
        rule: RetryRule,
        options: &RequestOptions,
        want_raw: bool,
        credential: Option<(HeaderName, HeaderValue)>,
        request: F,
    ) -> crate::Result<Response<T>>
    where
        T: FromWire<W>,
        F: Future<Output = std::result::Result<kelviq_gen::ResponseValue<W>, kelviq_gen::Error<E>>>,
    {
        let mut overrides = options.overrides(want_raw).map_err(invalid(operation))?;
        // Last, so that no header the caller set replaces it.
        overrides.headers.extend(credential);
        let core = &self.core;
        let spec = core.spec(operation, rule, &overrides);
        let answered = core.call(spec, request).await?;
        Ok(Response::new(T::from_wire(answered.value), answered.raw))
    }

    /// A family's generated client on the API host, sharing its pool and transport.
    #[cfg(any(feature = "partner", feature = "admin"))]
    pub(crate) fn family_client<C>(
        &self,
        new: fn(&str, reqwest::Client, kelviq_gen::Transport) -> C,
    ) -> C {
        use kelviq_gen::ClientInfo;
        let api = self.core.api();
        new(api.baseurl(), api.client().clone(), api.inner().clone())
    }

    /// A family's generated client on the edge host, sharing its pool and transport.
    #[cfg(feature = "catalog")]
    pub(crate) fn edge_family_client<C>(
        &self,
        new: fn(&str, reqwest::Client, kelviq_gen::Transport) -> C,
    ) -> C {
        use kelviq_gen::ClientInfo;
        let edge = self.core.edge();
        new(edge.baseurl(), edge.client().clone(), edge.inner().clone())
    }

    /// [`api_call`](Self::api_call) for a call that may change `customer_id`'s entitlements:
    /// the cached set is retired once the call succeeded or may have been applied.
    pub(crate) async fn api_call_changing<'a, T, W, E, F>(
        &'a self,
        operation: &'static str,
        rule: RetryRule,
        options: &RequestOptions,
        want_raw: bool,
        customer_id: &str,
        request: impl FnOnce(&'a kelviq_gen::Client) -> F,
    ) -> crate::Result<Response<T>>
    where
        T: FromWire<W>,
        F: Future<Output = std::result::Result<kelviq_gen::ResponseValue<W>, kelviq_gen::Error<E>>>,
    {
        let result = self
            .api_call(operation, rule, options, want_raw, request)
            .await;
        if result.is_ok() || result.as_ref().is_err_and(crate::Error::is_unconfirmed) {
            self.core.invalidate_entitlements(customer_id);
        }
        result
    }
}

/// The per-call options of a request builder, set through the setters every builder has.
#[derive(Debug, Clone, Default)]
pub(crate) struct RequestOptions {
    timeout: Option<Duration>,
    deadline: Option<Duration>,
    retry: Option<RetryPolicy>,
    headers: Vec<(String, String)>,
}

impl RequestOptions {
    pub(crate) fn timeout(&mut self, timeout: Duration) {
        self.timeout = Some(timeout);
    }

    pub(crate) fn deadline(&mut self, deadline: Duration) {
        self.deadline = Some(deadline);
    }

    pub(crate) fn retry_policy(&mut self, retry: RetryPolicy) {
        self.retry = Some(retry);
    }

    pub(crate) fn header(&mut self, name: String, value: String) {
        self.headers.push((name, value));
    }

    /// The options as the core takes them, the headers checked.
    pub(crate) fn overrides(&self, want_raw: bool) -> Result<Overrides, ValidationError> {
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                let parsed = HeaderName::try_from(name.as_str()).map_err(|_| {
                    ValidationError::new("header", name.clone(), "an HTTP header name")
                })?;
                if parsed == AUTHORIZATION {
                    return Err(ValidationError::new(
                        "header",
                        name.clone(),
                        "a header other than Authorization, which the client sets from its key",
                    ));
                }
                // The value may be a credential: it is never echoed in an error.
                let mut parsed_value = HeaderValue::try_from(value.as_str()).map_err(|_| {
                    ValidationError::new(
                        "header",
                        format!("{name}: <value not shown>"),
                        "a value of visible ASCII",
                    )
                })?;
                parsed_value.set_sensitive(true);
                Ok((parsed, parsed_value))
            })
            .collect::<Result<_, _>>()?;
        Ok(Overrides {
            attempt_timeout: self.timeout,
            deadline: self.deadline,
            retry: self.retry,
            headers,
            want_raw,
        })
    }
}

/// Writes the per-call option setters of a request builder, which keeps them in a field
/// named `options`.
macro_rules! request_options {
    ([$($generics:tt)*] $builder:ty) => {
        impl<$($generics)*> $builder {
            /// The time-out of each attempt of this call, instead of the client's.
            pub fn timeout(mut self, timeout: std::time::Duration) -> Self {
                self.options.timeout(timeout);
                self
            }

            /// The time this whole call may take, every attempt and wait included, instead
            /// of the client's deadline.
            pub fn deadline(mut self, deadline: std::time::Duration) -> Self {
                self.options.deadline(deadline);
                self
            }

            /// When and how often this call is retried, instead of the client's policy.
            /// Requests that count again when repeated are still never resent once they may
            /// have been applied.
            pub fn retry_policy(mut self, retry: $crate::RetryPolicy) -> Self {
                self.options.retry_policy(retry);
                self
            }

            /// An extra header on this call's request (not `Authorization`, which the
            /// client sets). Checked when the request is sent.
            pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
                self.options.header(name.into(), value.into());
                self
            }
        }
    };
}
pub(crate) use request_options;

/// Writes `send` and `send_with_response` for a request builder that owns its context, in
/// both modes, around its one `execute(self, want_raw) -> Result<Response<Output>>`.
macro_rules! send_impls {
    ($builder:ident => $output:ty) => {
        impl $builder<$crate::request::Async> {
            /// Sends the request and returns the service's answer. The future owns what it
            /// needs: it can be spawned, and outlives the client handle it came from.
            pub async fn send(self) -> $crate::Result<$output> {
                self.execute(false).await.map($crate::Response::into_value)
            }

            /// Like [`send`](Self::send), with the HTTP answer (status, headers, request id)
            /// beside the typed one.
            pub async fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                self.execute(true).await
            }
        }

        #[cfg(feature = "blocking")]
        impl $builder<$crate::request::Blocking> {
            /// Sends the request and waits for the service's answer.
            pub fn send(self) -> $crate::Result<$output> {
                let mode = self.ctx.mode.clone();
                mode.block_on(
                    async move { self.execute(false).await.map($crate::Response::into_value) },
                )
            }

            /// Like [`send`](Self::send), with the HTTP answer (status, headers, request id)
            /// beside the typed one.
            pub fn send_with_response(self) -> $crate::Result<$crate::Response<$output>> {
                let mode = self.ctx.mode.clone();
                mode.block_on(self.execute(true))
            }
        }
    };
}
pub(crate) use send_impls;

#[cfg(feature = "blocking")]
pub use blocking_mode::Blocking;

#[cfg(feature = "blocking")]
mod blocking_mode {
    use std::any::Any;
    use std::fmt;
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;

    use crate::error::{Error, Result};

    type ErasedCall = Pin<Box<dyn Future<Output = Box<dyn Any + Send>> + Send>>;

    /// The mode of the blocking client's request builders: `send()` waits for the answer,
    /// driven by the blocking client's own small runtime.
    #[derive(Clone)]
    pub struct Blocking(Arc<Runtime>);

    impl fmt::Debug for Blocking {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("Blocking")
        }
    }

    /// The runtime, shut down without waiting when the last handle goes, so that dropping a
    /// blocking client never blocks or panics, even inside an async context.
    struct Runtime(Option<tokio::runtime::Runtime>);

    impl Drop for Runtime {
        fn drop(&mut self) {
            if let Some(runtime) = self.0.take() {
                runtime.shutdown_background();
            }
        }
    }

    impl Blocking {
        pub(crate) fn new() -> Result<Self> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("kelviq-blocking")
                .enable_all()
                .build()
                .map_err(|e| {
                    Error::config(format!(
                        "could not start the blocking client's runtime: {e}"
                    ))
                })?;
            Ok(Self(Arc::new(Runtime(Some(runtime)))))
        }

        /// The client's runtime, while it runs.
        pub(crate) fn runtime(&self) -> Option<&tokio::runtime::Handle> {
            self.0 .0.as_ref().map(|runtime| runtime.handle())
        }

        /// Runs `call` to its end on the client's runtime, blocking this thread.
        ///
        /// - On a plain thread, the call runs on this thread (`block_on`), its I/O driven by
        ///   the runtime's worker: many threads can wait at once.
        /// - On a thread that belongs to a runtime but may block (a `spawn_blocking` thread),
        ///   the call runs as a task of the client's runtime and this thread waits for it.
        /// - On a runtime's worker thread (inside an async task), waiting would stall every
        ///   task of that worker: refused with [`ErrorKind::Config`](crate::ErrorKind::Config).
        pub(crate) fn block_on<T, F>(&self, call: F) -> Result<T>
        where
            T: Send + 'static,
            F: Future<Output = Result<T>> + Send + 'static,
        {
            // Only the boxing is generic: the runtime's task machinery and the channel are
            // instantiated once for every operation instead of once per answer type (they
            // were a third of the crate's generated code).
            let answer = self.block_on_erased(Box::pin(async move {
                Box::new(call.await) as Box<dyn Any + Send>
            }))?;
            match answer.downcast::<Result<T>>() {
                Ok(answer) => *answer,
                // Cannot happen: the box holds what the call above returned.
                Err(_) => Err(Error::config("the blocking client lost a call's answer")),
            }
        }

        fn block_on_erased(&self, call: ErasedCall) -> Result<Box<dyn Any + Send>> {
            let Some(runtime) = &self.0 .0 else {
                return Err(Error::config("the blocking client's runtime has shut down"));
            };
            if tokio::runtime::Handle::try_current().is_err() {
                return Ok(runtime.block_on(call));
            }
            if tokio::runtime::worker_index().is_some() {
                return Err(Error::config(
                    "the blocking client was called inside an async task, where waiting would \
                     stall the runtime's thread: use the async kelviq::Client there, or call \
                     it from tokio::task::spawn_blocking",
                ));
            }
            let (answer, answered) = std::sync::mpsc::sync_channel(1);
            runtime.spawn(async move {
                let _ = answer.send(call.await);
            });
            answered
                .recv()
                .map_err(|_| Error::config("the blocking client's runtime has shut down"))
        }
    }
}

/// Turns a broken rule into the crate's error, naming the operation.
pub(crate) fn invalid(operation: &'static str) -> impl Fn(ValidationError) -> crate::Error {
    move |e| crate::Error::from(e).in_operation(operation)
}

//! The accept loop. Hand-written over hyper rather than `axum::serve` for one reason: a
//! "drop" fault must close a connection without answering, which needs the connection's
//! task to be reachable from the handler ([`ConnectionKill`]).

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tower::ServiceExt;

/// Closes the connection a request arrived on, without an answer.
#[derive(Debug, Clone)]
pub(crate) struct ConnectionKill(Arc<Notify>);

impl ConnectionKill {
    pub(crate) fn close(&self) {
        self.0.notify_one();
    }
}

/// Serves `router` on `listener` until the returned future is dropped; dropping it closes
/// every connection too.
pub(crate) async fn serve(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let kill = ConnectionKill(Arc::new(Notify::new()));
        let router = router.clone();
        let kill_handle = kill.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(kill_handle.clone());
            let router = router.clone();
            async move {
                Ok::<_, Infallible>(
                    router
                        .oneshot(request.map(Body::new))
                        .await
                        .unwrap_or_else(|e| match e {}),
                )
            }
        });
        connections.spawn(async move {
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = connection => {}
                _ = kill.0.notified() => {}
            }
        });
        while connections.try_join_next().is_some() {}
    }
}

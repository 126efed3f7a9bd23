//! Which rustls crypto provider: ring (kelviq's default) against aws-lc-rs, on loopback.
//!
//! A small HTTPS server (tokio-rustls and hyper, a certificate made here by rcgen, ring on the
//! server side for both) answers a fixed JSON body; reqwest clients configured with each
//! provider make requests, with a new connection (a full handshake) each time and on one
//! kept-alive connection. The two providers alternate within each repetition, so that both
//! see the same machine; the table shows medians and the ratio.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Instant;

use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use rustls::crypto::CryptoProvider;
use tokio::net::TcpListener;

use crate::{median, Table, REPETITIONS};

const HANDSHAKES: usize = 300;
const KEPT_ALIVE: usize = 3_000;

pub fn section(
    table: &mut Table,
    runtime: &tokio::runtime::Runtime,
    server: &tokio::runtime::Runtime,
) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("a self-signed certificate");
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.signing_key.serialize_der().into());
    let server_config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert.clone()], key)
    .expect("the server's certificate");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = server
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("a loopback port");
    let port = listener.local_addr().expect("its address").port();
    server.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(|_request| async {
                    Ok::<_, Infallible>(
                        hyper::Response::builder()
                            .header("content-type", "application/json")
                            .body(http_body_util::Full::new(Bytes::from_static(
                                br#"{"hasAccess":true}"#,
                            )))
                            .expect("a response"),
                    )
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), service)
                    .await;
            });
        }
    });

    let url = format!("https://localhost:{port}/api/v1/entitlements");
    let client = |provider: CryptoProvider, keep_alive: bool| {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.clone()).expect("the test CA");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        // Straight to the port: no name lookup in the figure.
        let builder = reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .resolve(
                "localhost",
                std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            );
        let builder = if keep_alive {
            builder
        } else {
            builder.pool_max_idle_per_host(0)
        };
        builder.build().expect("a reqwest client")
    };
    let time = |client: reqwest::Client, n: usize| {
        runtime.block_on(async {
            // One request first, so that the kept-alive figure starts on an open connection.
            client.get(&url).send().await.expect("an answer");
            let started = Instant::now();
            for _ in 0..n {
                let answer = client.get(&url).send().await.expect("an answer");
                answer.bytes().await.expect("a body");
            }
            started.elapsed().as_secs_f64() * 1e6 / n as f64
        })
    };

    let (mut ring_new, mut aws_new, mut ring_kept, mut aws_kept) = (vec![], vec![], vec![], vec![]);
    for _ in 0..REPETITIONS {
        ring_new.push(time(
            client(rustls::crypto::ring::default_provider(), false),
            HANDSHAKES,
        ));
        aws_new.push(time(
            client(rustls::crypto::aws_lc_rs::default_provider(), false),
            HANDSHAKES,
        ));
        ring_kept.push(time(
            client(rustls::crypto::ring::default_provider(), true),
            KEPT_ALIVE,
        ));
        aws_kept.push(time(
            client(rustls::crypto::aws_lc_rs::default_provider(), true),
            KEPT_ALIVE,
        ));
    }
    let (ring_new, aws_new) = (median(ring_new), median(aws_new));
    let (ring_kept, aws_kept) = (median(ring_kept), median(aws_kept));
    table.add(
        "TLS handshake + request, ring (default) / aws-lc-rs",
        format!("{ring_new:.0} / {aws_new:.0} µs"),
        format!("ring at {:.2}x aws-lc-rs's time", ring_new / aws_new),
    );
    table.add(
        "TLS request on a kept-alive connection, ring / aws-lc-rs",
        format!("{ring_kept:.1} / {aws_kept:.1} µs"),
        format!("ring at {:.2}x aws-lc-rs's time", ring_kept / aws_kept),
    );
}

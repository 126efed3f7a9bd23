//! Where Redis is and how to reach it: one node or a Redis Cluster, in plain text or TLS.
//!
//! Commands go through [`Connection`], which both kinds implement, so the cache and the
//! queue never know which they talk to. On a cluster every key of one tenant shares a hash
//! slot (the `{tenant}` tag), so each script runs on one node, and the `redis` crate's
//! cluster connection follows `MOVED`/`ASK` redirections and refreshes its slot map after a
//! failover on its own.
//!
//! Invalidations use classic pub/sub, not sharded: a cluster forwards a classic `PUBLISH`
//! to every node, so one subscription on any node hears them all, over a plain connection to
//! that node; sharded pub/sub would need the subscription to follow the channel's slot
//! through failovers, for no gain at one message per invalidation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};

use crate::config::{redact_url, RedisConfig};
use crate::error::{Error, Result};

/// A connection to one node (reconnecting on its own) or to a cluster.
#[derive(Clone)]
pub(crate) enum Connection {
    Node(ConnectionManager),
    Cluster(redis::cluster_async::ClusterConnection),
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(
        &'a mut self,
        cmd: &'a redis::Cmd,
    ) -> redis::RedisFuture<'a, redis::Value> {
        match self {
            Connection::Node(node) => node.req_packed_command(cmd),
            Connection::Cluster(cluster) => cluster.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> redis::RedisFuture<'a, Vec<redis::Value>> {
        match self {
            Connection::Node(node) => node.req_packed_commands(pipeline, offset, count),
            Connection::Cluster(cluster) => cluster.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Connection::Node(node) => node.get_db(),
            Connection::Cluster(cluster) => cluster.get_db(),
        }
    }
}

/// How to reach Redis.
pub(crate) struct Target {
    /// A cluster's client; without one, Redis is the first (and only) node.
    cluster: Option<redis::cluster::ClusterClient>,
    /// A client for each node given, for subscriptions: tried in turn, so that a
    /// subscription lost with its node is made again on another.
    nodes: Vec<redis::Client>,
    next_node: AtomicUsize,
    /// The URLs without their passwords, for logs.
    pub(crate) shown: String,
}

impl Target {
    /// Checks the URLs and reads the CA file; connects nothing yet.
    pub(crate) fn new(config: &RedisConfig) -> Result<Self> {
        let shown = config
            .urls
            .iter()
            .map(|url| redact_url(url))
            .collect::<Vec<_>>()
            .join(",");
        let expected = "expected redis://[user:password@]host:port[/db] or rediss://… for TLS";
        let Some(first) = config.urls.first() else {
            return Err(Error::config(format!("no Redis URL was given: {expected}")));
        };
        let certificates = match &config.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    Error::config(format!(
                        "the Redis CA file {} could not be read: {e}; expected a PEM file",
                        path.display()
                    ))
                })?;
                Some(certificates(pem, config)?)
            }
            None => None,
        };
        let invalid = |url: &str, e: redis::RedisError| {
            Error::config(format!(
                "invalid Redis URL {}: {}; {expected}",
                redact_url(url),
                e.detail().unwrap_or("not a Redis URL")
            ))
        };
        let nodes = config
            .urls
            .iter()
            .map(|url| node_client(url, certificates.as_ref()).map_err(|e| invalid(url, e)))
            .collect::<Result<Vec<_>>>()?;
        // The redis crate's rustls reads the process-wide provider when it connects. TLS as
        // the redis crate parsed it: `rediss://`, `valkeys://`, in any case.
        #[cfg(feature = "__rustls")]
        if nodes.iter().any(|node| {
            matches!(
                node.get_connection_info().addr(),
                redis::ConnectionAddr::TcpTls { .. }
            )
        }) {
            crate::tls::ensure_process_default();
        }
        let cluster = if config.cluster {
            Some(cluster_client(config, certificates).map_err(|e| invalid(first, e))?)
        } else {
            if config.urls.len() > 1 {
                return Err(Error::config(format!(
                    "{} Redis URLs were given for one node; use RedisConfig::cluster for a \
                     Redis Cluster's nodes",
                    config.urls.len()
                )));
            }
            None
        };
        Ok(Self {
            cluster,
            nodes,
            next_node: AtomicUsize::new(0),
            shown,
        })
    }

    /// A connection that connects on first use, and again after a failure; each attempt
    /// and each answer bounded by `timeout`.
    pub(crate) fn connect(&self, timeout: Duration) -> Connection {
        match &self.cluster {
            None => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(timeout))
                    .set_response_timeout(Some(timeout))
                    .set_number_of_retries(1)
                    .set_max_delay(Duration::from_secs(1));
                Connection::Node(
                    ConnectionManager::new_lazy_with_config(self.nodes[0].clone(), config)
                        .expect("a lazy connection manager without push settings is always made"),
                )
            }
            Some(client) => {
                let config = redis::cluster::ClusterConfig::new()
                    .set_connection_timeout(timeout)
                    .set_response_timeout(timeout);
                Connection::Cluster(client.get_pending_async_connection_with_config(config))
            }
        }
    }

    /// Whether it is a cluster.
    pub(crate) fn is_cluster(&self) -> bool {
        self.cluster.is_some()
    }

    /// The node to subscribe on next.
    pub(crate) fn subscriber(&self) -> &redis::Client {
        let next = self.next_node.fetch_add(1, Ordering::Relaxed);
        &self.nodes[next % self.nodes.len()]
    }
}

#[cfg(any(feature = "__rustls", feature = "native-tls"))]
type Certificates = redis::TlsCertificates;
#[cfg(not(any(feature = "__rustls", feature = "native-tls")))]
type Certificates = std::convert::Infallible;

#[cfg(any(feature = "__rustls", feature = "native-tls"))]
fn certificates(pem: Vec<u8>, _config: &RedisConfig) -> Result<Certificates> {
    Ok(redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(pem),
    })
}

#[cfg(not(any(feature = "__rustls", feature = "native-tls")))]
fn certificates(_pem: Vec<u8>, _config: &RedisConfig) -> Result<Certificates> {
    Err(Error::config(
        "a Redis CA file needs TLS: build kelviq with the rustls or native-tls feature",
    ))
}

fn node_client(
    url: &str,
    certificates: Option<&Certificates>,
) -> redis::RedisResult<redis::Client> {
    match certificates {
        #[cfg(any(feature = "__rustls", feature = "native-tls"))]
        Some(certificates) => redis::Client::build_with_tls(url, certificates.clone()),
        #[cfg(not(any(feature = "__rustls", feature = "native-tls")))]
        Some(never) => match *never {},
        None => redis::Client::open(url),
    }
}

fn cluster_client(
    config: &RedisConfig,
    certificates: Option<Certificates>,
) -> redis::RedisResult<redis::cluster::ClusterClient> {
    // Few, short retries inside the connection: each command is bounded by the time-out
    // anyway, and a command given up on is tried again by the caller's next pass.
    let builder = redis::cluster::ClusterClient::builder(config.urls.iter().map(String::as_str))
        .retries(2)
        .min_retry_wait(10)
        .max_retry_wait(100)
        .connection_timeout(config.timeout)
        .response_timeout(config.timeout);
    let builder = match certificates {
        #[cfg(feature = "__rustls")]
        Some(certificates) => builder.certs(certificates),
        #[cfg(all(feature = "native-tls", not(feature = "__rustls")))]
        Some(_) => {
            return Err(redis::RedisError::from((
                redis::ErrorKind::InvalidClientConfig,
                "a CA file for a Redis Cluster needs the rustls feature",
            )))
        }
        #[cfg(not(any(feature = "__rustls", feature = "native-tls")))]
        Some(never) => match never {},
        None => builder,
    };
    builder.build()
}

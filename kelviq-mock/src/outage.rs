//! Hosts that fail the way networks fail, for tests of what a client does then: one that
//! never completes a connection ([`BlackHole`]), and one that takes the request and never
//! answers ([`SilentServer`]).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::task::JoinHandle;

/// A listener whose connections never complete, like a host behind a firewall that drops
/// packets: a client's connect waits until its own connect time-out.
///
/// It listens with an accept queue of one entry, fills that entry itself and never accepts,
/// so the kernel drops every further SYN. Nothing is ever refused (that would be a polite
/// failure) and nothing is ever answered. Dropping it closes the port.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let hole = kelviq_mock::BlackHole::start().await?;
/// let attempt = tokio::time::timeout(
///     std::time::Duration::from_millis(200),
///     tokio::net::TcpStream::connect(hole.addr()),
/// )
/// .await;
/// assert!(attempt.is_err(), "the connection never completes");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct BlackHole {
    addr: SocketAddr,
    _listener: TcpListener,
    _filler: Vec<TcpStream>,
}

/// How long a filling connection may take before the queue is taken to be full.
const FILL_PROBE: Duration = Duration::from_millis(100);

impl BlackHole {
    /// A black hole on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        // Tests build reqwest clients against it, maybe before any emulator has started.
        crate::ensure_crypto_provider();
        Self::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// A black hole on `addr` (for example the address an emulator listened on).
    pub async fn bind(addr: SocketAddr) -> std::io::Result<Self> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        let listener = socket.listen(0)?;
        let addr = listener.local_addr()?;
        // Fill the accept queue; the first connect that does not complete proves it full.
        let mut filler = Vec::new();
        for _ in 0..8 {
            match tokio::time::timeout(FILL_PROBE, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => filler.push(stream),
                Ok(Err(error)) => return Err(error),
                Err(_) => break,
            }
        }
        Ok(Self {
            addr,
            _listener: listener,
            _filler: filler,
        })
    }

    /// The address that never answers.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, to point a client at.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// A server that accepts connections and reads requests but never answers, like a service
/// stuck behind a lock. Dropping it closes the port and every connection.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> std::io::Result<()> {
/// let silent = kelviq_mock::SilentServer::start().await?;
/// assert!(silent.url().starts_with("http://127.0.0.1:"));
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct SilentServer {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl SilentServer {
    /// A silent server on a free port of 127.0.0.1.
    pub async fn start() -> std::io::Result<Self> {
        // Tests build reqwest clients against it, maybe before any emulator has started.
        crate::ensure_crypto_provider();
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                connections.spawn(async move {
                    let mut buffer = [0u8; 4096];
                    while matches!(stream.read(&mut buffer).await, Ok(n) if n > 0) {}
                });
            }
        });
        Ok(Self { addr, task })
    }

    /// The address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://<addr>`, to point a client at.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

//! A TCP proxy in front of a real server that can lose an answer on purpose: the request
//! reaches the server and is carried out, the connection is then cut before the answer gets
//! back, and the port refuses connections until told to listen again. This is the failure a
//! client cannot tell from "never sent", and the one a timing trick cannot make reliably.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

const PASS: u8 = 0;
const CUT_NEXT_ANSWER: u8 = 1;
const REFUSE: u8 = 2;

/// The proxy; it stops when dropped.
#[derive(Debug)]
pub struct CuttingProxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    mode: AtomicU8,
    /// Wakes the listener (to close) and every connection (to cut).
    changed: Notify,
    stopped: AtomicBool,
    /// How many answers were cut.
    cut: std::sync::atomic::AtomicUsize,
    /// How long each new connection waits before it reaches the server, in milliseconds.
    connect_delay_ms: std::sync::atomic::AtomicU64,
}

impl CuttingProxy {
    /// A proxy on a free loopback port to `upstream`, passing everything through.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("its address");
        let proxy = Self {
            addr,
            upstream,
            shared: Arc::default(),
        };
        proxy.listen(listener);
        proxy
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The next answer from the server (to any connection) is thrown away and that
    /// connection closed; from then on the port refuses connections.
    pub fn cut_next_answer(&self) {
        self.shared.mode.store(CUT_NEXT_ANSWER, Ordering::SeqCst);
    }

    /// Each connection made from now on reaches the server only after `delay`: a server
    /// that is slow to accept, while the connections already open stay fast.
    pub fn delay_new_connections(&self, delay: std::time::Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared.connect_delay_ms.store(ms, Ordering::SeqCst);
    }

    /// How many answers were cut so far.
    pub fn answers_cut(&self) -> usize {
        self.shared.cut.load(Ordering::SeqCst)
    }

    /// Listens again and passes everything through.
    pub async fn resume(&self) {
        if self.shared.mode.swap(PASS, Ordering::SeqCst) == REFUSE {
            let listener = TcpListener::bind(self.addr)
                .await
                .expect("the proxy's port is free again");
            self.listen(listener);
        }
    }

    fn listen(&self, listener: TcpListener) {
        let shared = self.shared.clone();
        let upstream = self.upstream;
        tokio::spawn(async move {
            loop {
                let changed = shared.changed.notified();
                tokio::pin!(changed);
                changed.as_mut().enable();
                if shared.mode.load(Ordering::SeqCst) == REFUSE
                    || shared.stopped.load(Ordering::SeqCst)
                {
                    // Dropping the listener makes the port refuse connections.
                    return;
                }
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { return };
                        tokio::spawn(relay(client, upstream, shared.clone()));
                    }
                    () = changed => {}
                }
            }
        });
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.shared.changed.notify_waiters();
    }
}

async fn relay(client: TcpStream, upstream: SocketAddr, shared: Arc<Shared>) {
    let delay = shared.connect_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay)).await;
    }
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let requests = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    };
    let answers = async {
        let mut buffer = vec![0_u8; 64 * 1024];
        loop {
            let read = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => read,
            };
            if shared
                .mode
                .compare_exchange(CUT_NEXT_ANSWER, REFUSE, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                shared.cut.fetch_add(1, Ordering::SeqCst);
                shared.changed.notify_waiters();
                return;
            }
            if client_write.write_all(&buffer[..read]).await.is_err() {
                return;
            }
        }
    };
    let stopped = async {
        loop {
            let changed = shared.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if shared.stopped.load(Ordering::SeqCst) || shared.mode.load(Ordering::SeqCst) == REFUSE
            {
                return;
            }
            changed.await;
        }
    };
    // Whichever ends first ends the connection: both halves are dropped, so the client
    // sees it closed without an answer.
    tokio::select! {
        () = requests => {}
        () = answers => {}
        () = stopped => {}
    }
}

/// A proxy in front of the Redis at `upstream` (a loopback port) that holds each of its
/// answers `delay` milliseconds (read when the answer arrives) before passing it on, in
/// order: a Redis that is slow but answers. Says its `redis://` URL; runs until the runtime
/// ends.
pub async fn slow_answers(upstream: u16, delay: Arc<AtomicU64>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("redis://{}/0", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await else {
                continue;
            };
            let _ = client.set_nodelay(true);
            let _ = server.set_nodelay(true);
            let (mut client_read, mut client_write) = client.into_split();
            let (mut server_read, mut server_write) = server.into_split();
            tokio::spawn(async move {
                let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
                let _ = server_write.shutdown().await;
            });
            let (held, mut due) = tokio::sync::mpsc::unbounded_channel::<(Instant, Vec<u8>)>();
            let delay = delay.clone();
            tokio::spawn(async move {
                let mut buffer = vec![0; 64 * 1024];
                loop {
                    match server_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let at = Instant::now()
                                + Duration::from_millis(delay.load(Ordering::Relaxed));
                            if held.send((at, buffer[..n].to_vec())).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
            tokio::spawn(async move {
                while let Some((at, bytes)) = due.recv().await {
                    tokio::time::sleep_until(at.into()).await;
                    if client_write.write_all(&bytes).await.is_err() {
                        break;
                    }
                }
            });
        }
    });
    url
}

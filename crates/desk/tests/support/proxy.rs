//! A TCP proxy between the engine and the server that a test can cut
//! (drop every connection), take down (refuse new ones) or freeze (black-hole
//! traffic while keeping sockets open, like a dead network).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

pub struct Proxy {
    pub url: String,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

struct State {
    target: Mutex<SocketAddr>,
    down: AtomicBool,
    frozen: AtomicBool,
    /// Client bytes containing this are dropped (that request hangs); the rest flows.
    stall: Mutex<Option<Vec<u8>>>,
    /// Server bytes: each `from` becomes `to` (same length, so frames stay valid).
    rewrite: Mutex<Option<(Vec<u8>, Vec<u8>)>>,
    conns: Mutex<Vec<JoinHandle<()>>>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.cut();
    }
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    state: Arc<State>,
    from_client: bool,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if state.frozen.load(Ordering::SeqCst) {
            continue; // black hole
        }
        if from_client && stalls(&state, &buf[..n]) {
            continue;
        }
        if !from_client {
            rewrite(&state, &mut buf[..n]);
        }
        if to.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.shutdown().await;
}

impl Proxy {
    pub async fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            target: Mutex::new(host_port(target)),
            down: AtomicBool::new(false),
            frozen: AtomicBool::new(false),
            stall: Mutex::new(None),
            rewrite: Mutex::new(None),
            conns: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                if st.down.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = *st.target.lock().unwrap();
                let st2 = st.clone();
                let task = tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(target).await else {
                        return;
                    };
                    let (cr, cw) = client.into_split();
                    let (sr, sw) = server.into_split();
                    let a = tokio::spawn(pump(cr, sw, st2.clone(), true));
                    let b = tokio::spawn(pump(sr, cw, st2, false));
                    let _ = tokio::join!(AbortOnDrop(a), AbortOnDrop(b));
                });
                st.conns.lock().unwrap().push(task);
            }
        });
        Proxy {
            url: format!("http://{addr}"),
            state,
            accept,
        }
    }

    /// Drops every open connection.
    pub fn cut(&self) {
        for t in self.state.conns.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    /// Refuses connections (and cuts open ones) until `up`.
    pub fn down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        self.cut();
    }

    pub fn up(&self) {
        self.state.down.store(false, Ordering::SeqCst);
    }

    /// Silently drops all traffic, keeping connections open.
    pub fn freeze(&self, frozen: bool) {
        self.state.frozen.store(frozen, Ordering::SeqCst);
    }

    /// Black-holes the requests whose bytes contain `pattern` (e.g. the list pages of a
    /// full sync) while everything else, the feed included, flows; `None` lets them through
    /// again and cuts the connections so the hung requests fail at once.
    pub fn stall(&self, pattern: Option<&str>) {
        let releasing = pattern.is_none();
        *self.state.stall.lock().unwrap() = pattern.map(|p| p.as_bytes().to_vec());
        if releasing {
            self.cut();
        }
    }

    /// Rewrites what the server sends: every `from` becomes `to`, as a newer server might
    /// write a value this build does not know. Same length only (WebSocket frames and
    /// `Content-Length` stay valid); `None` stops.
    pub fn rewrite(&self, change: Option<(&str, &str)>) {
        if let Some((from, to)) = change {
            assert_eq!(from.len(), to.len(), "same length only");
        }
        *self.state.rewrite.lock().unwrap() =
            change.map(|(f, t)| (f.as_bytes().to_vec(), t.as_bytes().to_vec()));
    }

    pub fn retarget(&self, target: &str) {
        *self.state.target.lock().unwrap() = host_port(target);
    }
}

fn rewrite(state: &State, bytes: &mut [u8]) {
    let rewrite = state.rewrite.lock().unwrap();
    let Some((from, to)) = rewrite.as_ref() else {
        return;
    };
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if bytes[i..i + from.len()] == from[..] {
            bytes[i..i + from.len()].copy_from_slice(to);
            i += from.len();
        } else {
            i += 1;
        }
    }
}

fn stalls(state: &State, bytes: &[u8]) -> bool {
    let stall = state.stall.lock().unwrap();
    stall
        .as_deref()
        .is_some_and(|p| bytes.windows(p.len()).any(|w| w == p))
}

struct AbortOnDrop(JoinHandle<()>);

impl std::future::Future for AbortOnDrop {
    type Output = ();
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        std::pin::Pin::new(&mut self.0).poll(cx).map(|_| ())
    }
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn host_port(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .expect("http://IP:PORT")
}

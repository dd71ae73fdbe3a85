//! The floor of fan-out on this machine: one frame, as long as a server's, written by plain
//! threads to each of `n` loopback sockets, read by the same subscribers as the servers are
//! (`feed_subscribers`: it speaks just enough of our feed, a `ready` frame then `_id`s). No
//! HTTP, no database, no runtime, no audience: what any server pays for the sends alone.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc::{Sender, channel};
use std::thread::JoinHandle;

enum Work {
    Subscriber(TcpStream),
    Frame(Arc<Vec<u8>>),
}

pub struct FanoutFloor {
    pub url: String,
    writers: Vec<Sender<Work>>,
    threads: Vec<JoinHandle<()>>,
}

impl FanoutFloor {
    /// Listens for `n` subscribers, shared out in turn among `threads` writing threads.
    pub fn start(n: usize, threads: usize) -> FanoutFloor {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut writers = Vec::new();
        let mut handles = Vec::new();
        for _ in 0..threads {
            let (tx, rx) = channel::<Work>();
            writers.push(tx);
            handles.push(std::thread::spawn(move || {
                let mut sockets = Vec::new();
                while let Ok(work) = rx.recv() {
                    match work {
                        Work::Subscriber(s) => sockets.push(s),
                        Work::Frame(f) => sockets.iter_mut().for_each(|s| s.write_all(&f).unwrap()),
                    }
                }
            }));
        }
        let to_writers = writers.clone();
        handles.push(std::thread::spawn(move || {
            for i in 0..n {
                let (mut s, _) = listener.accept().unwrap();
                s.set_nodelay(true).unwrap();
                upgrade(&mut s);
                // Handed over before it is said live: no event can be sent to it before.
                let to = &to_writers[i % to_writers.len()];
                to.send(Work::Subscriber(s.try_clone().unwrap())).unwrap();
                s.write_all(&text_frame(r#"{"type":"ready"}"#)).unwrap();
            }
        }));
        FanoutFloor {
            url,
            writers,
            threads: handles,
        }
    }

    /// Writes an event `id`, in a text frame of `bytes` of payload, to every subscriber.
    pub fn send(&self, id: &str, bytes: usize) {
        let head = format!("{{\"_id\":\"{id}\",\"pad\":\"");
        let pad = bytes.saturating_sub(head.len() + 2);
        let payload = format!("{head}{}\"}}", "x".repeat(pad));
        let frame = Arc::new(text_frame(&payload));
        for w in &self.writers {
            w.send(Work::Frame(frame.clone())).unwrap();
        }
    }
}

impl Drop for FanoutFloor {
    fn drop(&mut self) {
        self.writers.clear(); // the writers' channels close: they end, and their sockets
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Answers a WebSocket upgrade, whatever was asked.
fn upgrade(s: &mut TcpStream) {
    let mut head = Vec::new();
    let mut b = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut b).unwrap();
        assert!(n > 0, "a floor subscriber left during its upgrade");
        head.extend_from_slice(&b[..n]);
    }
    s.write_all(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    )
    .unwrap();
}

/// An unmasked (server) text frame.
fn text_frame(payload: &str) -> Vec<u8> {
    let len = payload.len();
    let mut f = vec![0x81];
    match len {
        0..126 => f.push(len as u8),
        126..65536 => {
            f.push(126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    f.extend_from_slice(payload.as_bytes());
    f
}

//! An HTTP/1.1 proxy in front of the real server that answers chosen paths itself (a 503,
//! a 429 with `Retry-After`), black-holes or refuses them (the WebSocket blocked by a
//! firewall), and passes everything else through. It logs each request it sees, with the
//! instant, so a test can measure the engine's waits between attempts.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// What the proxy does with a matching request.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Answers this status itself, with a `Retry-After` header when given.
    Status {
        status: u16,
        retry_after: Option<String>,
    },
    /// Reads the request and never answers (a dead path).
    BlackHole,
    /// Closes the connection at once (a refusing firewall).
    Refuse,
}

/// A fault for requests whose path starts with `path` (method too, when given),
/// `times` times (then it goes), or for as long as it is in place.
#[derive(Debug, Clone)]
pub struct Rule {
    pub method: Option<String>,
    pub path: String,
    pub fault: Fault,
    pub times: Option<u32>,
}

/// One request the proxy saw; `faulted` when a rule took it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub method: String,
    pub path: String,
    pub faulted: bool,
}

struct State {
    target: String,
    rules: Mutex<Vec<Rule>>,
    log: Mutex<Vec<Seen>>,
}

pub struct HttpFaults {
    pub url: String,
    state: Arc<State>,
    accept: JoinHandle<()>,
}

impl Drop for HttpFaults {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

impl HttpFaults {
    pub async fn start(target_url: &str) -> HttpFaults {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let target = target_url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        let state = Arc::new(State {
            target,
            rules: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
        });
        let st = state.clone();
        let accept = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                tokio::spawn(serve(sock, st.clone()));
            }
        });
        HttpFaults { url, state, accept }
    }

    pub fn add(&self, method: Option<&str>, path: &str, fault: Fault, times: Option<u32>) {
        self.state.rules.lock().unwrap().push(Rule {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            fault,
            times,
        });
    }

    /// Removes every rule: all requests pass from now on.
    pub fn clear(&self) {
        self.state.rules.lock().unwrap().clear();
    }

    /// The requests seen so far whose path starts with `path`.
    pub fn seen(&self, path: &str) -> Vec<Seen> {
        let log = self.state.log.lock().unwrap();
        log.iter()
            .filter(|s| s.path.starts_with(path))
            .cloned()
            .collect()
    }
}

/// The rule a request falls under (its use counted), if any.
fn take_rule(state: &State, method: &str, path: &str) -> Option<Fault> {
    let mut rules = state.rules.lock().unwrap();
    let i = rules.iter().position(|r| {
        path.starts_with(&r.path) && r.method.as_deref().is_none_or(|m| m == method)
    })?;
    let fault = rules[i].fault.clone();
    if let Some(n) = &mut rules[i].times {
        *n -= 1;
        if *n == 0 {
            rules.remove(i);
        }
    }
    Some(fault)
}

async fn serve(mut client: TcpStream, state: Arc<State>) {
    // The request head (and whatever of the body came with it).
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        match client.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > 64 * 1024 {
            return;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default();
    let path = target.split('?').next().unwrap_or_default().to_owned();
    let lower = head.to_ascii_lowercase();
    let fault = take_rule(&state, &method, &path);
    state.log.lock().unwrap().push(Seen {
        at: Instant::now(),
        method: method.clone(),
        path,
        faulted: fault.is_some(),
    });
    match fault {
        Some(Fault::Status {
            status,
            retry_after,
        }) => {
            // Read the body first, so the client is not cut while still sending it.
            let length = lower
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            let mut have = buf.len() - head_end;
            while have < length {
                let mut chunk = [0u8; 4096];
                match client.read(&mut chunk).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => have += n,
                }
            }
            let body = format!(
                r#"{{"success":false,"code":"http_{status}","message":"Réponse {status} du proxy de test"}}"#
            );
            let mut resp = format!(
                "HTTP/1.1 {status} Fault\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some(r) = retry_after {
                resp.push_str(&format!("Retry-After: {r}\r\n"));
            }
            resp.push_str("\r\n");
            resp.push_str(&body);
            let _ = client.write_all(resp.as_bytes()).await;
            let _ = client.shutdown().await;
        }
        Some(Fault::BlackHole) => {
            let mut sink = [0u8; 4096];
            while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
        }
        Some(Fault::Refuse) => {}
        None => {
            let Ok(mut server) = TcpStream::connect(&state.target).await else {
                return;
            };
            // One request per connection, so every request passes through the rules.
            let mut out = buf;
            if !lower.contains("\r\nconnection:") {
                let line_end = head.find("\r\n").unwrap_or(0) + 2;
                out.splice(line_end..line_end, b"Connection: close\r\n".iter().copied());
            }
            if server.write_all(&out).await.is_err() {
                return;
            }
            let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
        }
    }
}

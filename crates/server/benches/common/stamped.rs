//! A WebSocket client that says when each frame reached its socket, not when the harness got
//! round to reading it. With a thousand subscribers on two cores the harness is the busiest
//! process of the bench: timed at the read, every server would look as slow as the harness is.
//!
//! The kernel stamps each packet as loopback hands it to the receiving socket
//! (`SO_TIMESTAMPNS`, realtime clock); `recvmsg` returns the stamp of the last packet it read.
//! Only what the benches need is spoken: the HTTP upgrade, unmasked server frames, masked
//! client frames, pongs; no extensions, no fragmented messages.

use std::io::{self, IoSliceMut};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, setsockopt, sockopt};
use nix::sys::time::TimeSpec;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::{TcpSocket, TcpStream};

/// A text frame, when it reached the socket (if the kernel said) and when the harness read it.
pub struct Incoming {
    pub text: String,
    pub at_socket: Option<Instant>,
    pub read_at: Instant,
}

pub struct StampedSocket {
    stream: TcpStream,
    /// Bytes read and not yet parsed are `buf[start..end]`; `buf` is zeroed once, not at
    /// every read (zeroing a read buffer per read was a harness's biggest cost once).
    buf: Vec<u8>,
    start: usize,
    end: usize,
    /// Of the last read: every complete frame in `buf` was completed by it.
    at_socket: Option<Instant>,
    read_at: Instant,
}

const OP_TEXT: u8 = 0x1;
const OP_CLOSE: u8 = 0x8;
const OP_PING: u8 = 0x9;
const OP_PONG: u8 = 0xA;

impl StampedSocket {
    /// Opens `path` on `base` (`http://host:port`), with `Authorization: authorization` if
    /// given; returns once the server answered 101.
    pub async fn connect(base: &str, path: &str, authorization: Option<&str>) -> StampedSocket {
        let host = base.strip_prefix("http://").expect("an http:// address");
        let socket = TcpSocket::new_v4().unwrap();
        // Before connecting: a packet that arrives before the option is set has no stamp.
        setsockopt(&socket, sockopt::ReceiveTimestampns, &true).unwrap();
        let stream = socket.connect(host.parse().unwrap()).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut ws = StampedSocket {
            stream,
            buf: vec![0; 64 * 1024],
            start: 0,
            end: 0,
            at_socket: None,
            read_at: Instant::now(),
        };
        let auth = authorization.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: aXR2LWJlbmNoLWNsaWVudA==\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n"
        );
        ws.stream.write_all(request.as_bytes()).await.unwrap();
        let end = loop {
            if let Some(i) = ws.buf[..ws.end].windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            assert!(ws.fill().await.unwrap() > 0, "closed during the upgrade");
        };
        let head = String::from_utf8_lossy(&ws.buf[..end]).to_string();
        assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
        ws.start = end;
        ws
    }

    /// The next text frame (pings answered on the way); `None` once the server closed.
    pub async fn next_text(&mut self) -> Option<Incoming> {
        loop {
            while let Some((opcode, payload)) = self.parse() {
                match opcode {
                    OP_TEXT => {
                        let text = String::from_utf8(payload).expect("a text frame is UTF-8");
                        return Some(Incoming {
                            text,
                            at_socket: self.at_socket,
                            read_at: self.read_at,
                        });
                    }
                    OP_PING => self.send(OP_PONG, &payload).await.ok()?,
                    OP_CLOSE => return None,
                    _ => {}
                }
            }
            if self.fill().await.ok()? == 0 {
                return None;
            }
        }
    }

    pub async fn send_text(&mut self, text: &str) -> io::Result<()> {
        self.send(OP_TEXT, text.as_bytes()).await
    }

    /// One complete frame from `buf`, if there is one.
    fn parse(&mut self) -> Option<(u8, Vec<u8>)> {
        let b = &self.buf[self.start..self.end];
        if b.len() < 2 {
            return None;
        }
        assert!(b[0] & 0x80 != 0, "fragmented messages are not spoken here");
        assert!(b[1] & 0x80 == 0, "a server frame is never masked");
        let (len, head) = match b[1] & 0x7F {
            126 if b.len() >= 4 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 if b.len() >= 10 => (
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                10,
            ),
            126 | 127 => return None,
            n => (n as usize, 2),
        };
        if b.len() < head + len {
            return None;
        }
        let frame = (b[0] & 0x0F, b[head..head + len].to_vec());
        self.start += head + len;
        Some(frame)
    }

    /// Reads what the socket has (waiting for it), with the kernel's stamp.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        if self.end == self.buf.len() {
            // Full: move the unparsed bytes to the front, or grow for a frame this long.
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.end == self.buf.len() {
                self.buf.resize(self.buf.len() * 2, 0);
            }
        }
        let (n, stamp) = loop {
            self.stream.readable().await?;
            let fd = self.stream.as_raw_fd();
            let read = self.stream.try_io(Interest::READABLE, || {
                let mut cmsg = nix::cmsg_space!(TimeSpec);
                let mut iov = [IoSliceMut::new(&mut self.buf[self.end..])];
                let msg = recvmsg::<()>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())
                    .map_err(io::Error::from)?;
                let stamp = msg.cmsgs().map_err(io::Error::from)?.find_map(|c| match c {
                    ControlMessageOwned::ScmTimestampns(ts) => Some(ts),
                    _ => None,
                });
                Ok((msg.bytes, stamp))
            });
            match read {
                Ok(got) => break got,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                Err(e) => return Err(e),
            }
        };
        self.read_at = Instant::now();
        self.at_socket = stamp.map(instant_of);
        self.end += n;
        Ok(n)
    }

    /// A masked client frame (the mask only has to differ between frames in spirit).
    async fn send(&mut self, opcode: u8, payload: &[u8]) -> io::Result<()> {
        assert!(payload.len() < 126, "the harness only sends short frames");
        let mask = (self.read_at.elapsed().subsec_nanos() | 1).to_be_bytes();
        let mut frame = vec![0x80 | opcode, 0x80 | payload.len() as u8];
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.stream.write_all(&frame).await
    }
}

/// The realtime stamp `ts` as an `Instant`, by its age on the realtime clock read together
/// with the monotonic one. Together means with no more than 20 µs between them: a harness
/// thread preempted between its two reads (two cores, three busy processes) aged the stamp by
/// the whole preemption, and placed events before the POST that created them.
fn instant_of(ts: TimeSpec) -> Instant {
    let stamp = UNIX_EPOCH + Duration::new(ts.tv_sec() as u64, ts.tv_nsec() as u32);
    let (mut now, mut wall) = (Instant::now(), SystemTime::now());
    for _ in 0..100 {
        let after = Instant::now();
        if after - now <= Duration::from_micros(20) {
            break;
        }
        (now, wall) = (after, SystemTime::now());
    }
    let age = wall.duration_since(stamp).unwrap_or(Duration::ZERO);
    now.checked_sub(age).unwrap_or(now)
}

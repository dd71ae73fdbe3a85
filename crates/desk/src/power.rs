//! Wake and network hooks. After a suspend the feed's socket looks alive until a ping goes
//! unanswered (20–60 s), and a network change waits for the dead-connection timer: the OS
//! knows sooner. Going to sleep or losing the network marks the engine offline at once; waking
//! or regaining it reconnects at once (`Inner::network_changed`).
//!
//! Linux listens to logind's `PrepareForSleep` and NetworkManager's `State` on the system bus
//! (`DBUS_SYSTEM_BUS_ADDRESS` when set). Other OSes get the same [`Signal`]s from their power
//! events in a later issue: `os::listen` is the seam.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::engine::Inner;

/// Changes closer together than this are one change: a flapping link reconnects once.
pub(crate) const SETTLE: Duration = Duration::from_millis(300);

/// What the OS said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
// Sent by the OS listeners: off Linux there is none yet (the seam below).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) enum Signal {
    /// `true`: about to sleep; `false`: woke up.
    Sleeping(bool),
    /// NetworkManager's state (`NM_STATE_*`: 70 connected globally, 60 site, 50 local,
    /// 40 connecting, 30 disconnecting, 20 disconnected, 10 asleep, 0 unknown).
    Network(u32),
}

/// What the engine does about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Act {
    Offline,
    Reconnect,
}

/// Local or site connectivity counts: the server may be on the LAN.
const NM_CONNECTED_LOCAL: u32 = 50;

/// The machine's state as heard so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct View {
    sleeping: bool,
    /// 0 until NetworkManager tells (absent: the network is assumed up).
    network: u32,
}

impl View {
    fn online(self) -> bool {
        !self.sleeping && (self.network == 0 || self.network >= NM_CONNECTED_LOCAL)
    }
}

/// Turns signals into acts: the first change acts at once, later ones within `SETTLE` of an
/// act wait for the window's end and act only if the settled state still differs.
#[derive(Debug)]
pub(crate) struct Gate {
    heard: View,
    acted_on: View,
    last_act: Option<Instant>,
    pending: bool,
}

impl Gate {
    pub(crate) fn new() -> Gate {
        let start = View {
            sleeping: false,
            network: 0,
        };
        Gate {
            heard: start,
            acted_on: start,
            last_act: None,
            pending: false,
        }
    }

    /// A signal arrived at `now`; returns what to do now, if anything.
    pub(crate) fn push(&mut self, now: Instant, signal: Signal) -> Option<Act> {
        match signal {
            Signal::Sleeping(s) => self.heard.sleeping = s,
            Signal::Network(n) => self.heard.network = n,
        }
        match self.last_act {
            Some(at) if now < at + SETTLE => {
                self.pending = true;
                None
            }
            _ => self.settle(now),
        }
    }

    /// When `fire` is due, if a change waits.
    pub(crate) fn due(&self) -> Option<Instant> {
        match (self.pending, self.last_act) {
            (true, Some(at)) => Some(at + SETTLE),
            _ => None,
        }
    }

    /// The settle window ended.
    pub(crate) fn fire(&mut self, now: Instant) -> Option<Act> {
        self.pending = false;
        self.settle(now)
    }

    fn settle(&mut self, now: Instant) -> Option<Act> {
        let (was, is) = (self.acted_on, self.heard);
        self.acted_on = is;
        let act = match (was.online(), is.online()) {
            (true, false) => Some(Act::Offline),
            (false, true) => Some(Act::Reconnect),
            // Site → global (or local → site): a better route, maybe another address.
            (true, true) if was.network >= NM_CONNECTED_LOCAL && is.network > was.network => {
                Some(Act::Reconnect)
            }
            _ => None,
        };
        if act.is_some() {
            self.last_act = Some(now);
        }
        act
    }
}

/// Started with the engine: listens to the OS and acts on the engine until dropped.
pub(crate) async fn watch(inner: Arc<Inner>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let acting = async move {
        let mut gate = Gate::new();
        loop {
            let due = gate.due();
            let act = tokio::select! {
                signal = rx.recv() => match signal {
                    Some(s) => {
                        tracing::debug!(?s, "power signal");
                        gate.push(Instant::now(), s)
                    }
                    None => return,
                },
                _ = sleep_until(due), if due.is_some() => gate.fire(Instant::now()),
            };
            if let Some(act) = act {
                tracing::info!(?act, "power or network change");
                inner.network_changed(act == Act::Reconnect);
            }
        }
    };
    tokio::join!(os::listen(tx), acting);
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as os;

/// The seam for Windows (`WM_POWERBROADCAST`, `NotifyAddrChange`) and macOS
/// (`NSWorkspaceDidWakeNotification`, `SCNetworkReachability`), or Tauri's power events once it
/// has them: send [`Signal`]s on `tx`. Until then the feed's own timers notice.
#[cfg(not(target_os = "linux"))]
mod os {
    pub(super) async fn listen(tx: tokio::sync::mpsc::UnboundedSender<super::Signal>) {
        drop(tx);
        tracing::info!("no wake or network hooks on this OS yet: the feed's timers notice");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(start: Instant, n: u64) -> Instant {
        start + Duration::from_millis(n)
    }

    #[test]
    fn sleep_then_wake_acts_at_once() {
        let t = Instant::now();
        let mut g = Gate::new();
        assert_eq!(
            g.push(t, Signal::Network(70)),
            None,
            "first state: a baseline"
        );
        assert_eq!(
            g.push(ms(t, 10), Signal::Sleeping(true)),
            Some(Act::Offline)
        );
        assert_eq!(
            g.push(ms(t, 5_000), Signal::Sleeping(false)),
            Some(Act::Reconnect)
        );
        assert_eq!(g.due(), None);
    }

    #[test]
    fn network_levels() {
        let t = Instant::now();
        let mut g = Gate::new();
        assert_eq!(g.push(t, Signal::Network(20)), Some(Act::Offline));
        assert_eq!(
            g.push(ms(t, 1_000), Signal::Network(40)),
            None,
            "connecting"
        );
        assert_eq!(
            g.push(ms(t, 2_000), Signal::Network(60)),
            Some(Act::Reconnect),
            "site: the server may be on the LAN"
        );
        assert_eq!(
            g.push(ms(t, 3_000), Signal::Network(70)),
            Some(Act::Reconnect),
            "a better route"
        );
        assert_eq!(g.push(ms(t, 4_000), Signal::Network(60)), None);
        assert_eq!(
            g.push(ms(t, 5_000), Signal::Network(10)),
            Some(Act::Offline)
        );
    }

    #[test]
    fn flapping_settles_into_one_act() {
        let t = Instant::now();
        let mut g = Gate::new();
        g.push(t, Signal::Network(70));
        assert_eq!(
            g.push(ms(t, 1_000), Signal::Network(20)),
            Some(Act::Offline)
        );
        for (i, n) in [70, 20, 70, 20, 70].into_iter().enumerate() {
            assert_eq!(
                g.push(ms(t, 1_010 + 40 * i as u64), Signal::Network(n)),
                None
            );
        }
        assert_eq!(g.due(), Some(ms(t, 1_000) + SETTLE));
        assert_eq!(g.fire(ms(t, 1_300)), Some(Act::Reconnect), "settled up");
        assert_eq!(g.due(), None);

        // Down and back up inside one window: nothing to do.
        assert_eq!(g.push(ms(t, 1_400), Signal::Network(20)), None);
        assert_eq!(g.push(ms(t, 1_450), Signal::Network(70)), None);
        assert_eq!(g.fire(ms(t, 1_600)), None);
    }

    #[test]
    fn waking_without_network_waits_for_it() {
        let t = Instant::now();
        let mut g = Gate::new();
        g.push(t, Signal::Network(70));
        assert_eq!(
            g.push(ms(t, 1_000), Signal::Sleeping(true)),
            Some(Act::Offline)
        );
        assert_eq!(g.push(ms(t, 1_100), Signal::Network(10)), None, "NM asleep");
        assert_eq!(g.fire(ms(t, 1_300)), None);
        assert_eq!(g.push(ms(t, 9_000), Signal::Sleeping(false)), None);
        assert_eq!(
            g.push(ms(t, 9_500), Signal::Network(70)),
            Some(Act::Reconnect)
        );
    }
}

//! logind and NetworkManager on the system bus. Match rules name the services by their
//! well-known names, so the bus keeps routing their signals across restarts; only
//! NetworkManager's current state needs asking again when it comes back.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use zbus6 as zbus;
use zbus6::message::Type;
use zbus6::{Connection, MatchRule, Message, MessageStream, OwnedVariant};

use super::Signal;

const BUS: &str = "org.freedesktop.DBus";
const BUS_PATH: &str = "/org/freedesktop/DBus";
const LOGIND: &str = "org.freedesktop.login1";
const LOGIND_PATH: &str = "/org/freedesktop/login1";
const LOGIND_MANAGER: &str = "org.freedesktop.login1.Manager";
const NM: &str = "org.freedesktop.NetworkManager";
const NM_PATH: &str = "/org/freedesktop/NetworkManager";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";

/// A system bus that went away is asked for again this often.
const RETRY: Duration = Duration::from_secs(30);

/// Sends what logind and NetworkManager say on `tx` until the engine goes. Without a system
/// bus at start it logs once and returns: the engine works without it.
pub(super) async fn listen(tx: UnboundedSender<Signal>) {
    let mut ever_connected = false;
    loop {
        let conn = match Connection::system().await {
            Ok(c) => c,
            Err(e) if !ever_connected => {
                tracing::info!(
                    error = %e,
                    "no system bus: sleep, wake and network changes go unheard (the feed's timers notice)"
                );
                return;
            }
            Err(e) => {
                tracing::debug!(error = %e, "system bus still away");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        ever_connected = true;
        match follow(&conn, &tx).await {
            Ok(()) => return,
            Err(e) => {
                tracing::info!(error = %e, "system bus lost; asking again in 30 s");
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Follows one bus connection. `Ok` when the engine is gone, `Err` when the bus is.
async fn follow(conn: &Connection, tx: &UnboundedSender<Signal>) -> zbus::Result<()> {
    // Subscribe first, then read the state: no change falls in between.
    let mut sleep = signals(
        conn,
        LOGIND,
        LOGIND_PATH,
        LOGIND_MANAGER,
        "PrepareForSleep",
        None,
    )
    .await?;
    let mut state = signals(conn, NM, NM_PATH, NM, "StateChanged", None).await?;
    let mut props = signals(conn, NM, NM_PATH, PROPERTIES, "PropertiesChanged", Some(NM)).await?;
    let mut owners = signals(conn, BUS, BUS_PATH, BUS, "NameOwnerChanged", Some(NM)).await?;
    if !has_owner(conn, LOGIND).await {
        tracing::info!("logind is not on the system bus: sleep and wake go unheard until it is");
    }
    match nm_state(conn).await {
        Some(s) => {
            if tx.send(Signal::Network(s)).is_err() {
                return Ok(());
            }
        }
        None => tracing::info!(
            "NetworkManager is not on the system bus: network changes go unheard until it is"
        ),
    }
    loop {
        let signal = tokio::select! {
            m = sleep.next() => body::<bool>(m)?.map(Signal::Sleeping),
            m = state.next() => body::<u32>(m)?.map(Signal::Network),
            m = props.next() => {
                body::<(String, HashMap<String, OwnedVariant>, Vec<String>)>(m)?
                    .and_then(|(_, changed, _)| changed.get("State").and_then(|v| u32::try_from(v).ok()))
                    .map(Signal::Network)
            }
            m = owners.next() => match body::<(String, String, String)>(m)? {
                Some((_, _, new)) if !new.is_empty() => {
                    tracing::info!("NetworkManager (re)joined the system bus");
                    nm_state(conn).await.map(Signal::Network)
                }
                Some(_) => {
                    tracing::info!("NetworkManager left the system bus: the last state stands");
                    None
                }
                None => None,
            },
        };
        if let Some(s) = signal
            && tx.send(s).is_err()
        {
            return Ok(());
        }
    }
}

/// A stream of one signal from `sender` (a well-known name: the bus tracks its owner).
async fn signals(
    conn: &Connection,
    sender: &'static str,
    path: &'static str,
    interface: &'static str,
    member: &'static str,
    arg0: Option<&'static str>,
) -> zbus::Result<MessageStream> {
    let mut rule = MatchRule::builder()
        .msg_type(Type::Signal)
        .sender(sender)
        .path(path)
        .interface(interface)
        .member(member);
    if let Some(a) = arg0 {
        rule = rule.arg(0, a);
    }
    MessageStream::for_match_rule(rule.build()?, conn, None).await
}

/// The body of a signal; `Err` when the stream ended (the bus went away), `None` for a
/// body that does not read (logged, skipped).
fn body<T>(m: Option<zbus::Result<Message>>) -> zbus::Result<Option<T>>
where
    T: for<'de> serde::Deserialize<'de> + zbus::Type,
{
    let m = match m {
        None => return Err(zbus::Error::Failure("signal stream ended".into())),
        Some(m) => m?,
    };
    match m.body().deserialize::<T>() {
        Ok(v) => Ok(Some(v)),
        Err(e) => {
            tracing::debug!(error = %e, "unreadable signal skipped");
            Ok(None)
        }
    }
}

async fn has_owner(conn: &Connection, name: &str) -> bool {
    let reply = conn
        .call_method(Some(BUS), BUS_PATH, Some(BUS), "NameHasOwner", &name)
        .await;
    reply.is_ok_and(|m| m.body().deserialize::<bool>().unwrap_or(false))
}

/// NetworkManager's `State` property, `None` when it is not there.
async fn nm_state(conn: &Connection) -> Option<u32> {
    let reply = conn
        .call_method(Some(NM), NM_PATH, Some(PROPERTIES), "Get", &(NM, "State"))
        .await
        .ok()?;
    let value = reply.body().deserialize::<OwnedVariant>().ok()?;
    u32::try_from(&value).ok()
}

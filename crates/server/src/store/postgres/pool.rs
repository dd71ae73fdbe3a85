//! A small pool of blocking PostgreSQL connections: at most `max` open, idle ones
//! reused, broken ones dropped (a restarted database costs one failed call per
//! connection, not a restarted server).

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use postgres::{Client, NoTls};

use crate::store::StoreError;

/// How long a caller waits for a connection when all `max` are busy.
const WAIT: Duration = Duration::from_secs(10);

pub struct Pool {
    config: postgres::Config,
    max: usize,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    idle: Vec<Client>,
    open: usize,
}

impl Pool {
    pub fn new(config: postgres::Config, max: usize) -> Pool {
        Pool {
            config,
            max: max.max(1),
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// A new connection outside the pool (the listener's).
    pub fn connect(&self) -> Result<Client, StoreError> {
        Ok(self.config.connect(NoTls)?)
    }

    pub fn get(&self) -> Result<Pooled<'_>, StoreError> {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some(client) = state.idle.pop() {
                if client.is_closed() {
                    state.open -= 1;
                    continue;
                }
                return Ok(Pooled {
                    pool: self,
                    client: Some(client),
                    in_transaction: false,
                });
            }
            if state.open < self.max {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        client: Some(client),
                        in_transaction: false,
                    }),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            let (next, timeout) = self
                .freed
                .wait_timeout(state, WAIT)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= self.max {
                return Err(StoreError::Unavailable(format!(
                    "no database connection free after {} s ({} open)",
                    WAIT.as_secs(),
                    self.max
                )));
            }
        }
    }

    /// Closes `client`, found dead, and the idle connections: the others opened before it
    /// most likely are dead too (a restart, a failover).
    pub fn lost(&self, client: Pooled<'_>) {
        client.discard();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let dropped = state.idle.len();
        state.idle.clear();
        state.open -= dropped;
        self.freed.notify_all();
    }

    fn forget(&self) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.open -= 1;
        self.freed.notify_one();
    }

    fn give_back(&self, client: Client) {
        if client.is_closed() {
            return self.forget();
        }
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.idle.push(client);
        self.freed.notify_one();
    }
}

/// A connection on loan; it goes back to the pool when dropped, unless a transaction
/// is still open on it (a panic in the middle of a write): that one is closed instead.
pub struct Pooled<'a> {
    pool: &'a Pool,
    client: Option<Client>,
    pub in_transaction: bool,
}

impl Pooled<'_> {
    /// Closes the connection rather than giving it back: it failed in a way that says
    /// it is gone (the client only learns that when it next reads from it).
    fn discard(mut self) {
        if self.client.take().is_some() {
            self.pool.forget();
        }
    }
}

impl Deref for Pooled<'_> {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client
            .as_ref()
            .expect("a pooled connection until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        self.client
            .as_mut()
            .expect("a pooled connection until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        match self.client.take() {
            Some(_) if self.in_transaction => self.pool.forget(),
            Some(client) => self.pool.give_back(client),
            None => {}
        }
    }
}

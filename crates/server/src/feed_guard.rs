//! Limits on feed sockets that have not signed in yet: a few per address, each
//! counted until it authenticates or closes.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

#[derive(Debug, Default)]
pub struct PendingSockets {
    per_address: Mutex<HashMap<IpAddr, usize>>,
}

/// One unauthenticated socket; dropping it frees its place.
#[derive(Debug)]
pub struct PendingSlot {
    owner: Arc<PendingSockets>,
    address: IpAddr,
}

impl PendingSockets {
    /// A place for one more socket from `address`, or `None` past `limit`.
    pub fn take(self: &Arc<Self>, address: IpAddr, limit: usize) -> Option<PendingSlot> {
        let mut map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(address).or_insert(0);
        if *n >= limit {
            return None;
        }
        *n += 1;
        Some(PendingSlot {
            owner: self.clone(),
            address,
        })
    }

    pub fn count(&self, address: IpAddr) -> usize {
        let map = self.per_address.lock().unwrap_or_else(|p| p.into_inner());
        map.get(&address).copied().unwrap_or(0)
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        let mut map = self
            .owner
            .per_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(n) = map.get_mut(&self.address) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_freed_on_drop() {
        let pending = Arc::new(PendingSockets::default());
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        let first = pending.take(a, 2).unwrap();
        let _second = pending.take(a, 2).unwrap();
        assert!(pending.take(a, 2).is_none());
        assert!(pending.take(b, 2).is_some());
        drop(first);
        assert!(pending.take(a, 2).is_some());
    }
}

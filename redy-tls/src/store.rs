//! The client resumption store of a scope: rustls' memory cache, plus a count of the TLS 1.3
//! tickets it holds per server name.
//!
//! rustls uses each TLS 1.3 ticket once. A protocol whose every connection must resume (FTPS
//! data connections) needs to know when the tickets are spent, *before* it opens a connection
//! the server will refuse: [`ClientConfig::tls13_tickets`](crate::ClientConfig::tls13_tickets).

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use rustls::NamedGroup;
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Tls12ClientSessionValue, Tls13ClientSessionValue,
};
use rustls::pki_types::ServerName;

/// TLS 1.3 tickets rustls' memory cache keeps per server name (its `MAX_TLS13_TICKETS_PER_SERVER`;
/// it drops the oldest beyond that).
const TICKETS_PER_SERVER: usize = 8;

/// rustls' [`ClientSessionMemoryCache`] that counts the TLS 1.3 tickets it holds.
#[derive(Debug)]
pub(crate) struct CountingStore {
    inner: ClientSessionMemoryCache,
    /// Tickets held per server name; at most `capacity` names (as the cache).
    tickets: Mutex<HashMap<ServerName<'static>, usize>>,
    capacity: usize,
}

impl CountingStore {
    /// A store for up to `capacity` server names.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            inner: ClientSessionMemoryCache::new(capacity),
            tickets: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The TLS 1.3 tickets held for `server_name`, each good for one resumption.
    pub(crate) fn tls13_tickets(&self, server_name: &ServerName<'_>) -> usize {
        let tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        tickets.get(server_name).copied().unwrap_or(0)
    }
}

impl ClientSessionStore for CountingStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.inner.set_kx_hint(server_name, group);
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.inner.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        self.inner.set_tls12_session(server_name, value);
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.inner.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.inner.remove_tls12_session(server_name);
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        let mut tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        if !tickets.contains_key(&server_name) && tickets.len() >= self.capacity {
            // The cache forgets names beyond its capacity too; an undercount only costs a
            // reconnection, never a refused handshake.
            tickets.clear();
        }
        let count = tickets.entry(server_name.clone()).or_insert(0);
        *count = (*count + 1).min(TICKETS_PER_SERVER);
        self.inner.insert_tls13_ticket(server_name, value);
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        let ticket = self.inner.take_tls13_ticket(server_name);
        let mut tickets = self.tickets.lock().unwrap_or_else(PoisonError::into_inner);
        match (&ticket, tickets.get_mut(server_name)) {
            (Some(_), Some(count)) => *count = count.saturating_sub(1),
            // The cache had none (or expired ones it dropped): so do we.
            (None, Some(count)) => *count = 0,
            _ => {}
        }
        ticket
    }
}

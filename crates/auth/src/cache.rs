//! The kid → key map behind a verifier, including the kids known to be unknown.

use std::collections::HashMap;

use crate::keys::PublicKey;

enum Slot {
    Key(PublicKey),
    /// A kid that was looked up at the provider and not found. It is never fetched for again,
    /// so a flood of tokens with made-up kids cannot turn into a flood of JWKS requests.
    Unknown,
}

/// What the cache knows about one kid.
pub(crate) enum Lookup {
    Found(PublicKey),
    Unknown,
    Absent,
}

#[derive(Default)]
pub(crate) struct KeyCache {
    slots: HashMap<String, Slot>,
}

impl KeyCache {
    pub(crate) fn with_keys(keys: Vec<(String, PublicKey)>) -> KeyCache {
        let mut cache = KeyCache::default();
        cache.replace_keys(keys);
        cache
    }

    pub(crate) fn lookup(&self, kid: &str) -> Lookup {
        match self.slots.get(kid) {
            Some(Slot::Key(key)) => Lookup::Found(key.clone()),
            Some(Slot::Unknown) => Lookup::Unknown,
            None => Lookup::Absent,
        }
    }

    /// Installs a freshly fetched key set. Unknown-kid entries survive, except for a kid the
    /// provider now publishes: a real key always wins over a remembered miss.
    pub(crate) fn replace_keys(&mut self, keys: Vec<(String, PublicKey)>) {
        self.drop_keys();
        for (kid, key) in keys {
            self.slots.insert(kid, Slot::Key(key));
        }
    }

    /// Forgets every real key, keeping the unknown-kid entries; used when the cache goes stale.
    pub(crate) fn drop_keys(&mut self) {
        self.slots.retain(|_, slot| matches!(slot, Slot::Unknown));
    }

    pub(crate) fn mark_unknown(&mut self, kid: &str) {
        self.slots.insert(kid.to_owned(), Slot::Unknown);
    }
}

//! Each collection's checklists and counters as last loaded, kept between metrics reads.
//!
//! Loading a large collection costs the database far more than folding it (40,000 checklists of
//! 35 counters each). Every write transaction moves `metrics_seq` at commit and stamps the
//! checklists it recounted (migration 0900, [`super::counters`]), so a reader compares the
//! numbers of its snapshot with those of its kept copy: equal, the copy is current; only `n`
//! moved, it refetches the checklists stamped since; `structure_n` moved (assets, labels,
//! assignments, pins, revisions or names changed), it loads the collection again. The numbers
//! live in the database, so servers sharing one PostgreSQL database stay exact too.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use super::{CollectionCounts, RevisionInfo};

/// `metrics_seq` as one read snapshot saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Seq {
    pub n: i64,
    pub structure_n: i64,
}

/// What the cache holds for a collection at a snapshot's numbers.
pub(crate) enum Kept {
    Current(Arc<CollectionCounts>),
    /// Current but for the checklists recounted after `n`.
    Behind {
        n: i64,
        counts: Arc<CollectionCounts>,
    },
    Missing,
}

struct Entry {
    seq: Seq,
    counts: Arc<CollectionCounts>,
    /// When it was last read or kept, by the cache's own clock.
    used: u64,
}

struct State {
    /// The library's revisions, at a `structure_n`.
    revisions: Option<(i64, Arc<HashMap<String, RevisionInfo>>)>,
    collections: HashMap<i64, Entry>,
    /// Checklists kept, over all collections, before the least recently read are dropped.
    limit: usize,
    clock: u64,
}

/// Checklists kept by default: about 1 KB each, 3 KB once both unaggregated rows are written.
pub const DEFAULT_LIMIT: usize = 100_000;

impl Default for State {
    fn default() -> State {
        State { revisions: None, collections: HashMap::new(), limit: DEFAULT_LIMIT, clock: 0 }
    }
}

impl State {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Drops the least recently read collections, other than `keep`, until the kept checklists
    /// fit the limit. The one just read stays even when it alone is larger: reading it again
    /// would load it all again.
    fn evict(&mut self, keep: i64) {
        let mut kept: usize = self.collections.values().map(|e| e.counts.checklists.len()).sum();
        while kept > self.limit {
            let oldest = self
                .collections
                .iter()
                .filter(|(id, _)| **id != keep)
                .min_by_key(|(_, entry)| entry.used)
                .map(|(id, _)| *id);
            let Some(oldest) = oldest else { break };
            if let Some(entry) = self.collections.remove(&oldest) {
                kept -= entry.counts.checklists.len();
            }
        }
    }
}

/// Each collection's checklists as last loaded, up to a number of checklists over all of them
/// (`STIGWARD_METRICS_CACHE_CHECKLISTS`); past it, the least recently read collections are
/// dropped and loaded again when next read.
#[derive(Default)]
pub(crate) struct MetricsCache {
    state: Mutex<State>,
}

impl MetricsCache {
    /// A reader that panicked left nothing half-written (entries are replaced whole).
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn revisions(&self, seq: Seq) -> Option<Arc<HashMap<String, RevisionInfo>>> {
        match &self.state().revisions {
            Some((structure_n, revisions)) if *structure_n == seq.structure_n => {
                Some(revisions.clone())
            }
            _ => None,
        }
    }

    pub fn keep_revisions(&self, seq: Seq, revisions: Arc<HashMap<String, RevisionInfo>>) {
        let mut state = self.state();
        if state.revisions.as_ref().is_none_or(|(kept, _)| *kept <= seq.structure_n) {
            state.revisions = Some((seq.structure_n, revisions));
        }
    }

    /// At most this many checklists are kept over all collections.
    pub fn set_limit(&self, checklists: usize) {
        self.state().limit = checklists;
    }

    pub fn collection(&self, collection_id: i64, seq: Seq) -> Kept {
        let mut state = self.state();
        let now = state.tick();
        match state.collections.get_mut(&collection_id) {
            Some(entry) if entry.seq == seq => {
                entry.used = now;
                Kept::Current(entry.counts.clone())
            }
            Some(entry) if entry.seq.structure_n == seq.structure_n && entry.seq.n < seq.n => {
                Kept::Behind { n: entry.seq.n, counts: entry.counts.clone() }
            }
            _ => Kept::Missing,
        }
    }

    /// Keeps a collection as loaded at `seq`, unless a newer copy is kept already; copies of
    /// an older listing can never be current again and are dropped.
    pub fn keep(&self, collection_id: i64, seq: Seq, counts: Arc<CollectionCounts>) {
        let mut state = self.state();
        state.collections.retain(|_, entry| entry.seq.structure_n >= seq.structure_n);
        let newer = state.collections.get(&collection_id).is_some_and(|e| e.seq.n > seq.n);
        if !newer {
            let used = state.tick();
            state.collections.insert(collection_id, Entry { seq, counts, used });
        }
        state.evict(collection_id);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::metrics::{Checklist, Counts};

    const SEQ: Seq = Seq { n: 1, structure_n: 1 };

    fn collection(id: i64, size: usize) -> Arc<CollectionCounts> {
        let checklists = (0..size)
            .map(|i| Checklist {
                collection_id: id,
                asset_id: i as i64,
                benchmark_id: format!("B{i}"),
                rev_id: String::new(),
                pinned: false,
                counts: Counts::default(),
                rendered: Default::default(),
            })
            .collect();
        Arc::new(CollectionCounts::new(format!("C{id}"), BTreeMap::new(), checklists))
    }

    fn kept(cache: &MetricsCache, id: i64) -> bool {
        matches!(cache.collection(id, SEQ), Kept::Current(_))
    }

    #[test]
    fn the_least_recently_read_collections_go_first_past_the_limit() {
        let cache = MetricsCache::default();
        cache.set_limit(10);
        cache.keep(1, SEQ, collection(1, 4));
        cache.keep(2, SEQ, collection(2, 4));
        // reading 1 makes 2 the least recently read
        assert!(kept(&cache, 1));
        cache.keep(3, SEQ, collection(3, 4));
        assert!(!kept(&cache, 2));
        assert!(kept(&cache, 1) && kept(&cache, 3));
        // one collection larger than the limit is still kept, alone
        cache.keep(4, SEQ, collection(4, 20));
        assert!(kept(&cache, 4));
        assert!(!kept(&cache, 1) && !kept(&cache, 3));
    }

    #[test]
    fn collections_within_the_limit_are_all_kept() {
        let cache = MetricsCache::default();
        for id in 1..=5 {
            cache.keep(id, SEQ, collection(id, 1_000));
        }
        assert!((1..=5).all(|id| kept(&cache, id)));
    }
}

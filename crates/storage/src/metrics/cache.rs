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
}

#[derive(Default)]
struct State {
    /// The library's revisions, at a `structure_n`.
    revisions: Option<(i64, Arc<HashMap<String, RevisionInfo>>)>,
    collections: HashMap<i64, Entry>,
}

// Known shortcoming: copies are dropped only when the listing changes (and then all of them),
// never for memory: the cache grows with the collections read, about 1 KB per checklist plus
// 2 KB once both unaggregated rows are written. There is no bound or least-recently-used
// eviction yet.
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

    pub fn collection(&self, collection_id: i64, seq: Seq) -> Kept {
        match self.state().collections.get(&collection_id) {
            Some(entry) if entry.seq == seq => Kept::Current(entry.counts.clone()),
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
            state.collections.insert(collection_id, Entry { seq, counts });
        }
    }
}

//! The background task that keeps the key cache fresh and reports whether the provider is.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::{sleep_until, Instant};

use crate::verifier::{Inner, Verifier};

const MIN_PAUSE: Duration = Duration::from_millis(100);

/// How often the key set is refreshed and when it goes stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefreshTiming {
    /// Refreshes happen every half of this; with no success for all of it, keys are dropped.
    pub max_age: Duration,
    /// The pause before retrying a failed refresh.
    pub retry_interval: Duration,
}

impl RefreshTiming {
    /// Upstream's pause between failed refreshes.
    pub const FAILED_REFRESH_RETRY: Duration = Duration::from_secs(10);

    /// The schedule for a cache with this max age.
    pub fn for_max_age(max_age: Duration) -> RefreshTiming {
        RefreshTiming { max_age, retry_interval: RefreshTiming::FAILED_REFRESH_RETRY }
    }
}

impl Verifier {
    /// Starts the periodic refresh (every max age / 2, every 10 s after a failure; stale after
    /// a whole max age without success) on the current tokio runtime, and returns a receiver
    /// that reads `true` while the OIDC provider is healthy. Only the first call starts a
    /// task; a verifier over a fixed key set starts none and always reads `true`.
    pub fn spawn_refresh(&self) -> watch::Receiver<bool> {
        let max_age = self.inner.provider.as_ref().map(|provider| provider.cache_max_age);
        self.spawn_refresh_with(RefreshTiming::for_max_age(max_age.unwrap_or_default()))
    }

    /// [`Verifier::spawn_refresh`] on a schedule of the caller's choosing.
    pub fn spawn_refresh_with(&self, timing: RefreshTiming) -> watch::Receiver<bool> {
        let first = !self.inner.refresh_started.swap(true, Ordering::SeqCst);
        if first && self.inner.provider.is_some() {
            tokio::spawn(run(Arc::downgrade(&self.inner), timing));
        }
        self.inner.health()
    }
}

/// Runs until every clone of the verifier is gone.
async fn run(inner: Weak<Inner>, timing: RefreshTiming) {
    let Some(mut next_attempt) = inner.upgrade().map(|i| i.last_success() + timing.max_age / 2)
    else {
        return;
    };
    while let Some(wake) = inner.upgrade().map(|i| next_wake(&i, next_attempt, timing)) {
        sleep_until(wake).await;
        let Some(inner) = inner.upgrade() else {
            return;
        };

        if Instant::now() >= inner.last_success() + timing.max_age {
            inner.go_stale();
        }
        if Instant::now() >= next_attempt {
            next_attempt = Instant::now() + attempt(&inner, timing).await;
        }
    }
}

/// The next scheduled refresh, or the moment the cache goes stale if that comes first.
fn next_wake(inner: &Inner, next_attempt: Instant, timing: RefreshTiming) -> Instant {
    if inner.is_healthy() {
        next_attempt.min(inner.last_success() + timing.max_age)
    } else {
        next_attempt
    }
}

/// One scheduled refresh; returns the delay before the next one. The floor keeps a zero
/// max age or retry interval from turning into a request loop against the provider.
async fn attempt(inner: &Inner, timing: RefreshTiming) -> Duration {
    let pause = match inner.refresh().await {
        Ok(()) => timing.max_age / 2,
        Err(error) => {
            tracing::warn!(error = %error, "scheduled JWKS refresh failed");
            timing.retry_interval
        }
    };
    pause.max(MIN_PAUSE)
}

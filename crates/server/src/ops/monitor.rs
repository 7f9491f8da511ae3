//! Background watchers that keep the state machine's dependency flags true to life: the
//! database (a cheap query on an interval) and the OIDC provider (the verifier's health).

use std::time::Duration;

use stigward_auth::Verifier;
use stigward_storage::Store;
use tokio::sync::watch;

use super::state::{ApiStatus, Dependency, Phase, StateReport};

/// How long a database probe may take before the database counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts both watchers; they end when the state machine reaches `stop` or `fail`.
pub fn spawn(status: &ApiStatus, store: Store, verifier: &Verifier, probe_every: Duration) {
    tokio::spawn(watch_database(status.clone(), store, probe_every));
    tokio::spawn(watch_oidc(status.clone(), verifier.spawn_refresh()));
}

async fn watch_database(status: ApiStatus, store: Store, every: Duration) {
    let mut state = status.watch();
    loop {
        let up = matches!(tokio::time::timeout(PROBE_TIMEOUT, store.ping()).await, Ok(Ok(())));
        status.set_dependency(Dependency::Db, up);
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = finished(&mut state) => return,
        }
    }
}

async fn watch_oidc(status: ApiStatus, mut health: watch::Receiver<bool>) {
    let mut state = status.watch();
    loop {
        let up = *health.borrow_and_update();
        status.set_dependency(Dependency::Oidc, up);
        tokio::select! {
            changed = health.changed() => if changed.is_err() { return },
            _ = finished(&mut state) => return,
        }
    }
}

/// Completes once the machine is in a final phase.
async fn finished(state: &mut watch::Receiver<StateReport>) {
    let done = |r: &StateReport| matches!(r.current_state, Phase::Stop | Phase::Fail);
    // an Err means the machine itself is gone, which is as final as it gets
    let _ = state.wait_for(done).await;
}

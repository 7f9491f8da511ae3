//! The API state machine (`starting`, `available`, `unavailable`, `stop`) driven by the `db` and
//! `oidc` dependency flags, the events that Server-Sent Events clients follow, and the gate that
//! answers 503 under `/api` while the state is not `available`.

use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use tokio::sync::{broadcast, watch};

use crate::state::AppState;

/// Events kept for a client that reads slowly; one that falls further behind gets a fresh
/// `state-report` instead of the events it missed.
const EVENT_BACKLOG: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    Starting,
    Available,
    Unavailable,
    Fail,
    Stop,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependency {
    Db,
    Oidc,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dependencies {
    pub db: bool,
    pub oidc: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UiEndpoint {
    pub current: String,
    pub next: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Endpoints {
    pub ui: UiEndpoint,
}

/// The state object: `GET /op/state`, the data of every SSE event, and the 503 body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateReport {
    pub current_state: Phase,
    pub since: String,
    pub dependencies: Dependencies,
    pub endpoints: Endpoints,
}

/// A change SSE clients are told about: `dependency-changed` or `state-changed`.
#[derive(Debug, Clone)]
pub struct StateEvent {
    pub name: &'static str,
    pub report: StateReport,
}

/// The shared state machine; cheap to clone.
#[derive(Clone)]
pub struct ApiStatus {
    inner: Arc<Inner>,
}

struct Inner {
    /// Serialises changes so events go out in the order the changes were made.
    change: Mutex<()>,
    current: watch::Sender<StateReport>,
    events: broadcast::Sender<StateEvent>,
}

fn timestamp() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

impl Default for ApiStatus {
    fn default() -> Self {
        Self::new()
    }
}

impl ApiStatus {
    /// A machine in `starting` with both dependencies down.
    pub fn new() -> ApiStatus {
        let report = StateReport {
            current_state: Phase::Starting,
            since: timestamp(),
            dependencies: Dependencies { db: false, oidc: false },
            endpoints: Endpoints { ui: UiEndpoint { current: "/".into(), next: String::new() } },
        };
        let (events, _) = broadcast::channel(EVENT_BACKLOG);
        ApiStatus {
            inner: Arc::new(Inner {
                change: Mutex::new(()),
                current: watch::channel(report).0,
                events,
            }),
        }
    }

    pub fn report(&self) -> StateReport {
        self.inner.current.borrow().clone()
    }

    pub fn is_available(&self) -> bool {
        self.inner.current.borrow().current_state == Phase::Available
    }

    /// The current report and a receiver of every later event, taken together so no event
    /// falls between them.
    pub fn subscribe(&self) -> (StateReport, broadcast::Receiver<StateEvent>) {
        let _turn = self.turn();
        (self.report(), self.inner.events.subscribe())
    }

    /// A receiver that sees each new report; used to wait for a phase.
    pub fn watch(&self) -> watch::Receiver<StateReport> {
        self.inner.current.subscribe()
    }

    /// Records a dependency's health and derives the state from it.
    pub fn set_dependency(&self, dependency: Dependency, up: bool) {
        let _turn = self.turn();
        let mut report = self.report();
        let flag = match dependency {
            Dependency::Db => &mut report.dependencies.db,
            Dependency::Oidc => &mut report.dependencies.oidc,
        };
        if *flag == up || matches!(report.current_state, Phase::Stop | Phase::Fail) {
            return;
        }
        *flag = up;
        self.publish("dependency-changed", report.clone());
        let next = match (report.dependencies, report.current_state) {
            (Dependencies { db: true, oidc: true }, _) => Phase::Available,
            (_, Phase::Starting) => Phase::Starting,
            _ => Phase::Unavailable,
        };
        self.enter(report, next);
    }

    /// Enters `stop` (shutdown) or `fail`; SSE streams end after telling their clients.
    pub fn finish(&self, phase: Phase) {
        let _turn = self.turn();
        self.enter(self.report(), phase);
    }

    fn enter(&self, mut report: StateReport, phase: Phase) {
        if report.current_state != phase {
            report.current_state = phase;
            report.since = timestamp();
            self.publish("state-changed", report);
        }
    }

    fn publish(&self, name: &'static str, report: StateReport) {
        self.inner.current.send_replace(report.clone());
        // no subscribers is not an error: nobody is listening right now
        let _ = self.inner.events.send(StateEvent { name, report });
    }

    fn turn(&self) -> std::sync::MutexGuard<'_, ()> {
        // a poisoned lock guards no data of its own, so the turn is still usable
        self.inner.change.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Middleware for `/api`: while the state is not `available`, everything except
/// `/api/op/state*` is answered 503 with the state object (before any token is looked at).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if state.status.is_available() || req.uri().path().starts_with("/op/state") {
        return next.run(req).await;
    }
    (StatusCode::SERVICE_UNAVAILABLE, Json(state.status.report())).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dependencies_drive_the_state() {
        let status = ApiStatus::new();
        let (_, mut events) = status.subscribe();
        status.set_dependency(Dependency::Db, true);
        assert_eq!(status.report().current_state, Phase::Starting);
        status.set_dependency(Dependency::Oidc, true);
        assert!(status.is_available());
        status.set_dependency(Dependency::Db, false);
        assert_eq!(status.report().current_state, Phase::Unavailable);
        status.set_dependency(Dependency::Db, false);

        let names: Vec<_> = std::iter::from_fn(|| events.try_recv().ok())
            .map(|e| (e.name, e.report.current_state))
            .collect();
        assert_eq!(
            names,
            vec![
                ("dependency-changed", Phase::Starting),
                ("dependency-changed", Phase::Starting),
                ("state-changed", Phase::Available),
                ("dependency-changed", Phase::Available),
                ("state-changed", Phase::Unavailable),
            ]
        );
    }

    #[test]
    fn stop_is_final() {
        let status = ApiStatus::new();
        status.finish(Phase::Stop);
        status.set_dependency(Dependency::Db, true);
        assert_eq!(status.report().current_state, Phase::Stop);
        assert!(!status.report().dependencies.db);
    }
}

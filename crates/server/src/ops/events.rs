//! The Server-Sent Events stream of `GET /op/state/sse`: a `state-report` at once, every change
//! as it happens, and a `state-report` as the keep-alive. Each client reads its own broadcast
//! receiver, so a slow client only ever delays itself.

use std::convert::Infallible;
use std::time::Duration;

use axum::response::sse::Event;
use futures::Stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

use super::state::{ApiStatus, Phase, StateEvent, StateReport};

struct Cursor {
    status: ApiStatus,
    first: Option<StateReport>,
    events: broadcast::Receiver<StateEvent>,
    keepalive: Interval,
    ended: bool,
}

/// The event stream of one client. It ends after reporting `stop` or `fail`, so a graceful
/// shutdown is not held up by open streams.
pub fn state_events(
    status: ApiStatus,
    keepalive: Duration,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let (first, events) = status.subscribe();
    let mut keepalive = interval_at(Instant::now() + keepalive, keepalive);
    keepalive.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let ended = is_final(&first);
    let cursor = Cursor { status, first: Some(first), events, keepalive, ended };
    futures::stream::unfold(cursor, |mut cursor| async move {
        if let Some(first) = cursor.first.take() {
            return Some((Ok(event("state-report", &first)), cursor));
        }
        if cursor.ended {
            return None;
        }
        let next = next_event(&mut cursor).await?;
        Some((Ok(next), cursor))
    })
}

async fn next_event(cursor: &mut Cursor) -> Option<Event> {
    tokio::select! {
        received = cursor.events.recv() => match received {
            Ok(change) => {
                cursor.ended = is_final(&change.report);
                Some(event(change.name, &change.report))
            }
            // fell behind: what it missed is summed up by the current state
            Err(RecvError::Lagged(_)) => {
                let report = cursor.status.report();
                cursor.ended = is_final(&report);
                Some(event("state-report", &report))
            }
            Err(RecvError::Closed) => None,
        },
        _ = cursor.keepalive.tick() => Some(event("state-report", &cursor.status.report())),
    }
}

fn is_final(report: &StateReport) -> bool {
    matches!(report.current_state, Phase::Stop | Phase::Fail)
}

fn event(name: &str, report: &StateReport) -> Event {
    let data = serde_json::to_string(report).unwrap_or_default();
    Event::default().event(name).data(data)
}

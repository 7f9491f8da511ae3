//! Request statistics for `GET /op/appinfo`: totals over every request, and per operation the
//! count, durations, sizes, elevated calls, projections, callers and error statuses. The
//! operations are known at start-up (from the OpenAPI document), so the table of them never
//! changes and a request locks only its own operation's entry, briefly.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::body::HttpBody;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_LENGTH;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;
use stigward_wire::appinfo::{AppInfoOperation, AppInfoRequests};

use crate::auth::Authenticated;
use crate::state::AppState;

/// Every request's totals, and an entry per operation of the API.
#[derive(Debug, Default)]
pub struct RequestStats {
    total_requests: AtomicI64,
    total_api_requests: AtomicI64,
    total_duration: AtomicI64,
    /// "METHOD /path/{param}" (the route as the definition names it) → operation.
    operations: HashMap<String, Operation>,
}

#[derive(Debug)]
struct Operation {
    id: String,
    stats: Mutex<AppInfoOperation>,
}

/// What the route layer learns about a request for the outer layer, which times it.
#[derive(Debug, Clone)]
struct Tagged {
    route: String,
    user_id: Option<i64>,
    client: Option<String>,
    elevate: bool,
    projections: Vec<String>,
    request_length: i64,
}

impl RequestStats {
    /// An entry for each operation of the definition's `paths`.
    pub fn for_definition(definition: &Value) -> RequestStats {
        let mut operations = HashMap::new();
        let paths = definition["paths"].as_object().into_iter().flatten();
        for (path, methods) in paths {
            for (method, operation) in methods.as_object().into_iter().flatten() {
                let Some(id) = operation["operationId"].as_str() else { continue };
                let route = format!("{} {path}", method.to_ascii_uppercase());
                let entry = Operation { id: id.to_string(), stats: Mutex::default() };
                operations.insert(route, entry);
            }
        }
        RequestStats { operations, ..Default::default() }
    }

    fn record(&self, api: bool, tag: Option<&Tagged>, status: u16, ms: i64, length: i64) {
        self.total_requests.fetch_add(1, Ordering::Relaxed);
        self.total_duration.fetch_add(ms, Ordering::Relaxed);
        if api {
            self.total_api_requests.fetch_add(1, Ordering::Relaxed);
        }
        let Some(tag) = tag else { return };
        let Some(operation) = self.operations.get(&tag.route) else { return };
        // a panic elsewhere while holding the entry leaves numbers that are still usable
        let mut stats = operation.stats.lock().unwrap_or_else(|e| e.into_inner());
        add(&mut stats, tag, status, ms, length);
    }

    /// The figures so far; operations not yet called are left out.
    pub fn snapshot(&self) -> AppInfoRequests {
        let mut operation_ids = BTreeMap::new();
        for operation in self.operations.values() {
            let stats = operation.stats.lock().unwrap_or_else(|e| e.into_inner()).clone();
            if stats.total_requests > 0 {
                operation_ids.insert(operation.id.clone(), stats);
            }
        }
        AppInfoRequests {
            total_requests: self.total_requests.load(Ordering::Relaxed),
            total_api_requests: self.total_api_requests.load(Ordering::Relaxed),
            total_request_duration: self.total_duration.load(Ordering::Relaxed),
            operation_ids,
        }
    }
}

fn add(stats: &mut AppInfoOperation, tag: &Tagged, status: u16, ms: i64, length: i64) {
    let first = stats.total_requests == 0;
    stats.total_requests += 1;
    stats.total_duration += ms;
    if tag.elevate {
        stats.elevated_requests += 1;
    }
    stats.min_duration = if first { ms } else { stats.min_duration.min(ms) };
    if first || ms > stats.max_duration {
        stats.max_duration = ms;
        stats.max_duration_updates += 1;
    }
    stats.total_res_length += length;
    stats.min_res_length = if first { length } else { stats.min_res_length.min(length) };
    stats.max_res_length = stats.max_res_length.max(length);
    let request = tag.request_length;
    stats.total_req_length += request;
    stats.min_req_length = if first { request } else { stats.min_req_length.min(request) };
    stats.max_req_length = stats.max_req_length.max(request);
    for projection in &tag.projections {
        let entry = stats.projections.entry(projection.clone()).or_default();
        let first = entry.total_requests == 0;
        entry.total_requests += 1;
        entry.total_duration += ms;
        entry.min_duration = if first { ms } else { entry.min_duration.min(ms) };
        entry.max_duration = entry.max_duration.max(ms);
        entry.average_duration = entry.total_duration / entry.total_requests;
    }
    if let Some(client) = &tag.client {
        *stats.clients.entry(client.clone()).or_default() += 1;
    }
    if let Some(user_id) = tag.user_id {
        *stats.users.entry(user_id.to_string()).or_default() += 1;
    }
    if status >= 400 {
        *stats.errors.entry(status.to_string()).or_default() += 1;
    }
}

/// Outer middleware: times every request and records it once the response is ready (a
/// streamed body counts until its headers; its length only when declared).
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let api = req.uri().path() == "/api" || req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let length = response
        .body()
        .size_hint()
        .exact()
        .map_or_else(|| declared_length(response.headers()), |n| n as i64);
    let tag = response.extensions().get::<Tagged>();
    state.requests.record(api, tag, response.status().as_u16(), ms, length);
    response
}

/// Route middleware on `/api`: notes the matched operation and its caller on the response.
pub async fn tag(req: Request, next: Next) -> Response {
    let Some(path) = req.extensions().get::<MatchedPath>() else {
        return next.run(req).await;
    };
    let path = path.as_str();
    let caller = req.extensions().get::<Authenticated>();
    let query = req.uri().query().unwrap_or_default().as_bytes();
    let tag = Tagged {
        route: format!("{} {}", req.method(), path.strip_prefix("/api").unwrap_or(path)),
        user_id: caller.map(|c| c.user_id),
        client: caller.and_then(|c| c.client.clone()),
        elevate: caller.is_some_and(|c| c.elevate),
        projections: form_urlencoded::parse(query)
            .filter(|(k, _)| k == "projection")
            .map(|(_, v)| v.into_owned())
            .collect(),
        request_length: declared_length(req.headers()),
    };
    let mut response = next.run(req).await;
    response.extensions_mut().insert(tag);
    response
}

fn declared_length(headers: &HeaderMap) -> i64 {
    headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use stigward_wire::appinfo::AppInfoProjection;

    fn tag(projections: &[&str]) -> Tagged {
        Tagged {
            route: "GET /user".into(),
            user_id: Some(7),
            client: Some("web".into()),
            elevate: false,
            projections: projections.iter().map(|p| p.to_string()).collect(),
            request_length: 10,
        }
    }

    #[test]
    fn an_operation_keeps_extremes_and_counts() {
        let mut stats = AppInfoOperation::default();
        for (ms, status) in [(30, 200), (10, 403), (50, 200), (20, 200)] {
            add(&mut stats, &tag(&["assets"]), status, ms, ms * 2);
        }
        assert_eq!((stats.total_requests, stats.total_duration), (4, 110));
        assert_eq!(
            (stats.min_duration, stats.max_duration, stats.max_duration_updates),
            (10, 50, 2)
        );
        assert_eq!(
            (stats.min_res_length, stats.max_res_length, stats.total_res_length),
            (20, 100, 220)
        );
        assert_eq!(stats.errors, BTreeMap::from([("403".to_string(), 1)]));
        assert_eq!(stats.users, BTreeMap::from([("7".to_string(), 4)]));
        let projection: &AppInfoProjection = &stats.projections["assets"];
        assert_eq!((projection.total_requests, projection.average_duration), (4, 27));
    }
}

//! The log socket (`/socket/log-socket`): a WebSocket on which an administrator, after
//! authorizing in-band with a token, can stream the server's log records. Records reach it
//! through [`LogStreamLayer`], a tracing layer that publishes each event on a broadcast channel
//! (only while someone listens), so a slow socket drops records instead of slowing the server.
//! Only Stigward's own records are streamed, not those of the libraries it uses.

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use tokio::sync::broadcast;
use tokio::time::{sleep_until, Instant};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::Context;

use crate::state::AppState;

const PING_EVERY: Duration = Duration::from_secs(30);
const BACKLOG: usize = 1024;

/// Every log record as JSON, for the sockets that stream them.
static RECORDS: LazyLock<broadcast::Sender<LogRecord>> =
    LazyLock::new(|| broadcast::channel(BACKLOG).0);

/// One log record in STIG Manager's shape: `{date, level, component, type, data}`.
#[derive(Debug, Clone, Serialize)]
pub struct LogRecord {
    pub date: String,
    /// 1 error, 2 warning, 3 info, 4 debug.
    pub level: u8,
    pub component: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub data: Map<String, Value>,
}

/// The tracing layer that feeds the log sockets.
pub struct LogStreamLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for LogStreamLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        // only Stigward's own records: those of the libraries include the socket's own
        // traffic, which would feed back into the stream
        let own = event.metadata().target().starts_with("stigward");
        if !own || RECORDS.receiver_count() == 0 {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let meta = event.metadata();
        let level = match *meta.level() {
            tracing::Level::ERROR => 1,
            tracing::Level::WARN => 2,
            tracing::Level::INFO => 3,
            _ => 4,
        };
        let component = match meta.target() {
            t if t.ends_with("telemetry") => "rest".to_string(),
            t => t.rsplit("::").next().unwrap_or(t).to_string(),
        };
        let record = LogRecord {
            date: chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            level,
            component,
            kind: fields.message.unwrap_or_default(),
            data: fields.data,
        };
        // nobody listening any more is not an error
        let _ = RECORDS.send(record);
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    data: Map<String, Value>,
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        match field.name() {
            "message" => self.message = Some(text),
            name => {
                self.data.insert(name.to_string(), Value::String(text));
            }
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = Some(value.to_string()),
            name => {
                self.data.insert(name.to_string(), Value::String(value.to_string()));
            }
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.data.insert(field.name().to_string(), json!(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.data.insert(field.name().to_string(), json!(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.data.insert(field.name().to_string(), json!(value));
    }
}

/// `GET /socket/log-socket`: upgrades to the WebSocket; authorization happens in-band.
pub async fn log_socket(State(state): State<AppState>, upgrade: WebSocketUpgrade) -> Response {
    upgrade.on_upgrade(move |socket| Session::new(state, socket).run())
}

#[derive(Deserialize)]
struct Incoming {
    #[serde(rename = "type")]
    kind: String,
    data: Value,
}

#[derive(Default, Deserialize)]
struct Filter {
    level: Option<Vec<u8>>,
    component: Option<Vec<String>>,
}

impl Filter {
    fn admits(&self, record: &LogRecord) -> bool {
        self.level.as_ref().is_none_or(|l| l.contains(&record.level))
            && self.component.as_ref().is_none_or(|c| c.contains(&record.component))
    }
}

struct Session {
    state: AppState,
    socket: WebSocket,
    records: broadcast::Receiver<LogRecord>,
    /// Until when the token is good; `None` while unauthorized.
    authorized_until: Option<Instant>,
    /// How long a session may stay unauthorized (`STIGWARD_LOG_SOCKET_AUTHORIZE_MS`).
    authorize_within: Duration,
    /// When an unauthorized session is closed.
    close_at: Option<Instant>,
    streaming: Option<Filter>,
}

/// What woke the session up.
enum Wake {
    Message(Option<Result<Message, axum::Error>>),
    Record(Result<LogRecord, broadcast::error::RecvError>),
    Expired,
    CloseTimer,
    Ping,
}

impl Session {
    fn new(state: AppState, socket: WebSocket) -> Session {
        let authorize_within = Duration::from_millis(state.config.log_socket_authorize_ms);
        Session {
            state,
            socket,
            records: RECORDS.subscribe(),
            authorized_until: None,
            authorize_within,
            close_at: Some(Instant::now() + authorize_within),
            streaming: None,
        }
    }

    async fn run(mut self) {
        let unauthorized = json!({"type": "authorize", "data": {"state": "unauthorized"}});
        if !self.send(&unauthorized).await {
            return;
        }
        let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            let far = Instant::now() + Duration::from_secs(86_400);
            let wake = tokio::select! {
                message = self.socket.recv() => Wake::Message(message),
                record = self.records.recv() => Wake::Record(record),
                _ = sleep_until(self.authorized_until.unwrap_or(far)) => Wake::Expired,
                _ = sleep_until(self.close_at.unwrap_or(far)) => Wake::CloseTimer,
                _ = ping.tick() => Wake::Ping,
            };
            if !self.handle(wake).await {
                return;
            }
        }
    }

    /// Handles one wake-up; `false` ends the session.
    async fn handle(&mut self, wake: Wake) -> bool {
        match wake {
            Wake::Message(Some(Ok(Message::Text(text)))) => self.on_text(text.as_str()).await,
            Wake::Message(Some(Ok(Message::Close(_))) | None | Some(Err(_))) => false,
            Wake::Message(Some(Ok(_))) => true,
            Wake::Record(Ok(record)) => match &self.streaming {
                Some(filter) if filter.admits(&record) => {
                    self.send(&json!({"type": "log", "data": record})).await
                }
                _ => true,
            },
            // a socket that fell behind skips what it missed
            Wake::Record(Err(broadcast::error::RecvError::Lagged(_))) => true,
            Wake::Record(Err(broadcast::error::RecvError::Closed)) => false,
            Wake::Expired => {
                self.drop_authorization();
                let reason = json!({"type": "authorize",
                    "data": {"state": "unauthorized", "reason": "jwt expired"}});
                self.send(&reason).await
            }
            Wake::CloseTimer => {
                let _ = self.send(&json!({"type": "close", "data": "Session ending"})).await;
                let _ = self.socket.send(Message::Close(None)).await;
                false
            }
            Wake::Ping => self.socket.send(Message::Ping(Default::default())).await.is_ok(),
        }
    }

    fn drop_authorization(&mut self) {
        self.authorized_until = None;
        self.streaming = None;
        self.close_at.get_or_insert(Instant::now() + self.authorize_within);
    }

    async fn on_text(&mut self, text: &str) -> bool {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return self.error("Invalid JSON message").await;
        };
        let message: Incoming = match serde_json::from_value(value) {
            Ok(message) => message,
            Err(err) => return self.error(&format!("Message validation failed: {err}")).await,
        };
        match message.kind.as_str() {
            "authorize" => self.on_authorize(&message.data).await,
            "command" if self.authorized_until.is_some() => self.on_command(message.data).await,
            // commands from unauthorized sessions are ignored, as upstream does
            "command" => true,
            _ => self.error("Unexpected message type").await,
        }
    }

    async fn on_authorize(&mut self, data: &Value) -> bool {
        let Some(token) = data.get("token").and_then(Value::as_str) else {
            return self.error("Message validation failed: data.token is required").await;
        };
        let state = self.state.clone();
        match authorize(&state, token).await {
            Ok(until) => {
                self.authorized_until = Some(until);
                self.close_at = None;
                self.send(&json!({"type": "authorize", "data": {"state": "authorized"}})).await
            }
            Err(reason) => {
                self.drop_authorization();
                let reason = format!("Authorization failed: {reason}");
                let reply = json!({"type": "authorize",
                    "data": {"state": "unauthorized", "reason": reason}});
                self.send(&reply).await
            }
        }
    }

    async fn on_command(&mut self, data: Value) -> bool {
        match data.get("command").and_then(Value::as_str) {
            Some("stream-start") => {
                let filter = data.get("filter").cloned().unwrap_or(Value::Null);
                self.streaming = Some(serde_json::from_value(filter).unwrap_or_default());
            }
            Some("stream-stop") => self.streaming = None,
            _ => {
                if !self.error("Unknown command").await {
                    return false;
                }
            }
        }
        let ack = json!({"type": "info", "data": {"success": true, "command": data}});
        self.send(&ack).await
    }

    async fn error(&mut self, text: &str) -> bool {
        self.send(&json!({"type": "error", "data": text})).await
    }

    async fn send(&mut self, value: &Value) -> bool {
        let text = value.to_string();
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }
}

/// Verifies the token as the API does and demands the admin privilege; returns when the
/// authorization lapses (the token's `exp`).
async fn authorize(state: &AppState, token: &str) -> Result<Instant, String> {
    let claims = state.verifier.verify(token).await.map_err(|e| e.detail())?;
    if !stigward_auth::privileges(&claims, &state.claims).admin {
        return Err("admin privilege required".into());
    }
    let now = chrono::Utc::now().timestamp();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
    let left = u64::try_from(exp - now).unwrap_or(0);
    Ok(Instant::now() + Duration::from_secs(left))
}

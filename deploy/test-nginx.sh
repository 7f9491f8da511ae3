#!/usr/bin/env bash
# Runs Stigward behind nginx with deploy/nginx/stigward.conf on loopback ports and checks,
# over HTTPS verified against a throw-away CA, that the streaming endpoints are not buffered:
#   1. the first SSE event of /api/op/state/sse arrives within 2 s, and keep-alives follow;
#   2. clone progress (NDJSON) reaches the client while the clone is provably still running
#      (its database write is held up by a lock this script holds), and the result comes last.
# Usage: deploy/test-nginx.sh path/to/stigward
# Installs the Debian nginx package when nginx is missing. Exits non-zero on any failure and
# stops everything it started.
set -euo pipefail

STIGWARD=${1:?usage: $0 path/to/stigward}
STIGWARD=$(cd "$(dirname "$STIGWARD")" && pwd)/$(basename "$STIGWARD")
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    exec 4>&- 2>/dev/null || true
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$WORK"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for log in stigward.log nginx-error.log; do
        [ -f "$WORK/$log" ] && { echo "--- $log" >&2; tail -n 30 "$WORK/$log" >&2; }
    done
    exit 1
}

# Polls a condition (a shell command) every 0.1 s for up to $2 seconds.
wait_for() {
    local condition=$1 seconds=$2 i
    for ((i = 0; i < seconds * 10; i++)); do
        if eval "$condition"; then return 0; fi
        sleep 0.1
    done
    return 1
}

free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    fail "no free port found"
}

# --- nginx -------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
for tool in sqlite3 openssl curl; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ "${#missing[@]}" -gt 0 ]; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
    # the nginx package starts a system nginx on port 80; this test runs its own
    $SUDO systemctl stop nginx 2>/dev/null || $SUDO service nginx stop 2>/dev/null || true
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || fail "nginx is not installed"

# --- certificates ------------------------------------------------------------------------
cd "$WORK"
EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${EC[@]}" -keyout ca.key -out ca.pem -days 2 -subj "/CN=Stigward Test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    2>/dev/null
openssl req "${EC[@]}" -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem \
    -days 2 -extfile ext.cnf 2>/dev/null

# --- Stigward ----------------------------------------------------------------------------
mkdir -p data
export STIGWARD_DATA_DIR="$WORK/data"
STIGMAN_API_ADDRESS=127.0.0.1 STIGMAN_API_PORT=0 STIGWARD_SSE_KEEPALIVE_MS=500 \
    "$STIGWARD" serve > stigward.out 2> stigward.log &
PIDS+=($!)
wait_for "grep -q 'listening on' stigward.out" 30 || fail "Stigward did not start"
API_PORT=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\)/api.*|\1|p' stigward.out)
[ -n "$API_PORT" ] || fail "could not read Stigward's port"

# --- nginx with the deploy configuration -------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p nginx-temp
sed -e "s|server 127.0.0.1:54000;|server 127.0.0.1:$API_PORT;|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$NGINX_PORT ssl http2;|" \
    -e "s|/etc/nginx/tls/stigward.pem|$WORK/server.pem|" \
    -e "s|/etc/nginx/tls/stigward.key|$WORK/server.key|" \
    "$HERE/nginx/stigward.conf" > stigward.conf
cat > nginx.conf <<CONF
worker_processes 1;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 256; }
http {
    access_log $WORK/nginx-access.log;
    client_body_temp_path $WORK/nginx-temp/body;
    proxy_temp_path $WORK/nginx-temp/proxy;
    fastcgi_temp_path $WORK/nginx-temp/fastcgi;
    uwsgi_temp_path $WORK/nginx-temp/uwsgi;
    scgi_temp_path $WORK/nginx-temp/scgi;
    include $WORK/stigward.conf;
}
CONF
"$NGINX" -t -p "$WORK" -c "$WORK/nginx.conf" 2>nginx-test.log || { cat nginx-test.log >&2; fail "nginx rejected the configuration"; }
"$NGINX" -p "$WORK" -c "$WORK/nginx.conf" -g "daemon off;" 2>>nginx-error.log &
PIDS+=($!)
BASE="https://localhost:$NGINX_PORT"
CURL=(curl -sS --cacert "$WORK/ca.pem")
wait_for "${CURL[*]} -o /dev/null $BASE/api/op/state 2>/dev/null" 10 || fail "nginx is not answering"

# --- 1. SSE: first event within 2 s, then keep-alives --------------------------------------
set +e
"${CURL[@]}" -N --max-time 2 -D sse.headers "$BASE/api/op/state/sse" > sse.out 2>/dev/null
status=$?
set -e
[ "$status" -eq 28 ] || fail "SSE stream ended early or failed (curl exit $status)"
grep -qi '^content-type: text/event-stream' sse.headers || fail "SSE content type"
first=$(grep -m1 '^event:' sse.out || true)
[ "$first" = "event: state-report" ] || fail "no state-report event within 2 s through nginx"
events=$(grep -c '^event: state-report' sse.out)
[ "$events" -ge 2 ] || fail "keep-alive events did not pass through nginx ($events in 2 s)"
echo "ok: SSE through nginx: $events state-report events in 2 s"

# --- 2. NDJSON clone progress arrives while the clone still runs ---------------------------
TOKEN=$("$STIGWARD" token --user admin --privileges admin,create_collection --port "$API_PORT")
AUTH=(-H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json")
USER_ID=$("${CURL[@]}" "${AUTH[@]}" "$BASE/api/user" | sed -n 's/.*"userId":"\([0-9]*\)".*/\1/p')
[ -n "$USER_ID" ] || fail "could not read the admin's userId"
CID=$("${CURL[@]}" "${AUTH[@]}" -d "{\"name\":\"Source\",\"grants\":[{\"userId\":\"$USER_ID\",\"roleId\":4}]}" \
    "$BASE/api/collections" | sed -n 's/.*"collectionId":"\([0-9]*\)".*/\1/p')
[ -n "$CID" ] || fail "could not create a collection"

# hold SQLite's write lock so the clone's first write waits
DB="$WORK/data/stigward.db"
mkfifo lock.fifo
sqlite3 "$DB" < lock.fifo > /dev/null &
PIDS+=($!)
exec 4> lock.fifo
# the server may be writing at this moment (a request, the scheduler): wait for our turn
echo ".timeout 10000" >&4
echo "BEGIN IMMEDIATE;" >&4
wait_for "! sqlite3 -cmd '.timeout 0' '$DB' 'BEGIN IMMEDIATE; ROLLBACK;' 2>/dev/null" 10 \
    || fail "could not take the database write lock"

"${CURL[@]}" -N "${AUTH[@]}" -d '{"name":"Copy","description":null}' \
    "$BASE/api/collections/$CID/clone" > clone.out &
CLONE=$!
PIDS+=($CLONE)
wait_for "grep -q cloneCollection clone.out" 5 \
    || fail "no clone progress reached the client while the clone was held up"
grep -q '"stage":"result"' clone.out && fail "the clone finished while its write was locked"
echo "ok: first clone progress line arrived through nginx while the clone was still running"

echo "ROLLBACK;" >&4
exec 4>&-
wait "$CLONE" || fail "clone request failed"
lines=$(wc -l < clone.out)
tail -n 1 clone.out | grep -q '"stage":"result"' || fail "the clone's last line is not its result"
echo "ok: clone streamed $lines lines through nginx, ending with the result"
echo "PASS: nginx streams SSE and NDJSON unbuffered"

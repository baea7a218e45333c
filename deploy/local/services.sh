#!/usr/bin/env bash
# Herald's services on the local stack, as background processes.
#   start   start the stack, migrate, create topics, seed demo data, start the services
#           and the gateway that serves the web console (built by `make run`) in front
#           of them; and, unless HERALD_MAILER_SMTP_HOST names a relay, a local SMTP sink
#           that logs every email instead of delivering it
#   stop    stop the services (the stack keeps running; `stack.sh stop` stops it)
#   status  which services are running
# Pid files and logs live under $HERALD_HOME/run.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
HERALD_HOME=$(realpath -m "${HERALD_HOME:-$REPO_ROOT/.herald}")
VENV_BIN=${UV_PROJECT_ENVIRONMENT:-$HERALD_HOME/venv}/bin
RUN_DIR=$HERALD_HOME/run
DEMO_EMPLOYEES=${HERALD_DEMO_EMPLOYEES:-2000}
ALLOCATION_PORT=${HERALD_ALLOCATION_PORT:-8001}
NOTIFIER_PORT=${HERALD_NOTIFIER_PORT:-8002}
INSERTER_PORT=${HERALD_INSERTER_WEB_PORT:-6066}
MAILER_PORT=${HERALD_MAILER_PORT:-8003}
GATEWAY_PORT=${HERALD_GATEWAY_PORT:-8000}
CHANNELS_PORT=${HERALD_CHANNELS_PORT:-6001}
SMTP_SINK_PORT=${HERALD_SMTP_SINK_PORT:-1025}
# The gateway goes last: it only forwards to the others.
SERVICES=(allocation inserter notifier mailer channels gateway)
# Stopped and reported like the services, started only when no relay is configured.
PROCESSES=("${SERVICES[@]}" smtp-sink)

log() { printf '[herald] %s\n' "$*" >&2; }

running() {
  local pid_file=$RUN_DIR/$1.pid
  [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null
}

wait_http() {
  local name=$1 url=$2 deadline=$((SECONDS + 90))
  until "$VENV_BIN/python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$url" 2>/dev/null; do
    if ! running "$name"; then
      log "$name exited; last lines of $RUN_DIR/$name.log:"
      tail -n 30 "$RUN_DIR/$name.log" >&2
      exit 1
    fi
    (( SECONDS < deadline )) || { log "$name not ready at $url"; exit 1; }
    sleep 0.3
  done
}

start_service() {
  local name=$1
  shift
  local command=("$@")
  (( ${#command[@]} )) || command=("$VENV_BIN/python" -m "herald_$name")
  if running "$name"; then
    log "$name already running (pid $(cat "$RUN_DIR/$name.pid"))"
    return
  fi
  # setsid: the service outlives the shell that started it.
  setsid "${command[@]}" >>"$RUN_DIR/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN_DIR/$name.pid"
  log "started $name (pid $!), log: $RUN_DIR/$name.log"
}

start() {
  mkdir -p "$RUN_DIR"
  "$SCRIPT_DIR/stack.sh" start >/dev/null
  set -a
  # shellcheck source=/dev/null
  source "$HERALD_HOME/stack.env"
  set +a
  export HERALD_ALLOCATION_PORT=$ALLOCATION_PORT HERALD_NOTIFIER_PORT=$NOTIFIER_PORT
  export HERALD_INSERTER_WEB_PORT=$INSERTER_PORT HERALD_MAILER_PORT=$MAILER_PORT
  export HERALD_GATEWAY_PORT=$GATEWAY_PORT HERALD_GATEWAY_STATIC_DIR=$REPO_ROOT/web/dist
  export HERALD_CHANNELS_PORT=$CHANNELS_PORT
  # faust keeps the inserter's data directory in the working directory unless told.
  export FAUST_DATADIR="$RUN_DIR/{conf.name}-data"
  export HERALD_GATEWAY_ALLOCATION_URL=http://127.0.0.1:$ALLOCATION_PORT
  export HERALD_GATEWAY_NOTIFIER_URL=http://127.0.0.1:$NOTIFIER_PORT
  export HERALD_GATEWAY_MAILER_URL=http://127.0.0.1:$MAILER_PORT
  # The local stack has no identity provider: tokens are signed with a secret made once
  # per checkout, and dev mode lets anyone mint one for a demo person (the web console's
  # sign-in, POST /v1/dev/tokens). Never use dev mode where real people's data lives.
  local secret_file=$RUN_DIR/auth-secret
  if [[ ! -s $secret_file ]]; then
    (umask 077 && "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))' >"$secret_file")
  fi
  chmod 600 "$secret_file"
  HERALD_AUTH_HS256_SECRET=$(<"$secret_file")
  export HERALD_AUTH_HS256_SECRET HERALD_AUTH_DEV_MODE=true
  # The Pusher app (the channels service, and the notifier's /v1/channel-auth): a key and
  # a secret made once per checkout, like the token secret.
  local pusher_file=$RUN_DIR/pusher-app
  if [[ ! -s $pusher_file ]]; then
    (umask 077 && "$VENV_BIN/python" -c 'import secrets
print("herald-" + secrets.token_hex(8)); print(secrets.token_hex(32))' >"$pusher_file")
  fi
  chmod 600 "$pusher_file"
  { read -r HERALD_CHANNELS_APP_KEY; read -r HERALD_CHANNELS_APP_SECRET; } <"$pusher_file"
  export HERALD_CHANNELS_APP_ID=${HERALD_CHANNELS_APP_ID:-1}
  export HERALD_CHANNELS_APP_KEY HERALD_CHANNELS_APP_SECRET
  export HERALD_NOTIFIER_CHANNEL_AUTH_KEY=$HERALD_CHANNELS_APP_KEY
  export HERALD_NOTIFIER_CHANNEL_AUTH_SECRET=$HERALD_CHANNELS_APP_SECRET
  # Chromium, Firefox and Edge accept Secure cookies from http://127.0.0.1 and localhost;
  # Safari does not: set HERALD_AUTH_SESSION_COOKIE_SECURE=false to use it.
  export HERALD_AUTH_SESSION_COOKIE_SECURE=${HERALD_AUTH_SESSION_COOKIE_SECURE:-true}
  local emails="the relay at ${HERALD_MAILER_SMTP_HOST:-}"
  if [[ -z ${HERALD_MAILER_SMTP_HOST:-} ]]; then
    # No relay configured: managers' summaries go to a sink that prints them to its log.
    export HERALD_MAILER_SMTP_HOST=127.0.0.1 HERALD_MAILER_SMTP_PORT=$SMTP_SINK_PORT
    PYTHONUNBUFFERED=1 start_service smtp-sink "$VENV_BIN/python" -m aiosmtpd -n \
      -l "127.0.0.1:$SMTP_SINK_PORT" -c aiosmtpd.handlers.Debugging stdout
    emails="$RUN_DIR/smtp-sink.log (local sink on port $SMTP_SINK_PORT)"
  fi
  "$VENV_BIN/herald" db migrate
  "$VENV_BIN/herald" kafka create-topics
  "$VENV_BIN/herald" demo seed --employees "$DEMO_EMPLOYEES"
  for name in "${SERVICES[@]}"; do start_service "$name"; done
  wait_http allocation "http://127.0.0.1:$ALLOCATION_PORT/readyz"
  wait_http notifier "http://127.0.0.1:$NOTIFIER_PORT/readyz"
  wait_http inserter "http://127.0.0.1:$INSERTER_PORT/healthz"
  wait_http mailer "http://127.0.0.1:$MAILER_PORT/readyz"
  wait_http channels "http://127.0.0.1:$CHANNELS_PORT/readyz"
  wait_http gateway "http://127.0.0.1:$GATEWAY_PORT/readyz"
  cat <<EOF

Herald is running.
  Web console     http://127.0.0.1:$GATEWAY_PORT/   (sign in as a demo HR admin, manager or employee)
  Allocation API  http://127.0.0.1:$ALLOCATION_PORT/docs
  Notifier (SSE)  http://127.0.0.1:$NOTIFIER_PORT/docs
  Inserter        http://127.0.0.1:$INSERTER_PORT/metrics
  Mailer          http://127.0.0.1:$MAILER_PORT/docs
  Pusher          ws://127.0.0.1:$CHANNELS_PORT/app/$HERALD_CHANNELS_APP_KEY?protocol=7
                  app id $HERALD_CHANNELS_APP_ID, key $HERALD_CHANNELS_APP_KEY (both and the secret in $pusher_file)
                  secret $HERALD_CHANNELS_APP_SECRET
                  auth endpoint http://127.0.0.1:$CHANNELS_PORT/v1/channel-auth
                  HTTP API (server SDKs) http://127.0.0.1:$CHANNELS_PORT/apps/$HERALD_CHANNELS_APP_ID/
  Emails          $emails
  Kafka           $HERALD_KAFKA_BOOTSTRAP
  PostgreSQL      $HERALD_DATABASE_URL
Sign in (dev mode): curl -s http://127.0.0.1:$ALLOCATION_PORT/v1/dev/tokens \\
  -H 'Content-Type: application/json' -d '{"employee_id": "E000001", "roles": ["employee", "hr-admin"]}'
Logs: $RUN_DIR/*.log    Stop: make stop
EOF
}

stop() {
  local name pid
  for name in "${PROCESSES[@]}"; do
    if running "$name"; then
      pid=$(cat "$RUN_DIR/$name.pid")
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
      log "stopped $name"
    fi
    rm -f "$RUN_DIR/$name.pid"
  done
}

status() {
  local name
  for name in "${PROCESSES[@]}"; do
    if running "$name"; then
      echo "$name: running (pid $(cat "$RUN_DIR/$name.pid"))"
    else
      echo "$name: stopped"
    fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $(basename "$0") start|stop|status" >&2; exit 2 ;;
esac

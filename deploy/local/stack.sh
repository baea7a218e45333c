#!/usr/bin/env bash
# Local infrastructure for Herald: a single-node Kafka (KRaft, broker+controller)
# and a private PostgreSQL cluster, both bound to 127.0.0.1, with all state,
# logs and caches under $HERALD_HOME. See deploy/local/README.md.
set -euo pipefail

usage() {
  cat <<EOF
usage: $(basename "$0") <command> [args]

  start              start Kafka and PostgreSQL (reuses running ones), write stack.env
  stop               stop both gracefully
  status             print per-component state; exit 0 if both are up, 3 otherwise
  env                print \$HERALD_HOME/stack.env
  kafka-class C ...  run Java main class C on the Kafka classpath
  start-kafka | stop-kafka | restart-kafka | kill-kafka (SIGKILL, for fault tests)
  start-postgres | stop-postgres | restart-postgres
EOF
}

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd -P)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd -P)
readonly SCRIPT_DIR REPO_ROOT
readonly KAFKA_CONF_DIR=$SCRIPT_DIR/kafka

# realpath -m: absolute even when the directory does not exist yet.
HERALD_HOME=$(realpath -m "${HERALD_HOME:-$REPO_ROOT/.herald}")
readonly HERALD_HOME
readonly BIND_ADDR=127.0.0.1
readonly KAFKA_PORT=${HERALD_KAFKA_PORT:-19092}
readonly KAFKA_CONTROLLER_PORT=${HERALD_KAFKA_CONTROLLER_PORT:-19093}
readonly PG_PORT=${HERALD_PG_PORT:-15432}
readonly KAFKA_HEAP=${HERALD_KAFKA_HEAP:--Xms512m -Xmx768m}
readonly KAFKA_TOOLS_HEAP=${HERALD_KAFKA_TOOLS_HEAP:--Xmx512m}
readonly START_TIMEOUT=${HERALD_START_TIMEOUT:-120}
readonly KAFKA_STOP_TIMEOUT=${HERALD_KAFKA_STOP_TIMEOUT:-60}
# Database role, database name and, when running as root, the OS account
# that owns the PostgreSQL data directory.
readonly PG_ROLE=herald
readonly PG_DB=herald
readonly PG_OS_USER=herald

readonly KAFKA_HOME=$HERALD_HOME/kafka
readonly KAFKA_LIBS=$KAFKA_HOME/libs
readonly KAFKA_TOOLS_LIBS=$KAFKA_HOME/tools-libs
readonly KAFKA_LIBS_STAMP=$KAFKA_HOME/libs.stamp
readonly KAFKA_DATA=$KAFKA_HOME/data
readonly KAFKA_LOGS=$KAFKA_HOME/logs
readonly KAFKA_PROPS=$KAFKA_HOME/server.properties
readonly KAFKA_PID_FILE=$KAFKA_HOME/kafka.pid
readonly KAFKA_CLUSTER_ID_FILE=$KAFKA_HOME/cluster.id
readonly KAFKA_FORMAT_STAMP=$KAFKA_HOME/formatted-controller-port
readonly PG_HOME=$HERALD_HOME/postgres
readonly PG_DATA=$PG_HOME/data
readonly PG_LOG=$PG_HOME/log
readonly PG_RUN=$PG_HOME/run
# A second stack (e.g. the reliability tests') can share the first one's Maven cache.
readonly M2_REPO=${HERALD_MAVEN_REPO:-$HERALD_HOME/cache/m2}
readonly STACK_ENV=$HERALD_HOME/stack.env
readonly LOCK_FILE=$HERALD_HOME/stack.lock

APT_UPDATED=0

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }
is_root() { [[ $(id -u) -eq 0 ]]; }

# Bash's /dev/tcp avoids depending on nc/ss being installed.
port_open() {
  (exec 3<>"/dev/tcp/$BIND_ADDR/$1") 2>/dev/null
}

# Serialises start/stop so concurrent callers (parallel test runs) see a
# consistent state. The lock lives on fd 9; daemons must not inherit it or
# it would stay held as long as they run, so every launch closes it (9>&-).
acquire_lock() {
  mkdir -p "$HERALD_HOME"
  exec 9>"$LOCK_FILE"
  flock -w 900 9 || die "another stack.sh still holds $LOCK_FILE after 15 minutes"
}

release_lock() {
  exec 9>&-
}

# True while /proc/<pid> is a live process whose command line contains
# $2. Matching on a path under HERALD_HOME guards against pid reuse and
# against a second stack running from another HERALD_HOME.
pid_matches() {
  local pid=$1 needle=$2 cmdline
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  # Zombies and exited processes have an empty cmdline.
  cmdline=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  [[ $cmdline == *"$needle"* ]]
}

# True once every thread of $1 has exited. Neither an empty cmdline nor a
# zombie main thread is enough: a JVM's main thread turns zombie while other
# threads still hold its sockets open, so the listener keeps answering.
process_gone() {
  local stat tasks
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  [[ ${stat##*) } == Z* ]] || return 1
  tasks=$(compgen -G "/proc/$1/task/*" | wc -l)
  ((tasks <= 1))
}

# Waits up to $1 seconds for the command in $2... to succeed.
wait_until() {
  local timeout=$1 deadline
  shift
  deadline=$((SECONDS + timeout))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}

apt_install() {
  is_root || die "missing packages ($*); install them or rerun as root"
  if ((APT_UPDATED == 0)); then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    APT_UPDATED=1
  fi
  log "apt-get install $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >&2
}

# ---------------------------------------------------------------- Kafka ---

ensure_java_maven() {
  local major
  if ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
    apt_install default-jre-headless maven
  fi
  major=$(java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}')
  [[ ${major:-0} -ge 17 ]] || die "Kafka 4 needs Java 17+, found '${major:-unknown}'"
}

kafka_libs_hash() {
  sha256sum "$KAFKA_CONF_DIR/pom.xml" | cut -d' ' -f1
}

kafka_libs_ready() {
  [[ -f $KAFKA_LIBS_STAMP && $(<"$KAFKA_LIBS_STAMP") == "$(kafka_libs_hash)" ]] &&
    compgen -G "$KAFKA_LIBS/*.jar" >/dev/null &&
    compgen -G "$KAFKA_TOOLS_LIBS/*.jar" >/dev/null
}

# Resolve into a scratch directory and swap it in, so an interrupted
# download never leaves a half-populated classpath, and jars from an older
# pom do not linger next to the new ones.
resolve_kafka_profile() {
  local profile=$1 dest=$2
  local scratch=$dest.partial mvn_log=$KAFKA_HOME/maven-$profile.log
  rm -rf "$scratch"
  # Output goes to a file: even with -q, Debian's Maven 3.8 prints stray
  # colour escapes, and the log is only interesting when resolution fails.
  if ! mvn -q -B -Dmaven.repo.local="$M2_REPO" -f "$KAFKA_CONF_DIR/pom.xml" \
    -P "$profile" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$scratch" >"$mvn_log" 2>&1; then
    tail -n 40 "$mvn_log" >&2
    die "maven could not resolve the Kafka '$profile' jars; see $mvn_log"
  fi
  rm -rf "$dest"
  mv "$scratch" "$dest"
}

ensure_kafka_libs() {
  kafka_libs_ready && return 0
  ensure_java_maven
  log "resolving Kafka jars with maven (cache: $M2_REPO)"
  mkdir -p "$KAFKA_HOME" "$M2_REPO"
  resolve_kafka_profile broker "$KAFKA_LIBS"
  resolve_kafka_profile tools "$KAFKA_TOOLS_LIBS"
  kafka_libs_hash >"$KAFKA_LIBS_STAMP"
}

# kafka.* classes (kafka.Kafka, kafka.tools.StorageTool) live in kafka_2.13
# and run on the broker classpath; everything else (org.apache.kafka.tools.*)
# runs on the kafka-tools classpath. See kafka/pom.xml for why there are two.
kafka_classpath_for() {
  if [[ $1 == kafka.* ]]; then
    printf '%s/*' "$KAFKA_LIBS"
  else
    printf '%s/*' "$KAFKA_TOOLS_LIBS"
  fi
}

# Sets KAFKA_TOOL_CMD to the java command line for main class $1. An array
# rather than a function so callers can put timeout/exec in front of it.
kafka_tool_cmd() {
  local main=$1 heap
  read -ra heap <<<"$KAFKA_TOOLS_HEAP"
  KAFKA_TOOL_CMD=(java "${heap[@]}" -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/tools-log4j2.properties"
    -cp "$(kafka_classpath_for "$main")" "$main")
}

kafka_tool() {
  kafka_tool_cmd "$1"
  shift
  "${KAFKA_TOOL_CMD[@]}" "$@"
}

write_kafka_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  # Regenerated on every start so port changes in the environment apply.
  cat >"$KAFKA_PROPS.tmp" <<EOF
# Generated by deploy/local/stack.sh on each start; edit the script instead.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$BIND_ADDR:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$BIND_ADDR:$KAFKA_PORT,CONTROLLER://$BIND_ADDR:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$BIND_ADDR:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=1
# Single node: internal topics cannot have more than one replica.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Services must create their topics explicitly, as they will in production.
auto.create.topics.enable=false
# No point delaying the first rebalance when tests start one consumer at a time.
group.initial.rebalance.delay.ms=0
EOF
  mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
}

kafka_cluster_id() {
  if [[ ! -s $KAFKA_CLUSTER_ID_FILE ]]; then
    kafka_tool kafka.tools.StorageTool random-uuid >"$KAFKA_CLUSTER_ID_FILE.tmp"
    mv "$KAFKA_CLUSTER_ID_FILE.tmp" "$KAFKA_CLUSTER_ID_FILE"
  fi
  cat "$KAFKA_CLUSTER_ID_FILE"
}

# With --standalone the controller's own endpoint is written into the
# metadata log as the initial voter set, so the storage is tied to the
# controller port it was formatted with.
check_kafka_controller_port() {
  local formatted_port
  formatted_port=$(cat "$KAFKA_FORMAT_STAMP" 2>/dev/null || true)
  if [[ -n $formatted_port && $formatted_port != "$KAFKA_CONTROLLER_PORT" ]]; then
    die "Kafka storage was formatted for controller port $formatted_port," \
      "not $KAFKA_CONTROLLER_PORT; use the old port or remove $KAFKA_DATA"
  fi
}

format_kafka_storage() {
  if [[ -f $KAFKA_DATA/meta.properties ]]; then
    check_kafka_controller_port
    return 0
  fi
  log "formatting Kafka storage in $KAFKA_DATA"
  kafka_tool kafka.tools.StorageTool format -t "$(kafka_cluster_id)" \
    -c "$KAFKA_PROPS" --standalone >"$KAFKA_LOGS/format.log" 2>&1 ||
    die "kafka storage format failed; see $KAFKA_LOGS/format.log"
  printf '%s\n' "$KAFKA_CONTROLLER_PORT" >"$KAFKA_FORMAT_STAMP"
}

kafka_pid() {
  local pid
  pid=$(cat "$KAFKA_PID_FILE" 2>/dev/null) || return 1
  pid_matches "$pid" "$KAFKA_PROPS" || return 1
  printf '%s\n' "$pid"
}

kafka_alive() { kafka_pid >/dev/null; }

# An open port only proves the socket is bound; a metadata round trip
# through the admin client proves the broker actually serves requests.
kafka_answers() {
  port_open "$KAFKA_PORT" || return 1
  kafka_tool_cmd org.apache.kafka.tools.TopicCommand
  timeout 30 "${KAFKA_TOOL_CMD[@]}" --bootstrap-server "$BIND_ADDR:$KAFKA_PORT" \
    --list >/dev/null 2>&1
}

kafka_ready_or_dead() {
  ! kafka_alive || kafka_answers
}

wait_kafka_ready() {
  local pid
  pid=$(kafka_pid) || die "Kafka is not running; see $KAFKA_LOGS/server.log"
  if ! wait_until "$START_TIMEOUT" kafka_ready_or_dead; then
    die "Kafka (pid $pid) did not become ready in ${START_TIMEOUT}s; see $KAFKA_LOGS/server.log"
  fi
  if ! kafka_alive; then
    tail -n 30 "$KAFKA_LOGS/kafka.out" "$KAFKA_LOGS/server.log" >&2 2>/dev/null || true
    die "Kafka exited during startup; see $KAFKA_LOGS/server.log"
  fi
  log "kafka: ready on $BIND_ADDR:$KAFKA_PORT (pid $pid)"
}

launch_kafka() {
  local heap extra
  read -ra heap <<<"$KAFKA_HEAP"
  read -ra extra <<<"${HERALD_KAFKA_OPTS:-}"
  rm -f "$KAFKA_PID_FILE"
  # setsid: own session, so the broker outlives the calling shell and its
  # Ctrl-C / SIGHUP. The inner shell records its pid and then execs java,
  # so the pid file names the JVM itself whether or not setsid forked.
  # shellcheck disable=SC2016  # $$ and $1 belong to the inner shell
  setsid nohup bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID_FILE" \
    java "${heap[@]}" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError \
    "-Xlog:gc*:file=$KAFKA_LOGS/gc.log:time,tags:filecount=5,filesize=20M" \
    -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KAFKA_LOGS" \
    -Dlog4j2.configurationFile="$KAFKA_CONF_DIR/log4j2.properties" \
    "${extra[@]}" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS" \
    </dev/null >>"$KAFKA_LOGS/kafka.out" 2>&1 9>&- &
  wait_until 10 kafka_alive || die "Kafka did not start; see $KAFKA_LOGS/kafka.out"
  log "kafka: started (pid $(kafka_pid)), logs in $KAFKA_LOGS"
}

# Starts the broker without waiting for readiness, so PostgreSQL can come
# up while the JVM boots. Returns 0 with nothing to do if it already runs.
launch_kafka_if_needed() {
  local pid
  if pid=$(kafka_pid); then
    log "kafka: already running (pid $pid), reusing it"
    return 0
  fi
  port_open "$KAFKA_PORT" &&
    die "port $KAFKA_PORT is taken by a process that is not this stack's Kafka"
  port_open "$KAFKA_CONTROLLER_PORT" &&
    die "port $KAFKA_CONTROLLER_PORT is taken by a process that is not this stack's Kafka"
  ensure_kafka_libs
  write_kafka_config
  format_kafka_storage
  launch_kafka
}

start_kafka() {
  launch_kafka_if_needed
  wait_kafka_ready
}

stop_kafka() {
  local pid
  if ! pid=$(kafka_pid); then
    rm -f "$KAFKA_PID_FILE"
    log "kafka: not running"
    return 0
  fi
  log "kafka: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  # A clean shutdown flushes segments and skips log recovery on next start.
  if ! wait_until "$KAFKA_STOP_TIMEOUT" process_gone "$pid"; then
    log "kafka: still running after ${KAFKA_STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_until 10 process_gone "$pid" || die "kafka (pid $pid) survived SIGKILL"
  fi
  rm -f "$KAFKA_PID_FILE"
  log "kafka: stopped"
}

# For fault tests. Expect the next start to take ~10 s longer than usual:
# the controller refuses the new broker registration until the killed
# broker's session (broker.session.timeout.ms, 9 s) expires.
kill_kafka() {
  local pid
  if ! pid=$(kafka_pid); then
    log "kafka: not running"
    return 0
  fi
  kill -KILL "$pid"
  wait_until 10 process_gone "$pid" || die "kafka (pid $pid) survived SIGKILL"
  rm -f "$KAFKA_PID_FILE"
  log "kafka: killed (pid $pid)"
}

kafka_class() {
  [[ $# -ge 1 ]] || die "usage: $(basename "$0") kafka-class <main-class> [args...]"
  if ! kafka_libs_ready; then
    acquire_lock
    ensure_kafka_libs
    release_lock
  fi
  kafka_tool_cmd "$1"
  shift
  exec "${KAFKA_TOOL_CMD[@]}" "$@"
}

# ----------------------------------------------------------- PostgreSQL ---

# Newest server found under Debian's layout; HERALD_PG_BINDIR overrides.
pg_bindir() {
  local dir
  if [[ -n ${HERALD_PG_BINDIR:-} ]]; then
    printf '%s\n' "$HERALD_PG_BINDIR"
    return 0
  fi
  for dir in $(compgen -G '/usr/lib/postgresql/*/bin' | sort -rV); do
    if [[ -x $dir/postgres && -x $dir/initdb && -x $dir/pg_ctl ]]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  return 1
}

ensure_pg_binaries() {
  pg_bindir >/dev/null && return 0
  is_root || die "no PostgreSQL server under /usr/lib/postgresql/*/bin;" \
    "run 'apt-get install postgresql' as root or set HERALD_PG_BINDIR"
  apt_install postgresql
  pg_bindir >/dev/null || die "postgresql installed but no server binaries found"
}

# PostgreSQL refuses to run as root, so root runs it as a dedicated
# unprivileged system account; other users run it as themselves.
as_pg_user() {
  if is_root; then
    # cd /: the postgres account may not be able to read root's cwd.
    (cd / && runuser -u "$PG_OS_USER" -- "$@")
  else
    "$@"
  fi
}

ensure_pg_account() {
  is_root || return 0
  id -u "$PG_OS_USER" >/dev/null 2>&1 && return 0
  log "creating system user $PG_OS_USER to run PostgreSQL"
  # A concurrent stack.sh from another HERALD_HOME may win the race.
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$PG_OS_USER" ||
    id -u "$PG_OS_USER" >/dev/null 2>&1 ||
    die "could not create user $PG_OS_USER"
}

# The postgres account needs search (x) permission on every directory above
# its data directory. Grant o+x only on the components that lack it, top
# down, and say so, rather than touching permissions wholesale.
ensure_pg_path_traversable() {
  is_root || return 0
  local dir=$PG_HOME
  local -a chain=()
  while [[ $dir != / ]]; do
    chain=("$dir" "${chain[@]}")
    dir=$(dirname "$dir")
  done
  for dir in "${chain[@]}"; do
    if ! runuser -u "$PG_OS_USER" -- test -x "$dir"; then
      chmod o+x "$dir"
      log "granted o+x on $dir so user $PG_OS_USER can reach $PG_DATA"
    fi
  done
}

ensure_pg_dirs() {
  local socket="$PG_RUN/.s.PGSQL.$PG_PORT"
  # sun_path in sockaddr_un is 108 bytes including the terminating NUL.
  ((${#socket} <= 107)) ||
    die "unix socket path $socket is too long; use a shorter HERALD_HOME"
  mkdir -p "$PG_HOME" "$PG_DATA" "$PG_LOG" "$PG_RUN"
  chmod 700 "$PG_DATA"
  if is_root; then
    # Recursive only when needed, e.g. a HERALD_HOME copied from elsewhere.
    if [[ $(stat -c %U "$PG_DATA") != "$PG_OS_USER" ]]; then
      chown -R "$PG_OS_USER:" "$PG_DATA"
    fi
    chown "$PG_OS_USER:" "$PG_LOG" "$PG_RUN"
  fi
}

pg_locale() {
  if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    echo C.UTF-8
  else
    echo C
  fi
}

init_pg_cluster() {
  local bindir=$1 have want
  if [[ -f $PG_DATA/PG_VERSION ]]; then
    have=$(<"$PG_DATA/PG_VERSION")
    want=$("$bindir/postgres" --version | awk '{split($3, v, "."); print v[1]}')
    [[ $have == "$want" ]] ||
      die "$PG_DATA was created by PostgreSQL $have but $bindir is $want;" \
        "remove $PG_DATA (or set HERALD_PG_BINDIR) to continue"
    return 0
  fi
  log "initialising PostgreSQL cluster in $PG_DATA"
  # Trust auth is acceptable only because the server listens on loopback and
  # a private socket directory; this cluster is for local development only.
  if ! as_pg_user "$bindir/initdb" -D "$PG_DATA" -U "$PG_ROLE" --auth=trust \
    --encoding=UTF8 --locale="$(pg_locale)" >"$PG_LOG/initdb.log" 2>&1; then
    tail -n 20 "$PG_LOG/initdb.log" >&2
    die "initdb failed; see $PG_LOG/initdb.log"
  fi
}

# Quote a value for postgresql.conf.
pg_conf_quote() {
  printf "'%s'" "${1//\'/\'\'}"
}

write_pg_config() {
  local conf=$PG_DATA/herald.conf
  # Kept in its own file, regenerated each start, so port/path changes apply
  # and postgresql.conf stays as initdb wrote it apart from one include line.
  cat >"$conf" <<EOF
# Generated by deploy/local/stack.sh on each start; edit the script instead.
listen_addresses = '$BIND_ADDR'
port = $PG_PORT
unix_socket_directories = $(pg_conf_quote "$PG_RUN")
max_connections = 200
shared_buffers = 256MB
# One 100,000-employee allocation writes about 135 MB of WAL; with the default 1 GB a
# checkpoint (and a round of full-page writes after it) falls every few allocations.
max_wal_size = 4GB
wal_buffers = 64MB
# Durability stays as in production (fsync, synchronous_commit at defaults),
# so crash/restart tests behave like the real thing.
fsync = on
logging_collector = on
log_directory = $(pg_conf_quote "$PG_LOG")
log_filename = 'postgresql-%a.log'
log_truncate_on_rotation = on
log_rotation_age = 1d
log_rotation_size = 0
log_line_prefix = '%m [%p] %q%u@%d '
EOF
  if ! grep -qx "include_if_exists = 'herald.conf'" "$PG_DATA/postgresql.conf"; then
    printf "\ninclude_if_exists = 'herald.conf'\n" >>"$PG_DATA/postgresql.conf"
  fi
  cat >"$PG_DATA/pg_hba.conf" <<'EOF'
# Generated by deploy/local/stack.sh. Trust is fine here only because the
# server listens on 127.0.0.1 and a socket inside HERALD_HOME: this cluster
# is a loopback-only development database.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   trust
EOF
  if is_root; then
    chown "$PG_OS_USER:" "$conf" "$PG_DATA/postgresql.conf" "$PG_DATA/pg_hba.conf"
  fi
}

pg_pid() {
  local pid
  pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null) || return 1
  pid_matches "$pid" "$PG_DATA" || return 1
  printf '%s\n' "$pid"
}

pg_ready() {
  local bindir
  bindir=$(pg_bindir) || return 1
  "$bindir/pg_isready" -q -h "$BIND_ADDR" -p "$PG_PORT" -d postgres -U "$PG_ROLE"
}

pg_psql() {
  local bindir
  bindir=$(pg_bindir)
  PGCONNECT_TIMEOUT=10 "$bindir/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$BIND_ADDR" -p "$PG_PORT" -U "$PG_ROLE" -d postgres "$@"
}

ensure_pg_database() {
  local exists
  # The role needs no step of its own: initdb -U made it the bootstrap
  # superuser, and every connection here already logs in as it.
  exists=$(pg_psql -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")
  if [[ $exists != 1 ]]; then
    log "creating database $PG_DB"
    pg_psql -c "CREATE DATABASE $PG_DB OWNER $PG_ROLE"
  fi
}

start_postgres() {
  local pid bindir
  if pid=$(pg_pid); then
    # Alive but not answering yet: crash recovery or a start in progress.
    wait_until "$START_TIMEOUT" pg_ready ||
      die "PostgreSQL (pid $pid) is running but not accepting connections; see $PG_LOG"
    log "postgres: already running (pid $pid), reusing it"
    ensure_pg_database
    return 0
  fi
  port_open "$PG_PORT" &&
    die "port $PG_PORT is taken by a process that is not this stack's PostgreSQL"
  ensure_pg_binaries
  bindir=$(pg_bindir)
  ensure_pg_account
  ensure_pg_dirs
  ensure_pg_path_traversable
  init_pg_cluster "$bindir"
  write_pg_config
  # pg_ctl daemonises the postmaster itself; setsid additionally keeps it out
  # of the caller's session. -w waits until it accepts connections.
  if ! as_pg_user setsid -w "$bindir/pg_ctl" -D "$PG_DATA" \
    -l "$PG_LOG/startup.log" -w -t "$START_TIMEOUT" start >&2 9>&-; then
    tail -n 20 "$PG_LOG/startup.log" >&2 2>/dev/null || true
    die "PostgreSQL failed to start; see $PG_LOG"
  fi
  wait_until 30 pg_ready || die "PostgreSQL started but pg_isready fails; see $PG_LOG"
  ensure_pg_database
  log "postgres: ready on $BIND_ADDR:$PG_PORT (pid $(pg_pid))"
}

stop_postgres() {
  local pid bindir
  if ! pid=$(pg_pid); then
    log "postgres: not running"
    return 0
  fi
  bindir=$(pg_bindir) || die "PostgreSQL (pid $pid) runs but its binaries are gone"
  log "postgres: stopping (pid $pid)"
  # fast: roll back open transactions instead of waiting for clients, which
  # long-lived service connections would otherwise hold up forever.
  as_pg_user "$bindir/pg_ctl" -D "$PG_DATA" -m fast -w -t 120 stop >&2 ||
    die "pg_ctl stop failed; see $PG_LOG"
  log "postgres: stopped"
}

# ------------------------------------------------------------ Commands ---

write_stack_env() {
  mkdir -p "$HERALD_HOME"
  cat >"$STACK_ENV.tmp" <<EOF
HERALD_KAFKA_BOOTSTRAP=$BIND_ADDR:$KAFKA_PORT
HERALD_DATABASE_URL=postgresql://$PG_ROLE@$BIND_ADDR:$PG_PORT/$PG_DB
EOF
  mv "$STACK_ENV.tmp" "$STACK_ENV"
  cat "$STACK_ENV"
}

show_env() {
  [[ -f $STACK_ENV ]] || die "$STACK_ENV does not exist; run '$(basename "$0") start' first"
  cat "$STACK_ENV"
}

status() {
  local pid up=0
  if pid=$(kafka_pid); then
    if port_open "$KAFKA_PORT"; then
      echo "kafka: running (pid $pid, $BIND_ADDR:$KAFKA_PORT)"
      up=$((up + 1))
    else
      echo "kafka: starting or unhealthy (pid $pid, $BIND_ADDR:$KAFKA_PORT not answering)"
    fi
  else
    echo "kafka: stopped"
  fi
  if pid=$(pg_pid); then
    if pg_ready; then
      echo "postgres: running (pid $pid, $BIND_ADDR:$PG_PORT)"
      up=$((up + 1))
    else
      echo "postgres: starting or unhealthy (pid $pid, $BIND_ADDR:$PG_PORT not ready)"
    fi
  else
    echo "postgres: stopped"
  fi
  ((up == 2)) || return 3
}

main() {
  local cmd=${1:-}
  if (($# > 0)); then shift; fi
  case $cmd in
    start)
      acquire_lock
      launch_kafka_if_needed
      start_postgres
      wait_kafka_ready
      write_stack_env
      ;;
    stop)
      acquire_lock
      stop_kafka
      stop_postgres
      ;;
    status) status ;;
    env) show_env ;;
    kafka-class) kafka_class "$@" ;;
    start-kafka)
      acquire_lock
      start_kafka
      write_stack_env >/dev/null
      ;;
    stop-kafka)
      acquire_lock
      stop_kafka
      ;;
    restart-kafka)
      acquire_lock
      # Refuse before stopping a working broker, not after.
      check_kafka_controller_port
      stop_kafka
      start_kafka
      write_stack_env >/dev/null
      ;;
    kill-kafka)
      acquire_lock
      kill_kafka
      ;;
    start-postgres)
      acquire_lock
      start_postgres
      write_stack_env >/dev/null
      ;;
    stop-postgres)
      acquire_lock
      stop_postgres
      ;;
    restart-postgres)
      acquire_lock
      stop_postgres
      start_postgres
      write_stack_env >/dev/null
      ;;
    -h | --help | help) usage ;;
    *)
      usage >&2
      exit 2
      ;;
  esac
}

main "$@"

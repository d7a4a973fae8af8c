#!/usr/bin/env bash
# Run a throwaway single-node Elasticsearch for tests and demos.
#
#   scripts/local-es.sh start    fetch (once), unpack (once) and start a node on 127.0.0.1:<free port>
#   scripts/local-es.sh stop     stop it (SIGTERM, wait, then SIGKILL) and delete its data
#   scripts/local-es.sh status   say whether it runs (exit 0) or not (exit 3)
#   scripts/local-es.sh url      print its URL (exit 3 when not running)
#   scripts/local-es.sh fetch    only download and unpack (CI/Docker warm-up)
#
# The node is Elasticsearch's integration-test distribution from Maven Central
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch:<version>:zip): no bundled JDK,
# plain HTTP, no EQL module. It is fetched with Maven into a cache outside git and started as a
# non-root user (Elasticsearch refuses root; as root we create the system user `eqlwatch-es`).
#
# Environment:
#   EQLWATCH_CACHE             cache root (default $HOME/.cache/eqlwatch): zip, unpacked dist, state
#   EQLWATCH_ES_VERSION        version to run (default: 9.2.4 when a JDK 21+ is found, else 8.19.21)
#   EQLWATCH_ES_STATE_DIR      where the state files live (default $EQLWATCH_CACHE/run):
#                                es.url   the URL alone, es.state  url/pid/run dir/version/java
#   EQLWATCH_ES_HEAP           heap size (default 512m)
#   EQLWATCH_ES_START_TIMEOUT  seconds to wait for yellow/green health (default 180)
#   EQLWATCH_ES_KEEP_DATA=1    keep the data/log dir on stop
#   ES_JAVA_HOME / JAVA_HOME   JDK to use first (must be new enough); else /usr/lib/jvm/* is probed
set -euo pipefail
shopt -s inherit_errexit # a failing $(...) must stop the script too

# Defaults: the newest integ-test-zip known on Maven Central per major. 9.x zips are published without a
# pom and are missing from maven-metadata.xml (which stops at 8.19.21), so they cannot be discovered by
# listing: they are pinned here. 9.x needs Java 21+; without one, the newest 8.x (Java 17) is used.
readonly DEFAULT_VERSION_9="9.2.4"
readonly DEFAULT_VERSION_8="8.19.21"
readonly GROUP_PATH="org/elasticsearch/distribution/integ-test-zip/elasticsearch"
readonly ARTIFACT_BASE="org.elasticsearch.distribution.integ-test-zip:elasticsearch"
readonly MAVEN_REPO="https://repo.maven.apache.org/maven2"
readonly ES_USER="eqlwatch-es"

HOME="${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}"
CACHE="${EQLWATCH_CACHE:-$HOME/.cache/eqlwatch}"
STATE_DIR="${EQLWATCH_ES_STATE_DIR:-$CACHE/run}"
STATE_FILE="$STATE_DIR/es.state"
URL_FILE="$STATE_DIR/es.url"
LOCK_FILE="$STATE_DIR/es.lock"
HEAP="${EQLWATCH_ES_HEAP:-512m}"
START_TIMEOUT="${EQLWATCH_ES_START_TIMEOUT:-180}"

log() { printf '[local-es] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------- state

# Reads es.state (key=value lines written by this script) into STATE_* variables.
read_state() {
  STATE_URL="" STATE_PID="" STATE_RUN_DIR="" STATE_VERSION="" STATE_JAVA=""
  [[ -f "$STATE_FILE" ]] || return 1
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      url) STATE_URL="$value" ;;
      pid) STATE_PID="$value" ;;
      run_dir) STATE_RUN_DIR="$value" ;;
      version) STATE_VERSION="$value" ;;
      java) STATE_JAVA="$value" ;;
    esac
  done <"$STATE_FILE"
  [[ -n "$STATE_PID" && -n "$STATE_URL" ]]
}

# True when $1 is a live Elasticsearch server process started from run dir $2 (guards against pid reuse).
is_our_es() {
  local pid="$1" run_dir="$2"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  [[ -r "/proc/$pid/cmdline" ]] || return 1
  local cmdline
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *org.elasticsearch* && "$cmdline" == *"$run_dir"* ]]
}

running() { read_state && is_our_es "$STATE_PID" "$STATE_RUN_DIR"; }

clear_state() { rm -f "$STATE_FILE" "$URL_FILE"; }

# ---------------------------------------------------------------- java

# Major version of the JDK at $1 (empty when it is not a JDK).
java_major() {
  local home="$1" v
  [[ -x "$home/bin/java" ]] || return 1
  if [[ -f "$home/release" ]]; then
    v="$(sed -n 's/^JAVA_VERSION="\([^"]*\)".*/\1/p' "$home/release")"
  fi
  if [[ -z "${v:-}" ]]; then
    v="$("$home/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  fi
  v="${v#1.}"
  v="${v%%[.+-]*}"
  [[ "$v" =~ ^[0-9]+$ ]] || return 1
  echo "$v"
}

# Minimum Java for an Elasticsearch version: 9.x needs 21, 8.x runs on 17.
min_java_for() {
  local major="${1%%.*}"
  if ((major >= 9)); then echo 21; else echo 17; fi
}

# JDK home able to run Elasticsearch $1. An explicit ES_JAVA_HOME/JAVA_HOME wins when new enough;
# otherwise the oldest JDK that meets the minimum (an LTS the version is tested on).
pick_java() {
  local need explicit home major best="" best_major=999
  need="$(min_java_for "$1")"
  for explicit in "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}"; do
    [[ -n "$explicit" ]] || continue
    if major="$(java_major "$explicit")" && ((major >= need)); then
      echo "$explicit"
      return 0
    fi
    log "ignoring $explicit: Java ${major:-?} < $need needed by Elasticsearch $1"
  done
  for home in /usr/lib/jvm/*; do
    [[ -d "$home" && ! -L "$home" ]] || continue
    major="$(java_major "$home")" || continue
    if ((major >= need && major < best_major)); then
      best="$home"
      best_major="$major"
    fi
  done
  [[ -n "$best" ]] || return 1
  echo "$best"
}

# ---------------------------------------------------------------- version + download

resolve_version() {
  local v="${EQLWATCH_ES_VERSION:-}"
  if [[ -z "$v" ]]; then
    if pick_java "$DEFAULT_VERSION_9" >/dev/null 2>&1; then v="$DEFAULT_VERSION_9"; else v="$DEFAULT_VERSION_8"; fi
  fi
  [[ "$v" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad EQLWATCH_ES_VERSION '$v' (want x.y.z, e.g. $DEFAULT_VERSION_8)"
  echo "$v"
}

fetch_zip() {
  local version="$1" zip="$CACHE/dist/elasticsearch-$version.zip"
  if [[ ! -s "$zip" ]]; then
    command -v mvn >/dev/null || die "Maven (mvn) is required to fetch Elasticsearch"
    log "fetching $ARTIFACT_BASE:$version:zip from Maven Central"
    mkdir -p "$CACHE/dist"
    # Run outside any project so a pom.xml in the working directory cannot interfere.
    # Explicit local repository: Maven takes user.home from passwd, which may differ from $HOME.
    # Maven 3.8 prints ANSI resets even with -B -Dstyle.color=never: its output is kept aside and shown,
    # without escapes, only when it fails.
    local mvn_log
    mvn_log="$(mktemp)"
    if ! (cd "$CACHE/dist" && mvn -q -B -Dstyle.color=never dependency:copy -Dmaven.repo.local="${EQLWATCH_M2_REPO:-$HOME/.m2/repository}" \
      -Dartifact="$ARTIFACT_BASE:$version:zip" -DoutputDirectory="$CACHE/dist" </dev/null) >"$mvn_log" 2>&1; then
      sed -E $'s/\x1b\\[[0-9;]*[A-Za-z]//g' "$mvn_log" >&2
      rm -f "$mvn_log"
      die "Maven could not fetch Elasticsearch $version (does it exist? see $MAVEN_REPO/$GROUP_PATH/)"
    fi
    rm -f "$mvn_log"
    [[ -s "$zip" ]] || die "Maven finished but $zip is missing"
  fi
  echo "$zip"
}

# Where the unpacked distribution lives. As root, $HOME is usually not traversable by the ES user,
# so the tree goes to a world-readable system location instead.
dist_root() {
  if is_root; then echo "${EQLWATCH_ES_DIST_DIR:-/var/cache/eqlwatch-es}"; else echo "${EQLWATCH_ES_DIST_DIR:-$CACHE/es}"; fi
}

# unzip when present; otherwise Python's zipfile, keeping the Unix permissions (bin/ must stay executable).
extract_zip() {
  if command -v unzip >/dev/null; then
    unzip -q "$1" -d "$2"
  elif command -v python3 >/dev/null; then
    python3 - "$1" "$2" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    for info in z.infolist():
        path = z.extract(info, sys.argv[2])
        mode = (info.external_attr >> 16) & 0o777
        if mode:
            os.chmod(path, mode)
PY
  else
    die "need unzip or python3 to unpack $1"
  fi
}

# Download + unpack under a cache-wide lock: runs with different state dirs share one distribution.
install_dist() {
  local version="$1" zip home
  mkdir -p "$CACHE/dist"
  exec 8>"$CACHE/dist/.lock"
  flock -w 900 8 || die "timed out waiting for another download/unpack ($CACHE/dist/.lock)"
  zip="$(fetch_zip "$version")"
  home="$(unpack "$version" "$zip")"
  exec 8>&-
  echo "$home"
}

unpack() {
  local version="$1" zip="$2" root home tmp
  root="$(dist_root)"
  home="$root/elasticsearch-$version"
  if [[ ! -x "$home/bin/elasticsearch" ]]; then
    log "unpacking $(basename "$zip") into $root"
    mkdir -p "$root"
    tmp="$(mktemp -d "$root/.unpack.XXXXXX")"
    extract_zip "$zip" "$tmp" || { rm -rf "$tmp"; die "could not unpack $zip"; }
    [[ -x "$tmp/elasticsearch-$version/bin/elasticsearch" ]] || { rm -rf "$tmp"; die "unexpected zip layout in $zip"; }
    rm -rf "$home"
    mv "$tmp/elasticsearch-$version" "$home"
    rm -rf "$tmp"
    chmod -R a+rX "$home"
  fi
  echo "$home"
}

# ---------------------------------------------------------------- user, port

ensure_es_user() {
  if ! id -u "$ES_USER" >/dev/null 2>&1; then
    log "creating system user $ES_USER (Elasticsearch refuses to run as root)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$ES_USER" ||
      id -u "$ES_USER" >/dev/null 2>&1 || die "could not create user $ES_USER"
  fi
}

free_port() {
  if command -v node >/dev/null; then
    node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
  elif command -v python3 >/dev/null; then
    python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1]);s.close()'
  else
    die "need node or python3 to pick a free port"
  fi
}

# ---------------------------------------------------------------- commands

cmd_start() {
  mkdir -p "$STATE_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "timed out waiting for another start/stop to finish ($LOCK_FILE)"

  if running; then
    log "already running: $STATE_URL (pid $STATE_PID, Elasticsearch $STATE_VERSION)"
    echo "$STATE_URL"
    return 0
  fi
  if read_state; then
    log "previous node (pid $STATE_PID) is gone; removing its data"
    [[ "$STATE_RUN_DIR" == */eqlwatch-es.* && -d "$STATE_RUN_DIR" ]] && rm -rf "$STATE_RUN_DIR"
  fi
  clear_state

  local version java_home java_v zip home run_dir port url
  version="$(resolve_version)"
  java_home="$(pick_java "$version")" ||
    die "no JDK >= $(min_java_for "$version") found for Elasticsearch $version (set ES_JAVA_HOME)"
  java_v="$(java_major "$java_home")"
  home="$(install_dist "$version")"

  run_dir="$(mktemp -d "${TMPDIR:-/tmp}/eqlwatch-es.XXXXXX")"
  mkdir -p "$run_dir/config" "$run_dir/data" "$run_dir/logs" "$run_dir/tmp"
  cp -R "$home/config/." "$run_dir/config/"
  port="$(free_port)"
  url="http://127.0.0.1:$port"
  cat >>"$run_dir/config/elasticsearch.yml" <<EOF

# --- eqlwatch test node ---
cluster.name: eqlwatch-test
node.name: eqlwatch-test-node
discovery.type: single-node
network.host: 127.0.0.1
http.port: $port
path.data: $run_dir/data
path.logs: $run_dir/logs
# A nearly full disk must not turn indices read-only mid-test.
cluster.routing.allocation.disk.threshold_enabled: false
# Plain HTTP without auth: the integ-test-zip ships x-pack-security, which would otherwise be on.
xpack.security.enabled: false
# Lets test clean-up delete by pattern (production clusters default to true).
action.destructive_requires_name: false
EOF

  local -a runas=()
  if is_root; then
    ensure_es_user
    chown -R "$ES_USER:" "$run_dir"
    runas=(runuser -u "$ES_USER" --)
  fi

  log "starting Elasticsearch $version on $url (Java $java_v at $java_home, heap $HEAP, data in $run_dir)"
  # -d daemonizes: the launcher returns once the server runs; -p records the server's pid.
  "${runas[@]}" env -u JAVA_HOME HOME="$run_dir" ES_JAVA_HOME="$java_home" \
    ES_PATH_CONF="$run_dir/config" ES_TMPDIR="$run_dir/tmp" \
    ES_JAVA_OPTS="-Xms$HEAP -Xmx$HEAP ${EQLWATCH_ES_JAVA_OPTS:-}" \
    "$home/bin/elasticsearch" -d -p "$run_dir/es.pid" \
    </dev/null >"$run_dir/launcher.out" 2>&1 9>&- &
  local launcher=$! started=$SECONDS last_note=$SECONDS health="" pid="" launcher_done=0 launcher_rc=0

  while ((SECONDS - started < START_TIMEOUT)); do
    if ((launcher_done == 0)) && ! kill -0 "$launcher" 2>/dev/null; then
      launcher_done=1
      wait "$launcher" || launcher_rc=$?
      if ((launcher_rc != 0)); then
        log "launcher failed (exit $launcher_rc):"
        if [[ -s "$run_dir/launcher.out" ]]; then tail -n 40 "$run_dir/launcher.out" >&2; else
          tail -n 40 "$run_dir/logs/eqlwatch-test.log" >&2 2>/dev/null || true; fi
        die "Elasticsearch did not start; logs in $run_dir"
      fi
    fi
    health="$(curl -fsS --max-time 5 "$url/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null |
      sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' || true)"
    if [[ "$health" == green || "$health" == yellow ]]; then break; fi
    sleep 1
    printf '.' >&2
    if ((SECONDS - last_note >= 15)); then
      last_note=$SECONDS
      printf ' %ss\n' "$((SECONDS - started))" >&2
    fi
  done
  printf '\n' >&2
  if [[ "$health" != green && "$health" != yellow ]]; then
    [[ -f "$run_dir/es.pid" ]] && kill -KILL "$(cat "$run_dir/es.pid")" 2>/dev/null || true
    kill -KILL "$launcher" 2>/dev/null || true
    tail -n 40 "$run_dir/logs/eqlwatch-test.log" >&2 2>/dev/null || tail -n 40 "$run_dir/launcher.out" >&2 || true
    die "Elasticsearch not healthy after ${START_TIMEOUT}s; logs in $run_dir"
  fi
  if ((launcher_done == 0)); then wait "$launcher" || true; fi
  pid="$(cat "$run_dir/es.pid" 2>/dev/null || true)"
  is_our_es "$pid" "$run_dir" || die "Elasticsearch answers on $url but its pid file is missing ($run_dir/es.pid)"

  {
    echo "url=$url"
    echo "pid=$pid"
    echo "run_dir=$run_dir"
    echo "version=$version"
    echo "java=$java_home"
  } >"$STATE_FILE.tmp"
  mv "$STATE_FILE.tmp" "$STATE_FILE"
  echo "$url" >"$URL_FILE.tmp"
  mv "$URL_FILE.tmp" "$URL_FILE"
  log "Elasticsearch $version is $health at $url (pid $pid); URL in $URL_FILE"
  echo "$url"
}

cmd_stop() {
  mkdir -p "$STATE_DIR"
  exec 9>"$LOCK_FILE"
  flock -w 600 9 || die "timed out waiting for another start/stop to finish ($LOCK_FILE)"
  if ! read_state; then
    log "not running"
    clear_state
    return 0
  fi
  if is_our_es "$STATE_PID" "$STATE_RUN_DIR"; then
    log "stopping Elasticsearch (pid $STATE_PID)"
    kill -TERM "$STATE_PID" 2>/dev/null || true
    local waited=0
    while is_our_es "$STATE_PID" "$STATE_RUN_DIR" && ((waited < 60)); do
      sleep 1
      waited=$((waited + 1))
    done
    if is_our_es "$STATE_PID" "$STATE_RUN_DIR"; then
      log "still alive after ${waited}s: SIGKILL"
      kill -KILL "$STATE_PID" 2>/dev/null || true
      sleep 1
    fi
  else
    log "process $STATE_PID is gone; cleaning up"
  fi
  if [[ "${EQLWATCH_ES_KEEP_DATA:-0}" == 1 ]]; then
    log "kept $STATE_RUN_DIR"
  elif [[ "$STATE_RUN_DIR" == */eqlwatch-es.* && -d "$STATE_RUN_DIR" ]]; then
    rm -rf "$STATE_RUN_DIR"
  fi
  clear_state
  log "stopped"
}

cmd_fetch() {
  local version java_home zip home
  version="$(resolve_version)"
  java_home="$(pick_java "$version")" ||
    die "no JDK >= $(min_java_for "$version") found for Elasticsearch $version (set ES_JAVA_HOME)"
  home="$(install_dist "$version")"
  log "Elasticsearch $version ready in $home (will run on Java $(java_major "$java_home") at $java_home)"
}

cmd_status() {
  if running; then
    echo "running: $STATE_URL (pid $STATE_PID, Elasticsearch $STATE_VERSION, Java $STATE_JAVA, data $STATE_RUN_DIR)"
    return 0
  fi
  echo "stopped"
  return 3
}

cmd_url() {
  if running; then
    echo "$STATE_URL"
    return 0
  fi
  log "not running (start it with: $0 start)"
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) cmd_url ;;
  fetch) cmd_fetch ;;
  *)
    echo "usage: $0 start|stop|status|url|fetch" >&2
    exit 2
    ;;
esac

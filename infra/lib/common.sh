# Shared by infra/up, infra/down and infra/test. Sourced, not run.
# Everything lives under $VAR (./var by default) and listens on 127.0.0.1 only.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VAR=${SANDBOX_VAR:-$ROOT/var}
PG_BIN=/usr/lib/postgresql/15/bin
PG_PORT=${SANDBOX_PG_PORT:-15432}
NATS_PORT=${SANDBOX_NATS_PORT:-14222}
NATS_MONITOR_PORT=${SANDBOX_NATS_MONITOR_PORT:-18222}
API_PORT=${SANDBOX_API_PORT:-3000}
PROXY_PORT=${SANDBOX_PROXY_PORT:-4000}
SSH_PORT=${SANDBOX_SSH_PORT:-2222}
DB_NAME=platform
DB_URL="host=127.0.0.1 port=$PG_PORT user=postgres dbname=$DB_NAME"
NATS_URL="nats://127.0.0.1:$NATS_PORT"
# The build infra/up runs from: release, unless a test asks for its own (the SDK end-to-end
# test runs the debug build infra/test just made).
BUILD_PRESET=${SANDBOX_BUILD_PRESET:-release}
SERVICE_BIN=$ROOT/build/$BUILD_PRESET
# What infra/up builds and runs (tests and benchmarks are left to infra/test and bench/).
SERVICE_TARGETS="eventctl projector command-service runner-worker sandbox-daemon edge-proxy webhook-delivery kafka-export ssh-gateway daytona"

step() { printf '\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as the postgres user when we are root (PostgreSQL refuses to run as root).
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# pid_alive FILE [NAME]: the pid in FILE is a live process — not a zombie or one on its way out
# (right after a kill -9 it still exists for a moment) — and, with NAME, one whose command line
# names it (a pid the kernel gave to another process since does not count).
pid_alive() {
  [ -f "$1" ] || return 1
  local pid state
  pid=$(cat "$1")
  case "$pid" in ''|*[!0-9]*) return 1 ;; esac
  [ -r "/proc/$pid/stat" ] || return 1
  state=$(sed 's/^.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
  case "$state" in ''|Z|X|x) return 1 ;; esac
  if [ -n "${2:-}" ]; then tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1; fi
  return 0
}

# port_free PORT WHAT: stops with a message naming the port, what needed it and who holds it when
# something listens on it. (The default ports are below the kernel's ephemeral range, 32768 and
# up, so an outgoing connection cannot draw one; a port set in that range may still collide.)
port_free() {
  local port=$1 what=$2 holder
  holder=$(ss -Hltnp "sport = :$port" 2>/dev/null | head -3)
  [ -z "$holder" ] || die "port $port ($what) is taken:
$holder
set another with the environment (see infra/README.md) or stop what holds it"
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local limit=$1 what=$2; shift 2
  local tries=$((limit * 10))
  while ! "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "$what did not come up in ${limit}s"
    sleep 0.1
  done
}

# stop_pidfile FILE NAME: SIGTERM, wait up to 10 s, then SIGKILL. Only our own pid files.
stop_pidfile() {
  local file=$1 name=$2
  if ! pid_alive "$file"; then rm -f "$file"; return 0; fi
  local pid; pid=$(cat "$file")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; note "$name killed"; else note "$name stopped"; fi
  rm -f "$file"
}

# free_port: a port nobody listens on, below the kernel's ephemeral range (32768 and up), so
# an outgoing connection cannot hold it either. For scripts that bring up a private stack.
free_port() {
  local p
  while :; do
    p=$((10000 + RANDOM % 22000))
    ss -Hltn "sport = :$p" 2>/dev/null | grep -q . || { echo "$p"; return; }
  done
}

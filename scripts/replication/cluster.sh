#!/usr/bin/env bash
# A primary and a streaming standby as extra PostgreSQL 15 clusters on loopback ports,
# independent of the cluster on 5432 (Debian's pg_createcluster; run as root).
#
#   scripts/replication/cluster.sh up [sync|async]   create both (standby by pg_basebackup -R), wait for streaming
#   scripts/replication/cluster.sh rebuild [sync|async]  after a failover: start the primary again, standby anew
#                                                    from a base backup of it (no initdb; `up` if that fails)
#   scripts/replication/cluster.sh down              drop both (pg_dropcluster --stop); never fails
#   scripts/replication/cluster.sh sync|async        turn synchronous replication on or off on the primary
#
# Ports and names: IRISQL_REPL_PRIMARY_PORT (default 54391), IRISQL_REPL_STANDBY_PORT (54392),
# clusters 15/<IRISQL_REPL_NAME, default irisql_repl>_primary and ..._standby. Trust authentication on 127.0.0.1
# only; listen on 127.0.0.1 only.
set -euo pipefail
VERSION=${IRISQL_REPL_PG_VERSION:-15}
PRIMARY_PORT=${IRISQL_REPL_PRIMARY_PORT:-54391}
STANDBY_PORT=${IRISQL_REPL_STANDBY_PORT:-54392}
PREFIX=${IRISQL_REPL_NAME:-irisql_repl}
PRIMARY=${PREFIX}_primary
STANDBY=${PREFIX}_standby
APP=irisql_standby

psql_on() { psql -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atq -v ON_ERROR_STOP=1 -c "$2"; }

down() {
  for name in "$STANDBY" "$PRIMARY"; do
    if [ -d "/etc/postgresql/$VERSION/$name" ] || [ -d "/var/lib/postgresql/$VERSION/$name" ]; then
      pg_dropcluster --stop "$VERSION" "$name" >/dev/null 2>&1 || {
        pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$name" stop -m immediate >/dev/null 2>&1 || true
        pg_dropcluster "$VERSION" "$name" >/dev/null 2>&1 || true
      }
      rm -rf "/etc/postgresql/$VERSION/$name" "/var/lib/postgresql/$VERSION/$name"
    fi
  done
}

configure() { # name port
  local conf=/etc/postgresql/$VERSION/$1
  cat >>"$conf/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $2
wal_level = replica
max_wal_senders = 5
max_replication_slots = 5
hot_standby = on
hot_standby_feedback = on
wal_keep_size = '128MB'
max_connections = 60
shared_buffers = '32MB'
wal_receiver_status_interval = '1s'
wal_retrieve_retry_interval = '200ms'
CONF
  cat >"$conf/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 trust
host replication all 127.0.0.1/32 trust
HBA
}

wait_ready() { # port
  for _ in $(seq 1 100); do pg_isready -q -h 127.0.0.1 -p "$1" && return 0; sleep 0.1; done
  echo "server on $1 did not start" >&2
  return 1
}

set_sync() { # sync|async
  local names=""
  [ "$1" = sync ] && names="$APP"
  psql_on "$PRIMARY_PORT" "ALTER SYSTEM SET synchronous_standby_names = '$names'" >/dev/null
  psql_on "$PRIMARY_PORT" "SELECT pg_reload_conf()" >/dev/null
  # Until the reload is seen, commits may still return before the standby has them.
  for _ in $(seq 1 50); do
    [ "$(psql_on "$PRIMARY_PORT" "SHOW synchronous_standby_names")" = "$names" ] && break
    sleep 0.1
  done
  if [ "$1" = sync ]; then
    for _ in $(seq 1 100); do
      [ "$(psql_on "$PRIMARY_PORT" "SELECT sync_state FROM pg_stat_replication WHERE application_name = '$APP'")" = sync ] && return 0
      sleep 0.1
    done
    echo "the standby did not become synchronous" >&2
    return 1
  fi
}

# The standby's data directory from a base backup of the running primary; start it and wait until it streams.
standby_from_primary() {
  local data=/var/lib/postgresql/$VERSION/$STANDBY
  rm -rf "$data" && mkdir -m 700 "$data" && chown postgres:postgres "$data"
  su postgres -c "pg_basebackup -h 127.0.0.1 -p $PRIMARY_PORT -U postgres -D $data -R -X stream -c fast" >/dev/null
  # The walreceiver's name on the primary (synchronous_standby_names refers to it).
  echo "primary_conninfo = 'host=127.0.0.1 port=$PRIMARY_PORT user=postgres application_name=$APP'" \
    >>"$data/postgresql.auto.conf"
  chown postgres:postgres "$data/postgresql.auto.conf"
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$STANDBY" start
  wait_ready "$STANDBY_PORT"
  for _ in $(seq 1 100); do
    [ "$(psql_on "$PRIMARY_PORT" "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$APP' AND state = 'streaming'")" = 1 ] && break
    sleep 0.1
  done
}

report() { # sync|async
  echo "primary 127.0.0.1:$PRIMARY_PORT, standby 127.0.0.1:$STANDBY_PORT ($([ "$1" = sync ] && echo synchronous || echo asynchronous) replication)"
}

up() {
  down
  pg_createcluster "$VERSION" "$PRIMARY" -p "$PRIMARY_PORT" >/dev/null
  configure "$PRIMARY" "$PRIMARY_PORT"
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" start
  wait_ready "$PRIMARY_PORT"

  pg_createcluster "$VERSION" "$STANDBY" -p "$STANDBY_PORT" >/dev/null
  configure "$STANDBY" "$STANDBY_PORT"
  standby_from_primary
  set_sync "${1:-async}"
  report "${1:-async}"
}

# A primary with a streaming standby again after a failover (04-failover.test.ts stops the primary
# and promotes the standby), without initdb: the primary is started again if it is down, the
# standby rebuilt from a base backup of it. Whatever was written on the promoted standby is gone.
# Falls back to `up` when the clusters are not there or the primary does not come back.
rebuild() {
  if [ ! -d "/etc/postgresql/$VERSION/$PRIMARY" ] || [ ! -d "/etc/postgresql/$VERSION/$STANDBY" ]; then
    up "$1"
    return
  fi
  pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$STANDBY" stop -m immediate >/dev/null 2>&1 || true
  if ! pg_isready -q -h 127.0.0.1 -p "$PRIMARY_PORT"; then
    pg_ctlcluster --skip-systemctl-redirect "$VERSION" "$PRIMARY" start || true
  fi
  if ! wait_ready "$PRIMARY_PORT" 2>/dev/null || [ "$(psql_on "$PRIMARY_PORT" "SELECT pg_is_in_recovery()")" != f ]; then
    up "$1"
    return
  fi
  # No synchronous standby while there is none (commits would wait), and none in the copy: the
  # standby's own settings come from the base backup, and a promoted standby must not wait either.
  set_sync async
  standby_from_primary
  set_sync "$1"
  report "$1"
}

case "${1:-}" in
  up) up "${2:-async}" ;;
  rebuild) rebuild "${2:-async}" ;;
  down) down ;;
  sync | async) set_sync "$1" ;;
  *)
    echo "usage: $0 up [sync|async] | rebuild [sync|async] | down | sync | async" >&2
    exit 2
    ;;
esac

#!/bin/sh
# Entrypoint of the example database: Debian's PostgreSQL 15, initialised on first start.
#
# The superuser password and the app user's password are both the compose secret named by
# POSTGRES_PASSWORD_FILE. It is read from that file only (initdb --pwfile, psql's backquote), so
# it never appears on a command line or in the environment.
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_DB=${POSTGRES_DB:-app}
POSTGRES_USER=${POSTGRES_USER:-app}
POSTGRES_PASSWORD_FILE=${POSTGRES_PASSWORD_FILE:-/run/secrets/db_password}
export PGDATA

log() { printf 'db-entrypoint: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Started as root anyway (e.g. `docker run --user 0`)? Fix ownership and drop to postgres.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /run/postgresql
  chown postgres:postgres "$PGDATA" /run/postgresql
  chmod 0700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  [ -r "$POSTGRES_PASSWORD_FILE" ] || die "cannot read $POSTGRES_PASSWORD_FILE (the db_password secret) as $(id -un)"
  [ -s "$POSTGRES_PASSWORD_FILE" ] || die "$POSTGRES_PASSWORD_FILE is empty"
  log "initialising $PGDATA"
  initdb --pgdata="$PGDATA" --username=postgres --pwfile="$POSTGRES_PASSWORD_FILE" \
    --auth-local=peer --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >/dev/null

  cat >>"$PGDATA/postgresql.conf" <<CONF

# Added by docker-entrypoint.sh
listen_addresses = '*'
unix_socket_directories = '/run/postgresql'
password_encryption = 'scram-sha-256'
CONF
  # Peer auth on the socket (the entrypoint and pg_isready run as postgres); passwords over TCP,
  # only from the networks this container is attached to (the compose backend network).
  cat >"$PGDATA/pg_hba.conf" <<CONF
local all all                peer
host  all all 127.0.0.1/32   scram-sha-256
host  all all ::1/128        scram-sha-256
host  all all samenet        scram-sha-256
CONF

  # A socket-only server for set-up, so clients (and the TCP healthcheck) see nothing half done.
  pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait --timeout=60 start >/dev/null
  export POSTGRES_PASSWORD_FILE
  psql -X -q -v ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
    --set=db="$POSTGRES_DB" --set=user="$POSTGRES_USER" --set=pwfile="$POSTGRES_PASSWORD_FILE" <<'SQL'
\set pw `cat :'pwfile'`
SELECT :'user' <> 'postgres' AS create_role \gset
\if :create_role
CREATE ROLE :"user" LOGIN PASSWORD :'pw';
\endif
CREATE DATABASE :"db" OWNER :"user";
SQL
  pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop >/dev/null
  log "created database $POSTGRES_DB owned by $POSTGRES_USER"
fi

exec postgres -D "$PGDATA" "$@"

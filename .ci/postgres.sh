# Starts a throw-away PostgreSQL cluster on 127.0.0.1:54329 (Debian's packages) and exports
# DATABASE_URL. Sourced by .ci/run; usable by hand: `source .ci/postgres.sh && start_postgres`.
start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then echo "PostgreSQL binaries not found" >&2; return 1; fi
  local data=/tmp/awaken-tasks-pg
  local port=54329
  if ! "$bin/pg_isready" -h 127.0.0.1 -p "$port" -q 2>/dev/null; then
    rm -rf "$data"
    mkdir -p "$data"
    chown postgres:postgres "$data"
    su postgres -c "$bin/initdb -D $data -A trust -U postgres" >/dev/null
    su postgres -c "$bin/pg_ctl -D $data -o '-p $port -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off' -l $data/log -w start" >/dev/null
  fi
  psql -h 127.0.0.1 -p "$port" -U postgres -tc "select 1 from pg_database where datname='awaken'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$port" -U postgres -c "create database awaken" >/dev/null
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/awaken"
  echo "DATABASE_URL=$DATABASE_URL"
}

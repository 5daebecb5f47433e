#!/usr/bin/env bash
# A streaming replica of the local PostgreSQL (127.0.0.1:5432) for the replica tests:
#   .ci/replica.sh start DIR [PORT]   copies the cluster with pg_basebackup -R into DIR and starts
#                                     it as a hot standby on PORT (default 5433)
#   .ci/replica.sh stop DIR           stops it
# The primary must accept replication connections from 127.0.0.1: the line is added to its
# pg_hba.conf (and the configuration reloaded) when missing.
set -euo pipefail
cmd=$1 dir=$2 port=${3:-5433}
version=$(ls /etc/postgresql | head -1)
bin=/usr/lib/postgresql/$version/bin
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  hba=/etc/postgresql/$version/main/pg_hba.conf
  if ! grep -qE '^host\s+replication\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    echo "host replication all 127.0.0.1/32 trust" >> "$hba"
    psql -h 127.0.0.1 -U postgres -qAtc "SELECT pg_reload_conf()" >/dev/null
  fi
  mkdir -p "$dir"
  chown postgres: "$dir" 2>/dev/null || true
  chmod 700 "$dir"
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U postgres -D "$dir/data" -R -X stream -c fast
  # Debian keeps the configuration outside the data folder: the copy gets its own.
  printf "listen_addresses = '127.0.0.1'\nport = %s\nunix_socket_directories = '%s'\nhot_standby = on\nhot_standby_feedback = on\n" \
    "$port" "$dir" | as_postgres tee "$dir/data/postgresql.conf" >/dev/null
  printf "local all all trust\nhost all all 127.0.0.1/32 trust\n" | as_postgres tee "$dir/data/pg_hba.conf" >/dev/null
  as_postgres touch "$dir/data/pg_ident.conf"
  as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start >/dev/null
  psql -h 127.0.0.1 -p "$port" -U postgres -qAtc "SELECT pg_is_in_recovery()" | grep -qx t
  echo "replica on 127.0.0.1:$port (streaming from 5432)"
  ;;
stop)
  as_postgres "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
  ;;
esac

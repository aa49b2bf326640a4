#!/usr/bin/env bash
# Make what the test suite needs available: PostgreSQL on 127.0.0.1:5432 and
# Debian's Chromium for the browser tests. Uses what is there; installs and
# starts what is missing (needs root and Debian's package registry).
set -euo pipefail

log() { printf 'ensure-services: %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=""
apt_install() {
  [ -n "$apt_updated" ] || { as_root apt-get update -qq; apt_updated=1; }
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

pg_listening() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432
  else
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

if pg_listening; then
  log "PostgreSQL is listening on 127.0.0.1:5432"
else
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian's packages"
    apt_install postgresql
  fi
  version=$(ls /etc/postgresql | sort -V | tail -1)
  conf=/etc/postgresql/$version/main
  # trust local TCP connections for the test user, as on the developers' machines
  if ! grep -q "feedhub-tests" "$conf/pg_hba.conf"; then
    as_root sed -i '1i host all all 127.0.0.1/32 trust # feedhub-tests\nhost all all ::1/128 trust # feedhub-tests' "$conf/pg_hba.conf"
  fi
  log "starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start
  for _ in $(seq 1 30); do pg_listening && break; sleep 1; done
  pg_listening || { log "PostgreSQL did not come up"; exit 1; }
fi

if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  apt_install chromium fonts-dejavu-core
fi

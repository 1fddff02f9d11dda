#!/usr/bin/env bash
# A real ACME server for the lab: Debian's Pebble (package pebble: /usr/bin/pebble and
# /usr/bin/pebble-challtestsrv), with nothing skipped: every HTTP-01 challenge is validated by
# fetching http://<domain>:<LAB_PEBBLE_HTTP_PORT>/.well-known/acme-challenge/<token>, the domain
# resolved by pebble-challtestsrv's DNS server (every name -> 127.0.0.1 unless a test sets an A
# record through its management API: POST /add-a {"host": "<name>.", "addresses": ["<ip>"]}).
#   - Pebble's ACME directory:    https://<docker0 address>:14000/dir (containers: extra_hosts
#     pebble:host-gateway, then https://pebble:14000/dir), TLS from the lab's test CA (LAB_CA_FILE)
#   - its management interface:  https://<docker0 address>:15000 (GET /roots/0: the root that
#     issued every certificate; Pebble makes a new one at each start)
#   - challtestsrv's management: http://127.0.0.1:8055, its DNS server 127.0.0.1:8053
# Certificates live LAB_PEBBLE_CERT_DAYS days (90, as Let's Encrypt's). PEBBLE_VA_NOSLEEP=1 (no
# random wait before validating) and PEBBLE_WFE_NONCEREJECT=0 (no good nonce refused) keep
# issuance fast and deterministic; validation itself is never skipped.
# Called by up.sh (idempotent; restarts what is not running), stopped by down.sh. Writes its
# .lab/env lines to .lab/pebble/env.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
lab="$root/.lab"
run="$lab/run"
dir="$lab/pebble"
tls="$lab/tls"
ACME_PORT=${LAB_PEBBLE_PORT:-14000}
MGMT_PORT=${LAB_PEBBLE_MANAGEMENT_PORT:-15000}
HTTP_PORT=${LAB_PEBBLE_HTTP_PORT:-5002}
DNS_PORT=${LAB_PEBBLE_DNS_PORT:-8053}
CHALL_PORT=${LAB_CHALLTESTSRV_PORT:-8055}
CERT_DAYS=90

say() { printf '\033[1mlab:\033[0m %s\n' "$*"; }
die() { printf 'lab: error: %s\n' "$*" >&2; exit 1; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
wait_for() { # command seconds
  local i
  for ((i = 0; i < $2 * 5; i++)); do eval "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
start_daemon() { # name logfile cmd...
  local name=$1 log=$2
  shift 2
  setsid nohup "$@" >"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$run/$name.pid"
}

mkdir -p "$dir" "$run"
exec 9>"$dir/lock"
flock 9

if ! command -v pebble >/dev/null || ! command -v pebble-challtestsrv >/dev/null; then
  say "installing Debian's pebble package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q pebble >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q pebble >/dev/null; } ||
    die "apt-get install pebble failed"
fi
[ -s "$tls/ca.key" ] || die "the lab's test CA ($tls/ca.key) is missing: run up.sh"

# Containers reach the host on the default bridge's address (extra_hosts host-gateway).
gw=$(ip -4 -o addr show docker0 2>/dev/null | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$gw" ] || die "no docker0 bridge address: is dockerd running?"

# Pebble's own HTTPS certificate, from the lab's test CA, for the names containers and tests use.
san="DNS:pebble,DNS:localhost,IP:127.0.0.1,IP:$gw"
if [ ! -s "$dir/cert.pem" ] || [ "$(cat "$dir/cert.san" 2>/dev/null)" != "$san" ] ||
  ! openssl verify -CAfile "$tls/ca.crt" "$dir/cert.pem" >/dev/null 2>&1 ||
  ! openssl x509 -checkend 2592000 -noout -in "$dir/cert.pem" >/dev/null; then
  say "making Pebble's HTTPS certificate ($san)"
  (umask 077 && openssl req -newkey rsa:2048 -nodes -subj /CN=pebble -keyout "$dir/key.pem" -out "$dir/cert.csr" 2>/dev/null)
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$san" >"$dir/ext.cnf"
  openssl x509 -req -in "$dir/cert.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial \
    -days 825 -extfile "$dir/ext.cnf" -out "$dir/cert.pem" 2>/dev/null
  printf '%s\n' "$san" >"$dir/cert.san"
  rm -f "$dir/cert.csr"
  rm -f "$dir/config.json" # a new certificate: restart Pebble below
fi

config=$(
  cat <<EOF
{
  "pebble": {
    "listenAddress": "$gw:$ACME_PORT",
    "managementListenAddress": "$gw:$MGMT_PORT",
    "certificate": "$dir/cert.pem",
    "privateKey": "$dir/key.pem",
    "httpPort": $HTTP_PORT,
    "tlsPort": 5001,
    "ocspResponderURL": "",
    "externalAccountBindingRequired": false,
    "certificateValidityPeriod": $((CERT_DAYS * 86400))
  }
}
EOF
)
restart=false
if [ "$(cat "$dir/config.json" 2>/dev/null)" != "$config" ]; then
  printf '%s\n' "$config" >"$dir/config.json"
  restart=true
fi

# The DNS server first: Pebble resolves every name it validates through it. Only its DNS and
# management listeners (its own HTTP-01 and TLS-ALPN responders would take the challenge port).
if ! alive "$run/challtestsrv.pid"; then
  say "starting pebble-challtestsrv (DNS 127.0.0.1:$DNS_PORT, management 127.0.0.1:$CHALL_PORT)"
  start_daemon challtestsrv "$dir/challtestsrv.log" pebble-challtestsrv \
    -dns01 "127.0.0.1:$DNS_PORT" -management "127.0.0.1:$CHALL_PORT" \
    -http01 "" -https01 "" -tlsalpn01 "" -defaultIPv4 127.0.0.1 -defaultIPv6 ""
  wait_for "curl -fs -o /dev/null -X POST -d '{\"ip\":\"127.0.0.1\"}' http://127.0.0.1:$CHALL_PORT/set-default-ipv4" 20 ||
    die "pebble-challtestsrv did not start; see $dir/challtestsrv.log"
fi

answers() { curl -fs -o /dev/null --cacert "$tls/ca.crt" "https://$gw:$ACME_PORT/dir"; }
if alive "$run/pebble.pid" && { $restart || ! answers; }; then
  pid=$(cat "$run/pebble.pid")
  kill "$pid"
  wait_for "! kill -0 $pid" 10 || kill -9 "$pid" 2>/dev/null || true
fi
if ! alive "$run/pebble.pid"; then
  say "starting Pebble on https://$gw:$ACME_PORT/dir (management :$MGMT_PORT, validations on port $HTTP_PORT)"
  start_daemon pebble "$dir/pebble.log" env PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
    pebble -config "$dir/config.json" -dnsserver "127.0.0.1:$DNS_PORT"
  wait_for answers 30 || die "Pebble did not start; see $dir/pebble.log"
fi
curl -fs -o /dev/null --cacert "$tls/ca.crt" "https://$gw:$MGMT_PORT/roots/0" ||
  die "Pebble's management interface does not answer on $gw:$MGMT_PORT; see $dir/pebble.log"

cat >"$dir/env.tmp" <<EOF
LAB_PEBBLE_URL=https://pebble:$ACME_PORT/dir
LAB_PEBBLE_HOST_URL=https://$gw:$ACME_PORT/dir
LAB_PEBBLE_GATEWAY=$gw
LAB_PEBBLE_MANAGEMENT_URL=https://$gw:$MGMT_PORT
LAB_PEBBLE_HTTP_PORT=$HTTP_PORT
LAB_PEBBLE_CERT_DAYS=$CERT_DAYS
LAB_CHALLTESTSRV_URL=http://127.0.0.1:$CHALL_PORT
EOF
mv "$dir/env.tmp" "$dir/env"

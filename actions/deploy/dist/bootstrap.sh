#!/usr/bin/env bash
# Berth's host bootstrap: prepares a Debian 12 or Ubuntu 22.04/24.04 server for Berth's deploys, once,
# as root. Idempotent: a second run changes nothing and says so; every run ends with a table of what
# it changed (item, before -> after) or found as wanted ("unchanged").
#
#   sudo host/bootstrap.sh --profile production --deploy-user deploy \
#     --deploy-keys-file deploy_keys.pub --remote-dir /opt/shop
#
# Profiles, phases, the firewall and Docker: host/README.md. actions/deploy `mode: bootstrap` runs
# this same file over SSH (phase prepare, a key login as the deploy user, then phase harden).
set -Eeuo pipefail
export LC_ALL=C
# How a user runs it again (under `bash -s`, as actions/deploy runs it, $0 is just bash).
SELF=$0
case "$SELF" in *bootstrap*) ;; *) SELF=host/bootstrap.sh ;; esac

usage() {
  cat <<'EOF'
Usage: sudo bootstrap.sh --profile development|production|ubuntu --remote-dir DIR [options]

  --profile NAME           development, production or ubuntu (host/README.md lists what each sets)
  --deploy-user NAME       the user deploys log in as (default deploy); created when missing
  --deploy-keys-file FILE  the public key lines that user accepts, one a line (- reads stdin);
                           required for phases all and prepare
  --remote-dir DIR         the deploy's remote-dir (e.g. /opt/shop), owned by the deploy user
  --backup-dir DIR         the backups' host directory (default /var/backups/<name of remote-dir>)
  --docker-source SOURCE   distro (the distribution's packages, default) or docker (Docker's apt repository)
  --phase PHASE            all (default), prepare, harden, or revert (undoes harden)
  --report                 also print ::berth::key=value lines (for actions/deploy)
EOF
}

PROFILE="" DEPLOY_USER=deploy KEYS_FILE="" REMOTE_DIR="" BACKUP_DIR="" DOCKER_SOURCE=distro PHASE=all REPORT=0
TEXTFILE_DIR=/var/lib/prometheus/node-exporter
SSHD_DROPIN=/etc/ssh/sshd_config.d/00-berth-hardening.conf
DAEMON_JSON=/etc/docker/daemon.json
LOG=/var/log/berth-bootstrap.log
KEY_TYPES="ssh-ed25519 ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 ssh-rsa sk-ssh-ed25519@openssh.com sk-ecdsa-sha2-nistp256@openssh.com"
# The firewall's rules, marked so that a run finds (and replaces) its own block in ufw's after*.rules.
FW_BEGIN="# BEGIN BERTH DOCKER-USER (host/bootstrap.sh)"
FW_END="# END BERTH DOCKER-USER"

# ---- output -----------------------------------------------------------------------------------
emit() { if [ "$REPORT" = 1 ]; then printf '::berth::%s=%s\n' "$1" "$2"; fi; }
say() { printf 'bootstrap: %s\n' "$*"; }
# One clear error, on stderr (and as a report line); exit 2 when nothing was changed, 1 otherwise.
die() {
  emit error "$1"
  printf 'bootstrap: error: %s\n' "$1" >&2
  exit "${2:-2}"
}
b64() { printf '%s' "$1" | base64 -w0; }
# Text for a table cell: one line, no tabs.
flat() { printf '%s' "$1" | tr '\t\n\r' '   '; }

ROW_ITEMS=() ROW_BEFORE=() ROW_AFTER=()
row() { # item before after
  local item before after
  item=$(flat "$1") before=$(flat "$2") after=$(flat "$3")
  ROW_ITEMS+=("$item") ROW_BEFORE+=("$before") ROW_AFTER+=("$after")
  emit change "$(b64 "$item") $(b64 "$before") $(b64 "$after")"
}

print_table() {
  local i w=4 changed=0 line
  [ "${#ROW_ITEMS[@]}" -gt 0 ] || return 0
  for i in "${!ROW_ITEMS[@]}"; do [ "${#ROW_ITEMS[i]}" -le "$w" ] || w=${#ROW_ITEMS[i]}; done
  printf '\n%-*s  %s\n' "$w" item change
  for i in "${!ROW_ITEMS[@]}"; do
    if [ "${ROW_BEFORE[i]}" = "${ROW_AFTER[i]}" ]; then
      line="unchanged (${ROW_AFTER[i]})"
    else
      line="${ROW_BEFORE[i]} -> ${ROW_AFTER[i]}"
      changed=$((changed + 1))
    fi
    printf '%-*s  %s\n' "$w" "${ROW_ITEMS[i]}" "$line"
  done
  emit changed "$changed"
  if [ "$changed" = 0 ]; then
    printf '\nNothing changed: the host already matches profile %s (phase %s).\n' "$PROFILE" "$PHASE"
  else
    printf '\n%s changed, %s unchanged (profile %s, phase %s).\n' "$changed" $((${#ROW_ITEMS[@]} - changed)) "$PROFILE" "$PHASE"
  fi
}

# ---- pure parts (host/bootstrap.test.ts runs them with BERTH_BOOTSTRAP_LIB=1) ---------------------

# Prints why LINE is not a plain public key line (type, base64 key, optional comment; no options).
key_line_problem() {
  local line=$1 type blob comment want got bits
  if [[ $line =~ [[:cntrl:]] ]]; then echo "has a control character" && return 0; fi
  read -r type blob comment <<<"$line" || true
  if [[ " $KEY_TYPES " != *" $type "* ]]; then
    echo "does not start with a key type ($KEY_TYPES); options such as command= or from= are not accepted" && return 0
  fi
  if ! [[ $blob =~ ^[A-Za-z0-9+/]+={0,2}$ ]] || [ $((${#blob} % 4)) != 0 ]; then
    echo "has no base64 key after $type" && return 0
  fi
  # The key itself starts with its type: a 4-byte length and the name.
  want=$(printf '%08x' "${#type}")$(printf '%s' "$type" | od -An -tx1 | tr -d ' \n')
  got=$(printf '%s' "$blob" | base64 -d 2>/dev/null | head -c $((4 + ${#type})) | od -An -tx1 | tr -d ' \n')
  if [ "$got" != "$want" ]; then echo "is not a $type key (its base64 holds another type)" && return 0; fi
  if command -v ssh-keygen >/dev/null 2>&1; then
    bits=$(ssh-keygen -l -f /dev/stdin <<<"$type $blob" 2>/dev/null | awk '{print $1}') ||
      { echo "is not a key ssh-keygen can read" && return 0; }
    [ -n "$bits" ] || { echo "is not a key ssh-keygen can read" && return 0; }
    if [ "$type" = ssh-rsa ] && [ "$bits" -lt 2048 ]; then echo "is an RSA key of $bits bits (at least 2048)" && return 0; fi
  fi
  return 0
}

# The supported systems: `ID VERSION_ID` from os-release.
os_supported() { case "$1 $2" in "debian 12" | "ubuntu 22.04" | "ubuntu 24.04") return 0 ;; esac; return 1; }

# The Docker packages for a system (`debian`|`ubuntu`) and source (`distro`|`docker`), with minimum
# versions as `name:min`. Debian 12's docker.io is 20.10 without Compose v2 (the example needs
# Engine >= 25 for healthcheck start_interval): they come from Debian 13, pinned low (`/trixie`).
docker_packages() {
  case "$1/$2" in
    */docker) echo "docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin" ;;
    debian/distro) echo "docker.io/trixie:25 docker-cli/trixie docker-buildx/trixie docker-compose/trixie:2" ;;
    ubuntu/distro) echo "docker.io:25 docker-buildx docker-compose-v2" ;;
  esac
}

# Docker's apt source (deb822) for `ID CODENAME ARCH`, signed by /etc/apt/keyrings/docker.asc.
docker_apt_source() {
  printf 'Types: deb\nURIs: https://download.docker.com/linux/%s\nSuites: %s\nComponents: stable\nArchitectures: %s\nSigned-By: /etc/apt/keyrings/docker.asc\n' "$1" "$2" "$3"
}

# A Debian suite from MIRROR (deb822), signed by Debian's archive keyring.
debian_source() {
  printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$1" "$2"
}

# daemon.json (stdin) with Berth's keys set and every other key kept; $1 true on a swarm node,
# where live-restore is refused by dockerd.
daemon_json_merge() {
  jq --argjson swarm "$1" '
    .["log-driver"] = "local"
    | .["log-opts"] = ((.["log-opts"] // {}) | .["max-size"] //= "10m" | .["max-file"] //= "3")
    | .["no-new-privileges"] = true
    | if $swarm then . else .["live-restore"] = true end'
}

# unattended-upgrades limited to the security archive of system $1.
unattended_conf() {
  printf '// Berth bootstrap (host/bootstrap.sh): security updates only, no automatic reboot.\n'
  printf '#clear Unattended-Upgrade::Origins-Pattern;\n#clear Unattended-Upgrade::Allowed-Origins;\n'
  printf 'Unattended-Upgrade::Origins-Pattern {\n'
  if [ "$1" = debian ]; then
    printf '  "origin=Debian,codename=${distro_codename}-security,label=Debian-Security";\n'
  else
    printf '  "origin=Ubuntu,archive=${distro_codename}-security";\n'
    printf '  "origin=UbuntuESMApps,archive=${distro_codename}-apps-security";\n'
    printf '  "origin=UbuntuESM,archive=${distro_codename}-infra-security";\n'
  fi
  printf '};\nUnattended-Upgrade::Automatic-Reboot "false";\n'
}

# The DOCKER-USER rules (an iptables-restore block for ufw's after.rules and after6.rules): Docker's
# published ports skip ufw's INPUT rules, so new connections from outside reach a container only on
# the ports the firewall allows (80 and 443 on the host side); containers' own traffic and replies pass.
docker_user_rules() {
  local port
  printf '%s\n*filter\n:DOCKER-USER - [0:0]\n' "$FW_BEGIN"
  printf -- '-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment berth -j RETURN\n'
  printf -- '-A DOCKER-USER -i docker+ -m comment --comment berth -j RETURN\n'
  printf -- '-A DOCKER-USER -i br-+ -m comment --comment berth -j RETURN\n'
  for port in "$@"; do
    printf -- '-A DOCKER-USER -p tcp -m conntrack --ctorigdstport %s -m comment --comment berth -j RETURN\n' "$port"
  done
  printf -- '-A DOCKER-USER -m conntrack --ctstate NEW,INVALID -m comment --comment berth -j DROP\n'
  printf -- '-A DOCKER-USER -j RETURN\nCOMMIT\n%s\n' "$FW_END"
}

sshd_dropin() {
  printf '# Berth bootstrap (host/bootstrap.sh): key logins only, no root login.\n'
  printf 'PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin no\nPermitEmptyPasswords no\n'
}

# A remote-dir or backup dir: absolute, no .., not a system directory itself or under one.
dir_problem() {
  local d=$1
  case "$d" in /*) ;; *) echo "is not an absolute path" && return 0 ;; esac
  if [[ $d =~ (^|/)\.\.?(/|$) ]] || [[ $d =~ [[:cntrl:]] ]]; then echo "has . or .. or a control character" && return 0; fi
  d=${d%/}
  case "$d/" in
    /*/*/) ;;
    *) echo "is a top-level directory (use one of its own, e.g. /opt/shop)" && return 0 ;;
  esac
  case "$d/" in
    /etc/* | /usr/* | /bin/* | /sbin/* | /lib*/* | /boot/* | /dev/* | /proc/* | /sys/* | /run/* | /root/* | /var/lib/* | /var/log/* | /var/cache/* | /var/spool/*)
      echo "is inside a system directory" && return 0 ;;
    /var/backups/ | /var/opt/ | /var/tmp/ | /home/ | /opt/ | /srv/ | /var/www/ | /var/mail/)
      echo "is a shared directory (use one of its own, e.g. /opt/shop)" && return 0 ;;
  esac
  return 0
}

if [ "${BERTH_BOOTSTRAP_LIB:-}" = 1 ]; then return 0 2>/dev/null || exit 0; fi

# ---- arguments and the checks before anything changes ------------------------------------------

parse_args() {
  while [ $# -gt 0 ]; do
    case "$1" in
      --profile | --deploy-user | --deploy-keys-file | --remote-dir | --backup-dir | --docker-source | --phase)
        [ $# -ge 2 ] || die "$1 needs a value (see --help)"
        case "$1" in
          --profile) PROFILE=$2 ;;
          --deploy-user) DEPLOY_USER=$2 ;;
          --deploy-keys-file) KEYS_FILE=$2 ;;
          --remote-dir) REMOTE_DIR=$2 ;;
          --backup-dir) BACKUP_DIR=$2 ;;
          --docker-source) DOCKER_SOURCE=$2 ;;
          --phase) PHASE=$2 ;;
        esac
        shift 2
        ;;
      --report) REPORT=1 && shift ;;
      -h | --help) usage && exit 0 ;;
      *) die "unknown argument $(printf '%q' "$1") (see --help)" ;;
    esac
  done
}

os_field() { sed -n "s/^$1=//p" /etc/os-release 2>/dev/null | head -n 1 | tr -d '"'"'"; }

check_os() {
  OS_ID=$(os_field ID) OS_VERSION=$(os_field VERSION_ID) OS_CODENAME=$(os_field VERSION_CODENAME)
  local name
  name=$(os_field PRETTY_NAME)
  os_supported "$OS_ID" "$OS_VERSION" ||
    die "unsupported system ${name:-without /etc/os-release} (ID=$OS_ID VERSION_ID=$OS_VERSION): Berth's bootstrap supports Debian 12 and Ubuntu 22.04 and 24.04; nothing was changed"
  [ -n "$OS_CODENAME" ] || die "/etc/os-release has no VERSION_CODENAME; nothing was changed"
  if [ "$PROFILE" = ubuntu ] && [ "$OS_ID" != ubuntu ]; then
    die "profile ubuntu is for Ubuntu 22.04 and 24.04, and this is $name: use profile production; nothing was changed"
  fi
}

check_keys() {
  local text line n=0 problem
  DEPLOY_KEYS=()
  if [ -n "$KEYS_FILE" ]; then
    if [ "$KEYS_FILE" = - ]; then text=$(cat); else text=$(cat -- "$KEYS_FILE" 2>/dev/null) || die "cannot read --deploy-keys-file $KEYS_FILE"; fi
  else
    text=${BERTH_DEPLOY_KEYS:-}
  fi
  while IFS= read -r line || [ -n "$line" ]; do
    n=$((n + 1))
    line=${line%$'\r'}
    line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
    case "$line" in '' | '#'*) continue ;; esac
    problem=$(key_line_problem "$line")
    [ -z "$problem" ] || die "deploy key line $n $problem; nothing was changed"
    [[ " ${DEPLOY_KEYS[*]-} " == *" $line "* ]] || DEPLOY_KEYS+=("$line")
  done <<<"$text"
}

check_docker_conflicts() {
  if command -v snap >/dev/null 2>&1 && snap list docker >/dev/null 2>&1; then
    die "Docker from snap is installed, and it conflicts with Docker's packages: remove it (snap remove docker) and run again; nothing was changed"
  fi
  if [ "$DOCKER_SOURCE" = distro ] && [ -n "$(pkg_version docker-ce)" ]; then
    die "docker-ce (Docker's own repository) is installed: run with --docker-source docker; nothing was changed"
  fi
  if [ "$DOCKER_SOURCE" = docker ] && [ -n "$(pkg_version docker.io)" ]; then
    die "docker.io (the distribution's Docker) is installed: run with --docker-source distro, or remove it first; nothing was changed"
  fi
}

preflight() {
  [ "$(id -u)" = 0 ] || die "run as root (sudo $SELF ...): it installs packages and changes system files; nothing was changed"
  case "$PROFILE" in
    development | production | ubuntu) ;;
    '') die "--profile is required: development, production or ubuntu" ;;
    *) die "unknown profile $(printf '%q' "$PROFILE"): use development, production or ubuntu; nothing was changed" ;;
  esac
  case "$PHASE" in all | prepare | harden | revert) ;; *) die "unknown phase $(printf '%q' "$PHASE"): all, prepare, harden or revert" ;; esac
  case "$DOCKER_SOURCE" in distro | docker) ;; *) die "unknown --docker-source $(printf '%q' "$DOCKER_SOURCE"): distro or docker" ;; esac
  if [ "${#DEPLOY_USER}" -gt 32 ] || ! [[ $DEPLOY_USER =~ ^[a-z_][a-z0-9_.-]*$ ]] || [ "$DEPLOY_USER" = root ]; then
    die "--deploy-user $(printf '%q' "$DEPLOY_USER") is not a user name for deploys (lower-case letters, digits, _, . and -; not root)"
  fi
  if id -u "$DEPLOY_USER" >/dev/null 2>&1 && [ "$(id -u "$DEPLOY_USER")" = 0 ]; then die "--deploy-user $DEPLOY_USER has uid 0"; fi
  check_os
  if [ "$PHASE" = all ] || [ "$PHASE" = prepare ]; then
    [ -n "$REMOTE_DIR" ] || die "--remote-dir is required (the deploy's remote-dir, e.g. /opt/shop)"
    REMOTE_DIR=${REMOTE_DIR%/}
    [ -n "$BACKUP_DIR" ] || BACKUP_DIR=/var/backups/$(basename -- "$REMOTE_DIR")
    BACKUP_DIR=${BACKUP_DIR%/}
    local problem
    problem=$(dir_problem "$REMOTE_DIR") && [ -z "$problem" ] || die "--remote-dir $REMOTE_DIR $problem"
    problem=$(dir_problem "$BACKUP_DIR") && [ -z "$problem" ] || die "--backup-dir $BACKUP_DIR $problem"
    check_keys
    [ "${#DEPLOY_KEYS[@]}" -gt 0 ] || die "no deploy key given (--deploy-keys-file): $DEPLOY_USER could not log in"
    check_docker_conflicts
  fi
  if [ "$PHASE" = all ] || [ "$PHASE" = harden ]; then
    grep -Eqi '^[[:space:]]*Include[[:space:]]+/etc/ssh/sshd_config\.d/\*\.conf' /etc/ssh/sshd_config 2>/dev/null ||
      die "/etc/ssh/sshd_config does not include /etc/ssh/sshd_config.d/*.conf, where the hardening goes; nothing was changed"
  fi
  if [ "$PHASE" = harden ]; then
    [ "$(deploy_key_count)" -gt 0 ] || die "refusing to harden sshd: $DEPLOY_USER has no key to log in with (run phase prepare first); nothing was changed"
  fi
}


# ---- helpers that look at the host ----------------------------------------------------------------

pkg_version() { { dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null || true; } | awk '$1 == "ii" { print $2 }'; }
user_home() { getent passwd "$1" | cut -d: -f6; }
stat_of() { if [ -e "$1" ]; then stat -c '%U:%G %a' -- "$1"; else echo absent; fi; }
sshd_value() { { sshd -T 2>/dev/null || true; } | awk -v k="$1" '$1 == k { print $2; exit }'; }

# Valid key lines in the deploy user's authorized_keys.
deploy_key_count() {
  local home file line n=0
  home=$(user_home "$DEPLOY_USER") || true
  file=${home:-/nonexistent}/.ssh/authorized_keys
  [ -r "$file" ] || { echo 0 && return 0; }
  while IFS= read -r line; do
    case "$line" in '' | '#'*) continue ;; esac
    [ -n "$(key_line_problem "$line")" ] || n=$((n + 1))
  done <"$file"
  echo "$n"
}

# Short fingerprints of the key lines on stdin, or "none".
fingerprints() {
  local out
  out=$(grep -Ev '^[[:space:]]*(#|$)' | ssh-keygen -l -E sha256 -f /dev/stdin 2>/dev/null | awk '{print substr($2, 1, 19)}' | paste -sd ' ' -) || true
  echo "${out:-none}"
}

APT_UPDATED=0
apt_run() {
  if ! DEBIAN_FRONTEND=noninteractive apt-get -q -y -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "$@" </dev/null >>"$LOG" 2>&1; then
    tail -n 15 "$LOG" >&2
    die "apt-get $1 failed (the whole output is in $LOG on the host)" 1
  fi
}
apt_update() {
  [ "$APT_UPDATED" = 0 ] || return 0
  say "apt-get update"
  apt_run update
  APT_UPDATED=1
}

# Writes CONTENT to PATH (mode MODE) when it differs; one row: WHAT before -> after.
put_file() { # path mode content what
  local before=absent
  if [ -e "$1" ]; then
    if [ "$(cat -- "$1")" = "$3" ]; then before=$4; else before="other content"; fi
  fi
  if [ "$before" != "$4" ]; then
    mkdir -p -- "$(dirname -- "$1")"
    printf '%s\n' "$3" >"$1.berth-new"
    chmod "$2" "$1.berth-new"
    mv -f -- "$1.berth-new" "$1"
  fi
  row "file $1" "$before" "$4"
}

# ---- phase prepare --------------------------------------------------------------------------------

debian_mirror() {
  local uri
  uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk -v c="$OS_CODENAME" '$1 == "deb" && $3 == c { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

apt_sources() {
  if [ "$DOCKER_SOURCE" = docker ]; then
    if [ -s /etc/apt/keyrings/docker.asc ]; then
      row "file /etc/apt/keyrings/docker.asc" "Docker's signing key" "Docker's signing key"
    else
      ensure_packages "apt tools" ca-certificates curl
      install -d -m 0755 /etc/apt/keyrings
      curl -fsSL "https://download.docker.com/linux/$OS_ID/gpg" -o /etc/apt/keyrings/docker.asc.berth-new ||
        die "cannot download Docker's signing key from https://download.docker.com/linux/$OS_ID/gpg" 1
      chmod 0644 /etc/apt/keyrings/docker.asc.berth-new && mv -f /etc/apt/keyrings/docker.asc.berth-new /etc/apt/keyrings/docker.asc
      row "file /etc/apt/keyrings/docker.asc" absent "Docker's signing key"
    fi
    put_file /etc/apt/sources.list.d/docker.sources 0644 "$(docker_apt_source "$OS_ID" "$OS_CODENAME" "$(dpkg --print-architecture)")" "Docker's repository ($OS_CODENAME stable)"
  elif [ "$OS_ID" = debian ]; then
    say "Debian $OS_VERSION's docker.io is 20.10 without Compose v2: Docker Engine, buildx and Compose v2 come from Debian 13 (trixie), pinned at priority 100 so nothing else does"
    put_file /etc/apt/sources.list.d/berth-trixie.sources 0644 "$(debian_source "$(debian_mirror)" trixie)" "Debian 13 (trixie) for Docker"
    put_file /etc/apt/preferences.d/berth-trixie 0644 $'Package: *\nPin: release n=trixie\nPin-Priority: 100' "trixie at priority 100"
  fi
  if [ "$OS_ID" = debian ] && [ "$PROFILE" != development ] && { [ -e /etc/apt/sources.list.d/berth-debian-security.sources ] ||
    ! grep -rqs -- "$OS_CODENAME-security" /etc/apt/sources.list /etc/apt/sources.list.d/; }; then
    put_file /etc/apt/sources.list.d/berth-debian-security.sources 0644 \
      "$(debian_source http://deb.debian.org/debian-security "$OS_CODENAME-security")" "Debian's security archive"
  fi
  # A source written above is new to apt's lists.
  local i
  for i in "${!ROW_ITEMS[@]}"; do [ "${ROW_BEFORE[i]}" = "${ROW_AFTER[i]}" ] || APT_UPDATED=0; done
}

# Installs what is missing or older than its minimum (`name[/release][:min]`), one row a package.
ensure_packages() { # label spec...
  local label=$1 spec name pkg want=() missing=()
  shift
  declare -A before=()
  for spec in "$@"; do
    name=${spec%%:*} pkg=${name%%/*}
    before[$pkg]=$(pkg_version "$pkg")
    want+=("$pkg")
    if [ -z "${before[$pkg]}" ] || { [ "$spec" != "$name" ] && dpkg --compare-versions "${before[$pkg]}" lt "${spec#*:}"; }; then
      missing+=("$name")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_update
    say "installing $label: ${missing[*]}"
    apt_run install --no-install-recommends "${missing[@]}"
  fi
  for pkg in "${want[@]}"; do row "package $pkg" "${before[$pkg]:-absent}" "$(pkg_version "$pkg")"; done
}

daemon_json() {
  local current='{}' merged swarm=false key before after changed=0
  [ ! -s "$DAEMON_JSON" ] || current=$(cat "$DAEMON_JSON")
  jq -e 'type == "object"' >/dev/null 2>&1 <<<"$current" ||
    die "$DAEMON_JSON is not a JSON object: fix it (or remove it) and run again" 1
  [ "$(docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null || true)" != active ] || swarm=true
  merged=$(daemon_json_merge "$swarm" <<<"$current")
  if [ "$(jq -S . <<<"$current")" != "$(jq -S . <<<"$merged")" ]; then
    mkdir -p /etc/docker
    printf '%s\n' "$merged" >"$DAEMON_JSON.berth-new"
    if command -v dockerd >/dev/null 2>&1 && dockerd --help 2>/dev/null | grep -q -- '--validate'; then
      dockerd --validate --config-file "$DAEMON_JSON.berth-new" >/dev/null 2>"$DAEMON_JSON.berth-err" || {
        rm -f "$DAEMON_JSON.berth-new"
        die "dockerd refuses $DAEMON_JSON with Berth's settings: $(head -n 1 "$DAEMON_JSON.berth-err"); it was not changed" 1
      }
      rm -f "$DAEMON_JSON.berth-err"
    fi
    chmod 0644 "$DAEMON_JSON.berth-new" && mv -f "$DAEMON_JSON.berth-new" "$DAEMON_JSON"
    changed=1
  fi
  for key in log-driver log-opts.max-size log-opts.max-file live-restore no-new-privileges; do
    before=$(jq -c --arg k "$key" 'getpath($k | split(".")) // "absent"' <<<"$current")
    after=$(jq -c --arg k "$key" 'getpath($k | split(".")) // "absent"' <<<"$merged")
    [ "$key" != live-restore ] || [ "$swarm" = false ] || after="$after (not set on a swarm node)"
    row "daemon.json $key" "${before//\"/}" "${after//\"/}"
  done
  DAEMON_JSON_CHANGED=$changed
}

docker_engine() {
  local after
  systemctl enable --now docker.service >>"$LOG" 2>&1 || die "docker.service did not start (systemctl status docker)" 1
  after=active
  if [ "$DAEMON_JSON_CHANGED" = 1 ] && [ "$DOCKER_WAS_ACTIVE" = active ]; then
    say "restarting docker for the new daemon.json"
    systemctl restart docker.service >>"$LOG" 2>&1 || die "docker did not restart with $DAEMON_JSON (journalctl -u docker)" 1
    after="active (restarted for daemon.json)"
  fi
  row "service docker" "${DOCKER_WAS_ACTIVE:-inactive}" "$after"
  local engine compose buildx
  engine=$(docker version --format '{{.Server.Version}}' 2>/dev/null) || die "docker does not answer after the install (journalctl -u docker)" 1
  compose=$(docker compose version --short 2>/dev/null) || die "docker compose (v2) is missing after the install" 1
  buildx=$(docker buildx version 2>/dev/null | awk '{print $2}') || die "docker buildx is missing after the install" 1
  emit docker "engine $engine, compose $compose, buildx $buildx"
  say "Docker Engine $engine, Compose $compose, buildx $buildx"
  if dpkg --compare-versions "${engine%%+*}" lt 25; then
    emit warning "Docker Engine $engine is older than 25: healthcheck start_interval (the example uses it) needs 25 (try --docker-source docker)"
  fi
}

deploy_user() {
  local u=$DEPLOY_USER home group pw before after keys current
  if id -u "$u" >/dev/null 2>&1; then
    row "user $u" "exists (uid $(id -u "$u"))" "exists (uid $(id -u "$u"))"
  else
    useradd --create-home --shell /bin/bash --user-group -- "$u"
    row "user $u" absent "created (uid $(id -u "$u"))"
  fi
  # A locked account ("!") cannot log in by key where sshd runs without PAM: no password ("*") instead.
  pw=$(getent shadow "$u" | cut -d: -f2)
  case "$pw" in
    '' | '!'*) usermod -p '*' -- "$u" && row "user $u password" "${pw:-empty} (locked)" "none (key login only)" ;;
    '*') row "user $u password" "none (key login only)" "none (key login only)" ;;
    *) row "user $u password" "set (kept; sshd takes keys only)" "set (kept; sshd takes keys only)" ;;
  esac
  before=no
  id -nG -- "$u" | tr ' ' '\n' | grep -qx docker && before=yes
  [ "$before" = yes ] || usermod -aG docker -- "$u"
  row "user $u in group docker" "$before" yes
  home=$(user_home "$u") group=$(id -gn -- "$u")
  install -d -m 0700 -o "$u" -g "$group" -- "$home/.ssh"
  keys=$(printf '# Managed by Berth bootstrap (host/bootstrap.sh): rewritten on each run.\n'; printf '%s\n' "${DEPLOY_KEYS[@]}")
  current=""
  [ ! -e "$home/.ssh/authorized_keys" ] || current=$(cat -- "$home/.ssh/authorized_keys")
  before=$(fingerprints <<<"$current") after=$(printf '%s\n' "${DEPLOY_KEYS[@]}" | fingerprints)
  if [ "$current" != "$keys" ] || [ "$(stat_of "$home/.ssh/authorized_keys")" != "$u:$group 600" ]; then
    printf '%s\n' "$keys" >"$home/.ssh/authorized_keys.berth-new"
    chown "$u:$group" "$home/.ssh/authorized_keys.berth-new" && chmod 0600 "$home/.ssh/authorized_keys.berth-new"
    mv -f -- "$home/.ssh/authorized_keys.berth-new" "$home/.ssh/authorized_keys"
    [ "$before" != "$after" ] || before="$before (file rewritten)"
  fi
  row "authorized keys of $u" "$before" "$after"
}

ensure_dir() { # path owner:group mode
  local before
  before=$(stat_of "$1")
  [ ! -e "$1" ] || [ -d "$1" ] || die "$1 exists and is not a directory" 1
  mkdir -p -- "$(dirname -- "$1")"
  install -d -m "$3" -o "${2%%:*}" -g "${2#*:}" -- "$1"
  row "directory $1" "$before" "$(stat_of "$1")"
}

directories() {
  local group
  group=$(id -gn -- "$DEPLOY_USER")
  ensure_dir "$REMOTE_DIR" "$DEPLOY_USER:$group" 750
  ensure_dir "$BACKUP_DIR" "$DEPLOY_USER:$group" 700
  # Written by deploys and backups (metrics-dir), read by the node exporter: group docker, world-readable.
  local owner=root
  [ ! -d "$TEXTFILE_DIR" ] || owner=$(stat -c %U -- "$TEXTFILE_DIR")
  ensure_dir "$TEXTFILE_DIR" "$owner:docker" 775
}

unattended_upgrades() {
  put_file /etc/apt/apt.conf.d/21berth-auto-upgrades 0644 \
    $'// Berth bootstrap (host/bootstrap.sh)\nAPT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";' "daily"
  put_file /etc/apt/apt.conf.d/52berth-unattended-upgrades 0644 "$(unattended_conf "$OS_ID")" "security updates only"
  local timer before
  for timer in apt-daily.timer apt-daily-upgrade.timer; do
    before=$(systemctl is-enabled "$timer" 2>/dev/null || true)
    [ "$before" = enabled ] || systemctl enable --now "$timer" >>"$LOG" 2>&1 || die "cannot enable $timer" 1
    row "timer $timer" "${before:-absent}" enabled
  done
}

prepare() {
  apt_sources
  ensure_packages "Berth's host tools" ca-certificates curl jq zstd age
  DOCKER_WAS_ACTIVE=$(systemctl is-active docker.service 2>/dev/null || true)
  daemon_json # before the engine's first start, so that it starts with it
  local specs
  read -ra specs <<<"$(docker_packages "$OS_ID" "$DOCKER_SOURCE")"
  ensure_packages "Docker Engine, buildx and Compose v2" "${specs[@]}"
  # Where the distribution ships the CLI on its own (Debian 13's docker-cli), docker.io only recommends it.
  if ! command -v docker >/dev/null 2>&1 && apt-cache show docker-cli >/dev/null 2>&1; then ensure_packages "the Docker CLI" docker-cli; fi
  docker_engine
  deploy_user
  directories
  if [ "$PROFILE" != development ]; then
    ensure_packages "unattended-upgrades and ufw" unattended-upgrades ufw
    unattended_upgrades
  fi
}

# ---- phase harden (and revert) -----------------------------------------------------------------------

SSHD_KEYS="passwordauthentication kbdinteractiveauthentication permitrootlogin permitemptypasswords"

reload_sshd() {
  local unit
  for unit in ssh.service sshd.service; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl reload "$unit" >>"$LOG" 2>&1 || die "systemctl reload $unit failed" 1
      return 0
    fi
  done
  # Socket-activated (Ubuntu 24.04's ssh.socket) or not run by systemd: the next sshd reads the files.
}

sshd_hardening() {
  local key before=() saved="" i=0 value
  mkdir -p /run/sshd
  for key in $SSHD_KEYS; do before+=("$(sshd_value "$key")"); done
  if [ "$(cat "$SSHD_DROPIN" 2>/dev/null)" != "$(sshd_dropin)" ]; then
    [ ! -e "$SSHD_DROPIN" ] || saved=$(cat "$SSHD_DROPIN")
    sshd_dropin >"$SSHD_DROPIN.berth-new" && chmod 0644 "$SSHD_DROPIN.berth-new" && mv -f "$SSHD_DROPIN.berth-new" "$SSHD_DROPIN"
    local problem=""
    if ! sshd -t >"$LOG.sshd" 2>&1; then
      problem="sshd -t refuses the configuration with it: $(head -n 1 "$LOG.sshd")"
    else
      for key in passwordauthentication kbdinteractiveauthentication permitrootlogin; do
        value=$(sshd_value "$key")
        [ "$value" = no ] || problem="sshd still says $key $value: a setting before the Include of sshd_config.d wins; remove it"
      done
    fi
    rm -f "$LOG.sshd"
    if [ -n "$problem" ]; then
      if [ -n "$saved" ]; then printf '%s\n' "$saved" >"$SSHD_DROPIN"; else rm -f "$SSHD_DROPIN"; fi
      die "$problem; sshd was left as it was" 1
    fi
    reload_sshd
  fi
  for key in $SSHD_KEYS; do
    row "sshd $key" "${before[i]:-unknown}" "$(sshd_value "$key")"
    i=$((i + 1))
  done
}

# The ufw ports: every port sshd listens on, 80 and 443.
firewall() {
  local ports=() port rules before status block file other
  mapfile -t ports < <({ sshd -T 2>/dev/null || true; } | awk '$1 == "port" { print $2 }')
  [ "${#ports[@]}" -gt 0 ] || die "cannot read sshd's port (sshd -T): the firewall was not enabled" 1
  block=$(docker_user_rules 80 443)
  for file in /etc/ufw/after.rules /etc/ufw/after6.rules; do
    [ -e "$file" ] || die "$file is missing (is ufw installed?)" 1
    before="without Docker's published ports rule"
    grep -qF -- "$FW_BEGIN" "$file" && before="other DOCKER-USER rules"
    if [ "$(sed -n "\\|^$FW_BEGIN\$|,\\|^$FW_END\$|p" "$file")" = "$block" ]; then
      before="published ports limited to 80, 443"
    else
      { sed "\\|^$FW_BEGIN\$|,\\|^$FW_END\$|d" "$file"; printf '%s\n' "$block"; } >"$file.berth-new"
      chmod 0640 "$file.berth-new" && mv -f "$file.berth-new" "$file"
      FW_RELOAD=1
    fi
    row "ufw $file" "$before" "published ports limited to 80, 443"
  done
  before=$(sed -n 's/^DEFAULT_INPUT_POLICY="\(.*\)"/\1/p' /etc/default/ufw | tr 'A-Z' 'a-z')
  [ "$before" = drop ] || { ufw default deny incoming >>"$LOG" 2>&1 && FW_RELOAD=1; }
  row "ufw default incoming" "${before:-unknown}" "$(sed -n 's/^DEFAULT_INPUT_POLICY="\(.*\)"/\1/p' /etc/default/ufw | tr 'A-Z' 'a-z')"
  rules=$(ufw show added 2>/dev/null || true)
  for port in "${ports[@]}" 80 443; do
    before=absent
    if grep -qE "^ufw allow $port/tcp( |$)" <<<"$rules"; then before=allowed; else ufw allow "$port/tcp" >>"$LOG" 2>&1; fi
    row "ufw allow $port/tcp" "$before" allowed
  done
  other=$(grep -E '^ufw ' <<<"$rules" | grep -vE "^ufw allow ($(IFS='|'; echo "${ports[*]}")|80|443)/tcp( |$)" | paste -sd ';' - || true)
  [ -z "$other" ] || emit warning "ufw keeps rules that Berth did not add: $other (ufw delete them if they are not yours)"
  status=$(ufw status 2>/dev/null | head -n 1 | awk '{print $2}')
  if [ "$status" != active ]; then
    ufw --force enable >>"$LOG" 2>&1 || die "ufw enable failed (see $LOG)" 1
  elif [ "${FW_RELOAD:-0}" = 1 ]; then
    ufw reload >>"$LOG" 2>&1 || die "ufw reload failed (see $LOG)" 1
  fi
  row "ufw" "${status:-absent}" "$(ufw status 2>/dev/null | head -n 1 | awk '{print $2}')"
  iptables -S DOCKER-USER 2>/dev/null | grep -q 'berth' || die "the DOCKER-USER rules are not loaded (iptables -S DOCKER-USER)" 1
}

harden() {
  sshd_hardening
  [ "$PROFILE" = development ] || firewall
}

# Undoes harden: the sshd drop-in goes, ufw is disabled (actions/deploy, when the login fails after it).
revert() {
  local before=absent
  if [ -e "$SSHD_DROPIN" ]; then
    before=present
    rm -f "$SSHD_DROPIN"
    reload_sshd
  fi
  row "file $SSHD_DROPIN" "$before" absent
  if command -v ufw >/dev/null 2>&1; then
    before=$(ufw status 2>/dev/null | head -n 1 | awk '{print $2}')
    [ "$before" != active ] || ufw --force disable >>"$LOG" 2>&1
    row "ufw" "${before:-absent}" "$(ufw status 2>/dev/null | head -n 1 | awk '{print $2}')"
  fi
}

# A run without --phase hardens only when the caller keeps a way in afterwards: it came through sudo
# as a user other than root (root logins end), and that user has a key in its authorized_keys (password
# logins end). Prints why not, otherwise nothing.
harden_here_problem() {
  local caller=${SUDO_USER:-} home
  if [ -z "$caller" ] || [ "$caller" = root ]; then
    echo "this run is root's own (not through sudo by another user): after it root could no longer log in over SSH"
    return 0
  fi
  home=$(user_home "$caller")
  if ! grep -Eq "^(${KEY_TYPES// /|}) " "${home:-/nonexistent}/.ssh/authorized_keys" 2>/dev/null; then
    echo "$caller, who runs it, has no key in ~/.ssh/authorized_keys: after it password logins end"
  fi
}

on_exit() {
  local code=$?
  if [ "$STARTED" = 1 ]; then print_table; fi
  [ "$code" = 0 ] || [ "$STARTED" = 0 ] || say "stopped with exit code $code; what changed up to here is above (a new run continues)"
}

main() {
  STARTED=0
  parse_args "$@"
  preflight
  STARTED=1
  : >>"$LOG"
  chmod 0600 "$LOG"
  trap on_exit EXIT
  trap '[ "$BASH_SUBSHELL" != 0 ] || die "line $LINENO: \`$BASH_COMMAND\` failed" 1' ERR
  emit os "$OS_ID $OS_VERSION"
  say "profile $PROFILE, phase $PHASE, $(os_field PRETTY_NAME)"
  case "$PHASE" in
    prepare) prepare ;;
    harden) harden ;;
    revert) revert ;;
    all)
      prepare
      local problem
      problem=$(harden_here_problem)
      if [ -z "$problem" ]; then
        harden
      else
        emit hardened "no"
        say "sshd and the firewall were NOT hardened: $problem."
        say "Check that '$DEPLOY_USER' (or your own user) logs in with its key in a second terminal, then run: sudo $SELF --profile $PROFILE --phase harden"
      fi
      ;;
  esac
}

main "$@"

#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine: installs and starts what the tests
# need, runs them, stops what it started. Used by CI (.ci/run) and by developers alike.
#
# - Chromium and chromedriver (Debian) for the browser test, with axe-core (npm, into
#   target/tools/) for its accessibility checks, exported as DEPOT_TEST_AXE;
# - schemathesis (PyPI, same venv) for the API contract test, exported as
#   DEPOT_TEST_SCHEMATHESIS;
# - PostgreSQL (Debian) for depot-postgres: a throw-away cluster under target/, on a free
#   loopback port, exported as DEPOT_TEST_POSTGRES (TLS available, its authority in
#   DEPOT_TEST_POSTGRES_CA);
# - aiosmtpd (PyPI, same venv) for the e-mail tests: scripts/boite_smtp.py on a free
#   loopback port, each message it accepts written to a file; exported as DEPOT_TEST_SMTP and
#   DEPOT_TEST_SMTP_BOITE;
# - clamd (Debian's clamav-daemon) with a signature database built here (a marker string,
#   the EICAR file's hash), on a free loopback port: DEPOT_TEST_CLAMD (and the binary, for
#   the tests that start their own, DEPOT_TEST_CLAMD_BIN);
# - moto_server (PyPI, in a venv under target/) and Garage (crates.io, built once into
#   target/tools/) for the S3 tests, started on free loopback ports; their endpoints are
#   exported as DEPOT_TEST_S3_MOTO and DEPOT_TEST_S3_GARAGE.
set -euo pipefail
cd "$(dirname "$0")/.."
racine=$(pwd)
outils="$racine/target/tools"
mkdir -p "$outils"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (https://rustup.rs)" >&2
  exit 1
fi

# ---- Chromium --------------------------------------------------------------------------
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing chromium and chromium-driver"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "== chromium/chromedriver missing and cannot be installed here: the browser test will say so" >&2
  fi
fi

# ---- axe-core (npm) for the accessibility checks of the browser test ---------------------
axe_version=4.10.3
axe="$outils/axe-$axe_version/node_modules/axe-core/axe.min.js"
if [ ! -f "$axe" ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing npm"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null
  fi
  if command -v npm >/dev/null 2>&1; then
    echo "== installing axe-core $axe_version (npm)"
    npm install --silent --no-audit --no-fund --prefix "$outils/axe-$axe_version" "axe-core@$axe_version" >/dev/null
  fi
fi
if [ -f "$axe" ]; then
  export DEPOT_TEST_AXE="$axe"
else
  echo "== axe-core missing and cannot be installed here: the browser test will say so" >&2
fi

port_libre() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

attendre_port() { # host port seconds
  python3 - "$@" <<'PY'
import socket, sys, time
h, p, t = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
fin = time.time() + t
while time.time() < fin:
    try:
        socket.create_connection((h, p), 0.5).close(); sys.exit(0)
    except OSError:
        time.sleep(0.2)
sys.exit(1)
PY
}

pids=()
arrets=()
arreter() {
  for a in "${arrets[@]:-}"; do [ -n "$a" ] && eval "$a" >/dev/null 2>&1 || true; done
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
}
trap arreter EXIT

# ---- PostgreSQL ----------------------------------------------------------------------------
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$pgbin" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  else
    echo "== postgresql missing and cannot be installed here: the PostgreSQL tests will say so" >&2
  fi
fi
if [ -n "$pgbin" ]; then
  pg="$racine/target/postgres-test"
  rm -rf "$pg" && mkdir -p "$pg"
  # PostgreSQL refuses to run as root: the cluster belongs to an unprivileged user.
  comme=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
    chown postgres "$pg"
    comme=(runuser -u postgres --)
  fi
  "${comme[@]}" "$pgbin/initdb" -D "$pg/data" -U depot -A trust -E UTF8 --no-sync >"$pg/initdb.log" 2>&1 \
    || { cat "$pg/initdb.log" >&2; exit 1; }
  if ! command -v openssl >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl >/dev/null
  fi
  # TLS for the tests that ask for it: a certificate authority of the run's own and a
  # server certificate it signs for 127.0.0.1 (clients without sslmode=require use none).
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
    -subj "/CN=depot-test-ca" -keyout "$pg/ca.key" -out "$pg/ca.crt" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$pg/server.key" -out "$pg/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$pg/ext.cnf"
  openssl x509 -req -in "$pg/server.csr" -CA "$pg/ca.crt" -CAkey "$pg/ca.key" -CAcreateserial \
    -days 2 -extfile "$pg/ext.cnf" -out "$pg/server.crt" 2>/dev/null
  chmod 600 "$pg/server.key"
  if [ "$(id -u)" = 0 ]; then chown postgres "$pg/server.key" "$pg/server.crt"; fi
  port_pg=$(port_libre)
  "${comme[@]}" "$pgbin/pg_ctl" -D "$pg/data" -l "$pg/postgres.log" -w -t 60 \
    -o "-p $port_pg -k $pg -c listen_addresses=127.0.0.1 -c max_connections=300 -c ssl=on -c ssl_cert_file=$pg/server.crt -c ssl_key_file=$pg/server.key" start >/dev/null \
    || { cat "$pg/postgres.log" >&2; exit 1; }
  arrets+=("${comme[*]} $pgbin/pg_ctl -D $pg/data -m fast stop")
  "$pgbin/createdb" -h 127.0.0.1 -p "$port_pg" -U depot depot_test
  export DEPOT_TEST_POSTGRES="postgres://depot@127.0.0.1:$port_pg/depot_test"
  export DEPOT_TEST_POSTGRES_BIN="$pgbin" DEPOT_TEST_POSTGRES_DATA="$pg/data"
  export DEPOT_TEST_POSTGRES_CA="$pg/ca.crt"
  echo "== postgresql on 127.0.0.1:$port_pg"
fi

# ---- moto_server -------------------------------------------------------------------------
venv="$racine/target/venv-moto"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "== installing moto[server] into target/venv-moto"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "moto[server]"
fi
# schemathesis, pinned: its configuration file format is part of the contract test.
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "== installing schemathesis into target/venv-moto"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
export DEPOT_TEST_SCHEMATHESIS="$venv/bin/schemathesis"
# aiosmtpd, the SMTP server of the e-mail tests.
if ! "$venv/bin/python" -c "import aiosmtpd" 2>/dev/null; then
  echo "== installing aiosmtpd into target/venv-moto"
  "$venv/bin/pip" install -q "aiosmtpd==1.4.6"
fi

# ---- SMTP (aiosmtpd) ---------------------------------------------------------------------
boite="$racine/target/boite-smtp"
rm -rf "$boite" && mkdir -p "$boite"
port_smtp=$(port_libre)
"$venv/bin/python" "$racine/scripts/boite_smtp.py" 127.0.0.1 "$port_smtp" "$boite" >"$racine/target/smtp.log" 2>&1 &
pids+=($!)
attendre_port 127.0.0.1 "$port_smtp" 60 || { echo "aiosmtpd did not start" >&2; cat "$racine/target/smtp.log" >&2; exit 1; }
export DEPOT_TEST_SMTP="127.0.0.1:$port_smtp" DEPOT_TEST_SMTP_BOITE="$boite"
echo "== aiosmtpd on $DEPOT_TEST_SMTP, messages in $boite"

# ---- ClamAV (clamd, Debian) with a signature database built here ---------------------------
# Official databases cannot be downloaded on these machines: the tests' own, a marker string
# (.ndb, any file type: found in raw bytes, inside PDF streams once clamd decompresses them,
# in JPEG segments) and the EICAR test file by its MD5 (.hdb).
if ! command -v clamd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "== installing clamav-daemon"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clamav-daemon >/dev/null
  else
    echo "== clamd missing and cannot be installed here: the antivirus tests will say so" >&2
  fi
fi
if command -v clamd >/dev/null 2>&1; then
  clam="$racine/target/clamav"
  rm -rf "$clam" && mkdir -p "$clam/db"
  marqueur_hex=$(printf 'DEPOT-TEST-MARQUEUR-VIRAL-0001' | od -An -tx1 | tr -d ' \n')
  echo "Depot.Test.Marqueur:0:*:$marqueur_hex" >"$clam/db/depot-test.ndb"
  # The EICAR test file is assembled here, never stored in the repository.
  printf '%s%s' 'X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-' 'ANTIVIRUS-TEST-FILE!$H+H*' >"$clam/eicar.com"
  echo "$(md5sum "$clam/eicar.com" | cut -d' ' -f1):$(stat -c %s "$clam/eicar.com"):Depot.Test.EICAR" >"$clam/db/depot-test.hdb"
  port_clamd=$(port_libre)
  cat >"$clam/clamd.conf" <<CONF
Foreground yes
DatabaseDirectory $clam/db
TCPSocket $port_clamd
TCPAddr 127.0.0.1
LogFile $clam/clamd.log
StreamMaxLength 64M
MaxFileSize 64M
MaxScanSize 256M
CONF
  clamd -c "$clam/clamd.conf" >"$clam/clamd.out" 2>&1 &
  pids+=($!)
  attendre_port 127.0.0.1 "$port_clamd" 120 || { echo "clamd did not start" >&2; cat "$clam/clamd.out" >&2; exit 1; }
  export DEPOT_TEST_CLAMD="tcp://127.0.0.1:$port_clamd" DEPOT_TEST_CLAMD_BIN="$(command -v clamd)"
  echo "== clamd on $DEPOT_TEST_CLAMD (test signatures in $clam/db)"
fi

port_moto=$(port_libre)
"$venv/bin/moto_server" -H 127.0.0.1 -p "$port_moto" >"$racine/target/moto.log" 2>&1 &
pids+=($!)
attendre_port 127.0.0.1 "$port_moto" 60 || { echo "moto_server did not start" >&2; cat "$racine/target/moto.log" >&2; exit 1; }
python3 -c "import urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:$port_moto/depot-test', method='PUT'))"
export DEPOT_TEST_S3_MOTO="http://127.0.0.1:$port_moto"
echo "== moto_server on $DEPOT_TEST_S3_MOTO"

# ---- Garage ------------------------------------------------------------------------------
garage="$outils/bin/garage"
if [ ! -x "$garage" ]; then
  echo "== building garage 2.5.0 into target/tools (about 10 minutes, once)"
  cargo install --locked garage --version 2.5.0 --root "$outils" --quiet
fi
g="$racine/target/garage-test"
rm -rf "$g" && mkdir -p "$g/meta" "$g/data"
port_s3=$(port_libre); port_rpc=$(port_libre)
cat >"$g/garage.toml" <<TOML
metadata_dir = "$g/meta"
data_dir = "$g/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$port_rpc"
rpc_public_addr = "127.0.0.1:$port_rpc"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$port_s3"
root_domain = ".s3.garage.localhost"
TOML
cle_garage="GK$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
secret_garage="$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
GARAGE_DEFAULT_ACCESS_KEY="$cle_garage" GARAGE_DEFAULT_SECRET_KEY="$secret_garage" GARAGE_DEFAULT_BUCKET="depot-test" \
  "$garage" -c "$g/garage.toml" server --single-node --default-bucket >"$racine/target/garage.log" 2>&1 &
pids+=($!)
attendre_port 127.0.0.1 "$port_s3" 60 || { echo "garage did not start" >&2; cat "$racine/target/garage.log" >&2; exit 1; }
export DEPOT_TEST_S3_GARAGE="http://127.0.0.1:$port_s3"
export DEPOT_TEST_S3_GARAGE_REGION="garage" DEPOT_TEST_S3_GARAGE_BUCKET="depot-test"
export DEPOT_TEST_S3_GARAGE_KEY="$cle_garage" DEPOT_TEST_S3_GARAGE_SECRET="$secret_garage"
echo "== garage on $DEPOT_TEST_S3_GARAGE"

# ---- The tests ---------------------------------------------------------------------------
# Unit, integration, documentation and example tests of every crate. Incremental state is
# for repeated edits, not for one build: without it the target directory is gigabytes smaller.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo test --workspace --locked

#!/bin/sh
# The Temporal cluster's mTLS material, made once into DIR (kept if already there):
#   ca.pem / ca.key             the cluster's own CA: Temporal trusts a client only if it signed it
#   server.pem / server.key     the frontends' and the nodes' certificate (server and client use:
#                               the nodes present it to each other); named "temporal" plus SANS
#   worker.pem / worker.key     revenant's workers
#   operator.pem / operator.key the operators' CLI (temporal, revenant), the Web UI
# POSIX sh and openssl only: scripts/cluster.sh runs it on the host, docker-compose.yml in a
# one-shot container. Keys are the owner's only unless KEY_MODE says otherwise.
#   make-certs.sh DIR [SAN ...]     (SAN: DNS:name or IP:address, added to the server's)
set -eu
dir=${1:?usage: make-certs.sh DIR [SAN ...]}
shift
sans="DNS:temporal,DNS:localhost,IP:127.0.0.1"
for s in "$@"; do sans="$sans,$s"; done
mkdir -p "$dir"
cd "$dir"
umask 077
days=825

if [ ! -f ca.pem ]; then
  openssl req -x509 -newkey rsa:3072 -nodes -days "$days" -subj "/CN=revenant Temporal CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
fi

issue() { # name common-name extended-key-usage [subject-alt-names]
  [ -f "$1.pem" ] && return 0
  openssl req -newkey rsa:3072 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" 2>/dev/null
  {
    echo "basicConstraints = CA:FALSE"
    echo "keyUsage = digitalSignature, keyEncipherment"
    echo "extendedKeyUsage = $3"
    [ -z "${4:-}" ] || echo "subjectAltName = $4"
  } >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days "$days" \
    -extfile "$1.ext" -out "$1.pem" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

issue server temporal serverAuth,clientAuth "$sans"
issue worker revenant-worker clientAuth
issue operator revenant-operator clientAuth
chmod 644 ./*.pem
chmod "${KEY_MODE:-600}" ./*.key

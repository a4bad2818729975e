#!/usr/bin/env bash
# Makes the certificates the TLS tests use (Catch2 and ExUnit), in DIR:
#   ca.{crt,key}          the CA the tests trust
#   server.{crt,key}      signed by it, for localhost and 127.0.0.1
#   client.{crt,key}      signed by it, for mutual TLS
#   client-locked.key     client.key under a passphrase ("secret")
#   other-ca.{crt,key}    a CA nobody trusts
#   other-server.{crt,key} signed by other-ca, for localhost and 127.0.0.1
# EC P-256 keys: generating them takes milliseconds, RSA keys far longer.
set -euo pipefail
dir=${1:?usage: make_tls_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name subject
  key "$1.key"
  openssl req -x509 -new -key "$1.key" -out "$1.crt" -days 3650 -subj "/CN=$2" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
}

leaf() { # name ca subject extensions
  key "$1.key"
  openssl req -new -key "$1.key" -out "$1.csr" -subj "/CN=$3"
  printf '%s\n' "basicConstraints=CA:FALSE" "$4" >"$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial -out "$1.crt" -days 365 \
    -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

ca ca "Analytics Test CA"
ca other-ca "Untrusted Test CA"
server_ext="extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
leaf server ca localhost "$server_ext"
leaf other-server other-ca localhost "$server_ext"
leaf client ca analytics-client "extendedKeyUsage=clientAuth"
openssl pkey -in client.key -out client-locked.key -aes256 -passout pass:secret
chmod 600 ./*.key

#!/bin/sh
# Generate throwaway TLS material for the simulated gateway and the tests.
#
#   tests/gateway-sim/certs.sh DIR
#
# Writes into DIR (created if missing), all PEM, keys are EC P-256 (PKCS#8):
#   ca.crt ca.key                    test CA
#   server.crt server.key            gateway cert: DNS localhost, IP 127.0.0.1, IP ::1
#   client.crt client.key            valid client cert (CN openshell-client, OU openshell-user)
#   rogue-ca.crt rogue-ca.key        an unrelated CA
#   rogue-client.crt rogue-client.key   client cert signed by the rogue CA
#   expired-client.crt expired-client.key  signed by ca, valid 2020-01-01 .. 2020-01-02
#   future-client.crt future-client.key    signed by ca, valid from 2099 (not yet valid)
#   mismatched.key                   a key that does NOT match client.crt
#   garbage.pem                      PEM armour around junk (parses as nothing)
#   empty.pem                        empty file
# Only openssl is needed (no faketime): dated certs are issued with `openssl ca`
# and explicit -startdate/-enddate.
set -eu

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT_DIR" >&2
    exit 2
fi
OUT=$1
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
umask 077
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gwsim-certs.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

ossl() { openssl "$@" 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }; }
newkey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }

# --- CAs -------------------------------------------------------------------
make_ca() { # name cn
    newkey "$OUT/$1.key"
    ossl req -x509 -new -key "$OUT/$1.key" -sha256 -days 3650 -subj "/CN=$2/O=gateway-sim" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" -out "$OUT/$1.crt"
}
make_ca ca "gateway-sim test CA"
make_ca rogue-ca "gateway-sim rogue CA"

# --- leaf certificates signed with `openssl x509 -req` -------------------------
cat >"$WORK/server.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier=keyid
EOF
cat >"$WORK/client.ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
authorityKeyIdentifier=keyid
EOF

leaf() { # name subject ext ca-name
    newkey "$OUT/$1.key"
    ossl req -new -key "$OUT/$1.key" -subj "$2" -out "$WORK/$1.csr"
    ossl x509 -req -in "$WORK/$1.csr" -CA "$OUT/$4.crt" -CAkey "$OUT/$4.key" -CAcreateserial \
        -CAserial "$WORK/$4.srl" -days 825 -sha256 -extfile "$WORK/$3" -out "$OUT/$1.crt"
}
leaf server "/CN=localhost/O=gateway-sim" server.ext ca
leaf client "/CN=openshell-client/OU=openshell-user/O=gateway-sim" client.ext ca
leaf rogue-client "/CN=openshell-client/OU=openshell-user/O=rogue" client.ext rogue-ca

# --- dated client certificates via `openssl ca` ----------------------------------
mkdir -p "$WORK/ca/newcerts"
: >"$WORK/ca/index.txt"
echo 1000 >"$WORK/ca/serial"
cat >"$WORK/ca.cnf" <<EOF
[ ca ]
default_ca = sim
[ sim ]
dir = $WORK/ca
database = \$dir/index.txt
new_certs_dir = \$dir/newcerts
serial = \$dir/serial
certificate = $OUT/ca.crt
private_key = $OUT/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = client_ext
[ anything ]
commonName = supplied
organizationalUnitName = optional
organizationName = optional
[ client_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
EOF
dated() { # name start end
    newkey "$OUT/$1.key"
    ossl req -new -key "$OUT/$1.key" -subj "/CN=openshell-client/OU=openshell-user/O=gateway-sim" \
        -out "$WORK/$1.csr"
    ossl ca -batch -config "$WORK/ca.cnf" -notext -startdate "$2" -enddate "$3" \
        -in "$WORK/$1.csr" -out "$OUT/$1.crt"
}
dated expired-client 20200101000000Z 20200102000000Z
dated future-client 20990101000000Z 20991231000000Z

# --- negative material -----------------------------------------------------------
newkey "$OUT/mismatched.key"
cat >"$OUT/garbage.pem" <<'EOF'
-----BEGIN CERTIFICATE-----
VGhpcyBpcyBub3QgYSBjZXJ0aWZpY2F0ZSBhdCBhbGwsIGp1c3QgZ2FyYmFnZS4=
!!not*base64@@
-----END CERTIFICATE-----
EOF
: >"$OUT/empty.pem"

chmod 600 "$OUT"/*.key
chmod 644 "$OUT"/*.crt "$OUT/garbage.pem" "$OUT/empty.pem"
rm -f "$OUT"/*.srl
echo "certificates written to $OUT"

#!/usr/bin/env bash
# Makes a throwaway CA and a server certificate for the TLS tests, in DIR:
#   ca.pem         the CA certificate (what --tls-ca trusts)
#   cert.pem       a server certificate for 127.0.0.1 and localhost, signed by the CA
#   key.pem        its private key
#   other-ca.pem   an unrelated CA (a certificate chain that must NOT be trusted)
set -euo pipefail
dir=${1:?usage: test_certs.sh DIR}
cd "$dir"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=softcopy test CA" \
    -keyout ca.key -out ca.pem 2>/dev/null
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=unrelated CA" \
    -keyout other-ca.key -out other-ca.pem 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout key.pem -out cert.csr 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > ext.cnf
openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile ext.cnf -out cert.pem 2>/dev/null
rm -f cert.csr ext.cnf ca.srl

#!/bin/sh
# tls-creds.sh OUT: make throw-away TLS credentials for the migration tests
# and the benchmark with certtool (gnutls-bin), into OUT (the build
# directory: no private key is ever committed). Directories made, each in
# the layout `vessel run --tls-creds DIR` reads (docs/migration.md):
#   OUT/good        CA A; a server certificate for localhost, 127.0.0.1 and
#                   ::1 and a client certificate, both signed by CA A
#   OUT/rogue-client  trusts CA A, but its client certificate is signed by
#                   CA B (the destination must refuse it)
#   OUT/rogue-server  trusts CA A, but its server certificate is signed by
#                   CA B (the source must refuse it)
#   OUT/wrong-host  CA A; the server certificate is for another host name
#   OUT/swapped     CA A; the client certificate is good/'s server one and
#                   the other way round (each is refused in the other role)
#   OUT/psk         keys.psk with one random 32-byte key
#   OUT/psk-wrong   keys.psk: the same identity, another key
# The CA keys stay in OUT/ca-a and OUT/ca-b. Certificates expire in 2 days.
set -eu
out=${1:?usage: tls-creds.sh OUT}
command -v certtool >/dev/null || {
	echo "tls-creds.sh: certtool not found (Debian package gnutls-bin)" >&2
	exit 1
}
rm -rf "$out"
mkdir -p "$out"
umask 077

key() { certtool --generate-privkey --key-type=ecdsa --outfile "$1" 2>/dev/null; }

# ca NAME: a self-signed CA in OUT/NAME
ca() {
	mkdir -p "$out/$1"
	printf 'cn = "Vessel test %s"\nca\ncert_signing_key\nexpiration_days = 2\n' "$1" >"$out/$1/ca.tmpl"
	key "$out/$1/ca-key.pem"
	certtool --generate-self-signed --load-privkey "$out/$1/ca-key.pem" \
		--template "$out/$1/ca.tmpl" --outfile "$out/$1/ca-cert.pem" 2>/dev/null
}

# cert CA DIR ROLE [HOST]: DIR/ROLE-{key,cert}.pem signed by CA
cert() {
	ca=$out/$1
	dir=$out/$2
	mkdir -p "$dir"
	if [ "$3" = server ]; then
		host=${4:-localhost}
		if [ "$host" = localhost ]; then
			printf 'cn = "localhost"\ndns_name = "localhost"\nip_address = "127.0.0.1"\nip_address = "::1"\n'
		else
			printf 'cn = "%s"\ndns_name = "%s"\n' "$host" "$host"
		fi >"$dir/server.tmpl"
		printf 'tls_www_server\nsigning_key\nencryption_key\nexpiration_days = 2\n' >>"$dir/server.tmpl"
	else
		printf 'cn = "vessel migration source"\ntls_www_client\nsigning_key\nencryption_key\nexpiration_days = 2\n' \
			>"$dir/client.tmpl"
	fi
	key "$dir/$3-key.pem"
	certtool --generate-certificate --load-privkey "$dir/$3-key.pem" \
		--load-ca-certificate "$ca/ca-cert.pem" --load-ca-privkey "$ca/ca-key.pem" \
		--template "$dir/$3.tmpl" --outfile "$dir/$3-cert.pem" 2>/dev/null
	rm -f "$dir/$3.tmpl"
}

ca ca-a
ca ca-b
for d in good rogue-client rogue-server wrong-host; do
	mkdir -p "$out/$d"
	cp "$out/ca-a/ca-cert.pem" "$out/$d/"
done
cert ca-a good server
cert ca-a good client
cert ca-a rogue-client server
cert ca-b rogue-client client
cert ca-b rogue-server server
cert ca-a rogue-server client
cert ca-a wrong-host server elsewhere.invalid
cert ca-a wrong-host client

mkdir -p "$out/swapped"
cp "$out/ca-a/ca-cert.pem" "$out/swapped/"
cp "$out/good/server-cert.pem" "$out/swapped/client-cert.pem"
cp "$out/good/server-key.pem" "$out/swapped/client-key.pem"
cp "$out/good/client-cert.pem" "$out/swapped/server-cert.pem"
cp "$out/good/client-key.pem" "$out/swapped/server-key.pem"

hex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }
mkdir -p "$out/psk" "$out/psk-wrong"
echo "vessel:$(hex)" >"$out/psk/keys.psk"
echo "vessel:$(hex)" >"$out/psk-wrong/keys.psk"
echo "tls-creds.sh: credentials in $out"

# attest_lib.sh — a YubiKey-shaped PIV attestation hierarchy made with the
# openssl CLI, for the suites that test attestation (source after lib.sh):
#
#   attest_device DIR [EXTS]   in DIR: root.pem/root.key ("Yubico PIV Root
#       CA"-like, self-signed CA), f9.pem/f9.key (the device's attestation
#       certificate, CA:TRUE, signed by the root), key.pem (the slot 9a key,
#       EC P-256), csr.pem (a CSR of key.pem) and attest.pem (the attestation
#       certificate for key.pem, signed by f9, followed by f9.pem: what
#       `yubico-piv-tool -a attest -s 9a` and `-a read-certificate -s f9`
#       print). EXTS: the Yubico extensions as openssl config lines
#       (DER:... values are the raw extnValue octets); default: firmware
#       5.4.3, serial 12345678, PIN always / touch cached, USB-C keychain.
#   attest_leaf DIR NAME EXTS  another attestation of DIR's key by DIR's f9
#       with extensions EXTS, into DIR/NAME (leaf + f9, PEM).

ATTEST_GOOD_EXTS='1.3.6.1.4.1.41482.3.3 = DER:05:04:03
1.3.6.1.4.1.41482.3.7 = DER:02:04:00:BC:61:4E
1.3.6.1.4.1.41482.3.8 = DER:03:03
1.3.6.1.4.1.41482.3.9 = DER:03'

attest_device() {
	_d=$1
	_exts=${2:-$ATTEST_GOOD_EXTS}
	mkdir -p "$_d"
	printf '[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign\n' >"$_d/ca.cnf"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_d/root.key" -out "$_d/root.pem" -days 3650 \
		-subj "/CN=Yubico PIV Root CA Serial 263751" -addext "basicConstraints=critical,CA:TRUE" \
		-addext "keyUsage=critical,keyCertSign" 2>/dev/null || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$_d/f9.key" -out "$_d/f9.csr" -subj "/CN=Yubico PIV Attestation" 2>/dev/null ||
		return 1
	openssl x509 -req -in "$_d/f9.csr" -CA "$_d/root.pem" -CAkey "$_d/root.key" \
		-CAcreateserial -days 3650 -extfile "$_d/ca.cnf" -extensions ca \
		-out "$_d/f9.pem" 2>/dev/null || return 1
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$_d/key.pem" \
		2>/dev/null || return 1
	openssl req -new -key "$_d/key.pem" -subj "/CN=laptop" -out "$_d/csr.pem" || return 1
	attest_leaf "$_d" attest.pem "$_exts"
}

attest_leaf() {
	_d=$1
	printf '[yk]\n%s\n' "$3" >"$_d/$2.cnf"
	openssl req -new -key "$_d/key.pem" -subj "/CN=YubiKey PIV Attestation 9a" \
		-out "$_d/$2.csr" || return 1
	openssl x509 -req -in "$_d/$2.csr" -CA "$_d/f9.pem" -CAkey "$_d/f9.key" \
		-CAcreateserial -days 3650 -extfile "$_d/$2.cnf" -extensions yk \
		-out "$_d/$2.leaf" 2>/dev/null || return 1
	cat "$_d/$2.leaf" "$_d/f9.pem" >"$_d/$2"
}

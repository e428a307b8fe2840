#!/bin/sh
# t_attack_upload.sh — the security pass over certificate uploads (issue 12),
# as an attacker, against the real crtokend ({"type":"CERTIFICATE"}) and
# crtoken-admin cert import: what decides is the issuer's signature, never
# its name or key identifier (an impostor CA with the trusted CA's very
# subject and SKI); a weak signature digest (MD5, SHA-1) from the trusted
# CA itself; a leaf of an intermediate that is not trusted; an unknown
# critical extension; an oversized PEM. Each refused with its code and
# nothing written. Port 19150.
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

http_instance "$T/inst" 19150 || { not_ok "instance"; finish; exit 1; }
DB=$T/inst/crtoken.db
sig() { # the store without audit rows (refusals are audited by design)
	sqlite3 "$DB" "SELECT * FROM tokens ORDER BY id; SELECT * FROM certificates ORDER BY serial;
		SELECT * FROM events ORDER BY seq;" | sha256sum
}

# ------------------------------------------------------------ the partner CAs
# An RSA partner CA (so that it can sign with any digest) and an EC one.
openssl req -x509 -newkey rsa:2048 -nodes -days 60 -subj "/CN=Partner CA/O=Partner" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-keyout "$T/partner.key" -out "$T/partner.pem" 2>/dev/null
check "a partner CA (RSA)" test -s "$T/partner.pem"
PSKI=$(openssl x509 -in "$T/partner.pem" -noout -ext subjectKeyIdentifier | tail -1 | tr -d ' ')
# The impostor: its own key, the partner's very subject and SKI.
openssl req -x509 -newkey rsa:2048 -nodes -days 60 -subj "/CN=Partner CA/O=Partner" \
	-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
	-addext "subjectKeyIdentifier=$PSKI" -keyout "$T/impostor.key" -out "$T/impostor.pem" \
	2>/dev/null
check_eq "an impostor CA with the partner's subject and SKI" \
	"$(openssl x509 -in "$T/partner.pem" -noout -subject -ext subjectKeyIdentifier)" \
	"$(openssl x509 -in "$T/impostor.pem" -noout -subject -ext subjectKeyIdentifier)"
printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
	"extendedKeyUsage=clientAuth" "subjectKeyIdentifier=hash" \
	"authorityKeyIdentifier=keyid:always" >"$T/client.ext"
printf '%s\n' "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign" \
	"subjectKeyIdentifier=hash" "authorityKeyIdentifier=keyid:always" >"$T/subca.ext"
cat "$T/client.ext" >"$T/crit.ext"
echo "1.3.6.1.4.1.99999.1=critical,ASN1:UTF8String:must understand" >>"$T/crit.ext"
# leaf NAME CN ISSUER EXT [x509 args...] : $T/NAME.pem for a fresh key, signed by ISSUER.
leaf() {
	_ln=$1 _cn=$2 _is=$3 _ext=$4
	shift 4
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/$_ln.key" \
		-subj "/CN=$_cn" -out "$T/$_ln.csr" 2>/dev/null &&
		openssl x509 -req -in "$T/$_ln.csr" -CA "$T/$_is.pem" -CAkey "$T/$_is.key" \
			-set_serial "0x$(openssl rand -hex 10)" -days 30 -extfile "$_ext" "$@" \
			-out "$T/$_ln.pem" 2>/dev/null &&
		$PY -c 'import json,sys; print(json.dumps({"type":"CERTIFICATE","value":open(sys.argv[1]).read()}))' \
			"$T/$_ln.pem" >"$T/$_ln.json"
}
check "a good partner leaf" leaf good alice partner "$T/client.ext"
check "a leaf of the impostor" leaf forged alice impostor "$T/client.ext"
check_eq "... naming the partner as its issuer, with the partner's key id as AKI" \
	"$(openssl x509 -in "$T/good.pem" -noout -issuer -ext authorityKeyIdentifier)" \
	"$(openssl x509 -in "$T/forged.pem" -noout -issuer -ext authorityKeyIdentifier)"
check "a partner leaf signed with MD5" leaf md5 alice partner "$T/client.ext" -md5
check "a partner leaf signed with SHA-1" leaf sha1 alice partner "$T/client.ext" -sha1
check "a partner sub-CA (not in the bundle)" leaf subca "Partner Sub CA" partner "$T/subca.ext"
check "a leaf of the sub-CA" leaf subleaf alice subca "$T/client.ext"
check "a partner leaf with an unknown critical extension" leaf crit alice partner "$T/crit.ext"
cp "$T/partner.pem" "$T/partners.pem"
chmod 644 "$T/partners.pem"
conf_set trusted_issuers "$T/partners.pem"
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }
new_token alice-laptop '"commonName":"alice"' || not_ok "a token"
TOK=$TOKEN

# refused FILE STATUS CODE WHAT : the upload of FILE is refused, the store unchanged.
refused() {
	_before=$(sig)
	redeem "$TOK" "$T/$1.json"
	if [ "$STATUS" != "$2" ] || [ "$(err_code)" != "$3" ]; then
		not_ok "$4: $2 $3"
		diag "actual: $STATUS $(head -c 300 "$T/body")"
	elif [ "$_before" != "$(sig)" ]; then
		not_ok "$4: $2 $3 (the store changed)"
	else
		ok "$4: $2 $3, store unchanged"
	fi
}
refused forged 422 cert_untrusted "attack_upload_impostor_ca_with_the_trusted_name_and_key_id"
refused md5 422 cert_untrusted "attack_upload_md5_signature_of_the_trusted_ca"
check_contains "... the reason names the weak digest" "too weak" "$(cat "$T/body")"
refused sha1 422 cert_untrusted "attack_upload_sha1_signature_of_the_trusted_ca"
refused subleaf 422 cert_untrusted "attack_upload_leaf_of_an_untrusted_intermediate"
cat "$T/subleaf.pem" "$T/subca.pem" >"$T/subchain.pem"
$PY -c 'import json,sys; print(json.dumps({"type":"CERTIFICATE","value":open(sys.argv[1]).read()}))' \
	"$T/subchain.pem" >"$T/subchain.json"
refused subchain 400 cert_multiple "... nor with the intermediate beside it (one certificate only)"
refused crit 422 cert_untrusted "attack_upload_unknown_critical_extension"
refused subca 422 cert_is_ca "attack_upload_the_intermediate_itself"
# Oversized: the PEM padded past 64 KiB with text before the block.
{ head -c 70000 /dev/zero | tr '\0' 'x' | fold -w 64; cat "$T/good.pem"; } >"$T/big.pem"
$PY -c 'import json,sys; print(json.dumps({"type":"CERTIFICATE","value":open(sys.argv[1]).read()}))' \
	"$T/big.pem" >"$T/big.json"
refused big 413 request_too_large "attack_upload_oversized_pem over REST"
before=$(sig)
check_code "attack_upload_oversized_pem: cert import of 70 KB is cert_malformed" cert_malformed \
	"$ADMIN" cert import "$T/big.pem" --name big
check_contains "... saying why" "64 KiB" "$(cat "$T/.err")"
check_code "attack_upload_md5_signature_of_the_trusted_ca: cert import too" cert_untrusted \
	"$ADMIN" cert import "$T/md5.pem" --name md5
check_code "attack_upload_impostor_ca_with_the_trusted_name_and_key_id: cert import too" \
	cert_untrusted "$ADMIN" cert import "$T/forged.pem" --name forged
check_eq "... nothing written" "$before" "$(sig)"

redeem "$TOK" "$T/good.json"
check_status "the good partner leaf (SHA-256) is taken: 201" 201 -
check_eq "... stored as imported" imported "$(jget "$T/body" "d['ca']")"
http_finish

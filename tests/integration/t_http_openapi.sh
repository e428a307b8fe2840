#!/bin/sh
# t_http_openapi.sh — enroll/openapi.yaml against the real server: a
# third-party OpenAPI validator accepts it, the documented operations are
# exactly the route table (`crtokend --routes`), every $ref resolves, and a
# live probe of every operation answers with a status the document lists
# (never "no such route"), while every other method on a documented path is
# 405 with the documented methods in Allow. Every response (here and in the
# other t_http_* suites, through http_lib.sh's req) is checked against the
# document's schemas by http_finish (tests/integration/openapi_check.py).
. "$(dirname "$0")/lib.sh"
. "$TOP/tests/integration/http_lib.sh"

DOC=$TOP/enroll/openapi.yaml
http_instance "$T/inst" 18448 || { not_ok "instance"; finish; exit 1; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

# A third-party validator (Perl's JSON::Validator from Debian, offline,
# against the OpenAPI Initiative's 3.0 schema) — not our own reading of the
# spec. `make openapi-swagger-cli` is a second opinion from npm.
check "openapi.yaml is a valid OpenAPI 3.0 document (JSON::Validator)" \
	sh "$TOP/scripts/openapi-validate.sh" "$DOC"

check "openapi.yaml is an OpenAPI 3 document" $PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
assert str(d["openapi"]).startswith("3."), d["openapi"]
assert d["info"]["title"] and d["paths"]' "$DOC"

$PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for p, item in d["paths"].items():
    for m in item:
        if m in ("get", "post", "put", "patch", "delete"):
            print(m.upper(), p)' "$DOC" | sort >"$T/doc.routes"
"$CRTOKEND" --routes | sort >"$T/server.routes"
check "documented operations = the server's routes" diff -u "$T/server.routes" "$T/doc.routes"
check_eq "thirty-six operations" 36 "$(wc -l <"$T/server.routes")"

check "every \$ref in the document resolves" $PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "$ref":
                node = d
                for part in v.lstrip("#/").split("/"):
                    node = node[part]
            else:
                walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(d)' "$DOC"

# Live probe: every operation once, with placeholder path values.
$PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for p, item in d["paths"].items():
    for m, op in item.items():
        if m in ("get", "post", "put", "patch", "delete"):
            codes = ",".join(sorted(str(c) for c in op["responses"]))
            admin = any("apiKey" in s for s in op.get("security", []))
            print(m.upper(), p, codes, "admin" if admin else "public")' "$DOC" >"$T/ops"
while read -r m p codes kind; do
	path=$(printf '%s' "$p" | sed -e 's/{id}/token-00000000-0000-4000-8000-000000000000/' \
		-e 's/{serial}/00aa/' -e 's/{token}/crt_x/' -e 's/{format}/wpa_supplicant/')
	set --
	[ "$kind" = admin ] && set -- "$@" -H "Authorization: Bearer $KEY"
	case "$m" in POST | PATCH) set -- "$@" -H 'Content-Type: application/json' --data '{}' ;; esac
	req "$m" "$path" "$@"
	code=$(err_code)
	case ",$codes," in
	*",$STATUS,"*) ok "probe $m $p: $STATUS is documented" ;;
	*) not_ok "probe $m $p: $STATUS ($code) is not in the document ($codes)" ;;
	esac
	case "$code" in not_found | method_not_allowed)
		not_ok "probe $m $p reached no route ($code)" ;;
	esac
done <"$T/ops"

# Every undocumented method on a documented path is 405 with Allow.
$PY -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
for p, item in d["paths"].items():
    ms = [m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")]
    print(p, ",".join(sorted(ms + (["HEAD"] if "GET" in ms else []))))' "$DOC" >"$T/paths"
while read -r p allowed; do
	path=$(printf '%s' "$p" | sed -e 's/{id}/x/' -e 's/{serial}/00aa/' -e 's/{token}/crt_x/' \
		-e 's/{format}/wpa_supplicant/')
	for m in GET POST PUT PATCH DELETE; do
		case ",$allowed," in *",$m,"*) continue ;; esac
		req "$m" "$path"
		got=$(header Allow | tr -d ' ' | tr ',' '\n' | sort | paste -sd, -)
		if [ "$STATUS" = 405 ] && [ "$got" = "$allowed" ]; then
			ok "$m $p is 405 with Allow: $allowed"
		else
			not_ok "$m $p: $STATUS, Allow: $got (want 405, $allowed)"
		fi
	done
done <"$T/paths"

# Every operation's success response once, so that http_finish checks each
# 2xx schema (with every optional part: PEM, PKCS#12, a revocation).
new_token "oa-csr" '"commonName":"oa-dev"' '"replyAttributes":["Tunnel-Private-Group-Id=42"]'
check_status "createToken is 201" 201 -
areq GET /certificate-request-tokens
check_status "listTokens is 200" 200 -
areq GET "/certificate-request-tokens/$TOKEN_ID"
check_status "getToken is 200" 200 -
ajreq PATCH "/certificate-request-tokens/$TOKEN_ID" '{"organization":"Example","owner":null}'
check_status "updateToken is 200" 200 -
jreq POST /certificate-request-tokens/preview "{\"token\":\"$TOKEN\"}"
check_status "previewRedemption is 200" 200 -
csr_body oa-dev && redeem "$TOKEN" "$T/oa-dev.json"
check_status "redeemToken (CSR) is 201" 201 -
SERIAL=$(jget "$T/body" "d['serial']")
new_token "oa-gen" && jreq POST "/client-certificates/token/$TOKEN" '{"type":"GENERATE"}'
check_status "redeemToken (GENERATE) is 201" 201 -
for n in 1 2; do
	new_token "oa-approval-$n" '"approval":"required"'
	check_status "createToken with approval required is 201" 201 -
	csr_body "oa-approval-$n" && redeem "$TOKEN" "$T/oa-approval-$n.json"
	check_status "redeemToken of a token requiring approval is 202" 202 -
	eval "RQ$n=\$(jget \"\$T/body\" \"d['requestId']\")"
done
areq GET /certificate-requests
check_status "listCertRequests is 200" 200 -
areq GET "/certificate-requests/$RQ1"
check_status "getCertRequest is 200" 200 -
ajreq POST "/certificate-requests/$RQ1/approve" '{}'
check_status "approveCertRequest is 200" 200 -
areq GET "/certificate-requests/$RQ1"
check_status "getCertRequest of an issued one (with its certificate) is 200" 200 -
ajreq POST "/certificate-requests/$RQ2/deny" '{"reason":"not ours"}'
check_status "denyCertRequest is 200" 200 -
areq GET /client-certificates
check_status "listCertificates is 200" 200 -
areq GET "/audit?action=token&size=5"
check_status "listAudit is 200" 200 -
areq GET "/client-certificates/$SERIAL"
check_status "getCertificate is 200" 200 -
ajreq POST "/client-certificates/$SERIAL/revoke" '{"reason":"keyCompromise"}'
check_status "revokeCertificate is 200" 200 -
new_token "oa-del" && areq DELETE "/certificate-request-tokens/$TOKEN_ID"
check_status "deleteToken is 204" 204 -
areq GET "/certificate-request-tokens?state=deleted"
check_status "listTokens?state=deleted is 200" 200 -
for p in /ca.pem /crl "/crl?format=pem" /healthz; do
	req GET "$p"
	check_status "GET $p is 200" 200 -
done

# The response checker itself refuses what the document does not say: a
# field it does not list, a wrong type, a status the operation does not
# list, a Content-Type it does not list.
mkdir -p "$T/fake"
areq GET "/certificate-request-tokens/$TOKEN_ID"
# fake NAME STATUS PYTHON MESSAGE : the checker, given the last response as
# STATUS with its body changed by PYTHON (on d), must fail saying MESSAGE.
fake() {
	rm -f "$T/fake/"*
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); exec(sys.argv[2]); print(json.dumps(d))' \
		"$T/body" "$3" >"$T/fake/1.body"
	cp "$T/hdrs" "$T/fake/1.hdrs"
	echo "1 GET $2 /certificate-request-tokens/$TOKEN_ID" >"$T/fake/index"
	if $PY "$TOP/tests/integration/openapi_check.py" "$DOC" "$T/fake" >"$T/fake.out" 2>&1; then
		not_ok "the response checker refuses $1 (it passed)"
	elif grep -q -e "$4" "$T/fake.out"; then
		ok "the response checker refuses $1"
	else
		not_ok "the response checker refuses $1 (not with: $4)"
		sed 's/^/#   /' "$T/fake.out"
	fi
}
fake "an undocumented field" 200 'd["surprise"] = 1' "'surprise' was unexpected"
fake "a missing required field" 200 'del d["state"]' "'state' is a required property"
fake "a wrong type" 200 'd["createdAt"] = 1764547200' "createdAt: 1764547200 is not of type"
fake "a time that is not RFC 3339 UTC" 200 'd["createdAt"] = "2026-12-01 10:00:00"' \
	"is not a 'date-time'"
fake "a state outside the enum" 200 'd["state"] = "gone"' "'gone' is not one of"
fake "an undocumented status" 201 'pass' "status 201 is not documented"
sed -i 's|^Content-Type:.*|Content-Type: text/plain\r|' "$T/hdrs"
fake "an undocumented Content-Type" 200 'pass' "Content-Type 'text/plain' is not documented"
http_finish

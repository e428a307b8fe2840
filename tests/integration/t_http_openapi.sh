#!/bin/sh
# t_http_openapi.sh — enroll/openapi.yaml against the real server: the
# documented operations are exactly the route table (`crtokend --routes`),
# every $ref resolves, and a live probe of every operation answers with a
# status the document lists (never "no such route"), while every other
# method on a documented path is 405 with the documented methods in Allow.
. "$(dirname "$0")/lib.sh"
. "$TOP/enroll/testlib.sh"

DOC=$TOP/enroll/openapi.yaml
http_instance "$T/inst" 18448 || { not_ok "instance"; finish; exit 1; }
start_crtokend || { not_ok "crtokend starts"; finish; exit 1; }
apikey || { not_ok "api key"; finish; exit 1; }

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
check_eq "twelve operations" 12 "$(wc -l <"$T/server.routes")"

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
		-e 's/{serial}/00aa/' -e 's/{token}/crt_x/')
	set -- -X "$m"
	[ "$kind" = admin ] && set -- "$@" -H "Authorization: Bearer $KEY"
	case "$m" in POST | PATCH) set -- "$@" -H 'Content-Type: application/json' --data '{}' ;; esac
	STATUS=$(curl -s -o "$T/body" -w '%{http_code}' "$@" "$URL$path")
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
	path=$(printf '%s' "$p" | sed -e 's/{id}/x/' -e 's/{serial}/00aa/' -e 's/{token}/crt_x/')
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
http_finish

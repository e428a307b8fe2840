#!/usr/bin/python3
"""openapi_check.py — check recorded HTTP responses against an OpenAPI 3.0 document.

    openapi_check.py DOC DIR

DIR holds what tests/integration/http_lib.sh's `req` recorded for every request of a
suite: an `index` with one line per request, "N METHOD STATUS PATH[?QUERY]",
and N.body / N.hdrs (the body and the headers as curl wrote them).

For each response: the path must be a documented path (else the status must
be an error), the method one of its operations (else an error), the status
one the operation lists, the Content-Type one the response lists, and a JSON
body must validate against the response's schema. Object schemas are closed
here (no properties beyond the documented ones), so a field the server adds
without documenting it fails too. OpenAPI 3.0 schema objects are turned into
JSON Schema (draft 7) first: $refs inlined, `nullable` made a "null" type,
allOf of objects merged, `format: date-time` checked as RFC 3339 UTC.

Prints one line per mismatch; exits 1 if there was any, 0 otherwise (and the
number of responses checked on stdout).
"""
import base64
import copy
import json
import os
import re
import sys

import jsonschema
import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def deref(doc, ref):
    if not ref.startswith("#/"):
        raise ValueError("only local $refs are supported: " + ref)
    node = doc
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def follow(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        node = deref(doc, node["$ref"])
    return node


def to_json_schema(doc, s, closed):
    """An OpenAPI 3.0 schema object as a draft 7 JSON Schema."""
    s = follow(doc, s)
    if not isinstance(s, dict):
        return s
    s = dict(s)
    nullable = s.pop("nullable", False)
    for k in ("example", "description", "deprecated", "readOnly", "writeOnly",
              "xml", "externalDocs", "discriminator"):
        s.pop(k, None)
    for k in ("allOf", "oneOf", "anyOf"):
        if k in s:
            s[k] = [to_json_schema(doc, x, closed) for x in s[k]]
    if "not" in s:
        s["not"] = to_json_schema(doc, s["not"], closed)
    if "items" in s:
        s["items"] = to_json_schema(doc, s["items"], closed)
    if "properties" in s:
        s["properties"] = {k: to_json_schema(doc, v, closed) for k, v in s["properties"].items()}
    if isinstance(s.get("additionalProperties"), dict):
        s["additionalProperties"] = to_json_schema(doc, s["additionalProperties"], closed)
    # allOf of object schemas: one object with every part's properties, so
    # that closing it does not make each part refuse the others' fields.
    if "allOf" in s and all(isinstance(x, dict) and (x.get("type") == "object" or "properties" in x)
                            for x in s["allOf"]):
        parts = s.pop("allOf")
        merged = {"type": "object", "properties": {}, "required": []}
        for x in parts:
            merged["properties"].update(x.get("properties", {}))
            merged["required"] += [r for r in x.get("required", []) if r not in merged["required"]]
            if x.get("additionalProperties") is not None and x.get("additionalProperties") is not False:
                merged["additionalProperties"] = x["additionalProperties"]
        merged["properties"].update(s.pop("properties", {}))
        merged["required"] += [r for r in s.pop("required", []) if r not in merged["required"]]
        s.pop("type", None)
        s = {**merged, **s}
        if not s["required"]:
            del s["required"]
    if closed and (s.get("type") == "object" or "properties" in s) and "additionalProperties" not in s:
        s["additionalProperties"] = False
    if nullable:
        if "type" in s and not any(k in s for k in ("allOf", "oneOf", "anyOf")):
            s["type"] = [s["type"], "null"]
            if "enum" in s and None not in s["enum"]:
                s["enum"] = s["enum"] + [None]
        else:
            s = {"anyOf": [s, {"type": "null"}]}
    return s


formats = jsonschema.FormatChecker(())
RFC3339_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@formats.checks("date-time")
def _date_time(v):
    return not isinstance(v, str) or bool(RFC3339_UTC.match(v))


@formats.checks("byte")
def _byte(v):
    if not isinstance(v, str):
        return True
    try:
        base64.b64decode(v, validate=True)
        return True
    except ValueError:
        return False


def template_regex(p):
    return re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$")


def match_path(paths, path):
    """The documented path template for a concrete path (literal segments win)."""
    best = None
    for tmpl, rx in paths:
        if rx.match(path):
            lit = sum(1 for seg in tmpl.split("/") if seg and not seg.startswith("{"))
            if best is None or lit > best[0]:
                best = (lit, tmpl)
    return best[1] if best else None


def last_header_block(text):
    blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip()]
    headers = {}
    if blocks:
        for line in blocks[-1].splitlines()[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
    return headers


def main():
    doc_file, rec = sys.argv[1], sys.argv[2]
    with open(doc_file) as f:
        doc = yaml.safe_load(f)
    paths = [(p, template_regex(p)) for p in doc["paths"]]
    error_schema = to_json_schema(doc, {"$ref": "#/components/schemas/Error"}, True)
    problems = []
    checked = 0
    cache = {}

    def validate(schema, body, where):
        key = id(schema)
        if key not in cache:
            cache[key] = jsonschema.Draft7Validator(schema, format_checker=formats)
        errs = sorted(cache[key].iter_errors(body), key=lambda e: list(e.absolute_path))
        for e in errs[:5]:
            loc = "/".join(str(x) for x in e.absolute_path) or "(body)"
            problems.append(f"{where}: {loc}: {e.message[:300]}")

    with open(os.path.join(rec, "index")) as f:
        lines = [l.rstrip("\n").split(None, 3) for l in f if l.strip()]
    for n, method, status, target in lines:
        checked += 1
        path = target.split("?", 1)[0].split("#", 1)[0]
        where = f"{method} {target[:120]} -> {status}"
        with open(os.path.join(rec, n + ".body"), "rb") as f:
            raw = f.read()
        with open(os.path.join(rec, n + ".hdrs"), encoding="latin-1") as f:
            headers = last_header_block(f.read())
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if status == "000":
            continue  # no response (the suite tested a refused connection)

        def json_body():
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError) as e:
                problems.append(f"{where}: body is not JSON ({e})")
                return None

        def error_response():
            if int(status) < 400:
                problems.append(f"{where}: success for an undocumented operation")
            elif method != "HEAD" and raw:
                if ctype != "application/json":
                    problems.append(f"{where}: error with Content-Type {ctype!r}")
                else:
                    b = json_body()
                    if b is not None:
                        validate(error_schema, b, where)

        tmpl = match_path(paths, path)
        if tmpl is None:
            error_response()
            continue
        item = doc["paths"][tmpl]
        m = method.lower()
        op = item.get(m) or (item.get("get") if m == "head" else None)
        if op is None:
            error_response()
            continue
        responses = op["responses"]
        resp = responses.get(status) or responses.get(status[0] + "XX") or responses.get("default")
        if resp is None:
            problems.append(f"{where}: status {status} is not documented for "
                            f"{method} {tmpl} ({', '.join(sorted(responses))})")
            continue
        resp = follow(doc, resp)
        content = resp.get("content") or {}
        if method == "HEAD" or status in ("204", "304"):
            if method != "HEAD" and raw:
                problems.append(f"{where}: a {status} with a body")
            continue
        if not content:
            if raw:
                problems.append(f"{where}: a body ({ctype or 'no type'}) the document does not describe")
            continue
        media = content.get(ctype)
        if media is None:
            problems.append(f"{where}: Content-Type {ctype!r} is not documented "
                            f"({', '.join(sorted(content))})")
            continue
        if ctype == "application/json" or ctype.endswith("+json"):
            b = json_body()
            if b is not None and "schema" in media:
                key = (tmpl, m, status, ctype)
                if key not in cache:
                    cache[key] = to_json_schema(doc, media["schema"], True)
                validate(cache[key], b, where)

    for p in problems:
        print(p)
    print(f"{checked} responses checked, {len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

/*
 * render.c — the JSON shapes of tokens and certificates (Frontdoor's field
 * names, camelCase, RFC 3339 UTC times), shared by crtoken-admin --json and
 * crtokend so both always agree.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static json_t *jstr(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *jtime(int64_t t)
{
	char buf[32];
	if (t == 0)
		return json_null();
	crt_time_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

/* "A=v\nB=w" → ["A=v","B=w"] */
static json_t *jlines(const char *s)
{
	json_t *a = json_array();
	const char *p = s;
	while (a != NULL && p != NULL && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p = nl ? nl + 1 : NULL;
	}
	return a;
}

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT) : NULL;
	json_decref(o);
	return s;
}

/* A crt_field mask as ["commonName", "organization", "organizationalUnit"]. */
static json_t *fields(unsigned mask)
{
	json_t *a = json_array();
	if (mask & CRT_FIELD_CN)
		json_array_append_new(a, json_string("commonName"));
	if (mask & CRT_FIELD_O)
		json_array_append_new(a, json_string("organization"));
	if (mask & CRT_FIELD_OU)
		json_array_append_new(a, json_string("organizationalUnit"));
	return a;
}

char *crt_token_json(const crt_token *t, const char *token)
{
	json_t *o = json_object();
	/* lockedFields: what the redeemer cannot set, by explicit lock or by the
	 * subject policy; openFields: what the admin opened. */
	json_t *locked = fields(CRT_FIELD_ALL & ~crt_token_overridable(t)), *opened = fields(t->opened);
	json_object_set_new(o, "id", json_string(t->id));
	json_object_set_new(o, "name", jstr(t->name));
	if (token != NULL)
		json_object_set_new(o, "token", json_string(token));
	json_object_set_new(o, "commonName", jstr(t->cn));
	json_object_set_new(o, "organization", jstr(t->org));
	json_object_set_new(o, "organizationalUnit", jstr(t->ou));
	json_object_set_new(o, "owner", jstr(t->owner));
	json_object_set_new(o, "state", json_string(crt_token_state_name(t->state)));
	json_object_set_new(o, "lockedFields", locked);
	json_object_set_new(o, "openFields", opened);
	json_object_set_new(o, "replyAttributes", jlines(t->reply));
	json_object_set_new(o, "createdAt", jtime(t->created_at));
	json_object_set_new(o, "expiresAt", jtime(t->expires_at));
	json_object_set_new(o, "usedAt", jtime(t->used_at));
	json_object_set_new(o, "deletedAt", jtime(t->deleted_at));
	json_object_set_new(o, "serial", jstr(t->serial));
	json_object_set_new(o, "createdBy", jstr(t->created_by));
	return dump(o);
}

char *crt_cert_json(const crt_cert *c, int with_pem)
{
	json_t *o = json_object();
	json_object_set_new(o, "id", json_string(c->serial));
	json_object_set_new(o, "name", jstr(c->name));
	json_object_set_new(o, "serial", json_string(c->serial));
	json_object_set_new(o, "status", json_string(crt_cert_status_name(c->status)));
	json_object_set_new(o, "commonName", jstr(c->cn));
	json_object_set_new(o, "organization", jstr(c->org));
	json_object_set_new(o, "organizationalUnit", jstr(c->ou));
	json_object_set_new(o, "subject", jstr(c->subject));
	json_object_set_new(o, "issuer", jstr(c->issuer));
	json_object_set_new(o, "keyType", jstr(c->key_type));
	json_object_set_new(o, "publicKeySha256", jstr(c->pubkey_sha256));
	json_object_set_new(o, "tokenId", c->token_id[0] ? json_string(c->token_id) : json_null());
	json_object_set_new(o, "user", jstr(c->user));
	json_object_set_new(o, "replyAttributes", jlines(c->reply));
	json_object_set_new(o, "notBefore", jtime(c->not_before));
	json_object_set_new(o, "notAfter", jtime(c->not_after));
	json_object_set_new(o, "issuedAt", jtime(c->issued_at));
	json_object_set_new(o, "revokedAt", jtime(c->revoked_at));
	json_object_set_new(o, "revocationReason",
			    c->revoked ? json_string(crt_reason_name(c->reason)) : json_null());
	if (with_pem) {
		json_object_set_new(o, "certificate", jstr(c->pem));
		json_object_set_new(o, "chain", jstr(c->chain_pem));
	}
	return dump(o);
}

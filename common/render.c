/*
 * render.c — the JSON shapes of tokens, certificates and audit rows
 * (Frontdoor's field names, camelCase, RFC 3339 UTC times), shared by
 * crtoken-admin --json and crtokend so both always agree. Each returns a new
 * jansson object the caller owns (json_decref), to print, send or extend;
 * NULL when out of memory.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/attest.h"
#include "rules/san.h"

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

/* Set o[key] = v (a new reference). A value that could not be made (out of
 * memory, or text that is not UTF-8) leaves its member out, as the shapes
 * always have. */
static void put(json_t *o, const char *key, json_t *v)
{
	json_object_set_new(o, key, v);
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

/* "kind=value" lines (rules/san.h) → {"email":[…],"upn":"…"|null,"dns":[…],
 * "uri":[…]}; null when there are none. */
static json_t *jsan(const char *lines)
{
	json_t *o, *a[SAN_KIND_COUNT] = {0};

	if (lines == NULL || *lines == '\0' || (o = json_object()) == NULL)
		return json_null();
	for (int k = 0; k < SAN_KIND_COUNT; k++)
		if (k != SAN_UPN)
			a[k] = json_array();
	put(o, "upn", json_null());
	for (const char *p = lines; *p;) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		int k = eq ? san_kind_parse(p, (size_t)(eq - p)) : -1;
		if (k == SAN_UPN)
			put(o, "upn", json_stringn(eq + 1, n - (size_t)(eq + 1 - p)));
		else if (k >= 0 && a[k] != NULL)
			json_array_append_new(a[k], json_stringn(eq + 1, n - (size_t)(eq + 1 - p)));
		p += n;
		if (*p == '\n')
			p++;
	}
	put(o, "email", a[SAN_EMAIL]);
	put(o, "dns", a[SAN_DNS]);
	put(o, "uri", a[SAN_URI]);
	return o;
}

json_t *crt_token_json(const crt_token *t, const char *token)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	/* lockedFields: what the redeemer cannot set, by explicit lock or by the
	 * subject policy; openFields: what the admin opened. */
	put(o, "id", json_string(t->id));
	put(o, "name", jstr(t->name));
	if (token != NULL)
		put(o, "token", json_string(token));
	put(o, "commonName", jstr(t->cn));
	put(o, "organization", jstr(t->org));
	put(o, "organizationalUnit", jstr(t->ou));
	put(o, "owner", jstr(t->owner));
	put(o, "ownerEmail", jstr(t->owner_email));
	put(o, "state", json_string(crt_token_state_name(t->state)));
	put(o, "lockedFields", fields(CRT_FIELD_ALL & ~crt_token_overridable(t)));
	put(o, "openFields", fields(t->opened));
	put(o, "replyAttributes", jlines(t->reply));
	put(o, "createdAt", jtime(t->created_at));
	put(o, "expiresAt", jtime(t->expires_at));
	put(o, "usedAt", jtime(t->used_at));
	put(o, "deletedAt", jtime(t->deleted_at));
	put(o, "serial", jstr(t->serial));
	put(o, "createdBy", jstr(t->created_by));
	/* the token's own attestation policy; null members: the [attestation] default */
	attest_policy p;
	const char *why;
	char fw[16];
	if (attest_policy_parse(t->attestation, &p, &why) != CRT_OK)
		memset(&p, 0, sizeof(p)); /* never stored so: shown as all defaults */
	attest_firmware_format(p.firmware_min, fw, sizeof(fw));
	put(o, "attestation",
	    p.set & ATTEST_SET_MODE ? json_string(attest_mode_name(p.mode)) : json_null());
	put(o, "attestPinPolicy",
	    p.set & ATTEST_SET_PIN ? json_string(attest_pin_name(p.pin_min)) : json_null());
	put(o, "attestTouchPolicy",
	    p.set & ATTEST_SET_TOUCH ? json_string(attest_touch_name(p.touch_min)) : json_null());
	put(o, "attestMinFirmware", p.set & ATTEST_SET_FIRMWARE ? json_string(fw) : json_null());
	put(o, "profile", json_string(t->profile ? t->profile : CRT_CERT_PROFILE_DEFAULT));
	put(o, "validDays", t->valid_days ? json_integer(t->valid_days) : json_null());
	put(o, "san", jsan(t->san));
	put(o, "ca", jstr(t->ca != NULL ? t->ca : CRT_CA_DEFAULT));
	put(o, "approval",
	    json_string(t->approval == CRT_APPROVAL_REQUIRED ? "required" : "none"));
	put(o, "pinMac", jstr(t->pin_mac)); /* null: the profile's */
	put(o, "description", jstr(t->description));
	return o;
}

/* "a,b, c" → ["a","b","c"] */
static json_t *jlist(const char *s)
{
	json_t *a = json_array();
	const char *p = s;
	while (a != NULL && p != NULL && *p) {
		p += strspn(p, ", ");
		size_t n = strcspn(p, ", ");
		if (n > 0)
			json_array_append_new(a, json_stringn(p, n));
		p += n;
	}
	return a;
}

json_t *crt_cert_profile_json(const crt_cert_profile *p)
{
	json_t *o = json_object(), *san = json_object();

	if (o == NULL || san == NULL) {
		json_decref(o);
		json_decref(san);
		return NULL;
	}
	put(o, "name", json_string(p->name));
	put(o, "description", jstr(p->description));
	put(o, "validDays", json_integer(p->days));
	put(o, "maxValidDays", json_integer(p->max_days));
	put(o, "keyUsage", p->key_usage ? jlist(p->key_usage) : json_string("auto"));
	put(o, "extendedKeyUsage", jlist(p->ext_key_usage));
	put(o, "keyTypes", jlist(p->key_types));
	put(san, "email", jstr(p->san_email));
	put(san, "upn", jstr(p->san_upn));
	put(san, "dns", jstr(p->san_dns));
	put(san, "uri", jstr(p->san_uri));
	put(o, "sanTemplates", san);
	put(o, "replyAttributes", jlines(p->reply));
	put(o, "lockedFields", fields(p->locked));
	put(o, "tokenLifetime", json_integer(p->token_lifetime));
	put(o, "tokenMaxLifetime", json_integer(p->token_max_lifetime));
	put(o, "approval", json_string(p->approval == CRT_APPROVAL_REQUIRED ? "required" : "none"));
	put(o, "renewDays", json_integer(p->renew_days));
	put(o, "allowSameKey", json_boolean(p->allow_same_key));
	put(o, "pinMac", json_string(p->pin_mac == CRT_PIN_MAC_FIRST ? "first" : "off"));
	put(o, "sessionTimeout", p->session_timeout ? json_integer(p->session_timeout) : json_null());
	put(o, "crlUrl", jstr(p->crl_url));
	put(o, "caIssuersUrl", jstr(p->ca_issuers_url));
	put(o, "ocspUrl", jstr(p->ocsp_url));
	return o;
}

json_t *crt_cert_json(const crt_cert *c, int with_pem)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put(o, "id", json_string(c->serial));
	put(o, "name", jstr(c->name));
	put(o, "serial", json_string(c->serial));
	put(o, "status", json_string(crt_cert_status_name(c->status)));
	put(o, "commonName", jstr(c->cn));
	put(o, "organization", jstr(c->org));
	put(o, "organizationalUnit", jstr(c->ou));
	put(o, "subject", jstr(c->subject));
	put(o, "issuer", jstr(c->issuer));
	put(o, "ca", jstr(c->ca != NULL ? c->ca : CRT_CA_DEFAULT));
	put(o, "keyType", jstr(c->key_type));
	put(o, "publicKeySha256", jstr(c->pubkey_sha256));
	put(o, "tokenId", c->token_id[0] ? json_string(c->token_id) : json_null());
	put(o, "profile", json_string(c->profile ? c->profile : CRT_CERT_PROFILE_DEFAULT));
	put(o, "user", jstr(c->user));
	put(o, "replyAttributes", jlines(c->reply));
	put(o, "notBefore", jtime(c->not_before));
	put(o, "notAfter", jtime(c->not_after));
	put(o, "issuedAt", jtime(c->issued_at));
	put(o, "revokedAt", jtime(c->revoked_at));
	put(o, "revocationReason", c->revoked ? json_string(crt_reason_name(c->reason)) : json_null());
	/* the attested facts (stored as JSON by the redemption) */
	json_t *att = c->attestation ? json_loads(c->attestation, 0, NULL) : NULL;
	put(o, "attestation", att ? att : json_null());
	put(o, "firstSeen", c->first_seen ? jtime(c->first_seen) : json_null());
	put(o, "lastSeen", c->last_seen ? jtime(c->last_seen) : json_null());
	put(o, "firstMac", jstr(c->first_mac));
	put(o, "lastMac", jstr(c->last_mac));
	put(o, "nasIpAddress", jstr(c->nas_ip));
	put(o, "nasIdentifier", jstr(c->nas_id));
	put(o, "renewedFrom", jstr(c->renewed_from));
	char *san = crt_cert_san_text(c->pem);
	put(o, "san", jsan(san));
	free(san);
	put(o, "pinMac", jstr(c->pin_mac)); /* its token's; null: the profile's */
	if (with_pem) {
		put(o, "certificate", jstr(c->pem));
		put(o, "chain", jstr(c->chain_pem));
	}
	return o;
}

crt_status crt_attestation_text(const char *facts, char *buf, size_t len)
{
	static const char *const keys[][2] = {{"serial", "serial"},	    {"firmware", "firmware"},
					      {"pinPolicy", "pin"},	    {"touchPolicy", "touch"},
					      {"formFactor", "form"},	    {"slot", "slot"}};
	json_t *o = facts ? json_loads(facts, 0, NULL) : NULL, *v;
	size_t n = 0;
	int w;

	if (len > 0)
		buf[0] = '\0';
	if (!json_is_object(o)) {
		json_decref(o);
		return CRT_E_INVALID_ARGUMENT;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]) + 2; i++) {
		const char *name = i < 6 ? keys[i][1] : i == 6 ? "fips" : "cspn";
		if (i < 6 && (v = json_object_get(o, keys[i][0])) == NULL)
			continue;
		if (i >= 6 && !json_integer_value(json_object_get(o, name)))
			continue;
		if (i >= 6)
			w = snprintf(buf + n, len - n, "%s%s", n ? " " : "", name);
		else if (json_is_integer(v))
			w = snprintf(buf + n, len - n, "%s%s=%lld", n ? " " : "", name,
				     (long long)json_integer_value(v));
		else
			w = snprintf(buf + n, len - n, "%s%s=%s", n ? " " : "", name,
				     json_string_value(v) ? json_string_value(v) : "");
		if (w < 0 || (size_t)w >= len - n) {
			json_decref(o);
			return CRT_E_NOMEM;
		}
		n += (size_t)w;
	}
	json_decref(o);
	return CRT_OK;
}

json_t *crt_audit_json(const crt_audit_row *r)
{
	json_t *o = json_object(), *detail = NULL;

	if (o == NULL)
		return NULL;
	/* detail is stored as the JSON text the writer made; it is shown as the
	 * value it holds (null when absent or unreadable). */
	if (r->detail != NULL)
		detail = json_loads(r->detail, 0, NULL);
	put(o, "id", json_integer((json_int_t)r->id));
	put(o, "at", jtime(r->at));
	put(o, "actor", jstr(r->actor));
	put(o, "action", jstr(r->action));
	put(o, "object", jstr(r->object));
	put(o, "detail", detail ? detail : json_null());
	return o;
}

json_t *crt_preview_json(const crt_preview *p)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	put(o, "tokenId", json_string(p->token_id));
	put(o, "name", jstr(p->name));
	put(o, "commonName", jstr(p->cn));
	put(o, "organization", jstr(p->org));
	put(o, "organizationalUnit", jstr(p->ou));
	put(o, "subject", jstr(p->subject));
	put(o, "owner", jstr(p->owner));
	put(o, "mayChange", fields(p->may_change));
	put(o, "validityDays", p->cert_days > 0 ? json_integer(p->cert_days) : json_null());
	put(o, "notBefore", jtime(p->not_before));
	put(o, "notAfter", jtime(p->not_after));
	put(o, "tokenExpiresAt", jtime(p->token_expires_at));
	return o;
}

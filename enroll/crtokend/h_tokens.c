/*
 * h_tokens.c — admin endpoints for certificate request tokens:
 *   POST   /certificate-request-tokens          create (the token is shown here only;
 *                                               "count": N makes N in one transaction)
 *   GET    /certificate-request-tokens[?state=] list
 *   GET    /certificate-request-tokens/{id}     one
 *   PATCH  /certificate-request-tokens/{id}     update metadata
 *   DELETE /certificate-request-tokens/{id}     delete
 * Rules (name required, lifetimes, field checks, reply attributes) are
 * libcrtoken's; this file only maps JSON to crt_token_spec and back.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* qsort_r */
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

static const char *const spec_keys[] = {
    "name",      "commonName", "organization", "organizationalUnit", "owner",
    "expiresIn", "expiresAt",  "lockedFields", "replyAttributes",    "openFields",
    "attestation", "attestPinPolicy", "attestTouchPolicy", "attestMinFirmware", "ownerEmail",
    "profile", "validDays", "validYears", "ca", "approval", "san", "pinMac", "description", NULL,
};

/* A growing "line\nline" buffer. */
struct lines {
	char *buf;
	size_t len;
	int oom;
};

static void lines_add(struct lines *l, const char *a, const char *sep, const char *b)
{
	size_t need = strlen(a) + (sep ? strlen(sep) + strlen(b) : 0) + 2;
	char *nb;

	if (l->oom)
		return;
	if ((nb = realloc(l->buf, l->len + need)) == NULL) {
		l->oom = 1;
		return;
	}
	l->buf = nb;
	l->len += (size_t)snprintf(l->buf + l->len, need, "%s%s%s%s", l->len ? "\n" : "", a,
	                           sep ? sep : "", sep ? b : "");
}

/*
 * replyAttributes: ["Attr=value", ...], {"Attr": "value" | ["v1","v2"]} or
 * "Attr=value\n..." → "Attr=value\n..." (malloc'd, "" for an empty list).
 * 0 or -1 after replying 400.
 */
static int parse_reply(struct request *rq, json_t *v, char **out)
{
	struct lines l = {NULL, 0, 0};
	const char *key;
	json_t *item, *sub;
	size_t i, j;

	*out = NULL;
	if (json_is_string(v)) {
		lines_add(&l, json_string_value(v), NULL, NULL);
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, item)
		{
			if (!json_is_string(item))
				goto bad;
			lines_add(&l, json_string_value(item), NULL, NULL);
		}
	} else if (json_is_object(v)) {
		json_object_foreach(v, key, item)
		{
			if (json_is_string(item)) {
				lines_add(&l, key, "=", json_string_value(item));
			} else if (json_is_array(item)) {
				json_array_foreach(item, j, sub)
				{
					if (!json_is_string(sub))
						goto bad;
					lines_add(&l, key, "=", json_string_value(sub));
				}
			} else {
				goto bad;
			}
		}
	} else {
		goto bad;
	}
	if (l.oom) {
		free(l.buf);
		reply_error(rq, CRT_E_NOMEM, NULL);
		return -1;
	}
	if (l.buf == NULL && (l.buf = strdup("")) == NULL) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		return -1;
	}
	*out = l.buf;
	return 0;
bad:
	free(l.buf);
	reply_error(rq, CRT_E_REQUEST_INVALID,
	            "\"replyAttributes\" must be [\"Attribute=value\", ...] or "
	            "{\"Attribute\": \"value\", ...}");
	return -1;
}

/* One lockedFields name (JSON or short spelling) → crt_field bit, 0 if unknown. */
static unsigned field_bit(const char *name)
{
	unsigned m = 0;

	if (strcmp(name, "commonName") == 0)
		return CRT_FIELD_CN;
	if (strcmp(name, "organization") == 0)
		return CRT_FIELD_O;
	if (strcmp(name, "organizationalUnit") == 0)
		return CRT_FIELD_OU;
	if (strchr(name, ',') != NULL || crt_fields_parse(name, &m) != CRT_OK)
		return 0;
	return m;
}

/* lockedFields or openFields (key): a list of field names, or null for none. */
static int parse_fields(struct request *rq, const char *key, json_t *v, unsigned *mask)
{
	char msg[128];
	json_t *item;
	unsigned bit;
	size_t i;

	*mask = 0;
	if (json_is_null(v))
		return 0;
	if (json_is_string(v) && crt_fields_parse(json_string_value(v), mask) == CRT_OK)
		return 0;
	if (!json_is_array(v))
		goto bad;
	json_array_foreach(v, i, item)
	{
		if (!json_is_string(item) || (bit = field_bit(json_string_value(item))) == 0)
			goto bad;
		*mask |= bit;
	}
	return 0;
bad:
	snprintf(msg, sizeof(msg),
	         "\"%s\" must list \"commonName\", \"organization\", \"organizationalUnit\"",
	         key);
	reply_error(rq, CRT_E_REQUEST_INVALID, msg);
	return -1;
}

/* expiresIn ("7d", "12h", seconds) and expiresAt (RFC 3339 or Unix seconds). */
static int parse_expiry(struct request *rq, json_t *obj, crt_token_spec *spec)
{
	json_t *in = json_object_get(obj, "expiresIn"), *at = json_object_get(obj, "expiresAt");

	if (in != NULL && json_is_null(in))
		in = NULL;
	if (at != NULL && json_is_null(at))
		at = NULL;
	/* Both given: libcrtoken's rule refuses it (lifetime_invalid). */
	if (in != NULL) {
		if (json_is_integer(in) && json_integer_value(in) > 0)
			spec->lifetime = json_integer_value(in);
		else if (!json_is_string(in) ||
		         crt_duration_parse(json_string_value(in), &spec->lifetime) != CRT_OK ||
		         spec->lifetime <= 0) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "\"expiresIn\" must be a duration (\"7d\", \"12h\", \"30m\") "
			            "or seconds");
			return -1;
		}
	}
	if (at != NULL) {
		if (json_is_integer(at) && json_integer_value(at) > 0)
			spec->expires_at = json_integer_value(at);
		else if (!json_is_string(at) ||
		         rfc3339_parse(json_string_value(at), &spec->expires_at) != 0 ||
		         spec->expires_at <= 0) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "\"expiresAt\" must be an RFC 3339 time "
			            "(\"2026-12-01T00:00:00Z\")");
			return -1;
		}
	}
	return 0;
}

/*
 * validDays (1..36500) or Frontdoor's validYears (1..100, as days * 365),
 * not both. 0 or -1 after replying 400.
 */
static int parse_validity(struct request *rq, json_t *obj, crt_token_spec *spec)
{
	json_t *d = json_object_get(obj, "validDays"), *y = json_object_get(obj, "validYears");

	if (d != NULL && json_is_null(d))
		d = NULL;
	if (y != NULL && json_is_null(y))
		y = NULL;
	if (d != NULL && y != NULL) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "give \"validDays\" or \"validYears\", not both");
		return -1;
	}
	if (d != NULL) {
		if (!json_is_integer(d) || json_integer_value(d) < 1 ||
		    json_integer_value(d) > 36500) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "\"validDays\" must be an integer from 1 to 36500");
			return -1;
		}
		spec->valid_days = (int)json_integer_value(d);
	}
	if (y != NULL) {
		if (!json_is_integer(y) || json_integer_value(y) < 1 || json_integer_value(y) > 100) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            "\"validYears\" must be an integer from 1 to 100");
			return -1;
		}
		spec->valid_days = (int)json_integer_value(y) * 365;
	}
	return 0;
}

/*
 * san: {"email": [..] | "..", "upn": "..", "dns": [..] | "..", "uri": [..] |
 * ".."} → "kind=value" lines (malloc'd; "" for none, which clears on
 * update). The values are the library's to check (san_invalid). 0 or -1
 * after replying 400.
 */
static int parse_san(struct request *rq, json_t *v, char **out)
{
	static const char *const kinds[] = {"email", "upn", "dns", "uri"};
	struct lines l = {NULL, 0, 0};
	const char *key;
	json_t *item, *sub;
	size_t j;

	*out = NULL;
	if (!json_is_object(v)) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "\"san\" must be an object: {\"email\": [...], \"upn\": \"...\", "
		            "\"dns\": [...], \"uri\": [...]}");
		return -1;
	}
	json_object_foreach(v, key, item) {
		size_t k;
		for (k = 0; k < 4 && strcmp(key, kinds[k]) != 0; k++)
			;
		if (k == 4) {
			char msg[128];
			snprintf(msg, sizeof(msg),
			         "\"san\" has an unknown member \"%.40s\" (email, upn, dns, uri)", key);
			reply_error(rq, CRT_E_REQUEST_INVALID, msg);
			goto fail;
		}
		if (json_is_null(item))
			continue;
		if (json_is_string(item)) {
			if (strchr(json_string_value(item), '\n') != NULL)
				goto newline;
			lines_add(&l, kinds[k], "=", json_string_value(item));
			continue;
		}
		if (!json_is_array(item) || k == 1) {
			reply_error(rq, CRT_E_REQUEST_INVALID,
			            k == 1 ? "\"san\".upn must be a string (one UPN)"
			                   : "\"san\".email, .dns and .uri are strings or arrays of "
			                     "strings");
			goto fail;
		}
		json_array_foreach(item, j, sub) {
			if (!json_is_string(sub)) {
				reply_error(rq, CRT_E_REQUEST_INVALID,
				            "\"san\".email, .dns and .uri are arrays of strings");
				goto fail;
			}
			if (strchr(json_string_value(sub), '\n') != NULL)
				goto newline;
			lines_add(&l, kinds[k], "=", json_string_value(sub));
		}
	}
	if (l.oom || (l.buf == NULL && (l.buf = strdup("")) == NULL)) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		goto fail;
	}
	*out = l.buf;
	return 0;
newline:
	reply_error(rq, CRT_E_SAN_INVALID, "a SubjectAltName value contains a line break");
fail:
	free(l.buf);
	return -1;
}

/*
 * Body → spec. Strings point into obj; *reply is malloc'd (caller frees).
 * For an update, JSON null clears a field ("" in the spec) and absent keys
 * stay unchanged; for a create, null and absent both mean "not given".
 */
static int parse_spec(struct request *rq, json_t *obj, int update, crt_token_spec *spec,
                      char **reply, char **san)
{
	static const char *const strkeys[] = {
	    "name",        "commonName",      "organization",      "organizationalUnit", "owner",
	    "attestation", "attestPinPolicy", "attestTouchPolicy", "attestMinFirmware", "ownerEmail", "ca",
	    "approval", "description"};
	const char **dst[] = {&spec->name,
	                      &spec->cn,
	                      &spec->org,
	                      &spec->ou,
	                      &spec->owner,
	                      &spec->attest_mode,
	                      &spec->attest_pin_policy,
	                      &spec->attest_touch_policy,
	                      &spec->attest_min_firmware,
	                      &spec->owner_email,
	                      &spec->ca,
	                      &spec->approval,
	                      &spec->description};
	json_t *v;
	size_t i;
	int is_null;

	memset(spec, 0, sizeof(*spec));
	*reply = NULL;
	*san = NULL;
	if (req_only_keys(rq, obj, spec_keys) != 0)
		return -1;
	for (i = 0; i < sizeof(strkeys) / sizeof(strkeys[0]); i++) {
		if (req_str(rq, obj, strkeys[i], dst[i], &is_null) != 0)
			return -1;
		if (is_null && update)
			*dst[i] = "";
	}
	if (parse_expiry(rq, obj, spec) != 0 || parse_validity(rq, obj, spec) != 0)
		return -1;
	if (req_str(rq, obj, "profile", &spec->profile, &is_null) != 0)
		return -1;
	if (update && json_object_get(obj, "profile") != NULL)
		spec->profile = spec->profile ? spec->profile : ""; /* refused by the library */
	if (req_str(rq, obj, "pinMac", &spec->pin_mac, &is_null) != 0)
		return -1;
	if (update && json_object_get(obj, "pinMac") != NULL)
		spec->pin_mac = spec->pin_mac ? spec->pin_mac : ""; /* refused by the library */
	if ((v = json_object_get(obj, "lockedFields")) != NULL) {
		if (parse_fields(rq, "lockedFields", v, &spec->locked) != 0)
			return -1;
		spec->set_locked = 1;
	}
	if ((v = json_object_get(obj, "openFields")) != NULL) {
		if (parse_fields(rq, "openFields", v, &spec->opened) != 0)
			return -1;
		spec->set_opened = 1;
	}
	if ((v = json_object_get(obj, "replyAttributes")) != NULL) {
		if (json_is_null(v)) {
			if (update && (*reply = strdup("")) == NULL) {
				reply_error(rq, CRT_E_NOMEM, NULL);
				return -1;
			}
		} else if (parse_reply(rq, v, reply) != 0) {
			return -1;
		}
		spec->reply = *reply;
	}
	if ((v = json_object_get(obj, "san")) != NULL) {
		if (json_is_null(v)) {
			if (update && (*san = strdup("")) == NULL) {
				reply_error(rq, CRT_E_NOMEM, NULL);
				return -1;
			}
		} else if (parse_san(rq, v, san) != 0) {
			return -1;
		}
		spec->san = *san;
	}
	return 0;
}

/*
 * "count": N (1..CRT_BULK_MAX) asks for N tokens with the same metadata
 * (named NAME-1..NAME-N), made in one transaction: 201
 * {"tokens":[...each with its token string...],"count":N}, or nothing.
 */
static void create_bulk(struct request *rq, const crt_token_spec *spec, size_t count)
{
	crt_token_batch b = {0};
	json_t *arr, *body = NULL;
	crt_status s;

	if ((s = crt_token_create_many(rq->ctx, spec, 1, count, rq->actor, &b)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if ((arr = json_array()) != NULL)
		for (size_t i = 0; i < b.n; i++)
			if (json_array_append_new(arr, crt_token_json(&b.tokens[i], b.strings[i])) !=
			    0) {
				json_decref(arr);
				arr = NULL;
				break;
			}
	if (arr != NULL)
		body = json_pack("{s:o, s:I}", "tokens", arr, "count", (json_int_t)b.n);
	crt_token_batch_clear(&b);
	reply_json(rq, 201, body);
}

/* The optional "count" member, taken out of obj: 0 when absent (or null),
 * else 1..CRT_BULK_MAX; -1 after replying 400 count_invalid. */
static long take_count(struct request *rq, json_t *obj)
{
	json_t *v = json_object_get(obj, "count");
	long n = 0;
	char msg[96];

	if (v == NULL)
		return 0;
	if (!json_is_null(v)) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > CRT_BULK_MAX) {
			snprintf(msg, sizeof(msg), "\"count\" must be an integer from 1 to %d",
			         CRT_BULK_MAX);
			reply_error(rq, CRT_E_COUNT_INVALID, msg);
			return -1;
		}
		n = (long)json_integer_value(v);
	}
	json_object_del(obj, "count");
	return n;
}

void h_token_create(struct request *rq)
{
	char token[CRT_TOKEN_STRLEN + 1], loc[128];
	crt_token_spec spec;
	crt_token t;
	json_t *obj;
	char *reply = NULL, *san = NULL;
	crt_status s;
	long count;

	memset(&t, 0, sizeof(t));
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if ((count = take_count(rq, obj)) < 0 || parse_spec(rq, obj, 0, &spec, &reply, &san) != 0)
		goto out;
	/* A key limited to some profiles (apikey create --profiles). */
	if (!crt_apikey_allows_profile(&rq->apikey, spec.profile)) {
		auth_denied(rq, NULL,
		            spec.profile && *spec.profile ? spec.profile : CRT_CERT_PROFILE_DEFAULT);
		goto out;
	}
	if (count > 0) {
		create_bulk(rq, &spec, (size_t)count);
		goto out;
	}
	if ((s = crt_token_create(rq->ctx, &spec, rq->actor, &t, token)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 201, crt_token_json(&t, token));
	snprintf(loc, sizeof(loc), "/certificate-request-tokens/%s", t.id);
	reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
out:
	explicit_bzero(token, sizeof(token));
	crt_token_clear(&t);
	free(reply);
	free(san);
	json_decref(obj);
}

/*
 * Without page, size or sort: every token as a bare array, as before
 * paging existed. With any of them: {"items","page","size","total"}, the
 * items of that page in that order, cut by the store (crt_token_page).
 */
void h_token_list(struct request *rq)
{
	const char *state = req_query(rq, "state"), *why = NULL;
	const char *qp = req_query(rq, "page"), *qs = req_query(rq, "size"),
	           *qo = req_query(rq, "sort");
	crt_token *list = NULL;
	crt_page pg;
	json_t *arr, *body;
	size_t n = 0, i;
	int64_t total = 0;
	int st = -1, paged = qp != NULL || qs != NULL || qo != NULL;
	crt_status s;

	if (state != NULL && (st = crt_token_state_parse(state)) < 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID,
		            "state must be active, used, expired or deleted");
		return;
	}
	if (paged &&
	    (s = crt_page_parse(qp, qs, qo, crt_token_sort_fields, 0, &pg, &why)) != CRT_OK) {
		reply_error(rq, s, why);
		return;
	}
	s = paged ? crt_token_page(rq->ctx, st, &pg, &list, &n, &total)
	          : crt_token_list(rq->ctx, st, &list, &n);
	if (s != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	if ((arr = json_array()) != NULL) {
		for (i = 0; i < n; i++) {
			if (json_array_append_new(arr, crt_token_json(&list[i], NULL)) != 0) {
				json_decref(arr);
				arr = NULL;
				break;
			}
		}
	}
	crt_token_list_free(list, n);
	if (!paged || arr == NULL) {
		reply_json(rq, 200, arr);
		return;
	}
	body = json_pack("{s:o, s:i, s:i, s:I}", "items", arr, "page", pg.page, "size", pg.size,
	                 "total", (json_int_t)total);
	reply_json(rq, 200, body);
}

void h_token_get(struct request *rq)
{
	crt_token t;
	crt_status s;

	memset(&t, 0, sizeof(t));
	if ((s = crt_token_get(rq->ctx, rq->param, &t)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	reply_json(rq, 200, crt_token_json(&t, NULL));
	crt_token_clear(&t);
}

void h_token_update(struct request *rq)
{
	crt_token_spec spec;
	crt_token t;
	json_t *obj;
	char *reply = NULL, *san = NULL;
	crt_status s;

	memset(&t, 0, sizeof(t));
	if (auth_token_profile(rq) != 0)
		return;
	if ((obj = req_body_object(rq)) == NULL)
		return;
	if (parse_spec(rq, obj, 1, &spec, &reply, &san) != 0)
		goto out;
	if ((s = crt_token_update(rq->ctx, rq->param, &spec, rq->actor, &t)) != CRT_OK) {
		reply_status(rq, s);
		goto out;
	}
	reply_json(rq, 200, crt_token_json(&t, NULL));
out:
	crt_token_clear(&t);
	free(reply);
	free(san);
	json_decref(obj);
}

void h_token_delete(struct request *rq)
{
	crt_status s;

	if (auth_token_profile(rq) != 0)
		return;
	if ((s = crt_token_delete(rq->ctx, rq->param, rq->actor)) != CRT_OK) {
		reply_status(rq, s);
		return;
	}
	reply_empty(rq, 204);
}

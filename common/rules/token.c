/*
 * rules/token.c — the token rules of rules/token.h: functions of values
 * only (no ctx, no store).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h" /* subject_field_check (names.c), also a function of values */
#include "rules/token.h"

crt_token_state token_state_at(int64_t used_at, int64_t deleted_at, int64_t expires_at, int64_t now)
{
	if (deleted_at)
		return CRT_TOKEN_DELETED;
	if (used_at)
		return CRT_TOKEN_USED;
	if (now >= expires_at)
		return CRT_TOKEN_EXPIRED;
	return CRT_TOKEN_ACTIVE;
}

int64_t token_ended_at(int64_t used_at, int64_t deleted_at, int64_t expires_at)
{
	return deleted_at ? deleted_at : used_at ? used_at : expires_at;
}

int token_purgeable(int64_t used_at, int64_t deleted_at, int64_t expires_at, int64_t cutoff)
{
	return token_ended_at(used_at, deleted_at, expires_at) < cutoff;
}

void token_state_bounds(int s, int64_t now, token_bounds *b)
{
	*b = (token_bounds){
	    .deleted = -1, .used = -1, .expires_min = INT64_MIN, .expires_max = INT64_MAX};
	switch (s) {
	case CRT_TOKEN_DELETED:
		b->deleted = 1;
		break;
	case CRT_TOKEN_USED:
		b->deleted = 0;
		b->used = 1;
		break;
	case CRT_TOKEN_EXPIRED: /* now >= expires_at */
		b->deleted = b->used = 0;
		b->expires_max = now;
		break;
	case CRT_TOKEN_ACTIVE: /* now < expires_at */
		b->deleted = b->used = 0;
		b->expires_min = now == INT64_MAX ? INT64_MAX : now + 1;
		if (now == INT64_MAX) /* nothing is active at the end of time */
			b->expires_max = INT64_MIN;
		break;
	default:
		if (s >= 0) { /* no such state: no row */
			b->expires_min = INT64_MAX;
			b->expires_max = INT64_MIN;
		}
		break; /* s < 0: every row */
	}
}

static int set_matches(int want, int64_t v)
{
	return want < 0 || want == (v != 0);
}

int token_bounds_match(const token_bounds *b, int64_t used_at, int64_t deleted_at,
                       int64_t expires_at)
{
	return set_matches(b->deleted, deleted_at) && set_matches(b->used, used_at) &&
	       expires_at >= b->expires_min && expires_at <= b->expires_max;
}

static crt_status refuse(token_refusal *why, crt_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static crt_status refuse(token_refusal *why, crt_status s, const char *fmt, ...)
{
	va_list ap;
	why->status = s;
	va_start(ap, fmt);
	vsnprintf(why->msg, sizeof(why->msg), fmt, ap);
	va_end(ap);
	return s;
}

/* The value a field takes: the redeemer's override when the token allows it
 * (may: crt_token_overridable). "" clears the field. */
static crt_status pick(const char *what, unsigned bit, unsigned may, const char *token_value,
                       const char *override, const char **out, token_refusal *why)
{
	*out = token_value;
	if (override == NULL)
		return CRT_OK;
	if (token_value != NULL && strcmp(token_value, override) == 0)
		return CRT_OK;
	if (!(may & bit))
		return refuse(why, CRT_E_FIELD_LOCKED,
		              "%s is fixed by the token (filled in by the administrator, or the "
		              "commonName of an owner's token); the administrator may open it",
		              what);
	*out = *override ? override : NULL;
	return CRT_OK;
}

/* Each field of the subject about to be signed obeys the subject field rule
 * (tokens stored before the rule included), and there is a CN. */
static crt_status check_subject(const char *cn, const char *org, const char *ou, token_refusal *why)
{
	const char *names[] = {"commonName", "organization", "organizationalUnit"};
	const char *v[] = {cn, org, ou};
	const char *bad;

	if (cn == NULL)
		return refuse(why, CRT_E_FIELD_INVALID,
		              "the commonName cannot be empty (a certificate needs a subject)");
	for (int i = 0; i < 3; i++)
		if (v[i] != NULL && subject_field_check(v[i], &bad) != CRT_OK)
			return refuse(why, CRT_E_FIELD_INVALID, "%s %s", names[i], bad);
	return CRT_OK;
}

crt_status token_redeem_decide(const crt_token *t, const crt_redeem_req *req, int64_t now,
                               const char **cn, const char **org, const char **ou,
                               token_refusal *why)
{
	crt_status r;
	unsigned may;

	why->status = CRT_OK;
	why->msg[0] = '\0';
	switch (token_state_at(t->used_at, t->deleted_at, t->expires_at, now)) {
	case CRT_TOKEN_DELETED:
		return refuse(why, CRT_E_TOKEN_DELETED, "token %s was deleted", t->id);
	case CRT_TOKEN_USED:
		return refuse(why, CRT_E_TOKEN_USED, "token %s was already used", t->id);
	case CRT_TOKEN_EXPIRED:
		return refuse(why, CRT_E_TOKEN_EXPIRED, "token %s has expired", t->id);
	case CRT_TOKEN_ACTIVE:
		break;
	}
	if (!req->admin && t->owner != NULL &&
	    (req->user == NULL || strcmp(req->user, t->owner) != 0))
		return refuse(why, CRT_E_TOKEN_OWNER, "token %s belongs to another user", t->id);
	may = crt_token_overridable(t);
	if ((r = pick("commonName", CRT_FIELD_CN, may, t->cn ? t->cn : t->name, req->cn, cn,
	              why)) != CRT_OK ||
	    (r = pick("organization", CRT_FIELD_O, may, t->org, req->org, org, why)) != CRT_OK ||
	    (r = pick("organizationalUnit", CRT_FIELD_OU, may, t->ou, req->ou, ou, why)) != CRT_OK)
		return r;
	return check_subject(*cn, *org, *ou, why);
}

crt_status token_claim_lost(const token_seen *seen, const char *id, int64_t version, int64_t now,
                            int *retry, token_refusal *why)
{
	*retry = 0;
	why->msg[0] = '\0';
	if (!seen->present)
		return refuse(why, CRT_E_TOKEN_UNKNOWN, "token %s was purged", id);
	if (seen->deleted_at)
		return refuse(why, CRT_E_TOKEN_DELETED, "token %s was deleted", id);
	if (seen->used_at)
		return refuse(why, CRT_E_TOKEN_USED, "token %s was already used", id);
	if (seen->version != version) {
		*retry = 1; /* an admin changed it meanwhile: redo phase 1 */
		return refuse(why, CRT_E_TOKEN_NOT_ACTIVE, "token %s changed", id);
	}
	if (token_state_at(0, 0, seen->expires_at, now) == CRT_TOKEN_EXPIRED)
		return refuse(why, CRT_E_TOKEN_EXPIRED, "token %s has expired", id);
	*retry = 1; /* claimable as seen: it changed between the claim and the read */
	return refuse(why, CRT_E_TOKEN_NOT_ACTIVE, "token %s changed", id);
}

static int bidi_control(uint32_t c)
{
	return c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
	       (c >= 0x2066 && c <= 0x2069);
}

crt_status token_description_check(const char *d, char *why, size_t whylen)
{
	const unsigned char *p = (const unsigned char *)d;
	size_t len = d != NULL ? strlen(d) : 0, n;
	uint32_t c;

	if (whylen > 0)
		why[0] = '\0';
	if (len > TOKEN_DESCRIPTION_MAX) {
		snprintf(why, whylen, "the description is %zu bytes long, at most %d are allowed",
		         len, TOKEN_DESCRIPTION_MAX);
		return CRT_E_DESCRIPTION_INVALID;
	}
	for (size_t at = 0; at < len; at += n) {
		if ((n = crt_utf8_next(p + at, len - at, &c)) == 0) {
			snprintf(why, whylen, "the description is not valid UTF-8 (byte %zu)", at);
			return CRT_E_DESCRIPTION_INVALID;
		}
		if (c < 0x20 || (c >= 0x7f && c < 0xa0)) {
			snprintf(why, whylen,
			         "the description contains a control character (U+%04X at byte "
			         "%zu); it is one line of text without tabs",
			         (unsigned)c, at);
			return CRT_E_DESCRIPTION_INVALID;
		}
		if (bidi_control(c)) {
			snprintf(why, whylen,
			         "the description contains a bidirectional control character "
			         "(U+%04X at byte %zu)",
			         (unsigned)c, at);
			return CRT_E_DESCRIPTION_INVALID;
		}
	}
	return CRT_OK;
}

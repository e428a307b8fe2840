/*
 * token.c — certificate request tokens: field and reply attribute
 * validation, state names, and the checks of a token spec. The token string
 * format is token_format.c; the admin operations on the tokens table are
 * token_store.c.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "rules/attest.h"
#include "rules/profile.h"
#include "rules/san.h"
#include "rules/token.h"

#define MAX_NAME 128
#define MAX_REPLY 4096

/* ------------------------------------------------------------ fields */

crt_status crt_fields_parse(const char *list, unsigned *mask)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"cn", CRT_FIELD_CN}, {"commonname", CRT_FIELD_CN}, {"o", CRT_FIELD_O},
		{"org", CRT_FIELD_O}, {"organization", CRT_FIELD_O}, {"ou", CRT_FIELD_OU},
		{"organizationalunit", CRT_FIELD_OU}, {"all", CRT_FIELD_ALL}, {"none", 0},
	};
	char *copy = dup_str(list), *p, *save = NULL;
	crt_status r = CRT_OK;
	*mask = 0;
	if (copy == NULL)
		return list == NULL ? CRT_OK : CRT_E_NOMEM;
	for (p = strtok_r(copy, ", ", &save); p != NULL; p = strtok_r(NULL, ", ", &save)) {
		size_t i;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (strcasecmp(p, names[i].name) == 0)
				break;
		if (i == sizeof(names) / sizeof(names[0])) {
			r = CRT_E_FIELD_INVALID;
			break;
		}
		*mask |= names[i].bit;
	}
	free(copy);
	return r;
}

crt_status crt_reply_next(const char **cursor, crt_reply_attr *out)
{
	const char *p = *cursor, *nl = strchr(p, '\n');
	size_t len = nl ? (size_t)(nl - p) : strlen(p), i = 0;
	*cursor = p + len + (nl ? 1 : 0);
	/* Attribute names as in FreeRADIUS dictionaries: letters, digits, '-'. */
	while (i < len && ((p[i] >= 'A' && p[i] <= 'Z') || (p[i] >= 'a' && p[i] <= 'z') ||
			   (p[i] >= '0' && p[i] <= '9') || p[i] == '-'))
		i++;
	if (i == 0 || i > CRT_REPLY_NAME_MAX || i >= len || p[i] != '=' || i + 1 == len ||
	    field_check_n(p + i + 1, len - i - 1) != CRT_OK)
		return CRT_E_REPLY_ATTR;
	*out = (crt_reply_attr){.name = p, .name_len = i, .value = p + i + 1,
				.value_len = len - i - 1};
	return CRT_OK;
}

crt_status crt_reply_validate(const char *reply)
{
	crt_reply_attr a;
	if (reply == NULL)
		return CRT_OK;
	if (strlen(reply) > MAX_REPLY)
		return CRT_E_REPLY_ATTR;
	while (*reply)
		if (crt_reply_next(&reply, &a) != CRT_OK)
			return CRT_E_REPLY_ATTR;
	return CRT_OK;
}

unsigned crt_token_overridable(const crt_token *t)
{
	unsigned fixed = (t->cn ? CRT_FIELD_CN : 0) | (t->org ? CRT_FIELD_O : 0) |
			 (t->ou ? CRT_FIELD_OU : 0);
	if (t->owner != NULL) /* the owner's certificate keeps the token's CN (or name) */
		fixed |= CRT_FIELD_CN;
	return CRT_FIELD_ALL & ~t->locked & ~(fixed & ~t->opened);
}

const char *crt_token_state_name(crt_token_state s)
{
	switch (s) {
	case CRT_TOKEN_ACTIVE: return "active";
	case CRT_TOKEN_USED: return "used";
	case CRT_TOKEN_EXPIRED: return "expired";
	case CRT_TOKEN_DELETED: return "deleted";
	}
	return "unknown";
}

int crt_token_state_parse(const char *name)
{
	for (int i = CRT_TOKEN_ACTIVE; i <= CRT_TOKEN_DELETED; i++)
		if (name != NULL && strcmp(name, crt_token_state_name((crt_token_state)i)) == 0)
			return i;
	return -1;
}

/* Validate one optional text field; "" counts as absent. */
static crt_status check_field(crt_ctx *ctx, const char *what, const char *v, size_t max)
{
	if (v == NULL || *v == '\0')
		return CRT_OK;
	if (field_check(v, max) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"%s must be at most %zu bytes of printable UTF-8", what, max);
	return CRT_OK;
}

/* One optional subject field; "" counts as absent (clears on update). */
static crt_status check_subject_field(crt_ctx *ctx, const char *what, const char *v)
{
	const char *why;
	if (v == NULL || *v == '\0' || subject_field_check(v, &why) == CRT_OK)
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_FIELD_INVALID, "%s %s", what, why);
}

/* The owner is a user name ("" clears it on update). */
static crt_status check_owner(crt_ctx *ctx, const char *owner)
{
	if (owner == NULL || *owner == '\0' || crt_user_name_check(owner) == CRT_OK)
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_FIELD_INVALID, "the owner must be " CRT_USER_NAME_RULE);
}

/* The owner's address for event e-mail ("" clears it on update). */
static crt_status check_owner_email(crt_ctx *ctx, const char *a)
{
	if (a == NULL || *a == '\0' || crt_email_check(a) == CRT_OK)
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_FIELD_INVALID,
			"ownerEmail must be one address like user@example.org (no name, no "
			"blanks)");
}

crt_status token_check_spec(crt_ctx *ctx, const crt_token_spec *s, int creating)
{
	crt_status r;
	if (!creating && s->ca != NULL)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"a token's CA is chosen when it is created and cannot change");
	if (creating && (s->name == NULL || *s->name == '\0'))
		return ctx_fail(ctx, CRT_E_NAME_REQUIRED, "a token needs a name");
	if (!creating && s->name != NULL && *s->name == '\0')
		return ctx_fail(ctx, CRT_E_NAME_REQUIRED, "the name cannot be cleared");
	if ((r = check_field(ctx, "name", s->name, MAX_NAME)) != CRT_OK ||
	    (r = check_subject_field(ctx, "commonName", s->cn)) != CRT_OK ||
	    (r = check_subject_field(ctx, "organization", s->org)) != CRT_OK ||
	    (r = check_subject_field(ctx, "organizationalUnit", s->ou)) != CRT_OK ||
	    (r = check_owner(ctx, s->owner)) != CRT_OK ||
	    (r = check_owner_email(ctx, s->owner_email)) != CRT_OK)
		return r;
	char bad_desc[160];
	if (token_description_check(s->description, bad_desc, sizeof(bad_desc)) != CRT_OK)
		return ctx_fail(ctx, CRT_E_DESCRIPTION_INVALID, "%s", bad_desc);
	if ((s->locked | s->opened) & ~(unsigned)CRT_FIELD_ALL)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID, "unknown field in the lock or open list");
	if ((creating || (s->set_locked && s->set_opened)) && (s->locked & s->opened))
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"a field cannot be both locked and opened");
	if (crt_reply_validate(s->reply) != CRT_OK)
		return ctx_fail(ctx, CRT_E_REPLY_ATTR,
				"reply attributes must be lines of Attribute=value");
	if (s->lifetime < 0 || s->expires_at < 0)
		return ctx_fail(ctx, CRT_E_LIFETIME, "negative lifetime");
	if (s->valid_days < 0)
		return ctx_fail(ctx, CRT_E_VALIDITY, "validDays must be positive");
	if (!creating && s->approval != NULL)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"a token's approval is chosen when it is created and cannot change");
	if (s->approval != NULL && strcmp(s->approval, "required") != 0 &&
	    strcmp(s->approval, "none") != 0)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID, "approval is \"required\" or \"none\"");
	char san_err[400];
	if (s->san != NULL && !san_lines_ok(s->san, san_err, sizeof(san_err)))
		return ctx_fail(ctx, CRT_E_SAN_INVALID, "%s", san_err);
	if (!creating && s->profile != NULL)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"a token's profile is chosen when it is created and cannot change");
	int pin;
	if (!creating && s->pin_mac != NULL)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"a token's pinMac is chosen when it is created and cannot change");
	if (s->pin_mac != NULL && crt_pin_mac_parse(s->pin_mac, &pin) != 0)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"pinMac must be \"first\" or \"off\" (or left out: the profile's)");
	if (s->lifetime != 0 && s->expires_at != 0)
		return ctx_fail(ctx, CRT_E_LIFETIME,
				"give a lifetime (expiresIn) or an expiry time (expiresAt), not both");
	attest_policy p = {0};
	const char *why;
	if (attest_policy_apply(&p, s->attest_mode, s->attest_pin_policy, s->attest_touch_policy,
				s->attest_min_firmware, &why) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID, "%s", why);
	return CRT_OK;
}

crt_status token_attest_apply(crt_ctx *ctx, const crt_token_spec *s, crt_token *t)
{
	attest_policy p;
	const char *why;
	char *text;
	int oom;

	if (s->attest_mode == NULL && s->attest_pin_policy == NULL &&
	    s->attest_touch_policy == NULL && s->attest_min_firmware == NULL)
		return CRT_OK;
	if (attest_policy_parse(t->attestation, &p, &why) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INTERNAL, "token %s: its stored attestation policy: %s",
				t->id, why);
	if (attest_policy_apply(&p, s->attest_mode, s->attest_pin_policy, s->attest_touch_policy,
				s->attest_min_firmware, &why) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID, "%s", why);
	text = attest_policy_format(&p, &oom);
	if (oom)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	free(t->attestation);
	t->attestation = text;
	return CRT_OK;
}

crt_status token_check_subject(crt_ctx *ctx, const crt_token *t)
{
	const char *why;

	if (t->cn == NULL && subject_field_check(t->name, &why) != CRT_OK)
		return ctx_fail(ctx, CRT_E_FIELD_INVALID,
				"without a commonName the name \"%.40s%s\" is the certificate's CN, "
				"and it %s; give a commonName",
				t->name ? t->name : "", t->name && strlen(t->name) > 40 ? "..." : "",
				why);
	return CRT_OK;
}

crt_status token_profile(crt_ctx *ctx, const char *name, const crt_cert_profile **out)
{
	if ((*out = crt_cert_profile_find(&ctx->cfg, name)) != NULL)
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_PROFILE_UNKNOWN,
			"no certificate profile \"%.64s\" in %s (crtoken-admin profile list)", name,
			ctx->cfg.path ? ctx->cfg.path : "the configuration");
}

crt_status token_valid_days(crt_ctx *ctx, const crt_cert_profile *p, int asked, int *days)
{
	const char *why;
	crt_status r = certprof_valid_days(p, asked, days, &why);
	if (r != CRT_OK)
		return ctx_fail(ctx, r, "%s (profile %s: %d days at most)", why, p->name, p->max_days);
	return CRT_OK;
}

/* The notAfter of CA name: the loaded certificate, else (a process that
 * opened without the CA, like crtoken-admin token create) its certificate
 * file, which is public. 0 when neither can be read. */
static int64_t ca_end_of(crt_ctx *ctx, const char *name)
{
	const crt_instance *inst = ctx->inst;
	const char *file = strcmp(name, CRT_CA_DEFAULT) == 0 ? ctx->cfg.ca_cert : NULL;
	int64_t end = 0;

	for (size_t i = 0; i < inst->ncas; i++)
		if (strcmp(inst->cas[i].name, name) == 0 && inst->cas[i].cert != NULL)
			return ca_time_unix(X509_get0_notAfter(inst->cas[i].cert));
	for (size_t i = 0; file == NULL && i < ctx->cfg.ncas; i++)
		if (strcmp(ctx->cfg.cas[i].name, name) == 0)
			file = ctx->cfg.cas[i].cert;
	FILE *f = file != NULL ? fopen(file, "re") : NULL;
	X509 *x = f != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	if (x != NULL)
		end = ca_time_unix(X509_get0_notAfter(x));
	X509_free(x);
	if (f != NULL)
		fclose(f);
	ERR_clear_error();
	return end;
}

crt_status token_ca_bound(crt_ctx *ctx, const char *ca, int asked, int64_t now)
{
	const char *name = ca != NULL ? ca : CRT_CA_DEFAULT;
	char end[32];
	int64_t ca_end;

	if (asked <= 0)
		return CRT_OK; /* the profile's days: clamped to the CA's end at issuance */
	if ((ca_end = ca_end_of(ctx, name)) == 0 || now + (int64_t)asked * 86400 <= ca_end)
		return CRT_OK; /* (unreadable here: issuance clamps) */
	crt_time_rfc3339(ca_end, end, sizeof(end));
	return ctx_fail(ctx, CRT_E_VALIDITY,
			"validDays %d would run past the end of CA %s (%s): at most %lld days "
			"from now",
			asked, name, end, (long long)((ca_end - now) / 86400));
}

crt_status token_check_san(crt_ctx *ctx, const crt_token *t)
{
	cert_shape shape;
	crt_token only_san = *t;

	/* (its profile and validity are checked where they are set) */
	if (crt_cert_profile_find(&ctx->cfg, t->profile) == NULL)
		return CRT_OK;
	only_san.valid_days = 0;
	crt_status r = cert_shape_of_token(ctx, &only_san, t->cn ? t->cn : t->name, t->org, t->ou,
					   &shape);
	cert_shape_clear(&shape);
	return r;
}

/* The expiry a spec asks for, checked against the profile's maximum. */
crt_status token_expiry(crt_ctx *ctx, const crt_cert_profile *p, const crt_token_spec *s,
			int64_t now, int64_t *exp)
{
	int64_t max = p->token_max_lifetime;
	if (s->expires_at != 0)
		*exp = s->expires_at;
	else
		*exp = now + (s->lifetime ? s->lifetime : p->token_lifetime);
	if (*exp <= now)
		return ctx_fail(ctx, CRT_E_LIFETIME, "the expiry is in the past");
	if (*exp - now > max)
		return ctx_fail(ctx, CRT_E_LIFETIME,
				"the lifetime exceeds the maximum of %lld seconds (%lld days)",
				(long long)max, (long long)(max / 86400));
	return CRT_OK;
}

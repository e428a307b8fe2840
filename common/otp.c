/*
 * otp.c — one-time passwords: HOTP/TOTP (RFC 4226 / RFC 6238), base32
 * secrets, otpauth:// URIs, sealing of secrets at rest and the per-user
 * replay + lockout state.
 *
 * Secrets are stored sealed (seal.c) with AES-256-GCM under the key in
 * [otp] key_file (32 raw bytes, created 0600 by crtoken-admin init):
 *
 *     sealed = 0x01 | nonce (12) | ciphertext | tag (16)
 *
 * with AAD = "crtoken-otp" | 0x01 | user, so a sealed secret copied to
 * another user's row fails to open.
 *
 * Verification is one write transaction: load and lock the user's row
 * (store_otp_load_lock: no other writer, on any node, reads or changes it
 * until the commit), decide with the pure rule of rules/otp.h (lockout,
 * window, replay of the last accepted step), store the new counters and
 * write the audit row. Refusals commit their state change too and then
 * return the refusal. The store is reached only through the port's verbs
 * (store/port_otp.h).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "events.h"
#include "internal.h"
#include "rules/otp.h"
#include "store/port.h"

#define SEAL_AAD_LABEL "crtoken-otp" /* seal.c's AAD label of an OTP secret */
#define OTP_SECRET_MAX 64 /* SHA512's block-sized key */
#define OTP_WINDOW_MAX 10

/* ------------------------------------------------------------------ algorithms */

/* EVP digest for "SHA1"/"SHA256"/"SHA512" (any case), NULL if unknown. */
static const EVP_MD *otp_md(const char *algorithm)
{
	if (algorithm == NULL)
		return NULL;
	if (strcasecmp(algorithm, "SHA1") == 0)
		return EVP_sha1();
	if (strcasecmp(algorithm, "SHA256") == 0)
		return EVP_sha256();
	if (strcasecmp(algorithm, "SHA512") == 0)
		return EVP_sha512();
	return NULL;
}

/* Canonical upper-case name of a known algorithm, NULL if unknown. */
static const char *otp_alg_name(const char *algorithm)
{
	const EVP_MD *md = otp_md(algorithm);
	if (md == NULL)
		return NULL;
	if (md == EVP_sha1())
		return "SHA1";
	return md == EVP_sha256() ? "SHA256" : "SHA512";
}

/* Secret length per RFC 6238's reference keys: the hash output size. */
static size_t otp_secret_len(const char *alg)
{
	if (strcmp(alg, "SHA1") == 0)
		return 20;
	return strcmp(alg, "SHA256") == 0 ? 32 : 64;
}

crt_status crt_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
                    const char *algorithm, int digits, char *out, size_t outlen)
{
	static const uint32_t pow10[] = {1,      10,      100,      1000,     10000,
	                                 100000, 1000000, 10000000, 100000000};
	const EVP_MD *md = otp_md(algorithm);
	unsigned char msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	crt_status r = CRT_E_INVALID_ARGUMENT;

	if (key == NULL || keylen == 0 || md == NULL || digits < 6 || digits > 8 || out == NULL ||
	    outlen < (size_t)digits + 1)
		return CRT_E_INVALID_ARGUMENT;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (unsigned char)(counter & 0xff);
		counter >>= 8;
	}
	if (HMAC(md, key, (int)keylen, msg, sizeof(msg), mac, &maclen) == NULL) {
		r = CRT_E_INTERNAL;
		goto out;
	}
	/* RFC 4226 5.3 dynamic truncation */
	unsigned off = mac[maclen - 1] & 0x0f;
	uint32_t bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	               ((uint32_t)mac[off + 2] << 8) | (uint32_t)mac[off + 3];
	snprintf(out, outlen, "%0*u", digits, (unsigned)(bin % pow10[digits]));
	r = CRT_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return r;
}

/* ------------------------------------------------------------------ base32 */

/* RFC 4648 base32 without padding; returns a malloc'd string or NULL. */
static char *base32_encode(const unsigned char *in, size_t n)
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char *out = malloc((n * 8 + 4) / 5 + 1);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	acc = 0;
	return out;
}

/* ------------------------------------------------------------------ sealing */

/*
 * Seal secret (n bytes) for user (seal.c, AAD "crtoken-otp" | 0x01 | user).
 * *out (malloc'd, *outlen bytes) is the blob stored in otp.secret.
 * CRT_E_SEAL / CRT_E_CONFIG / CRT_E_IO on failure.
 */
static crt_status seal_secret(crt_ctx *ctx, const char *user, const unsigned char *secret, size_t n,
                              unsigned char **out, size_t *outlen)
{
	crt_status r = seal_aead(ctx, SEAL_AAD_LABEL, user, secret, n, out, outlen);
	if (r == CRT_E_SEAL)
		return ctx_fail(ctx, r, "cannot seal the OTP secret");
	return r;
}

/*
 * Open a sealed blob of user. *secret (malloc'd, *n bytes) must be wiped
 * with crt_freezero. CRT_E_SEAL if the blob is damaged, belongs to another
 * user or was sealed under another key.
 */
static crt_status unseal_secret(crt_ctx *ctx, const char *user, const unsigned char *blob,
                                size_t bloblen, unsigned char **secret, size_t *n)
{
	int malformed;
	crt_status r = unseal_aead(ctx, SEAL_AAD_LABEL, user, blob, bloblen, OTP_SECRET_MAX, secret,
	                           n, &malformed);
	if (r == CRT_E_SEAL && malformed)
		return ctx_fail(ctx, r, "sealed OTP secret of %s is malformed", user);
	if (r == CRT_E_SEAL)
		return ctx_fail(ctx, r, "sealed OTP secret of %s does not open with this key", user);
	return r;
}

/* ------------------------------------------------------------------ records */

void crt_otp_info_clear(crt_otp_info *o)
{
	if (o == NULL)
		return;
	free(o->user);
	memset(o, 0, sizeof(*o));
}

void crt_otp_list_free(crt_otp_info *list, size_t n)
{
	if (list == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		crt_otp_info_clear(&list[i]);
	free(list);
}

/* A user name we can store, audit and put in an otpauth label (names.c). */
static crt_status otp_user_check(crt_ctx *ctx, const char *user)
{
	if (crt_user_name_check(user) != CRT_OK)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "user name must be " CRT_USER_NAME_RULE);
	return CRT_OK;
}

crt_status crt_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (user == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no user");
	return store_otp_get(ctx, user, out);
}

crt_status crt_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	return store_otp_list(ctx, out, n);
}

/* ------------------------------------------------------------------ enrollment */

/* Percent-encode s for an otpauth URI component (RFC 3986 unreserved kept). */
static void uri_escape(char *dst, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
			*dst++ = (char)ch;
		} else {
			*dst++ = '%';
			*dst++ = hex[ch >> 4];
			*dst++ = hex[ch & 15];
		}
	}
	*dst = '\0';
}

/* otpauth://totp/ISSUER:USER?secret=..&issuer=..&algorithm=..&digits=..&period=..
 * malloc'd (contains the secret: wipe it). */
static char *otp_make_uri(const char *issuer, const char *user, const char *b32, const char *alg,
                          int digits, int period)
{
	size_t il = strlen(issuer) * 3 + 1, ul = strlen(user) * 3 + 1;
	char *ie = malloc(il), *ue = malloc(ul), *uri = NULL;
	size_t len = 64 + 2 * il + ul + strlen(b32) + 64;

	if (ie == NULL || ue == NULL)
		goto out;
	uri_escape(ie, issuer);
	uri_escape(ue, user);
	if ((uri = malloc(len)) == NULL)
		goto out;
	snprintf(uri, len,
	         "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=%s&digits=%d&period=%d", ie,
	         ue, b32, ie, alg, digits, period);
out:
	free(ie);
	free(ue);
	return uri;
}

crt_status crt_otp_enroll(crt_ctx *ctx, const char *user, const char *algorithm, int digits,
                          int period, const char *issuer, const char *actor, char **uri,
                          char **secret_b32)
{
	const crt_config *cfg = &ctx->cfg;
	unsigned char secret[OTP_SECRET_MAX];
	unsigned char *blob = NULL;
	size_t n = 0, bloblen = 0;
	char *b32 = NULL, *u = NULL, *detail = NULL;
	const char *alg;
	store_otp_new row;
	int in_tx = 0;
	jbuf j;
	crt_status r;

	if (uri)
		*uri = NULL;
	if (secret_b32)
		*secret_b32 = NULL;
	if ((r = otp_user_check(ctx, user)) != CRT_OK)
		return r;
	alg = otp_alg_name(algorithm ? algorithm : cfg->otp_algorithm);
	digits = digits ? digits : cfg->otp_digits;
	period = period ? period : cfg->otp_period;
	issuer = issuer ? issuer : cfg->otp_issuer;
	if (alg == NULL)
		return ctx_fail(ctx, CRT_E_OTP_PARAMS, "algorithm must be SHA1, SHA256 or SHA512");
	if (digits != 6 && digits != 8)
		return ctx_fail(ctx, CRT_E_OTP_PARAMS, "digits must be 6 or 8");
	if (period < 10 || period > 300)
		return ctx_fail(ctx, CRT_E_OTP_PARAMS, "period must be 10-300 seconds");
	if (issuer == NULL || *issuer == '\0' || field_check(issuer, 100) != CRT_OK ||
	    strchr(issuer, ':') != NULL)
		return ctx_fail(ctx, CRT_E_OTP_PARAMS,
		                "issuer must be 1-100 printable characters without ':'");

	n = otp_secret_len(alg);
	if ((r = random_bytes(secret, n)) != CRT_OK)
		goto out;
	if ((r = seal_secret(ctx, user, secret, n, &blob, &bloblen)) != CRT_OK)
		goto out;
	r = CRT_E_NOMEM;
	if ((b32 = base32_encode(secret, n)) == NULL ||
	    (u = otp_make_uri(issuer, user, b32, alg, digits, period)) == NULL)
		goto out;
	jb_begin(&j);
	jb_str(&j, "algorithm", alg);
	jb_int(&j, "digits", digits);
	jb_int(&j, "period", period);
	jb_str(&j, "issuer", issuer);
	if ((detail = jb_end(&j)) == NULL)
		goto out;

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_tx = 1;
	row = (store_otp_new){.user = user,
	                      .sealed = blob,
	                      .sealed_len = bloblen,
	                      .algorithm = alg,
	                      .digits = digits,
	                      .period = period,
	                      .created_at = crt_now()};
	if ((r = store_otp_insert(ctx, &row)) == CRT_E_EXISTS) {
		r = ctx_fail(ctx, CRT_E_EXISTS, "%s already has an OTP; remove it first", user);
		goto out;
	} else if (r != CRT_OK) {
		goto out;
	}
	if ((r = audit_write(ctx, actor, "otp.enroll", user, detail)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_tx = 0;
	if (uri) {
		*uri = u;
		u = NULL;
	}
	if (secret_b32) {
		*secret_b32 = b32;
		b32 = NULL;
	}
	r = CRT_OK;
out:
	if (in_tx)
		store_rollback(ctx);
	OPENSSL_cleanse(secret, sizeof(secret));
	crt_freezero(blob, bloblen);
	crt_strfree_secret(b32);
	crt_strfree_secret(u);
	free(detail);
	return r;
}

/* ------------------------------------------------------------------ admin changes */

/* One admin change of user's row (change: a port verb; a missing row is
 * otp_not_enrolled) with its audit row, in one transaction. */
static crt_status otp_change(crt_ctx *ctx, crt_status (*change)(crt_ctx *, const char *),
                             const char *user, const char *actor, const char *action)
{
	int in_tx = 0;
	crt_status r;

	if (user == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no user");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	in_tx = 1;
	if ((r = change(ctx, user)) != CRT_OK)
		goto out;
	if ((r = audit_write(ctx, actor, action, user, NULL)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_tx = 0;
	r = CRT_OK;
out:
	if (in_tx)
		store_rollback(ctx);
	return r;
}

crt_status crt_otp_remove(crt_ctx *ctx, const char *user, const char *actor)
{
	return otp_change(ctx, store_otp_remove, user, actor, "otp.remove");
}

crt_status crt_otp_unlock(crt_ctx *ctx, const char *user, const char *actor)
{
	return otp_change(ctx, store_otp_unlock, user, actor, "otp.unlock");
}

/* ------------------------------------------------------------------ lockout rule */

/* The lockout policy of cfg ([otp] max_failures, lockout_seconds,
 * lockout_max_seconds). */
static otp_policy otp_policy_of(const crt_config *cfg)
{
	return (otp_policy){.max_failures = cfg->otp_max_failures,
	                    .lockout_seconds = cfg->otp_lockout_seconds,
	                    .lockout_max_seconds = cfg->otp_lockout_max_seconds};
}

int crt_otp_locked(const crt_otp_lockout *c, int64_t now)
{
	return otp_is_locked(c, now);
}

int64_t crt_otp_lockout_apply(const crt_config *cfg, crt_otp_lockout *c, int success,
                              int64_t now)
{
	otp_policy p = otp_policy_of(cfg);
	return otp_lockout_step(&p, c, success, now);
}

/* ------------------------------------------------------------------ verification */

/* The codes of one loaded row, for otp_decide: the secret is unsealed on
 * the first code asked for (never when locked or the code is malformed). */
typedef struct otp_codes {
	crt_ctx *ctx;
	const store_otp_locked *row;
	unsigned char *secret;
	size_t n;
} otp_codes;

static crt_status otp_code_of(void *arg, uint64_t step, char *out, size_t outlen)
{
	otp_codes *c = arg;
	crt_status r;

	if (c->secret == NULL &&
	    (r = unseal_secret(c->ctx, c->row->info.user, c->row->sealed, c->row->sealed_len,
	                       &c->secret, &c->n)) != CRT_OK)
		return r;
	return crt_hotp(c->secret, c->n, step, c->row->info.algorithm, c->row->info.digits, out,
	                outlen);
}

/* A row loaded for a verification must be usable: a sealed secret and
 * parameters this build knows. */
static crt_status otp_row_check(crt_ctx *ctx, const char *user, const store_otp_locked *row)
{
	const crt_otp_info *i = &row->info;
	if (row->sealed == NULL || row->sealed_len == 0 || i->algorithm[0] == '\0')
		return ctx_fail(ctx, CRT_E_SEAL, "OTP record of %s is damaged", user);
	if (otp_md(i->algorithm) == NULL || (i->digits != 6 && i->digits != 8) || i->period <= 0)
		return ctx_fail(ctx, CRT_E_OTP_PARAMS, "OTP record of %s has invalid parameters",
		                user);
	return CRT_OK;
}

/*
 * One transaction: load and lock user's row, decide (rules/otp.h), store
 * the new counters, write the audit row, commit. A refusal commits its
 * state change and audit row too and then returns the refusal; any store
 * failure rolls back and returns the store's status, never CRT_OK (a lost
 * commit is store_commit_unknown: the caller must not accept).
 */
crt_status crt_otp_verify_window(crt_ctx *ctx, const char *user, const char *code, int64_t now,
                                 int window, const char *service, const char *rhost, int *offset)
{
	const crt_config *cfg = &ctx->cfg;
	otp_policy pol = otp_policy_of(cfg);
	store_otp_locked row;
	otp_codes codes = {.ctx = ctx, .row = &row};
	otp_verdict v = {0};
	char *detail = NULL;
	const char *action, *why = NULL;
	int in_tx = 0;
	crt_status r, outcome;
	jbuf j;

	memset(&row, 0, sizeof(row));
	if (offset)
		*offset = 0;
	if (window < 0)
		window = cfg->otp_window;
	if ((r = otp_user_check(ctx, user)) != CRT_OK)
		return r;
	if (window > OTP_WINDOW_MAX)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "window must be 0-%d", OTP_WINDOW_MAX);
	if (now < 0)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "time before 1970");

	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	in_tx = 1;
	jb_begin(&j);
	jb_str(&j, "service", service);
	jb_str(&j, "rhost", rhost);
	r = store_otp_load_lock(ctx, user, &row);
	if (r == CRT_E_OTP_NOT_ENROLLED) {
		/* audited like any refusal; nothing else to record */
		outcome = r;
		why = "not enrolled";
		action = "otp.failure";
		jb_str(&j, "reason", crt_status_name(r));
	} else if (r != CRT_OK || (r = otp_row_check(ctx, user, &row)) != CRT_OK) {
		goto out_json;
	} else {
		otp_state st = {.last_step = row.info.last_step,
		                .lk = {.failures = row.info.failures,
		                       .locked_until = row.info.locked_until,
		                       .lockouts = row.info.lockouts}};
		otp_attempt at = {.code = code,
		                  .now = now,
		                  .window = window,
		                  .digits = row.info.digits,
		                  .period = row.info.period};
		if ((r = otp_decide(&st, &at, &pol, otp_code_of, &codes, &v)) != CRT_OK)
			goto out_json;
		switch (v.outcome) {
		case OTP_LOCKED:
			outcome = CRT_E_OTP_LOCKED;
			why = "locked out after too many failures";
			action = "otp.locked";
			jb_int(&j, "locked_until", st.lk.locked_until);
			jb_int(&j, "lockouts", st.lk.lockouts);
			break;
		case OTP_ACCEPTED:
			outcome = CRT_OK;
			action = "otp.success";
			jb_int(&j, "offset", v.offset);
			break;
		default:
			outcome = v.outcome == OTP_REPLAYED ? CRT_E_OTP_REPLAY : CRT_E_OTP_BAD_CODE;
			why = v.outcome == OTP_REPLAYED ? "code of an already used time step"
			                                : "wrong code";
			action = v.outcome == OTP_REPLAYED ? "otp.replay" : "otp.failure";
			jb_int(&j, "failures", v.next.lk.failures);
			if (v.lockout_started) {
				/* this attempt locked the user: for how long, the how-many-th time */
				jb_int(&j, "locked_until", v.next.lk.locked_until);
				jb_int(&j, "lockout_seconds", v.lockout_started);
				jb_int(&j, "lockouts", v.next.lk.lockouts);
			}
		}
		if (v.write) {
			store_otp_counters c = {.last_step = v.next.last_step,
			                        .failures = v.next.lk.failures,
			                        .locked_until = v.next.lk.locked_until,
			                        .lockouts = v.next.lk.lockouts};
			if ((r = store_otp_save(ctx, user, &c)) != CRT_OK)
				goto out_json;
		}
	}
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = audit_write(ctx, user, action, user, detail)) != CRT_OK)
		goto out;
	/* The attempt that locked the user raises otp.locked (the attempts made
	 * while locked do not). */
	if (v.lockout_started &&
	    (r = event_emit(ctx, "otp.locked", user,
	                    &(event_subject){.user = user, .locked_until = v.next.lk.locked_until},
	                    NULL, NULL)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_tx = 0;
	if (outcome != CRT_OK) {
		r = ctx_fail(ctx, outcome, "%s for %s", why, user);
		goto out;
	}
	if (offset)
		*offset = v.offset;
	r = CRT_OK;
	goto out;
out_json:
	free(jb_end(&j));
out:
	if (in_tx)
		store_rollback(ctx);
	crt_freezero(codes.secret, codes.n);
	store_otp_locked_clear(&row);
	free(detail);
	return r;
}

crt_status crt_otp_verify(crt_ctx *ctx, const char *user, const char *code, int64_t now,
                          const char *service, const char *rhost, int *offset)
{
	return crt_otp_verify_window(ctx, user, code, now, -1, service, rhost, offset);
}

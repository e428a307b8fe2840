/*
 * otp.c — one-time passwords: HOTP/TOTP (RFC 4226 / RFC 6238), base32
 * secrets, otpauth:// URIs, sealing of secrets at rest and the per-user
 * replay + lockout state.
 *
 * Secrets are stored sealed with AES-256-GCM under the key in
 * [otp] key_file (32 raw bytes, created 0600 by crtoken-admin init):
 *
 *     sealed = 0x01 | nonce (12) | ciphertext | tag (16)
 *
 * with AAD = "crtoken-otp" | 0x01 | user, so a sealed secret copied to
 * another user's row fails to open.
 *
 * Verification is a single BEGIN IMMEDIATE transaction: read the row,
 * check lockout, match the code in the window, check the matched time step
 * against the last accepted one, update counters and write the audit row.
 * Refusals commit their state change too and then return the refusal.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "internal.h"
#include "store/sqlite.h" /* until this file's SQL moves behind the port */

#define SEAL_VERSION 0x01
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_KEY_LEN 32
#define SEAL_AAD_LABEL "crtoken-otp"
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

/* The 32-byte sealing key from [otp] key_file, as the instance read it at
 * open (or why it could not: the same status and message). */
static crt_status seal_load_key(crt_ctx *ctx, unsigned char key[SEAL_KEY_LEN])
{
	return instance_otp_key(ctx, key);
}

/* AAD binding a sealed blob to its user. *aad malloc'd. */
static crt_status seal_aad(const char *user, unsigned char **aad, size_t *len)
{
	size_t lab = sizeof(SEAL_AAD_LABEL) - 1, ul = strlen(user);
	unsigned char *a = malloc(lab + 1 + ul);

	if (a == NULL)
		return CRT_E_NOMEM;
	memcpy(a, SEAL_AAD_LABEL, lab);
	a[lab] = SEAL_VERSION;
	memcpy(a + lab + 1, user, ul);
	*aad = a;
	*len = lab + 1 + ul;
	return CRT_OK;
}

/*
 * Seal secret (n bytes) for user. *out (malloc'd, *outlen bytes) is the
 * blob stored in otp.secret. CRT_E_SEAL / CRT_E_CONFIG / CRT_E_IO on failure.
 */
static crt_status seal_secret(crt_ctx *ctx, const char *user, const unsigned char *secret, size_t n,
                              unsigned char **out, size_t *outlen)
{
	unsigned char key[SEAL_KEY_LEN];
	unsigned char *aad = NULL, *blob = NULL;
	size_t aadlen = 0, bloblen = 1 + SEAL_NONCE_LEN + n + SEAL_TAG_LEN;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*out = NULL;
	*outlen = 0;
	if ((r = seal_load_key(ctx, key)) != CRT_OK)
		goto out;
	if ((r = seal_aad(user, &aad, &aadlen)) != CRT_OK)
		goto out;
	if ((blob = malloc(bloblen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	blob[0] = SEAL_VERSION;
	if ((r = crt_random(blob + 1, SEAL_NONCE_LEN)) != CRT_OK)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_EncryptInit_ex(c, NULL, NULL, key, blob + 1) != 1 ||
	    EVP_EncryptUpdate(c, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_EncryptUpdate(c, blob + 1 + SEAL_NONCE_LEN, &len, secret, (int)n) != 1 ||
	    (size_t)len != n || EVP_EncryptFinal_ex(c, blob + 1 + SEAL_NONCE_LEN + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN,
	                        blob + 1 + SEAL_NONCE_LEN + n) != 1) {
		r = crt_fail(ctx, CRT_E_SEAL, "cannot seal the OTP secret");
		goto out;
	}
	*out = blob;
	*outlen = bloblen;
	blob = NULL;
	r = CRT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	free(aad);
	crt_freezero(blob, bloblen);
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
	unsigned char key[SEAL_KEY_LEN], tag[SEAL_TAG_LEN];
	unsigned char *aad = NULL, *pt = NULL;
	size_t aadlen = 0, ctlen = 0;
	EVP_CIPHER_CTX *c = NULL;
	int len = 0;
	crt_status r;

	*secret = NULL;
	*n = 0;
	if (blob == NULL || bloblen <= 1 + SEAL_NONCE_LEN + SEAL_TAG_LEN ||
	    blob[0] != SEAL_VERSION ||
	    bloblen - (1 + SEAL_NONCE_LEN + SEAL_TAG_LEN) > OTP_SECRET_MAX)
		return crt_fail(ctx, CRT_E_SEAL, "sealed OTP secret of %s is malformed", user);
	ctlen = bloblen - (1 + SEAL_NONCE_LEN + SEAL_TAG_LEN);
	if ((r = seal_load_key(ctx, key)) != CRT_OK)
		goto out;
	if ((r = seal_aad(user, &aad, &aadlen)) != CRT_OK)
		goto out;
	if ((pt = malloc(ctlen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(tag, blob + 1 + SEAL_NONCE_LEN + ctlen, SEAL_TAG_LEN);
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, SEAL_NONCE_LEN, NULL) != 1 ||
	    EVP_DecryptInit_ex(c, NULL, NULL, key, blob + 1) != 1 ||
	    EVP_DecryptUpdate(c, NULL, &len, aad, (int)aadlen) != 1 ||
	    EVP_DecryptUpdate(c, pt, &len, blob + 1 + SEAL_NONCE_LEN, (int)ctlen) != 1 ||
	    (size_t)len != ctlen ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag) != 1 ||
	    EVP_DecryptFinal_ex(c, pt + len, &len) != 1) {
		r = crt_fail(ctx, CRT_E_SEAL, "sealed OTP secret of %s does not open with this key",
		             user);
		goto out;
	}
	*secret = pt;
	*n = ctlen;
	pt = NULL;
	r = CRT_OK;
out:
	OPENSSL_cleanse(key, sizeof(key));
	EVP_CIPHER_CTX_free(c);
	free(aad);
	crt_freezero(pt, ctlen);
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

#define OTP_COLS                                                                            \
	"username, algorithm, digits, period, last_step, failures, locked_until, created_at, "  \
	"lockouts"

/* Fill out from a row selected with OTP_COLS starting at column 0. */
static crt_status otp_row(sqlite3_stmt *st, crt_otp_info *out)
{
	const char *alg = (const char *)sqlite3_column_text(st, 1);

	memset(out, 0, sizeof(*out));
	if ((out->user = store_col_strdup(st, 0)) == NULL)
		return CRT_E_NOMEM;
	snprintf(out->algorithm, sizeof(out->algorithm), "%s", alg ? alg : "");
	out->digits = sqlite3_column_int(st, 2);
	out->period = sqlite3_column_int(st, 3);
	out->last_step = sqlite3_column_int64(st, 4);
	out->failures = sqlite3_column_int(st, 5);
	out->locked_until = sqlite3_column_int64(st, 6);
	out->created_at = sqlite3_column_int64(st, 7);
	out->lockouts = sqlite3_column_int(st, 8);
	return CRT_OK;
}

/* A user name we can store, audit and put in an otpauth label (names.c). */
static crt_status otp_user_check(crt_ctx *ctx, const char *user)
{
	if (crt_user_name_check(user) != CRT_OK)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "user name must be " CRT_USER_NAME_RULE);
	return CRT_OK;
}

crt_status crt_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	memset(out, 0, sizeof(*out));
	if (user == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no user");
	if ((r = store_prepare(ctx, "SELECT " OTP_COLS " FROM otp WHERE username = ?", &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = otp_row(st, out);
	else if (rc == SQLITE_DONE)
		r = crt_fail(ctx, CRT_E_OTP_NOT_ENROLLED, "no OTP enrolled for %s", user);
	else
		r = store_error(ctx, rc, "reading OTP record");
	store_done(st);
	return r;
}

crt_status crt_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n)
{
	sqlite3_stmt *st = NULL;
	crt_otp_info *list = NULL;
	size_t cnt = 0, cap = 0;
	crt_status r;
	int rc;

	*out = NULL;
	*n = 0;
	if ((r = store_prepare(ctx, "SELECT " OTP_COLS " FROM otp ORDER BY username", &st)) != CRT_OK)
		return r;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (crt_grow(&list, &cap, cnt, sizeof(*list)) != 0) {
			r = CRT_E_NOMEM;
			goto out;
		}
		if ((r = otp_row(st, &list[cnt])) != CRT_OK)
			goto out;
		cnt++;
	}
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "listing OTP records");
		goto out;
	}
	*out = list;
	*n = cnt;
	list = NULL;
	cnt = 0;
	r = CRT_OK;
out:
	store_done(st);
	crt_otp_list_free(list, cnt);
	return r;
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
	sqlite3_stmt *st = NULL;
	int in_tx = 0, rc;
	crt_json j;
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
		return crt_fail(ctx, CRT_E_OTP_PARAMS, "algorithm must be SHA1, SHA256 or SHA512");
	if (digits != 6 && digits != 8)
		return crt_fail(ctx, CRT_E_OTP_PARAMS, "digits must be 6 or 8");
	if (period < 10 || period > 300)
		return crt_fail(ctx, CRT_E_OTP_PARAMS, "period must be 10-300 seconds");
	if (issuer == NULL || *issuer == '\0' || crt_field_check(issuer, 100) != CRT_OK ||
	    strchr(issuer, ':') != NULL)
		return crt_fail(ctx, CRT_E_OTP_PARAMS,
		                "issuer must be 1-100 printable characters without ':'");

	n = otp_secret_len(alg);
	if ((r = crt_random(secret, n)) != CRT_OK)
		goto out;
	if ((r = seal_secret(ctx, user, secret, n, &blob, &bloblen)) != CRT_OK)
		goto out;
	r = CRT_E_NOMEM;
	if ((b32 = base32_encode(secret, n)) == NULL ||
	    (u = otp_make_uri(issuer, user, b32, alg, digits, period)) == NULL)
		goto out;
	json_begin(&j);
	json_str(&j, "algorithm", alg);
	json_int(&j, "digits", digits);
	json_int(&j, "period", period);
	json_str(&j, "issuer", issuer);
	if ((detail = json_end(&j)) == NULL)
		goto out;

	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	in_tx = 1;
	if ((r = store_prepare(ctx,
	                       "INSERT INTO otp(username, secret, algorithm, digits, period, "
	                       "created_at) VALUES (?, ?, ?, ?, ?, ?)",
	                       &st)) != CRT_OK)
		goto out;
	store_bind_text(st, 1, user);
	sqlite3_bind_blob(st, 2, blob, (int)bloblen, SQLITE_STATIC);
	store_bind_text(st, 3, alg);
	sqlite3_bind_int(st, 4, digits);
	sqlite3_bind_int(st, 5, period);
	sqlite3_bind_int64(st, 6, crt_now());
	rc = sqlite3_step(st);
	store_done(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT) {
		r = crt_fail(ctx, CRT_E_EXISTS, "%s already has an OTP; remove it first", user);
		goto out;
	} else if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, "storing OTP record");
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

/* Run one-row UPDATE/DELETE sql (bound to user) with an audit row, in one transaction. */
static crt_status otp_change(crt_ctx *ctx, const char *sql, const char *user, const char *actor,
                             const char *action)
{
	sqlite3_stmt *st = NULL;
	int in_tx = 0, rc;
	crt_status r;

	if (user == NULL)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "no user");
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	in_tx = 1;
	if ((r = store_prepare(ctx, sql, &st)) != CRT_OK)
		goto out;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE) {
		r = store_error(ctx, rc, action);
		goto out;
	}
	if (sqlite3_changes(sq_db(ctx)) == 0) {
		r = crt_fail(ctx, CRT_E_OTP_NOT_ENROLLED, "no OTP enrolled for %s", user);
		goto out;
	}
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
	return otp_change(ctx, "DELETE FROM otp WHERE username = ?", user, actor, "otp.remove");
}

crt_status crt_otp_unlock(crt_ctx *ctx, const char *user, const char *actor)
{
	return otp_change(ctx,
	                  "UPDATE otp SET failures = 0, locked_until = 0, lockouts = 0 WHERE username = ?",
	                  user, actor, "otp.unlock");
}

/* ------------------------------------------------------------------ lockout rule */

int crt_otp_locked(const crt_otp_lockout *c, int64_t now)
{
	return c->locked_until > now;
}

int64_t crt_otp_lockout_apply(const crt_config *cfg, crt_otp_lockout *c, int success,
                              int64_t now)
{
	int64_t len, cap;

	if (c->locked_until != 0 && c->locked_until <= now) {
		/* lockout over: a fresh series of attempts (the lockout still counts) */
		c->locked_until = 0;
		c->failures = 0;
	}
	if (success) {
		c->failures = 0;
		c->lockouts = 0;
		c->locked_until = 0;
		return 0;
	}
	if (++c->failures < cfg->otp_max_failures)
		return 0;
	c->lockouts++;
	len = cfg->otp_lockout_seconds;
	cap = cfg->otp_lockout_max_seconds > len ? cfg->otp_lockout_max_seconds : len;
	for (int i = 1; i < c->lockouts && len < cap; i++)
		len *= 2;
	if (len > cap)
		len = cap;
	c->locked_until = now + len;
	return len;
}

/* ------------------------------------------------------------------ verification */

/* The stored state of one user, read inside the verify transaction. */
typedef struct otp_state {
	char alg[8];
	int digits, period;
	int64_t last_step;
	crt_otp_lockout lk;
	unsigned char *blob;
	size_t bloblen;
} otp_state;

/* Load user's row into s (blob malloc'd). CRT_E_OTP_NOT_ENROLLED if absent. */
static crt_status otp_load_state(crt_ctx *ctx, const char *user, otp_state *s)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((r = store_prepare(ctx,
	                       "SELECT secret, algorithm, digits, period, last_step, failures, "
	                       "locked_until, lockouts FROM otp WHERE username = ?",
	                       &st)) != CRT_OK)
		return r;
	store_bind_text(st, 1, user);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		r = crt_fail(ctx, CRT_E_OTP_NOT_ENROLLED, "no OTP enrolled for %s", user);
		goto out;
	} else if (rc != SQLITE_ROW) {
		r = store_error(ctx, rc, "reading OTP record");
		goto out;
	}
	const void *b = sqlite3_column_blob(st, 0);
	int blen = sqlite3_column_bytes(st, 0);
	const char *alg = (const char *)sqlite3_column_text(st, 1);
	if (b == NULL || blen <= 0 || alg == NULL) {
		r = crt_fail(ctx, CRT_E_SEAL, "OTP record of %s is damaged", user);
		goto out;
	}
	if ((s->blob = malloc((size_t)blen)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(s->blob, b, (size_t)blen);
	s->bloblen = (size_t)blen;
	snprintf(s->alg, sizeof(s->alg), "%s", alg);
	s->digits = sqlite3_column_int(st, 2);
	s->period = sqlite3_column_int(st, 3);
	s->last_step = sqlite3_column_int64(st, 4);
	s->lk.failures = sqlite3_column_int(st, 5);
	s->lk.locked_until = sqlite3_column_int64(st, 6);
	s->lk.lockouts = sqlite3_column_int(st, 7);
	if (otp_md(s->alg) == NULL || (s->digits != 6 && s->digits != 8) || s->period <= 0) {
		r = crt_fail(ctx, CRT_E_OTP_PARAMS, "OTP record of %s has invalid parameters",
		             user);
		goto out;
	}
	r = CRT_OK;
out:
	store_done(st);
	return r;
}

/* Write the counters of user back (inside the open transaction). */
static crt_status otp_save_state(crt_ctx *ctx, const char *user, const otp_state *s)
{
	sqlite3_stmt *st = NULL;
	crt_status r;
	int rc;

	if ((r = store_prepare(ctx,
	                       "UPDATE otp SET last_step = ?, failures = ?, locked_until = ?, "
	                       "lockouts = ? WHERE username = ?",
	                       &st)) != CRT_OK)
		return r;
	sqlite3_bind_int64(st, 1, s->last_step);
	sqlite3_bind_int(st, 2, s->lk.failures);
	sqlite3_bind_int64(st, 3, s->lk.locked_until);
	sqlite3_bind_int(st, 4, s->lk.lockouts);
	store_bind_text(st, 5, user);
	rc = sqlite3_step(st);
	store_done(st);
	if (rc != SQLITE_DONE)
		return store_error(ctx, rc, "updating OTP record");
	return CRT_OK;
}

/* Exactly `digits` ASCII digits. */
static int otp_code_wellformed(const char *code, int digits)
{
	if (code == NULL || strlen(code) != (size_t)digits)
		return 0;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/*
 * Find code among the steps step-window..step+window, nearest first.
 * *kind: 1 = matched a step after last_step (offset in *match), 2 = matched
 * only steps at or before last_step (a replay), 0 = no match.
 */
static crt_status otp_match(const otp_state *s, const unsigned char *secret, size_t n,
                            const char *code, int64_t step, int window, int *match, int *kind)
{
	char want[16];
	crt_status r = CRT_OK;
	int replay_off = 0, replay = 0;

	*kind = 0;
	for (int k = 0; k <= 2 * window; k++) {
		/* 0, -1, +1, -2, +2, ... */
		int off = (k + 1) / 2 * (k % 2 ? -1 : 1);
		int64_t t = step + off;
		if (t < 0)
			continue;
		if ((r = crt_hotp(secret, n, (uint64_t)t, s->alg, s->digits, want, sizeof(want))) !=
		    CRT_OK)
			goto out;
		if (CRYPTO_memcmp(want, code, (size_t)s->digits) != 0)
			continue;
		if (t > s->last_step) {
			*match = off;
			*kind = 1;
			goto out;
		}
		if (!replay) {
			replay = 1;
			replay_off = off;
		}
	}
	if (replay) {
		*match = replay_off;
		*kind = 2;
	}
out:
	OPENSSL_cleanse(want, sizeof(want));
	return r;
}

crt_status crt_otp_verify_window(crt_ctx *ctx, const char *user, const char *code, int64_t now,
                                 int window, const char *service, const char *rhost, int *offset)
{
	const crt_config *cfg = &ctx->cfg;
	otp_state s;
	unsigned char *secret = NULL;
	size_t n = 0;
	char *detail = NULL;
	const char *action, *why = NULL;
	int in_tx = 0, off = 0, kind = 0;
	crt_status r, outcome;
	crt_json j;

	memset(&s, 0, sizeof(s));
	if (offset)
		*offset = 0;
	if (window < 0)
		window = cfg->otp_window;
	if ((r = otp_user_check(ctx, user)) != CRT_OK)
		return r;
	if (window > OTP_WINDOW_MAX)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "window must be 0-%d", OTP_WINDOW_MAX);
	if (now < 0)
		return crt_fail(ctx, CRT_E_INVALID_ARGUMENT, "time before 1970");

	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	in_tx = 1;
	json_begin(&j);
	json_str(&j, "service", service);
	json_str(&j, "rhost", rhost);
	r = otp_load_state(ctx, user, &s);
	if (r == CRT_E_OTP_NOT_ENROLLED) {
		/* audited like any refusal; nothing else to record */
		outcome = r;
		why = "not enrolled";
		action = "otp.failure";
		json_str(&j, "reason", crt_status_name(r));
	} else if (r != CRT_OK) {
		goto out_json;
	} else if (crt_otp_locked(&s.lk, now)) {
		/* Refused without looking at the code: no oracle while locked. */
		outcome = CRT_E_OTP_LOCKED;
		why = "locked out after too many failures";
		action = "otp.locked";
		json_int(&j, "locked_until", s.lk.locked_until);
		json_int(&j, "lockouts", s.lk.lockouts);
	} else {
		int64_t started;
		if (otp_code_wellformed(code, s.digits)) {
			if ((r = unseal_secret(ctx, user, s.blob, s.bloblen, &secret, &n)) !=
			    CRT_OK)
				goto out_json;
			if ((r = otp_match(&s, secret, n, code, now / s.period, window, &off,
			                   &kind)) != CRT_OK)
				goto out_json;
		}
		started = crt_otp_lockout_apply(cfg, &s.lk, kind == 1, now);
		if (kind == 1) {
			outcome = CRT_OK;
			action = "otp.success";
			s.last_step = now / s.period + off;
			json_int(&j, "offset", off);
		} else {
			outcome = kind == 2 ? CRT_E_OTP_REPLAY : CRT_E_OTP_BAD_CODE;
			why = kind == 2 ? "code of an already used time step" : "wrong code";
			action = kind == 2 ? "otp.replay" : "otp.failure";
			json_int(&j, "failures", s.lk.failures);
			if (started) {
				/* this attempt locked the user: for how long, the how-many-th time */
				json_int(&j, "locked_until", s.lk.locked_until);
				json_int(&j, "lockout_seconds", started);
				json_int(&j, "lockouts", s.lk.lockouts);
			}
		}
		if ((r = otp_save_state(ctx, user, &s)) != CRT_OK)
			goto out_json;
	}
	if ((detail = json_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = audit_write(ctx, user, action, user, detail)) != CRT_OK)
		goto out;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	in_tx = 0;
	if (outcome != CRT_OK) {
		r = crt_fail(ctx, outcome, "%s for %s", why, user);
		goto out;
	}
	if (offset)
		*offset = off;
	r = CRT_OK;
	goto out;
out_json:
	free(json_end(&j));
out:
	if (in_tx)
		store_rollback(ctx);
	crt_freezero(secret, n);
	crt_freezero(s.blob, s.bloblen);
	free(detail);
	return r;
}

crt_status crt_otp_verify(crt_ctx *ctx, const char *user, const char *code, int64_t now,
                          const char *service, const char *rhost, int *offset)
{
	return crt_otp_verify_window(ctx, user, code, now, -1, service, rhost, offset);
}

/*
 * fuzz_json.c — the JSON request bodies of crtokend's endpoints that take
 * one, through the real handlers (enroll/crtokend/h_*.c, reqjson.c,
 * respond.c, linked unchanged) against a real instance in a
 * per-process scratch directory:
 *   'C' POST  /certificate-request-tokens           (h_token_create)
 *   'P' PATCH /certificate-request-tokens/{id}      (h_token_update)
 *   'R' POST  /client-certificates/token/{token}    (h_redeem)
 *   'V' POST  /client-certificates/{serial}/revoke  (h_cert_revoke)
 * The first input byte picks the endpoint (any other byte: byte % 4 in that
 * order); the rest is the body. The redemption's token is well formed but
 * unknown, so a body that parses still goes through crt_redeem's CSR check
 * and refusal, never issuing. The PATCH and revoke targets exist.
 *
 * GENERATE bodies asking for an RSA key are skipped: RSA key generation
 * (~0.1-1 s) happens before the token is looked at and would dominate the
 * run without exercising any parsing.
 *
 * Properties: every request gets a response, never a 5xx (nothing here is
 * an internal error), and a body that is not a JSON object is answered 400.
 */
#include <strings.h>

#include "crtokend.h"
#include "internal.h"
#include "store/sqlite.h"
#include "fuzz.h"

static crt_ctx *ctx;
static char patch_id[CRT_ID_LEN], cert_token_id[CRT_ID_LEN], serial[72];
static char unknown_token[CRT_TOKEN_STRLEN + 1];
static unsigned long runs;

static void die(const char *what, crt_status s)
{
	fprintf(stderr, "fuzz_json setup: %s: %s: %s\n", what, crt_status_name(s),
		crt_errdetail(ctx));
	abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[300], conf[320], err[512];
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_init_opts o = {0};
	crt_token_spec spec = {0};
	crt_redeem_req rr = {0};
	crt_token t;
	crt_cert c;
	EVP_PKEY *key = NULL;
	char *csr = NULL;
	crt_status s;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s/i", fuzz_dir());
	snprintf(conf, sizeof(conf), "%s/crtoken.conf", dir);
	o.dir = dir;
	if ((s = crt_init(&o, err, sizeof(err))) != CRT_OK) {
		fprintf(stderr, "init: %s\n", err);
		abort();
	}
	/* Scratch data: no fsync per transaction. */
	if ((f = fopen(conf, "a")) == NULL)
		abort();
	fputs("\n[store]\ndurability = normal\n", f);
	fclose(f);
	if ((s = crt_open(conf, 0, &ctx)) != CRT_OK)
		die("open", s);

	spec.name = "fuzz-patch-target";
	if ((s = crt_token_create(ctx, &spec, "fuzz", &t, tok)) != CRT_OK)
		die("token", s);
	memcpy(patch_id, t.id, sizeof(patch_id));
	crt_token_clear(&t);

	spec.name = "fuzz-revoke-target";
	if ((s = crt_token_create(ctx, &spec, "fuzz", &t, tok)) != CRT_OK)
		die("token", s);
	memcpy(cert_token_id, t.id, sizeof(cert_token_id));
	crt_token_clear(&t);
	if ((s = crt_key_generate("ec-p256", &key)) != CRT_OK ||
	    (s = crt_csr_make(key, "fuzz", &csr)) != CRT_OK)
		die("csr", s);
	rr.token = tok;
	rr.csr = (const unsigned char *)csr;
	rr.csr_len = strlen(csr);
	rr.admin = 1;
	rr.actor = "fuzz";
	if ((s = crt_redeem(ctx, &rr, &c)) != CRT_OK)
		die("redeem", s);
	snprintf(serial, sizeof(serial), "%s", c.serial);
	crt_cert_clear(&c);
	free(csr);
	EVP_PKEY_free(key);

	/* A well-formed token the store does not know: made, then purged. */
	spec.name = "fuzz-deleted";
	if ((s = crt_token_create(ctx, &spec, "fuzz", &t, unknown_token)) != CRT_OK ||
	    (s = crt_token_delete(ctx, t.id, "fuzz")) != CRT_OK)
		die("token", s);
	crt_token_clear(&t);
	if (sqlite3_exec(sq_db(ctx), "DELETE FROM tokens WHERE name = 'fuzz-deleted'", NULL, NULL,
			 NULL) != SQLITE_OK)
		die("purge", CRT_E_INTERNAL);
	return 0;
}

/* Keep the scratch store small: drop what earlier runs added. */
static void tidy(void)
{
	char sql[400];
	snprintf(sql, sizeof(sql),
		 "DELETE FROM audit; DELETE FROM tokens WHERE id NOT IN ('%s', '%s')", patch_id,
		 cert_token_id);
	if (sqlite3_exec(sq_db(ctx), sql, NULL, NULL, NULL) != SQLITE_OK)
		die("tidy", CRT_E_INTERNAL);
}

/* GENERATE with an RSA key type (see the file comment). */
static int rsa_generate(const char *body, size_t len)
{
	json_t *v = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL), *kt;
	int skip = 0;

	if (v != NULL && json_is_object(v) && (kt = json_object_get(v, "keyType")) != NULL &&
	    json_is_string(kt) && strncasecmp(json_string_value(kt), "rsa", 3) == 0)
		skip = 1;
	json_decref(v);
	return skip;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct request rq;
	handler_fn fn;
	json_t *parsed;
	int is_object;

	if (size == 0)
		return 0;
	memset(&rq, 0, sizeof(rq));
	rq.ctx = ctx;
	rq.cfg = crt_get_config(ctx);
	rq.method = "POST";
	snprintf(rq.remote, sizeof(rq.remote), "127.0.0.1");
	snprintf(rq.actor, sizeof(rq.actor), "apikey:fuzz");
	snprintf(rq.logpath, sizeof(rq.logpath), "/fuzz");
	switch (data[0] == 'C' ? 0 : data[0] == 'P' ? 1 : data[0] == 'R' ? 2 : data[0] == 'V' ? 3
			 : data[0] % 4) {
	case 0:
		fn = h_token_create;
		break;
	case 1:
		fn = h_token_update;
		rq.method = "PATCH";
		snprintf(rq.param, sizeof(rq.param), "%s", patch_id);
		break;
	case 2:
		fn = h_redeem;
		snprintf(rq.param, sizeof(rq.param), "%s", unknown_token);
		snprintf(rq.user, sizeof(rq.user), "fuzz");
		break;
	default:
		fn = h_cert_revoke;
		snprintf(rq.param, sizeof(rq.param), "%s", serial);
		break;
	}
	/* The server hands handlers a NUL-terminated copy of the body. */
	rq.body = fuzz_cstr(data + 1, size - 1);
	rq.body_len = rq.body_cap = size - 1;
	if (fn == h_redeem && rsa_generate(rq.body, rq.body_len)) {
		free(rq.body);
		return 0;
	}
	parsed = json_loadb(rq.body, rq.body_len, JSON_REJECT_DUPLICATES, NULL);
	is_object = parsed != NULL && json_is_object(parsed);
	json_decref(parsed);

	fn(&rq);

	FUZZ_CHECK(rq.resp != NULL);
	FUZZ_CHECK(rq.http_status >= 200 && rq.http_status < 500);
	if (!is_object && !(fn == h_cert_revoke && rq.body_len == 0))
		FUZZ_CHECK(rq.http_status == 400);
	MHD_destroy_response(rq.resp);
	free(rq.body);
	if (++runs % 4096 == 0)
		tidy();
	return 0;
}

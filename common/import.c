/*
 * import.c — existing certificates uploaded instead of a CSR (issue 12):
 * by an administrator (crt_cert_import, `crtoken-admin cert import`) or by
 * a redeemer with a token (crt_redeem with req->cert, redeem.c).
 *
 * The upload is parsed here and verified against [import] trusted_issuers
 * (a PEM bundle read when the instance is opened) with X509_verify_cert —
 * no network, no CRL fetch, every certificate of the bundle a trust anchor
 * (X509_V_FLAG_PARTIAL_CHAIN: an intermediate listed alone is enough;
 * security level 2: no MD5 or SHA-1 signature, no key under 112 bits); the
 * leaf's own validity period is left to the rule so that an expired upload
 * is told cert_expired rather than cert_untrusted. What is decided on the
 * parsed values is rules/import.c's. The certificate is stored as it is,
 * with its own issuer name, SKI and AKI, so rlm_crtoken's admission rule
 * (rules/admit.c) admits it exactly like an issued one and refuses it once
 * revoked. Its ca is CRT_CA_IMPORTED: none of our CAs issued it, so it is
 * on none of our CRLs, and OCSP (which answers for our CAs' key ids) calls
 * it unknown.
 *
 * Serials are the certificates table's key (one table for every CA of the
 * instance; our serials are 128-bit random). An upload whose serial is
 * stored already is refused: cert_exists when it is that very certificate,
 * serial_conflict when it is another one (ours or another issuer's) —
 * never stored beside it, so no lookup by serial can pick the wrong row.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "internal.h"
#include "rules/import.h"

#define IMPORT_MAX_PEM (64 * 1024)
#define IMPORT_MAX_BUNDLE (1024 * 1024)

crt_status import_issuers_load(const char *path, STACK_OF(X509) * *out, char *why, size_t n)
{
	STACK_OF(X509) *sk = NULL;
	char *text = NULL;
	size_t len = 0;
	BIO *b = NULL;
	X509 *x;
	crt_status r;

	*out = NULL;
	if ((r = read_trusted(path, IMPORT_MAX_BUNDLE, CRT_TRUST_FILE, &text, &len, why, n)) !=
	    CRT_OK) {
		char inner[512];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, n, "[import] trusted_issuers: %s", inner);
		return r;
	}
	r = CRT_E_NOMEM;
	if ((sk = sk_X509_new_null()) == NULL || (b = BIO_new_mem_buf(text, (int)len)) == NULL)
		goto out;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto out;
		}
	unsigned long e = ERR_peek_last_error();
	ERR_clear_error();
	if (sk_X509_num(sk) == 0 || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		snprintf(why, n, "[import] trusted_issuers %s: not a bundle of PEM certificates",
			 path);
		r = CRT_E_CONFIG;
		goto out;
	}
	*out = sk;
	sk = NULL;
	r = CRT_OK;
out:
	BIO_free(b);
	free(text);
	sk_X509_pop_free(sk, X509_free);
	return r;
}

void import_cert_clear(import_cert *ic)
{
	if (ic == NULL)
		return;
	X509_free(ic->x);
	free(ic->cn);
	free(ic->org);
	free(ic->ou);
	memset(ic, 0, sizeof(*ic));
}

/* Leaf time errors are the rule's to report (cert_expired, cert_not_yet_valid). */
static int verify_cb(int ok, X509_STORE_CTX *sc)
{
	int e = X509_STORE_CTX_get_error(sc);
	if (!ok && X509_STORE_CTX_get_error_depth(sc) == 0 &&
	    (e == X509_V_ERR_CERT_HAS_EXPIRED || e == X509_V_ERR_CERT_NOT_YET_VALID))
		return 1;
	return ok;
}

/* Does x chain to inst's trusted issuers? *why: OpenSSL's reason when not. */
static crt_status chain_verify(const crt_instance *inst, X509 *x, int *ok, const char **why)
{
	X509_STORE *st = X509_STORE_new();
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	crt_status r = CRT_E_NOMEM;

	*ok = 0;
	*why = "";
	if (st == NULL || sc == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(inst->import_issuers); i++)
		if (!X509_STORE_add_cert(st, sk_X509_value(inst->import_issuers, i)))
			goto out;
	X509_STORE_set_verify_cb(st, verify_cb);
	X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN | X509_V_FLAG_X509_STRICT);
	if (!X509_STORE_CTX_init(sc, st, x, NULL))
		goto out;
	/* At least 112 bits of security for every signature and key of the
	 * chain (OpenSSL's level 2): the library's default checks none, and an
	 * MD5 or SHA-1 signature of a trusted issuer is open to collisions. */
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(sc), 2);
	if (X509_verify_cert(sc) == 1)
		*ok = 1;
	else
		*why = X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc));
	r = CRT_OK;
out:
	X509_STORE_CTX_free(sc);
	X509_STORE_free(st);
	ERR_clear_error();
	return r;
}

/* The first value of field nid in name (malloc'd, or NULL) and how many. */
static crt_status name_field(X509_NAME *name, int nid, char **first, int *count)
{
	int i = -1;

	*first = NULL;
	*count = 0;
	while ((i = X509_NAME_get_index_by_NID(name, nid, i)) >= 0) {
		if ((*count)++ > 0)
			continue;
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		unsigned char *u = NULL;
		int n = ASN1_STRING_to_UTF8(&u, d);
		if (n < 0)
			return CRT_E_CERT_MALFORMED;
		if (memchr(u, '\0', (size_t)n) != NULL) { /* an embedded NUL: not a name */
			OPENSSL_free(u);
			return CRT_E_CERT_MALFORMED;
		}
		*first = strndup((const char *)u, (size_t)n);
		OPENSSL_free(u);
		if (*first == NULL)
			return CRT_E_NOMEM;
	}
	return CRT_OK;
}

/* The serial of x in the stored form; CRT_E_CERT_MALFORMED when it is not a
 * positive integer of at most 20 octets (RFC 5280 4.1.2.2). */
static crt_status serial_of(X509 *x, char out[72])
{
	const ASN1_INTEGER *ai = X509_get0_serialNumber(x);
	BIGNUM *bn = ASN1_INTEGER_to_BN(ai, NULL);
	char *hex = NULL;
	crt_status r = CRT_E_CERT_MALFORMED;

	if (bn == NULL)
		return CRT_E_NOMEM;
	if (BN_is_negative(bn) || BN_is_zero(bn) || BN_num_bytes(bn) > 20)
		goto out;
	if ((hex = BN_bn2hex(bn)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	r = crt_serial_normalize(hex, out, 72) == CRT_OK ? CRT_OK : CRT_E_CERT_MALFORMED;
out:
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* The facts of x for the rule. */
static void leaf_facts(X509 *x, int chain_ok, import_facts *f)
{
	uint32_t fl = X509_get_extension_flags(x); /* also caches the extensions */

	memset(f, 0, sizeof(*f));
	f->chain_ok = chain_ok;
	f->is_ca = (fl & EXFLAG_CA) != 0;
	if (fl & EXFLAG_KUSAGE) {
		uint32_t ku = X509_get_key_usage(x);
		f->has_key_usage = 1;
		if (ku & KU_DIGITAL_SIGNATURE)
			f->key_usage |= IMPORT_KU_DIGITAL_SIGNATURE;
		if (ku & KU_KEY_CERT_SIGN)
			f->key_usage |= IMPORT_KU_KEY_CERT_SIGN;
	}
	if (fl & EXFLAG_XKUSAGE) {
		uint32_t xku = X509_get_extended_key_usage(x);
		f->has_eku = 1;
		f->eku_client_auth = (xku & XKU_SSL_CLIENT) != 0;
		f->eku_any = (xku & XKU_ANYEKU) != 0;
	}
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(x);
	f->has_ski = ski != NULL && ASN1_STRING_length(ski) > 0;
	f->has_aki = aki != NULL && ASN1_STRING_length(aki) > 0;
	f->not_before = ca_time_unix(X509_get0_notBefore(x));
	f->not_after = ca_time_unix(X509_get0_notAfter(x));
}

crt_status import_parse(crt_ctx *ctx, const unsigned char *pem, size_t len, int64_t now,
			import_cert *out)
{
	const char *why = "";
	import_facts f;
	BIO *b = NULL;
	crt_status r;
	int chain_ok = 0;

	memset(out, 0, sizeof(*out));
	if (ctx->inst->import_issuers == NULL)
		return ctx_fail(ctx, CRT_E_IMPORT_DISABLED,
				ctx->cfg.import_issuers != NULL
				    ? "[import] trusted_issuers of %s is read with the CA, and this "
				      "instance was opened without it"
				    : "no [import] trusted_issuers in %s: certificate uploads are off",
				ctx->cfg.path ? ctx->cfg.path : "the configuration");
	if (pem == NULL || len > IMPORT_MAX_PEM)
		return ctx_fail(ctx, CRT_E_CERT_MALFORMED,
				pem == NULL ? "no certificate given"
					    : "larger than 64 KiB: not one client certificate");
	if ((r = import_pem_shape((const char *)pem, len, &why)) != CRT_OK)
		return ctx_fail(ctx, r, "%s", why);
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	out->x = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if (out->x == NULL) {
		r = ctx_fail(ctx, CRT_E_CERT_MALFORMED, "the PEM block is not an X.509 certificate");
		goto fail;
	}
	if ((r = serial_of(out->x, out->serial)) != CRT_OK) {
		r = ctx_fail(ctx, r, "the serial number is not a positive integer of at most 20 "
				     "octets");
		goto fail;
	}
	if ((r = chain_verify(ctx->inst, out->x, &chain_ok, &why)) != CRT_OK) {
		r = ctx_fail(ctx, r, "out of memory");
		goto fail;
	}
	leaf_facts(out->x, chain_ok, &f);
	const char *rule = "";
	if ((r = import_leaf_decide(&f, now, &rule)) != CRT_OK) {
		r = ctx_fail(ctx, r, "certificate %s: %s%s%s%s", out->serial, rule,
			     chain_ok ? "" : " (", chain_ok ? "" : why, chain_ok ? "" : ")");
		goto fail;
	}
	if ((r = csr_key_policy(ctx, X509_get0_pubkey(out->x), X509_get_X509_PUBKEY(out->x))) !=
	    CRT_OK)
		goto fail;
	X509_NAME *sn = X509_get_subject_name(out->x);
	if ((r = name_field(sn, NID_commonName, &out->cn, &out->ncn)) != CRT_OK ||
	    (r = name_field(sn, NID_organizationName, &out->org, &out->norg)) != CRT_OK ||
	    (r = name_field(sn, NID_organizationalUnitName, &out->ou, &out->nou)) != CRT_OK) {
		r = ctx_fail(ctx, r, r == CRT_E_NOMEM ? "out of memory"
						     : "a subject field is not a string");
		goto fail;
	}
	return CRT_OK;
fail:
	import_cert_clear(out);
	return r;
}

crt_status import_make(crt_ctx *ctx, const import_cert *ic, const char *name,
		       const char *token_id, const char *user, const char *reply, int64_t now,
		       crt_cert *c)
{
	crt_status r;

	if ((r = cert_make(ic->x, X509_get0_pubkey(ic->x), "", ic->serial, name, token_id, user,
			   reply, now, c)) != CRT_OK)
		return ctx_fail(ctx, r, "building the certificate row");
	/* cert_make took the CN/O/OU by NID; the rule compared the UTF-8 values */
	free(c->cn);
	free(c->org);
	free(c->ou);
	c->cn = dup_str(ic->cn);
	c->org = dup_str(ic->org);
	c->ou = dup_str(ic->ou);
	free(c->chain_pem);
	c->chain_pem = NULL;
	if ((c->ca = dup_str(CRT_CA_IMPORTED)) == NULL || (ic->cn != NULL && c->cn == NULL) ||
	    (ic->org != NULL && c->org == NULL) || (ic->ou != NULL && c->ou == NULL)) {
		crt_cert_clear(c);
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	}
	return CRT_OK;
}

crt_status import_not_stored(crt_ctx *ctx, const crt_cert *c)
{
	crt_cert have = {0};
	crt_status r;
	int found = 0;

	if ((r = store_cert_get(ctx, c->serial, &have, &found)) != CRT_OK)
		return r;
	if (found && have.cert_sha256 != NULL && c->cert_sha256 != NULL &&
	    strcmp(have.cert_sha256, c->cert_sha256) == 0)
		r = ctx_fail(ctx, CRT_E_CERT_EXISTS, "certificate %s is stored already (%s)",
			     c->serial, have.name ? have.name : "");
	else if (found)
		r = ctx_fail(ctx, CRT_E_SERIAL_CONFLICT,
			     "serial %s is stored already, for another certificate (issuer %s); "
			     "serials are the store's key, so this one cannot be stored",
			     c->serial, have.issuer ? have.issuer : "?");
	/* none of our CAs issued it: a certificate of theirs is stored when issued */
	else if (c->aki != NULL && ca_by_ski(ctx->inst, c->aki) != NULL)
		r = ctx_fail(ctx, CRT_E_CERT_UNTRUSTED,
			     "certificate %s was issued by one of this instance's own CAs: its "
			     "certificates are stored when they are issued, never uploaded",
			     c->serial);
	crt_cert_clear(&have);
	return r;
}

/* The commit of c's import may or may not have happened (the connection
 * was lost during COMMIT): the store says — c stored means it did. */
static crt_status resolve_lost_commit(crt_ctx *ctx, const crt_cert *c)
{
	char lost[sizeof(ctx->detail)];
	crt_status r;

	snprintf(lost, sizeof(lost), "%s", ctx->detail);
	r = import_not_stored(ctx, c);
	if (r == CRT_E_CERT_EXISTS) {
		ctx_clear_detail(ctx);
		return CRT_OK;
	}
	if (r == CRT_OK || r == CRT_E_SERIAL_CONFLICT)
		return ctx_fail(ctx, CRT_E_STORE_UNAVAILABLE,
				"the store was lost while committing the import, and certificate "
				"%s was not stored (%s)",
				c->serial, lost);
	return ctx_fail(ctx, CRT_E_STORE_COMMIT_UNKNOWN,
			"%s; whether certificate %s was stored is not known (reading it back: %s)",
			lost, c->serial, crt_status_name(r));
}

static char *import_detail(const crt_cert *c)
{
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "serial", c->serial);
	jb_str(&j, "subject", c->subject);
	jb_str(&j, "issuer", c->issuer);
	jb_str(&j, "name", c->name);
	jb_str(&j, "owner", c->user);
	jb_str(&j, "sha256", c->cert_sha256);
	return jb_end(&j);
}

crt_status crt_cert_import(crt_ctx *ctx, const crt_import_req *req, crt_cert *out)
{
	import_cert ic = {0};
	crt_cert c = {0};
	store_cert_row row;
	char *detail = NULL;
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (req == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "no import request");
	crt_token_spec spec = {.name = req->name, .owner = req->owner, .reply = req->reply};
	if ((r = token_check_spec(ctx, &spec, 1)) != CRT_OK)
		return r;
	if ((r = import_parse(ctx, req->pem, req->pem_len, now, &ic)) != CRT_OK)
		return r;
	if ((r = import_make(ctx, &ic, req->name, NULL, req->owner, req->reply, now, &c)) !=
	    CRT_OK)
		goto out;
	c.profile = NULL;
	cert_row_of(&c, &row);
	if ((detail = import_detail(&c)) == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	event_subject es = {.token_name = c.name,
			    .owner = c.user,
			    .serial = c.serial,
			    .common_name = c.cn,
			    .subject = c.subject,
			    .user = c.user,
			    .not_after = c.not_after};
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	/* read inside the write transaction; the insert's key makes it final */
	if ((r = import_not_stored(ctx, &c)) != CRT_OK || (r = store_cert_insert(ctx, &row)) != CRT_OK ||
	    (r = audit_write(ctx, req->actor, "cert.import", c.serial, detail)) != CRT_OK ||
	    (r = event_emit(ctx, "certificate.issued", req->actor, &es, NULL, NULL)) != CRT_OK) {
		store_rollback(ctx);
		if (r == CRT_E_EXISTS && /* a concurrent writer stored the serial first */
		    (r = import_not_stored(ctx, &c)) == CRT_OK)
			r = ctx_fail(ctx, CRT_E_SERIAL_CONFLICT, "serial %s was just stored",
				     c.serial);
		goto out;
	}
	if ((r = store_commit(ctx)) == CRT_E_STORE_COMMIT_UNKNOWN)
		r = resolve_lost_commit(ctx, &c);
	if (r != CRT_OK)
		goto out;
	if (out != NULL) {
		*out = c;
		memset(&c, 0, sizeof(c));
		out->status = CRT_CERT_VALID;
	}
out:
	free(detail);
	crt_cert_clear(&c);
	import_cert_clear(&ic);
	return r;
}

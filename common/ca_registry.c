/*
 * ca_registry.c — the CAs of an instance as the adapters see them: their
 * description (crt_ca_get, crt_ca_list), the name check a token makes
 * before it is written, and crt_ca_create, which makes the key and the
 * self-signed certificate of a [ca NAME] section. Loading and selection
 * are ca.c's (ca_load, ca_select).
 */
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

void crt_ca_info_clear(crt_ca_info *ci)
{
	if (ci == NULL)
		return;
	free(ci->subject);
	free(ci->key_type);
	free(ci->serial);
	free(ci->pem);
	free(ci->chain_pem);
	free(ci->fingerprint);
	free(ci->name);
	free(ci->ski);
	free(ci->key_kind);
	memset(ci, 0, sizeof(*ci));
}

static crt_status info_of(const struct ca_entry *e, crt_ca_info *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	BIGNUM *bn = NULL;
	char *hex = NULL;

	memset(out, 0, sizeof(*out));
	out->subject = ca_name_oneline(X509_get_subject_name(e->cert));
	out->key_type = ca_key_type_name(X509_get0_pubkey(e->cert)); /* token keys too */
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(e->cert), NULL);
	hex = bn ? BN_bn2hex(bn) : NULL;
	out->serial = dup_str(hex);
	OPENSSL_free(hex);
	BN_free(bn);
	if (out->serial)
		for (char *p = out->serial; *p; p++)
			*p = (char)(*p >= 'A' && *p <= 'F' ? *p + 32 : *p);
	out->not_before = ca_time_unix(X509_get0_notBefore(e->cert));
	out->not_after = ca_time_unix(X509_get0_notAfter(e->cert));
	out->pem = ca_cert_pem(e->cert);
	out->chain_pem = dup_str(e->chain_pem);
	X509_digest(e->cert, EVP_sha256(), md, &mdlen);
	out->fingerprint = calloc(1, mdlen * 3 + 1);
	if (out->fingerprint)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(out->fingerprint + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X",
			         md[i]);
	out->name = dup_str(e->name);
	out->ski = dup_str(e->ski);
	out->key_kind = dup_str(e->cfssl != NULL ? "cfssl" : e->engine != NULL ? "pkcs11" : "file");
	if (!out->subject || !out->key_type || !out->serial || !out->pem || !out->chain_pem ||
	    !out->fingerprint || !out->name || !out->ski || !out->key_kind) {
		crt_ca_info_clear(out);
		return CRT_E_NOMEM;
	}
	return CRT_OK;
}

crt_status crt_ca_get_named(crt_ctx *ctx, const char *name, crt_ca_info *out)
{
	const crt_instance *inst = ctx->inst;
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if ((r = crt_ca_check_name(ctx, name)) != CRT_OK)
		return r;
	if (name == NULL)
		name = CRT_CA_DEFAULT;
	for (size_t i = 0; i < inst->ncas; i++)
		if (strcmp(inst->cas[i].name, name) == 0)
			return info_of(&inst->cas[i], out);
	return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA is not loaded");
}

crt_status crt_ca_get(crt_ctx *ctx, crt_ca_info *out)
{
	return crt_ca_get_named(ctx, NULL, out);
}

void crt_ca_list_free(crt_ca_info *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		crt_ca_info_clear(&list[i]);
	free(list);
}

crt_status crt_ca_list(crt_ctx *ctx, crt_ca_info **out, size_t *n)
{
	const crt_instance *inst = ctx->inst;
	crt_ca_info *l;
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	if (inst->ncas == 0)
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CAs are not loaded");
	if ((l = calloc(inst->ncas, sizeof(*l))) == NULL)
		return CRT_E_NOMEM;
	for (size_t i = 0; i < inst->ncas; i++)
		if ((r = info_of(&inst->cas[i], &l[i])) != CRT_OK) {
			crt_ca_list_free(l, i);
			return r;
		}
	*out = l;
	*n = inst->ncas;
	return CRT_OK;
}

crt_status crt_ca_check_name(crt_ctx *ctx, const char *name)
{
	if (ca_known(&ctx->inst->cfg, name))
		return CRT_OK;
	return ctx_fail(ctx, CRT_E_CA_UNKNOWN,
	                "no CA named \"%.40s\" (the CAs are [ca] = default and the [ca NAME] "
	                "sections of %s)",
	                name, ctx->inst->cfg.path);
}

/* PEM of a private key, malloc'd (a secret: crt_strfree_secret). */
static char *key_pem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;
	if (b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) &&
	    (n = BIO_get_mem_data(b, &data)) > 0 && (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free_all(b); /* memory BIOs are cleared on free */
	return s;
}

crt_status crt_ca_create(crt_ctx *ctx, const crt_ca_create_opts *o, const char *actor)
{
	const crt_ca_config *cc = NULL;
	EVP_PKEY *key = NULL;
	void *engine = NULL;
	X509 *cert = NULL;
	char *kpem = NULL, *cpem = NULL, *detail = NULL, subject[128];
	char why[sizeof(ctx->detail)];
	int token_key = 0, wrote_key = 0, wrote_cert = 0;
	crt_instance *fresh = NULL, *held = NULL;
	crt_status r;
	jbuf j;

	ctx_clear_detail(ctx);
	if (o == NULL || o->name == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "a CA name is required");
	if (strcmp(o->name, CRT_CA_DEFAULT) == 0)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT,
		                "the default CA is made by crtoken-admin init (or replaced by ca "
		                "import)");
	for (size_t i = 0; i < ctx->inst->cfg.ncas; i++)
		if (strcmp(ctx->inst->cfg.cas[i].name, o->name) == 0)
			cc = &ctx->inst->cfg.cas[i];
	if (cc == NULL)
		return crt_ca_check_name(ctx, o->name);
	if (cc->type != NULL && strcmp(cc->type, "cfssl") == 0)
		return ctx_fail(ctx, CRT_E_CA_INVALID,
		                "[ca %s] type = cfssl: the cfssl server makes and holds this CA; "
		                "put its certificate in %s",
		                cc->name, cc->cert);
	held = crt_instance_ref(ctx->inst); /* cc lives in its config */
	const char *type = o->key_type ? o->key_type : "ec-p256";
	int in_token = ca_is_pkcs11_uri(cc->key);
	if (strcmp(type, "ec-p256") != 0 &&
	    (in_token || (strcmp(type, "ec-p384") != 0 && strcmp(type, "rsa-3072") != 0)))
		return ctx_fail(ctx, CRT_E_KEY_TYPE, "%s%s",
		                in_token ? "a CA key made in a PKCS#11 token is ec-p256"
		                         : "use ec-p256, ec-p384 or rsa-3072 for the CA key, not ",
		                in_token ? "" : type);
	if (access(cc->cert, F_OK) == 0 || (!in_token && access(cc->key, F_OK) == 0)) {
		r = ctx_fail(ctx, CRT_E_EXISTS, "[ca %s]: %s already exists", cc->name,
		             access(cc->cert, F_OK) == 0 ? cc->cert : cc->key);
		goto out;
	}
	if (in_token && cc->pin_file == NULL) {
		r = ctx_fail(ctx, CRT_E_CONFIG,
		             "[ca %s] key is a pkcs11: URI: the section needs pin_file", cc->name);
		goto out;
	}
	snprintf(subject, sizeof(subject), "/CN=crtoken CA %s", cc->name);
	if (in_token) {
		if ((r = ca_pkcs11_keygen(cc->key, cc->module, cc->pin_file, why, sizeof(why))) !=
		    CRT_OK) {
			r = ctx_fail(ctx, r, "%s", why);
			goto out;
		}
		token_key = 1;
		if ((r = ca_pkcs11_open(cc->key, cc->module, cc->pin_file, &key, &engine, why,
		                        sizeof(why))) != CRT_OK) {
			r = ctx_fail(ctx, r, "%s", why);
			goto out;
		}
	} else if ((r = ca_keygen(type, &key)) != CRT_OK) {
		goto out;
	}
	if ((r = ca_self_signed(key, o->subject ? o->subject : subject,
	                        o->days > 0 ? o->days : 3650, &cert)) != CRT_OK) {
		r = r == CRT_E_INVALID_ARGUMENT
		        ? ctx_fail(ctx, r, "CA subject \"%.100s\": use the form /CN=name/O=org",
		                   o->subject)
		        : ctx_fail(ctx, r, "the CA certificate could not be signed");
		goto out;
	}
	if ((cpem = ca_cert_pem(cert)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if (!in_token) {
		if ((kpem = key_pem(key)) == NULL) {
			r = CRT_E_NOMEM;
			goto out;
		}
		if ((r = crt_file_write(cc->key, kpem, strlen(kpem), 0600, 0, why, sizeof(why))) !=
		    CRT_OK) {
			r = ctx_fail(ctx, r, "%s", why);
			goto out;
		}
		wrote_key = 1;
	}
	if ((r = crt_file_write(cc->cert, cpem, strlen(cpem), 0644, 0, why, sizeof(why))) !=
	    CRT_OK) {
		r = ctx_fail(ctx, r, "%s", why);
		goto out;
	}
	wrote_cert = 1;
	/* Checked like any CA at open: key match, key identifier. */
	if ((r = ca_check_named(ctx, cc)) != CRT_OK)
		goto out;
	jb_begin(&j);
	jb_str(&j, "name", cc->name);
	jb_str(&j, "subject", o->subject ? o->subject : subject);
	jb_str(&j, "keyKind", in_token ? "pkcs11" : "file");
	if (in_token)
		jb_str(&j, "caKey", cc->key);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = audit_write(ctx, actor, "ca.create", cc->name, detail)) != CRT_OK) {
		store_rollback(ctx);
		goto out;
	}
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	/* This session moves onto an instance that loaded every CA, the new
	 * one included — when every other [ca NAME] has its CA too (another
	 * may still wait for its ca create: then the session stays as it was). */
	if (instance_open(ctx->cfg.path, ctx->inst->flags & ~(CRT_OPEN_NO_CA | CRT_OPEN_CREATE),
	                  ctx->inst, &fresh, why, sizeof(why)) == CRT_OK)
		session_rebind(ctx, fresh);
out:
	if (r != CRT_OK && r != CRT_E_STORE_COMMIT_UNKNOWN) {
		if (wrote_cert)
			unlink(cc->cert);
		if (wrote_key)
			unlink(cc->key);
		if (token_key)
			ca_pkcs11_destroy(cc->key, cc->module, cc->pin_file);
	}
	free(detail);
	crt_strfree_secret(kpem);
	free(cpem);
	X509_free(cert);
	EVP_PKEY_free(key);
	ca_pkcs11_release(engine);
	crt_instance_unref(held);
	return r;
}

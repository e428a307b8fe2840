/*
 * ca.c — the local CA: loading (with the key-permission rule), key
 * generation, the self-signed CA profile, import of an existing CA (e.g. an
 * intermediate with its chain) and naming helpers shared with cert.c.
 */
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ca_cfssl.h"
#include "internal.h"

char *ca_name_oneline(const X509_NAME *name)
{
	/* Same form FreeRADIUS puts in TLS-Client-Cert-Issuer/Subject. */
	char *s = X509_NAME_oneline(name, NULL, 0);
	char *copy = dup_str(s);
	OPENSSL_free(s);
	return copy;
}

char *ca_key_type_name(const EVP_PKEY *pk)
{
	char buf[80], group[64];
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
		snprintf(buf, sizeof(buf), "rsa-%d", EVP_PKEY_get_bits(pk));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(pk, OSSL_PKEY_PARAM_GROUP_NAME, group,
						    sizeof(group), &glen))
			snprintf(group, sizeof(group), "unknown");
		if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
			snprintf(buf, sizeof(buf), "ec-p256");
		else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
			snprintf(buf, sizeof(buf), "ec-p384");
		else if (strcmp(group, "secp521r1") == 0 || strcmp(group, "P-521") == 0)
			snprintf(buf, sizeof(buf), "ec-p521");
		else
			snprintf(buf, sizeof(buf), "ec-%s", group);
		break;
	case EVP_PKEY_ED25519:
		snprintf(buf, sizeof(buf), "ed25519");
		break;
	case EVP_PKEY_ED448:
		snprintf(buf, sizeof(buf), "ed448");
		break;
	default:
		snprintf(buf, sizeof(buf), "unknown");
	}
	return strdup(buf);
}

const EVP_MD *ca_sign_digest(const EVP_PKEY *pk)
{
	int id = EVP_PKEY_get_base_id(pk);
	if (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448)
		return NULL;
	if (id == EVP_PKEY_EC && EVP_PKEY_get_bits(pk) > 256)
		return EVP_sha384();
	return EVP_sha256();
}

crt_status ca_parse_subject(const char *s, X509_NAME **out)
{
	X509_NAME *name = X509_NAME_new();
	char *copy = dup_str(s), *p, *save = NULL;
	crt_status r = CRT_E_INVALID_ARGUMENT;
	int n = 0;

	if (name == NULL || copy == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if (copy[0] != '/')
		goto out;
	for (p = strtok_r(copy, "/", &save); p != NULL; p = strtok_r(NULL, "/", &save)) {
		char *eq = strchr(p, '=');
		if (eq == NULL || eq == p || eq[1] == '\0')
			goto out;
		*eq = '\0';
		if (field_check(eq + 1, 64) != CRT_OK)
			goto out;
		if (!X509_NAME_add_entry_by_txt(name, p, MBSTRING_UTF8,
						(const unsigned char *)eq + 1, -1, -1, 0))
			goto out;
		n++;
	}
	if (n == 0)
		goto out;
	*out = name;
	name = NULL;
	r = CRT_OK;
out:
	X509_NAME_free(name);
	free(copy);
	return r;
}

/* Add extension nid=value (OpenSSL config syntax) to x with issuer ctx. */
crt_status ca_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	if (ext == NULL)
		return CRT_E_INTERNAL;
	int ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? CRT_OK : CRT_E_INTERNAL;
}

crt_status ca_random_serial(ASN1_INTEGER **out, char hex[72])
{
	unsigned char b[16];
	static const char digits[] = "0123456789abcdef";
	BIGNUM *bn = NULL;
	crt_status r;

	if ((r = random_bytes(b, sizeof(b))) != CRT_OK)
		return r;
	/* Positive, and exactly 16 magnitude bytes (no sign padding, no leading
	 * zero) so the hex form FreeRADIUS prints is always 32 digits. */
	b[0] &= 0x7f;
	if (b[0] == 0)
		b[0] = 0x01;
	for (size_t i = 0; i < sizeof(b); i++) {
		hex[2 * i] = digits[b[i] >> 4];
		hex[2 * i + 1] = digits[b[i] & 15];
	}
	hex[32] = '\0';
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) == NULL)
		return CRT_E_NOMEM;
	*out = BN_to_ASN1_INTEGER(bn, NULL);
	BN_free(bn);
	return *out ? CRT_OK : CRT_E_NOMEM;
}

crt_status ca_self_signed(EVP_PKEY *key, const char *subject, int days, X509 **out)
{
	X509 *x = X509_new();
	X509_NAME *name = NULL;
	ASN1_INTEGER *serial = NULL;
	X509V3_CTX v3;
	char hex[72];
	crt_status r = CRT_E_NOMEM;

	*out = NULL;
	if (x == NULL)
		goto out;
	if ((r = ca_parse_subject(subject ? subject : "/CN=crtoken CA", &name)) != CRT_OK)
		goto out;
	if ((r = ca_random_serial(&serial, hex)) != CRT_OK)
		goto out;
	r = CRT_E_INTERNAL;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, serial) ||
	    !X509_set_subject_name(x, name) || !X509_set_issuer_name(x, name) ||
	    !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
	    !X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400) || !X509_set_pubkey(x, key))
		goto out;
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((r = ca_add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE")) != CRT_OK ||
	    (r = ca_add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign")) != CRT_OK ||
	    (r = ca_add_ext(x, &v3, NID_subject_key_identifier, "hash")) != CRT_OK ||
	    (r = ca_add_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) != CRT_OK)
		goto out;
	if (X509_sign(x, key, ca_sign_digest(key)) <= 0) {
		r = CRT_E_INTERNAL;
		goto out;
	}
	*out = x;
	x = NULL;
	r = CRT_OK;
out:
	X509_free(x);
	X509_NAME_free(name);
	ASN1_INTEGER_free(serial);
	return r;
}

char *ca_cert_pem(X509 *x)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *s = NULL;
	long n;
	if (b == NULL)
		return NULL;
	if (PEM_write_bio_X509(b, x) && (n = BIO_get_mem_data(b, &data)) > 0 &&
	    (s = malloc((size_t)n + 1)) != NULL) {
		memcpy(s, data, (size_t)n);
		s[n] = '\0';
	}
	BIO_free(b);
	return s;
}

/* Read every certificate in a PEM file into a new stack (empty if absent). */
static crt_status read_chain(crt_ctx *ctx, const char *path, STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	char why[600], *pem = NULL;
	size_t len = 0;
	crt_status r;
	BIO *b;
	X509 *x;

	if (sk == NULL)
		return CRT_E_NOMEM;
	*out = sk;
	if (path == NULL || access(path, F_OK) != 0)
		return CRT_OK;
	if ((r = read_trusted(path, 1 << 20, CRT_TRUST_FILE, &pem, &len, why, sizeof(why))) !=
	    CRT_OK)
		return ctx_fail(ctx, r, "%s", why);
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		free(pem);
		return CRT_E_NOMEM;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(sk, x);
	ERR_clear_error();
	BIO_free(b);
	free(pem);
	return CRT_OK;
}

/* The PEM text of path, read through a checked descriptor (see read_trusted). */
static crt_status read_pem(crt_ctx *ctx, const char *path, enum crt_trust kind, const char *what,
			   char **pem, size_t *len)
{
	char why[600];
	crt_status r = read_trusted(path, 1 << 20, kind, pem, len, why, sizeof(why));
	if (r == CRT_E_UNSAFE_PERMISSIONS)
		return ctx_fail(ctx, r, "%s: %s", what, why);
	if (r != CRT_OK)
		return ctx_fail(ctx, r == CRT_E_NOMEM ? r : CRT_E_CA_MISSING, "%s: cannot open: %s",
				what, why);
	return CRT_OK;
}

/* Load and cross-check a CA triple; the caller owns the results. */
static crt_status load_triple(crt_ctx *ctx, const char *cert_file, const char *key_file,
			      const char *chain_file, const char *module, const char *pin_file,
			      X509 **cert, EVP_PKEY **key, STACK_OF(X509) **chain, void **engine)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *b = NULL;
	crt_status r;

	*cert = NULL;
	*key = NULL;
	*chain = NULL;
	if (engine != NULL)
		*engine = NULL;
	if ((r = read_pem(ctx, cert_file, CRT_TRUST_FILE, "CA certificate", &pem, &len)) != CRT_OK)
		return r;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	*cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	b = NULL;
	free(pem);
	pem = NULL;
	if (*cert == NULL) {
		r = ctx_fail(ctx, CRT_E_CA_INVALID, "%s: not a PEM certificate", cert_file);
		goto out;
	}
	if (X509_check_ca(*cert) < 1) {
		r = ctx_fail(ctx, CRT_E_CA_INVALID, "%s: not a CA certificate (no CA:TRUE)",
			     cert_file);
		goto out;
	}
	if (key_file == NULL) { /* a remote CA: the key is the remote's */
		r = read_chain(ctx, chain_file, chain);
		goto out;
	}
	if (engine != NULL && ca_is_pkcs11_uri(key_file)) {
		/* The key stays in the token: *key is the engine's handle. The
		 * engine's keys may not support X509_check_private_key: compare
		 * the public keys instead. */
		char why[sizeof(ctx->detail)];
		if ((r = ca_pkcs11_open(key_file, module, pin_file, key, engine, why,
					sizeof(why))) != CRT_OK) {
			r = ctx_fail(ctx, r, "%s", why);
			goto out;
		}
		if (!ca_pubkey_eq(*cert, *key)) {
			r = ctx_fail(ctx, CRT_E_CA_KEY_MISMATCH,
				     "the token key %s does not belong to %s", key_file, cert_file);
			goto out;
		}
		if ((r = read_chain(ctx, chain_file, chain)) != CRT_OK)
			goto out;
		r = CRT_OK;
		goto out;
	}
	if ((r = read_pem(ctx, key_file, CRT_TRUST_SECRET, "CA key", &pem, &len)) != CRT_OK)
		goto out;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (*key == NULL) {
		r = ctx_fail(ctx, CRT_E_CA_INVALID, "%s: not an unencrypted PEM private key",
			     key_file);
		goto out;
	}
	if (X509_check_private_key(*cert, *key) != 1) {
		r = ctx_fail(ctx, CRT_E_CA_KEY_MISMATCH, "%s does not belong to %s", key_file,
			     cert_file);
		goto out;
	}
	if ((r = read_chain(ctx, chain_file, chain)) != CRT_OK)
		goto out;
	r = CRT_OK;
out:
	BIO_free(b);
	if (pem != NULL)
		crt_freezero(pem, len);
	ERR_clear_error();
	return r;
}

/*
 * What a CA crtoken signs with must meet, beyond load_triple's checks: a CA
 * by basicConstraints CA:TRUE, keyUsage (if present) with keyCertSign and
 * cRLSign, a Subject Key Identifier (rlm_crtoken admits a client
 * certificate only when its Authority Key Identifier is the CA's SKI), not
 * expired, and a key that passes the client key policy (csr_key_policy).
 * Applied where a CA enters an instance: crt_ca_import and crt_init.
 */
static crt_status ca_policy(crt_ctx *ctx, X509 *cert, const char *cert_file)
{
	uint32_t flags = X509_get_extension_flags(cert), ku = X509_get_key_usage(cert);
	EVP_PKEY *pk = X509_get0_pubkey(cert);
	crt_status r;

	if (!(flags & EXFLAG_BCONS) || !(flags & EXFLAG_CA))
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"%s: not a CA certificate (no basicConstraints CA:TRUE)",
				cert_file);
	if ((flags & EXFLAG_KUSAGE) && (!(ku & KU_KEY_CERT_SIGN) || !(ku & KU_CRL_SIGN)))
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"%s: its keyUsage lacks %s; a CA for crtoken signs certificates "
				"and CRLs (keyCertSign, cRLSign)",
				cert_file, !(ku & KU_KEY_CERT_SIGN) ? "keyCertSign" : "cRLSign");
	if (X509_get0_subject_key_id(cert) == NULL)
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"%s: no Subject Key Identifier; RADIUS admission matches a client "
				"certificate's Authority Key Identifier to it (reissue the CA with "
				"subjectKeyIdentifier=hash)",
				cert_file);
	if (ca_time_unix(X509_get0_notAfter(cert)) <= (int64_t)time(NULL))
		return ctx_fail(ctx, CRT_E_CA_INVALID, "%s: the CA certificate has expired",
				cert_file);
	if (pk == NULL)
		return ctx_fail(ctx, CRT_E_CA_INVALID, "%s: its public key cannot be read",
				cert_file);
	if ((r = csr_key_policy(ctx, pk, X509_get_X509_PUBKEY(cert))) != CRT_OK) {
		if (r == CRT_E_NOMEM)
			return r;
		char why[sizeof(ctx->detail)];
		snprintf(why, sizeof(why), "%s", ctx->detail);
		return ctx_fail(ctx, CRT_E_CA_INVALID, "%s: the CA key is refused: %s", cert_file,
				why);
	}
	return CRT_OK;
}

static void entry_free(struct ca_entry *e)
{
	X509_free(e->cert);
	EVP_PKEY_free(e->key);
	ca_pkcs11_release(e->engine); /* after the key it holds */
	ca_cfssl_free(e->cfssl);
	sk_X509_pop_free(e->chain, X509_free);
	free(e->chain_pem);
	free(e->issuer);
	memset(e, 0, sizeof(*e));
}

void ca_free(crt_instance *inst)
{
	for (size_t i = 0; i < inst->ncas; i++)
		entry_free(&inst->cas[i]);
	free(inst->cas);
	free(inst->cas_pem);
	inst->cas = NULL;
	inst->ncas = 0;
	inst->cas_pem = NULL;
}

/* Concatenate the PEM of x and of every certificate of sk, malloc'd. */
static char *chain_pem_of(X509 *x, STACK_OF(X509) *sk)
{
	size_t len = 0;
	char *parts[16], *out;
	int np = 0;
	parts[np++] = ca_cert_pem(x);
	for (int i = 0; i < sk_X509_num(sk) && np < 16; i++)
		parts[np++] = ca_cert_pem(sk_X509_value(sk, i));
	for (int i = 0; i < np; i++)
		len += parts[i] ? strlen(parts[i]) : 0;
	out = calloc(1, len + 1);
	for (int i = 0; i < np; i++) {
		if (out && parts[i])
			strcat(out, parts[i]);
		else if (parts[i] == NULL) {
			free(out);
			out = NULL;
		}
		free(parts[i]);
	}
	return out;
}

/* Load one CA into e (whose name and file views are set). */
static crt_status entry_load(crt_ctx *ctx, struct ca_entry *e, int named)
{
	const ASN1_OCTET_STRING *ski;
	unsigned int klen = 0;
	/* type = cfssl: the key is the remote's. */
	int cfssl = e->type != NULL && strcmp(e->type, "cfssl") == 0;
	crt_status r = load_triple(ctx, e->cert_file, cfssl ? NULL : e->key_file, e->chain_file,
				   e->module, e->pin_file, &e->cert, &e->key, &e->chain, &e->engine);
	/* crt_init: the CA (imported or made) enters the instance here. */
	if (r == CRT_OK && (ctx->flags & CRT_OPEN_CREATE) && !named)
		r = ca_policy(ctx, e->cert, e->cert_file);
	if (r == CRT_OK && cfssl) {
		char why[sizeof(ctx->detail)];
		if ((r = ca_cfssl_open(&e->remote, e->cert, &e->cfssl, why, sizeof(why))) != CRT_OK)
			r = ctx_fail(ctx, r, "%s", why);
	}
	if (r != CRT_OK)
		return r;
	ski = X509_get0_subject_key_id(e->cert);
	if (ski != NULL && (size_t)ski->length * 2 < sizeof(e->ski))
		for (int i = 0; i < ski->length; i++)
			snprintf(e->ski + 2 * i, 3, "%02x", ski->data[i]);
	else if (named)
		/* Admission and OCSP tell the CAs of an instance apart by key
		 * identifiers: a second CA must carry one. */
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"[ca %s] %s: no Subject Key Identifier; RADIUS admission tells the "
				"CAs apart by it (reissue the CA with subjectKeyIdentifier=hash)",
				e->name, e->cert_file);
	if (!X509_pubkey_digest(e->cert, EVP_sha1(), e->key_hash, &klen) || klen != 20)
		return CRT_E_INTERNAL;
	e->issuer = ca_name_oneline(X509_get_subject_name(e->cert));
	e->chain_pem = chain_pem_of(e->cert, e->chain);
	if (e->issuer == NULL || e->chain_pem == NULL)
		return CRT_E_NOMEM;
	return CRT_OK;
}

crt_status ca_load(crt_ctx *ctx)
{
	crt_instance *inst = ctx->inst;
	const crt_config *c = &inst->cfg;
	size_t n = 1 + c->ncas, len = 0;
	struct ca_entry *cas = calloc(n, sizeof(*cas));
	crt_status r = CRT_OK;

	if (cas == NULL)
		return CRT_E_NOMEM;
	cas[0] = (struct ca_entry){.name = CRT_CA_DEFAULT,
				   .cert_file = c->ca_cert,
				   .key_file = c->ca_key,
				   .chain_file = c->ca_chain,
				   .pin_file = c->ca_pin_file,
				   .module = c->ca_module,
				   .crl_file = c->crl_file,
				   .type = c->ca_type,
				   .remote = {.url = c->ca_url,
					      .auth_key_file = c->ca_auth_key_file,
					      .profile = c->ca_profile,
					      .label = c->ca_label,
					      .tls_ca_file = c->ca_tls_ca_file,
					      .timeout_ms = c->ca_timeout_ms}};
	for (size_t i = 0; i < c->ncas; i++)
		cas[i + 1] = (struct ca_entry){.name = c->cas[i].name,
					       .cert_file = c->cas[i].cert,
					       .key_file = c->cas[i].key,
					       .chain_file = c->cas[i].chain,
					       .pin_file = c->cas[i].pin_file,
					       .module = c->cas[i].module,
					       .crl_file = c->cas[i].crl_file,
					       .type = c->cas[i].type,
					       .remote = {.url = c->cas[i].url,
							  .auth_key_file = c->cas[i].auth_key_file,
							  .profile = c->cas[i].profile,
							  .label = c->cas[i].label,
							  .tls_ca_file = c->cas[i].tls_ca_file,
							  .timeout_ms = c->cas[i].timeout_ms}};
	for (size_t i = 0; i < n && r == CRT_OK; i++) {
		if ((r = entry_load(ctx, &cas[i], i > 0)) != CRT_OK && i > 0 &&
		    strncmp(ctx->detail, "[ca ", 4) != 0) {
			char why[sizeof(ctx->detail)];
			snprintf(why, sizeof(why), "%s", ctx->detail);
			ctx_fail(ctx, r, "[ca %s] %s", cas[i].name, why);
		}
		for (size_t k = 0; r == CRT_OK && k < i; k++)
			if (cas[i].ski[0] != '\0' && strcmp(cas[i].ski, cas[k].ski) == 0)
				r = ctx_fail(ctx, CRT_E_CA_INVALID,
					     "[ca %s] has the key identifier of CA %s: each CA of "
					     "an instance needs its own key",
					     cas[i].name, cas[k].name);
	}
	if (r != CRT_OK) {
		for (size_t i = 0; i < n; i++)
			entry_free(&cas[i]);
		free(cas);
		return r;
	}
	ca_free(inst);
	inst->cas = cas;
	inst->ncas = n;
	for (size_t i = 0; i < n; i++)
		len += strlen(cas[i].chain_pem);
	if ((inst->cas_pem = calloc(1, len + 1)) != NULL)
		for (size_t i = 0; i < n; i++)
			strcat(inst->cas_pem, cas[i].chain_pem);
	session_rebind(ctx, crt_instance_ref(inst)); /* refresh the views */
	return inst->cas_pem == NULL ? CRT_E_NOMEM : CRT_OK;
}

crt_status ca_check_named(crt_ctx *ctx, const crt_ca_config *cc)
{
	struct ca_entry e = {.name = cc->name,
			     .cert_file = cc->cert,
			     .key_file = cc->key,
			     .chain_file = cc->chain,
			     .pin_file = cc->pin_file,
			     .module = cc->module,
			     .crl_file = cc->crl_file,
			     .type = cc->type};
	crt_status r = entry_load(ctx, &e, 1);
	entry_free(&e);
	return r;
}

int ca_known(const crt_config *cfg, const char *name)
{
	if (name == NULL || strcmp(name, CRT_CA_DEFAULT) == 0)
		return 1;
	for (size_t i = 0; i < cfg->ncas; i++)
		if (strcmp(cfg->cas[i].name, name) == 0)
			return 1;
	return 0;
}

static void select_entry(crt_ctx *ctx, const struct ca_entry *e, const char *name)
{
	ctx->ca = e;
	ctx->ca_name = name;
	ctx->ca_cert = e ? e->cert : NULL;
	ctx->ca_key = e ? e->key : NULL;
	ctx->ca_chain = e ? e->chain : NULL;
	ctx->ca_chain_pem = e ? e->chain_pem : NULL;
	ctx->ca_issuer = e ? e->issuer : NULL;
}

void ca_select_default(crt_ctx *ctx)
{
	const crt_instance *inst = ctx->inst;
	select_entry(ctx, inst != NULL && inst->ncas > 0 ? &inst->cas[0] : NULL, CRT_CA_DEFAULT);
}

crt_status ca_select(crt_ctx *ctx, const char *name)
{
	const crt_instance *inst = ctx->inst;
	if (name == NULL || strcmp(name, CRT_CA_DEFAULT) == 0) {
		ca_select_default(ctx);
		return CRT_OK;
	}
	if (!ca_known(&inst->cfg, name))
		return ctx_fail(ctx, CRT_E_CA_UNKNOWN,
				"no CA named \"%.40s\" (the CAs are [ca] = default and the [ca "
				"NAME] sections of %s)",
				name, inst->cfg.path);
	for (size_t i = 0; i < inst->ncas; i++)
		if (strcmp(inst->cas[i].name, name) == 0) {
			select_entry(ctx, &inst->cas[i], inst->cas[i].name);
			return CRT_OK;
		}
	for (size_t i = 0; i < inst->cfg.ncas; i++)
		if (strcmp(inst->cfg.cas[i].name, name) == 0)
			select_entry(ctx, NULL, inst->cfg.cas[i].name);
	return CRT_OK;
}

const struct ca_entry *ca_by_ski(const crt_instance *inst, const char *ski)
{
	for (size_t i = 0; ski != NULL && i < inst->ncas; i++)
		if (inst->cas[i].ski[0] != '\0' && strcmp(inst->cas[i].ski, ski) == 0)
			return &inst->cas[i];
	return NULL;
}

static int64_t asn1_time_unix(const ASN1_TIME *t)
{
	struct tm tm;
	if (!ASN1_TIME_to_tm(t, &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

int64_t ca_time_unix(const ASN1_TIME *t)
{
	return asn1_time_unix(t);
}

/* Copy src to dst atomically with mode. */
static crt_status copy_file(crt_ctx *ctx, const char *src, const char *dst, unsigned mode)
{
	char *data = NULL;
	size_t len = 0;
	crt_status r = read_file(src, 1 << 20, &data, &len);
	if (r != CRT_OK)
		return ctx_fail(ctx, CRT_E_IO, "%s: cannot read", src);
	r = write_file(dst, data, len, mode);
	crt_freezero(data, len);
	return r == CRT_OK ? CRT_OK : ctx_fail(ctx, r, "%s: cannot write", dst);
}

crt_status crt_ca_import(crt_ctx *ctx, const char *cert_file, const char *key_file,
			 const char *chain_file, const char *actor)
{
	X509 *cert = NULL;
	EVP_PKEY *key = NULL;
	STACK_OF(X509) *chain = NULL;
	crt_status r;
	jbuf j;
	char *detail = NULL;

	ctx_clear_detail(ctx);
	if (cert_file == NULL || key_file == NULL)
		return ctx_fail(ctx, CRT_E_INVALID_ARGUMENT, "certificate and key are required");
	if (ctx->cfg.ca_type != NULL && strcmp(ctx->cfg.ca_type, "cfssl") == 0)
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"[ca] type = cfssl: the cfssl server holds this CA's key; change "
				"[ca] type to import a local CA");
	if (ca_is_pkcs11_uri(ctx->cfg.ca_key))
		return ctx_fail(ctx, CRT_E_CA_INVALID,
				"[ca] key is the PKCS#11 token key %s: importing a key file would "
				"take the CA out of the token; make a new instance instead",
				ctx->cfg.ca_key);
	if ((r = load_triple(ctx, cert_file, key_file, chain_file, NULL, NULL, &cert, &key, &chain,
			     NULL)) !=
		    CRT_OK ||
	    (r = ca_policy(ctx, cert, cert_file)) != CRT_OK)
		goto out;
	if (chain_file != NULL && sk_X509_num(chain) == 0) {
		r = ctx_fail(ctx, CRT_E_CA_INVALID, "%s: no certificates found", chain_file);
		goto out;
	}
	if ((r = copy_file(ctx, key_file, ctx->cfg.ca_key, 0600)) != CRT_OK ||
	    (r = copy_file(ctx, cert_file, ctx->cfg.ca_cert, 0644)) != CRT_OK)
		goto out;
	if (chain_file != NULL)
		r = copy_file(ctx, chain_file, ctx->cfg.ca_chain, 0644);
	else if (access(ctx->cfg.ca_chain, F_OK) == 0 && unlink(ctx->cfg.ca_chain) != 0)
		r = ctx_fail(ctx, CRT_E_IO, "%s: cannot remove the old chain", ctx->cfg.ca_chain);
	if (r != CRT_OK)
		goto out;
	/* The instance is immutable and may be shared: this session moves onto
	 * a new one that loaded the imported CA (sharing the store's writer
	 * state); other sessions keep the CA they had until they reopen. */
	char why[sizeof(ctx->detail)];
	crt_instance *fresh = NULL;
	if ((r = instance_open(ctx->cfg.path, ctx->inst->flags & ~(CRT_OPEN_NO_CA | CRT_OPEN_CREATE),
			       ctx->inst, &fresh, why, sizeof(why))) != CRT_OK) {
		r = ctx_fail(ctx, r, "%s", why);
		goto out;
	}
	session_rebind(ctx, fresh);
	jb_begin(&j);
	jb_str(&j, "subject", ctx->ca_issuer);
	jb_int(&j, "chainLength", sk_X509_num(chain));
	detail = jb_end(&j);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		goto out;
	if ((r = audit_write(ctx, actor, "ca.import", ctx->ca_issuer, detail)) != CRT_OK) {
		store_rollback(ctx);
		goto out;
	}
	r = store_commit(ctx);
out:
	free(detail);
	X509_free(cert);
	EVP_PKEY_free(key);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

/*
 * cert.c — issued client certificates: the signing profile, the
 * certificates table (insert, get, list, revoke), serial normalisation and
 * the admission rule shared by rlm_crtoken and the admin CLI.
 *
 * The admission decision is the pure rule of rules/admit.c;
 * crt_cert_authorize looks the row up through the port and applies it.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ca_cfssl.h"
#include "events.h"
#include "internal.h"
#include "rules/admit.h"
#include "rules/paging.h"
#include "rules/profile.h"
#include "rules/san.h"
#include "rules/staleness.h"
#include "rules/seen.h"
#include "x509_ids.h"

/* ------------------------------------------------------------ profile */

static crt_status add_name_entry(X509_NAME *n, const char *field, const char *v)
{
	if (v == NULL || *v == '\0')
		return CRT_OK;
	return X509_NAME_add_entry_by_txt(n, field, MBSTRING_UTF8, (const unsigned char *)v, -1,
					  -1, 0)
		       ? CRT_OK
		       : CRT_E_FIELD_INVALID;
}

/* Copy the CSR's SubjectPublicKeyInfo into x as it is (algorithm, parameters,
 * key bits). X509_set_pubkey would re-encode the key through OpenSSL 3's
 * encoder framework, which costs more than the signature itself. */
static int copy_spki(X509 *x, const crt_csr *csr)
{
	const ASN1_OBJECT *aobj;
	int ptype;
	const void *pval;
	void *pv = NULL;
	unsigned char *penc;
	int len = csr->key_bits->length;

	X509_ALGOR_get0(&aobj, &ptype, &pval, csr->key_alg);
	if (ptype == V_ASN1_OBJECT)
		pv = OBJ_dup(pval);
	else if (ptype == V_ASN1_SEQUENCE)
		pv = ASN1_STRING_dup(pval);
	else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF)
		return 0;
	if ((ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) && pv == NULL)
		return 0;
	penc = OPENSSL_memdup(csr->key_bits->data, (size_t)(len > 0 ? len : 1));
	if (penc == NULL ||
	    !X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_dup(aobj), ptype, pv, penc, len)) {
		OPENSSL_free(penc);
		if (ptype == V_ASN1_OBJECT)
			ASN1_OBJECT_free(pv);
		else
			ASN1_STRING_free(pv);
		return 0;
	}
	return 1;
}

crt_status cert_validity(crt_ctx *ctx, int days, int64_t now, int64_t *not_before,
			 int64_t *not_after)
{
	int64_t ca_end;

	if (ctx->ca_key == NULL || ctx->ca_cert == NULL)
		return ctx_fail(ctx, CRT_E_CA_MISSING, "the CA key is not loaded");
	ca_end = ca_time_unix(X509_get0_notAfter(ctx->ca_cert));
	if (ca_end <= now)
		return ctx_fail(ctx, CRT_E_CA_EXPIRED, "the CA certificate expired");
	*not_before = now - ctx->cfg.clock_skew_seconds;
	*not_after = now + (int64_t)days * 86400;
	if (*not_after > ca_end) /* never outlive the CA: clamped to its end */
		*not_after = ca_end;
	return CRT_OK;
}

crt_status cert_shape_for(crt_ctx *ctx, const char *profile, int asked, cert_shape *out)
{
	const crt_cert_profile *p = crt_cert_profile_find(&ctx->cfg, profile);
	const char *why;

	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return ctx_fail(ctx, CRT_E_PROFILE_UNKNOWN,
				"certificate profile \"%.64s\" is no longer in %s", profile,
				ctx->cfg.path ? ctx->cfg.path : "the configuration");
	if (certprof_valid_days(p, asked, &out->days, &why) != CRT_OK)
		return ctx_fail(ctx, CRT_E_VALIDITY, "%s (profile %s: %d days at most)", why,
				p->name, p->max_days);
	out->profile = p;
	return CRT_OK;
}

/* Append "kind=value" to the '\n'-joined *text. 0, or -1 out of memory. */
static int append_san(char **text, const char *kind, const char *value)
{
	size_t old = *text ? strlen(*text) : 0;
	char *n = realloc(*text, old + strlen(kind) + strlen(value) + 3);
	if (n == NULL)
		return -1;
	snprintf(n + old, strlen(kind) + strlen(value) + 3, "%s%s=%s", old ? "\n" : "", kind,
		 value);
	*text = n;
	return 0;
}

crt_status cert_shape_of_token(crt_ctx *ctx, const crt_token *t, const char *cn,
			       const char *org, const char *ou, cert_shape *out)
{
	const crt_cert_profile *p;
	san_vars v = {.owner = t->owner, .cn = cn, .name = t->name, .org = org, .ou = ou};
	char err[400], *text = NULL;
	const char *why;
	crt_status r;

	if ((r = cert_shape_for(ctx, t->profile, t->valid_days, out)) != CRT_OK)
		return r;
	p = out->profile;
	const char *tmpl[SAN_KIND_COUNT] = {p->san_email, p->san_upn, p->san_dns, p->san_uri};
	if (t->san != NULL && *t->san != '\0' && (text = strdup(t->san)) == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	/* The profile's template of a kind the token gives no value of. */
	for (int k = 0; k < SAN_KIND_COUNT; k++) {
		if (tmpl[k] == NULL || san_lines_have(t->san, (san_kind)k))
			continue;
		char *e = san_expand(tmpl[k], &v);
		if (e == NULL) {
			free(text);
			return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		}
		if (!san_value_ok((san_kind)k, e, &why)) {
			r = ctx_fail(ctx, CRT_E_SAN_INVALID,
				     "profile %s: san_%s = \"%.100s\" gives \"%.200s\" for token %s, "
				     "which %s",
				     p->name, san_kind_name((san_kind)k), tmpl[k], e, t->id, why);
			free(e);
			free(text);
			return r;
		}
		int bad = append_san(&text, san_kind_name((san_kind)k), e);
		free(e);
		if (bad) {
			free(text);
			return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		}
	}
	if (!san_lines_ok(text, err, sizeof(err))) {
		free(text);
		return ctx_fail(ctx, CRT_E_SAN_INVALID, "token %s: %s", t->id, err);
	}
	out->san = text;
	return CRT_OK;
}

/* One SubjectAltName of kind k and value v (checked) into gens. */
static int push_general_name(GENERAL_NAMES *gens, san_kind k, const char *v)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_STRING *str = NULL;
	ASN1_TYPE *any = NULL;
	ASN1_OBJECT *oid = NULL;

	if (g == NULL)
		return 0;
	if (k == SAN_UPN) { /* otherName: the Microsoft UPN, a UTF8String */
		if ((str = ASN1_UTF8STRING_new()) == NULL || !ASN1_STRING_set(str, v, -1) ||
		    (any = ASN1_TYPE_new()) == NULL ||
		    (oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1)) == NULL)
			goto fail;
		ASN1_TYPE_set(any, V_ASN1_UTF8STRING, str);
		str = NULL;
		if (!GENERAL_NAME_set0_othername(g, oid, any))
			goto fail;
		oid = NULL;
		any = NULL;
	} else {
		if ((str = ASN1_IA5STRING_new()) == NULL || !ASN1_STRING_set(str, v, -1))
			goto fail;
		GENERAL_NAME_set0_value(g, k == SAN_EMAIL ? GEN_EMAIL
					 : k == SAN_DNS ? GEN_DNS
							: GEN_URI,
					str);
		str = NULL;
	}
	if (!sk_GENERAL_NAME_push(gens, g))
		goto fail;
	return 1;
fail:
	ASN1_STRING_free(str);
	ASN1_TYPE_free(any);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(g);
	return 0;
}

/* The shape's subjectAltName into x: its "kind=value" lines, or the
 * extension of san_of as it is (renewal); none when neither. */
static crt_status add_san(X509 *x, const cert_shape *s)
{
	GENERAL_NAMES *gens;
	int ok = 1;

	if (s->san_of != NULL) {
		int i = X509_get_ext_by_NID(s->san_of, NID_subject_alt_name, -1);
		return i < 0 || X509_add_ext(x, X509_get_ext(s->san_of, i), -1) ? CRT_OK
									      : CRT_E_INTERNAL;
	}
	if (s->san == NULL || *s->san == '\0')
		return CRT_OK;
	if ((gens = sk_GENERAL_NAME_new_null()) == NULL)
		return CRT_E_NOMEM;
	for (const char *p = s->san; ok && *p;) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		int k = eq ? san_kind_parse(p, (size_t)(eq - p)) : -1;
		char *v = eq ? strndup(eq + 1, n - (size_t)(eq + 1 - p)) : NULL;
		ok = k >= 0 && v != NULL && push_general_name(gens, (san_kind)k, v);
		free(v);
		p += n;
		if (*p == '\n')
			p++;
	}
	if (ok)
		ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, X509V3_ADD_DEFAULT) == 1;
	GENERAL_NAMES_free(gens);
	return ok ? CRT_OK : CRT_E_INTERNAL;
}

/* A GENERAL_NAME holding URI url, or NULL. */
static GENERAL_NAME *uri_name(const char *url)
{
	GENERAL_NAME *g = GENERAL_NAME_new();
	ASN1_IA5STRING *s = ASN1_IA5STRING_new();

	if (g == NULL || s == NULL || !ASN1_STRING_set(s, url, -1)) {
		GENERAL_NAME_free(g);
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	return g;
}

/* The URLs a certificate of profile p signed by CA ca_name carries: the
 * profile's own; else, for the default CA, [ca]'s (certprof_finish put them
 * in p), for a [ca NAME] CA that section's. NULL: none. */
static void cert_urls(const crt_ctx *ctx, const crt_cert_profile *p, const char *ca_name,
		      const char *urls[3])
{
	const crt_ca_config *ca = NULL;
	const unsigned bit[3] = {CERTPROF_URL_CRL, CERTPROF_URL_ISSUERS, CERTPROF_URL_OCSP};
	const char *const prof[3] = {p->crl_url, p->ca_issuers_url, p->ocsp_url};

	for (size_t i = 0; ca_name != NULL && strcmp(ca_name, CRT_CA_DEFAULT) != 0 &&
			   i < ctx->cfg.ncas;
	     i++)
		if (strcmp(ctx->cfg.cas[i].name, ca_name) == 0)
			ca = &ctx->cfg.cas[i];
	const char *const own[3] = {ca ? ca->crl_url : NULL, ca ? ca->ca_issuers_url : NULL,
				    ca ? ca->ocsp_url : NULL};
	for (int i = 0; i < 3; i++)
		urls[i] = ca == NULL || (p->urls_own & bit[i]) ? prof[i] : own[i];
}

/* The CRL distribution point and the authority information access
 * (caIssuers, OCSP) of urls into x; each left out when its URL is NULL.
 * Built as structures, not through the extension syntax, so a URL is one
 * URI whatever it contains. */
static crt_status add_urls(X509 *x, const char *const urls[3])
{
	CRL_DIST_POINTS *cdp = NULL;
	AUTHORITY_INFO_ACCESS *aia = NULL;
	int ok = 1;

	if (urls[0] != NULL) {
		DIST_POINT *dp = DIST_POINT_new();
		GENERAL_NAME *g = uri_name(urls[0]);
		ok = (cdp = sk_DIST_POINT_new_null()) != NULL && dp != NULL && g != NULL &&
		     (dp->distpoint = DIST_POINT_NAME_new()) != NULL &&
		     (dp->distpoint->name.fullname = sk_GENERAL_NAME_new_null()) != NULL &&
		     sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g) > 0;
		if (ok)
			g = NULL;
		if (ok)
			dp->distpoint->type = 0; /* fullName */
		ok = ok && sk_DIST_POINT_push(cdp, dp) > 0;
		if (ok)
			dp = NULL;
		GENERAL_NAME_free(g);
		DIST_POINT_free(dp);
		ok = ok && X509_add1_ext_i2d(x, NID_crl_distribution_points, cdp, 0,
					     X509V3_ADD_DEFAULT) == 1;
	}
	for (int i = 1; ok && i < 3; i++) {
		static const int method[3] = {0, NID_ad_ca_issuers, NID_ad_OCSP};
		ACCESS_DESCRIPTION *ad;
		if (urls[i] == NULL)
			continue;
		if (aia == NULL && (aia = sk_ACCESS_DESCRIPTION_new_null()) == NULL) {
			ok = 0;
			break;
		}
		if ((ad = ACCESS_DESCRIPTION_new()) == NULL) {
			ok = 0;
			break;
		}
		GENERAL_NAME_free(ad->location);
		ad->method = OBJ_nid2obj(method[i]);
		ok = (ad->location = uri_name(urls[i])) != NULL &&
		     sk_ACCESS_DESCRIPTION_push(aia, ad) > 0;
		if (!ok)
			ACCESS_DESCRIPTION_free(ad);
	}
	if (ok && aia != NULL)
		ok = X509_add1_ext_i2d(x, NID_info_access, aia, 0, X509V3_ADD_DEFAULT) == 1;
	CRL_DIST_POINTS_free(cdp);
	AUTHORITY_INFO_ACCESS_free(aia);
	return ok ? CRT_OK : CRT_E_INTERNAL;
}

void cert_shape_clear(cert_shape *s)
{
	if (s == NULL)
		return;
	free(s->san);
	memset(s, 0, sizeof(*s));
}

/* prefix + the profile's list (items separated by commas and/or spaces) as
 * the comma list OpenSSL's extension syntax takes; malloc'd. */
static char *ext_value(const char *prefix, const char *list)
{
	size_t n = strlen(prefix) + strlen(list) + 1, o = 0;
	char *v = malloc(n);
	int sep = 0;

	if (v == NULL)
		return NULL;
	o = (size_t)snprintf(v, n, "%s", prefix);
	for (const char *p = list; *p; p++) {
		if (*p == ',' || *p == ' ') {
			sep = 1;
			continue;
		}
		if (sep && o > strlen(prefix))
			v[o++] = ',';
		sep = 0;
		v[o++] = *p;
	}
	v[o] = '\0';
	return v;
}

/* Key usage and extended key usage of p into x: the profile's lists, or,
 * unset, today's certificate (RSA digitalSignature + keyEncipherment, other
 * keys digitalSignature; clientAuth). */
static crt_status add_usages(X509 *x, X509V3_CTX *v3, const crt_cert_profile *p, int rsa)
{
	char *ku = NULL, *eku = NULL;
	crt_status r = CRT_E_NOMEM;

	if (p->key_usage != NULL)
		ku = ext_value("critical,", p->key_usage);
	else
		ku = strdup(rsa ? "critical,digitalSignature,keyEncipherment"
				: "critical,digitalSignature");
	eku = ext_value("", p->ext_key_usage ? p->ext_key_usage : "clientAuth");
	if (ku != NULL && eku != NULL && (r = ca_add_ext(x, v3, NID_key_usage, ku)) == CRT_OK)
		r = ca_add_ext(x, v3, NID_ext_key_usage, eku);
	free(ku);
	free(eku);
	return r;
}

/* The CSR's key is one the profile allows (before anything is signed). */
static crt_status key_allowed(crt_ctx *ctx, const crt_cert_profile *p, const crt_csr *csr)
{
	char *kt = ca_key_type_name(csr->pkey);
	crt_status r = CRT_OK;

	if (kt == NULL)
		return ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
	if (!certprof_key_allowed(p, kt))
		r = ctx_fail(ctx, CRT_E_CSR_KEY_TYPE,
			     "a %s key is not allowed by certificate profile %s (key_types = %s)",
			     kt, p->name, p->key_types ? p->key_types : "rsa,ec,ed25519");
	free(kt);
	return r;
}

/* The subject name O, OU, CN (empty fields left out) into *out. */
static crt_status subject_name(crt_ctx *ctx, const char *cn, const char *org, const char *ou,
			       X509_NAME **out)
{
	X509_NAME *subj;
	crt_status r;

	if ((*out = subj = X509_NAME_new()) == NULL)
		return CRT_E_NOMEM;
	if ((r = add_name_entry(subj, "O", org)) != CRT_OK ||
	    (r = add_name_entry(subj, "OU", ou)) != CRT_OK ||
	    (r = add_name_entry(subj, "CN", cn)) != CRT_OK) {
		X509_NAME_free(subj);
		*out = NULL;
		return ctx_fail(ctx, r, "the subject could not be built (field too long?)");
	}
	return CRT_OK;
}

crt_status cert_subject_text(crt_ctx *ctx, const char *cn, const char *org, const char *ou,
			     char **out)
{
	X509_NAME *subj = NULL;
	crt_status r;

	*out = NULL;
	if ((r = subject_name(ctx, cn, org, ou, &subj)) != CRT_OK)
		return r;
	*out = ca_name_oneline(subj);
	X509_NAME_free(subj);
	return *out != NULL ? CRT_OK : ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
}

crt_status cert_key_allowed(crt_ctx *ctx, const cert_shape *shape, const crt_csr *csr)
{
	return key_allowed(ctx, shape->profile, csr);
}

crt_status cert_issue(crt_ctx *ctx, const crt_csr *csr, const char *cn, const char *org,
		      const char *ou, const cert_shape *shape, int64_t now, X509 **out,
		      char serial[72])
{
	EVP_PKEY *pubkey = csr->pkey;
	X509 *x = NULL;
	X509_NAME *subj = NULL;
	ASN1_INTEGER *sn = NULL;
	X509V3_CTX v3;
	crt_status r;
	int64_t nb, na;

	*out = NULL;
	if (shape == NULL || shape->profile == NULL)
		return ctx_fail(ctx, CRT_E_INTERNAL, "no certificate profile resolved");
	if ((r = key_allowed(ctx, shape->profile, csr)) != CRT_OK)
		return r;
	if (ctx->ca != NULL && ctx->ca->cfssl != NULL) { /* [ca] type = cfssl: the remote CA signs */
		if (shape->san != NULL)
			return ctx_fail(ctx, CRT_E_SAN_INVALID,
					"CA %s is a remote CA (cfssl), which signs by its own "
					"profile: it cannot write the SubjectAltNames %s",
					ctx->ca_name, shape->san);
		return ca_cfssl_issue(ctx, csr, cn, org, ou, now, out, serial);
	}
	if ((r = cert_validity(ctx, shape->days, now, &nb, &na)) != CRT_OK)
		return r;
	if ((r = subject_name(ctx, cn, org, ou, &subj)) != CRT_OK)
		goto out;
	if ((x = X509_new()) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = ca_random_serial(&sn, serial)) != CRT_OK)
		goto out;
	r = CRT_E_INTERNAL;
	if (!X509_set_version(x, X509_VERSION_3) || !X509_set_serialNumber(x, sn) ||
	    !X509_set_subject_name(x, subj) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(ctx->ca_cert)) ||
	    !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
	    !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) || !copy_spki(x, csr))
		goto out;
	X509V3_set_ctx(&v3, ctx->ca_cert, x, NULL, NULL, 0);
	if ((r = ca_add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE")) != CRT_OK ||
	    (r = add_usages(x, &v3, shape->profile,
			    EVP_PKEY_get_base_id(pubkey) == EVP_PKEY_RSA)) != CRT_OK ||
	    (r = ca_add_ext(x, &v3, NID_subject_key_identifier, "hash")) != CRT_OK ||
	    (r = ca_add_ext(x, &v3, NID_authority_key_identifier, "keyid:always")) != CRT_OK ||
	    (r = add_san(x, shape)) != CRT_OK)
		goto out;
	const char *urls[3];
	cert_urls(ctx, shape->profile, ctx->ca_name, urls);
	if ((r = add_urls(x, urls)) != CRT_OK)
		goto out;
	if (X509_sign(x, ctx->ca_key, ca_sign_digest(ctx->ca_key)) <= 0) {
		r = ctx_fail(ctx, CRT_E_INTERNAL, "signing failed");
		goto out;
	}
	*out = x;
	x = NULL;
	r = CRT_OK;
out:
	ERR_clear_error();
	X509_free(x);
	X509_NAME_free(subj);
	ASN1_INTEGER_free(sn);
	return r;
}

static char *pubkey_sha256(X509 *x)
{
	unsigned char *der = NULL;
	char hex[65];
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n <= 0)
		return NULL;
	sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	return strdup(hex);
}

/* ------------------------------------------------------------ rows */

void crt_cert_clear(crt_cert *c)
{
	if (c == NULL)
		return;
	free(c->name);
	free(c->subject);
	free(c->cn);
	free(c->org);
	free(c->ou);
	free(c->issuer);
	free(c->user);
	free(c->reply);
	free(c->key_type);
	free(c->pubkey_sha256);
	free(c->ski);
	free(c->aki);
	free(c->cert_sha256);
	free(c->ca);
	free(c->pem);
	free(c->chain_pem);
	free(c->attestation);
	free(c->first_mac);
	free(c->last_mac);
	free(c->nas_ip);
	free(c->nas_id);
	free(c->seen_user);
	free(c->acct_session_id);
	free(c->renewed_from);
	free(c->profile);
	free(c->pin_mac);
	memset(c, 0, sizeof(*c));
}

void crt_cert_list_free(crt_cert *list, size_t n)
{
	for (size_t i = 0; list != NULL && i < n; i++)
		crt_cert_clear(&list[i]);
	free(list);
}

static int eval_status(int revoked, int64_t not_after, int64_t now)
{
	if (revoked)
		return CRT_CERT_REVOKED;
	return now > not_after ? CRT_CERT_EXPIRED : CRT_CERT_VALID;
}

void cert_row_of(const crt_cert *c, store_cert_row *row)
{
	*row = (store_cert_row){
		.serial = c->serial,
		.issuer = c->issuer,
		.token_id = c->token_id[0] ? c->token_id : NULL,
		.name = c->name,
		.subject = c->subject,
		.cn = c->cn,
		.org = c->org,
		.ou = c->ou,
		.username = c->user,
		.reply = c->reply,
		.key_type = c->key_type,
		.pubkey_sha256 = c->pubkey_sha256,
		.pem = c->pem,
		.ski = c->ski,
		.aki = c->aki,
		.cert_sha256 = c->cert_sha256,
		.attestation = c->attestation,
		.renewed_from = c->renewed_from,
		.ca = c->ca,
		.not_before = c->not_before,
		.not_after = c->not_after,
		.issued_at = c->issued_at,
		.profile = c->profile,
		.pin_mac = c->pin_mac,
	};
}

crt_status cert_make(X509 *x, const EVP_PKEY *pk, const char *chain_pem, const char *serial,
		     const char *name, const char *token_id, const char *user, const char *reply,
		     int64_t now, crt_cert *out)
{
	crt_cert c = {0};
	crt_status r;
	X509_NAME *sn = X509_get_subject_name(x);
	char buf[256];

	memset(out, 0, sizeof(*out));
	snprintf(c.serial, sizeof(c.serial), "%s", serial);
	snprintf(c.token_id, sizeof(c.token_id), "%s", token_id ? token_id : "");
	c.name = dup_str(name);
	c.subject = ca_name_oneline(sn);
	c.issuer = ca_name_oneline(X509_get_issuer_name(x));
	c.user = dup_str(user);
	c.reply = dup_str(reply);
	c.key_type = ca_key_type_name(pk);
	c.pubkey_sha256 = pubkey_sha256(x);
	c.pem = ca_cert_pem(x);
	c.chain_pem = dup_str(chain_pem);
	if ((r = x509_ids(x, &c.ski, &c.aki, &c.cert_sha256)) != CRT_OK)
		goto out;
	if (X509_NAME_get_text_by_NID(sn, NID_commonName, buf, sizeof(buf)) >= 0)
		c.cn = strdup(buf);
	if (X509_NAME_get_text_by_NID(sn, NID_organizationName, buf, sizeof(buf)) >= 0)
		c.org = strdup(buf);
	if (X509_NAME_get_text_by_NID(sn, NID_organizationalUnitName, buf, sizeof(buf)) >= 0)
		c.ou = strdup(buf);
	c.not_before = ca_time_unix(X509_get0_notBefore(x));
	c.not_after = ca_time_unix(X509_get0_notAfter(x));
	c.issued_at = now;
	c.status = CRT_CERT_VALID;
	if (!c.name || !c.subject || !c.issuer || !c.key_type || !c.pubkey_sha256 || !c.pem ||
	    !c.chain_pem) {
		r = CRT_E_NOMEM;
		goto out;
	}
	*out = c;
	memset(&c, 0, sizeof(c));
	r = CRT_OK;
out:
	crt_cert_clear(&c);
	return r;
}

char *crt_cert_san_text(const char *pem)
{
	BIO *b = pem ? BIO_new_mem_buf(pem, -1) : NULL;
	X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	GENERAL_NAMES *gens = x ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL) : NULL;
	ASN1_OBJECT *upn = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1);
	char *text = NULL;

	for (int i = 0; gens != NULL && upn != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const ASN1_STRING *v = NULL;
		const char *kind = NULL;
		if (g->type == GEN_EMAIL || g->type == GEN_DNS || g->type == GEN_URI) {
			v = g->d.ia5;
			kind = g->type == GEN_EMAIL ? "email" : g->type == GEN_DNS ? "dns" : "uri";
		} else if (g->type == GEN_OTHERNAME && OBJ_cmp(g->d.otherName->type_id, upn) == 0 &&
			   g->d.otherName->value->type == V_ASN1_UTF8STRING) {
			v = g->d.otherName->value->value.utf8string;
			kind = "upn";
		}
		if (v == NULL || memchr(v->data, '\0', (size_t)v->length) != NULL ||
		    memchr(v->data, '\n', (size_t)v->length) != NULL)
			continue;
		char *value = strndup((const char *)v->data, (size_t)v->length);
		if (value == NULL || append_san(&text, kind, value) != 0) {
			free(value);
			free(text);
			text = NULL;
			break;
		}
		free(value);
	}
	ERR_clear_error();
	ASN1_OBJECT_free(upn);
	GENERAL_NAMES_free(gens);
	X509_free(x);
	BIO_free(b);
	return text;
}

/* ------------------------------------------------------------ serials */

crt_status crt_serial_normalize(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	const char *p = in;

	if (in == NULL || outlen < 3)
		return CRT_E_SERIAL_INVALID;
	while (*p == ' ')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || n + 2 >= outlen)
			return CRT_E_SERIAL_INVALID;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	if (n == 0)
		return CRT_E_SERIAL_INVALID;
	out[n] = '\0';
	if (n % 2) { /* two digits per byte */
		memmove(out + 1, out, n + 1);
		out[0] = '0';
		n++;
	}
	/* Drop leading zero bytes (DER sign padding); keep at least one byte. */
	size_t skip = 0;
	while (n - skip > 2 && out[skip] == '0' && out[skip + 1] == '0')
		skip += 2;
	memmove(out, out + skip, n - skip + 1);
	return CRT_OK;
}

crt_status crt_cert_get(crt_ctx *ctx, const char *serial, crt_cert *out)
{
	char norm[72];
	crt_status r;
	int found = 0;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (crt_serial_normalize(serial, norm, sizeof(norm)) != CRT_OK)
		return ctx_fail(ctx, CRT_E_SERIAL_INVALID, "\"%s\" is not a hex serial", serial);
	if ((r = store_cert_get(ctx, norm, out, &found)) != CRT_OK)
		return r;
	if (!found)
		return ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "no certificate with serial %s", norm);
	out->status = eval_status(out->revoked, out->not_after, crt_now());
	/* the chain of the CA that issued it */
	const char *ca = out->ca != NULL ? out->ca : CRT_CA_DEFAULT;
	for (size_t i = 0; i < ctx->inst->ncas; i++)
		if (strcmp(ctx->inst->cas[i].name, ca) == 0)
			out->chain_pem = dup_str(ctx->inst->cas[i].chain_pem);
	return CRT_OK;
}

crt_status crt_cert_list(crt_ctx *ctx, const crt_cert_filter *f, crt_cert **out, size_t *n)
{
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	if ((r = store_cert_list(ctx, f, now, out, n)) != CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		(*out)[i].status = eval_status((*out)[i].revoked, (*out)[i].not_after, now);
	return CRT_OK;
}

crt_status crt_cert_page(crt_ctx *ctx, const crt_cert_filter *f, const crt_page *p,
			 crt_cert **out, size_t *n, int64_t *total)
{
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	*out = NULL;
	*n = 0;
	*total = 0;
	if (!paging_valid(p, crt_cert_sort_fields))
		return ctx_fail(ctx, CRT_E_PAGE_INVALID, "not a page crt_page_parse makes");
	if ((r = store_cert_page(ctx, f, now, p, out, n, total)) != CRT_OK)
		return r;
	for (size_t i = 0; i < *n; i++)
		(*out)[i].status = eval_status((*out)[i].revoked, (*out)[i].not_after, now);
	return CRT_OK;
}

/* ------------------------------------------------------------ revocation */

static const char *const reasons[] = {
	[0] = "unspecified",	      [1] = "keyCompromise",	    [2] = "cACompromise",
	[3] = "affiliationChanged",   [4] = "superseded",	    [5] = "cessationOfOperation",
	[6] = "certificateHold",      [9] = "privilegeWithdrawn",   [10] = "aACompromise",
};

int crt_reason_parse(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < (int)(sizeof(reasons) / sizeof(reasons[0])); i++)
		if (reasons[i] != NULL && strcasecmp(reasons[i], name) == 0)
			return i;
	return -1;
}

const char *crt_reason_name(int reason)
{
	if (reason < 0 || reason >= (int)(sizeof(reasons) / sizeof(reasons[0])) ||
	    reasons[reason] == NULL)
		return "unspecified";
	return reasons[reason];
}

const char *crt_cert_status_name(int status)
{
	switch (status) {
	case CRT_CERT_VALID: return "valid";
	case CRT_CERT_REVOKED: return "revoked";
	case CRT_CERT_EXPIRED: return "expired";
	}
	return "unknown";
}

int crt_cert_status_parse(const char *name)
{
	for (int i = CRT_CERT_VALID; i <= CRT_CERT_EXPIRED; i++)
		if (name != NULL && strcmp(name, crt_cert_status_name(i)) == 0)
			return i;
	return -1;
}

/* certificate.revoked for c, inside the revocation's transaction, with
 * its token's owner when the token is still stored. */
static crt_status revoked_event(crt_ctx *ctx, const crt_cert *c, int reason, const char *actor)
{
	crt_token t = {0};
	crt_status r = CRT_OK;

	if (c->token_id[0] != '\0' && (r = store_token_by_id(ctx, c->token_id, &t)) != CRT_OK &&
	    r != CRT_E_TOKEN_NOT_FOUND)
		return r;
	event_subject s = {.token_id = c->token_id,
			   .token_name = c->name,
			   .owner = t.owner,
			   .owner_email = t.owner_email,
			   .serial = c->serial,
			   .common_name = c->cn,
			   .subject = c->subject,
			   .user = c->user,
			   .reason = crt_reason_name(reason),
			   .not_after = c->not_after};
	r = event_emit(ctx, "certificate.revoked", actor, &s, NULL, NULL);
	crt_token_clear(&t);
	return r;
}

crt_status crt_cert_revoke(crt_ctx *ctx, const char *serial, int reason, const char *actor,
			   crt_crl *crl)
{
	crt_cert c = {0};
	crt_crl fresh = {0};
	store_crl lock;
	crt_status r;
	jbuf j;
	char *detail = NULL;
	int changed = 0, imported = 0, wiped = 0;
	int64_t now = crt_now();

	ctx_clear_detail(ctx);
	if (crl != NULL)
		memset(crl, 0, sizeof(*crl));
	if (reason < 0 || reason >= (int)(sizeof(reasons) / sizeof(reasons[0])) ||
	    reasons[reason] == NULL)
		return ctx_fail(ctx, CRT_E_REASON_INVALID, "reason code %d", reason);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	/* Revocations and CRL publications in one order on every writer (the
	 * publication lock: the default CA's first, then, for a certificate of
	 * another CA, that CA's too — always in this order), then the read and
	 * the guarded write. */
	if ((r = store_crl_load(ctx, CRT_CA_DEFAULT, STORE_CRL_LOCK, &lock)) != CRT_OK ||
	    (r = crt_cert_get(ctx, serial, &c)) != CRT_OK)
		goto fail;
	/* An uploaded certificate (import.c): none of our CAs issued it, so no
	 * CRL of ours lists it; the revocation is crtoken's own (admission). */
	imported = c.ca != NULL && strcmp(c.ca, CRT_CA_IMPORTED) == 0;
	if (!imported && (r = ca_select(ctx, c.ca)) != CRT_OK)
		goto fail;
	if (!imported && strcmp(ctx->ca_name, CRT_CA_DEFAULT) != 0 &&
	    (r = store_crl_load(ctx, ctx->ca_name, STORE_CRL_LOCK, &lock)) != CRT_OK)
		goto fail;
	if (c.revoked) {
		r = ctx_fail(ctx, CRT_E_CERT_REVOKED, "%s was already revoked", c.serial);
		goto fail;
	}
	if ((r = store_cert_revoke(ctx, c.serial, now, reason, &changed)) != CRT_OK)
		goto fail;
	if (changed != 1) { /* another writer revoked it since the read */
		r = ctx_fail(ctx, CRT_E_CERT_REVOKED, "%s was already revoked", c.serial);
		goto fail;
	}
	/* A kept PKCS#12 ([generate] keep_pkcs12) goes with the revocation. */
	if ((r = store_p12_wipe(ctx, c.serial, &wiped)) != CRT_OK)
		goto fail;
	jb_begin(&j);
	jb_str(&j, "reason", crt_reason_name(reason));
	jb_str(&j, "name", c.name);
	jb_str(&j, "tokenId", c.token_id);
	if (wiped)
		jb_json(&j, "pkcs12Removed", "true");
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, actor, "cert.revoke", c.serial, detail)) != CRT_OK ||
	    (r = revoked_event(ctx, &c, reason, actor)) != CRT_OK)
		goto fail;
	/* Publish at once, as part of the revocation: every adapter alike. */
	if (!imported && ctx->ca_key != NULL &&
	    (r = crl_publish_in_txn(ctx, actor, "revocation", now, &fresh)) != CRT_OK)
		goto fail;
	if ((r = store_commit(ctx)) != CRT_OK)
		goto out;
	if (fresh.resigned)
		crl_write_file(ctx, &fresh);
	/* Live sessions: best effort, after the commit (never undoes it). */
	coa_disconnect(ctx, c.serial, actor);
	if (crl != NULL) {
		*crl = fresh;
		memset(&fresh, 0, sizeof(fresh));
	}
	goto out;
fail:
	store_rollback(ctx);
out:
	ca_select_default(ctx);
	free(detail);
	crt_cert_clear(&c);
	crt_crl_clear(&fresh);
	return r;
}

/* ------------------------------------------------------------ admission */

/* Look p up and apply the admission rule; on CRT_OK row holds the stored
 * values (free(row->buf) in every case) and norm the serial. */
static crt_status admission_lookup(crt_ctx *ctx, const crt_presented *p, int64_t now,
				   store_cert_admission *row, char norm[72])
{
	const char *why = "";
	crt_status r;
	int found = 0;

	memset(row, 0, sizeof(*row));
	if (p == NULL || crt_serial_normalize(p->serial, norm, 72) != CRT_OK)
		return ctx_fail(ctx, CRT_E_SERIAL_INVALID, "\"%s\" is not a hex serial",
				p != NULL && p->serial != NULL ? p->serial : "(none)");
	if ((r = store_cert_admission_get(ctx, norm, row, &found)) != CRT_OK)
		return r;
	char why_stale[256];
	if ((r = staleness_decide(crt_now(), row->heartbeat, ctx->cfg.max_staleness, why_stale,
				  sizeof(why_stale))) != CRT_OK)
		return ctx_fail(ctx, r, "%s", why_stale);
	if (!found)
		return ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "serial %s was never issued by crtoken",
				norm);
	/* The rule decides on values; row's strings live in row->buf. */
	admit_stored stored = {
		.serial = norm,
		.issuer = row->issuer,
		.ski = row->ski,
		.aki = row->aki,
		.not_before = row->not_before,
		.not_after = row->not_after,
		.revoked = row->revoked,
	};
	r = admit_decide(p, &stored, now, &why);
	if (r == CRT_E_CERT_REVOKED)
		r = ctx_fail(ctx, r, "serial %s was revoked (%s)", norm, crt_reason_name(row->reason));
	else if (r != CRT_OK)
		r = ctx_fail(ctx, r, "serial %s: %s", norm, why);
	return r;
}

crt_status crt_cert_authorize(crt_ctx *ctx, const crt_presented *p, int64_t now, char **reply)
{
	store_cert_admission row;
	char norm[72];
	crt_status r;

	ctx_clear_detail(ctx);
	if (reply != NULL)
		*reply = NULL;
	r = admission_lookup(ctx, p, now, &row, norm);
	if (r == CRT_OK && reply != NULL && row.reply != NULL && (*reply = strdup(row.reply)) == NULL)
		r = CRT_E_NOMEM;
	free(row.buf);
	return r;
}

crt_status crt_cert_admission(crt_ctx *ctx, const crt_presented *p, int64_t now,
			      crt_admission *out)
{
	store_cert_admission row;
	const crt_cert_profile *prof;
	char norm[72];
	const char *why = "";
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if ((r = admission_lookup(ctx, p, now, &row, norm)) != CRT_OK)
		goto out;
	/* The certificate's pin and Session-Timeout cap, from the row and the
	 * config in memory: no other query on the RADIUS path. */
	prof = crt_cert_profile_find(&ctx->cfg, row.profile);
	out->pin_mac = seen_pin_effective(seen_pin_parse(row.pin_mac), prof ? prof->pin_mac : -1,
					  ctx->cfg.radius_pin_mac);
	if (p->mac != NULL && crt_mac_normalize(p->mac, out->mac) != CRT_OK)
		out->mac[0] = '\0'; /* unreadable: as if absent */
	if ((r = seen_pin_decide(out->pin_mac, row.first_mac, out->mac, &out->pin_claim, &why)) !=
	    CRT_OK) {
		r = ctx_fail(ctx, r, "serial %s: %s (pinned: %s, presented: %s)", norm, why,
			     row.first_mac ? row.first_mac : "none",
			     out->mac[0] ? out->mac : "none");
		goto out;
	}
	out->not_after = row.not_after;
	out->session_timeout = seen_session_timeout(
	    row.not_after, now, prof ? prof->session_timeout : ctx->cfg.radius_max_session_timeout);
	if (row.reply != NULL && (out->reply = strdup(row.reply)) == NULL)
		r = CRT_E_NOMEM;
out:
	free(row.buf);
	if (r != CRT_OK)
		crt_admission_clear(out);
	return r;
}

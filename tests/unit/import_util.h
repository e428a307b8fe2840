/*
 * import_util.h — what the upload suites share (test_import.c,
 * test_fault_import.c): a foreign CA made in-process ("Partner CA"), client
 * certificates it signs as the options say, and an instance whose [import]
 * trusted_issuers is that CA. Header-only; include after testutil.h.
 */
#ifndef CRTOKEN_IMPORT_UTIL_H
#define CRTOKEN_IMPORT_UTIL_H

#include <sys/stat.h>

#define DAY 86400

static EVP_PKEY *foreign_key __attribute__((unused));
static X509 *foreign_ca __attribute__((unused));

/* Extension nid = value on x (issued by issuer). */
TU void ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_true(X509_add_ext(x, e, -1));
	X509_EXTENSION_free(e);
}

typedef struct leaf_opts {
	const char *cn, *org;
	const char *serial_hex; /* NULL: a fixed counter */
	int64_t nb, na;	/* offsets from now */
	int ca;
	const char *eku; /* NULL: clientAuth; "": none */
	int no_ski;
	int self_signed; /* signed by its own key, issuer name = the foreign CA's */
} leaf_opts;

/* A certificate as opts say, signed by the foreign CA (or itself); PEM malloc'd. */
TU char *leaf_pem(const leaf_opts *o)
{
	static int counter = 0x1000;
	EVP_PKEY *k = tu_key("ec-p256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	BIGNUM *bn = NULL;
	char hex[16];
	time_t now = time(NULL);

	X509_set_version(x, X509_VERSION_3);
	if (o->serial_hex == NULL)
		snprintf(hex, sizeof(hex), "%x", ++counter);
	assert_true(BN_hex2bn(&bn, o->serial_hex ? o->serial_hex : hex) > 0);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	if (o->org)
		X509_NAME_add_entry_by_txt(n, "O", MBSTRING_UTF8, (const unsigned char *)o->org, -1,
					   -1, 0);
	if (o->cn)
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)o->cn, -1,
					   -1, 0);
	X509_set_subject_name(x, n);
	X509_NAME_free(n);
	X509_set_issuer_name(x, X509_get_subject_name(foreign_ca));
	ASN1_TIME_set(X509_getm_notBefore(x), now + (o->nb ? o->nb : -DAY));
	ASN1_TIME_set(X509_getm_notAfter(x), now + (o->na ? o->na : 30 * DAY));
	X509_set_pubkey(x, k);
	ext(x, foreign_ca, NID_basic_constraints, o->ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	ext(x, foreign_ca, NID_key_usage,
	    o->ca ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature");
	if (o->eku == NULL || *o->eku)
		ext(x, foreign_ca, NID_ext_key_usage, o->eku ? o->eku : "clientAuth");
	if (!o->no_ski)
		ext(x, foreign_ca, NID_subject_key_identifier, "hash");
	if (o->self_signed) {
		/* the AKI names the trusted CA's key id; the signature is its own */
		ext(x, foreign_ca, NID_authority_key_identifier, "keyid:always");
		assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	} else {
		ext(x, foreign_ca, NID_authority_key_identifier, "keyid:always");
		assert_true(X509_sign(x, foreign_key, EVP_sha256()) > 0);
	}
	BIO *b = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(b, x);
	char *data;
	long len = BIO_get_mem_data(b, &data);
	char *pem = strndup(data, (size_t)len);
	BIO_free(b);
	X509_free(x);
	EVP_PKEY_free(k);
	return pem;
}

TU char *client_pem(const char *cn)
{
	leaf_opts o = {.cn = cn};
	return leaf_pem(&o);
}

/* The foreign CA (once per run), its PEM in the instance's bundle file. */
TU void foreign_ca_make(void)
{
	if (foreign_ca != NULL)
		return;
	foreign_key = tu_key("ec-p256");
	foreign_ca = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)"Partner CA", -1,
				   -1, 0);
	X509_set_version(foreign_ca, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(foreign_ca), 7);
	X509_set_subject_name(foreign_ca, n);
	X509_set_issuer_name(foreign_ca, n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(foreign_ca), time(NULL) - 10 * DAY);
	ASN1_TIME_set(X509_getm_notAfter(foreign_ca), time(NULL) + 3650 * DAY);
	X509_set_pubkey(foreign_ca, foreign_key);
	ext(foreign_ca, foreign_ca, NID_basic_constraints, "critical,CA:TRUE");
	ext(foreign_ca, foreign_ca, NID_key_usage, "critical,keyCertSign,cRLSign");
	ext(foreign_ca, foreign_ca, NID_subject_key_identifier, "hash");
	assert_true(X509_sign(foreign_ca, foreign_key, EVP_sha256()) > 0);
}

/* The shared instance ti with [import] trusted_issuers = the foreign CA. */
TU void import_instance(void)
{
	char path[400], text[512];
	foreign_ca_make();
	tu_instance_init(&ti, NULL);
	snprintf(path, sizeof(path), "%s/partners.pem", ti.dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_X509(f, foreign_ca);
	fclose(f);
	chmod(path, 0644);
	snprintf(text, sizeof(text), "[import]\ntrusted_issuers = %s\n", path);
	tu_config_append(&ti, text);
	tu_open(&ti);
}

TU void import_util_free(void)
{
	X509_free(foreign_ca);
	EVP_PKEY_free(foreign_key);
	foreign_ca = NULL;
	foreign_key = NULL;
}

#endif

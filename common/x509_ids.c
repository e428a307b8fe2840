/*
 * x509_ids.c — key identifiers and fingerprints of a certificate, from
 * its values alone (see x509_ids.h).
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "x509_ids.h"

/* Lowercase hex of a key identifier, malloc'd; NULL when id is NULL. */
static char *keyid_hex(const ASN1_OCTET_STRING *id)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *d;
	char *s;
	int n;

	if (id == NULL)
		return NULL;
	d = ASN1_STRING_get0_data(id);
	n = ASN1_STRING_length(id);
	if ((s = malloc((size_t)n * 2 + 1)) == NULL)
		return NULL;
	for (int i = 0; i < n; i++) {
		s[2 * i] = digits[d[i] >> 4];
		s[2 * i + 1] = digits[d[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

crt_status x509_ids(X509 *x, char **ski, char **aki, char **fingerprint)
{
	unsigned char *der = NULL;
	char hex[65];
	int n;

	*ski = *aki = *fingerprint = NULL;
	if ((n = i2d_X509(x, &der)) <= 0)
		return CRT_E_INTERNAL;
	sha256_hex(der, (size_t)n, hex);
	OPENSSL_free(der);
	*fingerprint = strdup(hex);
	if (X509_get0_subject_key_id(x) != NULL)
		*ski = keyid_hex(X509_get0_subject_key_id(x));
	if (X509_get0_authority_key_id(x) != NULL)
		*aki = keyid_hex(X509_get0_authority_key_id(x));
	if (*fingerprint == NULL || (X509_get0_subject_key_id(x) != NULL && *ski == NULL) ||
	    (X509_get0_authority_key_id(x) != NULL && *aki == NULL)) {
		free(*ski);
		free(*aki);
		free(*fingerprint);
		*ski = *aki = *fingerprint = NULL;
		return CRT_E_NOMEM;
	}
	return CRT_OK;
}

crt_status x509_ids_from_pem(const char *pem, char **ski, char **aki, char **fingerprint)
{
	X509 *x = NULL;
	BIO *b;
	crt_status r;

	*ski = *aki = *fingerprint = NULL;
	if (pem != NULL && (b = BIO_new_mem_buf(pem, -1)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	ERR_clear_error();
	if (x == NULL)
		return CRT_E_CERT_MISMATCH;
	r = x509_ids(x, ski, aki, fingerprint);
	X509_free(x);
	return r;
}

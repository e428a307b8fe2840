/*
 * keygen.c — key pairs and CSRs: the CA's key (init), a device's key
 * (crtoken-enroll, on the device) and the server's key for a GENERATE
 * redemption, and a CSR signed by such a key. No store, no ctx: part of
 * libcrtoken-client.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* A fresh key of type (NULL: ec-p256; rsa-4096 too, for a CA), or CRT_E_KEY_TYPE. */
crt_status ca_keygen(const char *type, EVP_PKEY **out)
{
	EVP_PKEY *pk = NULL;
	*out = NULL;
	if (type == NULL || strcmp(type, "ec-p256") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (strcmp(type, "ec-p384") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	else if (strcmp(type, "rsa-2048") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	else if (strcmp(type, "rsa-3072") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else if (strcmp(type, "rsa-4096") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	else if (strcmp(type, "ed25519") == 0)
		pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	else
		return CRT_E_KEY_TYPE;
	if (pk == NULL)
		return CRT_E_INTERNAL;
	*out = pk;
	return CRT_OK;
}

/* The key types GENERATE and crtoken-enroll make (crtoken.h, README,
 * crtoken-enroll --help, openapi.yaml): nothing slower, nothing weaker. */
static const char *const key_types[] = {"ec-p256", "ec-p384", "rsa-2048", "rsa-3072",
					"ed25519"};

crt_status crt_key_generate(const char *key_type, EVP_PKEY **out)
{
	if (out == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*out = NULL;
	for (size_t i = 0; key_type != NULL && i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (strcmp(key_type, key_types[i]) == 0)
			return ca_keygen(key_type, out);
	return CRT_E_KEY_TYPE;
}

/* Ed25519/Ed448 sign without a separate digest. */
static const EVP_MD *sign_md(const EVP_PKEY *key)
{
	int id = EVP_PKEY_get_base_id(key);

	return (id == EVP_PKEY_ED25519 || id == EVP_PKEY_ED448) ? NULL : EVP_sha256();
}

crt_status crt_csr_make(EVP_PKEY *key, const char *cn, char **pem)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	BIO *bio = NULL;
	BUF_MEM *mem = NULL;
	crt_status r = CRT_E_INTERNAL;

	if (key == NULL || pem == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*pem = NULL;
	if (cn == NULL || *cn == '\0')
		cn = "crtoken";
	if ((req = X509_REQ_new()) == NULL || (name = X509_NAME_new()) == NULL ||
	    (bio = BIO_new(BIO_s_mem())) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if (!X509_REQ_set_version(req, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
	                                -1, 0) ||
	    !X509_REQ_set_subject_name(req, name) || !X509_REQ_set_pubkey(req, key) ||
	    X509_REQ_sign(req, key, sign_md(key)) <= 0 || !PEM_write_bio_X509_REQ(bio, req))
		goto out;
	BIO_get_mem_ptr(bio, &mem);
	if ((*pem = malloc(mem->length + 1)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	memcpy(*pem, mem->data, mem->length);
	(*pem)[mem->length] = '\0';
	r = CRT_OK;
out:
	ERR_clear_error();
	BIO_free(bio);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}

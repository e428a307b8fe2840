/*
 * attest.c — YubiKey PIV key attestation (attest.h): the PEM chain, the
 * Yubico extensions, the chain to a trusted root, the attested key; and
 * loading the trusted roots from their directory. Pure: no ctx, no store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "attest.h"
#include "internal.h"

/* Yubico's PIV attestation arc and the members we read. */
#define YK_ARC "1.3.6.1.4.1.41482.3."
enum { YK_FIRMWARE = 3, YK_SERIAL = 7, YK_POLICY = 8, YK_FORM_FACTOR = 9 };

static crt_status malformed(char *why, size_t n, const char *msg)
{
	snprintf(why, n, "%s", msg);
	ERR_clear_error();
	return CRT_E_ATTEST_MALFORMED;
}

/* One DER certificate of exactly len bytes. */
static X509 *der_cert(const unsigned char *der, long len)
{
	const unsigned char *p = der;
	X509 *x = d2i_X509(NULL, &p, len);
	if (x != NULL && p != der + len) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

crt_status attest_chain_parse(const unsigned char *pem, size_t len, X509 **leaf,
                              STACK_OF(X509) * *chain, char *why, size_t n)
{
	crt_status r = CRT_E_NOMEM;
	STACK_OF(X509) *all = NULL;
	BIO *b = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen;

	*leaf = NULL;
	*chain = NULL;
	snprintf(why, n, "%s", "");
	if (pem == NULL || len == 0)
		return malformed(why, n, "the attestation is empty");
	if (len > ATTEST_MAX_BYTES)
		return malformed(why, n, "the attestation is larger than 32 KiB");
	if (memchr(pem, '\0', len) != NULL)
		return malformed(why, n, "the attestation is not PEM text");
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL || (all = sk_X509_new_null()) == NULL)
		goto out;
	for (;;) {
		if (!PEM_read_bio(b, &name, &header, &data, &dlen)) {
			unsigned long e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && sk_X509_num(all) > 0)
				break; /* the end */
			r = malformed(why, n,
			              sk_X509_num(all) > 0
			                  ? "the attestation holds a damaged PEM block"
			                  : "the attestation is not PEM certificates");
			goto out;
		}
		X509 *x = NULL;
		if (strcmp(name, "CERTIFICATE") != 0 || header[0] != '\0' ||
		    (x = der_cert(data, dlen)) == NULL) {
			r = malformed(why, n,
			              "the attestation holds something other than "
			              "certificates (PEM CERTIFICATE blocks)");
			goto out;
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
		if (sk_X509_num(all) == ATTEST_MAX_CERTS || !sk_X509_push(all, x)) {
			X509_free(x);
			r = sk_X509_num(all) == ATTEST_MAX_CERTS
			        ? malformed(why, n,
			                    "the attestation holds more than 4 certificates")
			        : CRT_E_NOMEM;
			goto out;
		}
	}
	if (sk_X509_num(all) < 2) {
		r = malformed(why, n,
		              "the attestation needs the attestation certificate followed "
		              "by the device's intermediate (slot f9)");
		goto out;
	}
	*leaf = sk_X509_shift(all);
	*chain = all;
	all = NULL;
	r = CRT_OK;
out:
	ERR_clear_error();
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	sk_X509_pop_free(all, X509_free);
	BIO_free(b);
	return r;
}

/* The member of the Yubico arc an extension OID names; 0 when not in it. */
static int yubico_member(const ASN1_OBJECT *obj)
{
	char oid[80];
	int len = OBJ_obj2txt(oid, sizeof(oid), obj, 1);
	const size_t arc = sizeof(YK_ARC) - 1;
	char *end;

	if (len <= 0 || (size_t)len >= sizeof(oid) || (size_t)len <= arc ||
	    strncmp(oid, YK_ARC, arc) != 0)
		return 0;
	long v = strtol(oid + arc, &end, 10);
	return *end == '\0' && v > 0 && v < 1000 ? (int)v : 0;
}

static crt_status read_serial(const unsigned char *d, int len, attest_facts *f, char *why, size_t n)
{
	const unsigned char *p = d;
	ASN1_INTEGER *ai = d2i_ASN1_INTEGER(NULL, &p, len);
	unsigned char *re = NULL;
	int64_t v;
	int relen, ok;

	ok = ai != NULL && p == d + len && (relen = i2d_ASN1_INTEGER(ai, &re)) == len &&
	     memcmp(re, d, (size_t)len) == 0 && ASN1_INTEGER_get_int64(&v, ai) == 1 && v >= 0;
	OPENSSL_free(re);
	ASN1_INTEGER_free(ai);
	if (!ok)
		return malformed(why, n,
		                 "the attested serial number (1.3.6.1.4.1.41482.3.7) is not "
		                 "one DER INTEGER of 0 or more");
	f->serial = v;
	return CRT_OK;
}

crt_status attest_extensions_parse(const X509 *leaf, attest_facts *f, char *why, size_t n)
{
	unsigned seen = 0;
	crt_status r;

	memset(f, 0, sizeof(*f));
	f->serial = -1;
	f->form_factor = -1;
	snprintf(why, n, "%s", "");
	for (int i = 0; i < X509_get_ext_count(leaf); i++) {
		X509_EXTENSION *e = X509_get_ext(leaf, i);
		int m = yubico_member(X509_EXTENSION_get_object(e));
		const ASN1_OCTET_STRING *os = X509_EXTENSION_get_data(e);
		const unsigned char *d = ASN1_STRING_get0_data(os);
		int len = ASN1_STRING_length(os);

		if (m == 0 || m > 31)
			continue; /* not ours, or a member we do not read (.10 FIPS, .11 CSPN) */
		if (m != YK_FIRMWARE && m != YK_SERIAL && m != YK_POLICY && m != YK_FORM_FACTOR)
			continue;
		if (seen & (1u << m))
			return malformed(why, n, "a Yubico attestation extension appears twice");
		seen |= 1u << m;
		switch (m) {
		case YK_FIRMWARE:
			if (len != 3)
				return malformed(why, n,
				                 "the attested firmware version "
				                 "(1.3.6.1.4.1.41482.3.3) is not 3 octets");
			f->firmware = ATTEST_FW(d[0], d[1], d[2]);
			break;
		case YK_SERIAL:
			if ((r = read_serial(d, len, f, why, n)) != CRT_OK)
				return r;
			break;
		case YK_POLICY:
			if (len != 2 || d[0] < ATTEST_PIN_NEVER || d[0] > ATTEST_PIN_ALWAYS ||
			    d[1] < ATTEST_TOUCH_NEVER || d[1] > ATTEST_TOUCH_CACHED)
				return malformed(why, n,
				                 "the attested PIN and touch policy "
				                 "(1.3.6.1.4.1.41482.3.8) is not 2 octets "
				                 "of known policies");
			f->pin_policy = d[0];
			f->touch_policy = d[1];
			break;
		case YK_FORM_FACTOR:
			if (len != 1 || (d[0] & 0x30) != 0)
				return malformed(why, n,
				                 "the attested form factor "
				                 "(1.3.6.1.4.1.41482.3.9) is not 1 known "
				                 "octet");
			f->form_factor = d[0] & 0x0f;
			f->fips = (d[0] & 0x80) != 0;
			f->cspn = (d[0] & 0x40) != 0;
			break;
		}
	}
	/* "YubiKey PIV Attestation 9a": the slot of the attested key */
	char cn[80];
	X509_NAME *subj = X509_get_subject_name(leaf);
	int len =
	    subj != NULL ? X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof(cn)) : -1;
	static const char prefix[] = "YubiKey PIV Attestation ";
	if (len == (int)sizeof(prefix) + 1 && strncmp(cn, prefix, sizeof(prefix) - 1) == 0) {
		const char *s = cn + sizeof(prefix) - 1;
		if (strspn(s, "0123456789abcdefABCDEF") == 2)
			snprintf(f->slot, sizeof(f->slot), "%c%c", s[0] | 0x20, s[1] | 0x20);
	}
	ERR_clear_error();
	return CRT_OK;
}

static void cert_sha256_hex(X509 *x, char out[65])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	unsigned int mdlen = 0;
	out[0] = '\0';
	if (X509_digest(x, EVP_sha256(), md, &mdlen) == 1)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
}

crt_status attest_verify(const unsigned char *pem, size_t len, STACK_OF(X509) * roots,
                         EVP_PKEY *key, int64_t now, attest_facts *f, char *why, size_t n)
{
	X509 *leaf = NULL;
	STACK_OF(X509) *chain = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *vc = NULL;
	crt_status r;

	memset(f, 0, sizeof(*f));
	if ((r = attest_chain_parse(pem, len, &leaf, &chain, why, n)) != CRT_OK ||
	    (r = attest_extensions_parse(leaf, f, why, n)) != CRT_OK)
		goto out;
	r = CRT_E_ATTEST_UNTRUSTED;
	if (roots == NULL || sk_X509_num(roots) == 0) {
		snprintf(why, n,
		         "no trusted attestation roots are configured ([attestation] "
		         "trusted_roots)");
		goto out;
	}
	r = CRT_E_NOMEM;
	if ((store = X509_STORE_new()) == NULL || (vc = X509_STORE_CTX_new()) == NULL)
		goto out;
	for (int i = 0; i < sk_X509_num(roots); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(roots, i)))
			goto out;
	if (!X509_STORE_CTX_init(vc, store, leaf, chain))
		goto out;
	X509_VERIFY_PARAM *vp = X509_STORE_CTX_get0_param(vc);
	X509_VERIFY_PARAM_set_time(vp, (time_t)now);
	X509_VERIFY_PARAM_set_depth(vp, ATTEST_MAX_CERTS);
	if (X509_verify_cert(vc) != 1) {
		int e = X509_STORE_CTX_get_error(vc);
		snprintf(why, n, "the attestation does not chain to a trusted root: %s",
		         X509_verify_cert_error_string(e));
		r = CRT_E_ATTEST_UNTRUSTED;
		goto out;
	}
	STACK_OF(X509) *built = X509_STORE_CTX_get0_chain(vc);
	if (sk_X509_num(built) < 3) {
		/* a root signing the "attestation" itself: no device in between */
		snprintf(why, n,
		         "the attestation is signed by the root itself, not by a device's "
		         "attestation key");
		r = CRT_E_ATTEST_UNTRUSTED;
		goto out;
	}
	cert_sha256_hex(sk_X509_value(built, sk_X509_num(built) - 1), f->root_sha256);
	if (key == NULL || EVP_PKEY_eq(X509_get0_pubkey(leaf), key) != 1) {
		snprintf(why, n, "the attested key is not the key of the CSR");
		r = CRT_E_ATTEST_KEY_MISMATCH;
		goto out;
	}
	r = CRT_OK;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(vc);
	X509_STORE_free(store);
	X509_free(leaf);
	sk_X509_pop_free(chain, X509_free);
	return r;
}

/* Read fd (at most limit bytes) into a malloc'd, NUL-terminated buffer. */
static crt_status read_all(int fd, size_t limit, char **data, size_t *len)
{
	size_t cap = 4096, got = 0;
	char *buf = malloc(cap + 1);
	if (buf == NULL)
		return CRT_E_NOMEM;
	for (;;) {
		if (got == cap) {
			char *nb;
			if (cap >= limit || (nb = realloc(buf, cap * 2 + 1)) == NULL) {
				free(buf);
				return cap >= limit ? CRT_E_IO : CRT_E_NOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		ssize_t k = read(fd, buf + got, cap - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return CRT_E_IO;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	buf[got] = '\0';
	*data = buf;
	*len = got;
	return CRT_OK;
}

static int root_file_name(const char *s)
{
	size_t l = strlen(s);
	return s[0] != '.' && l > 4 &&
	       (strcmp(s + l - 4, ".pem") == 0 || strcmp(s + l - 4, ".crt") == 0);
}

/* The certificates of one PEM file into roots. */
static crt_status add_pem_certs(const char *path, const char *text, size_t len,
                                STACK_OF(X509) * roots, char *why, size_t n)
{
	BIO *b = BIO_new_mem_buf(text, (int)len);
	X509 *x;
	int count = 0;

	if (b == NULL)
		return CRT_E_NOMEM;
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(roots, x)) {
			X509_free(x);
			BIO_free(b);
			return CRT_E_NOMEM;
		}
		count++;
	}
	unsigned long e = ERR_peek_last_error();
	BIO_free(b);
	ERR_clear_error();
	if (count == 0 || ERR_GET_REASON(e) != PEM_R_NO_START_LINE) {
		snprintf(why, n, "%s: not PEM certificates", path);
		return CRT_E_CONFIG;
	}
	return CRT_OK;
}

crt_status attest_roots_load(const char *dir, STACK_OF(X509) * *out, char *why, size_t n)
{
	STACK_OF(X509) *roots = NULL;
	DIR *d = NULL;
	struct dirent *de;
	struct stat st;
	crt_status r = CRT_E_NOMEM;
	int dfd, files = 0;

	*out = NULL;
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		snprintf(why, n, "[attestation] trusted_roots %s: %s", dir, strerror(errno));
		return CRT_E_IO;
	}
	if (fstat(dfd, &st) != 0 || (st.st_uid != 0 && st.st_uid != geteuid()) ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		snprintf(why, n,
		         "[attestation] trusted_roots %s must belong to root or to us and "
		         "be writable by no one else",
		         dir);
		close(dfd);
		return CRT_E_UNSAFE_PERMISSIONS;
	}
	if ((d = fdopendir(dfd)) == NULL) {
		close(dfd);
		snprintf(why, n, "[attestation] trusted_roots %s: %s", dir, strerror(errno));
		return CRT_E_IO;
	}
	if ((roots = sk_X509_new_null()) == NULL)
		goto out;
	while ((de = readdir(d)) != NULL) {
		char path[4096], *text = NULL;
		size_t len = 0;
		int fd;

		if (!root_file_name(de->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (++files > 64) {
			snprintf(why, n, "[attestation] trusted_roots %s holds more than 64 files",
			         dir);
			r = CRT_E_CONFIG;
			goto out;
		}
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
		if (fd < 0) {
			snprintf(why, n, "%s: %s", path,
			         errno == ELOOP ? "is a symbolic link" : strerror(errno));
			r = errno == ELOOP ? CRT_E_UNSAFE_PERMISSIONS : CRT_E_IO;
			goto out;
		}
		if ((r = fd_trusted(fd, path, CRT_TRUST_FILE, why, n)) == CRT_OK &&
		    (r = read_all(fd, 256 * 1024, &text, &len)) != CRT_OK)
			snprintf(why, n, "%s: cannot read (or larger than 256 KiB)", path);
		close(fd);
		if (r == CRT_OK)
			r = add_pem_certs(path, text, len, roots, why, n);
		free(text);
		if (r != CRT_OK)
			goto out;
	}
	if (sk_X509_num(roots) == 0) {
		snprintf(why, n,
		         "[attestation] trusted_roots %s holds no *.pem or *.crt "
		         "certificate",
		         dir);
		r = CRT_E_CONFIG;
		goto out;
	}
	*out = roots;
	roots = NULL;
	r = CRT_OK;
out:
	sk_X509_pop_free(roots, X509_free);
	closedir(d);
	return r;
}

char *attest_facts_json(const attest_facts *f)
{
	char fw[16];
	jbuf j;

	jb_begin(&j);
	if (f->serial >= 0)
		jb_int(&j, "serial", f->serial);
	if (f->firmware != 0) {
		attest_firmware_format(f->firmware, fw, sizeof(fw));
		jb_str(&j, "firmware", fw);
	}
	if (f->pin_policy != 0)
		jb_str(&j, "pinPolicy", attest_pin_name(f->pin_policy));
	if (f->touch_policy != 0)
		jb_str(&j, "touchPolicy", attest_touch_name(f->touch_policy));
	if (f->form_factor >= 0) {
		jb_str(&j, "formFactor", attest_form_factor_name(f->form_factor));
		jb_int(&j, "fips", f->fips);
		jb_int(&j, "cspn", f->cspn);
	}
	if (f->slot[0] != '\0')
		jb_str(&j, "slot", f->slot);
	if (f->root_sha256[0] != '\0')
		jb_str(&j, "root", f->root_sha256);
	return jb_end(&j);
}

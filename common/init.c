/*
 * init.c — making a new self-contained instance: a directory holding the
 * documented config, the store, the CA (generated or imported) and the OTP
 * sealing key. Either everything is created or nothing is left behind.
 */
#include <errno.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

extern const char crt_conf_sample[];

struct created {
	char paths[8][4096];
	int n;
};

static void path_join(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static crt_status write_new(struct created *cr, const char *dir, const char *name,
			    const void *data, size_t len, unsigned mode, char *err, size_t errlen)
{
	char *p = cr->paths[cr->n];
	crt_status r;
	path_join(p, sizeof(cr->paths[0]), dir, name);
	if ((r = crt_file_write(p, data, len, mode, 0, err, errlen)) != CRT_OK)
		return r;
	cr->n++;
	return CRT_OK;
}

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

static crt_status make_ca(const crt_init_opts *o, struct created *cr, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char *kpem = NULL, *cpem = NULL;
	crt_status r;
	const char *type = o->ca_key_type ? o->ca_key_type : "ec-p256";

	if (strcmp(type, "ec-p256") != 0 && strcmp(type, "ec-p384") != 0 &&
	    strcmp(type, "rsa-3072") != 0) {
		snprintf(err, errlen, "CA key type %s: use ec-p256, ec-p384 or rsa-3072", type);
		return CRT_E_KEY_TYPE;
	}
	if ((r = ca_keygen(type, &key)) != CRT_OK)
		goto out;
	if ((r = ca_self_signed(key, o->ca_subject, o->ca_days > 0 ? o->ca_days : 3650, &cert)) !=
	    CRT_OK) {
		if (r == CRT_E_INVALID_ARGUMENT)
			snprintf(err, errlen, "CA subject \"%s\": use the form /CN=name/O=org",
				 o->ca_subject);
		goto out;
	}
	if ((kpem = key_pem(key)) == NULL || (cpem = ca_cert_pem(cert)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	if ((r = write_new(cr, o->dir, "ca.key", kpem, strlen(kpem), 0600, err, errlen)) !=
		    CRT_OK ||
	    (r = write_new(cr, o->dir, "ca.pem", cpem, strlen(cpem), 0644, err, errlen)) != CRT_OK)
		goto out;
out:
	crt_strfree_secret(kpem);
	free(cpem);
	EVP_PKEY_free(key);
	X509_free(cert);
	return r;
}

/*
 * The CA key made in a PKCS#11 token (ca_pkcs11_keygen: EC P-256, not
 * extractable), the self-signed certificate signed there through the
 * engine; no key file is written. *made tells the caller to destroy the
 * key again if the instance is not completed.
 */
static crt_status make_ca_pkcs11(const crt_init_opts *o, struct created *cr, int *made, char *err,
				 size_t errlen)
{
	EVP_PKEY *key = NULL;
	void *engine = NULL;
	X509 *cert = NULL;
	char *cpem = NULL;
	crt_status r;

	*made = 0;
	if (o->ca_key_type != NULL && strcmp(o->ca_key_type, "ec-p256") != 0) {
		snprintf(err, errlen, "a CA key made in a PKCS#11 token is ec-p256");
		return CRT_E_KEY_TYPE;
	}
	if ((r = ca_pkcs11_keygen(o->ca_key_uri, o->ca_module, o->ca_pin_file, err, errlen)) !=
	    CRT_OK)
		return r;
	*made = 1;
	if ((r = ca_pkcs11_open(o->ca_key_uri, o->ca_module, o->ca_pin_file, &key, &engine, err,
				errlen)) != CRT_OK)
		goto out;
	if ((r = ca_self_signed(key, o->ca_subject, o->ca_days > 0 ? o->ca_days : 3650, &cert)) !=
	    CRT_OK) {
		if (r == CRT_E_INVALID_ARGUMENT)
			snprintf(err, errlen, "CA subject \"%s\": use the form /CN=name/O=org",
				 o->ca_subject);
		else
			snprintf(err, errlen, "the token could not sign the CA certificate");
		goto out;
	}
	if ((cpem = ca_cert_pem(cert)) == NULL) {
		r = CRT_E_NOMEM;
		goto out;
	}
	r = write_new(cr, o->dir, "ca.pem", cpem, strlen(cpem), 0644, err, errlen);
out:
	free(cpem);
	X509_free(cert);
	EVP_PKEY_free(key);
	ca_pkcs11_release(engine);
	return r;
}

/* The sample config, with [ca] key = the URI (and its PIN file and module). */
static char *conf_text(const crt_init_opts *o, char *err, size_t errlen)
{
	static const char anchor[] = "\n;key = ca.key\n";
	const char *at = strstr(crt_conf_sample, anchor);
	char pin[4096], mod[4096];
	if (o->ca_key_uri == NULL)
		return strdup(crt_conf_sample);
	if (at == NULL || strchr(o->ca_key_uri, '\n') != NULL ||
	    realpath(o->ca_pin_file, pin) == NULL ||
	    (o->ca_module != NULL && o->ca_module[0] != '/' &&
	    realpath(o->ca_module, mod) == NULL)) {
		snprintf(err, errlen, "cannot write [ca] key = %s into crtoken.conf", o->ca_key_uri);
		return NULL;
	}
	if (o->ca_module != NULL && o->ca_module[0] == '/') /* as given: a symlink stays one */
		snprintf(mod, sizeof(mod), "%s", o->ca_module);
	size_t n = strlen(crt_conf_sample) + strlen(o->ca_key_uri) + 2 * 4096 + 128;
	char *t = malloc(n);
	if (t == NULL)
		return NULL;
	int k = snprintf(t, n, "%.*s\nkey = %s\npin_file = %s\n", (int)(at - crt_conf_sample),
			 crt_conf_sample, o->ca_key_uri, pin);
	if (o->ca_module != NULL)
		k += snprintf(t + k, n - (size_t)k, "module_path = %s\n", mod);
	snprintf(t + k, n - (size_t)k, "%s", at + strlen(anchor));
	return t;
}

static crt_status copy_in(struct created *cr, const char *dir, const char *src, const char *name,
			  unsigned mode, char *err, size_t errlen)
{
	char *data = NULL;
	size_t len = 0;
	crt_status r;
	if (read_file(src, 1 << 20, &data, &len) != CRT_OK) {
		snprintf(err, errlen, "%s: cannot read", src);
		return CRT_E_IO;
	}
	r = write_new(cr, dir, name, data, len, mode, err, errlen);
	crt_freezero(data, len);
	return r;
}

crt_status crt_init(const crt_init_opts *o, char *err, size_t errlen)
{
	struct created *cr = calloc(1, sizeof(*cr));
	unsigned char otpkey[32];
	char conf[4096];
	crt_ctx *ctx = NULL;
	crt_status r;
	char dummy[8], *conftext = NULL;
	int token_key = 0;

	if (err == NULL || errlen == 0) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	if (cr == NULL)
		return CRT_E_NOMEM;
	if (o == NULL || o->dir == NULL || *o->dir == '\0') {
		snprintf(err, errlen, "an instance directory is required");
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	if ((o->import_cert != NULL) != (o->import_key != NULL)) {
		snprintf(err, errlen, "importing a CA needs both its certificate and its key");
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	if (o->ca_key_uri != NULL && (o->import_cert != NULL || o->ca_pin_file == NULL)) {
		snprintf(err, errlen, o->import_cert ? "a CA key in a PKCS#11 token is made, not "
						       "imported"
						     : "a CA key in a PKCS#11 token needs its PIN "
						       "file (--pin-file)");
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	if (o->ca_key_uri == NULL && (o->ca_pin_file != NULL || o->ca_module != NULL)) {
		snprintf(err, errlen, "a PIN file and a module apply only to --ca-key-uri");
		r = CRT_E_INVALID_ARGUMENT;
		goto out;
	}
	if (mkdir(o->dir, 0750) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "%s: %s", o->dir, strerror(errno));
		r = CRT_E_IO;
		goto out;
	}
	/* An existing directory someone else owns or can write could be made
	 * to hold their files instead of ours (see dir_chain_trusted). */
	char rdir[4096];
	if ((r = dir_chain_trusted(o->dir, rdir, err, errlen)) != CRT_OK) {
		if (r == CRT_E_UNSAFE_PERMISSIONS)
			snprintf(err + strlen(err), errlen - strlen(err),
				 "; refusing to make an instance there");
		goto out;
	}
	path_join(conf, sizeof(conf), o->dir, "crtoken.conf");
	char db[4096];
	path_join(db, sizeof(db), o->dir, "crtoken.db");
	if (access(conf, F_OK) == 0 || access(db, F_OK) == 0) {
		snprintf(err, errlen, "%s already holds an instance", o->dir);
		r = CRT_E_EXISTS;
		goto out;
	}
	if (o->import_cert != NULL) {
		if ((r = copy_in(cr, o->dir, o->import_key, "ca.key", 0600, err, errlen)) != CRT_OK ||
		    (r = copy_in(cr, o->dir, o->import_cert, "ca.pem", 0644, err, errlen)) != CRT_OK ||
		    (o->import_chain != NULL &&
		     (r = copy_in(cr, o->dir, o->import_chain, "chain.pem", 0644, err, errlen)) !=
			     CRT_OK))
			goto out;
	} else if (o->ca_key_uri != NULL) {
		if ((r = make_ca_pkcs11(o, cr, &token_key, err, errlen)) != CRT_OK)
			goto out;
	} else if ((r = make_ca(o, cr, err, errlen)) != CRT_OK) {
		goto out;
	}
	if ((r = random_bytes(otpkey, sizeof(otpkey))) != CRT_OK ||
	    (r = write_new(cr, o->dir, "otp.key", otpkey, sizeof(otpkey), 0600, err, errlen)) !=
		    CRT_OK)
		goto out;
	if ((conftext = conf_text(o, err, errlen)) == NULL) {
		r = err[0] ? CRT_E_INVALID_ARGUMENT : CRT_E_NOMEM;
		goto out;
	}
	if ((r = write_new(cr, o->dir, "crtoken.conf", conftext, strlen(conftext), 0640, err,
			   errlen)) != CRT_OK)
		goto out;
	/* Create the store and load the CA through the normal path: this also
	 * validates an imported CA (CA:TRUE, key match, key permissions). */
	snprintf(cr->paths[cr->n++], sizeof(cr->paths[0]), "%s", db);
	r = crt_open(conf, CRT_OPEN_CREATE, &ctx);
	if (r != CRT_OK) {
		snprintf(err, errlen, "%s", crt_errdetail(ctx));
		goto out;
	}
	jbuf j;
	jb_begin(&j);
	jb_str(&j, "ca", ctx->ca_issuer);
	jb_str(&j, "imported", o->import_cert ? "yes" : "no");
	if (o->ca_key_uri != NULL)
		jb_str(&j, "caKey", o->ca_key_uri);
	char *detail = jb_end(&j);
	if ((r = store_begin_write(ctx)) == CRT_OK) {
		if ((r = audit_write(ctx, "crtoken-admin", "instance.init", o->dir, detail)) ==
		    CRT_OK)
			r = store_commit(ctx);
		else
			store_rollback(ctx);
	}
	free(detail);
out:
	OPENSSL_cleanse(otpkey, sizeof(otpkey));
	crt_close(ctx);
	free(conftext);
	if (r != CRT_OK && token_key)
		ca_pkcs11_destroy(o->ca_key_uri, o->ca_module, o->ca_pin_file);
	if (r != CRT_OK) {
		char side[4200];
		for (int i = cr->n - 1; i >= 0; i--) {
			unlink(cr->paths[i]);
			snprintf(side, sizeof(side), "%s-wal", cr->paths[i]);
			unlink(side);
			snprintf(side, sizeof(side), "%s-shm", cr->paths[i]);
			unlink(side);
		}
	}
	free(cr);
	return r;
}

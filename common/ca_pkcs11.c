/*
 * ca_pkcs11.c — the CA private key in a PKCS#11 token (an HSM, a smart
 * card, SoftHSM2): `[ca] key = pkcs11:token=...;object=...` (RFC 7512).
 *
 * Signing goes through the OpenSSL ENGINE `pkcs11` (Debian 12:
 * libengine-pkcs11-openssl; OpenSSL's PKCS#11 provider is not in Debian 12)
 * over the module in `[ca] module_path` (default: the engine's default, the
 * p11-kit proxy, which loads the modules p11-kit is configured with). The
 * EVP_PKEY it returns is a handle: the private key never leaves the token.
 * The PIN comes from `[ca] pin_file`, read with the secret-file trust checks
 * and wiped after use; a PIN in the URI (pin-value, pin-source) is refused.
 *
 * `crtoken-admin init --ca-key-uri` makes the key in the token with
 * C_GenerateKeyPair through the module itself (dlopen + C_GetFunctionList;
 * no tool is run): EC P-256, CKA_SENSITIVE, not CKA_EXTRACTABLE.
 *
 * ENGINEs are deprecated in OpenSSL 3: this file alone is compiled with
 * -Wno-deprecated-declarations (common/module.mk).
 */
#define _GNU_SOURCE /* strcasestr */
#include <dlfcn.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

#define P11_DEFAULT_MODULE "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so"

int ca_is_pkcs11_uri(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

const char *ca_pkcs11_uri_refusal(const char *uri)
{
	if (strcasestr(uri, "pin-value") != NULL || strcasestr(uri, "pin-source") != NULL)
		return "[ca] key: a PIN in the pkcs11: URI (pin-value/pin-source) is refused; put "
		       "the PIN in the file named by [ca] pin_file (mode 0600)";
	if (strstr(uri, "object=") == NULL && strstr(uri, "id=") == NULL)
		return "[ca] key: the pkcs11: URI names no key (object=LABEL or id=HEX)";
	return NULL;
}

/* Percent-decode one URI attribute value into out (NUL-terminated). */
static int pct_decode(const char *v, size_t n, char *out, size_t outlen, size_t *olen)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)v[i];
		if (c == '%') {
			unsigned hi, lo;
			if (i + 2 >= n)
				return -1;
			if (sscanf(v + i + 1, "%1x%1x", &hi, &lo) != 2)
				return -1;
			c = (int)(hi * 16 + lo);
			i += 2;
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	*olen = o;
	return 0;
}

struct p11_uri {
	char token[64], object[256];
	unsigned char id[64];
	size_t token_len, object_len, id_len;
	int has_token, has_object;
};

/* The path attributes we act on (token, object, id); others are ignored. */
static int uri_parse(const char *uri, struct p11_uri *u)
{
	memset(u, 0, sizeof(*u));
	if (!ca_is_pkcs11_uri(uri))
		return -1;
	const char *p = uri + 7, *end = strchr(p, '?');
	if (end == NULL)
		end = p + strlen(p);
	while (p < end) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		const char *stop = semi ? semi : end, *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq == NULL)
			return -1;
		size_t nlen = (size_t)(eq - p), vlen = (size_t)(stop - eq - 1);
		if (nlen == 5 && strncmp(p, "token", 5) == 0) {
			if (pct_decode(eq + 1, vlen, u->token, sizeof(u->token), &u->token_len))
				return -1;
			u->has_token = 1;
		} else if (nlen == 6 && strncmp(p, "object", 6) == 0) {
			if (pct_decode(eq + 1, vlen, u->object, sizeof(u->object), &u->object_len))
				return -1;
			u->has_object = 1;
		} else if (nlen == 2 && strncmp(p, "id", 2) == 0) {
			char tmp[sizeof(u->id) + 1];
			if (pct_decode(eq + 1, vlen, tmp, sizeof(tmp), &u->id_len))
				return -1;
			memcpy(u->id, tmp, u->id_len);
		}
		p = stop + (semi ? 1 : 0);
	}
	return 0;
}

/* The PIN from pin_file (trailing newline dropped). The caller wipes it. */
static crt_status read_pin(const char *pin_file, char **pin, size_t *len, char *err,
			   size_t errlen)
{
	char why[600];
	crt_status r;

	*pin = NULL;
	if (pin_file == NULL) {
		snprintf(err, errlen, "[ca] key is a pkcs11: URI but [ca] pin_file is not set");
		return CRT_E_CA_INVALID;
	}
	r = read_trusted(pin_file, 4096, CRT_TRUST_SECRET, pin, len, why, sizeof(why));
	if (r == CRT_E_UNSAFE_PERMISSIONS) {
		snprintf(err, errlen, "CA token PIN file: %s", why);
		return r;
	}
	if (r != CRT_OK) {
		snprintf(err, errlen, "CA token PIN file: cannot open: %s", why);
		return r == CRT_E_NOMEM ? r : CRT_E_CA_MISSING;
	}
	while (*len > 0 && ((*pin)[*len - 1] == '\n' || (*pin)[*len - 1] == '\r'))
		(*pin)[--*len] = '\0';
	if (*len == 0 || memchr(*pin, '\0', *len) != NULL) {
		crt_freezero(*pin, *len);
		*pin = NULL;
		snprintf(err, errlen, "CA token PIN file %s: empty or not text", pin_file);
		return CRT_E_CA_INVALID;
	}
	return CRT_OK;
}

/* Does the OpenSSL error queue say the token refused the PIN? */
static int errors_name_pin(char *buf, size_t n)
{
	unsigned long e;
	int pin = 0;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];
		ERR_error_string_n(e, one, sizeof(one));
		if (strcasestr(one, "PIN") != NULL)
			pin = 1;
		if (buf[0] == '\0')
			snprintf(buf, n, "%s", one);
	}
	return pin;
}

void ca_pkcs11_release(void *engine)
{
	ENGINE *e = engine;
	if (e == NULL)
		return;
	ENGINE_finish(e);
	ENGINE_free(e);
}

crt_status ca_pkcs11_open(const char *uri, const char *module, const char *pin_file,
			  EVP_PKEY **key, void **engine, char *err, size_t errlen)
{
	ENGINE *e = NULL;
	char *pin = NULL, ossl[300];
	size_t pinlen = 0;
	int inited = 0;
	const char *bad;
	crt_status r;

	*key = NULL;
	*engine = NULL;
	if ((bad = ca_pkcs11_uri_refusal(uri)) != NULL) {
		snprintf(err, errlen, "%s", bad);
		return CRT_E_CONFIG;
	}
	if ((r = read_pin(pin_file, &pin, &pinlen, err, errlen)) != CRT_OK)
		return r;
	ENGINE_load_dynamic();
	if ((e = ENGINE_by_id("pkcs11")) == NULL) {
		snprintf(err, errlen,
			 "[ca] key is a pkcs11: URI but the OpenSSL engine pkcs11 cannot be "
			 "loaded (Debian: install libengine-pkcs11-openssl)");
		r = CRT_E_CA_INVALID;
		goto out;
	}
	ENGINE_ctrl_cmd_string(e, "QUIET", NULL, 1);
	if (module != NULL && !ENGINE_ctrl_cmd_string(e, "MODULE_PATH", module, 0)) {
		snprintf(err, errlen, "[ca] module_path %s: refused by the pkcs11 engine", module);
		r = CRT_E_CA_INVALID;
		goto out;
	}
	if (!ENGINE_ctrl_cmd_string(e, "PIN", pin, 0)) {
		snprintf(err, errlen, "the pkcs11 engine refused the PIN setting");
		r = CRT_E_CA_INVALID;
		goto out;
	}
	if (!ENGINE_init(e)) {
		errors_name_pin(ossl, sizeof(ossl));
		snprintf(err, errlen, "the PKCS#11 module %s cannot be initialised: %s",
			 module ? module : P11_DEFAULT_MODULE, ossl);
		r = CRT_E_CA_INVALID;
		goto out;
	}
	inited = 1;
	*key = ENGINE_load_private_key(e, uri, (UI_METHOD *)UI_null(), NULL);
	if (*key == NULL) {
		int pin_refused = errors_name_pin(ossl, sizeof(ossl));
		if (pin_refused)
			snprintf(err, errlen,
				 "CA key %s: the token refused the PIN from %s (%s)", uri,
				 pin_file, ossl);
		else
			snprintf(err, errlen,
				 "CA key %s: not found in the token or not usable with the PIN "
				 "from %s (%s)",
				 uri, pin_file, ossl[0] ? ossl : "no key");
		r = CRT_E_CA_INVALID;
		goto out;
	}
	*engine = e;
	e = NULL;
	r = CRT_OK;
out:
	if (pin != NULL)
		crt_freezero(pin, pinlen);
	if (e != NULL) {
		if (inited)
			ENGINE_finish(e);
		ENGINE_free(e);
	}
	ERR_clear_error();
	return r;
}

int ca_pubkey_eq(X509 *cert, EVP_PKEY *key)
{
	unsigned char *a = NULL, *b = NULL;
	int la = i2d_PUBKEY(X509_get0_pubkey(cert), &a), lb = i2d_PUBKEY(key, &b);
	int eq = la > 0 && la == lb && memcmp(a, b, (size_t)la) == 0;
	OPENSSL_free(a);
	OPENSSL_free(b);
	ERR_clear_error();
	return eq;
}

/* ------------------------------------------------------------ key generation */

static const char *ckr_name(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
	case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
	case CKR_PIN_EXPIRED: return "CKR_PIN_EXPIRED";
	case CKR_USER_PIN_NOT_INITIALIZED: return "CKR_USER_PIN_NOT_INITIALIZED";
	case CKR_TOKEN_WRITE_PROTECTED: return "CKR_TOKEN_WRITE_PROTECTED";
	case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
	case CKR_DEVICE_MEMORY: return "CKR_DEVICE_MEMORY";
	default: return "error";
	}
}

/* Token labels are 32 bytes, blank-padded. */
static int label_eq(const CK_UTF8CHAR lab[32], const char *s, size_t n)
{
	size_t l = 32;
	while (l > 0 && lab[l - 1] == ' ')
		l--;
	return l == n && memcmp(lab, s, n) == 0;
}

crt_status ca_pkcs11_keygen(const char *uri, const char *module, const char *pin_file,
			    char *err, size_t errlen)
{
	static const CK_BYTE p256_oid[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01,
					   0x07};
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID *slots = NULL, slot = 0;
	CK_ULONG nslots = 0;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	CK_RV rv;
	struct p11_uri u;
	const char *path = module ? module : P11_DEFAULT_MODULE;
	char *pin = NULL;
	size_t pinlen = 0;
	int initialized = 0, found = 0, logged_in = 0;
	void *dl = NULL;
	crt_status r = CRT_E_CA_INVALID;
	const char *bad;

	if ((bad = ca_pkcs11_uri_refusal(uri)) != NULL) {
		snprintf(err, errlen, "%s", bad);
		return CRT_E_CONFIG;
	}
	if (uri_parse(uri, &u) != 0 || !u.has_token || !u.has_object) {
		snprintf(err, errlen,
			 "--ca-key-uri %s: to make the key, the URI needs token=LABEL and "
			 "object=LABEL (RFC 7512, values percent-encoded)",
			 uri);
		return CRT_E_INVALID_ARGUMENT;
	}
	if ((r = read_pin(pin_file, &pin, &pinlen, err, errlen)) != CRT_OK)
		return r;
	r = CRT_E_CA_INVALID;
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		snprintf(err, errlen, "PKCS#11 module %s: %s", path, dlerror());
		goto out;
	}
	if ((getfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL ||
	    getfl(&f) != CKR_OK || f == NULL) {
		snprintf(err, errlen, "%s: not a PKCS#11 module (no C_GetFunctionList)", path);
		goto out;
	}
	CK_C_INITIALIZE_ARGS ia = {.flags = CKF_OS_LOCKING_OK};
	rv = f->C_Initialize(&ia);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		snprintf(err, errlen, "%s: C_Initialize failed (0x%lx)", path, (unsigned long)rv);
		goto out;
	}
	initialized = rv == CKR_OK;
	if (f->C_GetSlotList(CK_TRUE, NULL, &nslots) != CKR_OK ||
	    (slots = calloc(nslots + 1, sizeof(*slots))) == NULL ||
	    f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK) {
		snprintf(err, errlen, "%s: cannot list the tokens", path);
		goto out;
	}
	for (CK_ULONG i = 0; i < nslots && !found; i++) {
		CK_TOKEN_INFO ti;
		if (f->C_GetTokenInfo(slots[i], &ti) == CKR_OK &&
		    label_eq(ti.label, u.token, u.token_len)) {
			slot = slots[i];
			found = 1;
		}
	}
	if (!found) {
		snprintf(err, errlen, "%s: no token labelled \"%s\" in %s", uri, u.token, path);
		goto out;
	}
	if ((rv = f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				   &sess)) != CKR_OK) {
		snprintf(err, errlen, "token \"%s\": cannot open a session (0x%lx)", u.token,
			 (unsigned long)rv);
		goto out;
	}
	rv = f->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pinlen);
	if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN) {
		snprintf(err, errlen, "token \"%s\" refused the PIN from %s (%s)", u.token,
			 pin_file, ckr_name(rv));
		goto out;
	}
	logged_in = 1;

	/* Never replace or reuse a key: the label must be free. */
	CK_OBJECT_CLASS priv = CKO_PRIVATE_KEY, pubc = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE find[] = {{CKA_LABEL, u.object, u.object_len}};
	CK_OBJECT_HANDLE h;
	CK_ULONG nfound = 0;
	if (f->C_FindObjectsInit(sess, find, 1) != CKR_OK) {
		snprintf(err, errlen, "token \"%s\": cannot search it", u.token);
		goto out;
	}
	rv = f->C_FindObjects(sess, &h, 1, &nfound);
	f->C_FindObjectsFinal(sess);
	if (rv != CKR_OK || nfound > 0) {
		snprintf(err, errlen, "token \"%s\" already holds an object labelled \"%s\"; "
				      "crtoken makes a new key and never reuses one",
			 u.token, u.object);
		r = CRT_E_EXISTS;
		goto out;
	}
	unsigned char id[16];
	size_t idlen = u.id_len ? u.id_len : 16;
	if (u.id_len)
		memcpy(id, u.id, u.id_len > sizeof(id) ? sizeof(id) : u.id_len);
	else if ((r = random_bytes(id, sizeof(id))) != CRT_OK)
		goto out;
	if (idlen > sizeof(id))
		idlen = sizeof(id);
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE pub[] = {
		{CKA_CLASS, &pubc, sizeof(pubc)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_VERIFY, &yes, sizeof(yes)},
		{CKA_EC_PARAMS, (void *)p256_oid, sizeof(p256_oid)},
		{CKA_LABEL, u.object, u.object_len},
		{CKA_ID, id, idlen},
	};
	CK_ATTRIBUTE prv[] = {
		{CKA_CLASS, &priv, sizeof(priv)},
		{CKA_KEY_TYPE, &kt, sizeof(kt)},
		{CKA_TOKEN, &yes, sizeof(yes)},
		{CKA_PRIVATE, &yes, sizeof(yes)},
		{CKA_SENSITIVE, &yes, sizeof(yes)},
		{CKA_EXTRACTABLE, &no, sizeof(no)},
		{CKA_SIGN, &yes, sizeof(yes)},
		{CKA_LABEL, u.object, u.object_len},
		{CKA_ID, id, idlen},
	};
	CK_MECHANISM mech = {CKM_EC_KEY_PAIR_GEN, NULL, 0};
	CK_OBJECT_HANDLE hpub, hprv;
	rv = f->C_GenerateKeyPair(sess, &mech, pub, sizeof(pub) / sizeof(pub[0]), prv,
				  sizeof(prv) / sizeof(prv[0]), &hpub, &hprv);
	if (rv != CKR_OK) {
		snprintf(err, errlen, "token \"%s\": C_GenerateKeyPair (EC P-256) failed (%s, 0x%lx)",
			 u.token, ckr_name(rv), (unsigned long)rv);
		r = CRT_E_CA_INVALID;
		goto out;
	}
	r = CRT_OK;
out:
	if (pin != NULL)
		crt_freezero(pin, pinlen);
	if (f != NULL) {
		if (logged_in)
			f->C_Logout(sess);
		if (sess != CK_INVALID_HANDLE)
			f->C_CloseSession(sess);
		if (initialized)
			f->C_Finalize(NULL);
	}
	free(slots);
	if (dl != NULL)
		dlclose(dl);
	return r;
}

/* Remove the key pair crtoken just made (init failed after keygen). */
crt_status ca_pkcs11_destroy(const char *uri, const char *module, const char *pin_file)
{
	CK_FUNCTION_LIST_PTR f = NULL;
	CK_C_GetFunctionList getfl;
	CK_SLOT_ID slots[64];
	CK_ULONG nslots = 64;
	CK_SESSION_HANDLE sess = CK_INVALID_HANDLE;
	struct p11_uri u;
	const char *path = module ? module : P11_DEFAULT_MODULE;
	char *pin = NULL, err[600];
	size_t pinlen = 0;
	int initialized = 0;
	void *dl = NULL;
	crt_status r = CRT_E_CA_INVALID;

	if (uri_parse(uri, &u) != 0 || !u.has_token || !u.has_object ||
	    read_pin(pin_file, &pin, &pinlen, err, sizeof(err)) != CRT_OK)
		return r;
	if ((dl = dlopen(path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		goto out;
	if ((getfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList")) == NULL ||
	    getfl(&f) != CKR_OK || f == NULL) {
		f = NULL;
		goto out;
	}
	CK_C_INITIALIZE_ARGS ia = {.flags = CKF_OS_LOCKING_OK};
	CK_RV rv = f->C_Initialize(&ia);
	if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		goto out;
	initialized = rv == CKR_OK;
	if (f->C_GetSlotList(CK_TRUE, slots, &nslots) != CKR_OK)
		goto out;
	for (CK_ULONG i = 0; i < nslots; i++) {
		CK_TOKEN_INFO ti;
		if (f->C_GetTokenInfo(slots[i], &ti) != CKR_OK ||
		    !label_eq(ti.label, u.token, u.token_len))
			continue;
		if (f->C_OpenSession(slots[i], CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				     &sess) != CKR_OK)
			break;
		rv = f->C_Login(sess, CKU_USER, (CK_UTF8CHAR_PTR)pin, (CK_ULONG)pinlen);
		if (rv != CKR_OK && rv != CKR_USER_ALREADY_LOGGED_IN)
			break;
		CK_ATTRIBUTE find[] = {{CKA_LABEL, u.object, u.object_len}};
		CK_OBJECT_HANDLE h[8];
		CK_ULONG n = 0;
		if (f->C_FindObjectsInit(sess, find, 1) == CKR_OK) {
			f->C_FindObjects(sess, h, 8, &n);
			f->C_FindObjectsFinal(sess);
		}
		for (CK_ULONG k = 0; k < n; k++)
			f->C_DestroyObject(sess, h[k]);
		f->C_Logout(sess);
		r = CRT_OK;
		break;
	}
out:
	crt_freezero(pin, pinlen);
	if (f != NULL) {
		if (sess != CK_INVALID_HANDLE)
			f->C_CloseSession(sess);
		if (initialized)
			f->C_Finalize(NULL);
	}
	if (dl != NULL)
		dlclose(dl);
	return r;
}

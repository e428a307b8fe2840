/*
 * internal.h — what libcrtoken's own files share and adapters never see:
 * the ctx layout, store/transaction helpers, the audit writer, small string
 * and JSON helpers. Each function is defined in the file named beside it.
 */
#ifndef CRTOKEN_INTERNAL_H
#define CRTOKEN_INTERNAL_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdarg.h>
#include <string.h>

#include "crtoken.h"
#include "ca_cfssl.h"

/*
 * The instance (crt_instance in crtoken.h): what every session of one
 * configuration shares — the parsed config, the CA, the OTP sealing key,
 * each read once at open — and the backend's per-store state. Immutable
 * once crt_instance_open returned it (the backend slot is created once,
 * under its mutex, and never replaced), so any number of threads read it
 * without a lock; the reference count is atomic. ctx.c.
 */
#define CRT_OTP_KEY_LEN 32

/* The backend's state for one store shared by the sessions of an instance
 * (SQLite: the writer mutex and the group-commit queue). Made by the backend
 * on the first session that asks (store_instance_state), freed by it with
 * the last instance holding the slot: an instance reopened from another
 * (crt_instance_reopen, a reload) on the same store shares its slot, so
 * the writers of both generations still queue in one place. */
struct store_slot {
	int refs;                  /* instances holding it (atomic) */
	pthread_mutex_t mu;        /* guards the creation of state */
	char *key;                 /* backend + database: what may share it */
	void *state;               /* the backend's */
	void (*state_free)(void *state);
};

/* One CA of an instance (ca.c: ca_load): cas[0] is [ca], named "default";
 * the [ca NAME] sections follow in file order. Owned by the instance. */
struct ca_entry {
	const char *name;         /* views of the instance's config */
	const char *cert_file, *key_file, *chain_file, *pin_file, *module, *crl_file;
	X509 *cert;
	EVP_PKEY *key;
	STACK_OF(X509) *chain;    /* intermediates above cert (may be empty) */
	char *chain_pem;          /* cert PEM + chain PEM, ready to return */
	char *issuer;             /* oneline subject of cert */
	void *engine;             /* key = pkcs11:...: the ENGINE holding key */
	const char *type;         /* "local", "pkcs11" or "cfssl" (view of the config) */
	ca_cfssl_conf remote;     /* type = cfssl: the connector's settings (views) */
	struct ca_cfssl *cfssl;   /* type = cfssl: the remote signer (key NULL) */
	char ski[130];            /* the CA's Subject Key Identifier, lowercase hex */
	unsigned char key_hash[20]; /* SHA-1 of its public key bits (OCSP issuerKeyHash) */
};

struct crt_instance {
	int refs;                  /* atomic */
	unsigned flags;            /* CRT_OPEN_NO_CA, CRT_OPEN_CREATE */
	crt_config cfg;
	/* the CAs, loaded unless CRT_OPEN_NO_CA (ca.c: ca_load); ncas = 0
	 * when not loaded */
	struct ca_entry *cas;
	size_t ncas;
	char *cas_pem;             /* every CA's chain_pem, in order (GET /ca.pem) */
	/* [otp] key_file, read at open: the key, or why it cannot be used
	 * (reported by the OTP calls that need it, as when it was read there) */
	unsigned char otp_key[CRT_OTP_KEY_LEN];
	crt_status otp_key_status;
	char otp_key_detail[640];
	/* [ocsp] signer, loaded with the CA when configured (ocsp.c:
	 * ocsp_signer_load): the certificate and key, or why they cannot be
	 * used (reported by crt_ocsp_respond) */
	X509 *ocsp_cert;
	EVP_PKEY *ocsp_key;
	crt_status ocsp_status;
	char ocsp_detail[640];
	/* [attestation] trusted_roots, loaded with the CA when configured
	 * (attest.c: attest_roots_load); NULL when not configured */
	STACK_OF(X509) *attest_roots;
	/* [import] trusted_issuers, loaded with the CA when configured
	 * (import.c: import_issuers_load); NULL when not configured */
	STACK_OF(X509) *import_issuers;
	struct store_slot *slot;
};

/*
 * A session (crt_ctx): one store connection and the detail of its last
 * failure, over an instance it holds a reference to. Not thread-safe: one
 * thread at a time. cfg and the ca_* fields are views of inst — the same
 * strings and objects, owned by the instance and never freed or changed
 * through the session — so the domain reads ctx->cfg.x and ctx->ca_key.
 */
struct crt_ctx {
	crt_instance *inst;
	const crt_config cfg;     /* view: a copy of inst->cfg (its strings are inst's) */
	unsigned flags;           /* the instance's flags | the session's */
	const struct store_ops *ops; /* the backend ([store] backend) ... */
	struct store_conn *conn;     /* ... and its connection (store/port.h) */
	/* views of the selected CA of inst (ca_select; the default CA unless
	 * an operation selected another; NULL unless loaded) */
	const struct ca_entry *ca;
	const char *ca_name;      /* the selected CA's name (also when not loaded) */
	X509 *ca_cert;
	EVP_PKEY *ca_key;
	STACK_OF(X509) *ca_chain;
	char *ca_chain_pem;
	char *ca_issuer;
	/* cached SubjectPublicKeyInfo decoder (see csr.c) and its output slot */
	struct ossl_decoder_ctx_st *spki_decoder;
	EVP_PKEY *spki_out;
	/* a remote CA's libcurl handle, kept for its connections (ca_cfssl.c) */
	void *remote_http;
	struct {                  /* the fault seam (store/fault.c) */
		int countdown, calls;
		crt_status status;
	} fault;
	char detail[512];
};

/* Internal crt_open flag: create the store file if it is missing (init only). */
#define CRT_OPEN_CREATE (1u << 8)

/* --- ctx.c --- */
/* Set the failure detail of ctx and return s (for `return ctx_fail(...)`). */
crt_status ctx_fail(crt_ctx *ctx, crt_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ctx_clear_detail(crt_ctx *ctx);
/* crt_instance_open with internal flags (CRT_OPEN_CREATE) and, when prev
 * names the same store, prev's backend slot shared. */
crt_status instance_open(const char *path, unsigned flags, const crt_instance *prev,
			 crt_instance **out, char *err, size_t errlen) CRT_MUST_CHECK;
/* An instance over the store backend/where ("sqlite" + a database file,
 * "postgresql" + a conninfo) with inst's config otherwise, no CA, no OTP
 * key, creating the store: the target of crt_store_copy. */
crt_status instance_open_store(const crt_instance *src, const char *backend, const char *where,
			       crt_instance **out, char *err, size_t errlen) CRT_MUST_CHECK;
/* Point ctx at inst (whose reference ctx now holds), its views included;
 * the reference ctx held before is dropped. */
void session_rebind(crt_ctx *ctx, crt_instance *inst);
/* The OTP sealing key of ctx's instance into key, or the reason it could
 * not be read at open (status and detail as reading it would give). */
crt_status instance_otp_key(crt_ctx *ctx, unsigned char key[CRT_OTP_KEY_LEN])
	__attribute__((warn_unused_result));
/* The backend's shared state for ctx's store in ctx's instance slot, made
 * with make() on the first call (free_fn frees it with the slot); NULL when
 * out of memory. Called by a backend when it opens a writable connection. */
void *store_instance_state(crt_ctx *ctx, void *(*make)(void), void (*free_fn)(void *));

/* --- config.c --- */
/* Load path into cfg (zeroed first). err receives detail on failure. */
crt_status crt_config_load(const char *path, crt_config *cfg, char *err, size_t errlen) CRT_MUST_CHECK;
void crt_config_clear(crt_config *cfg);
/* Whether a libpq conninfo (key=value or URI) carries a password. */
int conninfo_has_password(const char *ci);

/* --- redeem.c --- */
/* Every check crt_redeem makes before it needs the CSR (token syntax, state,
 * owner, overrides), refusals audited: lets GENERATE refuse before it spends
 * a key generation. */
crt_status redeem_precheck(crt_ctx *ctx, const crt_redeem_req *req) CRT_MUST_CHECK;
/* The PKCS#12 a GENERATE redemption hands out (generate.c): made from key
 * and the signed certificate before the commit, so that with [generate]
 * keep_pkcs12 (and a user to keep it for) its sealed copy is stored in
 * the redemption's own transaction. *p12 malloc'd (crt_freezero). */
typedef struct redeem_p12 {
	EVP_PKEY *key;
	const char *passphrase;
	int form;
	unsigned char *p12;
	size_t p12_len;
	int kept; /* answer: a sealed copy was stored */
} redeem_p12;
/* crt_redeem building and keeping *g as above (g NULL: crt_redeem). */
crt_status redeem_run(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out,
                      redeem_p12 *g) CRT_MUST_CHECK;
/* The AAD label and binding of a kept PKCS#12 (serial, owner) for seal_blob. */
#define P12_SEAL_LABEL "crtoken-pkcs12"
void p12_seal_bind(const char *serial, const char *owner, char *out, size_t len);
/* Seal / open pt under the instance's OTP sealing key (seal.c), bound to
 * label and bind (AAD). *out / *pt malloc'd (crt_freezero). CRT_E_SEAL when
 * a blob is damaged or bound to something else; the OTP key's status when
 * it is not loaded. */
crt_status seal_blob(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *pt,
                     size_t n, unsigned char **out, size_t *outlen) CRT_MUST_CHECK;
crt_status unseal_blob(crt_ctx *ctx, const char *label, const char *bind,
                       const unsigned char *blob, size_t bloblen, unsigned char **pt,
                       size_t *n) CRT_MUST_CHECK;
/* The construction under seal_blob / unseal_blob, for a caller with its own
 * messages (otp.c): the same statuses, but CRT_E_SEAL comes without a
 * detail. unseal_aead: a blob whose plaintext would be longer than max
 * bytes (max > 0) is malformed too; *malformed tells a malformed blob
 * (the shape) from one that does not open (another key or binding, or
 * damaged). */
crt_status seal_aead(crt_ctx *ctx, const char *label, const char *bind, const unsigned char *pt,
                     size_t n, unsigned char **out, size_t *outlen) CRT_MUST_CHECK;
crt_status unseal_aead(crt_ctx *ctx, const char *label, const char *bind,
                       const unsigned char *blob, size_t bloblen, size_t max, unsigned char **pt,
                       size_t *n, int *malformed) CRT_MUST_CHECK;

/* --- coa.c --- */
/* After serial's revocation committed: the RFC 5176 Disconnect-Request to
 * the NAS of its last recorded session, when [coa] is set and RADIUS saw
 * it; the outcome audited as cert.disconnect (own transaction). Best
 * effort: reports nothing, changes nothing else (the ctx's detail kept). */
void coa_disconnect(crt_ctx *ctx, const char *serial, const char *actor);
/* --- renew.c --- */
/* The supersede step of crt_maintain: revoke (reason superseded) the
 * predecessor of every renewal past [renewal] grace_days; *done counts
 * those this call revoked. */
crt_status renew_supersede(crt_ctx *ctx, const char *actor, int64_t now, size_t *done)
	CRT_MUST_CHECK;

/* --- audit.c --- */
/* Write one audit row inside the caller's open transaction. detail_json may be NULL. */
crt_status audit_write(crt_ctx *ctx, const char *actor, const char *action, const char *object,
		       const char *detail_json) CRT_MUST_CHECK;

/* --- util.c --- */
char *dup_str(const char *s);     /* NULL-safe */
/* Room for element n of a growing array: list is the address of the array
 * pointer, *cap its capacity (doubled as needed). 0, or -1 when out of memory
 * (the array is left as it was). */
int array_grow(void *list, size_t *cap, size_t n, size_t size);
/* Append to a growing JSON detail buffer: {"k":"v",...}. */
typedef struct jbuf {
	char *buf;
	size_t len, cap;
	int n;
	int oom;
} jbuf;
void jb_begin(jbuf *j);
void jb_str(jbuf *j, const char *key, const char *val); /* NULL → null */
void jb_int(jbuf *j, const char *key, int64_t v);
/* A value that already is JSON, made by libcrtoken itself (never caller
 * text): written as it is; NULL → null. */
void jb_json(jbuf *j, const char *key, const char *json);
/* Finish and return the malloc'd JSON (NULL on OOM); j is emptied. */
char *jb_end(jbuf *j);
/* Fill buf with n random bytes from the OS CSPRNG. */
crt_status random_bytes(unsigned char *buf, size_t n) CRT_MUST_CHECK;
/* "prefix-<uuid v4>" into out (CRT_ID_LEN). */
crt_status make_id(const char *prefix, char out[CRT_ID_LEN]) CRT_MUST_CHECK;
/* Lowercase hex of SHA-256(data). out must hold 65 bytes. */
void sha256_hex(const void *data, size_t len, char out[65]);
/* base64url without padding; out must hold 4*n/3+4 bytes. Returns length. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);
/* Read a whole file of at most limit bytes (CRT_E_IO beyond, or when
 * unreadable); malloc'd, NUL-terminated. */
crt_status read_file(const char *path, size_t limit, char **data, size_t *len) CRT_MUST_CHECK;
/* Write data to path atomically (temp + rename) with mode. */
crt_status write_file(const char *path, const void *data, size_t len, unsigned mode) CRT_MUST_CHECK;
/*
 * Files libcrtoken trusts — the config, the store, keys — must be regular
 * files owned by root or by the effective user, and not writable by anyone
 * else; checked with fstat on the descriptor that is then read, never on a
 * path before a separate open. Kinds add to that:
 */
enum crt_trust {
	CRT_TRUST_FILE,   /* config, certificates: not group/world writable */
	CRT_TRUST_STORE,  /* the database: also not group-writable nor world-accessible */
	CRT_TRUST_SECRET, /* private and sealing keys: no group/world access at all */
};
/* CRT_OK, CRT_E_UNSAFE_PERMISSIONS or CRT_E_IO; why gets the message. */
crt_status fd_trusted(int fd, const char *path, enum crt_trust kind, char *why, size_t n) CRT_MUST_CHECK;
/* open(path, O_RDONLY | oflags) and fd_trusted; *fd (-1 on failure) is
 * the caller's to close. CRT_E_IO (errno kept) when it cannot be opened. */
crt_status open_trusted(const char *path, int oflags, enum crt_trust kind, int *fd,
			    char *why, size_t n) CRT_MUST_CHECK;
/* open_trusted + read_file in one (the buffer is the caller's; wipe
 * it for secrets). */
crt_status read_trusted(const char *path, size_t limit, enum crt_trust kind, char **data,
			    size_t *len, char *why, size_t n) CRT_MUST_CHECK;
/* dir (resolved into resolved[PATH_MAX]) holds files we trust: it and every
 * directory above it belong to root or the effective user, and none is
 * writable by others — except a sticky ancestor like /tmp, whose entries
 * others cannot replace. dir itself gets no exception. So no one else can
 * swap what a later open by path (SQLite's) finds there. */
crt_status dir_chain_trusted(const char *dir, char resolved[4096], char *why, size_t n) CRT_MUST_CHECK;
/* Text checks for token fields: printable UTF-8, no control chars, max len. */
crt_status field_check(const char *value, size_t maxlen) CRT_MUST_CHECK;
/* field_check's characters for the len bytes at value (no length limit, no NUL needed). */
crt_status field_check_n(const char *value, size_t len) CRT_MUST_CHECK;

/* --- names.c --- */
/* One certificate subject field (CN, O or OU) as the token or the redeemer
 * gives it: 1-64 bytes of printable UTF-8, no backslash, no Unicode format
 * characters, no space at either end. CRT_E_FIELD_INVALID with *why set
 * ("must not contain a backslash", ...) otherwise. */
crt_status subject_field_check(const char *v, const char **why) CRT_MUST_CHECK;

/* --- import.c --- */
/* Read the PEM bundle at path (checked on the open descriptor, at most
 * 1 MiB, at least one certificate) into *out. CRT_E_CONFIG, CRT_E_IO or
 * CRT_E_UNSAFE_PERMISSIONS with why. */
crt_status import_issuers_load(const char *path, STACK_OF(X509) * *out, char *why, size_t n)
	CRT_MUST_CHECK;
/* An upload parsed and checked (every check of crt_cert_import but the
 * store's): the leaf and its subject fields. */
typedef struct import_cert {
	X509 *x;
	char serial[72];
	char *cn, *org, *ou;
	int ncn, norg, nou;
} import_cert;
void import_cert_clear(import_cert *ic);
crt_status import_parse(crt_ctx *ctx, const unsigned char *pem, size_t len, int64_t now,
			import_cert *out) CRT_MUST_CHECK;
/* The row of ic (c's strings; cert_make), issued_at now, ca imported. */
crt_status import_make(crt_ctx *ctx, const import_cert *ic, const char *name,
		       const char *token_id, const char *user, const char *reply, int64_t now,
		       crt_cert *c) CRT_MUST_CHECK;
/* May c be stored? CRT_OK, CRT_E_CERT_EXISTS (this very certificate is
 * stored), CRT_E_SERIAL_CONFLICT (another one has its serial),
 * CRT_E_CERT_UNTRUSTED (one of the instance's CAs issued it), or a store
 * error. */
crt_status import_not_stored(crt_ctx *ctx, const crt_cert *c) CRT_MUST_CHECK;

/* --- config.c --- */
/* Is name a valid [ca NAME] name (1-32 of a-z, 0-9, '-', '_')? */
int ca_name_valid(const char *name);

/* --- ca.c --- */
/* Load every CA named by ctx's config into ctx's instance (while it is
 * being opened: nothing else sees it yet) and refresh ctx's views of it. */
crt_status ca_load(crt_ctx *ctx) CRT_MUST_CHECK;
void ca_free(crt_instance *inst);
/* Point ctx's CA views at the CA called name (NULL: the default CA) for the
 * operations that follow, until the next ca_select. CRT_E_CA_UNKNOWN with
 * the detail when the config has no such CA; a known CA that is not loaded
 * (CRT_OPEN_NO_CA) is selected by name with NULL views. */
crt_status ca_select(crt_ctx *ctx, const char *name) CRT_MUST_CHECK;
/* Back to the default CA (never fails). */
void ca_select_default(crt_ctx *ctx);
/* The loaded CA whose SKI is ski (lowercase hex), or NULL. */
const struct ca_entry *ca_by_ski(const crt_instance *inst, const char *ski);
/* Load the CA of section cc alone, with every check ca_load makes of it,
 * and let it go again (crt_ca_create's check of what it made). */
crt_status ca_check_named(crt_ctx *ctx, const crt_ca_config *cc) CRT_MUST_CHECK;
/* Is name a CA of cfg ("default" or a [ca NAME])? */
int ca_known(const crt_config *cfg, const char *name);
/* "/CN=x/O=y" string of an X509_NAME, malloc'd (FreeRADIUS oneline form). */
char *ca_name_oneline(const X509_NAME *name);
/* Short key type name for a public key ("ec-p256", "rsa-2048", ...), malloc'd. */
char *ca_key_type_name(const EVP_PKEY *pk);
/* Generate a key of type name ("ec-p256", ...). */
crt_status ca_keygen(const char *type, EVP_PKEY **out) CRT_MUST_CHECK;
/* ca_pkcs11.c: the CA key in a PKCS#11 token ([ca] key = pkcs11:...). */
int ca_is_pkcs11_uri(const char *s);
const char *ca_pkcs11_uri_refusal(const char *uri); /* NULL if acceptable */
crt_status ca_pkcs11_open(const char *uri, const char *module, const char *pin_file,
			  EVP_PKEY **key, void **engine, char *err, size_t errlen) CRT_MUST_CHECK;
void ca_pkcs11_release(void *engine);
crt_status ca_pkcs11_keygen(const char *uri, const char *module, const char *pin_file,
			    char *err, size_t errlen) CRT_MUST_CHECK;
crt_status ca_pkcs11_destroy(const char *uri, const char *module, const char *pin_file);
int ca_pubkey_eq(X509 *cert, EVP_PKEY *key);
/* ctx's CA can sign client certificates: a key here, or a remote signer
 * (ca_cfssl.h). */
static inline int ca_can_sign(const crt_ctx *ctx)
{
	return ctx->ca_key != NULL || (ctx->ca != NULL && ctx->ca->cfssl != NULL);
}
/* ctx's selected CA is remote (type = cfssl in its [ca] or [ca NAME]
 * section), loaded or not: crtoken signs no CRL for it (ca_cfssl.c). */
int ca_is_remote(const crt_ctx *ctx);
/* Signature digest for a signing key (NULL for Ed25519). */
const EVP_MD *ca_sign_digest(const EVP_PKEY *pk);
/* Parse "/CN=x/O=y" into a new name. */
crt_status ca_parse_subject(const char *s, X509_NAME **out) CRT_MUST_CHECK;
/* Add an extension in OpenSSL config syntax. */
crt_status ca_add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value) CRT_MUST_CHECK;
/* Random positive 16-byte serial and its stored hex form. */
crt_status ca_random_serial(ASN1_INTEGER **out, char hex[72]) CRT_MUST_CHECK;
/* Self-signed CA certificate with the CA profile. */
crt_status ca_self_signed(EVP_PKEY *key, const char *subject, int days, X509 **out) CRT_MUST_CHECK;
/* PEM of one certificate, malloc'd. */
char *ca_cert_pem(X509 *x);
/* ASN1_TIME → Unix seconds (0 on error). */
int64_t ca_time_unix(const ASN1_TIME *t);

/* --- crl.c --- */
/* Sign and store a fresh CRL inside the caller's write transaction, with its
 * audit row (why: the reason, for the audit). The caller took the
 * publication lock first (store_crl_load with STORE_CRL_LOCK). out is
 * filled; the caller writes the file after COMMIT with crl_write_file. */
crt_status crl_publish_in_txn(crt_ctx *ctx, const char *actor, const char *why, int64_t now,
			      crt_crl *out) CRT_MUST_CHECK;
void crl_write_file(crt_ctx *ctx, crt_crl *c);

/* --- ocsp.c --- */
/* Load the [ocsp] signer of ctx's instance (while it is being opened, after
 * the CA): checked to be issued by the CA with OCSPSigning and to match its
 * key. A failure is kept in the instance (ocsp_status/ocsp_detail), not
 * returned: only the responder needs the signer. */
void ocsp_signer_load(crt_ctx *ctx);
void ocsp_signer_free(crt_instance *inst);

/* --- csr.c --- */
/* A verified CSR: what issuance needs of it, nothing else. */
typedef struct crt_csr {
	EVP_PKEY *pkey;            /* the public key */
	X509_ALGOR *key_alg;       /* its SubjectPublicKeyInfo algorithm ... */
	ASN1_BIT_STRING *key_bits; /* ... and key bits, copied into the certificate */
	int key_checked;           /* csr_check_key passed */
	unsigned char *der;        /* the whole request, DER (what a remote CA is sent) */
	size_t der_len;
} crt_csr;
/* Parse PEM/DER, verify the signature, enforce the key policy but for the
 * costly RSA modulus check. *out is owned by the caller (csr_free). */
crt_status csr_load(crt_ctx *ctx, const unsigned char *data, size_t len, crt_csr **out) CRT_MUST_CHECK;
/* The rest of the key policy, milliseconds for RSA (SP 800-56B public key
 * check: no prime or smooth modulus): run once the token is known to be
 * live, so an unknown token cannot make the server spend it. */
crt_status csr_check_key(crt_ctx *ctx, crt_csr *c) CRT_MUST_CHECK;
void csr_free(crt_csr *c);
/* The whole key policy of client keys, the RSA modulus check included, for
 * a key and its SubjectPublicKeyInfo (the CA import holds CA keys to it):
 * RSA 2048..8192 bits with an odd e >= 65537 and a sound modulus, EC
 * P-256/P-384 as named curves, Ed25519 points a private key stands behind.
 * CRT_E_CSR_WEAK_KEY or CRT_E_CSR_KEY_TYPE with the detail otherwise. */
crt_status csr_key_policy(crt_ctx *ctx, EVP_PKEY *pk, const X509_PUBKEY *spki) CRT_MUST_CHECK;
/* 0 for an Ed25519 public key no private key stands behind (small order or
 * non-canonical encoding), else 1. */
int csr_ed25519_point_ok(const unsigned char a[32]);

/* --- cert.c --- */
/*
 * What an issued certificate carries besides its subject and public key,
 * resolved before signing (cert_shape_for): the profile (key usage,
 * extended key usage, allowed key types, CRL distribution point and AIA
 * URLs), the validity in days and the SubjectAltNames. Every issuance path
 * (redemption, GENERATE, renewal, approval) signs through cert_issue with
 * one; nothing of it ever comes from the CSR.
 */
typedef struct cert_shape {
	const crt_cert_profile *profile; /* never NULL once resolved */
	int days;                        /* validity, days (the CA's end still bounds it) */
	char *san;                       /* SubjectAltNames to write, "type=value" lines
					  * (rules/san.h, checked), or NULL: none */
	X509 *san_of;                    /* renewal: copy this certificate's subjectAltName
					  * as it is (borrowed; san NULL then) */
} cert_shape;
/* The shape of a certificate of profile (NULL: default) valid for asked
 * days (0: the profile's): profile_unknown when the config no longer has
 * the profile, validity_invalid beyond its max_days. */
crt_status cert_shape_for(crt_ctx *ctx, const char *profile, int asked, cert_shape *out) CRT_MUST_CHECK;
/* cert_shape_for the token t, plus its SubjectAltNames: the token's own
 * values of a kind, else the profile's template of that kind expanded with
 * t's owner and name and the subject cn/org/ou being signed; a value that
 * is not one (rules/san.h) is san_invalid naming it. */
crt_status cert_shape_of_token(crt_ctx *ctx, const crt_token *t, const char *cn,
			       const char *org, const char *ou, cert_shape *out) CRT_MUST_CHECK;
void cert_shape_clear(cert_shape *s);
/* Whether the shape's profile allows the CSR's key (what cert_issue checks
 * first): CRT_E_CSR_KEY_TYPE naming both otherwise. */
crt_status cert_key_allowed(crt_ctx *ctx, const cert_shape *shape, const crt_csr *csr) CRT_MUST_CHECK;
/* The validity of a certificate issued at now for days: back-dated by
 * clock_skew_seconds, days long, never past the CA's end (clamped to it).
 * CRT_E_CA_MISSING without a CA key, CRT_E_CA_EXPIRED after its end. */
crt_status cert_validity(crt_ctx *ctx, int days, int64_t now, int64_t *not_before,
			 int64_t *not_after) CRT_MUST_CHECK;
/* The subject cn/org/ou as an issued certificate's row shows it
 * ("/O=…/OU=…/CN=…"), malloc'd into *out. */
crt_status cert_subject_text(crt_ctx *ctx, const char *cn, const char *org, const char *ou,
			     char **out) CRT_MUST_CHECK;
/* Sign a client certificate for the CSR's public key with subject cn/org/ou
 * and shape (nothing else of the CSR is used). A CSR key the profile does
 * not allow: CRT_E_CSR_KEY_TYPE, nothing signed. */
crt_status cert_issue(crt_ctx *ctx, const crt_csr *csr, const char *cn, const char *org,
		      const char *ou, const cert_shape *shape, int64_t now, X509 **out,
		      char serial[72]) CRT_MUST_CHECK;
/* Every column of the row that stores x (signed for public key pk by the CA
 * whose chain is chain_pem), computed from the values alone (no store):
 * subject, issuer, key ids, fingerprints, PEM. out is the caller's
 * (crt_cert_clear); token_id "" stands for none. */
crt_status cert_make(X509 *x, const EVP_PKEY *pk, const char *chain_pem, const char *serial,
		     const char *name, const char *token_id, const char *user, const char *reply,
		     int64_t now, crt_cert *out) CRT_MUST_CHECK;
/* The port's row for c (store_cert_row, store/port_certs.h), its strings
 * borrowed from c: hand it to a verb that inserts it (store_cert_insert,
 * or the redemption commit of port_tokens.h). */
struct store_cert_row;
void cert_row_of(const crt_cert *c, struct store_cert_row *row);

/* --- token.c --- */
/* Hash (hex SHA-256) of a token string. */
void token_hash(const char *token, char out[65]);
/* A fresh token string: prefix (4 chars) + 256 random bits + checksum. */
crt_status token_generate(const char *prefix, char out[CRT_TOKEN_STRLEN + 1]) CRT_MUST_CHECK;
/* Validate a create (creating=1) or update spec. */
crt_status token_check_spec(crt_ctx *ctx, const crt_token_spec *s, int creating) CRT_MUST_CHECK;
/* The subject t would sign is one the subject field rule allows: without a
 * CN the name is the CN (checked at create and update, so a token that can
 * never be redeemed is never made). */
crt_status token_check_subject(crt_ctx *ctx, const crt_token *t) CRT_MUST_CHECK;
/* Apply the attestation policy members of spec to t->attestation (NULL
 * members: unchanged; "": back to the default). */
crt_status token_attest_apply(crt_ctx *ctx, const crt_token_spec *s, crt_token *t) CRT_MUST_CHECK;
/* The certificate profile called name (NULL: default), or
 * CRT_E_PROFILE_UNKNOWN with the detail. */
crt_status token_profile(crt_ctx *ctx, const char *name, const crt_cert_profile **out) CRT_MUST_CHECK;
/* validDays asked (0: the profile's, nothing to check) for a token of CA
 * ca must end by that CA's notAfter counted from now: validity_invalid
 * otherwise, so the admin learns it at once (issuance would clamp to the
 * CA's end). The CA's certificate file is read when the CA is not loaded
 * in this process; unchecked when it cannot be read. */
/* The SubjectAltNames a certificate of t would carry as it stands (its own
 * values and its profile's templates, expanded with its fields; rules/san.h)
 * are valid: san_invalid naming the value otherwise. Checked at create and
 * update; redemption expands again with the subject it signs. */
crt_status token_check_san(crt_ctx *ctx, const crt_token *t) CRT_MUST_CHECK;
crt_status token_ca_bound(crt_ctx *ctx, const char *ca, int asked, int64_t now) CRT_MUST_CHECK;
/* The validity in days a token of profile p asking for asked days (0: the
 * profile's) gets, or CRT_E_VALIDITY beyond the profile's max_days. */
crt_status token_valid_days(crt_ctx *ctx, const crt_cert_profile *p, int asked, int *days) CRT_MUST_CHECK;
/* Expiry asked for by spec, within profile p's maximum lifetime. */
crt_status token_expiry(crt_ctx *ctx, const crt_cert_profile *p, const crt_token_spec *s,
			int64_t now, int64_t *exp) CRT_MUST_CHECK;
/* Load a token row by id (CRT_E_TOKEN_NOT_FOUND with detail if absent),
 * its state at now set by the rule (token_store.c). */
crt_status token_load(crt_ctx *ctx, const char *id, int64_t now, crt_token *out)
	__attribute__((warn_unused_result));
/* Load by token hash (CRT_E_TOKEN_UNKNOWN, no detail, if absent). */
crt_status token_load_by_hash(crt_ctx *ctx, const char *hash, int64_t now, crt_token *out)
	__attribute__((warn_unused_result));

/* --- redeem.c / request.c (the approval workflow) --- */
/* Sign csr as the redemption of token t does (t's CA — selected here; the
 * caller goes back to the default —, profile, the subject fields cn/org/ou
 * already decided) for user at now, into *x, serial, the row *c and *row
 * (borrowing c's strings). Takes facts (the attested facts, malloc'd, or
 * NULL): c's on success, freed on failure. Shared by redemption and
 * approval so an approved request gets exactly the certificate its
 * redemption would have. */
crt_status redeem_sign(crt_ctx *ctx, const crt_token *t, crt_csr *csr, const char *cn,
		       const char *org, const char *ou, const char *user, int64_t now,
		       char *facts, X509 **x, char serial[72], crt_cert *c,
		       struct store_cert_row *row) CRT_MUST_CHECK;
/* Phase 2 of a redemption of token t that requires approval: claim t
 * (version as read) and store the request (subject fields cn/org/ou,
 * attested facts, req's CSR as csr parsed it) with its audit row and
 * request.pending, one transaction. *out and poll_secret (shown once) on
 * CRT_OK; *retry as for the redemption's claim (the token changed since it
 * was read: do phase 1 again). */
crt_status request_submit(crt_ctx *ctx, const crt_redeem_req *req, const crt_token *t,
			  const crt_csr *csr, const char *cn, const char *org, const char *ou,
			  const char *facts, int64_t now, crt_request *out,
			  char poll_secret[CRT_TOKEN_STRLEN + 1], int *retry) CRT_MUST_CHECK;

/* The storage port: what the domain files call to reach the store. */
#include "store/port.h"

#endif /* CRTOKEN_INTERNAL_H */

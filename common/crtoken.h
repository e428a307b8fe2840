/*
 * crtoken.h — the one public interface of libcrtoken.
 *
 * libcrtoken holds every business rule of crtoken: certificate request tokens,
 * CSR validation, the local CA, the SQLite store, single-use redemption, OTP
 * and API keys. Adapters (crtoken-admin, crtokend, pam_crtoken, rlm_crtoken)
 * parse their host's input, call these functions and render the result.
 *
 * Conventions:
 *  - Every call returns a crt_status. CRT_OK is 0. Each status has a stable
 *    machine name (crt_status_name) and a human message (crt_status_message);
 *    crt_errdetail(ctx) adds the specifics of the last failure on that ctx.
 *  - Strings returned inside result structs are heap copies owned by the
 *    struct; release them with the matching *_clear / *_free function.
 *  - Times are Unix seconds (int64_t), UTC.
 *  - A crt_instance is one loaded configuration (config, CA, OTP sealing
 *    key), immutable and shared by any number of threads; a crt_ctx is a
 *    session over it: one open store connection, used by one thread at a
 *    time. crt_open makes both at once.
 *  - The library never prints and never exits.
 */
#ifndef CRTOKEN_H
#define CRTOKEN_H

#include <stddef.h>
#include <stdint.h>

/* A status that must not be dropped: every crt_status call is checked. */
#define CRT_MUST_CHECK __attribute__((warn_unused_result))

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ status */

typedef enum crt_status {
	CRT_OK = 0,
	CRT_E_INTERNAL,          /* internal */
	CRT_E_NOMEM,             /* out_of_memory */
	CRT_E_INVALID_ARGUMENT,  /* invalid_argument */
	CRT_E_CONFIG,            /* config_invalid */
	CRT_E_CONFIG_NOT_FOUND,  /* config_not_found */
	CRT_E_IO,                /* io_error */
	CRT_E_EXISTS,            /* already_exists */
	CRT_E_UNSAFE_PERMISSIONS,/* unsafe_permissions */
	CRT_E_STORE,             /* store_error */
	CRT_E_STORE_BUSY,        /* store_busy */
	CRT_E_STORE_UNAVAILABLE, /* store_unavailable */
	CRT_E_STORE_VERSION,     /* store_version */
	CRT_E_CA_MISSING,        /* ca_missing */
	CRT_E_CA_INVALID,        /* ca_invalid */
	CRT_E_CA_KEY_MISMATCH,   /* ca_key_mismatch */
	CRT_E_CA_EXPIRED,        /* ca_expired */
	CRT_E_TOKEN_MALFORMED,   /* token_malformed */
	CRT_E_TOKEN_MISTYPED,    /* token_mistyped */
	CRT_E_TOKEN_UNKNOWN,     /* token_unknown */
	CRT_E_TOKEN_DELETED,     /* token_deleted */
	CRT_E_TOKEN_USED,        /* token_used */
	CRT_E_TOKEN_EXPIRED,     /* token_expired */
	CRT_E_TOKEN_OWNER,       /* token_owner_mismatch */
	CRT_E_TOKEN_NOT_FOUND,   /* token_not_found (by id) */
	CRT_E_TOKEN_NOT_ACTIVE,  /* token_not_active (update of a used or deleted token) */
	CRT_E_NAME_REQUIRED,     /* name_required */
	CRT_E_FIELD_INVALID,     /* field_invalid */
	CRT_E_FIELD_LOCKED,      /* field_locked */
	CRT_E_LIFETIME,          /* lifetime_invalid */
	CRT_E_REPLY_ATTR,        /* reply_attribute_invalid */
	CRT_E_CSR_MALFORMED,     /* csr_malformed */
	CRT_E_CSR_BAD_SIGNATURE, /* csr_bad_signature */
	CRT_E_CSR_WEAK_KEY,      /* csr_weak_key */
	CRT_E_CSR_KEY_TYPE,      /* csr_unsupported_key */
	CRT_E_CSR_TOO_LARGE,     /* csr_too_large */
	CRT_E_CERT_NOT_FOUND,    /* cert_not_found */
	CRT_E_CERT_REVOKED,      /* cert_revoked */
	CRT_E_CERT_EXPIRED,      /* cert_expired */
	CRT_E_CERT_NOT_YET_VALID,/* cert_not_yet_valid */
	CRT_E_CERT_WRONG_ISSUER, /* cert_wrong_issuer */
	CRT_E_SERIAL_INVALID,    /* serial_invalid */
	CRT_E_REASON_INVALID,    /* revocation_reason_invalid */
	CRT_E_OTP_NOT_ENROLLED,  /* otp_not_enrolled */
	CRT_E_OTP_BAD_CODE,      /* otp_bad_code */
	CRT_E_OTP_REPLAY,        /* otp_replayed */
	CRT_E_OTP_LOCKED,        /* otp_locked */
	CRT_E_OTP_PARAMS,        /* otp_parameters_invalid */
	CRT_E_SEAL,              /* seal_error */
	CRT_E_APIKEY_INVALID,    /* apikey_invalid */
	CRT_E_APIKEY_NOT_FOUND,  /* apikey_not_found */
	CRT_E_KEY_TYPE,          /* key_type_invalid */
	CRT_E_AUTH_REQUIRED,     /* authentication_required */
	CRT_E_AUTH_FAILED,       /* authentication_failed */
	CRT_E_FORBIDDEN,         /* permission_denied */
	CRT_E_RATE_LIMITED,      /* rate_limited */
	CRT_E_REQUEST_INVALID,   /* request_invalid */
	CRT_E_REQUEST_TOO_LARGE, /* request_too_large */
	CRT_E_MEDIA_TYPE,        /* unsupported_media_type */
	CRT_E_NOT_FOUND,         /* not_found */
	CRT_E_METHOD,            /* method_not_allowed */
	CRT_E_CSR_WEAK_DIGEST,   /* csr_weak_digest (CSR signed with MD5, SHA-1, ...) */
	CRT_E_CERT_MISMATCH,     /* cert_mismatch */
	CRT_E_BACKUP_INVALID,    /* backup_invalid (truncated, corrupt, not a crtoken backup) */
	CRT_E_PROFILE_FORMAT,    /* profile_format_unknown */
	CRT_E_NETWORK_CONFIG,    /* network_not_configured */
	CRT_E_STORE_COMMIT_UNKNOWN, /* store_commit_unknown (connection lost during COMMIT) */
	CRT_E_STORE_READONLY,    /* store_readonly (a read-only server: reconnect to the primary) */
	CRT_E_CA_UNAVAILABLE,    /* ca_unavailable (the remote CA did not answer: retry later) */
	CRT_E_CA_REJECTED,       /* ca_rejected (the remote CA refused, or its certificate failed our checks) */
	CRT_E_CRL_REMOTE,        /* crl_remote (a remote CA publishes its own CRL) */
	CRT_E_CA_UNKNOWN,        /* ca_unknown (no CA of that name in the instance) */
	CRT_E_ATTEST_MISSING,    /* attestation_missing (the token requires a key attestation) */
	CRT_E_ATTEST_MALFORMED,  /* attestation_malformed (not a PEM chain, bad Yubico extension) */
	CRT_E_ATTEST_UNTRUSTED,  /* attestation_untrusted (chain not ending at a trusted root) */
	CRT_E_ATTEST_KEY_MISMATCH, /* attestation_key_mismatch (attested key is not the CSR's) */
	CRT_E_ATTEST_POLICY,     /* attestation_policy (PIN/touch policy or firmware below minimum) */
	CRT_E_CERT_MAC_PINNED,   /* cert_mac_pinned (pin_mac = first: presented from another MAC) */
	CRT_E_STORE_STALE,       /* store_stale (a reader's heartbeat older than [store] max_staleness) */
	CRT_E_RENEWAL_NOT_ALLOWED, /* renewal_not_allowed (renewal off, already renewed, no owner) */
	CRT_E_RENEWAL_TOO_EARLY, /* renewal_too_early (before the renewal window opens) */
	CRT_E_SAME_KEY,          /* same_key (a renewal CSR with the current certificate's key) */
	CRT_E_CLIENT_CERT_REQUIRED, /* client_certificate_required (no TLS client certificate) */
	CRT_E_PROFILE_UNKNOWN,   /* profile_unknown (no certificate profile of that name) */
	CRT_E_SAN_INVALID,       /* san_invalid (a SubjectAltName value) */
	CRT_E_VALIDITY,          /* validity_invalid (validDays beyond the profile's cap) */
	CRT_E_IMPORT_DISABLED,   /* import_not_configured (no [import] trusted_issuers) */
	CRT_E_CERT_MALFORMED,    /* cert_malformed (not one PEM certificate) */
	CRT_E_CERT_MULTIPLE,     /* cert_multiple (several certificates where one is expected) */
	CRT_E_CERT_PRIVATE_KEY,  /* cert_private_key (a private key where a certificate is expected) */
	CRT_E_CERT_UNTRUSTED,    /* cert_untrusted (chains to no [import] trusted issuer) */
	CRT_E_CERT_IS_CA,        /* cert_is_ca (a CA certificate where a leaf is expected) */
	CRT_E_CERT_USAGE,        /* cert_not_client_auth (EKU / keyUsage forbid client auth) */
	CRT_E_CERT_KEY_ID,       /* cert_key_id_missing (no Subject or Authority Key Identifier) */
	CRT_E_CERT_SUBJECT,      /* cert_subject_mismatch (subject not what the token allows) */
	CRT_E_CERT_EXISTS,       /* cert_exists (this certificate is stored already) */
	CRT_E_SERIAL_CONFLICT,   /* serial_conflict (another stored certificate has its serial) */
	CRT_E_REQUEST_UNKNOWN,   /* request_unknown (no certificate request with this id) */
	CRT_E_REQUEST_STATE,     /* request_state (approve/deny of a request no longer pending) */
	CRT_E_APPROVAL_REQUIRED, /* approval_required (the token needs approval; this way
				  * of redeeming cannot wait for it) */
	CRT_E_SCOPE_UNKNOWN,     /* scope_unknown (an API key scope name that does not exist) */
	CRT_E_PAGE_INVALID,      /* page_invalid (page or size not a number in its bounds) */
	CRT_E_SORT_INVALID,      /* sort_invalid (a sort field the list does not offer) */
	CRT_E_DESCRIPTION_INVALID, /* description_invalid (too long, or control characters) */
	CRT_E_COUNT_INVALID,     /* count_invalid (a bulk count outside 1..CRT_BULK_MAX) */
	CRT_E_PKCS12_NOT_KEPT,   /* pkcs12_not_kept (no PKCS#12 kept for that certificate) */
	CRT_E_TIME_INVALID,      /* time_invalid (not an RFC 3339 UTC time, or since after until) */
	CRT_E_FILTER_INVALID,    /* filter_invalid (a list filter empty, too long or with
				  * control characters) */
	CRT_STATUS_COUNT
} crt_status;

/* Stable machine name ("token_expired"); never NULL. */
const char *crt_status_name(crt_status s);
/* Human message ("the token has expired"); never NULL. */
const char *crt_status_message(crt_status s);
/* Reverse lookup of a machine name; CRT_STATUS_COUNT when unknown. */
crt_status crt_status_from_name(const char *name) CRT_MUST_CHECK;

/*
 * The one classification of statuses every adapter maps from (CLI exit
 * code, HTTP status, PAM code, RLM code): what the caller should do.
 */
typedef enum crt_kind {
	CRT_KIND_OK = 0,
	CRT_KIND_INVALID,   /* malformed input: fix the request (HTTP 400) */
	CRT_KIND_AUTH,      /* the caller's identity was not established (401) */
	CRT_KIND_FORBIDDEN, /* a known caller, not allowed (403) */
	CRT_KIND_NOT_FOUND, /* the named object does not exist (404; CLI exit 3) */
	CRT_KIND_CONFLICT,  /* the object's state refuses it: used, exists, revoked (409) */
	CRT_KIND_GONE,      /* it existed and is no longer usable: expired, deleted (410) */
	CRT_KIND_REFUSED,   /* well-formed, refused by a policy rule (422) */
	CRT_KIND_LIMITED,   /* too many attempts: try later (429) */
	CRT_KIND_BUSY,      /* transient: retry (503) */
	CRT_KIND_FAILURE,   /* config, store, CA, I/O or internal failure (500; CLI exit 4) */
	CRT_KIND_PROTOCOL,  /* the HTTP request itself: method, size, media type */
} crt_kind;
/* The kind of s; unknown values are CRT_KIND_FAILURE (fail closed). */
crt_kind crt_status_kind(crt_status s);
/* Stable name of a kind ("not_found"), never NULL. */
const char *crt_kind_name(crt_kind k);

/* ------------------------------------------------------------------ certificate profiles */

/* The profile a token without one uses; implied when the config names none. */
#define CRT_CERT_PROFILE_DEFAULT "default"
enum crt_approval { CRT_APPROVAL_NONE = 0, CRT_APPROVAL_REQUIRED = 1 };

/*
 * A named certificate profile: a [profile NAME] section of the config (see
 * crtoken.conf), every value resolved at load ([ca] and [tokens] supply
 * what a section leaves out), so the profile alone says what a token of it
 * may ask for and what its certificate carries. The `default` profile,
 * implied when the config has none, reproduces the certificate crtoken
 * issued before profiles existed. Parsed and checked by a pure rule
 * (common/rules/profile.c). Owned by the config; read-only.
 */
typedef struct crt_cert_profile {
	char *name;              /* 1-64 of a-z 0-9 - _ */
	char *description;       /* or NULL */
	int days;                /* validity of its certificates ([ca] cert_days) */
	int max_days;            /* most a token may ask for (validDays); >= days */
	char *key_usage;         /* "digitalSignature,..." or NULL: by key type (RSA adds
				  * keyEncipherment), as before profiles */
	char *ext_key_usage;     /* "clientAuth" unless set */
	char *key_types;         /* allowed CSR keys: "rsa,ec,ed25519" unless set; rsa-N = RSA
				  * of at least N bits, ec-p256 / ec-p384 one curve */
	/* SubjectAltName templates ({owner} {cn} {name} {org} {ou}), or NULL */
	char *san_email, *san_upn, *san_dns, *san_uri;
	char *reply;             /* default reply attributes "A=v\n...", or NULL */
	unsigned locked;         /* default locks (crt_field mask) */
	int64_t token_lifetime, token_max_lifetime; /* seconds ([tokens]) */
	int approval;            /* enum crt_approval: the default of its tokens */
	int renew_days;          /* renewal allowed from this many days before notAfter; 0: never */
	int allow_same_key;      /* a renewal may keep the key */
	int pin_mac;             /* enum crt_pin_mac */
	int64_t session_timeout; /* cap of Session-Timeout, seconds; 0: none */
	char *crl_url, *ca_issuers_url, *ocsp_url; /* written into certificates ([ca]'s) */
	unsigned urls_own;       /* CERTPROF_URL_* bits: the URLs the section set itself
				  * (they apply to every CA; the others are the default
				  * CA's, [ca], and a [ca NAME] CA uses its own) */
} crt_cert_profile;
#define CERTPROF_URL_CRL 1u
#define CERTPROF_URL_ISSUERS 2u
#define CERTPROF_URL_OCSP 4u

/* ------------------------------------------------------------------ config */

/* Durability of the store: FULL fsyncs every commit (default); NORMAL relies
 * on the WAL and may lose the last commits on power loss, never integrity. */
enum crt_durability { CRT_DURABILITY_FULL = 0, CRT_DURABILITY_NORMAL = 1 };

/*
 * One more CA of the instance: a [ca NAME] section (the [ca] section is the
 * CA named "default", in crt_config's ca_* fields). NAME: 1-32 of a-z, 0-9,
 * '-', '_', starting with a letter or digit. Paths absolute after loading.
 */
#define CRT_CA_DEFAULT "default"
/* The ca of an uploaded certificate (import.c): issued by none of the
 * instance's CAs, so on none of their CRLs; reserved, no [ca NAME] has it. */
#define CRT_CA_IMPORTED "imported"
#define CRT_CA_NAME_MAX 32
typedef struct crt_ca_config {
	char *name;
	char *cert;           /* certificate (required) */
	char *key;            /* key file or pkcs11: URI (required) */
	char *chain;          /* optional: intermediates above cert */
	char *pin_file;       /* key = pkcs11:...: the token PIN's file */
	char *module;         /* key = pkcs11:...: the PKCS#11 module */
	char *crl_file;       /* default crl-NAME.pem beside the config */
	/* type = cfssl (as in [ca]: ca_cfssl.h); then key is unset */
	char *type;           /* "local", "pkcs11" or "cfssl" (from key when not given) */
	char *url, *auth_key_file, *profile, *label, *tls_ca_file;
	int timeout_ms;       /* default 10000 */
	/* written into the certificates this CA signs unless their profile
	 * sets its own (as [ca]'s are for the default CA), or NULL */
	char *crl_url, *ca_issuers_url, *ocsp_url;
} crt_ca_config;

/*
 * The parsed configuration file. Paths are absolute after loading (relative
 * ones are resolved against the directory holding the file). Owned by the
 * ctx; read-only for adapters.
 */
typedef struct crt_config {
	char *path;           /* the file this came from */
	char *dir;            /* its directory */
	/* [store] */
	char *backend;        /* the storage backend: sqlite or postgresql */
	char *database;
	int durability;       /* enum crt_durability */
	int busy_timeout_ms;
	char *conninfo;       /* postgresql: libpq connection string of writers */
	char *read_conninfo;  /* postgresql: of read-only sessions (default conninfo) */
	int statement_timeout_ms; /* postgresql: per statement, 0 = none */
	int write_timeout_ms; /* postgresql writers: the client-side wait per statement, 0 = none */
	int max_staleness;    /* postgresql readers: seconds the heartbeat may lag, 0 = off */
	/* [ca] */
	char *ca_cert;
	char *ca_key;
	char *ca_chain;       /* optional: intermediates above ca_cert */
	char *ca_pin_file;    /* key = pkcs11:...: the token PIN's file */
	char *ca_module;      /* key = pkcs11:...: the PKCS#11 module (NULL: p11-kit proxy) */
	char *ca_type;        /* "local", "pkcs11" or "cfssl" (from key when not given) */
	char *ca_url;         /* type = cfssl: the cfssl server's base URL */
	char *ca_auth_key_file; /* type = cfssl: its HMAC key, hex (a secret file) */
	char *ca_profile;     /* type = cfssl: the signing profile (NULL: its default) */
	char *ca_label;       /* type = cfssl: the signer label (NULL: none) */
	int ca_timeout_ms;    /* type = cfssl: the whole signing request */
	char *ca_tls_ca_file; /* type = cfssl: CA(s) of an https server (NULL: system store) */
	int cert_days;        /* validity of issued certificates */
	int clock_skew_seconds; /* notBefore back-dating */
	int crl_days;         /* nextUpdate distance */
	char *crl_file;
	crt_ca_config *cas;   /* the [ca NAME] sections, in file order ... */
	size_t ncas;          /* ... and how many (0: the default CA alone) */
	char *crl_url;        /* CRL distribution point written into certificates, or NULL */
	char *ca_issuers_url; /* AIA caIssuers, or NULL */
	char *ocsp_url;       /* AIA OCSP, or NULL */
	/* [tokens] */
	int64_t token_lifetime;     /* default, seconds */
	int64_t token_max_lifetime; /* seconds */
	int64_t token_purge_after;  /* crtoken-admin maintain purges tokens ended this
				     * long ago; 0 = never */
	/* [otp] */
	char *otp_key_file;
	char *otp_issuer;
	char *otp_algorithm;  /* SHA1, SHA256, SHA512 */
	int otp_digits;
	int otp_period;
	int otp_window;
	int otp_max_failures;
	int otp_lockout_seconds;  /* the first lockout; each consecutive one doubles ... */
	int otp_lockout_max_seconds; /* ... up to this */
	/* [server] (crtokend) */
	char *listen;
	char *tls_cert;
	char *tls_key;
	int plain_http;
	int require_login;
	char *pam_service;
	long max_body;
	int rate_limit_failures;  /* failed logins per address ... */
	int rate_limit_seconds;   /* ... within this many seconds → 429 */
	int max_connections;      /* open connections in all */
	int max_connections_per_address; /* ... from one client address */
	int request_timeout;      /* seconds from connect to a complete request */
	int max_logins;           /* PAM conversations at once */
	/* [network] (onboarding profiles, netprofile.c) */
	char *net_type;           /* "wifi" or "wired" */
	char *net_ssid;           /* Wi-Fi network name (wifi) */
	char *net_ca_file;        /* CA(s) of the RADIUS server's certificate, PEM */
	char *net_server_names;   /* names to check on it, comma-separated */
	char *net_identity;       /* EAP identity to send; NULL: the certificate's CN */
	char *net_name;           /* connection name shown on the device */
	char *net_mc_signer_cert; /* signs the .mobileconfig (CMS), PEM; NULL: unsigned */
	char *net_mc_signer_key;  /* ... its private key, PEM (a secret file) */
	char *net_mc_signer_chain; /* ... intermediates sent with it, PEM (optional) */
	/* [ocsp] (the OCSP responder, ocsp.c) */
	char *ocsp_signer_cert;   /* delegated OCSP-signing certificate; NULL: the CA signs */
	char *ocsp_signer_key;    /* ... and its key */
	int64_t ocsp_validity;    /* seconds from thisUpdate to nextUpdate */
	/* [renewal] (POST /client-certificates/renew, renew.c) */
	int renew_enabled;        /* crtokend asks HTTPS clients for a certificate */
	int renew_window_days;    /* renewal allowed from this many days before notAfter */
	int renew_grace_days;     /* the old certificate is superseded this long after */
	int renew_allow_same_key; /* a renewal CSR may carry the current key */
	int renew_require_otp;    /* a renewal needs the OTP login of the owner too */
	/* [generate] (server-side keys: GENERATE, token issue) */
	int keep_pkcs12;          /* keep the PKCS#12, sealed, for the owner to download */
	/* [maintenance] (crtoken-admin maintain; crtokend runs it periodically) */
	int maintain_enabled;     /* crtokend runs it */
	int64_t maintain_interval; /* seconds between crtokend's runs */
	/* [portal] (the self-service page at /enroll) */
	int portal_enabled;
	char *portal_title;
	char *portal_organization;
	char *portal_help;
	char *portal_formats;     /* profile formats offered, comma-separated */
	/* [events] (events.c) and its [events.sink NAME] sections */
	int64_t events_expiring_window; /* certificate.expiring this long before notAfter */
	int64_t events_lease;     /* a claimed delivery is this node's for so long */
	int64_t events_poll;      /* crtokend looks for due deliveries this often */
	int events_batch;         /* deliveries claimed per pass */
	char *events_node;        /* this node's name in leases (NULL: host:pid) */
	struct crt_event_sink *event_sinks;
	size_t event_nsinks;
	/* [attestation] (YubiKey PIV key attestation at redemption, attest.h) */
	char *attest_roots;       /* directory of trusted attestation roots (PEM) */
	char *attest_mode;        /* default policy of tokens: ignore, verify, require */
	char *attest_pin_policy;  /* default minimum PIN policy: never, once, always */
	char *attest_touch_policy; /* default minimum touch policy: never, cached, always */
	char *attest_min_firmware; /* default minimum firmware x.y.z */
	/* [import] (certificates uploaded instead of a CSR, import.c) */
	char *import_issuers;     /* PEM bundle of the issuers an upload must chain to;
				     NULL: uploads are refused (import_not_configured) */
	/* [radius] (rlm_crtoken's admission policy) */
	int radius_pin_mac;       /* enum crt_pin_mac: the default for every certificate */
	int radius_max_session_timeout; /* seconds; 0 = only the certificate's notAfter */
	/* [coa] (RFC 5176 Disconnect-Request on revocation, coa.c) */
	char *coa_secret_file;    /* the NAS's CoA secret (a secret file); NULL: no disconnects */
	char *coa_nas_file;       /* per-NAS secrets: lines "ADDRESS[:PORT] SECRET" (a secret file) */
	int coa_port;             /* the NAS's CoA/Disconnect port */
	int coa_timeout_ms;       /* per try */
	int coa_retries;          /* tries after the first */
	/* [requests] (the approval workflow, request.c) */
	int64_t request_pending_lifetime; /* a pending request expires this long after it was made */
	/* [profile NAME] sections, in file order; "default" always among them */
	crt_cert_profile *profiles;
	size_t nprofiles;
} crt_config;

/* The profile called name (NULL or "": the default one), or NULL. */
const crt_cert_profile *crt_cert_profile_find(const crt_config *cfg, const char *name);
/* Its JSON shape (crtoken-admin profile show --json, GET /profiles); a new
 * reference, NULL when out of memory. */
struct json_t *crt_cert_profile_json(const crt_cert_profile *p);


/* One [events.sink NAME] section (crtoken.conf documents the keys). */
enum crt_sink_type { CRT_SINK_WEBHOOK = 1, CRT_SINK_EMAIL = 2, CRT_SINK_COMMAND = 3 };
typedef struct crt_event_sink {
	char *name;
	int type;                 /* enum crt_sink_type */
	char *events;             /* filter: types, "area.*", "*"; NULL: every type */
	int64_t timeout;          /* one attempt */
	int64_t retry_base, retry_max; /* backoff: base, doubling, up to max */
	int64_t give_up_after;    /* from the event's routing */
	/* webhook */
	char *url, *secret_file, *ca_file;
	/* email */
	char *smtp_url, *from, *to, *subject, *body;
	int to_owner, starttls;
	/* command: argv split on blanks, argv[0] an absolute path; no shell */
	char *command;
} crt_event_sink;


/* [radius] pin_mac: off, or first (the MAC of a certificate's first admission
 * is the only one it is admitted from afterwards). */
enum crt_pin_mac { CRT_PIN_MAC_OFF = 0, CRT_PIN_MAC_FIRST = 1 };

/* "first" / "off" → *pin (enum crt_pin_mac): 0, or -1 for anything else. */
int crt_pin_mac_parse(const char *s, int *pin);
const char *crt_pin_mac_name(int pin); /* "first" or "off" */

/* The system's configuration file. */
#define CRT_SYSTEM_CONFIG "/etc/crtoken/crtoken.conf"

/* Default config path for the CLI and crtokend: $CRTOKEN_CONF if set (read
 * with secure_getenv, so never in a setuid/setgid program), else
 * CRT_SYSTEM_CONFIG. The PAM and RADIUS modules run inside other programs
 * with their callers' environment: they never use this, only their own
 * option or CRT_SYSTEM_CONFIG. */
const char *crt_config_default_path(void);

/* ------------------------------------------------------------------ context */

typedef struct crt_ctx crt_ctx;

enum crt_open_flags {
	CRT_OPEN_NO_CA = 1 << 0,    /* don't load the CA key (PAM, RADIUS) */
	CRT_OPEN_READONLY = 1 << 1, /* read-only store connection (RADIUS) */
	CRT_OPEN_NO_OTP_KEY = 1 << 2, /* don't read the OTP sealing key (RADIUS);
				       * crt_open implies it with CRT_OPEN_READONLY */
};

/*
 * Load the config (NULL path = crt_config_default_path()), open the store
 * (migrating it forward) and, unless CRT_OPEN_NO_CA, load the CA.
 * The config, the store (and its -wal/-shm) and the keys must be regular
 * files owned by root or the effective user and writable by no one else;
 * keys readable by no one else; the store's directory and those above it
 * owned likewise and not writable by others (a sticky ancestor such as /tmp
 * excepted). Otherwise CRT_E_UNSAFE_PERMISSIONS, the file named in the
 * detail. Checked on the descriptors actually read. *out is set even on failure (unless CRT_E_NOMEM) so the caller can read
 * crt_errdetail(*out); always release it with crt_close().
 */
crt_status crt_open(const char *config_path, unsigned flags, crt_ctx **out) CRT_MUST_CHECK;
void crt_close(crt_ctx *ctx);

/* Details of the last failure on ctx ("" if none); valid until the next call. */
const char *crt_errdetail(const crt_ctx *ctx);
const crt_config *crt_get_config(const crt_ctx *ctx);

/*
 * Instances and sessions. crt_open = crt_instance_open + crt_session_open
 * (the session holding the only reference to its instance); a long-running
 * process opens the instance once and a session per thread over it:
 *
 *   crt_instance_open   load the config, the CA (unless CRT_OPEN_NO_CA) and
 *                       the OTP sealing key, once. Same checks and statuses
 *                       as crt_open; on failure *out is NULL and err (may be
 *                       NULL) gets the detail. flags: CRT_OPEN_NO_CA,
 *                       CRT_OPEN_NO_OTP_KEY (then the OTP calls that need the
 *                       key fail with CRT_E_CONFIG).
 *   crt_instance_reopen a new instance from prev's config file and flags
 *                       (a reload: the file and keys are read again). When
 *                       it names the same store, it shares prev's in-process
 *                       writer state (one writer queue for both generations).
 *   crt_instance_ref/unref  thread-safe; the last unref frees the instance.
 *                       Every session holds a reference, so an instance
 *                       outlives the sessions made from it.
 *   crt_session_open    one store connection over inst (which it references
 *                       for its life). flags: CRT_OPEN_READONLY. *out is set
 *                       even on failure (unless CRT_E_NOMEM), for
 *                       crt_errdetail; release it with crt_close().
 *   crt_session_instance the instance of a session (no reference taken).
 * An instance is never changed once opened; crt_ca_import, which replaces
 * the CA, moves its session onto a new instance (crt_instance_reopen).
 * Writers of one store queue in-process only among the sessions of one
 * instance (and of those reopened from it); instances opened separately
 * (two crt_open calls) meet at the store's own lock, like two processes. So
 * threads of one process that write should share an instance.
 */
typedef struct crt_instance crt_instance;

crt_status crt_instance_open(const char *config_path, unsigned flags, crt_instance **out,
			     char *err, size_t errlen) CRT_MUST_CHECK;
crt_status crt_instance_reopen(const crt_instance *prev, crt_instance **out, char *err,
			       size_t errlen) CRT_MUST_CHECK;
crt_instance *crt_instance_ref(crt_instance *inst);
void crt_instance_unref(crt_instance *inst);
const crt_config *crt_instance_config(const crt_instance *inst);
/* Every CA certificate of the instance followed by its chain, the default CA
 * first, PEM ("" when opened without the CAs). */
const char *crt_instance_ca_pem(const crt_instance *inst);
crt_status crt_session_open(crt_instance *inst, unsigned flags, crt_ctx **out) CRT_MUST_CHECK;
crt_instance *crt_session_instance(const crt_ctx *ctx);

/* Current time, Unix seconds. */
int64_t crt_now(void);

/* ------------------------------------------------------------------ init / CA */

typedef struct crt_init_opts {
	const char *dir;         /* instance directory; created if missing */
	const char *ca_key_type; /* "ec-p256" (default), "ec-p384", "rsa-3072" */
	const char *ca_subject;  /* "/CN=.../O=..." (default "/CN=crtoken CA") */
	int ca_days;             /* default 3650 */
	/* Import instead of generating (all three paths, chain optional): */
	const char *import_cert;
	const char *import_key;
	const char *import_chain;
	/* Make the CA key in a PKCS#11 token instead of ca.key (EC P-256):
	 * an RFC 7512 URI with token= and object=, the PIN's file, the module
	 * (NULL: the p11-kit proxy). */
	const char *ca_key_uri;
	const char *ca_pin_file;
	const char *ca_module;
} crt_init_opts;

/*
 * Make a self-contained instance in opts->dir: crtoken.conf (paths relative
 * to it), the store, the CA (ca.pem, ca.key 0600, chain.pem) and the OTP
 * sealing key (otp.key 0600). Refuses (CRT_E_EXISTS) to overwrite an
 * existing instance. On failure writes detail into err (may be NULL).
 */
crt_status crt_init(const crt_init_opts *opts, char *err, size_t errlen) CRT_MUST_CHECK;

/* Replace the CA of an open instance with an imported cert + key (+ chain). */
crt_status crt_ca_import(crt_ctx *ctx, const char *cert_file, const char *key_file,
			 const char *chain_file, const char *actor) CRT_MUST_CHECK;

typedef struct crt_ca_info {
	char *subject;      /* "/CN=..." as FreeRADIUS prints TLS-Client-Cert-Issuer */
	char *key_type;     /* "ec-p256" ... */
	char *serial;
	int64_t not_before, not_after;
	char *pem;          /* the CA certificate */
	char *chain_pem;    /* CA certificate followed by its chain */
	char *fingerprint;  /* SHA-256, hex with colons */
	char *name;         /* "default" ([ca]) or the NAME of [ca NAME] */
	char *ski;          /* Subject Key Identifier, lowercase hex ("" if none) */
	char *key_kind;     /* where the key is: "file", "pkcs11" or "cfssl" (remote) */
} crt_ca_info;
/* The default CA ([ca]). */
crt_status crt_ca_get(crt_ctx *ctx, crt_ca_info *out) CRT_MUST_CHECK;
/* The CA called name (NULL: the default); CRT_E_CA_UNKNOWN if there is none. */
crt_status crt_ca_get_named(crt_ctx *ctx, const char *name, crt_ca_info *out) CRT_MUST_CHECK;
void crt_ca_info_clear(crt_ca_info *ci);
/* Every CA of the instance, the default first; *out malloc'd
 * (crt_ca_list_free). CRT_E_CA_MISSING when opened without the CAs. */
crt_status crt_ca_list(crt_ctx *ctx, crt_ca_info **out, size_t *n) CRT_MUST_CHECK;
void crt_ca_list_free(crt_ca_info *list, size_t n);
/* Is name a CA of ctx's instance (NULL and "default" are)? CRT_E_CA_UNKNOWN
 * with the detail otherwise: what token create checks before writing. */
crt_status crt_ca_check_name(crt_ctx *ctx, const char *name) CRT_MUST_CHECK;

typedef struct crt_ca_create_opts {
	const char *name;        /* a [ca NAME] section of the config (required) */
	const char *key_type;    /* "ec-p256" (default), "ec-p384", "rsa-3072"; a
				  * key made in a PKCS#11 token is ec-p256 */
	const char *subject;     /* "/CN=.../O=..." (default "/CN=crtoken CA NAME") */
	int days;                /* default 3650 */
} crt_ca_create_opts;
/*
 * Make the CA of a [ca NAME] section that has no certificate yet: a new
 * key (the file of key = ..., 0600; or, for key = pkcs11:..., made in the
 * token with pin_file/module_path of the section) and a self-signed CA
 * certificate at certificate = .... Refuses (CRT_E_EXISTS) when the
 * certificate or key file exists; CRT_E_CA_UNKNOWN without the section.
 * Audited as ca.create. The session then moves onto a reopened instance
 * that holds every CA, the new one included, when the whole configuration
 * loads (it does not while another [ca NAME] still lacks its CA: then the
 * session stays as it was).
 */
crt_status crt_ca_create(crt_ctx *ctx, const crt_ca_create_opts *o, const char *actor)
	CRT_MUST_CHECK;

/* ------------------------------------------------------------------ backup */

/*
 * Write one file (a ustar archive, mode 0600: it holds the CA and OTP keys)
 * with a consistent online copy of ctx's store — taken in one read
 * transaction, so writers carry on — plus the config, CA certificate, key
 * and chain, OTP key and CRL, and a manifest of their SHA-256. ctx must have
 * its CA loaded. out_path is written with crt_file_write (replacing a
 * regular file). Audited as instance.backup.
 */
crt_status crt_backup(crt_ctx *ctx, const char *out_path, const char *actor) CRT_MUST_CHECK;
/*
 * Make a new instance in dir (absent or an empty directory) from a backup.
 * The whole archive is checked first (CRT_E_BACKUP_INVALID: truncated,
 * corrupt, incomplete); the instance is built in a hidden sibling, opened
 * the normal way and only then renamed to dir, so nothing is left on
 * failure. The config's file paths are reset to the instance's own names
 * in dir. CRT_E_EXISTS if dir holds anything. Audited as instance.restore
 * in the new store. err gets the detail.
 */
crt_status crt_restore(const char *in_path, const char *dir, const char *actor, char *err,
		       size_t errlen) CRT_MUST_CHECK;

/* ------------------------------------------------------------ store copy */

#define CRT_COPY_MAX_TABLES 48

typedef struct crt_copy_table {
	char name[64];
	int64_t rows;
	char sha256[65]; /* hex, over the table's columns and rows in key order */
} crt_copy_table;

typedef struct crt_copy_report {
	int ntables;
	crt_copy_table tables[CRT_COPY_MAX_TABLES];
	int64_t rows;    /* all tables */
	double seconds;  /* read, load and verification */
} crt_copy_report;

/*
 * Copy every row of ctx's store into a new store of backend to_backend
 * ("sqlite": target is a database file that must not exist yet;
 * "postgresql": target is a libpq conninfo — no password in it — naming a
 * database without crtoken data: its schema is made or found empty). The
 * source is read in one snapshot while its writers carry on; the target is
 * loaded in one transaction which, before it commits, reads the target
 * back and compares every table's row count and SHA-256 with the source's
 * (CRT_E_STORE on a difference: nothing is committed). Then audited on
 * both sides: store.copy.in in the target's transaction, store.copy.out in
 * the source. rep (may be NULL) gets the tables' counts and checksums. The
 * meta row schema_version (PostgreSQL's own bookkeeping) is not copied.
 */
crt_status crt_store_copy(crt_ctx *ctx, const char *to_backend, const char *target,
			  const char *actor, crt_copy_report *rep) CRT_MUST_CHECK;

/* ---------------------------------------------------------- store status */

typedef struct crt_store_status {
	char backend[16];      /* sqlite, postgresql */
	char location[256];    /* the file, or host:port/dbname */
	char role[16];         /* file, primary, standby */
	char server_version[32];
	int schema_version;    /* of the store */
	int64_t min_compatible;
	int64_t size_bytes;    /* -1 unknown */
	int64_t replay_lag_ms; /* standby: now - last replayed commit; -1 unknown */
	int standbys;          /* primary: connected standbys (-1 unknown) */
	int sync_standbys;     /* ... of them synchronous */
	char standby_detail[512]; /* primary: name state sync_state lag, one per line */
	int64_t tokens, certificates, revoked, otp_users, api_keys, audit_rows;
	int64_t heartbeat;     /* meta('heartbeat'): Unix time, 0 never written */
	char warning[640];     /* what an admin should act on ("; " between), or empty */
} crt_store_status;

/* The store ctx is connected to: backend, where, its replication role and
 * lag, row counts, and a warning when a PostgreSQL primary has no
 * synchronous standby (an asynchronous failover can lose a redemption or
 * bring a revoked certificate back) or a standby lags. */
crt_status crt_store_status_get(crt_ctx *ctx, crt_store_status *st) CRT_MUST_CHECK;

/* The heartbeat: meta('heartbeat') = now, in a write transaction of its
 * own (liveness, not a state change: not audited). Readers on PostgreSQL
 * with [store] max_staleness refuse admission (store_stale) once it is
 * older than that: writers keep it fresh (crtokend every 2 s on
 * postgresql, `crtoken-admin store heartbeat` where no crtokend runs). */
crt_status crt_store_heartbeat(crt_ctx *ctx) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ tokens */

#define CRT_TOKEN_PREFIX "crt_"
#define CRT_TOKEN_STRLEN 53 /* "crt_" + 43 body + 6 checksum */
#define CRT_ID_LEN 48       /* buffer size for "token-<uuid>" and friends */

enum crt_field {
	CRT_FIELD_CN = 1 << 0,
	CRT_FIELD_O = 1 << 1,
	CRT_FIELD_OU = 1 << 2,
};
#define CRT_FIELD_ALL (CRT_FIELD_CN | CRT_FIELD_O | CRT_FIELD_OU)

/* Parse "cn,org,ou" (also "o", "organization", ...) into a crt_field mask. */
crt_status crt_fields_parse(const char *list, unsigned *mask) CRT_MUST_CHECK;

typedef enum crt_token_state {
	CRT_TOKEN_ACTIVE = 0,
	CRT_TOKEN_USED,
	CRT_TOKEN_EXPIRED,
	CRT_TOKEN_DELETED,
} crt_token_state;
const char *crt_token_state_name(crt_token_state s);
/* "active" etc. → state; -1 if unknown. */
int crt_token_state_parse(const char *name);

/*
 * What an admin asks for. For create: name required, others optional.
 * For update: NULL means "unchanged", "" means "clear"; set_locked and
 * set_opened say whether `locked` / `opened` apply (locking a field takes it
 * out of `opened` and opening one out of `locked`); expires_at/lifetime 0
 * means unchanged. A field may not be in both lists of one request.
 * reply: "Attribute=value" lines separated by '\n' (NULL = none/unchanged).
 */
typedef struct crt_token_spec {
	const char *name;
	const char *cn;
	const char *org;
	const char *ou;
	const char *owner;
	int64_t lifetime;   /* seconds from now; 0 = config default */
	int64_t expires_at; /* absolute; giving both is lifetime_invalid */
	unsigned locked;    /* crt_field mask the redeemer may NOT set (see crt_token_overridable) */
	int set_locked;     /* update only */
	const char *reply;
	unsigned opened;    /* crt_field mask the redeemer MAY set although filled or owned */
	int set_opened;     /* update only */
	/* Key attestation policy (privacyIDEA's modes): attest_mode "ignore",
	 * "verify" (an attestation sent is checked) or "require" (one must be
	 * sent); minimums attest_pin_policy "never"/"once"/"always",
	 * attest_touch_policy "never"/"cached"/"always", attest_min_firmware
	 * "x.y.z". NULL: the [attestation] default (update: unchanged); ""
	 * (update): back to the default. */
	const char *attest_mode;
	const char *attest_pin_policy;
	const char *attest_touch_policy;
	const char *attest_min_firmware;
	const char *owner_email; /* the owner's address for event e-mail (crt_email_check) */
	const char *profile; /* create only: the certificate profile (NULL: default) */
	const char *san;    /* SubjectAltNames, "type=value" lines (email, upn, dns, uri);
			     * NULL = none/unchanged, "" = clear */
	int valid_days;     /* certificate validity; 0 = the profile's (unchanged) */
	const char *ca;     /* create only: the CA that signs its certificate (NULL:
			     * "default"); not a CA of the instance: ca_unknown */
	const char *approval; /* create only: "required" (a redemption becomes a pending
			       * certificate request an admin approves) or "none"; NULL:
			       * the profile's approval */
	const char *pin_mac; /* create only: "first" or "off" (crt_pin_mac_name), NULL:
			      * the profile's (which is [radius] pin_mac unless it sets one) */
	const char *description; /* free text: what the token is for (one line, at most
				  * 1024 bytes of UTF-8 without control characters:
				  * description_invalid); NULL = none/unchanged, "" = clear */
} crt_token_spec;

typedef struct crt_token {
	char id[CRT_ID_LEN];
	char *name, *cn, *org, *ou, *owner;
	unsigned locked;
	char *reply;        /* "Attr=value\n..." or NULL */
	int64_t created_at, expires_at, used_at, deleted_at; /* 0 = not set */
	int64_t updated_at; /* last change of the row */
	int64_t version;    /* bumped by every change of the row */
	char *serial;       /* certificate it produced, or NULL */
	char *created_by;
	crt_token_state state;
	unsigned opened;    /* fields opened to the redeemer (crt_token_spec.opened) */
	/* its own attestation policy, "mode=require;pin=once;touch=cached;
	 * firmware=5.4.3" (only what the admin set), NULL: all [attestation]
	 * defaults */
	char *attestation;
	char *owner_email;  /* or NULL */
	char *profile;      /* its certificate profile ("default" for tokens made before) */
	char *san;          /* SubjectAltNames, "type=value" lines, or NULL */
	int valid_days;     /* 0: the profile's */
	char *ca;           /* the CA that signs its certificate ("default", ...) */
	int approval;       /* enum crt_approval */
	char *pin_mac;      /* "first" / "off" as the token says, NULL: the profile's */
	char *description;  /* what the token is for, or NULL */
} crt_token;
void crt_token_clear(crt_token *t);
void crt_token_list_free(crt_token *list, size_t n);

/*
 * The subject policy: the crt_field mask the redeemer may set on t.
 * A field the administrator filled in is fixed, and so is the CN of a token
 * with an owner (its CN, or its name when it has none); the fields left
 * empty are the redeemer's to fill (Frontdoor's "optional fields"). `opened`
 * gives a fixed field to the redeemer anyway; `locked` takes one away even
 * when empty. Every subject field, whoever sets it, is 1-64 bytes of
 * printable UTF-8 without '\', Unicode format characters (zero-width, bidi)
 * or spaces at either end, and the CN is never empty: refused as
 * CRT_E_FIELD_INVALID; a change the policy forbids as CRT_E_FIELD_LOCKED.
 */
unsigned crt_token_overridable(const crt_token *t);

/*
 * Create a token. The token string is written to token_out (shown once,
 * never stored); only its SHA-256 goes to the store. out may be NULL.
 */
crt_status crt_token_create(crt_ctx *ctx, const crt_token_spec *spec, const char *actor,
			    crt_token *out, char token_out[CRT_TOKEN_STRLEN + 1]) CRT_MUST_CHECK;

/* The most tokens one crt_token_create_many call makes (one transaction;
 * POST /certificate-request-tokens "count"). */
#define CRT_BULK_MAX 1000

/* Tokens made together: tokens[i] and its token string strings[i] (shown
 * once, never stored), n of each. Owned by the caller: crt_token_batch_clear
 * wipes the strings, frees everything and empties b. */
typedef struct crt_token_batch {
	crt_token *tokens;
	char (*strings)[CRT_TOKEN_STRLEN + 1];
	size_t n;
} crt_token_batch;
void crt_token_batch_clear(crt_token_batch *b);

/*
 * Create count tokens (1..CRT_BULK_MAX, else count_invalid) with spec's
 * metadata, token i (0-based) named spec->name "-" (first + i), as
 * crtoken-admin token create --count names them. The spec is checked as
 * crt_token_create checks it (with the longest of the names; every name
 * that is the CN is checked too); a refusal writes nothing. All of them are
 * stored in ONE write transaction, each with its token.create audit row and
 * its token.created event: all or none. On CRT_OK *out holds them in name
 * order (crt_token_batch_clear it); otherwise *out is empty and no token
 * string is handed out (store_commit_unknown included: the transaction may
 * have committed — list the tokens by name to see).
 */
crt_status crt_token_create_many(crt_ctx *ctx, const crt_token_spec *spec, size_t first,
                                 size_t count, const char *actor,
                                 crt_token_batch *out) CRT_MUST_CHECK;
crt_status crt_token_get(crt_ctx *ctx, const char *id, crt_token *out) CRT_MUST_CHECK;
/* state < 0: all states. */
crt_status crt_token_list(crt_ctx *ctx, int state, crt_token **out, size_t *n) CRT_MUST_CHECK;
struct crt_page;
/*
 * One page of crt_token_list(state) in page p's order (crt_token_sort_fields,
 * the id breaking ties; crt_page_parse makes p), cut by the store
 * (LIMIT/OFFSET): at most p->size tokens in *out (NULL for a page past the
 * end), *total = how many are in that state. A page crt_page_parse would
 * refuse: CRT_E_PAGE_INVALID.
 */
crt_status crt_token_page(crt_ctx *ctx, int state, const struct crt_page *p, crt_token **out,
			  size_t *n, int64_t *total) CRT_MUST_CHECK;
crt_status crt_token_update(crt_ctx *ctx, const char *id, const crt_token_spec *changes,
			    const char *actor, crt_token *out) CRT_MUST_CHECK;
crt_status crt_token_delete(crt_ctx *ctx, const char *id, const char *actor) CRT_MUST_CHECK;
/* Remove expired/used/deleted tokens whose last change is older than days. */
crt_status crt_token_purge(crt_ctx *ctx, int older_than_days, const char *actor,
			   size_t *purged) CRT_MUST_CHECK;

/*
 * Syntax + checksum check only, no store access: CRT_OK,
 * CRT_E_TOKEN_MALFORMED (not a crtoken token at all) or CRT_E_TOKEN_MISTYPED.
 */
crt_status crt_token_check_format(const char *token) CRT_MUST_CHECK;

/*
 * RADIUS reply attributes: the one grammar, used where they are stored
 * (crt_reply_validate) and where they are sent (rlm_crtoken), so radiusd
 * sends exactly what the admin stored.
 *
 *   text  = line *("\n" line) ["\n"]
 *   line  = name "=" value
 *   name  = 1..CRT_REPLY_NAME_MAX of A-Z a-z 0-9 "-" (dictionary names)
 *   value = 1 or more characters of printable UTF-8 (no control characters,
 *           no tab, no '\r'), taken verbatim: nothing is trimmed, the first
 *           '=' ends the name, later ones belong to the value
 *
 * Empty lines are refused, and so is a name with blanks around it.
 */
#define CRT_REPLY_NAME_MAX 128

/* One attribute; name and value point into the text (not NUL-terminated). */
typedef struct crt_reply_attr {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
} crt_reply_attr;

/*
 * Read the line at *cursor (call only while **cursor != '\0') and move
 * *cursor past it and its '\n', also when the line is refused, so a reader
 * may skip it and go on. CRT_OK: *out holds the attribute.
 * CRT_E_REPLY_ATTR: the line does not follow the grammar (*out unset).
 */
crt_status crt_reply_next(const char **cursor, crt_reply_attr *out) CRT_MUST_CHECK;

/* CRT_OK when every line of reply follows the grammar above (NULL or "" =
 * none) and the text is at most 4096 bytes; else CRT_E_REPLY_ATTR. */
crt_status crt_reply_validate(const char *reply) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ certificates */

enum crt_cert_status { CRT_CERT_VALID = 0, CRT_CERT_REVOKED = 1, CRT_CERT_EXPIRED = 2 };
const char *crt_cert_status_name(int status);
int crt_cert_status_parse(const char *name); /* -1 if unknown */
/* The SubjectAltNames of a PEM certificate as "kind=value" lines (email,
 * upn, dns, uri: what crtoken writes; other kinds are left out), malloc'd;
 * NULL when it has none or cannot be read. */
char *crt_cert_san_text(const char *pem);

typedef struct crt_cert {
	char serial[72];  /* lowercase hex, as FreeRADIUS prints it */
	char token_id[CRT_ID_LEN];
	char *name;       /* the token's name */
	char *subject;    /* "/CN=.../O=.../OU=..." */
	char *cn, *org, *ou;
	char *issuer;     /* "/CN=..." of the CA */
	char *user;       /* who redeemed (authenticated user) or NULL */
	char *reply;      /* reply attributes copied from the token */
	char *key_type;   /* "ec-p256", "rsa-2048", "ed25519" ... */
	char *pubkey_sha256;
	char *ski;        /* Subject Key Identifier, lowercase hex (NULL if none) */
	char *aki;        /* Authority Key Identifier (the issuing CA key's SKI) */
	char *cert_sha256; /* SHA-256 of the DER certificate, lowercase hex */
	char *ca;         /* the CA of the instance that issued it ("default", ...) */
	char *pem;
	char *chain_pem;  /* filled by redemption and crt_cert_get */
	char *renewed_from; /* a renewal: the serial this certificate replaces, or NULL */
	int64_t not_before, not_after, issued_at, revoked_at;
	int revoked;      /* stored status: 1 if revoked */
	int reason;       /* RFC 5280 CRLReason when revoked */
	int status;       /* enum crt_cert_status evaluated at lookup time */
	/* what a verified key attestation said (JSON object: serial, firmware,
	 * pinPolicy, touchPolicy, formFactor, fips, cspn, slot, root), NULL: none */
	char *attestation;
	/* What RADIUS saw (rlm_crtoken, recorded in batches): 0 / NULL when the
	 * certificate was never admitted. */
	int64_t first_seen, last_seen;
	char *first_mac;  /* Calling-Station-Id of the first admission (the pin) */
	char *last_mac;   /* ... of the last one */
	char *nas_ip;     /* NAS-IP-Address of the last session (else the packet's source) */
	char *nas_id;     /* NAS-Identifier of the last session */
	char *seen_user;  /* User-Name of the last session */
	char *acct_session_id; /* Acct-Session-Id of the last session, when the NAS sent one */
	char *profile;    /* the profile it was issued under ("default" for older rows) */
	char *pin_mac;    /* its token's pin_mac ("first" / "off"), NULL: the profile's */
} crt_cert;
void crt_cert_clear(crt_cert *c);
void crt_cert_list_free(crt_cert *list, size_t n);

/*
 * Normalise a serial to the stored form: lowercase hex, two digits per
 * byte of the magnitude, no colons, no leading 00 sign byte. Accepts
 * colons, spaces, upper case and an optional "0x". out must hold 65+ bytes.
 */
crt_status crt_serial_normalize(const char *in, char *out, size_t outlen) CRT_MUST_CHECK;

crt_status crt_cert_get(crt_ctx *ctx, const char *serial, crt_cert *out) CRT_MUST_CHECK;

typedef struct crt_cert_filter {
	int status;             /* -1 any, else enum crt_cert_status */
	const char *token_id;   /* NULL any */
	int expiring_within_days; /* < 0: no filter; valid certs ending within N days */
	int never_seen;         /* 1: only certificates RADIUS never admitted */
	int stale_days;         /* > 0: only certificates seen, but not within N days */
	const char *user;       /* NULL any; else only the certificates of this user */
} crt_cert_filter;
crt_status crt_cert_list(crt_ctx *ctx, const crt_cert_filter *f, crt_cert **out, size_t *n) CRT_MUST_CHECK;
/* One page of crt_cert_list(f) in page p's order (crt_cert_sort_fields, the
 * serial breaking ties), cut by the store; *total = how many f selects.
 * As crt_token_page. */
crt_status crt_cert_page(crt_ctx *ctx, const crt_cert_filter *f, const struct crt_page *p,
			 crt_cert **out, size_t *n, int64_t *total) CRT_MUST_CHECK;

/* RFC 5280 reason names ("keyCompromise"...) ↔ codes; -1 if unknown. */
int crt_reason_parse(const char *name);
const char *crt_reason_name(int reason);
/* The two reasons a user may give for their own certificate. */
#define CRT_REASON_KEY_COMPROMISE 1
#define CRT_REASON_CESSATION 5

struct crt_crl;
/*
 * Revoke a certificate and publish a fresh CRL listing it, in the same
 * transaction (with both audit rows); then [ca] crl_file is written. When
 * crl is non-NULL it receives the published CRL (crt_crl_clear it), with
 * file_status saying whether the file was written. Without a loaded CA key
 * the revocation is recorded alone and the next crt_crl_current re-signs.
 */
crt_status crt_cert_revoke(crt_ctx *ctx, const char *serial, int reason, const char *actor,
			   struct crt_crl *crl) CRT_MUST_CHECK;

/*
 * A client certificate as FreeRADIUS presents it in the check-eap-tls
 * virtual server: the TLS-Client-Cert-* attribute values, as strings. NULL
 * means the attribute was absent.
 */
typedef struct crt_presented {
	const char *serial;      /* TLS-Client-Cert-Serial ("0a1b...", any case, colons ok) */
	const char *issuer;      /* TLS-Client-Cert-Issuer ("/CN=..."); NULL skips the name check */
	const char *ski;         /* TLS-Client-Cert-X509v3-Subject-Key-Identifier ("2D:11:...") */
	const char *aki;         /* TLS-Client-Cert-X509v3-Authority-Key-Identifier ("A7:61:..."
				  * or "keyid:A7:61:...") */
	const char *not_before;  /* TLS-Client-Cert-Valid-Since (ASN.1 time "YYMMDDHHMMSSZ"
				  * or "YYYYMMDDHHMMSSZ") */
	const char *not_after;   /* TLS-Client-Cert-Expiration (same form) */
	const char *mac;         /* Calling-Station-Id (any common MAC form); NULL when
				  * absent. Read only by crt_cert_admission. */
} crt_presented;

/*
 * The admission rule, a pure function of values: is the presented
 * certificate the stored one, and may it be admitted at now? The presented
 * certificate must carry the stored serial, issuer name (unless
 * p->issuer is NULL), Authority Key Identifier (the key that signed it),
 * Subject Key Identifier and validity; a missing or unreadable identifier
 * or validity fails closed. A name string alone never admits anything.
 * Returns CRT_OK, CRT_E_SERIAL_INVALID, CRT_E_CERT_NOT_FOUND (other serial),
 * CRT_E_CERT_WRONG_ISSUER (issuer name or key differs), CRT_E_CERT_MISMATCH
 * (subject key, validity or a missing attribute), then the stored status:
 * CRT_E_CERT_REVOKED, _NOT_YET_VALID, _EXPIRED. *why (if why != NULL)
 * receives a static explanation of a refusal ("" on CRT_OK).
 */
crt_status crt_cert_admit(const crt_presented *p, const crt_cert *stored, int64_t now,
			  const char **why) CRT_MUST_CHECK;

/*
 * The status part of admission alone (for the stored certificate itself,
 * e.g. in `crtoken-admin cert show`): CRT_OK, CRT_E_CERT_MISMATCH (the row
 * has no key identifiers to bind to), CRT_E_CERT_REVOKED, _NOT_YET_VALID or
 * _EXPIRED at now; *why as for crt_cert_admit.
 */
crt_status crt_cert_check_status(const crt_cert *stored, int64_t now, const char **why) CRT_MUST_CHECK;

/*
 * Look the presented certificate up by serial and apply crt_cert_admit;
 * used by rlm_crtoken. Besides its statuses: a store error (fail closed).
 * On CRT_OK, *reply (if reply != NULL) receives a malloc'd copy of the
 * reply attributes or NULL.
 */
crt_status crt_cert_authorize(crt_ctx *ctx, const crt_presented *p, int64_t now, char **reply) CRT_MUST_CHECK;

/* Longest Calling-Station-Id kept, normalised (crt_mac_normalize). */
#define CRT_MAC_MAX 64

/* What crt_cert_admission answers for an admitted certificate. */
typedef struct crt_admission {
	char *reply;             /* malloc'd reply attributes, or NULL (crt_admission_clear) */
	int64_t not_after;
	int64_t session_timeout; /* seconds the session may last: to notAfter, capped by
				  * the profile's session_timeout ([radius]
				  * max_session_timeout unless it sets one); at least 1 */
	int pin_mac;             /* enum crt_pin_mac that applies (crt_cert_pin_mac) */
	int pin_claim;           /* 1: pin_mac = first and no MAC is pinned yet: the caller
				  * admits only after crt_cert_pin_claim(mac) succeeds */
	char mac[CRT_MAC_MAX];   /* the presented Calling-Station-Id, normalised; "" none */
} crt_admission;
void crt_admission_clear(crt_admission *a);

/*
 * crt_cert_authorize plus the RADIUS session rules (rlm_crtoken): the
 * Session-Timeout the Access-Accept may carry and the MAC pin, both read
 * with the admission row (no other store query). The pin that applies is
 * the certificate's own (its token's pin_mac), else its profile's, else
 * [radius] pin_mac (a profile no longer configured). With
 * pin_mac = first, a certificate whose first MAC is recorded is refused
 * from any other one (CRT_E_CERT_MAC_PINNED, as it is when no
 * Calling-Station-Id was presented); when none is recorded yet, out->pin_claim
 * asks the caller to claim it. On CRT_OK out is filled (crt_admission_clear).
 */
crt_status crt_cert_admission(crt_ctx *ctx, const crt_presented *p, int64_t now,
			      crt_admission *out) CRT_MUST_CHECK;

/*
 * Pin mac (normalised) as the first MAC of the certificate serial, unless
 * one is pinned already, atomically by the store's own statement (two RADIUS
 * nodes admitting a clone at once: one wins). CRT_OK when mac is the pinned
 * MAC afterwards (audited as cert.pin when this call pinned it),
 * CRT_E_CERT_MAC_PINNED when another one is. Needs a writable ctx.
 */
crt_status crt_cert_pin_claim(crt_ctx *ctx, const char *serial, const char *mac, int64_t now) CRT_MUST_CHECK;

/* Calling-Station-Id to one form: six hex octets in any of the usual
 * spellings (aa:bb.., AA-BB-.., aabb.ccdd.eeff, aabbccddeeff) become
 * "aa:bb:cc:dd:ee:ff"; anything else is kept lowercased and trimmed.
 * CRT_E_FIELD_INVALID for an empty value, one with control characters or
 * longer than CRT_MAC_MAX - 1. */
crt_status crt_mac_normalize(const char *in, char out[CRT_MAC_MAX]) CRT_MUST_CHECK;

/* One admission as rlm_crtoken queues it for the batched record. */
#define CRT_SIGHT_FIELD 128
typedef struct crt_sighting {
	char serial[72];
	int64_t first_at, last_at; /* the first and last admission in this batch */
	char first_mac[CRT_MAC_MAX]; /* MAC of first_at */
	char mac[CRT_MAC_MAX];     /* of last_at; the rest likewise of the last one */
	char nas_ip[48];
	char nas_id[CRT_SIGHT_FIELD];
	char user_name[CRT_SIGHT_FIELD];
	char acct_session_id[CRT_SIGHT_FIELD];
} crt_sighting;

/* Coalesce newer (a later admission of the same serial) into into: the
 * earliest first, the latest last and its session fields. */
void crt_sighting_merge(crt_sighting *into, const crt_sighting *newer);

/*
 * Record n sightings in one transaction: first_seen is the earliest ever
 * seen, last_seen and the session fields the latest; a certificate seen
 * for the first time gets its cert.first_seen audit row in the same
 * transaction. Sightings of serials crtoken never stored are skipped.
 * Nothing is written on failure. Needs a writable ctx.
 */
crt_status crt_cert_seen_record(crt_ctx *ctx, const crt_sighting *v, size_t n) CRT_MUST_CHECK;

/* What a published CRL covers. */
typedef struct crt_crl_meta {
	int64_t number;                  /* CRL number */
	int64_t this_update, next_update;
	int64_t revocations;             /* the newest revocation it lists (sequence number) */
	char ca_sha256[65];              /* hex SHA-256 of the CA certificate that signed it */
} crt_crl_meta;

/*
 * The CRL freshness rule: a published CRL (m; NULL = none) must be re-signed
 * when it was signed by another CA than ca_sha256 (NULL: not checked), when
 * a revocation newer than the ones it lists exists (newest_revocation), or
 * once its last quarter before nextUpdate has begun. *why (may be NULL)
 * receives the reason, or NULL when fresh. 1 = stale.
 */
int crt_crl_stale(const crt_crl_meta *m, int64_t newest_revocation, const char *ca_sha256,
		  int64_t now, const char **why);

typedef struct crt_crl {
	crt_crl_meta meta;
	char *pem;               /* the signed CRL, PEM */
	unsigned char *der;      /* ... and DER */
	size_t der_len;
	int entries;             /* revoked certificates listed */
	int resigned;            /* this call signed it (and audited crl.generate) */
	int file_written;        /* [ca] crl_file now holds it */
	crt_status file_status;  /* why not, when a write was attempted */
} crt_crl;
void crt_crl_clear(crt_crl *c);

enum crt_crl_flags {
	CRT_CRL_FORCE = 1 << 0,      /* re-sign even when fresh */
	CRT_CRL_WRITE_FILE = 1 << 1, /* write [ca] crl_file even when not re-signed */
};
/*
 * The current CRL, the one call every adapter uses (GET /crl, crtoken-admin
 * crl). Served from the store; re-signed (CRL number incremented, audited
 * as crl.generate by actor) only when crt_crl_stale says so or with
 * CRT_CRL_FORCE — so an unauthenticated reader never causes a write while
 * the CRL is fresh, whether or not crl_file is writable. [ca] crl_file is
 * written after every re-sign (and with CRT_CRL_WRITE_FILE); a failure to
 * write it is reported in out->file_status, not as the result. Needs the
 * CA key only to re-sign (CRT_E_CA_MISSING otherwise).
 */
crt_status crt_crl_current(crt_ctx *ctx, unsigned flags, const char *actor, crt_crl *out) CRT_MUST_CHECK;
/* The same for the CA called ca (NULL: the default CA): each CA has its own
 * CRL, CRL numbers and crl_file. CRT_E_CA_UNKNOWN when there is no such CA. */
crt_status crt_crl_current_ca(crt_ctx *ctx, const char *ca, unsigned flags, const char *actor,
			      crt_crl *out) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ self-service */

/*
 * What a logged-in user does with their own certificates (selfservice.c;
 * GET /me/certificates, POST /me/certificates/{serial}/revoke,
 * crtoken-enroll list / revoke). A certificate is user's when its user
 * column is user: the PAM login that redeemed it (for a token with an
 * owner, always that owner), or the token's owner when an admin issued it
 * for them (crt_token_issue). user must pass crt_user_name_check
 * (CRT_E_AUTH_REQUIRED otherwise): the adapter hands down the login it
 * authenticated, never a name from the request.
 */
/* Every certificate of user, newest first (status evaluated now). */
crt_status crt_my_certs(crt_ctx *ctx, const char *user, crt_cert **out, size_t *n) CRT_MUST_CHECK;
/*
 * Revoke user's own certificate serial (a lost device): reason
 * CRT_REASON_KEY_COMPROMISE or CRT_REASON_CESSATION, else
 * CRT_E_REASON_INVALID. Another user's serial and one never issued are the
 * same CRT_E_CERT_NOT_FOUND with the same detail (nothing tells them
 * apart); a refusal is audited as cert.revoke_refused. Otherwise exactly
 * crt_cert_revoke with user as the actor: one transaction with its
 * cert.revoke audit row and certificate.revoked event, the CRL re-signed
 * in it (OCSP answers revoked at once); CRT_E_CERT_REVOKED when it was.
 */
crt_status crt_my_cert_revoke(crt_ctx *ctx, const char *user, const char *serial, int reason,
			      struct crt_crl *crl) CRT_MUST_CHECK;
/* One page of crt_my_certs(user) in p's order (crt_cert_sort_fields), cut
 * by the store; *total = how many certificates user has (never another
 * user's). As crt_cert_page. */
crt_status crt_my_cert_page(crt_ctx *ctx, const char *user, const struct crt_page *p,
			    crt_cert **out, size_t *n, int64_t *total) CRT_MUST_CHECK;
/*
 * The PKCS#12 kept for user's certificate serial ([generate] keep_pkcs12),
 * opened from its seal: still protected by the passphrase it was made with.
 * *p12 malloc'd (crt_freezero). Another user's serial and one never issued
 * are CRT_E_CERT_NOT_FOUND alike; CRT_E_PKCS12_NOT_KEPT when none is kept
 * (the key was made on the device, keep_pkcs12 was off, or the certificate
 * was revoked, which removes it). Every download is audited
 * (cert.pkcs12_download, with remote; a refusal cert.pkcs12_download_refused)
 * and none is handed out without its audit row.
 */
crt_status crt_my_pkcs12(crt_ctx *ctx, const char *user, const char *serial, const char *remote,
			 unsigned char **p12, size_t *len) CRT_MUST_CHECK;
/* The serials of user's certificates with a kept PKCS#12; *serials malloc'd
 * (free). */
crt_status crt_my_pkcs12_kept(crt_ctx *ctx, const char *user, char (**serials)[72],
			      size_t *n) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ renewal */

/*
 * Renewal without a new token (POST /client-certificates/renew). The
 * adapter authenticated the client by TLS client authentication and hands
 * down the certificate it presented (the handshake proved the key).
 */
typedef struct crt_renew_req {
	const unsigned char *cert; /* the presented certificate, DER or PEM */
	size_t cert_len;
	const unsigned char *csr;  /* the new CSR, PEM or DER */
	size_t csr_len;
	const char *user;          /* who logged in too (HTTP Basic / PAM), or NULL */
	const char *actor;         /* for the audit row */
	const char *remote;        /* remote address for the audit row, or NULL */
} crt_renew_req;

/*
 * Issue the successor of the presented certificate: same subject, name,
 * owner (user), reply attributes and subjectAltName, the CSR's new key,
 * renewed_from = the presented serial (cert show / JSON "renewedFrom"),
 * stored with its cert.renew audit row in one transaction. The presented
 * certificate must be one this CA issued and crtoken stored, byte for byte
 * (else CRT_E_CLIENT_CERT_REQUIRED when none, CRT_E_CERT_WRONG_ISSUER,
 * CRT_E_CERT_NOT_FOUND, CRT_E_CERT_MISMATCH); then the rule of
 * rules/renew.h under the certificate's profile (CRT_E_PROFILE_UNKNOWN when
 * it is no longer configured; the renewal keeps that profile):
 * CRT_E_RENEWAL_NOT_ALLOWED ([renewal] enabled = no, the profile's
 * renew_days = 0, renewed already), CRT_E_CERT_REVOKED,
 * CRT_E_CERT_NOT_YET_VALID, CRT_E_CERT_EXPIRED, CRT_E_RENEWAL_TOO_EARLY
 * (before the profile's renew_days ahead of notAfter; [renewal] window_days
 * when the profile does not set it), CRT_E_AUTH_REQUIRED / CRT_E_FORBIDDEN
 * ([renewal] require_otp: req->user must be the owner), CRT_E_SAME_KEY
 * (unless the profile's allow_same_key, else [renewal]'s); the CSR
 * statuses as for crt_redeem. A refusal writes nothing. The predecessor
 * stays valid until the scheduled run supersedes it (crt_maintain).
 */
crt_status crt_cert_renew(crt_ctx *ctx, const crt_renew_req *req, crt_cert *out) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ scheduled work */

/* What one crt_maintain run did. */
typedef struct crt_maintain_report {
	int crl_resigned;         /* this run signed a new CRL */
	int64_t crl_number, crl_next_update; /* the current CRL after the run */
	crt_status crl_file_status; /* a re-signed CRL's [ca] crl_file write */
	size_t tokens_purged;     /* [tokens] purge_after */
	size_t superseded;        /* predecessors of renewals revoked as superseded */
	size_t requests_expired;  /* pending certificate requests past [requests] pending_lifetime */
	size_t expiring_raised;   /* certificate.expiring events raised by this run */
	const char *failed_step;  /* static name of the first step that failed, or NULL */
} crt_maintain_report;

/*
 * The scheduled work, every step in turn (a failing step does not stop the
 * others): re-sign the CRL before its nextUpdate (crt_crl_stale), purge
 * tokens ended [tokens] purge_after ago, revoke as superseded the
 * predecessors of renewals past [renewal] grace_days. Each step audited
 * as it acts (crl.generate, token.purge, cert.revoke), the run as
 * maintain.run. Safe on several nodes at once: a concurrent run finds the
 * work done. Returns the first step's failure (detail names the step) or
 * the audit row's status. Needs the CA key for the CRL step.
 */
crt_status crt_maintain(crt_ctx *ctx, const char *actor, crt_maintain_report *rep) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ redemption */

typedef struct crt_redeem_req {
	const char *token;
	const unsigned char *csr; /* PEM or DER */
	size_t csr_len;
	const char *cn, *org, *ou; /* overrides as crt_token_overridable allows; NULL = token's
				      value, "" = clear */
	const char *user;   /* authenticated redeemer (owner check) */
	int admin;          /* local admin redemption: owner check skipped */
	const char *actor;  /* for the audit row */
	const char *remote; /* remote address for the audit row, or NULL */
	/* YubiKey PIV key attestation (PEM: the attestation certificate of the
	 * CSR's key, then the device's intermediate, slot f9), or NULL; checked
	 * as the token's attestation policy says */
	const unsigned char *attestation;
	size_t attestation_len;
	/* Instead of token: the token with this id, redeemed by an admin
	 * (admin = 1, token NULL) for its owner — crt_token_issue. The
	 * certificate's user is then the token's owner, whatever user says. */
	const char *token_id;
	/* An upload instead of a CSR (csr NULL): one PEM certificate, checked
	 * as crt_cert_import checks it, whose subject must match what the token
	 * allows (rules/import.h, import_subject_decide); stored as it is, with
	 * the token's name and reply attributes. */
	const unsigned char *cert;
	size_t cert_len;
} crt_redeem_req;

/*
 * The single-use redemption (see DESIGN.md "Redemption"). On CRT_OK, out
 * holds the committed certificate (pem + chain_pem). On failure nothing was
 * written except a refusal audit row. The token's attestation policy
 * (merged with [attestation]) may refuse with CRT_E_ATTEST_MISSING,
 * _MALFORMED, _UNTRUSTED, _KEY_MISMATCH or _POLICY; a verified
 * attestation's facts are stored with the certificate (out->attestation)
 * and written to the audit row.
 */
crt_status crt_redeem(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *out) CRT_MUST_CHECK;

/*
 * An existing certificate, uploaded by an administrator (no token): the
 * same checks as an upload by redemption — [import] trusted_issuers set
 * (else CRT_E_IMPORT_DISABLED), exactly one PEM certificate
 * (CRT_E_CERT_MALFORMED, _MULTIPLE, _PRIVATE_KEY), chaining to a trusted
 * issuer (X509_verify_cert, no network: CRT_E_CERT_UNTRUSTED), a leaf
 * (CRT_E_CERT_IS_CA), valid now (CRT_E_CERT_EXPIRED, _NOT_YET_VALID),
 * usable for client authentication (CRT_E_CERT_USAGE), with both key
 * identifiers (CRT_E_CERT_KEY_ID), a key the client key policy accepts
 * (csr_weak_key, csr_unsupported_key), not issued by one of the
 * instance's own CAs (CRT_E_CERT_UNTRUSTED: those are stored when issued),
 * not stored yet (CRT_E_CERT_EXISTS; CRT_E_SERIAL_CONFLICT when another
 * stored certificate has its serial: serials are the store's key).
 * name required (CRT_E_NAME_REQUIRED), owner a user name, reply valid
 * (CRT_E_REPLY_ATTR). Stored with ca = CRT_CA_IMPORTED, its own issuer,
 * SKI and AKI (so rlm_crtoken admits it like an issued one, and refuses it
 * once revoked), user = owner, with a cert.import audit row and a
 * certificate.issued event in the same transaction; refusals write nothing.
 * out (may be NULL) gets the stored certificate.
 */
typedef struct crt_import_req {
	const unsigned char *pem;
	size_t pem_len;
	const char *name;  /* required: what the certificate is for */
	const char *owner; /* the user it belongs to, or NULL */
	const char *reply; /* reply attributes ("A=v" lines), or NULL */
	const char *actor; /* for the audit row */
} crt_import_req;
crt_status crt_cert_import(crt_ctx *ctx, const crt_import_req *req, crt_cert *out) CRT_MUST_CHECK;

/* What a redemption would issue (crt_redeem_preview). */
typedef struct crt_preview {
	char token_id[CRT_ID_LEN];
	char *name;          /* the token's name (the certificate's too) */
	char *cn, *org, *ou; /* the subject fields as they would be signed; org, ou may be NULL */
	char *subject;       /* as the issued certificate will show it: "/O=…/OU=…/CN=…" */
	char *owner;         /* the user the token is bound to, or NULL */
	unsigned may_change; /* crt_field mask the redeemer may still set (crt_token_overridable) */
	int cert_days;       /* [ca] cert_days; 0 for a remote CA, whose profile decides */
	int64_t not_before, not_after; /* the validity if issued now (never past the CA's);
					  0 for a remote CA */
	int64_t token_expires_at;      /* the token's own expiry, 0 = none */
} crt_preview;
void crt_preview_clear(crt_preview *p);

/*
 * What redeeming req->token as req->user (with req's overrides) would
 * issue, issuing nothing: every check crt_redeem makes before it needs the
 * CSR (token syntax, override fields, the token row, its state and owner,
 * the subject policy) with the same refusal statuses — token_used,
 * token_expired, token_owner_mismatch, field_locked ... — and the CA
 * (ca_missing, ca_expired). req->csr is ignored. Consumes nothing: the
 * token is not changed. Audited: a refusal as token.preview_refused, a
 * preview as token.preview (user, remote, subject). On CRT_OK out is the
 * caller's (crt_preview_clear); on failure it is cleared.
 */
crt_status crt_redeem_preview(crt_ctx *ctx, const crt_redeem_req *req,
			      crt_preview *out) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ certificate requests */

/*
 * The approval workflow (request.c; README "Approval"). Redeeming a token
 * whose approval is required stores a certificate request instead of
 * issuing: the CSR, the subject fields the redemption decided (the token's
 * plus the overrides it allowed), the requester and address, the attested
 * facts. The token is consumed by the request in the same transaction
 * (single use holds: a second redemption is token_used), with its audit
 * row and a request.pending event. An admin then approves (the stored CSR
 * is signed exactly as the redemption would have signed it, by the token's
 * CA and profile; the request becomes issued, with request.approved and
 * certificate.issued) or denies it (a reason; request.denied). A pending
 * request not decided within [requests] pending_lifetime expires
 * (crt_maintain marks it, audited, request.expired). Its requester (or an
 * admin) may cancel it while it is pending (crt_request_cancel;
 * request.cancelled): nothing is issued for it then, and the token stays
 * used (single use).
 *
 * The requester polls with the poll secret returned once at submission
 * ("crq_..."; only its SHA-256 is stored), so a device waits without
 * logging in again; a logged-in user also sees their requests
 * (crt_request_list with user).
 *
 * States as stored: pending, issued, denied, expired, cancelled. "approved" names the
 * decision: approval signs in the same transaction, so an approved request
 * is stored as issued, and listing by approved lists the issued ones.
 */
enum crt_request_state {
	CRT_REQUEST_PENDING = 0,
	CRT_REQUEST_APPROVED,
	CRT_REQUEST_DENIED,
	CRT_REQUEST_ISSUED,
	CRT_REQUEST_EXPIRED,
	CRT_REQUEST_CANCELLED, /* by its requester (or an admin) while pending */
};
const char *crt_request_state_name(int state);
/* "pending" ... → state; -1 if unknown. */
int crt_request_state_parse(const char *name);

#define CRT_POLL_PREFIX "crq_"

typedef struct crt_request {
	char id[CRT_ID_LEN];        /* "request-<uuid>" */
	char token_id[CRT_ID_LEN];
	char *token_name;
	char *cn, *org, *ou;        /* the subject fields to sign (org, ou may be NULL) */
	char *csr;                  /* PEM */
	char *requester;            /* the logged-in redeemer, or NULL */
	char *remote;               /* their address, or NULL */
	char *submitted_by;         /* the audit actor of the submission */
	char *attestation;          /* attested facts (JSON), or NULL */
	int64_t created_at, expires_at, decided_at; /* decided_at 0: not decided */
	char *decided_by;           /* who approved, denied (or "maintain" expired) */
	char *reason;               /* deny reason, or NULL */
	char *serial;               /* the certificate, once issued */
	int state;                  /* enum crt_request_state, evaluated at lookup time
				     * (a pending one past expires_at reads expired) */
} crt_request;
void crt_request_clear(crt_request *r);
void crt_request_list_free(crt_request *list, size_t n);

/*
 * crt_redeem for every token: on CRT_OK either *cert holds the issued
 * certificate (pending->id is "") or, when the token requires approval,
 * *pending holds the stored request (state pending) and poll_secret the
 * poll secret, shown once (cert is then zeroed). crt_redeem itself refuses
 * a token that requires approval with CRT_E_APPROVAL_REQUIRED (so does
 * GENERATE: the key would have to wait with the server). Refusals and
 * audit as crt_redeem.
 */
crt_status crt_redeem_submit(crt_ctx *ctx, const crt_redeem_req *req, crt_cert *cert,
			     crt_request *pending,
			     char poll_secret[CRT_TOKEN_STRLEN + 1]) CRT_MUST_CHECK;

typedef struct crt_request_filter {
	int state;         /* -1 any, else enum crt_request_state (approved = issued) */
	const char *user;  /* NULL any, else the requester */
	int limit;         /* <= 0: 100 */
} crt_request_filter;
/* Newest first. */
crt_status crt_request_list(crt_ctx *ctx, const crt_request_filter *f, crt_request **out,
			    size_t *n) CRT_MUST_CHECK;
/* One page of the requests f selects (its limit is not used) in page p's
 * order (crt_request_sort_fields, the id breaking ties), cut by the store;
 * *total = how many f selects. As crt_token_page. */
crt_status crt_request_page(crt_ctx *ctx, const crt_request_filter *f, const struct crt_page *p,
			    crt_request **out, size_t *n, int64_t *total) CRT_MUST_CHECK;
/* CRT_E_REQUEST_UNKNOWN when there is none. */
crt_status crt_request_get(crt_ctx *ctx, const char *id, crt_request *out) CRT_MUST_CHECK;
/* The request id as its requester sees it: poll_secret must be the one
 * returned at submission (compared as hashes); an unknown id and a wrong
 * secret are the same CRT_E_AUTH_FAILED. */
crt_status crt_request_poll(crt_ctx *ctx, const char *id, const char *poll_secret,
			    crt_request *out) CRT_MUST_CHECK;
/*
 * Approve request id: sign its CSR as the redemption would have (the
 * token's CA, profile and subject policy; the subject fields stored with
 * the request), store the certificate, mark the request issued, audit
 * request.approve, raise request.approved and certificate.issued — one
 * transaction. A request no longer pending (approved, denied, expired —
 * also one past its expiry that maintain has not marked yet) is
 * CRT_E_REQUEST_STATE; none: CRT_E_REQUEST_UNKNOWN. Nothing is written on
 * a refusal. out (may be NULL) receives the certificate.
 */
crt_status crt_request_approve(crt_ctx *ctx, const char *id, const char *actor,
			       crt_cert *out) CRT_MUST_CHECK;
/* Deny request id with reason (1-512 bytes of printable UTF-8, else
 * CRT_E_FIELD_INVALID): stored, audited request.deny, request.denied — one
 * transaction; the same refusals as approve. */
crt_status crt_request_deny(crt_ctx *ctx, const char *id, const char *reason,
			    const char *actor) CRT_MUST_CHECK;
/*
 * Who cancels a request (crt_request_cancel): its requester with the poll
 * secret returned at submission (poll_secret), its requester logged in
 * (user: the PAM login, which must be the request's requester), or an
 * admin the adapter authenticated (both NULL; actor names them, e.g.
 * "apikey:<id>"). The audit actor is the requester's name (with the poll
 * secret: the stored requester, else "requester"), or actor for an admin.
 */
typedef struct crt_request_canceller {
	const char *poll_secret;
	const char *user;
	const char *actor;
} crt_request_canceller;
/*
 * Cancel pending request id (pending -> cancelled): the state change, its
 * request.cancel audit row and the request.cancelled event in one
 * transaction, a guarded change of the still pending row (a concurrent
 * approve or deny and this cancel: exactly one wins). A request no longer
 * pending (issued, denied, expired, cancelled already) is
 * CRT_E_REQUEST_STATE with nothing changed; a wrong poll secret or an
 * unknown id with one is CRT_E_AUTH_FAILED (as crt_request_poll); another
 * user's request is CRT_E_REQUEST_UNKNOWN, like one that does not exist.
 * The token stays used. out (may be NULL) receives the request as it is
 * afterwards (crt_request_clear).
 */
crt_status crt_request_cancel(crt_ctx *ctx, const char *id, const crt_request_canceller *by,
			      crt_request *out) CRT_MUST_CHECK;
/* Mark every pending request past its expiry expired (request.expire
 * audit row and request.expired event each, one transaction); *n (may be
 * NULL) = how many. Part of crt_maintain. */
crt_status crt_requests_expire(crt_ctx *ctx, const char *actor, size_t *n) CRT_MUST_CHECK;
/* A request as JSON: requestId, state, tokenId, tokenName, commonName,
 * organization, organizationalUnit, requester, remote, createdAt,
 * expiresAt, decidedAt, decidedBy, reason, serial; with_csr adds "csr". */
struct json_t *crt_request_json(const crt_request *r, int with_csr);

/*
 * Server-side key generation ("GENERATE"): make a key of key_type
 * ("ec-p256", "ec-p384", "rsa-2048", "rsa-3072", "ed25519"), redeem with a
 * CSR made from it, and return a PKCS#12 (AES-256-CBC, PBKDF2, SHA-256 MAC)
 * holding key + certificate + chain, protected by passphrase (or by a
 * generated one returned in *pass_out, malloc'd, when passphrase is NULL).
 * The private key is never stored.
 */
crt_status crt_redeem_generate(crt_ctx *ctx, const crt_redeem_req *req, const char *key_type,
			       const char *passphrase, crt_cert *out, unsigned char **p12,
			       size_t *p12_len, char **pass_out) CRT_MUST_CHECK;

/*
 * A key generated on behalf of the token's owner, without the owner's login
 * (crtoken-admin token issue, POST /certificate-request-tokens/{id}/issue):
 * crt_redeem_generate_form of the token with id by the admin actor. The
 * token is consumed as by a redemption (token_used when issued again;
 * token_not_found, token_deleted, token_expired); the certificate's user is
 * the token's owner (NULL when it has none), so it is theirs in
 * GET /me/certificates. Audited as token.issue (actor: the admin; detail
 * "user": the owner) with its certificate.issued event, a refusal as
 * token.issue_refused. passphrase NULL: a generated one in *pass_out.
 */
crt_status crt_token_issue(crt_ctx *ctx, const char *id, const char *key_type,
			   const char *passphrase, int form, const char *actor, crt_cert *out,
			   unsigned char **p12, size_t *p12_len, char **pass_out) CRT_MUST_CHECK;

/*
 * Key material helpers shared by GENERATE and the end-user client
 * (crtoken-enroll), so both make the same key types and PKCS#12 format.
 * struct evp_pkey_st is OpenSSL's EVP_PKEY.
 */
struct evp_pkey_st;
/* A fresh key of key_type (names as above); CRT_E_KEY_TYPE if unknown.
 * *out is released with EVP_PKEY_free. */
crt_status crt_key_generate(const char *key_type, struct evp_pkey_st **out) CRT_MUST_CHECK;
/* A PEM CSR for key with subject "/CN=cn", signed by key; *pem malloc'd. */
crt_status crt_csr_make(struct evp_pkey_st *key, const char *cn, char **pem) CRT_MUST_CHECK;
/*
 * A PKCS#12 (AES-256-CBC, PBKDF2, SHA-256 MAC) of key + cert_pem + the
 * certificates in chain_pem (may be NULL), friendly name (may be NULL),
 * protected by passphrase (non-empty). *der malloc'd, *len its size.
 */
crt_status crt_pkcs12_make(struct evp_pkey_st *key, const char *cert_pem, const char *chain_pem,
			   const char *friendly, const char *passphrase, unsigned char **der,
			   size_t *len) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ OTP */

typedef struct crt_otp_info {
	char *user;
	char algorithm[8]; /* SHA1, SHA256, SHA512 */
	int digits, period;
	int64_t last_step;  /* -1 if never used */
	int failures;
	int64_t locked_until; /* 0 if not locked */
	int64_t created_at;
	int lockouts;       /* consecutive lockouts since the last success */
} crt_otp_info;
void crt_otp_info_clear(crt_otp_info *o);

/* HOTP (RFC 4226) with algorithm "SHA1"/"SHA256"/"SHA512"; out holds digits+1. */
crt_status crt_hotp(const unsigned char *key, size_t keylen, uint64_t counter,
		    const char *algorithm, int digits, char *out, size_t outlen) CRT_MUST_CHECK;

/*
 * Enroll user: a fresh secret sealed in the store. NULL/0 parameters take the
 * config defaults. *uri and *secret_b32 are malloc'd; wipe and free them.
 */
crt_status crt_otp_enroll(crt_ctx *ctx, const char *user, const char *algorithm, int digits,
			  int period, const char *issuer, const char *actor, char **uri,
			  char **secret_b32) CRT_MUST_CHECK;
/*
 * Verify code for user at time now, atomically with replay and lockout state:
 * CRT_OK, CRT_E_OTP_BAD_CODE, CRT_E_OTP_REPLAY, CRT_E_OTP_LOCKED,
 * CRT_E_OTP_NOT_ENROLLED or a store error. Audited with service/rhost.
 * *offset (may be NULL) receives the matched step offset (clock skew).
 */
crt_status crt_otp_verify(crt_ctx *ctx, const char *user, const char *code, int64_t now,
			  const char *service, const char *rhost, int *offset) CRT_MUST_CHECK;
/* crt_otp_verify with an explicit window (0-10 steps either side; < 0 = config). */
crt_status crt_otp_verify_window(crt_ctx *ctx, const char *user, const char *code, int64_t now,
				 int window, const char *service, const char *rhost, int *offset) CRT_MUST_CHECK;
crt_status crt_otp_get(crt_ctx *ctx, const char *user, crt_otp_info *out) CRT_MUST_CHECK;
/* The PAM environment variable pam_crtoken sets when a verification failed
 * closed on a sealed secret that does not open (value "seal_error": the
 * host's [otp] key_file is not the one that sealed it), so an application
 * (crtokend's login gate) can say so; never the detail. */
#define CRT_PAM_STATUS_ENV "CRTOKEN_PAM_STATUS"

/*
 * The OTP lockout rule, a pure function of one user's counters: [otp]
 * max_failures wrong or replayed codes in a row lock the user for
 * lockout_seconds; every further lockout without a success in between lasts
 * twice as long as the one before, up to lockout_max_seconds (never less
 * than lockout_seconds). A success clears the counters; so does an admin
 * unlock. While locked no code is looked at.
 */
typedef struct crt_otp_lockout {
	int failures;         /* in a row, since the last success or lockout end */
	int64_t locked_until; /* 0 if not locked */
	int lockouts;         /* consecutive lockouts since the last success */
} crt_otp_lockout;
/* 1 if the user with counters c is locked at now. */
int crt_otp_locked(const crt_otp_lockout *c, int64_t now);
/* Apply one attempt made at now while not locked (success: the code matched
 * a fresh step) to c. Returns the length in seconds of the lockout this
 * attempt started, 0 if none. */
int64_t crt_otp_lockout_apply(const crt_config *cfg, crt_otp_lockout *c, int success,
			      int64_t now);
crt_status crt_otp_list(crt_ctx *ctx, crt_otp_info **out, size_t *n) CRT_MUST_CHECK;
void crt_otp_list_free(crt_otp_info *list, size_t n);
crt_status crt_otp_remove(crt_ctx *ctx, const char *user, const char *actor) CRT_MUST_CHECK;
crt_status crt_otp_unlock(crt_ctx *ctx, const char *user, const char *actor) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ API keys */

/*
 * What an API key may do (rules/scope.c). Every admin route of crtokend
 * names the one scope it needs (enroll/crtokend/routes.c); a key without it
 * is answered 403 permission_denied. Names: "tokens:read", "tokens:write",
 * "certs:read", "certs:revoke", "requests:read", "requests:approve",
 * "audit:read"; "all" stands for every one (also those added later).
 */
enum crt_scope {
	CRT_SCOPE_TOKENS_READ = 1 << 0,      /* list/show tokens, certificate profiles */
	CRT_SCOPE_TOKENS_WRITE = 1 << 1,     /* create, update, delete tokens */
	CRT_SCOPE_CERTS_READ = 1 << 2,       /* list/show certificates */
	CRT_SCOPE_CERTS_REVOKE = 1 << 3,     /* revoke certificates */
	CRT_SCOPE_REQUESTS_READ = 1 << 4,    /* list/show pending certificate requests */
	CRT_SCOPE_REQUESTS_APPROVE = 1 << 5, /* approve / deny them */
	CRT_SCOPE_AUDIT_READ = 1 << 6,       /* GET /audit */
};
#define CRT_SCOPE_ALL 0x7fu
/* "tokens:read,certs:read" (blanks around names allowed, "all" = every
 * scope) → mask. CRT_E_SCOPE_UNKNOWN for an unknown or empty name (an empty
 * list included). */
crt_status crt_scopes_parse(const char *list, unsigned *mask) CRT_MUST_CHECK;
/* The canonical text of mask ("all" for CRT_SCOPE_ALL, names in the order
 * above, comma-separated) into buf; CRT_E_NOMEM when len is too small. */
crt_status crt_scopes_format(unsigned mask, char *buf, size_t len) CRT_MUST_CHECK;
/* The name of one scope bit, or NULL. */
const char *crt_scope_name(unsigned bit);

typedef struct crt_apikey {
	char id[CRT_ID_LEN];
	char *name;
	int64_t created_at, revoked_at, last_used_at;
	unsigned scopes;  /* enum crt_scope mask (keys made before scopes: CRT_SCOPE_ALL) */
	char *profiles;   /* profiles it may create tokens of, "a,b"; NULL: all */
} crt_apikey;
void crt_apikey_clear(crt_apikey *k);
void crt_apikey_list_free(crt_apikey *list, size_t n);

/* Does key k's profile list allow a token of profile (NULL or "": the
 * default profile)? 1 or 0; a key without a list allows every profile. */
int crt_apikey_allows_profile(const crt_apikey *k, const char *profile);

/* key_out receives the key ("crk_..."), shown once; only its hash is stored.
 * The key has every scope and may create tokens of any profile. */
crt_status crt_apikey_create(crt_ctx *ctx, const char *name, const char *actor, crt_apikey *out,
			     char key_out[CRT_TOKEN_STRLEN + 1]) CRT_MUST_CHECK;
/* What crt_apikey_create_scoped makes. */
typedef struct crt_apikey_spec {
	const char *name;     /* required */
	unsigned scopes;      /* enum crt_scope mask; 0: CRT_SCOPE_ALL */
	const char *profiles; /* "a,b": the profiles it may create tokens of, each one of
			       * the config's (profile_unknown otherwise); NULL: all */
} crt_apikey_spec;
/* crt_apikey_create with scopes and a profile list; audited with both.
 * A mask with bits outside CRT_SCOPE_ALL: CRT_E_SCOPE_UNKNOWN. */
crt_status crt_apikey_create_scoped(crt_ctx *ctx, const crt_apikey_spec *spec, const char *actor,
				    crt_apikey *out, char key_out[CRT_TOKEN_STRLEN + 1])
	CRT_MUST_CHECK;
crt_status crt_apikey_list(crt_ctx *ctx, crt_apikey **out, size_t *n) CRT_MUST_CHECK;
crt_status crt_apikey_revoke(crt_ctx *ctx, const char *id, const char *actor) CRT_MUST_CHECK;
/* CRT_OK (and *out filled when non-NULL) or CRT_E_APIKEY_INVALID. */
crt_status crt_apikey_verify(crt_ctx *ctx, const char *key, crt_apikey *out) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ paging */

/*
 * One page of a list (rules/paging.c), the same for every list endpoint
 * (tokens, certificates, audit, certificate requests). A list offers a
 * NULL-terminated table of sortable field names (JSON names, e.g.
 * {"createdAt", "name", NULL}); the first is its default order. Sorting
 * is by a field's index only: a backend maps the index to a column name of
 * its own, so no text from the request ever reaches a query.
 */
#define CRT_PAGE_SIZE_DEFAULT 100
#define CRT_PAGE_SIZE_MAX 500
#define CRT_PAGE_MAX 1000000
struct crt_page {
	int page;  /* 1-based, 1..CRT_PAGE_MAX */
	int size;  /* rows per page, 1..CRT_PAGE_SIZE_MAX */
	int sort;  /* index into the list's sortable fields */
	int desc;  /* 1: descending */
};
typedef struct crt_page crt_page;
/*
 * Parse the query values page, size and sort (each NULL when absent: 1,
 * CRT_PAGE_SIZE_DEFAULT, the first field ascending — or descending when
 * default_desc). sort is "field" or "-field" (descending), also
 * "field:asc" / "field:desc". CRT_E_PAGE_INVALID for a page or size that
 * is not a decimal number within its bounds, CRT_E_SORT_INVALID for a
 * field not in fields; *why (may be NULL) a static explanation.
 */
crt_status crt_page_parse(const char *page, const char *size, const char *sort,
			  const char *const *fields, int default_desc, crt_page *out,
			  const char **why) CRT_MUST_CHECK;
/* Rows to skip before the page: (page - 1) * size. */
int64_t crt_page_offset(const crt_page *p);
/*
 * The sortable fields of each list (the JSON names; crt_page.sort indexes
 * them): the token list (createdAt, name, expiresAt, updatedAt), the
 * certificate list (issuedAt, notAfter, name, serial), the certificate
 * request list (createdAt, expiresAt, decidedAt) and the audit trail (at, id,
 * actor, action, object). The index is the whole contract with a backend.
 */
extern const char *const crt_token_sort_fields[];
extern const char *const crt_cert_sort_fields[];
extern const char *const crt_request_sort_fields[];
extern const char *const crt_audit_sort_fields[];

/* ------------------------------------------------------------------ audit */

typedef struct crt_audit_row {
	int64_t id, at;
	char *actor, *action, *object, *detail; /* detail is JSON */
} crt_audit_row;
void crt_audit_list_free(crt_audit_row *list, size_t n);
/* Newest first; limit <= 0 means 100. action may be NULL for all. */
crt_status crt_audit_list(crt_ctx *ctx, int limit, const char *action, crt_audit_row **out,
			  size_t *n) CRT_MUST_CHECK;

/*
 * Which audit rows a page lists. Every member is optional (NULL / 0: no
 * condition); all given ones must hold. Strings compare literally and
 * case-sensitively (no wildcards: '%', '_' and quotes are plain bytes).
 */
typedef struct crt_audit_filter {
	const char *actor;  /* exact */
	const char *action; /* exact, or a prefix of dotted actions: "token" is token
			     * and token.*, "token." is token.* only */
	const char *object; /* exact (the token id, serial, user, ... the row is about) */
	int64_t since;      /* at >= since (Unix seconds; 0: no bound) */
	int64_t until;      /* at < until (0: no bound) */
} crt_audit_filter;
/*
 * The filter from its text values (each NULL when absent): actor, action
 * and object 1-256 bytes without control characters (CRT_E_FILTER_INVALID
 * otherwise), since and until RFC 3339 UTC times (crt_time_parse;
 * CRT_E_TIME_INVALID, also when since is after until). The strings are
 * borrowed: out points into them. *why (may be NULL) a static explanation.
 */
crt_status crt_audit_filter_parse(const char *actor, const char *action, const char *object,
				  const char *since, const char *until, crt_audit_filter *out,
				  const char **why) CRT_MUST_CHECK;
/*
 * One page of the audit rows f selects (f NULL: all), in page p's order
 * (crt_audit_sort_fields; id breaks ties), cut by the store
 * (LIMIT/OFFSET): *out holds at most p->size rows (NULL and *n = 0 for a
 * page past the end), *total how many rows f selects in all. A filter
 * crt_audit_filter_parse would refuse is refused the same way.
 */
crt_status crt_audit_page(crt_ctx *ctx, const crt_audit_filter *f, const crt_page *p,
			  crt_audit_row **out, size_t *n, int64_t *total) CRT_MUST_CHECK;
/* Record an adapter-level event (failed login, rate limit) as its own transaction. */
crt_status crt_audit_event(crt_ctx *ctx, const char *actor, const char *action,
			   const char *object, const char *detail_json) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ events */

/*
 * The event outbox (events.c; README "Events"). A change writes its event
 * in its own transaction: token.created, token.deleted, certificate.issued,
 * certificate.revoked, otp.locked, certificate.expiring (the daily check);
 * request.pending / request.approved / request.denied / request.expired /
 * request.cancelled are the approval workflow's. An event's body is JSON: {"id","type","time","actor",
 * "subject":{...}} — never a secret or a token string. Delivery to the
 * [events.sink NAME] sinks is at least once: a receiver may see an event
 * twice (after a node died while sending) and tells by its id.
 */
typedef struct crt_event_delivery {
	char *sink;
	char *state;            /* pending, delivered, failed */
	int attempts;
	int64_t next_at, done_at; /* 0 = not set */
	char *last_result;
} crt_event_delivery;

typedef struct crt_event {
	int64_t seq;
	char *id, *type, *body;
	int64_t at;
	int routed;             /* deliveries made for the sinks configured then */
	crt_event_delivery *deliveries;
	size_t ndeliveries;
} crt_event;
void crt_event_list_free(crt_event *list, size_t n);

typedef struct crt_event_attempt {
	int64_t at;
	char *sink, *node, *result;
	int ok;
	int64_t duration_ms;
} crt_event_attempt;
void crt_event_attempts_free(crt_event_attempt *list, size_t n);

/* Newest first (limit <= 0: 100); pending_only: not yet routed, or a
 * delivery still pending. */
crt_status crt_event_list(crt_ctx *ctx, int pending_only, int limit, crt_event **out,
			  size_t *n) CRT_MUST_CHECK;
/* Every attempt of the event with id, oldest first (*n = 0: none). */
crt_status crt_event_attempts(crt_ctx *ctx, const char *id, crt_event_attempt **out,
			      size_t *n) CRT_MUST_CHECK;

typedef struct crt_events_pass {
	size_t routed;    /* events routed to their sinks */
	size_t attempted; /* deliveries tried */
	size_t delivered, retrying, failed;
	int64_t next_due; /* earliest next_at of a retry made in this pass (0: none) */
} crt_events_pass;
/*
 * One delivery pass: route new events to the sinks whose filter takes them,
 * claim due deliveries ([events] batch, lease), send each and record the
 * attempt. node names this process in leases (NULL: [events] node, else
 * host:pid). CRT_OK unless the store failed; a failed send is a recorded
 * attempt, not an error.
 */
crt_status crt_events_deliver(crt_ctx *ctx, const char *node, crt_events_pass *out) CRT_MUST_CHECK;
/*
 * The daily check: raise certificate.expiring (once per certificate) for
 * each unrevoked, not yet renewed certificate whose notAfter is within
 * window seconds (crt_maintain runs it too, with the configured window)
 * (<= 0: [events] expiring_window), in one transaction with its audit row.
 * *raised (may be NULL) = how many.
 */
crt_status crt_events_check_expiring(crt_ctx *ctx, int64_t window, const char *actor,
				     size_t *raised) CRT_MUST_CHECK;
/* An event as JSON: seq, id, type, at, routed, event (the body), deliveries. */
struct json_t *crt_event_json(const crt_event *e);

/* ------------------------------------------------------------------ JSON shapes */

/*
 * The shapes crtoken-admin --json and crtokend print, as jansson objects
 * (json_t, declared here without its header; include <jansson.h> to use
 * them). Each is a new reference the caller owns (json_decref), NULL when
 * out of memory. Members in a fixed order (jansson keeps insertion order).
 */
struct json_t;
/* A token (Frontdoor field names; "token" only when token != NULL, i.e.
 * right after creation). */
struct json_t *crt_token_json(const crt_token *t, const char *token);
/* A certificate; with_pem adds "certificate" and "chain". */
struct json_t *crt_cert_json(const crt_cert *c, int with_pem);
/* A redemption preview: tokenId, name, commonName, organization,
 * organizationalUnit, subject, owner, mayChange, validityDays, notBefore,
 * notAfter, tokenExpiresAt. */
struct json_t *crt_preview_json(const crt_preview *p);
/* An audit row: id, at, actor, action, object, detail (the stored JSON as a
 * value; null when there is none). */
struct json_t *crt_audit_json(const crt_audit_row *r);

/*
 * The attested facts of a certificate (crt_cert.attestation) as one line of
 * key=value words for RADIUS policy (rlm_crtoken's attestation_attribute):
 * "serial=12345678 firmware=5.4.3 pin=always touch=cached
 * form=usb-c-keychain slot=9a" (absent facts left out, "fips" / "cspn"
 * added when set). CRT_E_INVALID_ARGUMENT when facts is not a JSON object,
 * CRT_E_NOMEM when buf (len bytes) is too small.
 */
crt_status crt_attestation_text(const char *facts, char *buf, size_t len) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ helpers */

/*
 * The one user-name rule (token owners, OTP users, HTTP and PAM logins,
 * `redeem --user`): 1-128 bytes of printable UTF-8, no ':', no spaces, no
 * invisible format characters. CRT_OK or CRT_E_FIELD_INVALID.
 */
#define CRT_USER_NAME_RULE "1-128 bytes of printable UTF-8 without spaces or ':'"
/*
 * The e-mail address rule (a token's ownerEmail): local@domain, at most 254
 * bytes; the local part printable ASCII without blanks or ()<>[]\,;:"@; the
 * domain two or more dot-separated labels of A-Z a-z 0-9 and inner '-'.
 * CRT_OK or CRT_E_FIELD_INVALID.
 */
crt_status crt_email_check(const char *addr) CRT_MUST_CHECK;
crt_status crt_user_name_check(const char *user) CRT_MUST_CHECK;

/*
 * The one UTF-8 decoder: the length (1..4) of the valid UTF-8 sequence at p,
 * reading at most avail bytes, with its code point in *cp; 0 when it is not
 * valid UTF-8 (a stray or truncated byte, an overlong form, a surrogate,
 * beyond U+10FFFF). A NUL ends a sequence early, so avail = 4 is safe on a
 * NUL-terminated string.
 */
size_t crt_utf8_next(const unsigned char *p, size_t avail, uint32_t *cp);

/* Zero then free (NULL-safe). */
void crt_freezero(void *p, size_t len);
/* Zero a NUL-terminated secret string and free it (NULL-safe). */
void crt_strfree_secret(char *s);
/* Format t as RFC 3339 UTC ("2026-11-22T07:34:32Z"); buf >= 21 bytes. */
void crt_time_rfc3339(int64_t t, char *buf, size_t len);
/*
 * Parse an RFC 3339 time in UTC: "2026-11-22T07:34:32Z" (also 't'/'z', a
 * space for 'T', fractional seconds, which are dropped, and an offset of
 * +00:00 or -00:00). Years 1970-9999. Any other offset, a date that does
 * not exist or trailing text: CRT_E_TIME_INVALID. Pure (rules/audit.c).
 */
crt_status crt_time_parse(const char *s, int64_t *out) CRT_MUST_CHECK;
/* Parse a duration "7d", "12h", "30m", "45s", "2w" or plain seconds. */
crt_status crt_duration_parse(const char *s, int64_t *seconds) CRT_MUST_CHECK;

/* crt_file_write flags */
enum crt_write_flags {
	CRT_WRITE_REPLACE = 1 << 0, /* an existing regular file at path is replaced */
	CRT_WRITE_CHECK = 1 << 1,   /* only say whether path would be written (before
				       spending a token or a secret on it) */
};
/*
 * The one way crtoken writes an output file (certificates, keys, CRLs, QR
 * images, the store's companions). data goes to a new file created O_EXCL
 * in path's directory with mode from its first byte (whatever the umask),
 * is fsync'd and renamed over path, and the directory is synced. So:
 *  - a symbolic link (or anything but a regular file) at path is refused
 *    with CRT_E_UNSAFE_PERMISSIONS, never followed — not even when it is
 *    planted between the check and the rename, which replaces the name;
 *  - an existing regular file is CRT_E_EXISTS unless CRT_WRITE_REPLACE, and
 *    then it is replaced by the new inode: the old file (and whoever created
 *    it or holds it open) never receives a byte of data;
 *  - a reader sees the old file or the complete new one, never a part.
 * CRT_E_IO on failure (no temporary file is left). err (may be NULL) gets
 * the message naming the path.
 */
crt_status crt_file_write(const char *path, const void *data, size_t len, unsigned mode,
			  unsigned flags, char *err, size_t errlen) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ onboarding profiles */

/*
 * Network onboarding profiles (netprofile.c): the [network] section plus an
 * issued certificate rendered as the file a device imports. Formats:
 *   wpa_supplicant  a network={...} block           (files referenced by path)
 *   networkmanager  a NetworkManager keyfile         (files referenced by path)
 *   nmcli           a shell recipe: `nmcli connection add ...`
 *   windows         a Windows WLAN (or LAN, wired) profile XML
 *   netsh           a .cmd: certutil imports + `netsh wlan|lan add profile`
 *   mobileconfig    an Apple configuration profile (802.1X + PKCS#12 + CA)
 *   eap-config      the geteduroam EAP metadata file (PKCS#12 + CA inside)
 * PKCS#12 forms: CRT_P12_MODERN (AES-256-CBC, PBKDF2, HMAC-SHA-256 MAC; the
 * default, read by OpenSSL 3, wpa_supplicant, NetworkManager, current
 * Windows) and CRT_P12_LEGACY (PBE-SHA1-3DES bags, SHA-1 MAC; only for the
 * targets that reject the modern form: iOS / macOS configuration profiles,
 * Windows before 10 1709 and the geteduroam apps that hand the file to them).
 */
enum crt_p12_form { CRT_P12_MODERN = 0, CRT_P12_LEGACY = 1 };

typedef struct crt_profile_format {
	const char *name;     /* "wpa_supplicant" ... */
	const char *title;    /* "Linux — wpa_supplicant" */
	const char *suffix;   /* file name suffix: ".conf" */
	const char *content_type;
	int embeds_p12;       /* the profile carries the PKCS#12 itself */
	int p12_form;         /* enum crt_p12_form the target imports */
} crt_profile_format;

/* Every format, in a stable order; *n receives their count. */
const crt_profile_format *crt_profile_formats(size_t *n);
/* The format named name, or NULL. */
const crt_profile_format *crt_profile_format_find(const char *name);

typedef struct crt_profile_req {
	const char *format;
	const char *cert_pem;  /* the issued client certificate (required) */
	const char *name;      /* base of file names; NULL: the certificate's CN */
	/* Where the device keeps the files (wpa_supplicant, networkmanager,
	 * nmcli): absolute paths; NULL: /etc/crtoken/network/<name>{-radius-ca.pem,.crt,.key}. */
	const char *ca_path, *cert_path, *key_path;
	const char *key_password; /* written into the profile when non-NULL */
	/* mobileconfig, eap-config: the PKCS#12 to embed (in the format's p12_form). */
	const unsigned char *p12;
	size_t p12_len;
} crt_profile_req;

typedef struct crt_profile {
	char *data;           /* malloc'd, NUL-terminated; len bytes */
	size_t len;
	char *filename;       /* suggested file name, malloc'd */
	const char *content_type; /* static */
	char *ca_pem;         /* the RADIUS server's CA, PEM (malloc'd) */
	char *ca_filename;    /* ... and its suggested file name */
} crt_profile;
void crt_profile_clear(crt_profile *p);

/*
 * Render req->format for the certificate and the [network] section of cfg.
 * CRT_E_PROFILE_FORMAT (unknown format), CRT_E_NETWORK_CONFIG ([network]
 * incomplete or invalid: err says which key), CRT_E_INVALID_ARGUMENT (no or
 * bad certificate, a value the format cannot carry, no PKCS#12 for an
 * embedding format), CRT_E_IO (ca_file unreadable). err may be NULL.
 */
crt_status crt_profile_make(const crt_config *cfg, const crt_profile_req *req, crt_profile *out,
			    char *err, size_t errlen) CRT_MUST_CHECK;
/*
 * crt_profile_make for a certificate this instance issued: refused
 * (CRT_E_CERT_NOT_FOUND) unless req->cert_pem is a stored certificate,
 * byte for byte. Detail in crt_errdetail(ctx).
 */
crt_status crt_profile_for_cert(crt_ctx *ctx, const crt_profile_req *req, crt_profile *out) CRT_MUST_CHECK;

/* crt_redeem_generate with the PKCS#12 in the given form (enum crt_p12_form). */
crt_status crt_redeem_generate_form(crt_ctx *ctx, const crt_redeem_req *req,
				    const char *key_type, const char *passphrase, int form,
				    crt_cert *out, unsigned char **p12, size_t *p12_len,
				    char **pass_out) CRT_MUST_CHECK;
/* crt_pkcs12_make in the given form (enum crt_p12_form). */
crt_status crt_pkcs12_make_form(struct evp_pkey_st *key, const char *cert_pem,
				const char *chain_pem, const char *friendly,
				const char *passphrase, int form, unsigned char **der,
				size_t *len) CRT_MUST_CHECK;

/* ------------------------------------------------------------------ OCSP */

/* Most CertIDs answered in one request; more is a malformedRequest. */
#define CRT_OCSP_MAX_CERTIDS 16

/* An OCSP response (RFC 6960) ready to send as application/ocsp-response. */
typedef struct crt_ocsp_response {
	unsigned char *der; /* malloc'd */
	size_t der_len;
	int response_status; /* OCSPResponseStatus: 0 successful, 1 malformedRequest,
			      * 2 internalError, 3 tryLater, 6 unauthorized */
	int count;           /* SingleResponses (successful only) */
	int first_status;    /* CertStatus of the first: 0 good, 1 revoked, 2 unknown */
} crt_ocsp_response;
void crt_ocsp_response_clear(crt_ocsp_response *r);

/*
 * Answer the DER OCSPRequest req: for each CertID (at most
 * CRT_OCSP_MAX_CERTIDS) good / revoked (time, reason) / unknown from the
 * store (the admission verb); unknown for a serial this CA never issued and
 * for a CertID naming another issuer (its issuerNameHash or issuerKeyHash
 * is not this CA's). The nonce is echoed when present; thisUpdate = now,
 * nextUpdate = now + [ocsp] validity; signed by the [ocsp] signer when
 * configured, else by the CA; a remote CA ([ca] type = cfssl) without a
 * delegated signer gets unauthorized (CRT_OK; detail crl_remote). Bytes that
 * are not one OCSPRequest get a malformedRequest response. Returns CRT_OK with out->der set for every
 * answer made; on a store or signer failure out->der still holds a tryLater
 * (store busy or unavailable) or internalError response and the status is returned (detail in
 * crt_errdetail) for the caller's log. Reads only (no audit row).
 */
crt_status crt_ocsp_respond(crt_ctx *ctx, const unsigned char *req, size_t len,
			    crt_ocsp_response *out);

/*
 * Make a delegated OCSP-signing certificate: a new key of the CA's key type,
 * a certificate issued by the CA (extendedKeyUsage OCSPSigning, keyUsage
 * digitalSignature, id-pkix-ocsp-nocheck, CA:FALSE) valid for days (capped
 * at the CA's notAfter), written to [ocsp] signer_cert / signer_key, or when
 * those are unset to ocsp-signer.pem / ocsp-signer.key (0600) beside the CA
 * certificate. It is not a client certificate: it is not stored, so RADIUS
 * never admits it. The paths written are copied into cert_path / key_path
 * (may be NULL). Audited as ocsp.signer.create. Responses use it once the
 * instance is reopened with the paths in [ocsp].
 */
crt_status crt_ocsp_signer_create(crt_ctx *ctx, int days, const char *actor, char *cert_path,
				  char *key_path, size_t path_len, char serial[72]);

#ifdef __cplusplus
}
#endif
#endif /* CRTOKEN_H */

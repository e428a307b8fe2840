/*
 * crtokend.h — what crtokend's source files share.
 *
 * crtokend is an adapter: it parses HTTP (libmicrohttpd) and JSON (jansson),
 * calls libcrtoken and renders the result. One file per concern:
 *   main.c      options, daemon life cycle, signals (drain, reload)
 *   server.c    libmicrohttpd setup, request life cycle
 *   pool.c      the instance (config, CA) and the pool of sessions over it
 *               the worker threads borrow; the instance swap on reload
 *   deadline.c  the whole-request deadline per connection
 *   maintain.c  the scheduled work, every [maintenance] interval
 *   listen.c    listen address parsing, loopback check
 *   routes.c    the route table, path matching, 404/405
 *   respond.c   responses: JSON, errors, crtoken status → HTTP status
 *   reqjson.c   request body parsing helpers, RFC 3339 input
 *   auth.c      API key (admin) and Basic/PAM (redeemer) authentication
 *   pamgate.c   the PAM conversation
 *   heartbeat.c the store heartbeat on PostgreSQL (a thread of its own)
 *   ratelimit.c failed-login limiter per remote address
 *   h_*.c       endpoint handlers (h_renew.c: renewal by TLS client
 *               certificate) (h_issue.c: a token issued by an admin,
 *               the key generated on the owner's behalf) (h_me.c: the
 *               logged-in user's own certificates) (h_portal.c: the /enroll page, whose
 *               files portal_assets.S embeds from enroll/web/)
 *   log.c       stderr / syslog logging
 *   deliver.c   the event delivery thread
 */
#ifndef CRTOKEND_H
#define CRTOKEND_H

#include <jansson.h>
#include <microhttpd.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <syslog.h>

#include "crtoken.h"

/* ------------------------------------------------------------ log.c */

/* Send log lines to syslog (daemon facility) instead of stderr. */
void log_use_syslog(void);
/* level: LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO. */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ listen.c */

struct listen_addr {
	struct sockaddr_storage ss;
	unsigned socklen;
	int ipv6;
	int loopback;
	char text[80]; /* as given, for logs */
};
/* Parse "HOST:PORT", "[V6]:PORT" or ":PORT" (numeric hosts and localhost). 0 or -1. */
int listen_parse(const char *spec, struct listen_addr *out);

/* ------------------------------------------------------------ ratelimit.c */

typedef struct ratelimit ratelimit;
ratelimit *ratelimit_new(void);
void ratelimit_free(ratelimit *rl);
/*
 * Reserve one login attempt for addr before evaluating it: 0 if reserved
 * (then exactly one ratelimit_release follows), else the seconds until
 * addr may try (Retry-After). The check and the reservation are one step,
 * so parallel attempts cannot overrun the limit. *first (may be NULL) is
 * set on the first refusal of a window that failures caused, so a blocked
 * address is audited once, not on every request. max_failures failed
 * attempts within window seconds block the address until the window ends.
 */
int ratelimit_reserve(ratelimit *rl, const char *addr, int max_failures, int window, int64_t now,
                      int *first);
/* End a reserved attempt: failed counts it as a failure, else it is forgotten. */
void ratelimit_release(ratelimit *rl, const char *addr, int failed);
/* The key addr is counted under: IPv6 per /64 ("2001:db8:1:2::/64"),
 * IPv4-mapped IPv6 as IPv4, anything else as given. */
void ratelimit_key(const char *addr, char *out, size_t len);

/* ------------------------------------------------------------ pool.c */

typedef struct ctx_pool ctx_pool;
struct pool_entry;
/* Open the instance of config (NULL: the default path) and n sessions over
 * it. NULL on failure (logged). */
ctx_pool *pool_open(const char *config, unsigned n);
/* Open a new instance (config + CA re-read) and n sessions over it and swap
 * them in; 0, or -1 keeping the old ones (logged). */
int pool_reload(ctx_pool *p);
/* Borrow a session (waits if none is free); give it back with pool_release. */
struct pool_entry *pool_acquire(ctx_pool *p);
crt_ctx *pool_ctx(const struct pool_entry *e);
void pool_release(ctx_pool *p, struct pool_entry *e);
/* Close every session and drop the instance; only once no request can run
 * any more. */
void pool_close(ctx_pool *p);
/*
 * The current instance (configuration, CA chain), immutable, with a
 * reference for the caller to drop (crt_instance_unref); it stays valid
 * across reloads until then. Never waits for a session.
 */
crt_instance *pool_instance(ctx_pool *p);

/* ------------------------------------------------------------ heartbeat.c */

/* On PostgreSQL, write the store's heartbeat every 2 s from a thread with a
 * session of its own (nothing on SQLite); heartbeat_stop joins it. */
int heartbeat_start(ctx_pool *pool);
void heartbeat_stop(void);

/* ------------------------------------------------------------ deadline.c */

/*
 * Per-connection whole-request deadlines: a connection not done with its
 * request timeout seconds after it opened (or after its previous response)
 * has its socket shut down by a reaper thread. Pauses (a handler at work)
 * do not count. deadline_add returns NULL when out of memory; every other
 * call accepts NULL and does nothing.
 */
typedef struct deadlines deadlines;
struct deadline_conn;
deadlines *deadlines_start(int timeout);
/* Stop the reaper; only after libmicrohttpd stopped (no connection left). */
void deadlines_stop(deadlines *d);
struct deadline_conn *deadline_add(deadlines *d, int fd, const char *remote);
/* Forget c; call before the descriptor is closed. */
void deadline_remove(deadlines *d, struct deadline_conn *c);
void deadline_pause(deadlines *d, struct deadline_conn *c);
/* End a pause: the deadline moves by the time paused. */
void deadline_resume(deadlines *d, struct deadline_conn *c);
/* A new deadline, timeout seconds from now (next response or request). */
void deadline_restart(deadlines *d, struct deadline_conn *c);

/* ------------------------------------------------------------ deliver.c */

/* The event delivery thread over pool's current instance (NULL when it
 * cannot start); wake it after a change; stop joins it. NULL-safe. */
struct deliverer;
struct deliverer *deliverer_start(ctx_pool *pool);
void deliverer_wake(struct deliverer *d);
void deliverer_stop(struct deliverer *d);

/* ------------------------------------------------------------ server.c */

typedef struct server {
	const char *config_path; /* NULL: crt_config_default_path() */
	ratelimit *rl;
	ctx_pool *pool;
	struct MHD_Daemon *mhd;
	deadlines *dl;
	struct deliverer *events;  /* woken by requests that may change the store */
	unsigned workers;         /* store connections = requests processed at once */
	int logins;               /* PAM conversations under way (atomic) */
	volatile long inflight;   /* requests between first callback and completion */
	char *tls_cert, *tls_key; /* PEM kept for libmicrohttpd; key wiped at stop */
	size_t tls_cert_len, tls_key_len;
	char *tls_trust;          /* [renewal] enabled: the CA whose client certificates
	                           * the handshake asks for (NULL: none asked for) */
} server;

struct request {
	server *srv;
	struct MHD_Connection *conn;
	const struct route *route;
	const char *method;
	const char *url;
	char logpath[160]; /* url with secrets (tokens, keys) masked, for logs */
	char param[1024];  /* the {id} / {serial} / {token} path segment (/ocsp/{request}: the
	                    * rest of the path) */
	char remote[64];   /* client address, numeric */
	char actor[200];   /* audit actor once authenticated */
	char user[128];    /* PAM user of a redeemer ("" if none) */
	char poll[64];     /* R_POLL: the poll secret a requester sent ("" if none) */
	crt_apikey apikey; /* R_ADMIN: the caller's key (scopes, profiles), cleared at the end */
	unsigned char *peer_cert; /* R_RENEW: the TLS client certificate, DER (malloc'd) */
	size_t peer_cert_len;
	char *body;        /* request body, NUL-terminated; wiped on completion */
	size_t body_len, body_cap;
	int too_large;
	int attempt_reserved;             /* a login attempt is reserved (auth.c) */
	size_t max_body;                  /* [server] max_body when the request began */
	crt_instance *inst;               /* for the whole request (a reference) */
	struct pool_entry *pe;            /* borrowed for one callback at a time */
	crt_ctx *ctx;                     /* pool_ctx(pe) while borrowed, else NULL */
	const crt_config *cfg;            /* ctx's config while borrowed, else inst's */
	struct MHD_Response *resp;        /* set by reply_*() */
	unsigned http_status;
	const char *code; /* error code for the access log, or NULL */
	int queued;
	int64_t start_us;
};

/* Start listening on addr with the config's TLS settings; 0 or -1 (logged). */
int server_start(server *srv, const struct listen_addr *addr, const crt_config *cfg);
/* Stop accepting, wait up to drain_seconds for in-flight requests, stop. */
void server_stop(server *srv, int drain_seconds);
/* Borrow a store context for rq (waits while none is free) / give it back. */
void request_borrow(struct request *rq);
void request_give_back(struct request *rq);

/* ------------------------------------------------------------ maintain.c */

/* The scheduled work (crt_maintain) every [maintenance] interval while
 * enabled, and at once when kicked (SIGUSR1), on a session from srv's pool.
 * NULL when the thread cannot start. Stop it before the pool closes. */
typedef struct maintainer maintainer;
maintainer *maintainer_start(server *srv);
void maintainer_kick(maintainer *m);
/* Wait for a run in progress to end, then stop. NULL: nothing. */
void maintainer_stop(maintainer *m);

/* ------------------------------------------------------------ routes.c */

typedef void (*handler_fn)(struct request *rq);

enum route_flags {
	R_ADMIN = 1 << 0,    /* Bearer API key required */
	R_REDEEM = 1 << 1,   /* the login gate (when require_login) */
	R_BODY = 1 << 2,     /* a JSON body is required */
	R_BODY_OPT = 1 << 3, /* a JSON body is allowed */
	R_NO_CTX = 1 << 4,   /* the handler needs no session (the instance only) */
	R_OCSP = 1 << 5,     /* a DER body, application/ocsp-request, <= OCSP_MAX_BODY */
	R_REST = 1 << 6,     /* the last {placeholder} takes the rest of the path, '/' too */
	R_RENEW = 1 << 7,    /* a TLS client certificate required (+ the login with
	                      * [renewal] require_otp) */
	R_POLL = 1 << 8,     /* with R_ADMIN: "Bearer crq_..." (a certificate request's poll
	                      * secret, checked by the handler) is taken instead of an API key */
	R_ME = 1 << 9,       /* self-service: the login gate, required even with
	                      * require_login = no (there is no "me" without it);
	                      * with R_ADMIN | R_POLL: HTTP Basic credentials are
	                      * taken as that login instead of an API key */
};

/* Largest OCSP request body (16 CertIDs, a signature and its certificates). */
#define OCSP_MAX_BODY 16384

struct route {
	const char *method;
	const char *pattern; /* "/a/{x}/b": {x} matches one non-empty segment */
	handler_fn fn;
	unsigned flags;
	unsigned scope;      /* R_ADMIN: the enum crt_scope the key needs (0: no key
	                      * may call it — routes_check refuses such a table) */
};

/*
 * Find the route for method + path. On a match returns it and copies the
 * {placeholder} segment into param. Otherwise returns NULL with *status 404
 * (no such path) or 405 (path known; allow receives "GET, POST").
 */
const struct route *route_match(const char *method, const char *path, char *param, size_t plen,
                                unsigned *status, char *allow, size_t alen);
/* Print "METHOD PATTERN" for every route (crtokend --routes); with
 * scopes, a third column: the scope an admin route needs ("-" for others). */
void routes_print(int scopes);
/* 0 when every R_ADMIN route names its scope, else -1 (logged): crtokend
 * does not start with a route that forgot it. */
int routes_check(void);

/* ------------------------------------------------------------ respond.c */

/* HTTP status for a libcrtoken status (the adapter's mapping). */
unsigned http_status_for(crt_status s);
/* Respond with body (reference stolen; NULL → 500). */
void reply_json(struct request *rq, unsigned status, json_t *body);
/* Respond with a copy of data. */
void reply_data(struct request *rq, unsigned status, const char *content_type, const void *data,
                size_t len);
void reply_empty(struct request *rq, unsigned status);
/*
 * Respond {"error":{"code","message"[,"detail"]}} with the mapped status.
 * detail (may be NULL) is shown for client errors only: a 5xx never shows
 * more than the generic message; its detail goes to the log.
 */
void reply_error(struct request *rq, crt_status s, const char *detail);
/* reply_error with the HTTP status given instead of the mapped one. */
void reply_error_http(struct request *rq, unsigned status, crt_status s, const char *detail);
/* reply_error with crt_errdetail(rq->ctx). */
void reply_status(struct request *rq, crt_status s);
/* Add a header to the response already made. */
void reply_header(struct request *rq, const char *name, const char *value);

/* ------------------------------------------------------------ reqjson.c */

/* rq->body as a JSON object; on failure replies 400 and returns NULL. */
json_t *req_body_object(struct request *rq);
/* Reply 400 and return -1 if obj has a key not in allowed (NULL-terminated). */
int req_only_keys(struct request *rq, json_t *obj, const char *const *allowed);
/*
 * Optional string member: 0 with *out = value (NULL if absent); *is_null
 * (may be NULL) set when the member is JSON null. -1 after replying 400 for
 * any other type.
 */
int req_str(struct request *rq, json_t *obj, const char *key, const char **out, int *is_null);
/* Query argument or NULL. */
const char *req_query(struct request *rq, const char *key);
/* Request header or NULL. */
const char *req_header(struct request *rq, const char *name);
/* Parse RFC 3339 ("2026-11-22T07:34:32Z", offsets, fractions). 0 or -1. */
int rfc3339_parse(const char *s, int64_t *t);

/* ------------------------------------------------------------ auth.c */

/* Admin endpoints: Bearer API key, holding the route's scope. 0 with
 * rq->actor and rq->apikey set, or -1 after replying (403 permission_denied
 * and an audit row when the key lacks the scope). */
int auth_admin(struct request *rq);
/* R_POLL routes: a poll secret (Bearer crq_...) into rq->poll, its attempt
 * reserved until the handler ends it (auth_attempt_done), or else
 * auth_admin. 0, or -1 after replying. */
int auth_poll(struct request *rq);
/* Does rq carry "Authorization: Basic ..." (a login, not a Bearer key)? */
int auth_is_basic(struct request *rq);
/* Reply 403 permission_denied for rq's key and audit it
 * (http.permission_denied: method, route, scope or profile); needs rq->ctx. */
/* 201 with a certificate just issued (and its PKCS#12; h_redeem.c). */
void reply_issued(struct request *rq, const crt_cert *c, const unsigned char *p12,
                  size_t p12_len, const char *pass);
void auth_denied(struct request *rq, const char *scope, const char *profile);
/* A token route with {id} (update, delete, issue): the token exists and its
 * profile is one the API key is limited to (apikey create --profiles); 0,
 * or -1 after replying (404 token_not_found, 403 permission_denied). The
 * profile of a token never changes, so the check holds for the call. */
int auth_token_profile(struct request *rq);
/* The same for a certificate request's decisions (approve, deny, cancel by
 * a key): the request exists and its token's profile is the key's. */
int auth_request_profile(struct request *rq);
/* Redemption: the login gate. 0 with rq->user/actor set, or -1 after replying. */
int auth_redeemer(struct request *rq);
/* End rq's reserved login attempt (if any), counting it as failed or not. */
void auth_attempt_done(struct request *rq, int failed);

/* ------------------------------------------------------------ pamgate.c */

/*
 * Authenticate user through PAM service (pam_authenticate + pam_acct_mgmt)
 * answering the prompts from secret: the k-th prompt receives the k-th
 * '\n'-separated line. rhost becomes PAM_RHOST. CRT_OK, CRT_E_AUTH_FAILED,
 * CRT_E_STORE_UNAVAILABLE (module could not reach its data) or
 * CRT_E_INTERNAL (stack misconfigured; *why receives a static text).
 */
/* Keep the PAM stack of service loaded between logins (NULL: let it go);
 * main thread only (start, reload, exit). */
void pam_gate_hold(const char *service);
crt_status pam_gate(const char *service, const char *user, const char *secret, const char *rhost,
                    const char **why);

/* ------------------------------------------------------------ handlers */

void h_token_create(struct request *rq);
/* h_certprofiles.c */
void h_cert_profile_list(struct request *rq);
void h_cert_profile_get(struct request *rq);
void h_token_list(struct request *rq);
void h_token_get(struct request *rq);
void h_token_update(struct request *rq);
void h_token_delete(struct request *rq);
/* h_issue.c */
void h_token_issue(struct request *rq);
/* h_me.c */
void h_me(struct request *rq);
void h_me_certs(struct request *rq);
void h_me_cert_revoke(struct request *rq);
void h_me_cert_pkcs12(struct request *rq);
void h_cert_list(struct request *rq);
void h_cert_get(struct request *rq);
void h_cert_revoke(struct request *rq);
void h_redeem(struct request *rq);
void h_preview(struct request *rq);
/* h_audit.c: the audit trail (scope audit:read) */
void h_audit_list(struct request *rq);
/* h_requests.c: certificate requests (the approval workflow) */
void h_request_list(struct request *rq);
void h_request_get(struct request *rq);
void h_request_approve(struct request *rq);
void h_request_deny(struct request *rq);
void h_request_cancel(struct request *rq);
void h_me_requests(struct request *rq);
void h_renew(struct request *rq);
void h_ca_pem(struct request *rq);
void h_crl(struct request *rq);
void h_healthz(struct request *rq);
void h_profile_list(struct request *rq);
/* [network] as the page and a preview show it: configured, type, name, ssid. */
json_t *network_summary(const crt_config *cfg);
void h_profile_make(struct request *rq);
void h_ocsp_post(struct request *rq);
void h_ocsp_get(struct request *rq);
void h_portal_page(struct request *rq);
void h_portal_js(struct request *rq);
void h_portal_css(struct request *rq);
void h_portal_settings(struct request *rq);

#endif /* CRTOKEND_H */

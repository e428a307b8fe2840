/*
 * enroll.h — what crtoken-enroll's files share.
 *
 * crtoken-enroll is the end user's side of a redemption: it makes the key on
 * the device (the private key never leaves it), builds the CSR, logs in
 * when the server asks (HTTP Basic: user + one-time password), redeems the
 * token, and writes key, certificate, chain and optionally a PKCS#12.
 *   main.c      options and the flow
 *   http.c      the HTTPS request (libcurl)
 *   prompt.c    asking for secrets without echo
 *   files.c     writing the results (key 0600, atomic renames)
 *   messages.c  what to tell the user for each server error code
 *   profile.c   --profile FORMAT: the network onboarding profile
 *   renew.c     `crtoken-enroll renew`: a new key and certificate for the
 *               current one, authenticated by it (no token)
 *   mine.c      `crtoken-enroll list` / `revoke` / `pkcs12`: the user's
 *               own certificates after the login (GET /me/certificates)
 */
#ifndef CRTOKEN_ENROLL_H
#define CRTOKEN_ENROLL_H

#include <stddef.h>

#include "crtoken.h"

/* Exit statuses (crtoken-enroll.1). */
enum enroll_exit {
	EN_OK = 0,
	EN_REFUSED = 1, /* the server (or the local token check) refused */
	EN_USAGE = 2,
	EN_SYSTEM = 4, /* network, TLS, files, out of memory */
	EN_PENDING = 5, /* --no-wait: the request waits for an administrator's approval */
	EN_DENIED = 6,  /* an administrator denied the request */
	EN_EXPIRED = 7, /* nobody decided before the request expired (or --wait-timeout) */
	EN_CANCELLED = 8, /* the request was cancelled (by its requester or an admin) */
};

/* ------------------------------------------------------------ http.c */

struct http_result {
	long status; /* HTTP status, 0 if no response */
	char *body;  /* response body, NUL-terminated (malloc'd) */
	size_t len;
	char *www_auth;    /* WWW-Authenticate, malloc'd or NULL */
	char *retry_after; /* Retry-After, malloc'd or NULL */
	char error[256];   /* transport error text when status is 0 */
};
/*
 * POST json_body to url. user/secret (may be NULL) become Basic
 * credentials. cacert (may be NULL) replaces the system trust store.
 * Returns 0 when a response arrived (any status), -1 on transport failure.
 */
int http_post_json(const char *url, const char *json_body, const char *user, const char *secret,
                   const char *cacert, struct http_result *res);
/* A GET of url, as http_post_json otherwise. */
int http_get(const char *url, const char *user, const char *secret, const char *cacert,
             struct http_result *res);
/* http_post_json (json_body NULL: a GET) presenting client_cert / client_key (PEM files; NULL:
 * none) for TLS client authentication. */
int http_post_json_tls(const char *url, const char *json_body, const char *user,
                       const char *secret, const char *cacert, const char *client_cert,
                       const char *client_key, struct http_result *res);
/* Release res (wiping the body, which holds the certificate response). */
/* GET url with "Authorization: Bearer bearer" (a certificate request's
 * poll secret); 0, or -1 with res->error. */
int http_get_bearer(const char *url, const char *bearer, const char *cacert,
                    struct http_result *res);
/* A POST of json_body with the Bearer credential, as http_get_bearer. */
int http_post_bearer(const char *url, const char *bearer, const char *json_body,
                     const char *cacert, struct http_result *res);
void http_result_clear(struct http_result *res);

/* ------------------------------------------------------------ prompt.c */

/* Ask on the terminal with echo off; malloc'd answer, NULL if no terminal. */
char *prompt_secret(const char *question);

/* ------------------------------------------------------------ files.c */

/*
 * Write data to dir/name with mode via crt_file_write (temp + rename, never
 * through a symlink). Refuses to replace an existing file unless force. 0 or
 * -1 with the reason in err.
 */
int file_write(const char *dir, const char *name, const void *data, size_t len, unsigned mode,
               int force, char *err, size_t errlen);
/* Does dir/name exist? */
int file_exists(const char *dir, const char *name);
/* path's directory into dir ("." when none) and its last part (*file
 * points into path; "" when path ends in '/'). */
void split_path(const char *path, char *dir, size_t len, const char **file);
/* A file-name-safe copy of s into out ([A-Za-z0-9._-], others → '_'). */
void file_safe_name(const char *s, char *out, size_t len);

/* ------------------------------------------------------------ profile.c */

struct profile_opts {
	const char *format;   /* a crt_profile_formats() name */
	const char *server;   /* base URL */
	const char *cacert;   /* may be NULL */
	const char *out_dir;  /* where the key and certificate were written */
	const char *base;     /* their file name base */
	const char *p12pass;  /* for the formats that carry a PKCS#12 */
	int force;
};
struct evp_pkey_st;
/*
 * Fetch the profile for cert (key: its private key, for the PKCS#12) and
 * write it and the RADIUS server's CA into po->out_dir. Returns the exit
 * status (EN_OK ...), having told the user what went wrong.
 */
int profile_fetch(const struct profile_opts *po, struct evp_pkey_st *key, const char *cert,
                  const char *chain, const char *friendly);

/* ------------------------------------------------------------ renew.c */

/* `crtoken-enroll renew ...` (argv[0] is "renew"); returns the exit status. */
int renew_main(int argc, char **argv);

/* ------------------------------------------------------------ mine.c */

/* `crtoken-enroll list ...` / `crtoken-enroll revoke SERIAL ...` (argv[0]
 * is the command); return the exit status. */
int list_main(int argc, char **argv);
int revoke_main(int argc, char **argv);
/* `crtoken-enroll pkcs12 SERIAL --out FILE ...`: the kept PKCS#12. */
int pkcs12_main(int argc, char **argv);
/* `crtoken-enroll cancel REQUEST_ID ...`: withdraw a pending certificate
 * request (the login, or --poll-secret-file). */
int cancel_main(int argc, char **argv);

/* ------------------------------------------------------------ main.c */

/* https://, or http:// to this host only, as libcurl parses url (no user
 * or password in it); 0 after telling the user why not. */
int server_url_ok(const char *url);
/* Tell the user about the server's error answer; returns the exit status. */
int report_server_error(const struct http_result *res);

/* ------------------------------------------------------------ messages.c */

/* A sentence for the user about a server error code; never NULL. */
const char *message_for(const char *code);
/*
 * Copy text that came from elsewhere (the server, a URL) into out for the
 * terminal: control characters (C0, DEL, C1) and bytes that are not UTF-8
 * become \xNN; cut at len - 1 bytes.
 */
void safe_text(const char *in, char *out, size_t len);

#endif

/*
 * admin.h — what crtoken-admin's subcommand files share.
 *
 * Each subcommand group lives in its own file (cmd_token.c, cmd_cert.c, ...)
 * and exports one entry point `int cmd_NAME(admin_env *env, int argc, char **argv)`
 * listed in main.c's table. argv[0] is the group name ("token"); parse the
 * rest with getopt_long (reset optind = 1 first). Entry points return the
 * process exit status (enum admin_exit).
 */
#ifndef CRTOKEN_ADMIN_H
#define CRTOKEN_ADMIN_H

#include <jansson.h>
#include <stdio.h>

#include "crtoken.h"

/* Exit statuses: stable, documented in crtoken-admin.8. */
enum admin_exit {
	EXIT_OK = 0,
	EXIT_REFUSED = 1, /* the request was refused (token_used, csr_weak_key, ...) */
	EXIT_USAGE = 2,   /* bad command line */
	EXIT_NOTFOUND = 3, /* the named object does not exist */
	EXIT_SYSTEM = 4,  /* config, store, I/O or internal failure */
};

typedef struct admin_env {
	const char *config; /* --config or NULL (then CRTOKEN_CONF / default) */
	int json;           /* --json given globally */
	crt_ctx *ctx;       /* opened lazily by admin_open() */
} admin_env;

/* Open the instance (flags: crt_open flags). Prints the error and returns
 * non-zero exit status on failure. */
int admin_open(admin_env *env, unsigned flags);
/* Print "crtoken-admin: error: CODE: message[: detail]" to stderr and return
 * the exit status for s. ctx may be NULL. */
int admin_fail(admin_env *env, crt_status s);
/* Usage error: prints message + "try --help" and returns EXIT_USAGE. */
int admin_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a JSON value to stdout (pretty, newline) and release it. */
void admin_json_print(json_t *v);
/* Print a shape from libcrtoken (crt_token_json...) like admin_json_print.
 * Returns EXIT_SYSTEM if v is NULL (out of memory). */
int admin_json_print_shape(json_t *v);
/* v, or json null when v is NULL (an array element that could not be made). */
json_t *admin_json_or_null(json_t *v);
/* Read a whole file (at most limit bytes: CRT_E_CSR_TOO_LARGE beyond;
 * CRT_E_IO if unreadable). *data is malloc'd and NUL-terminated. */
crt_status admin_read_file(const char *path, size_t limit, char **data, size_t *len);
/* Local time-free RFC 3339 rendering for text output ("-" for 0). */
const char *admin_time(int64_t t, char buf[32]);
/* The audit actor for this process: "admin:<login>". */
const char *admin_actor(void);
/* RFC 3339 string for JSON output (json null for 0). */
json_t *admin_json_time(int64_t t);
/* json string or null. */
json_t *admin_json_str(const char *s);
/* Exit status for a status code (used by admin_fail). */
int admin_exit_for(crt_status s);

#endif

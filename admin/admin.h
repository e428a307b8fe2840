/*
 * admin.h — what crtoken-admin's subcommand files share.
 *
 * Each subcommand group lives in its own file (cmd_token.c, cmd_cert.c, ...)
 * and exports one entry point `int cmd_NAME(admin_env *env, int argc, char **argv)`
 * listed in main.c's table. argv[0] is the group name ("token"). A group
 * with actions (`token create|list|...`) is an admin_group: one
 * admin_action per action, each with its own option table and function
 * (action.c parses; token_*.c, ...). Entry points return the process exit
 * status (enum admin_exit).
 */
#ifndef CRTOKEN_ADMIN_H
#define CRTOKEN_ADMIN_H

#include <getopt.h>
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
	EXIT_PENDING = 5, /* redeem: stored as a certificate request awaiting approval */
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
/* Write an output file (crt_file_write: never through a symlink, an
 * existing regular file replaced by a new one) or stdout for "-". With
 * check set, only report whether it could be written. 0 or an exit code
 * (the error printed). */
int admin_write_out(const char *path, const char *data, int check);
/* Local time-free RFC 3339 rendering for text output ("-" for 0). */
const char *admin_time(int64_t t, char buf[32]);
/* "kind=value" SubjectAltName lines as "SAN:      email a@b.example" lines. */
void admin_print_san(const char *lines);
/* The audit actor for this process: "admin:<login>". */
const char *admin_actor(void);
/* RFC 3339 string for JSON output (json null for 0). */
json_t *admin_json_time(int64_t t);
/* json string or null. */
json_t *admin_json_str(const char *s);
/* Exit status for a status code (used by admin_fail). */
int admin_exit_for(crt_status s);

/* ------------------------------------------------------------ paging.c */

/* --page N, --size N, --sort FIELD of the list commands (option values
 * from ADMIN_OPT_PAGE, apart from every group's own). */
enum { ADMIN_OPT_PAGE = 3000, ADMIN_OPT_SIZE, ADMIN_OPT_SORT };
// clang-format off
#define ADMIN_PAGE_OPTIONS                                      \
	{"page", required_argument, NULL, ADMIN_OPT_PAGE},      \
	{"size", required_argument, NULL, ADMIN_OPT_SIZE},      \
	{"sort", required_argument, NULL, ADMIN_OPT_SORT}
// clang-format on
typedef struct admin_paging {
	const char *page, *size, *sort; /* as given, NULL when not */
} admin_paging;
/* Keep option c's value when it is one of ADMIN_PAGE_OPTIONS: 1, else 0. */
int admin_paging_opt(admin_paging *pp, int c, const char *arg);
/* Whether any of the three was given. */
int admin_paging_given(const admin_paging *pp);
/* Parse the three (crt_page_parse over fields; absent size: size_default)
 * into *p. 0, or the exit status after printing the page_invalid /
 * sort_invalid error. */
int admin_paging_parse(const char *cmd, const admin_paging *pp, const char *const *fields,
		       int default_desc, int size_default, crt_page *p);
/* The page object {"items","page","size","total"} (takes items). */
json_t *admin_page_json(json_t *items, const crt_page *p, int64_t total);
/* "page P (size S): N of TOTAL" on stderr, under a text listing. */
void admin_page_footer(const crt_page *p, size_t n, int64_t total);

/* ------------------------------------------------------------ action.c */

struct admin_call;

/* One action of a command group, e.g. "list" of "token". */
typedef struct admin_action {
	const char *name;
	/* Its options ({NULL} ends; each val unique, not 0x7f00): the only
	 * ones it accepts. --help is implied. */
	const struct option *opts;
	const char *shortopts; /* getopt letters it accepts, or NULL */
	const char *help;      /* its --help text, or NULL for the group's */
	int (*run)(admin_env *env, struct admin_call *call);
} admin_action;

/* A command group: `crtoken-admin NAME ACTION [options] [operands]`. */
typedef struct admin_group {
	const char *name;
	const char *help; /* `NAME --help` */
	const admin_action *const *actions; /* NULL-terminated */
} admin_group;

/* One run of an action, for admin_getopt and admin_operands. */
typedef struct admin_call {
	const admin_group *group;
	const admin_action *action;
	char cmd[64]; /* "token list", for messages */
	int argc;     /* argv[0] is the action's name */
	char **argv;
	int exit;     /* the exit status when a helper returned -1 */
} admin_call;

/* Run the action argv[1] of group g (argv[0] is the group's name); --help
 * prints the group's help. Returns the exit status. */
int admin_dispatch(admin_env *env, const admin_group *g, int argc, char **argv);
/* The next option of call's action: its val (> 0), 0 after the last, or -1
 * when the run ends here with call->exit: --help printed (EXIT_OK), or a
 * usage error printed (EXIT_USAGE) — an option the action does not take
 * ("crtoken-admin token list: --cn does not apply (it takes --state,
 * --json)"), an unknown one, a missing value. Operands then start at optind. */
int admin_getopt(admin_call *call);
/* Exactly n operands left (what names them: "a token id"): 0, or -1 with a
 * usage error in call->exit. */
int admin_operands(admin_call *call, int n, const char *what);

#endif

/*
 * pam_crtoken.c — the PAM adapter over libcrtoken's OTP (TOTP) verification.
 *
 * It reads the module options once into a struct, asks for the code through
 * the application's conversation, and maps libcrtoken's verdict to a PAM
 * code. Every rule — code matching, window, replay, lockout, auditing,
 * sealing — lives in common/otp.c; nothing here decides whether a code is
 * right. Store or configuration failures fail closed (PAM_AUTHINFO_UNAVAIL).
 *
 * Nothing shown to the user depends on whether the account exists: an
 * unconfigured user is prompted like any other (unless `nullok`, where the
 * administrator chose to let such users through to the next module).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "crtoken.h"

#define DEFAULT_PROMPT "Verification code: "
#define DEFAULT_FORWARD_PROMPT "Password & verification code: "

/* The module's options, parsed once per call from the PAM stack line. */
struct pam_crt_opts {
	const char *config; /* config= : crtoken.conf path; NULL = CRT_SYSTEM_CONFIG */
	const char *prompt; /* prompt= */
	int window;         /* window= : steps either side; -1 = config */
	int debug;
	int nullok;
	int use_first_pass;
	int try_first_pass;
	int forward_pass;
};

/*
 * Parse argv into o. Unknown or malformed options are logged and refused
 * with PAM_SERVICE_ERR: a typo in /etc/pam.d must not silently weaken auth.
 */
static int parse_opts(pam_handle_t *pamh, int argc, const char **argv, struct pam_crt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->window = -1;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "debug") == 0) {
			o->debug = 1;
		} else if (strcmp(a, "nullok") == 0) {
			o->nullok = 1;
		} else if (strcmp(a, "use_first_pass") == 0) {
			o->use_first_pass = 1;
		} else if (strcmp(a, "try_first_pass") == 0) {
			o->try_first_pass = 1;
		} else if (strcmp(a, "forward_pass") == 0) {
			o->forward_pass = 1;
		} else if (strncmp(a, "config=", 7) == 0 && a[7] != '\0') {
			o->config = a + 7;
		} else if (strncmp(a, "prompt=", 7) == 0 && a[7] != '\0') {
			o->prompt = a + 7;
		} else if (strncmp(a, "window=", 7) == 0) {
			char *end = NULL;
			errno = 0;
			long w = strtol(a + 7, &end, 10);
			if (errno != 0 || end == a + 7 || *end != '\0' || w < 0 || w > 10) {
				pam_syslog(pamh, LOG_ERR, "invalid option %s (window is 0-10)", a);
				return PAM_SERVICE_ERR;
			}
			o->window = (int)w;
		} else {
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", a);
			return PAM_SERVICE_ERR;
		}
	}
	if (o->use_first_pass && o->try_first_pass) {
		pam_syslog(pamh, LOG_ERR, "use_first_pass and try_first_pass exclude each other");
		return PAM_SERVICE_ERR;
	}
	return PAM_SUCCESS;
}

/* Wipe and free a response string (NULL-safe). */
static void wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/*
 * Obtain what the user typed: PAM_AUTHTOK of an earlier module
 * (use_first_pass / try_first_pass) or a fresh prompt. *input is malloc'd;
 * release it with wipe_free. PAM_AUTH_ERR if no answer could be had.
 */
static int get_input(pam_handle_t *pamh, const struct pam_crt_opts *o, char **input)
{
	const void *item = NULL;
	const char *prompt;
	char *resp = NULL;
	int r;

	*input = NULL;
	if (o->use_first_pass || o->try_first_pass) {
		if (pam_get_item(pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS && item != NULL) {
			if ((*input = strdup(item)) == NULL)
				return PAM_BUF_ERR;
			return PAM_SUCCESS;
		}
		if (o->use_first_pass)
			return PAM_AUTH_ERR;
	}
	prompt = o->prompt ? o->prompt : o->forward_pass ? DEFAULT_FORWARD_PROMPT : DEFAULT_PROMPT;
	r = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
	if (r != PAM_SUCCESS || resp == NULL) {
		wipe_free(resp);
		return r == PAM_BUF_ERR ? PAM_BUF_ERR : PAM_AUTH_ERR;
	}
	*input = resp;
	return PAM_SUCCESS;
}

/*
 * forward_pass: input is password followed by the `digits`-digit code.
 * Cut the code off (*code points into input) and hand the password on as
 * PAM_AUTHTOK for the next module.
 */
static int split_forward(pam_handle_t *pamh, char *input, int digits, const char **code)
{
	size_t n = strlen(input);
	size_t cut = n > (size_t)digits ? n - (size_t)digits : 0;
	char *pass = strndup(input, cut);
	int r;

	if (pass == NULL)
		return PAM_BUF_ERR;
	r = pam_set_item(pamh, PAM_AUTHTOK, pass);
	wipe_free(pass);
	*code = input + cut;
	return r;
}

/* Map a verification status to the PAM code (fail closed on anything unexpected). */
static int pam_code_for(crt_status s, int nullok)
{
	/* From the library's one classification (crt_status_kind). */
	switch (crt_status_kind(s)) {
	case CRT_KIND_OK:
		return PAM_SUCCESS;
	case CRT_KIND_AUTH:
		return PAM_AUTH_ERR;
	case CRT_KIND_LIMITED:
		return PAM_MAXTRIES;
	case CRT_KIND_NOT_FOUND:
		return nullok ? PAM_IGNORE : PAM_USER_UNKNOWN;
	default:
		return PAM_AUTHINFO_UNAVAIL;
	}
}

/*
 * One open instance per thread, kept between logins: a host that logs many
 * users in (crtokend sends every redemption's login through this module)
 * would otherwise parse the config and open the store for each one (about
 * 2 ms of a login). The cached instance is dropped when the config path, the
 * config file or the store file changes, or after an error; it is never used
 * across fork() (the child opens its own and leaves the inherited handle
 * alone, as SQLite requires). The module is linked -z nodelete, so the
 * thread-key destructor stays valid.
 */
struct store_cache {
	crt_ctx *ctx;
	char *path;
	pid_t pid;
	struct stat conf, db;
};
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static int cache_ok;

static void cache_free(void *p)
{
	struct store_cache *c = p;
	if (c == NULL)
		return;
	if (c->pid == getpid())
		crt_close(c->ctx);
	free(c->path);
	free(c);
}

static void cache_init(void)
{
	cache_ok = pthread_key_create(&cache_key, cache_free) == 0;
}

static int same_file(const struct stat *a, const struct stat *b, int content)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       (!content || (a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
			     a->st_mtim.tv_nsec == b->st_mtim.tv_nsec));
}

/* The cached instance for path if it is still the right one, else NULL
 * (an outdated one is closed). */
static crt_ctx *cache_get(const char *path)
{
	struct store_cache *c;
	struct stat conf, db;

	pthread_once(&cache_once, cache_init);
	if (!cache_ok || (c = pthread_getspecific(cache_key)) == NULL)
		return NULL;
	if (c->pid == getpid() && strcmp(c->path, path) == 0 && stat(path, &conf) == 0 &&
	    same_file(&conf, &c->conf, 1) && stat(crt_get_config(c->ctx)->database, &db) == 0 &&
	    same_file(&db, &c->db, 0))
		return c->ctx;
	pthread_setspecific(cache_key, NULL);
	cache_free(c);
	return NULL;
}

/* Keep ctx (opened from path) for this thread's next login; 0 if not kept. */
static int cache_put(const char *path, crt_ctx *ctx)
{
	struct store_cache *c;
	if (!cache_ok || (c = calloc(1, sizeof(*c))) == NULL)
		return 0;
	c->ctx = ctx;
	c->pid = getpid();
	if ((c->path = strdup(path)) == NULL || stat(path, &c->conf) != 0 ||
	    stat(crt_get_config(ctx)->database, &c->db) != 0 ||
	    pthread_setspecific(cache_key, c) != 0) {
		free(c->path);
		free(c);
		return 0;
	}
	return 1;
}

/* Done with ctx: a cached one stays open unless failed; others are closed. */
static void store_release(crt_ctx *ctx, int failed)
{
	struct store_cache *c = cache_ok ? pthread_getspecific(cache_key) : NULL;
	if (ctx == NULL)
		return;
	if (c != NULL && c->ctx == ctx) {
		if (failed) {
			pthread_setspecific(cache_key, NULL);
			cache_free(c);
		}
		return;
	}
	crt_close(ctx);
}

/* Open the instance without its CA (or reuse this thread's); logs and
 * returns a PAM code on failure. */
static int open_store(pam_handle_t *pamh, const struct pam_crt_opts *o, crt_ctx **ctx)
{
	/* Never the environment (CRTOKEN_CONF): it is the caller's, and the
	 * caller may be the unprivileged user of a setuid su or sudo. */
	const char *path = o->config ? o->config : CRT_SYSTEM_CONFIG;
	crt_status s;

	if ((*ctx = cache_get(path)) != NULL)
		return PAM_SUCCESS;
	s = crt_open(path, CRT_OPEN_NO_CA, ctx);
	if (s != CRT_OK) {
		pam_syslog(pamh, LOG_ERR, "cannot open crtoken store (%s): %s: %s", path,
		           crt_status_name(s), *ctx ? crt_errdetail(*ctx) : "");
		crt_close(*ctx);
		*ctx = NULL;
		return PAM_AUTHINFO_UNAVAIL;
	}
	cache_put(path, *ctx);
	return PAM_SUCCESS;
}

/* Look user up: 1 enrolled (digits set), 0 not enrolled, -1 store error (logged). */
static int lookup_user(pam_handle_t *pamh, crt_ctx *ctx, const char *user, int *digits)
{
	crt_otp_info info;
	crt_status s = crt_otp_get(ctx, user, &info);
	int r = -1;

	if (s == CRT_OK) {
		*digits = info.digits;
		r = 1;
	} else if (s == CRT_E_OTP_NOT_ENROLLED) {
		*digits = crt_get_config(ctx)->otp_digits;
		r = 0;
	} else {
		pam_syslog(pamh, LOG_ERR, "reading OTP record failed: %s: %s", crt_status_name(s),
		           crt_errdetail(ctx));
	}
	crt_otp_info_clear(&info);
	return r;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_crt_opts o;
	const char *user = NULL, *service = NULL, *rhost = NULL, *code = NULL;
	const void *item = NULL;
	crt_ctx *ctx = NULL;
	char *input = NULL;
	int r, enrolled, digits = 6, offset = 0;
	crt_status s;

	if ((r = parse_opts(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
	if (user == NULL || *user == '\0')
		return PAM_USER_UNKNOWN;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS)
		service = item;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		rhost = item;

	if ((r = open_store(pamh, &o, &ctx)) != PAM_SUCCESS)
		goto out;
	if ((enrolled = lookup_user(pamh, ctx, user, &digits)) < 0) {
		r = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (!enrolled && o.nullok) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "no OTP for %s; nullok", user);
		r = PAM_IGNORE;
		goto out;
	}
	/* Unconfigured users are asked too: the prompt must not tell. */
	if ((r = get_input(pamh, &o, &input)) != PAM_SUCCESS)
		goto out;
	code = input;
	if (o.forward_pass && (r = split_forward(pamh, input, digits, &code)) != PAM_SUCCESS)
		goto out;

	s = crt_otp_verify_window(ctx, user, code, crt_now(), o.window, service, rhost, &offset);
	r = pam_code_for(s, o.nullok);
	if (s == CRT_OK) {
		if (o.debug)
			pam_syslog(pamh, LOG_DEBUG, "OTP accepted for %s (step offset %d)", user,
			           offset);
	} else if (r == PAM_AUTHINFO_UNAVAIL) {
		pam_syslog(pamh, LOG_ERR, "OTP verification failed closed for %s: %s: %s", user,
		           crt_status_name(s), crt_errdetail(ctx));
	} else {
		pam_syslog(pamh, LOG_NOTICE, "OTP refused for %s%s%s: %s", user,
		           rhost ? " from " : "", rhost ? rhost : "", crt_status_name(s));
	}
out:
	wipe_free(input);
	store_release(ctx, r == PAM_AUTHINFO_UNAVAIL);
	return r;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

PAM_EXTERN int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pam_crt_opts o;
	const char *user = NULL;
	crt_ctx *ctx = NULL;
	int r, digits = 0, enrolled;

	if ((r = parse_opts(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	if ((r = pam_get_user(pamh, &user, NULL)) != PAM_SUCCESS)
		return r == PAM_CONV_AGAIN ? PAM_INCOMPLETE : r;
	if (user == NULL || *user == '\0')
		return PAM_USER_UNKNOWN;
	if (open_store(pamh, &o, &ctx) != PAM_SUCCESS) {
		r = PAM_SERVICE_ERR;
		goto out;
	}
	enrolled = lookup_user(pamh, ctx, user, &digits);
	if (enrolled > 0)
		r = PAM_SUCCESS;
	else if (enrolled == 0)
		r = o.nullok ? PAM_IGNORE : PAM_USER_UNKNOWN;
	else
		r = PAM_SERVICE_ERR;
out:
	store_release(ctx, r == PAM_SERVICE_ERR);
	return r;
}

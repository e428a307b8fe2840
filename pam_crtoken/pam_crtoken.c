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
#include <stdio.h>
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
 * The module's state: one instance (the config without the CA, the OTP
 * sealing key) and the sessions over it that no login is using, shared by
 * the host's threads and kept between logins while the module is loaded: a
 * host that logs many users in (crtokend sends every redemption's login
 * through this module) would otherwise parse the config and open the store
 * for each one (about 2 ms of a login). The instance is replaced when the
 * config path, the config file, the store file or the OTP key file changes,
 * and dropped after an error. It belongs to the module: libpam unloads the
 * module when the last PAM handle using it ends (pam_end), and the library
 * destructor then releases everything, so nothing outlives the code that
 * made it (no -z nodelete); a host that wants the state kept while no
 * login is under way holds a handle of its own open (crtokend does:
 * pamgate.c). Never used across fork(): a child opens its own
 * and leaves the inherited sessions alone (SQLite requires it).
 */
#define IDLE_MAX 16

struct file_id {
	int present;
	struct stat st;
};

static struct {
	pthread_mutex_t mu;
	pid_t pid;              /* the process that made inst */
	char *path;             /* the config path inst came from */
	struct file_id conf, db, key;
	crt_instance *inst;
	crt_ctx *idle[IDLE_MAX]; /* sessions of inst no login uses */
	int nidle;
} mod = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* fork() while another thread holds mod.mu would leave it locked in the
 * child; glibc unregisters these handlers when the module is unloaded. */
static void fork_prepare(void)
{
	pthread_mutex_lock(&mod.mu);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&mod.mu);
}

static void fork_child(void)
{
	pthread_mutex_init(&mod.mu, NULL);
}

static void atfork_init(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

static void file_id_of(const char *path, struct file_id *f)
{
	memset(f, 0, sizeof(*f));
	f->present = path != NULL && stat(path, &f->st) == 0;
}

/* content: compare size and modification time too; meta: and the inode
 * change time (a chmod or chown of the key file). */
static int same_file(const struct file_id *a, const struct file_id *b, int content, int meta)
{
	if (a->present != b->present)
		return 0;
	if (!a->present)
		return 1;
	return a->st.st_dev == b->st.st_dev && a->st.st_ino == b->st.st_ino &&
	       (!content || (a->st.st_size == b->st.st_size &&
	                     a->st.st_mtim.tv_sec == b->st.st_mtim.tv_sec &&
	                     a->st.st_mtim.tv_nsec == b->st.st_mtim.tv_nsec)) &&
	       (!meta || (a->st.st_ctim.tv_sec == b->st.st_ctim.tv_sec &&
	                  a->st.st_ctim.tv_nsec == b->st.st_ctim.tv_nsec));
}

/* The files inst was made from, as they are now. */
static void files_of(const char *path, const crt_instance *inst, struct file_id *conf,
                     struct file_id *db, struct file_id *key)
{
	const crt_config *cfg = crt_instance_config(inst);
	file_id_of(path, conf);
	file_id_of(cfg->database, db);
	file_id_of(cfg->otp_key_file, key);
}

/* Detach the state from mod (under mod.mu) into *inst and idle[], for the
 * caller to release once the lock is dropped. Returns the idle count. */
static int detach_locked(crt_instance **inst, crt_ctx *idle[IDLE_MAX])
{
	int n = mod.nidle;
	memcpy(idle, mod.idle, sizeof(mod.idle));
	*inst = mod.inst;
	mod.inst = NULL;
	mod.nidle = 0;
	free(mod.path);
	mod.path = NULL;
	return n;
}

static void release(crt_instance *inst, crt_ctx *idle[IDLE_MAX], int n)
{
	for (int i = 0; i < n; i++)
		crt_close(idle[i]);
	crt_instance_unref(inst);
}

/* In a child of the process that made the state: forget it unreleased. */
static void forget_inherited_locked(void)
{
	if (mod.inst != NULL && mod.pid != getpid()) {
		mod.inst = NULL;
		mod.nidle = 0;
		mod.path = NULL;
	}
}

__attribute__((destructor)) static void module_unload(void)
{
	crt_ctx *idle[IDLE_MAX];
	crt_instance *inst;
	int n;

	pthread_mutex_lock(&mod.mu);
	forget_inherited_locked();
	n = detach_locked(&inst, idle);
	pthread_mutex_unlock(&mod.mu);
	release(inst, idle, n);
}

/* A session for a login on the instance of path: an idle one if the files
 * are unchanged, else a new one (a new instance first, if needed); NULL
 * with *s and detail set on failure. */
static crt_ctx *session_get(const char *path, crt_status *s, char *detail, size_t n)
{
	struct file_id conf, db, key;
	crt_ctx *old_idle[IDLE_MAX], *ctx = NULL;
	crt_instance *inst = NULL, *stale = NULL;
	int nstale = 0;

	pthread_once(&atfork_once, atfork_init);
	*s = CRT_OK;
	detail[0] = '\0';
	pthread_mutex_lock(&mod.mu);
	forget_inherited_locked();
	if (mod.inst != NULL) {
		files_of(path, mod.inst, &conf, &db, &key);
		if (strcmp(mod.path, path) == 0 && same_file(&conf, &mod.conf, 1, 0) &&
		    same_file(&db, &mod.db, 0, 0) && same_file(&key, &mod.key, 1, 1)) {
			if (mod.nidle > 0)
				ctx = mod.idle[--mod.nidle];
			else
				inst = crt_instance_ref(mod.inst);
		} else {
			nstale = detach_locked(&stale, old_idle);
		}
	}
	pthread_mutex_unlock(&mod.mu);
	release(stale, old_idle, nstale);
	if (ctx != NULL)
		return ctx;
	if (inst == NULL) {
		/* Open a new instance and make it the module's (another thread
		 * may have done so meanwhile: then this one serves this login
		 * only and goes with its session). */
		if ((*s = crt_instance_open(path, CRT_OPEN_NO_CA, &inst, detail, n)) != CRT_OK)
			return NULL;
		char *p = strdup(path);
		files_of(path, inst, &conf, &db, &key);
		pthread_mutex_lock(&mod.mu);
		if (mod.inst == NULL && p != NULL) {
			mod.inst = crt_instance_ref(inst);
			mod.pid = getpid();
			mod.path = p;
			p = NULL;
			mod.conf = conf;
			mod.db = db;
			mod.key = key;
		}
		pthread_mutex_unlock(&mod.mu);
		free(p);
	}
	*s = crt_session_open(inst, 0, &ctx);
	crt_instance_unref(inst); /* the session holds its own */
	if (*s != CRT_OK) {
		snprintf(detail, n, "%s", ctx ? crt_errdetail(ctx) : "");
		crt_close(ctx);
		return NULL;
	}
	return ctx;
}

/* Done with ctx: kept for the next login unless it failed or its instance
 * is no longer the module's; after a failure the instance goes too. */
static void store_release(crt_ctx *ctx, int failed)
{
	crt_ctx *idle[IDLE_MAX];
	crt_instance *inst = NULL;
	int n = 0;

	if (ctx == NULL)
		return;
	pthread_mutex_lock(&mod.mu);
	forget_inherited_locked();
	if (crt_session_instance(ctx) == mod.inst) {
		if (failed) {
			n = detach_locked(&inst, idle);
		} else if (mod.nidle < IDLE_MAX) {
			mod.idle[mod.nidle++] = ctx;
			ctx = NULL;
		}
	}
	pthread_mutex_unlock(&mod.mu);
	crt_close(ctx);
	release(inst, idle, n);
}

/* Open the store without the CA (or reuse an idle session); logs and
 * returns a PAM code on failure. */
static int open_store(pam_handle_t *pamh, const struct pam_crt_opts *o, crt_ctx **ctx)
{
	/* Never the environment (CRTOKEN_CONF): it is the caller's, and the
	 * caller may be the unprivileged user of a setuid su or sudo. */
	const char *path = o->config ? o->config : CRT_SYSTEM_CONFIG;
	char detail[640];
	crt_status s;

	if ((*ctx = session_get(path, &s, detail, sizeof(detail))) != NULL)
		return PAM_SUCCESS;
	pam_syslog(pamh, LOG_ERR, "cannot open crtoken store (%s): %s: %s", path,
	           crt_status_name(s), detail);
	return PAM_AUTHINFO_UNAVAIL;
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
		/* Why, for the application (crtokend tells seal_error apart): a
		 * status name only, never the detail. */
		if (s == CRT_E_SEAL)
			(void)pam_putenv(pamh, CRT_PAM_STATUS_ENV "=seal_error");
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

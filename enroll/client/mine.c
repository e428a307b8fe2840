/*
 * mine.c — the user's own certificates, after the same login as a
 * redemption (HTTP Basic: user + one-time password):
 *   crtoken-enroll list --server URL [--requests] [--page N] [--size N]
 *                  [--user NAME] [--otp-file FILE] [--json]
 *       GET /me/certificates?page=N&size=N (or /me/requests with
 *       --requests): one page of the server's, the total said below it —
 *       a one-time password works once, so each page is one login
 *   crtoken-enroll cancel REQUEST_ID --server URL [--poll-secret-file FILE]
 *                  [--user NAME] [--otp-file FILE]
 *       POST /certificate-requests/{id}/cancel: withdraw a pending request,
 *       with the login that submitted it or with its poll secret
 *   crtoken-enroll revoke SERIAL --reason keyCompromise|cessationOfOperation
 *                  --server URL [--user NAME] [--otp-file FILE]
 *       POST /me/certificates/{serial}/revoke: a lost or retired device
 *   crtoken-enroll pkcs12 SERIAL --out FILE [--force] --server URL [--user NAME]
 *                  [--otp-file FILE]
 *       GET /me/certificates/{serial}/pkcs12: the PKCS#12 the server kept
 *       ([generate] keep_pkcs12), still under its passphrase, written 0600
 * Only the user's own certificates are listed or revoked (the server
 * decides; another user's serial is cert_not_found like one never issued).
 */
#include <ctype.h>
#include <limits.h>
#include <curl/curl.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/pkcs12.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "enroll.h"

struct mine_opts {
	const char *server, *user, *otp_file, *cacert, *reason, *out, *poll_file;
	const char *page, *size;
	int json, ask_password, force, requests;
};

static void mine_usage(FILE *f, const char *cmd)
{
	if (strcmp(cmd, "revoke") == 0)
		fprintf(f, "usage: crtoken-enroll revoke SERIAL --reason REASON --server URL "
		           "[options]\n"
		           "  --reason REASON   keyCompromise (the device was lost or stolen) or\n"
		           "                    cessationOfOperation (it is no longer used)\n");
	else if (strcmp(cmd, "pkcs12") == 0)
		fprintf(f, "usage: crtoken-enroll pkcs12 SERIAL --out FILE --server URL [options]\n"
		           "  --out FILE        write the kept PKCS#12 there (mode 0600); it opens\n"
		           "                    with the passphrase it was issued with\n"
		           "  --force           replace FILE if it exists\n");
	else if (strcmp(cmd, "cancel") == 0)
		fprintf(f, "usage: crtoken-enroll cancel REQUEST_ID --server URL [options]\n"
		           "  --poll-secret-file FILE  cancel with the request's poll secret (crq_...,\n"
		           "                    '-': stdin) instead of logging in\n");
	else
		fprintf(f, "usage: crtoken-enroll list --server URL [options]\n"
		           "  --requests        list your certificate requests instead of your\n"
		           "                    certificates\n"
		           "  --page N          which page of the server's (default 1)\n"
		           "  --size N          rows per page, 1-500 (default 50)\n"
		           "  --json            print the page's rows as JSON (an array)\n");
	fprintf(f, "  --server URL      the enrollment service (https://host:8443); --url too\n"
	           "  --user NAME       login name (default: your user name)\n"
	           "  --otp-file FILE   read the one-time password from FILE ('-': stdin);\n"
	           "                    else $CRTOKEN_OTP, else it is asked for\n"
	           "  --password        the server asks for a password and a one-time password\n"
	           "                    ($CRTOKEN_PASSWORD, else asked for)\n"
	           "  --cacert FILE     trust this CA for the server's TLS certificate\n");
}

/* The first line of path ("-": stdin), malloc'd; NULL if unreadable or empty. */
static char *first_line(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	char buf[4096], *s = NULL;

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	if (buf[0] != '\0')
		s = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return s;
}

static char *env_or_prompt(const char *env, const char *question)
{
	const char *v = getenv(env);

	return v != NULL ? strdup(v) : prompt_secret(question);
}

/* The Basic password: "OTP" or "password\nOTP"; NULL (reported) if none. */
static char *login_secret(const struct mine_opts *o)
{
	char *pw = NULL, *otp = NULL, *s = NULL;
	size_t n;

	if (o->ask_password && (pw = env_or_prompt("CRTOKEN_PASSWORD", "Password: ")) == NULL) {
		fprintf(stderr, "crtoken-enroll: no password (set CRTOKEN_PASSWORD)\n");
		goto out;
	}
	otp = o->otp_file != NULL ? first_line(o->otp_file)
	                          : env_or_prompt("CRTOKEN_OTP", "One-time password: ");
	if (otp == NULL) {
		fprintf(stderr, "crtoken-enroll: no one-time password (--otp-file, CRTOKEN_OTP, or "
		                "run on a terminal to be asked)\n");
		goto out;
	}
	n = (pw ? strlen(pw) + 1 : 0) + strlen(otp) + 1;
	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s%s%s", pw ? pw : "", pw ? "\n" : "", otp);
out:
	crt_strfree_secret(pw);
	crt_strfree_secret(otp);
	return s;
}

/* Parse the options of cmd; *operand receives the one operand revoke takes.
 * 0, or the exit status. */
static int parse(int argc, char **argv, const char *cmd, struct mine_opts *o,
                 const char **operand)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'}, {"url", required_argument, NULL, 's'},
	    {"user", required_argument, NULL, 'u'},   {"otp-file", required_argument, NULL, 'o'},
	    {"cacert", required_argument, NULL, 'A'}, {"reason", required_argument, NULL, 'r'},
	    {"json", no_argument, NULL, 'j'},         {"password", no_argument, NULL, 'p'},
	    {"out", required_argument, NULL, 'O'},    {"force", no_argument, NULL, 'f'},
	    {"poll-secret-file", required_argument, NULL, 'P'},
	    {"page", required_argument, NULL, 'g'},   {"size", required_argument, NULL, 'z'},
	    {"requests", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
	};
	int c, revoke = strcmp(cmd, "revoke") == 0, p12 = strcmp(cmd, "pkcs12") == 0;
	int cancel = strcmp(cmd, "cancel") == 0, list = strcmp(cmd, "list") == 0;
	int want = revoke || p12 || cancel;

	memset(o, 0, sizeof(*o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': o->server = optarg; break;
		case 'u': o->user = optarg; break;
		case 'o': o->otp_file = optarg; break;
		case 'A': o->cacert = optarg; break;
		case 'r': o->reason = optarg; break;
		case 'j': o->json = 1; break;
		case 'p': o->ask_password = 1; break;
		case 'O': o->out = optarg; break;
		case 'f': o->force = 1; break;
		case 'P': o->poll_file = optarg; break;
		case 'g': o->page = optarg; break;
		case 'z': o->size = optarg; break;
		case 'q': o->requests = 1; break;
		case 'h': mine_usage(stdout, cmd); return -EN_OK - 1;
		default: mine_usage(stderr, cmd); return EN_USAGE;
		}
	}
	if (argc - optind != want || o->server == NULL || (o->reason != NULL) != revoke ||
	    (o->json && want) || (o->out != NULL) != p12 || (o->force && !p12) ||
	    (o->poll_file != NULL && !cancel) ||
	    ((o->page != NULL || o->size != NULL || o->requests) && !list)) {
		mine_usage(stderr, cmd);
		return EN_USAGE;
	}
	*operand = want ? argv[optind] : NULL;
	if (!server_url_ok(o->server))
		return EN_USAGE;
	if (o->user == NULL) {
		const struct passwd *pw = getpwuid(getuid());
		const char *u = getenv("USER");
		o->user = u != NULL && *u ? u : pw != NULL ? pw->pw_name : NULL;
	}
	if (o->user == NULL) {
		fprintf(stderr, "crtoken-enroll: error: no user name (--user)\n");
		return EN_USAGE;
	}
	return 0;
}

/* in as lowercase hex without colons (an optional 0x dropped) into out;
 * -1 when it is anything else (the server normalises the rest). */
static int hex_serial(const char *in, char *out, size_t len)
{
	size_t n = 0;

	if (strncasecmp(in, "0x", 2) == 0)
		in += 2;
	for (; *in != '\0'; in++) {
		if (*in == ':')
			continue;
		if (!isxdigit((unsigned char)*in) || n + 1 >= len)
			return -1;
		out[n++] = (char)tolower((unsigned char)*in);
	}
	out[n] = '\0';
	return n > 0 ? 0 : -1;
}

/* server + path (path starts with '/'), malloc'd. */
static char *make_url(const char *server, const char *path)
{
	size_t sl = strlen(server), n;
	char *url;

	while (sl > 0 && server[sl - 1] == '/')
		sl--;
	n = sl + strlen(path) + 1;
	if ((url = malloc(n)) != NULL)
		snprintf(url, n, "%.*s%s", (int)sl, server, path);
	return url;
}

/* A string member for the terminal (safe_text), "-" when absent or null. */
static const char *field(json_t *o, const char *key, char *buf, size_t len)
{
	const char *v = json_string_value(json_object_get(o, key));

	safe_text(v != NULL ? v : "-", buf, len);
	return buf;
}

/* A positive decimal number of at most max in text; 0 if it is not one. */
static long number(const char *text, long max)
{
	char *end;
	long v;

	if (text == NULL || *text < '0' || *text > '9')
		return 0;
	v = strtol(text, &end, 10);
	return *end == '\0' && v >= 1 && v <= max ? v : 0;
}

static void print_certs(json_t *items)
{
	json_t *c;
	size_t i;

	printf("%-34s %-8s %-20s %-20s %-6s %s\n", "SERIAL", "STATUS", "NOT AFTER", "LAST SEEN",
	       "PKCS12", "NAME");
	json_array_foreach(items, i, c)
	{
		char s[80], st[32], na[40], ls[40], nm[200];
		int kept = json_is_true(json_object_get(c, "pkcs12Available"));
		printf("%-34s %-8s %-20s %-20s %-6s %s\n", field(c, "serial", s, sizeof(s)),
		       field(c, "status", st, sizeof(st)), field(c, "notAfter", na, sizeof(na)),
		       field(c, "lastSeen", ls, sizeof(ls)), kept ? "kept" : "-",
		       field(c, "name", nm, sizeof(nm)));
	}
}

static void print_requests(json_t *items)
{
	json_t *r;
	size_t i;

	printf("%-46s %-9s %-20s %s\n", "REQUEST", "STATE", "CREATED", "NAME / REASON");
	json_array_foreach(items, i, r)
	{
		char id[80], st[32], cr[40], nm[200], why[600];
		const char *reason = json_string_value(json_object_get(r, "reason"));
		printf("%-46s %-9s %-20s %s", field(r, "requestId", id, sizeof(id)),
		       field(r, "state", st, sizeof(st)), field(r, "createdAt", cr, sizeof(cr)),
		       field(r, "tokenName", nm, sizeof(nm)));
		if (reason != NULL)
			printf(" (%s)", field(r, "reason", why, sizeof(why)));
		putchar('\n');
	}
}

int list_main(int argc, char **argv)
{
	struct mine_opts o;
	struct http_result res;
	const char *operand, *what;
	char *secret = NULL, *url = NULL, path[128];
	json_t *v = NULL, *items;
	long page, size, total, pages;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = parse(argc, argv, "list", &o, &operand)) != 0)
		return rc < 0 ? EN_OK : rc;
	page = o.page != NULL ? number(o.page, 1000000) : 1;
	size = o.size != NULL ? number(o.size, 500) : 50;
	if (page == 0 || size == 0) {
		fprintf(stderr, "crtoken-enroll: error: --page is 1 or more, --size 1-500\n");
		return EN_USAGE;
	}
	what = o.requests ? "certificate requests" : "certificates";
	rc = EN_SYSTEM;
	if ((secret = login_secret(&o)) == NULL) {
		rc = EN_USAGE;
		goto out;
	}
	/* One page of the server's (it counts and cuts): never an unbounded list. */
	snprintf(path, sizeof(path), "/me/%s?page=%ld&size=%ld",
	         o.requests ? "requests" : "certificates", page, size);
	if ((url = make_url(o.server, path)) == NULL ||
	    curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	if (http_get(url, o.user, secret, o.cacert, &res) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s: %s\n", o.server, res.error);
		goto out;
	}
	if (res.status != 200) {
		rc = report_server_error(&res);
		goto out;
	}
	if ((v = json_loadb(res.body, res.len, 0, NULL)) == NULL ||
	    !json_is_array(items = json_object_get(v, "items")) ||
	    !json_is_integer(json_object_get(v, "total"))) {
		fprintf(stderr, "crtoken-enroll: error: the server's answer is not a page\n");
		goto out;
	}
	total = (long)json_integer_value(json_object_get(v, "total"));
	pages = (total + size - 1) / size;
	if (o.json) { /* the page's rows, a JSON array as before paging; the count aside */
		char *text = json_dumps(items, JSON_INDENT(2));
		if (text != NULL)
			puts(text);
		free(text);
		if (page < pages)
			fprintf(stderr, "crtoken-enroll: page %ld of %ld (%ld %s): --page %ld for the "
			                "next\n",
			        page, pages, total, what, page + 1);
		rc = text != NULL ? EN_OK : EN_SYSTEM;
		goto out;
	}
	if (total == 0) {
		printf("No %s for %s.\n", what, o.user);
		rc = EN_OK;
		goto out;
	}
	if (o.requests)
		print_requests(items);
	else
		print_certs(items);
	if (json_array_size(items) == 0)
		printf("(page %ld is past the end)\n", page);
	printf("page %ld of %ld, %ld %s in all", page, pages, total, what);
	if (page < pages)
		printf("; the next: --page %ld (with the next one-time password)", page + 1);
	putchar('\n');
	rc = EN_OK;
out:
	json_decref(v);
	http_result_clear(&res);
	crt_strfree_secret(secret);
	free(url);
	curl_global_cleanup();
	return rc;
}

int revoke_main(int argc, char **argv)
{
	struct mine_opts o;
	struct http_result res;
	const char *serial;
	char *secret = NULL, *url = NULL, *body = NULL, path[256], norm[72], buf[80];
	json_t *b = NULL, *v = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = parse(argc, argv, "revoke", &o, &serial)) != 0)
		return rc < 0 ? EN_OK : rc;
	if (strcmp(o.reason, "keyCompromise") != 0 && strcmp(o.reason, "cessationOfOperation") != 0) {
		fprintf(stderr, "crtoken-enroll: error: --reason is keyCompromise or "
		                "cessationOfOperation\n");
		return EN_USAGE;
	}
	/* Only hex goes into the URL: the serial is checked here first. */
	if (hex_serial(serial, norm, sizeof(norm)) != 0) {
		fprintf(stderr, "crtoken-enroll: error: serial_invalid: %s\n",
		        message_for("serial_invalid"));
		return EN_USAGE;
	}
	rc = EN_SYSTEM;
	snprintf(path, sizeof(path), "/me/certificates/%s/revoke", norm);
	if ((b = json_pack("{s:s}", "reason", o.reason)) == NULL ||
	    (body = json_dumps(b, JSON_COMPACT)) == NULL || (url = make_url(o.server, path)) == NULL)
		goto out;
	if ((secret = login_secret(&o)) == NULL) {
		rc = EN_USAGE;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	if (http_post_json(url, body, o.user, secret, o.cacert, &res) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s: %s\n", o.server, res.error);
		goto out;
	}
	if (res.status != 200) {
		rc = report_server_error(&res);
		goto out;
	}
	v = json_loadb(res.body, res.len, 0, NULL);
	printf("Revoked %s (%s); RADIUS no longer admits it.\n", norm,
	       field(v, "revocationReason", buf, sizeof(buf)));
	rc = EN_OK;
out:
	json_decref(b);
	json_decref(v);
	http_result_clear(&res);
	crt_strfree_secret(secret);
	free(body);
	free(url);
	curl_global_cleanup();
	return rc;
}

/* The body is a PKCS#12 (DER)? The server answers it as it was made. */
static int is_pkcs12(const char *body, size_t len)
{
	const unsigned char *p = (const unsigned char *)body;
	PKCS12 *p12;

	if (len == 0 || len > LONG_MAX || (p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL)
		return 0;
	PKCS12_free(p12);
	return p == (const unsigned char *)body + len;
}

int pkcs12_main(int argc, char **argv)
{
	struct mine_opts o;
	struct http_result res;
	const char *serial, *file;
	char *secret = NULL, *url = NULL, path[256], norm[72], dir[4096], err[512];
	crt_status s;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = parse(argc, argv, "pkcs12", &o, &serial)) != 0)
		return rc < 0 ? EN_OK : rc;
	if (hex_serial(serial, norm, sizeof(norm)) != 0) {
		fprintf(stderr, "crtoken-enroll: error: serial_invalid: %s\n",
		        message_for("serial_invalid"));
		return EN_USAGE;
	}
	/* Checked before the login, which spends a one-time password. */
	split_path(o.out, dir, sizeof(dir), &file);
	if (*file == '\0' || access(dir, W_OK) != 0) {
		fprintf(stderr, "crtoken-enroll: error: cannot write %s\n", o.out);
		return EN_SYSTEM;
	}
	s = crt_file_write(o.out, "", 0, 0600, CRT_WRITE_CHECK | (o.force ? CRT_WRITE_REPLACE : 0),
	                   err, sizeof(err));
	if (s == CRT_E_EXISTS) {
		fprintf(stderr, "crtoken-enroll: error: %s exists (use --force to replace it)\n",
		        o.out);
		return EN_SYSTEM;
	}
	if (s != CRT_OK) { /* a symlink or not a regular file: never written through */
		fprintf(stderr, "crtoken-enroll: error: %s\n", err);
		return EN_SYSTEM;
	}
	rc = EN_SYSTEM;
	snprintf(path, sizeof(path), "/me/certificates/%s/pkcs12", norm);
	if ((url = make_url(o.server, path)) == NULL)
		goto out;
	if ((secret = login_secret(&o)) == NULL) {
		rc = EN_USAGE;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	if (http_get(url, o.user, secret, o.cacert, &res) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s: %s\n", o.server, res.error);
		goto out;
	}
	if (res.status != 200) {
		rc = report_server_error(&res);
		goto out;
	}
	if (!is_pkcs12(res.body, res.len)) {
		fprintf(stderr, "crtoken-enroll: error: the server's answer is not a PKCS#12\n");
		goto out;
	}
	if (file_write(dir, file, res.body, res.len, 0600, o.force, err, sizeof(err)) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s\n", err);
		goto out;
	}
	printf("PKCS#12 of %s written to %s (it opens with the passphrase it was issued with).\n",
	       norm, o.out);
	rc = EN_OK;
out:
	http_result_clear(&res);
	crt_strfree_secret(secret);
	free(url);
	curl_global_cleanup();
	return rc;
}

int cancel_main(int argc, char **argv)
{
	struct mine_opts o;
	struct http_result res;
	const char *id;
	char *secret = NULL, *poll = NULL, *url = NULL, path[200], buf[80];
	json_t *v = NULL;
	int rc;

	memset(&res, 0, sizeof(res));
	if ((rc = parse(argc, argv, "cancel", &o, &id)) != 0)
		return rc < 0 ? EN_OK : rc;
	/* Only an id's characters go into the URL. */
	if (*id == '\0' || strlen(id) > 64 ||
	    strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(id)) {
		fprintf(stderr, "crtoken-enroll: error: not a request id (request-...)\n");
		return EN_USAGE;
	}
	rc = EN_SYSTEM;
	snprintf(path, sizeof(path), "/certificate-requests/%s/cancel", id);
	if ((url = make_url(o.server, path)) == NULL)
		goto out;
	if (o.poll_file != NULL) {
		if ((poll = first_line(o.poll_file)) == NULL || strncmp(poll, "crq_", 4) != 0) {
			fprintf(stderr, "crtoken-enroll: error: %s holds no poll secret (crq_...)\n",
			        o.poll_file);
			rc = EN_USAGE;
			goto out;
		}
	} else if ((secret = login_secret(&o)) == NULL) {
		rc = EN_USAGE;
		goto out;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;
	if ((poll != NULL ? http_post_bearer(url, poll, "{}", o.cacert, &res)
	                  : http_post_json(url, "{}", o.user, secret, o.cacert, &res)) != 0) {
		fprintf(stderr, "crtoken-enroll: error: %s: %s\n", o.server, res.error);
		goto out;
	}
	if (res.status != 200) {
		rc = report_server_error(&res);
		goto out;
	}
	v = json_loadb(res.body, res.len, 0, NULL);
	printf("Cancelled request %s (%s): no certificate will be issued for it.\n", id,
	       field(v, "state", buf, sizeof(buf)));
	rc = EN_OK;
out:
	json_decref(v);
	http_result_clear(&res);
	crt_strfree_secret(secret);
	crt_strfree_secret(poll);
	free(url);
	curl_global_cleanup();
	return rc;
}

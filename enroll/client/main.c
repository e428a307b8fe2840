/*
 * main.c — crtoken-enroll: redeem a certificate request token from the
 * device that will use the certificate.
 *
 *   crtoken-enroll --server URL [--token-file FILE] [--otp-file FILE]
 *                  [--user NAME] [--out-dir DIR]
 *                  [--key-type ec-p256] [--p12 FILE] [--name BASE]
 *                  [--cn CN] [--org O] [--ou OU] [--cacert FILE]
 *                  [--password] [--no-login] [--force] [--profile FORMAT]
 *                  [--csr FILE [--attestation FILE]]
 *
 * --csr sends a CSR made elsewhere — by a YubiKey, whose key never leaves
 * it — instead of making a key here; --attestation sends the key's PIV
 * attestation with it (the attestation certificate followed by the
 * device's slot f9 certificate, PEM), for tokens whose policy asks for one.
 *
 * Flow: check the token's checksum locally (a mistyped token never reaches
 * the network); check the output directory is writable; make the key and
 * the CSR; send the CSR — with the user's login if the server asks for one
 * (401 authentication_required) or if it was given in the environment; on
 * 201 write key (0600), certificate, chain and PKCS#12, each atomically.
 *
 * Secrets never need the command line (where every user of the machine can
 * read them): the token comes from --token-file, CRTOKEN_TOKEN or a prompt
 * (--token still works, with a warning, and is wiped from argv at once);
 * the one-time password from --otp-file, CRTOKEN_OTP or a prompt.
 * Environment for scripts: CRTOKEN_TOKEN, CRTOKEN_OTP (the one-time
 * password), CRTOKEN_PASSWORD (with --password), CRTOKEN_P12_PASSPHRASE.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "enroll.h"

struct opts {
	const char *server, *user, *out_dir, *key_type, *p12, *name;
	const char *cn, *org, *ou, *cacert, *token_file, *otp_file, *profile;
	const char *csr_file, *attestation_file; /* a CSR made elsewhere, its attestation */
	char *token; /* owned, wiped */
	int ask_password, no_login, force, key_type_given;
	int no_wait;          /* a pending request: print it and exit EN_PENDING */
	long poll_interval;   /* seconds between checks of a pending request */
	long wait_timeout;    /* give up waiting after this many seconds (0: never) */
};

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: crtoken-enroll --server URL [--token-file FILE] [options]\n"
	        "  --server URL      the enrollment service (https://host:8443)\n"
	        "  --token-file FILE read the certificate request token from FILE ('-': stdin);\n"
	        "                    else $CRTOKEN_TOKEN, else it is asked for\n"
	        "  --token TOKEN     the token on the command line (visible to other users)\n"
	        "  --otp-file FILE   read the one-time password from FILE ('-': stdin);\n"
	        "                    else $CRTOKEN_OTP, else it is asked for\n"
	        "  --user NAME       login name (default: your user name)\n"
	        "  --out-dir DIR     where to write key, certificate and chain (default .)\n"
	        "  --key-type TYPE   ec-p256 (default), ec-p384, rsa-2048, rsa-3072, ed25519\n"
	        "  --p12 FILE        also write a PKCS#12 (NetworkManager, wpa_supplicant)\n"
	        "  --name BASE       file names BASE.key, BASE.crt, BASE-chain.pem\n"
	        "                    (default: the certificate's name)\n"
	        "  --cn/--org/--ou   ask for these subject fields (if the token allows)\n"
	        "  --cacert FILE     trust this CA for the server's TLS certificate\n"
	        "  --password        the server asks for a password and a one-time password\n"
	        "  --no-login        do not log in (servers with require_login = no)\n"
	        "  --force           replace existing files\n"
	        "  --profile FORMAT  also write the network profile: wpa_supplicant,\n"
	        "                    networkmanager, nmcli, windows, netsh, mobileconfig,\n"
	        "                    eap-config (the last two, windows and netsh need a\n"
	        "                    PKCS#12 passphrase: CRTOKEN_P12_PASSPHRASE)\n"
	        "  --csr FILE        send this CSR (made where the key is, e.g. on a YubiKey:\n"
	        "                    yubico-piv-tool -a generate -s 9a, -a verify-pin\n"
	        "                    -a request-certificate -s 9a) instead of making a key;\n"
	        "                    only the certificate and chain are written\n"
	        "  --attestation FILE  with --csr: the key's PIV attestation, PEM: the output\n"
	        "                    of yubico-piv-tool -a attest -s 9a followed by that of\n"
	        "                    -a read-certificate -s f9 (the device's intermediate)\n"
	        "  --poll-interval N when the token needs an administrator's approval: check\n"
	        "                    every N seconds (default 10) until approved or denied\n"
	        "  --wait-timeout D  stop waiting after D (30m, 2h, seconds; default: until\n"
	        "                    the request expires)\n"
	        "  --no-wait         print the request id and poll secret, keep the key, and\n"
	        "                    exit 5 instead of waiting\n"
	        "  (Ctrl-C while waiting: how to cancel the request, exit 5)\n"
	        "exit status: 0 issued, 1 refused, 2 usage, 4 system, 5 pending (--no-wait,\n"
	        "  --wait-timeout or Ctrl-C), 6 denied, 7 expired, 8 cancelled\n"
	        "other commands: list, revoke, pkcs12, cancel, renew (crtoken-enroll CMD --help)\n"
	        "environment: CRTOKEN_TOKEN, CRTOKEN_OTP, CRTOKEN_PASSWORD, "
	        "CRTOKEN_P12_PASSPHRASE\n");
}

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "crtoken-enroll: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *default_user(void)
{
	const struct passwd *pw = getpwuid(getuid());
	const char *u = getenv("USER");

	return u != NULL && *u ? u : pw != NULL ? pw->pw_name : NULL;
}

/*
 * The first line of a file ("-": stdin), without its line end: a secret,
 * malloc'd. NULL (reported) if it cannot be read or is empty.
 */
static char *secret_from_file(const char *path, const char *what)
{
	char buf[4096], *s = NULL;
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
	size_t n;

	if (f == NULL) {
		fail("error: %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(buf, sizeof(buf), f) == NULL)
		buf[0] = '\0';
	if (f != stdin)
		fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (n == 0)
		fail("error: %s: no %s in the file", path, what);
	else if ((s = strdup(buf)) == NULL)
		fail("error: out of memory");
	explicit_bzero(buf, sizeof(buf));
	return s;
}

/* Secret from the environment (copied) or the terminal; NULL if neither. */
static char *get_secret(const char *env, const char *question)
{
	const char *v = getenv(env);

	if (v != NULL)
		return strdup(v);
	return prompt_secret(question);
}

/* The Basic password: "OTP" or "password\nOTP" (see crtokend.8). */
static char *login_secret(const struct opts *o)
{
	char *pw = NULL, *otp = NULL, *s = NULL;
	size_t n;

	if (o->ask_password && (pw = get_secret("CRTOKEN_PASSWORD", "Password: ")) == NULL)
		goto out;
	otp = o->otp_file != NULL ? secret_from_file(o->otp_file, "one-time password")
	                          : get_secret("CRTOKEN_OTP", "One-time password: ");
	if (otp == NULL)
		goto out;
	n = (pw ? strlen(pw) + 1 : 0) + strlen(otp) + 1;
	if ((s = malloc(n)) != NULL)
		snprintf(s, n, "%s%s%s", pw ? pw : "", pw ? "\n" : "", otp);
out:
	crt_strfree_secret(pw);
	crt_strfree_secret(otp);
	return s;
}

/* A small text file (a CSR, an attestation) of at most 64 KiB, malloc'd and
 * NUL-terminated; NULL (reported) when it cannot be read, is empty or larger. */
static char *text_from_file(const char *path, const char *what)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t n = 0;

	if (f == NULL) {
		fail("error: %s: %s", path, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(65536 + 1)) != NULL) {
		n = fread(buf, 1, 65536 + 1, f);
		buf[n > 65536 ? 65536 : n] = '\0';
	}
	fclose(f);
	if (buf != NULL && (n == 0 || n > 65536 || strlen(buf) != n)) {
		fail("error: %s: not a %s (empty, binary or larger than 64 KiB)", path, what);
		free(buf);
		buf = NULL;
	}
	return buf;
}

/* The JSON request body; malloc'd. */
static char *request_body(const struct opts *o, const char *csr, const char *attestation)
{
	json_t *b = json_pack("{s:s, s:s}", "type", "CSR", "value", csr);
	char *text = NULL;

	if (b == NULL)
		return NULL;
	if (attestation)
		json_object_set_new(b, "attestation", json_string(attestation));
	if (o->cn)
		json_object_set_new(b, "commonName", json_string(o->cn));
	if (o->org)
		json_object_set_new(b, "organization", json_string(o->org));
	if (o->ou)
		json_object_set_new(b, "organizationalUnit", json_string(o->ou));
	text = json_dumps(b, JSON_COMPACT);
	json_decref(b);
	return text;
}

/* Print the server's error for res; returns the exit status. */
int report_server_error(const struct http_result *res)
{
	json_t *v = json_loadb(res->body, res->len, 0, NULL);
	json_t *e = json_object_get(v, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *detail = json_string_value(json_object_get(e, "detail"));
	int rc = res->status >= 500 || code == NULL ? EN_SYSTEM : EN_REFUSED;
	char buf[1024];

	/* Everything the server wrote goes through safe_text (no escapes). */
	if (code == NULL) {
		fprintf(stderr, "crtoken-enroll: error: the server answered HTTP %ld\n",
		        res->status);
	} else {
		safe_text(code, buf, sizeof(buf));
		fprintf(stderr, "crtoken-enroll: error: %s: %s", buf, message_for(code));
		if (detail != NULL) {
			safe_text(detail, buf, sizeof(buf));
			fprintf(stderr, " (%s)", buf);
		}
		if (res->retry_after != NULL) {
			safe_text(res->retry_after, buf, sizeof(buf));
			fprintf(stderr, "; retry after %s s", buf);
		}
		fputc('\n', stderr);
	}
	json_decref(v);
	return rc;
}

static char *key_pem(EVP_PKEY *key, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	BUF_MEM *mem;
	char *out = NULL;

	*len = 0;
	if (b == NULL || !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		goto out;
	BIO_get_mem_ptr(b, &mem);
	if ((out = malloc(mem->length + 1)) != NULL) {
		memcpy(out, mem->data, mem->length);
		out[mem->length] = '\0';
		*len = mem->length;
	}
	explicit_bzero(mem->data, mem->length);
out:
	BIO_free(b);
	return out;
}

/* Split path into its directory (copied into dir) and file name. */
/* Write the results of a 201; returns the exit status. */
static int save(const struct opts *o, EVP_PKEY *key, const char *keytext, size_t keylen,
                const char *p12pass, const char *body, size_t len)
{
	json_t *v = json_loadb(body, len, 0, NULL);
	const char *cert = json_string_value(json_object_get(v, "certificate"));
	const char *chain = json_string_value(json_object_get(v, "chain"));
	const char *name = json_string_value(json_object_get(v, "name"));
	const char *serial = json_string_value(json_object_get(v, "serial"));
	const char *subject = json_string_value(json_object_get(v, "subject"));
	const char *not_after = json_string_value(json_object_get(v, "notAfter"));
	char base[128], fn[160], err[512], dir[4096], shown[1024];
	const char *file;
	unsigned char *p12 = NULL;
	size_t p12len = 0;
	int rc = EN_SYSTEM;
	crt_status s;

	if (cert == NULL || serial == NULL) {
		fprintf(stderr, "crtoken-enroll: error: the server's answer has no certificate\n");
		goto out;
	}
	file_safe_name(o->name ? o->name : name ? name : serial, base, sizeof(base));
	snprintf(fn, sizeof(fn), "%s.key", base);
	if (keytext != NULL &&
	    file_write(o->out_dir, fn, keytext, keylen, 0600, o->force, err, sizeof(err)) != 0)
		goto werr;
	snprintf(fn, sizeof(fn), "%s.crt", base);
	if (file_write(o->out_dir, fn, cert, strlen(cert), 0644, o->force, err, sizeof(err)) != 0)
		goto werr;
	if (chain != NULL) {
		snprintf(fn, sizeof(fn), "%s-chain.pem", base);
		if (file_write(o->out_dir, fn, chain, strlen(chain), 0644, o->force, err,
		               sizeof(err)) != 0)
			goto werr;
	}
	if (o->p12 != NULL) {
		if ((s = crt_pkcs12_make(key, cert, chain, name, p12pass, &p12, &p12len)) !=
		    CRT_OK) {
			fprintf(stderr, "crtoken-enroll: error: PKCS#12: %s\n",
			        crt_status_message(s));
			goto out;
		}
		split_path(o->p12, dir, sizeof(dir), &file);
		if (file_write(dir, file, p12, p12len, 0600, o->force, err, sizeof(err)) != 0)
			goto werr;
	}
	printf("certificate issued\n");
	safe_text(subject ? subject : "", shown, sizeof(shown));
	printf("  subject:     %s\n", shown);
	safe_text(serial, shown, sizeof(shown));
	printf("  serial:      %s\n", shown);
	safe_text(not_after ? not_after : "", shown, sizeof(shown));
	printf("  expires:     %s\n", shown);
	if (keytext != NULL)
		printf("  key:         %s/%s.key\n", o->out_dir, base);
	else
		printf("  key:         where the CSR was made (%s)\n", o->csr_file);
	printf("  certificate: %s/%s.crt\n", o->out_dir, base);
	if (chain != NULL)
		printf("  chain:       %s/%s-chain.pem\n", o->out_dir, base);
	if (o->p12 != NULL)
		printf("  pkcs12:      %s\n", o->p12);
	rc = EN_OK;
	if (o->profile != NULL) {
		struct profile_opts po = {o->profile, o->server, o->cacert, o->out_dir,
		                          base,       p12pass,   o->force};

		rc = profile_fetch(&po, key, cert, chain, name);
	}
	goto out;
werr:
	fprintf(stderr, "crtoken-enroll: error: %s\n", err);
	if (serial != NULL) {
		safe_text(serial, shown, sizeof(shown));
		fprintf(stderr,
		        "crtoken-enroll: certificate %s was issued; ask your "
		        "administrator to revoke it\n",
		        shown);
	}
out:
	crt_freezero(p12, p12len);
	json_decref(v);
	return rc;
}

/* Ctrl-C while waiting for an approval: the wait ends with what to do next. */
static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* Ctrl-C ended the wait for request id: say how to cancel it (with the poll
 * secret, shown now, or the login) — which matters when the key was made by
 * this run (keytext): it is gone with it, so an approval would issue a
 * certificate nobody has the key of. */
static void report_interrupted(const struct opts *o, const char *id, const char *secret,
                               int key_here)
{
	char shown[256];

	safe_text(secret, shown, sizeof(shown));
	fprintf(stderr, "\ncrtoken-enroll: interrupted: request %s is still pending\n", id);
	if (key_here)
		fprintf(stderr, "  The key this run made is gone with it (nothing was written): cancel\n"
		                "  the request, or an approval issues a certificate for a lost key.\n");
	else
		fprintf(stderr, "  Your key (--csr) is where it was: fetch the certificate later with\n"
		                "    curl -H 'Authorization: Bearer <poll secret>' %s/certificate-requests/%s\n"
		                "  or cancel the request.\n",
		        o->server, id);
	fprintf(stderr,
	        "  poll secret: %s (shown once)\n"
	        "  cancel it:   crtoken-enroll cancel %s --server %s --poll-secret-file FILE\n"
	        "               (FILE holding the poll secret; or with your login: --user %s)\n",
	        shown, id, o->server, o->user ? o->user : "NAME");
}

/*
 * A 202: the token needs an administrator's approval and the server stored
 * the request. Either report it and stop (--no-wait: the key, if made here,
 * is written first, so the certificate can be used once it is fetched with
 * the poll secret), or poll GET /certificate-requests/{id} with the poll
 * secret every poll_interval seconds — a progress line each time — until it
 * is issued (saved like a 201), denied, expired or cancelled. Ctrl-C ends the
 * wait (exit 5) saying how to cancel the request (report_interrupted).
 * Returns the exit status.
 */
static int await_approval(const struct opts *o, EVP_PKEY *key, const char *keytext,
                          size_t keylen, const char *p12pass, const struct http_result *first)
{
	json_t *v = json_loadb(first->body, first->len, 0, NULL), *p = NULL;
	const char *id = json_string_value(json_object_get(v, "requestId"));
	const char *secret = json_string_value(json_object_get(v, "pollSecret"));
	struct http_result res;
	char shown[256], fn[200], err[512], *url = NULL, *text = NULL;
	time_t start = time(NULL);
	int rc = EN_SYSTEM, tty = isatty(2), handler = 0;
	struct sigaction sa, old_int;
	size_t n;

	memset(&res, 0, sizeof(res));
	if (id == NULL || secret == NULL || strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
	                                        strlen(id)) {
		fprintf(stderr, "crtoken-enroll: error: the server's 202 names no request\n");
		goto out;
	}
	printf("certificate request %s is waiting for an administrator's approval\n", id);
	fflush(stdout);
	if (o->no_wait) {
		if (keytext != NULL) {
			char base[128];
			file_safe_name(o->name ? o->name : id, base, sizeof(base));
			snprintf(fn, sizeof(fn), "%s.key", base);
			if (file_write(o->out_dir, fn, keytext, keylen, 0600, o->force, err,
			               sizeof(err)) != 0) {
				fprintf(stderr, "crtoken-enroll: error: %s\n", err);
				goto out;
			}
			printf("  key:         %s/%s (keep it: the certificate will be for it)\n",
			       o->out_dir, fn);
		}
		safe_text(secret, shown, sizeof(shown));
		printf("  poll secret: %s (shown once)\n"
		       "  fetch it:    curl -H 'Authorization: Bearer <poll secret>' "
		       "%s/certificate-requests/%s\n",
		       shown, o->server, id);
		rc = EN_PENDING;
		goto out;
	}
	n = strlen(o->server) + strlen(id) + 64;
	if ((url = malloc(n)) == NULL)
		goto out;
	snprintf(url, n, "%s%scertificate-requests/%s", o->server,
	         o->server[strlen(o->server) - 1] == '/' ? "" : "/", id);
	/* no SA_RESTART: the sleep between checks ends at once */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	interrupted = 0;
	handler = sigaction(SIGINT, &sa, &old_int) == 0;
	for (;;) {
		long waited = (long)(time(NULL) - start);
		const char *state;

		if (interrupted) {
			report_interrupted(o, id, secret, keytext != NULL);
			rc = EN_PENDING;
			goto out;
		}

		if (o->wait_timeout > 0 && waited >= o->wait_timeout) {
			if (tty)
				fputc('\n', stderr);
			fprintf(stderr,
			        "crtoken-enroll: request %s is still pending after %ld s; ask your "
			        "administrator to approve it\n",
			        id, waited);
			rc = EN_PENDING;
			goto out;
		}
		fprintf(stderr, "%swaiting for approval of %s: %ld s (checking every %ld s)%s",
		        tty ? "\r" : "", id, waited, o->poll_interval, tty ? "" : "\n");
		fflush(stderr);
		sleep((unsigned)o->poll_interval);
		if (interrupted)
			continue;
		http_result_clear(&res);
		if (http_get_bearer(url, secret, o->cacert, &res) != 0) {
			fprintf(stderr, "%scrtoken-enroll: %s: %s (trying again)\n", tty ? "\n" : "",
			        o->server, res.error);
			continue;
		}
		if (res.status == 429 || res.status == 503)
			continue; /* busy: the next check */
		if (res.status != 200) {
			if (tty)
				fputc('\n', stderr);
			rc = report_server_error(&res);
			goto out;
		}
		json_decref(p);
		if ((p = json_loadb(res.body, res.len, 0, NULL)) == NULL ||
		    (state = json_string_value(json_object_get(p, "state"))) == NULL) {
			fprintf(stderr, "\ncrtoken-enroll: error: the server's answer has no state\n");
			goto out;
		}
		if (strcmp(state, "pending") == 0)
			continue;
		if (tty)
			fputc('\n', stderr);
		if (strcmp(state, "issued") == 0) {
			json_t *issued = json_object_get(p, "issued");
			if (issued == NULL || (text = json_dumps(issued, JSON_COMPACT)) == NULL) {
				fprintf(stderr, "crtoken-enroll: error: request %s is issued but the "
				                "answer has no certificate\n",
				        id);
				goto out;
			}
			printf("request %s was approved\n", id);
			rc = save(o, key, keytext, keylen, p12pass, text, strlen(text));
			goto out;
		}
		if (strcmp(state, "denied") == 0) {
			const char *why = json_string_value(json_object_get(p, "reason"));
			safe_text(why ? why : "", shown, sizeof(shown));
			fprintf(stderr, "crtoken-enroll: request %s was denied: %s\n", id, shown);
			rc = EN_DENIED;
			goto out;
		}
		if (strcmp(state, "expired") == 0) {
			fprintf(stderr,
			        "crtoken-enroll: request %s expired before an administrator "
			        "decided; ask for a new token\n",
			        id);
			rc = EN_EXPIRED;
			goto out;
		}
		if (strcmp(state, "cancelled") == 0) {
			const char *by = json_string_value(json_object_get(p, "decidedBy"));
			safe_text(by ? by : "-", shown, sizeof(shown));
			fprintf(stderr,
			        "crtoken-enroll: request %s was cancelled (by %s); no certificate "
			        "will be issued for it\n",
			        id, shown);
			rc = EN_CANCELLED;
			goto out;
		}
		safe_text(state, shown, sizeof(shown));
		fprintf(stderr, "crtoken-enroll: error: request %s is %s\n", id, shown);
		goto out;
	}
out:
	if (handler)
		sigaction(SIGINT, &old_int, NULL);
	http_result_clear(&res);
	free(url);
	free(text);
	json_decref(p);
	json_decref(v); /* the poll secret: jansson's allocator wipes nothing here; the
			 * process ends soon after */
	return rc;
}

/* Does the profile format need a PKCS#12 (and so its passphrase)? */
static int profile_needs_p12(const char *format)
{
	const crt_profile_format *f = crt_profile_format_find(format);

	return f != NULL && (f->embeds_p12 || f->p12_form == CRT_P12_LEGACY);
}

/* With --name the file names are known before redeeming: refuse to spend
 * the token when they are taken. */
static int outputs_exist(const struct opts *o)
{
	static const char *const ext[] = {".key", ".crt", "-chain.pem"};
	char base[128], fn[160];
	size_t i;

	file_safe_name(o->name, base, sizeof(base));
	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(fn, sizeof(fn), "%s%s", base, ext[i]);
		if (file_exists(o->out_dir, fn))
			return 1;
	}
	return o->p12 != NULL && access(o->p12, F_OK) == 0;
}

/* Is host (as libcurl's URL parser gives it) this machine's loopback? */
static int host_is_loopback(const char *host)
{
	struct in_addr a4;
	struct in6_addr a6;
	char buf[64];
	size_t n = strlen(host);

	if (strcasecmp(host, "localhost") == 0)
		return 1;
	/* Only a complete dotted quad: "127.evil" is a name, not an address. */
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n >= 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
		memcpy(buf, host + 1, n - 2);
		buf[n - 2] = '\0';
		return inet_pton(AF_INET6, buf, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	}
	return 0;
}

/*
 * https:// anywhere; http:// only to this host (crtokend serves plain HTTP
 * on loopback only, so anything else would send the one-time password in
 * clear to someone who is not crtokend). The URL is parsed by libcurl, the
 * parser that will make the request, so "http://127.0.0.1@evil/" is seen
 * for what it is: a user name "127.0.0.1" at host "evil". A user name or
 * password in the URL is refused outright.
 */
int server_url_ok(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *user = NULL, *pass = NULL, shown[256];
	int ok = 0;

	safe_text(url, shown, sizeof(shown));
	if (u == NULL) {
		fail("error: out of memory");
		return 0;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		fail("error: %s: not a URL (https://host:port)", shown);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PASSWORD, &pass, 0) == CURLUE_OK) {
		fail("error: %s: no user name or password in the server URL "
		     "(--user; the one-time password is asked for)",
		     shown);
		goto out;
	}
	if (strcmp(scheme, "https") == 0)
		ok = 1;
	else if (strcmp(scheme, "http") != 0)
		fail("error: %s: the server URL starts with https://", shown);
	else if (host_is_loopback(host))
		ok = 1;
	else
		fail("error: %s: plain http only to this host; use https://", shown);
out:
	curl_free(scheme);
	curl_free(host);
	curl_free(user);
	curl_free(pass);
	curl_url_cleanup(u);
	return ok;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	/* clang-format off */
	static const struct option longopts[] = {
		{"server", required_argument, NULL, 's'},
		{"token", required_argument, NULL, 't'},
		{"token-file", required_argument, NULL, 'T'},
		{"otp-file", required_argument, NULL, 'o'},
		{"user", required_argument, NULL, 'u'},
		{"out-dir", required_argument, NULL, 'd'},
		{"key-type", required_argument, NULL, 'k'},
		{"p12", required_argument, NULL, 'p'},
		{"name", required_argument, NULL, 'n'},
		{"cn", required_argument, NULL, 'C'},
		{"org", required_argument, NULL, 'O'},
		{"ou", required_argument, NULL, 'U'},
		{"cacert", required_argument, NULL, 'a'},
		{"password", no_argument, NULL, 'P'},
		{"no-login", no_argument, NULL, 'L'},
		{"force", no_argument, NULL, 'f'},
		{"profile", required_argument, NULL, 'R'},
		{"csr", required_argument, NULL, 'c'},
		{"attestation", required_argument, NULL, 'A'},
		{"no-wait", no_argument, NULL, 'W'},
		{"poll-interval", required_argument, NULL, 'I'},
		{"wait-timeout", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	/* clang-format on */
	int c;

	memset(o, 0, sizeof(*o));
	o->out_dir = ".";
	o->poll_interval = 10;
	o->key_type = "ec-p256";
	while ((c = getopt_long(argc, argv, "s:t:u:d:k:p:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->server = optarg;
			break;
		case 't':
			crt_strfree_secret(o->token);
			if ((o->token = strdup(optarg)) == NULL)
				return -1;
			/* Out of the process list from now on (it was there until now). */
			explicit_bzero(optarg, strlen(optarg));
			fail("warning: a token on the command line is visible to other users "
			     "of this machine (ps, shell history); use --token-file, "
			     "CRTOKEN_TOKEN or the prompt");
			break;
		case 'T':
			o->token_file = optarg;
			break;
		case 'o':
			o->otp_file = optarg;
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'd':
			o->out_dir = optarg;
			break;
		case 'k':
			o->key_type = optarg;
			o->key_type_given = 1;
			break;
		case 'c':
			o->csr_file = optarg;
			break;
		case 'A':
			o->attestation_file = optarg;
			break;
		case 'p':
			o->p12 = optarg;
			break;
		case 'n':
			o->name = optarg;
			break;
		case 'C':
			o->cn = optarg;
			break;
		case 'O':
			o->org = optarg;
			break;
		case 'U':
			o->ou = optarg;
			break;
		case 'a':
			o->cacert = optarg;
			break;
		case 'P':
			o->ask_password = 1;
			break;
		case 'L':
			o->no_login = 1;
			break;
		case 'f':
			o->force = 1;
			break;
		case 'R':
			o->profile = optarg;
			break;
		case 'W':
			o->no_wait = 1;
			break;
		case 'I': {
			char *end;
			o->poll_interval = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || o->poll_interval < 1 ||
			    o->poll_interval > 3600) {
				fail("error: --poll-interval takes 1..3600 seconds");
				return -1;
			}
			break;
		}
		case 'D': {
			int64_t d;
			if (crt_duration_parse(optarg, &d) != CRT_OK || d < 1) {
				fail("error: --wait-timeout takes a duration (30m, 2h, seconds)");
				return -1;
			}
			o->wait_timeout = (long)d;
			break;
		}
		case 'h':
			usage(stdout);
			exit(EN_OK);
		case 'V':
			puts("crtoken-enroll 0.1");
			exit(EN_OK);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc || o->server == NULL) {
		usage(stderr);
		return -1;
	}
	if (!server_url_ok(o->server))
		return -1;
	if (o->attestation_file != NULL && o->csr_file == NULL) {
		fail("error: --attestation needs --csr: an attestation is of a key made on the "
		     "device, and so is its CSR");
		return -1;
	}
	if (o->csr_file != NULL && (o->key_type_given || o->p12 != NULL || o->profile != NULL)) {
		fail("error: --csr: the key stays where the CSR was made, so --key-type, --p12 "
		     "and --profile do not apply");
		return -1;
	}
	if (o->token_file != NULL && o->token != NULL) {
		fail("error: --token and --token-file: give the token once");
		return -1;
	}
	if (o->token_file != NULL && o->otp_file != NULL && strcmp(o->token_file, "-") == 0 &&
	    strcmp(o->otp_file, "-") == 0) {
		fail("error: --token-file - and --otp-file -: only one of them can read stdin");
		return -1;
	}
	if (o->token_file != NULL) {
		if ((o->token = secret_from_file(o->token_file, "token")) == NULL)
			return -1;
	} else if (o->token == NULL && getenv("CRTOKEN_TOKEN") != NULL) {
		if ((o->token = strdup(getenv("CRTOKEN_TOKEN"))) == NULL)
			return -1;
	} else if (o->token == NULL &&
	           (o->token = prompt_secret("Certificate request token: ")) == NULL) {
		fail("error: no token: give --token-file FILE, set CRTOKEN_TOKEN, or run on a "
		     "terminal to be asked");
		return -1;
	}
	if (o->profile != NULL && crt_profile_format_find(o->profile) == NULL) {
		fail("error: unknown profile format %s", o->profile);
		return -1;
	}
	if (o->user == NULL)
		o->user = default_user();
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct http_result res;
	EVP_PKEY *key = NULL;
	char *csr = NULL, *body = NULL, *url = NULL, *secret = NULL, *p12pass = NULL;
	char *keytext = NULL, *att = NULL;
	size_t keylen = 0, n;
	crt_status s;
	int rc = EN_SYSTEM, logged_in = 0;

	memset(&res, 0, sizeof(res));
	if (argc > 1 && strcmp(argv[1], "renew") == 0)
		return renew_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "list") == 0)
		return list_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "revoke") == 0)
		return revoke_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "pkcs12") == 0)
		return pkcs12_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "cancel") == 0)
		return cancel_main(argc - 1, argv + 1);
	if (parse_args(argc, argv, &o) != 0) {
		crt_strfree_secret(o.token);
		return EN_USAGE;
	}
	switch (crt_token_check_format(o.token)) {
	case CRT_OK:
		break;
	case CRT_E_TOKEN_MISTYPED:
		fail("error: token_mistyped: %s", message_for("token_mistyped"));
		rc = EN_REFUSED;
		goto out;
	default:
		fail("error: token_malformed: %s", message_for("token_malformed"));
		rc = EN_REFUSED;
		goto out;
	}
	if (access(o.out_dir, W_OK) != 0) {
		fail("error: cannot write to %s", o.out_dir);
		rc = EN_SYSTEM;
		goto out;
	}
	if (o.p12 != NULL) {
		char dir[4096];
		const char *file;

		split_path(o.p12, dir, sizeof(dir), &file);
		if (*file == '\0' || access(dir, W_OK) != 0) {
			fail("error: cannot write %s", o.p12);
			rc = EN_SYSTEM;
			goto out;
		}
	}
	if (o.name != NULL && !o.force && outputs_exist(&o)) {
		fail("error: %s/%s.* exists (use --force to replace it)", o.out_dir, o.name);
		rc = EN_USAGE;
		goto out;
	}
	if ((o.p12 != NULL || profile_needs_p12(o.profile)) &&
	    (p12pass = get_secret("CRTOKEN_P12_PASSPHRASE", "PKCS#12 passphrase: ")) == NULL) {
		fail("error: %s",
		     "no PKCS#12 passphrase (no terminal; set CRTOKEN_P12_PASSPHRASE)");
		rc = EN_USAGE;
		goto out;
	}
	if (p12pass != NULL && *p12pass == '\0') {
		fail("error: %s", "the PKCS#12 passphrase must not be empty");
		rc = EN_USAGE;
		goto out;
	}
	if (o.csr_file != NULL) {
		if ((csr = text_from_file(o.csr_file, "CSR")) == NULL ||
		    (o.attestation_file != NULL &&
		     (att = text_from_file(o.attestation_file, "PEM attestation")) == NULL)) {
			rc = EN_USAGE;
			goto out;
		}
		if ((body = request_body(&o, csr, att)) == NULL) {
			fail("error: %s", "cannot build the request");
			goto out;
		}
	} else if ((s = crt_key_generate(o.key_type, &key)) != CRT_OK) {
		if (s == CRT_E_KEY_TYPE)
			fail("error: unknown key type %s", o.key_type);
		else
			fail("error: key generation failed (%s)", o.key_type);
		rc = s == CRT_E_KEY_TYPE ? EN_USAGE : EN_SYSTEM;
		goto out;
	}
	if (body == NULL &&
	    ((keytext = key_pem(key, &keylen)) == NULL ||
	     crt_csr_make(key, o.user ? o.user : "crtoken-enroll", &csr) != CRT_OK ||
	     (body = request_body(&o, csr, NULL)) == NULL)) {
		fail("error: %s", "cannot build the request");
		goto out;
	}
	n = strlen(o.server) + strlen(o.token) + 64;
	if ((url = malloc(n)) == NULL)
		goto out;
	snprintf(url, n, "%s%sclient-certificates/token/%s", o.server,
	         o.server[strlen(o.server) - 1] == '/' ? "" : "/", o.token);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		goto out;

	/* Log in right away when the secret is scripted; else only when asked. */
	if (!o.no_login && (getenv("CRTOKEN_OTP") != NULL || o.otp_file != NULL)) {
		if (o.user == NULL || (secret = login_secret(&o)) == NULL)
			goto nologin;
		logged_in = 1;
	}
	for (;;) {
		if (http_post_json(url, body, logged_in ? o.user : NULL, secret, o.cacert, &res) !=
		    0) {
			fprintf(stderr, "crtoken-enroll: error: %s: %s\n", o.server, res.error);
			goto out;
		}
		if (res.status == 401 && !logged_in && !o.no_login &&
		    strstr(res.body, "\"authentication_required\"") != NULL) {
			if (o.user == NULL || (secret = login_secret(&o)) == NULL)
				goto nologin;
			logged_in = 1;
			http_result_clear(&res);
			continue;
		}
		break;
	}
	if (res.status == 202) {
		rc = await_approval(&o, key, keytext, keylen, p12pass, &res);
		goto out;
	}
	if (res.status != 201) {
		rc = report_server_error(&res);
		goto out;
	}
	rc = save(&o, key, keytext, keylen, p12pass, res.body, res.len);
	goto out;
nologin:
	fail("error: %s", "the server wants a login: no terminal to ask for the one-time "
	                  "password (set CRTOKEN_OTP) or no user name (--user)");
	rc = EN_USAGE;
out:
	http_result_clear(&res);
	crt_strfree_secret(secret);
	crt_strfree_secret(p12pass);
	crt_freezero(keytext, keylen);
	crt_strfree_secret(url); /* holds the token */
	crt_strfree_secret(o.token);
	free(body);
	free(csr);
	free(att);
	EVP_PKEY_free(key);
	curl_global_cleanup();
	return rc;
}

/*
 * config.c — the one INI configuration file every component reads
 * (parsed with inih). Unknown sections and keys are errors, so a typo never
 * silently falls back to a default. Relative paths are resolved against the
 * directory that holds the file, so an instance directory is self-contained.
 */
#define _GNU_SOURCE /* secure_getenv */
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_cfssl.h"
#include "internal.h"
#include "rules/events.h"
#include "rules/attest.h"
#include "rules/profile.h"

enum key_type { K_PATH, K_STR, K_INT, K_BOOL, K_DURATION, K_DURABILITY, K_LONG, K_PIN_MAC };

static const struct key {
	const char *section, *name;
	enum key_type type;
	size_t off;
	const char *def; /* default, parsed like a value from the file; NULL = unset */
	long long min, max;
} keys[] = {
#define F(field) offsetof(crt_config, field)
	{"store", "backend", K_STR, F(backend), "sqlite", 0, 0},
	{"store", "database", K_PATH, F(database), "crtoken.db", 0, 0},
	{"store", "durability", K_DURABILITY, F(durability), "full", 0, 0},
	{"store", "busy_timeout_ms", K_INT, F(busy_timeout_ms), "5000", 0, 600000},
	{"store", "conninfo", K_STR, F(conninfo), NULL, 0, 0},
	{"store", "read_conninfo", K_STR, F(read_conninfo), NULL, 0, 0},
	{"store", "statement_timeout_ms", K_INT, F(statement_timeout_ms), "2000", 0, 600000},
	{"store", "write_timeout_ms", K_INT, F(write_timeout_ms), "3000", 0, 600000},
	{"store", "max_staleness", K_INT, F(max_staleness), "0", 0, 86400 * 30},
	{"ca", "certificate", K_PATH, F(ca_cert), "ca.pem", 0, 0},
	{"ca", "key", K_PATH, F(ca_key), "ca.key", 0, 0},
	{"ca", "chain", K_PATH, F(ca_chain), "chain.pem", 0, 0},
	{"ca", "pin_file", K_PATH, F(ca_pin_file), NULL, 0, 0},
	{"ca", "module_path", K_PATH, F(ca_module), NULL, 0, 0},
	{"ca", "type", K_STR, F(ca_type), NULL, 0, 0},
	{"ca", "url", K_STR, F(ca_url), NULL, 0, 0},
	{"ca", "auth_key_file", K_PATH, F(ca_auth_key_file), NULL, 0, 0},
	{"ca", "profile", K_STR, F(ca_profile), NULL, 0, 0},
	{"ca", "label", K_STR, F(ca_label), NULL, 0, 0},
	{"ca", "timeout_ms", K_INT, F(ca_timeout_ms), "10000", 100, 600000},
	{"ca", "ca_file", K_PATH, F(ca_tls_ca_file), NULL, 0, 0},
	{"ca", "cert_days", K_INT, F(cert_days), "365", 1, 36500},
	{"ca", "clock_skew_seconds", K_INT, F(clock_skew_seconds), "300", 0, 86400},
	{"ca", "crl_days", K_INT, F(crl_days), "7", 1, 3650},
	{"ca", "crl_file", K_PATH, F(crl_file), "crl.pem", 0, 0},
	{"ca", "crl_url", K_STR, F(crl_url), NULL, 0, 0},
	{"ca", "ca_issuers_url", K_STR, F(ca_issuers_url), NULL, 0, 0},
	{"ca", "ocsp_url", K_STR, F(ocsp_url), NULL, 0, 0},
	{"tokens", "lifetime", K_DURATION, F(token_lifetime), "7d", 60, 0},
	{"tokens", "max_lifetime", K_DURATION, F(token_max_lifetime), "90d", 60, 0},
	{"tokens", "purge_after", K_DURATION, F(token_purge_after), NULL, 86400, 0},
	{"renewal", "enabled", K_BOOL, F(renew_enabled), "no", 0, 0},
	{"renewal", "window_days", K_INT, F(renew_window_days), "30", 1, 3650},
	{"renewal", "grace_days", K_INT, F(renew_grace_days), "7", 0, 365},
	{"renewal", "allow_same_key", K_BOOL, F(renew_allow_same_key), "no", 0, 0},
	{"renewal", "require_otp", K_BOOL, F(renew_require_otp), "no", 0, 0},
	{"generate", "keep_pkcs12", K_BOOL, F(keep_pkcs12), "no", 0, 0},
	{"maintenance", "enabled", K_BOOL, F(maintain_enabled), "yes", 0, 0},
	{"maintenance", "interval", K_DURATION, F(maintain_interval), "1h", 60, 0},
	{"otp", "key_file", K_PATH, F(otp_key_file), "otp.key", 0, 0},
	{"otp", "issuer", K_STR, F(otp_issuer), "crtoken", 0, 0},
	{"otp", "algorithm", K_STR, F(otp_algorithm), "SHA1", 0, 0},
	{"otp", "digits", K_INT, F(otp_digits), "6", 6, 8},
	{"otp", "period", K_INT, F(otp_period), "30", 10, 300},
	{"otp", "window", K_INT, F(otp_window), "1", 0, 10},
	{"otp", "max_failures", K_INT, F(otp_max_failures), "5", 1, 1000},
	{"otp", "lockout_seconds", K_INT, F(otp_lockout_seconds), "300", 1, 86400 * 30},
	{"otp", "lockout_max_seconds", K_INT, F(otp_lockout_max_seconds), "86400", 1, 86400 * 365},
	{"server", "listen", K_STR, F(listen), "127.0.0.1:8443", 0, 0},
	{"server", "tls_cert", K_PATH, F(tls_cert), NULL, 0, 0},
	{"server", "tls_key", K_PATH, F(tls_key), NULL, 0, 0},
	{"server", "plain_http", K_BOOL, F(plain_http), "no", 0, 0},
	{"server", "require_login", K_BOOL, F(require_login), "yes", 0, 0},
	{"server", "pam_service", K_STR, F(pam_service), "crtoken", 0, 0},
	{"server", "max_body", K_LONG, F(max_body), "65536", 1024, 16 * 1024 * 1024},
	{"server", "rate_limit_failures", K_INT, F(rate_limit_failures), "5", 1, 100000},
	{"server", "rate_limit_seconds", K_INT, F(rate_limit_seconds), "60", 1, 86400},
	{"server", "max_connections", K_INT, F(max_connections), "1024", 4, 16384},
	{"server", "max_connections_per_address", K_INT, F(max_connections_per_address), "32", 1,
	 16384},
	{"server", "request_timeout", K_INT, F(request_timeout), "30", 1, 3600},
	{"server", "max_logins", K_INT, F(max_logins), "8", 1, 1024},
	{"network", "type", K_STR, F(net_type), "wifi", 0, 0},
	{"network", "ssid", K_STR, F(net_ssid), NULL, 0, 0},
	{"network", "ca_file", K_PATH, F(net_ca_file), NULL, 0, 0},
	{"network", "server_names", K_STR, F(net_server_names), NULL, 0, 0},
	{"network", "identity", K_STR, F(net_identity), NULL, 0, 0},
	{"network", "name", K_STR, F(net_name), "crtoken", 0, 0},
	{"network", "mobileconfig_signer_cert", K_PATH, F(net_mc_signer_cert), NULL, 0, 0},
	{"network", "mobileconfig_signer_key", K_PATH, F(net_mc_signer_key), NULL, 0, 0},
	{"network", "mobileconfig_signer_chain", K_PATH, F(net_mc_signer_chain), NULL, 0, 0},
	{"ocsp", "signer_cert", K_PATH, F(ocsp_signer_cert), NULL, 0, 0},
	{"ocsp", "signer_key", K_PATH, F(ocsp_signer_key), NULL, 0, 0},
	{"ocsp", "validity", K_DURATION, F(ocsp_validity), "1h", 60, 0},
	{"portal", "enabled", K_BOOL, F(portal_enabled), "yes", 0, 0},
	{"portal", "title", K_STR, F(portal_title), "Network certificate", 0, 0},
	{"portal", "organization", K_STR, F(portal_organization), NULL, 0, 0},
	{"portal", "help", K_STR, F(portal_help), NULL, 0, 0},
	{"portal", "formats", K_STR, F(portal_formats),
	 "wpa_supplicant,networkmanager,nmcli,windows,netsh,mobileconfig,eap-config", 0, 0},
	{"events", "expiring_window", K_DURATION, F(events_expiring_window), "14d", 3600, 0},
	{"events", "lease", K_DURATION, F(events_lease), "60s", 5, 0},
	{"events", "poll_interval", K_DURATION, F(events_poll), "30s", 1, 0},
	{"events", "batch", K_INT, F(events_batch), "50", 1, 1000},
	{"events", "node", K_STR, F(events_node), NULL, 0, 0},
	{"attestation", "trusted_roots", K_PATH, F(attest_roots), NULL, 0, 0},
	{"import", "trusted_issuers", K_PATH, F(import_issuers), NULL, 0, 0},
	{"attestation", "mode", K_STR, F(attest_mode), "ignore", 0, 0},
	{"attestation", "pin_policy", K_STR, F(attest_pin_policy), NULL, 0, 0},
	{"attestation", "touch_policy", K_STR, F(attest_touch_policy), NULL, 0, 0},
	{"attestation", "min_firmware", K_STR, F(attest_min_firmware), NULL, 0, 0},
	{"radius", "pin_mac", K_PIN_MAC, F(radius_pin_mac), "off", 0, 0},
	{"radius", "max_session_timeout", K_INT, F(radius_max_session_timeout), "0", 0,
	 86400 * 366},
	{"coa", "secret_file", K_PATH, F(coa_secret_file), NULL, 0, 0},
	{"coa", "nas_file", K_PATH, F(coa_nas_file), NULL, 0, 0},
	{"coa", "port", K_INT, F(coa_port), "3799", 1, 65535},
	{"coa", "timeout_ms", K_INT, F(coa_timeout_ms), "1000", 10, 30000},
	{"coa", "retries", K_INT, F(coa_retries), "1", 0, 10},
	{"requests", "pending_lifetime", K_DURATION, F(request_pending_lifetime), "7d", 60, 0},
#undef F
};

/* The keys of a [ca NAME] section: the same file keys as [ca]. The
 * issuance and CRL timing keys (cert_days, clock_skew_seconds, crl_days)
 * apply to every CA and are set in [ca] only. */
static const struct ca_key {
	const char *name;
	size_t off;
} ca_keys[] = {
#define C(field) offsetof(crt_ca_config, field)
	{"certificate", C(cert)}, {"key", C(key)},	     {"chain", C(chain)},
	{"pin_file", C(pin_file)}, {"module_path", C(module)}, {"crl_file", C(crl_file)},
#undef C
};
#define CONFIG_MAX_CAS 16

/* inih reads a line into a 200-byte buffer: 198 bytes, '\n' and NUL. */
#define CONFIG_MAX_LINE 198
#define CONFIG_MAX_LINE_TEXT "198"
#define CONFIG_MAX_SIZE (256 * 1024)

struct parse_state {
	crt_config *cfg;
	char *err;
	size_t errlen;
	int failed;
	unsigned char seen[sizeof(keys) / sizeof(keys[0])];
};

static int parse_bool(const char *v, int *out)
{
	static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static char *resolve_path(const crt_config *cfg, const char *v)
{
	if (v[0] == '/' || cfg->dir == NULL)
		return strdup(v);
	size_t n = strlen(cfg->dir) + strlen(v) + 2;
	char *p = malloc(n);
	if (p != NULL)
		snprintf(p, n, "%s/%s", cfg->dir, v);
	return p;
}

/*
 * Whether a libpq connection string (keyword = value pairs, or a
 * postgresql:// URI) carries a password: a password keyword anywhere, or a
 * user:password@ in a URI. Errs on the side of refusing (a quoted value that
 * merely contains "password=" is refused too).
 */
int conninfo_has_password(const char *ci)
{
	if (ci == NULL)
		return 0;
	if (strncmp(ci, "postgresql://", 13) == 0 || strncmp(ci, "postgres://", 11) == 0) {
		const char *auth = strstr(ci, "://") + 3;
		size_t alen = strcspn(auth, "/?");
		const char *at = memchr(auth, '@', alen);
		if (at != NULL && memchr(auth, ':', (size_t)(at - auth)) != NULL)
			return 1;
		return strcasestr(ci, "password") != NULL;
	}
	for (const char *p = ci; (p = strcasestr(p, "password")) != NULL; p += 8) {
		const char *q = p + 8;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q == '=')
			return 1;
	}
	return 0;
}

/* Store value v for key k; returns an error message or NULL. */
static const char *set_value(crt_config *cfg, const struct key *k, const char *v)
{
	void *field = (char *)cfg + k->off;
	char *end;
	long long n;
	int b;
	int64_t d;

	switch (k->type) {
	case K_PATH:
	case K_STR: {
		char **s = field;
		if (*v == '\0')
			return k->type == K_PATH ? "empty path" : "empty value";
		/* [ca] key may be a PKCS#11 URI rather than a file. */
		int uri = k->off == offsetof(crt_config, ca_key) && ca_is_pkcs11_uri(v);
		char *copy = k->type == K_PATH && !uri ? resolve_path(cfg, v) : strdup(v);
		if (copy == NULL)
			return "out of memory";
		free(*s);
		*s = copy;
		return NULL;
	}
	case K_INT:
	case K_LONG:
		errno = 0;
		n = strtoll(v, &end, 10);
		if (errno || end == v || *end != '\0')
			return "not an integer";
		if (n < k->min || n > k->max)
			return "out of range";
		if (k->type == K_INT)
			*(int *)field = (int)n;
		else
			*(long *)field = (long)n;
		return NULL;
	case K_BOOL:
		if (parse_bool(v, &b) != 0)
			return "not a boolean (yes/no)";
		*(int *)field = b;
		return NULL;
	case K_DURATION:
		if (crt_duration_parse(v, &d) != CRT_OK)
			return "not a duration (e.g. 7d, 12h, 30m)";
		if (d < k->min)
			return "too short";
		*(int64_t *)field = d;
		return NULL;
	case K_PIN_MAC:
		if (strcasecmp(v, "off") == 0)
			*(int *)field = CRT_PIN_MAC_OFF;
		else if (strcasecmp(v, "first") == 0)
			*(int *)field = CRT_PIN_MAC_FIRST;
		else
			return "must be off or first";
		return NULL;
	case K_DURABILITY:
		if (strcasecmp(v, "full") == 0)
			*(int *)field = CRT_DURABILITY_FULL;
		else if (strcasecmp(v, "normal") == 0)
			*(int *)field = CRT_DURABILITY_NORMAL;
		else
			return "must be full or normal";
		return NULL;
	}
	return "bad key type";
}

/* ---- [events.sink NAME] sections: one crt_event_sink each ---- */

#define SINK_PREFIX "events.sink "
#define SINK_MAX 16

enum sink_key_type { S_STR, S_PATH, S_DURATION, S_BOOL, S_TYPE };
static const struct sink_key {
	const char *name;
	enum sink_key_type type;
	size_t off;
} sink_keys[] = {
#define S(field) offsetof(crt_event_sink, field)
	{"type", S_TYPE, S(type)},
	{"events", S_STR, S(events)},
	{"timeout", S_DURATION, S(timeout)},
	{"retry_base", S_DURATION, S(retry_base)},
	{"retry_max", S_DURATION, S(retry_max)},
	{"give_up_after", S_DURATION, S(give_up_after)},
	{"url", S_STR, S(url)},
	{"secret_file", S_PATH, S(secret_file)},
	{"ca_file", S_PATH, S(ca_file)},
	{"smtp_url", S_STR, S(smtp_url)},
	{"starttls", S_BOOL, S(starttls)},
	{"from", S_STR, S(from)},
	{"to", S_STR, S(to)},
	{"to_owner", S_BOOL, S(to_owner)},
	{"subject", S_STR, S(subject)},
	{"body", S_STR, S(body)},
	{"command", S_STR, S(command)},
#undef S
};
#define NSINK_KEYS (sizeof(sink_keys) / sizeof(sink_keys[0]))

static void sink_clear(crt_event_sink *s)
{
	free(s->name);
	for (size_t i = 0; i < NSINK_KEYS; i++)
		if (sink_keys[i].type == S_STR || sink_keys[i].type == S_PATH)
			free(*(char **)((char *)s + sink_keys[i].off));
	memset(s, 0, sizeof(*s));
}

/* A sink name: 1-64 of A-Z a-z 0-9 - _ (it is stored with each delivery). */
static int sink_name_ok(const char *n)
{
	size_t len = strlen(n);
	if (len == 0 || len > 64)
		return 0;
	for (const char *p = n; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return 0;
	return 1;
}

/* The sink of section name (made on first sight), or NULL with msg set. */
static crt_event_sink *sink_for(crt_config *cfg, const char *name, const char **msg)
{
	for (size_t i = 0; i < cfg->event_nsinks; i++)
		if (strcmp(cfg->event_sinks[i].name, name) == 0)
			return &cfg->event_sinks[i];
	if (!sink_name_ok(name)) {
		*msg = "sink name must be 1-64 of A-Z a-z 0-9 - _";
		return NULL;
	}
	if (cfg->event_nsinks == SINK_MAX) {
		*msg = "too many sinks (at most 16)";
		return NULL;
	}
	crt_event_sink *n = realloc(cfg->event_sinks, (cfg->event_nsinks + 1) * sizeof(*n));
	if (n == NULL) {
		*msg = "out of memory";
		return NULL;
	}
	cfg->event_sinks = n;
	crt_event_sink *s = &n[cfg->event_nsinks];
	memset(s, 0, sizeof(*s));
	if ((s->name = strdup(name)) == NULL) {
		*msg = "out of memory";
		return NULL;
	}
	s->timeout = 10;
	s->retry_base = 10;
	s->retry_max = 3600;
	s->give_up_after = 86400;
	cfg->event_nsinks++;
	return s;
}

static const char *sink_value(crt_config *cfg, const char *section, const char *name,
			      const char *v)
{
	const char *msg = NULL;
	crt_event_sink *s = sink_for(cfg, section + strlen(SINK_PREFIX), &msg);
	int64_t d;
	int b;

	if (s == NULL)
		return msg;
	for (size_t i = 0; i < NSINK_KEYS; i++) {
		const struct sink_key *k = &sink_keys[i];
		void *field = (char *)s + k->off;
		if (strcmp(k->name, name) != 0)
			continue;
		switch (k->type) {
		case S_STR:
		case S_PATH: {
			if (*v == '\0')
				return "empty value";
			char *copy = k->type == S_PATH ? resolve_path(cfg, v) : strdup(v);
			if (copy == NULL)
				return "out of memory";
			if (k->off == offsetof(crt_event_sink, body)) { /* "\n" is a line break */
				char *w = copy;
				for (const char *q = copy; *q; q++)
					if (q[0] == '\\' && q[1] == 'n')
						*w++ = '\n', q++;
					else
						*w++ = *q;
				*w = '\0';
			}
			free(*(char **)field);
			*(char **)field = copy;
			return NULL;
		}
		case S_DURATION:
			if (crt_duration_parse(v, &d) != CRT_OK || d < 1)
				return "not a duration (e.g. 10s, 5m, 1d)";
			*(int64_t *)field = d;
			return NULL;
		case S_BOOL:
			if (parse_bool(v, &b) != 0)
				return "not a boolean (yes/no)";
			*(int *)field = b;
			return NULL;
		case S_TYPE:
			if (strcmp(v, "webhook") == 0)
				s->type = CRT_SINK_WEBHOOK;
			else if (strcmp(v, "email") == 0)
				s->type = CRT_SINK_EMAIL;
			else if (strcmp(v, "command") == 0)
				s->type = CRT_SINK_COMMAND;
			else
				return "must be webhook, email or command";
			return NULL;
		}
	}
	return "unknown key";
}

/* The rules every sink obeys once its section is read; msg gets why not. */
static int sink_valid(const crt_event_sink *s, char *msg, size_t len)
{
	char bad[80];
	const char *why;

	if (s->type == 0)
		return snprintf(msg, len, "needs type = webhook, email or command"), 0;
	if (s->events != NULL && event_filter_check(s->events, bad, sizeof(bad)) != 0)
		return snprintf(msg, len, "events: unknown event type \"%s\"", bad), 0;
	if (s->retry_base > s->retry_max)
		return snprintf(msg, len, "retry_base is longer than retry_max"), 0;
	switch (s->type) {
	case CRT_SINK_WEBHOOK:
		if (s->url == NULL || s->secret_file == NULL)
			return snprintf(msg, len, "a webhook needs url and secret_file"), 0;
		if (event_url_check(s->url, &why) != 0)
			return snprintf(msg, len, "url %s", why), 0;
		break;
	case CRT_SINK_EMAIL:
		if (s->smtp_url == NULL || s->from == NULL || s->subject == NULL || s->body == NULL)
			return snprintf(msg, len, "e-mail needs smtp_url, from, subject and body"), 0;
		if (s->to == NULL && !s->to_owner)
			return snprintf(msg, len, "e-mail needs to = ADDRESSES and/or to_owner = yes"), 0;
		if (strncmp(s->smtp_url, "smtps://", 8) != 0 && strncmp(s->smtp_url, "smtp://", 7) != 0)
			return snprintf(msg, len, "smtp_url must be smtp:// or smtps://"), 0;
		if (strncmp(s->smtp_url, "smtp://", 7) == 0 && !s->starttls &&
		    !event_url_loopback(s->smtp_url))
			return snprintf(msg, len,
					"smtp_url: smtp:// to a relay off this machine needs "
					"starttls = yes (or use smtps://)"), 0;
		if (event_template_check(s->subject, bad, sizeof(bad)) != 0)
			return snprintf(msg, len, "subject: unknown placeholder %s", bad), 0;
		if (event_template_check(s->body, bad, sizeof(bad)) != 0)
			return snprintf(msg, len, "body: unknown placeholder %s", bad), 0;
		break;
	case CRT_SINK_COMMAND:
		if (s->command == NULL || s->command[0] != '/')
			return snprintf(msg, len, "command must start with an absolute path"), 0;
		break;
	}
	return 1;
}

int ca_name_valid(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > CRT_CA_NAME_MAX || name[0] == '-' || name[0] == '_' ||
	    strcmp(name, CRT_CA_IMPORTED) == 0) /* reserved: uploaded certificates */
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-' || name[i] == '_'))
			return 0;
	return 1;
}

/* One key of a [ca NAME] section; an error message or NULL. */
static const char *on_ca_key(crt_config *cfg, const char *cname, const char *name,
			     const char *value)
{
	crt_ca_config *ca = NULL;
	size_t cap;

	if (!ca_name_valid(cname) && strcmp(cname, CRT_CA_IMPORTED) != 0)
		return "bad CA name (1-32 of a-z, 0-9, '-', '_', starting with a letter or "
		       "digit)";
	if (strcmp(cname, CRT_CA_DEFAULT) == 0)
		return "the default CA is the [ca] section";
	if (strcmp(cname, CRT_CA_IMPORTED) == 0)
		return "the name imported is reserved (uploaded certificates)";
	for (size_t i = 0; i < cfg->ncas; i++)
		if (strcmp(cfg->cas[i].name, cname) == 0)
			ca = &cfg->cas[i];
	if (ca == NULL) {
		if (cfg->ncas >= CONFIG_MAX_CAS)
			return "too many CAs (at most 16 [ca NAME] sections)";
		cap = cfg->ncas;
		if (array_grow(&cfg->cas, &cap, cfg->ncas, sizeof(*cfg->cas)) != 0)
			return "out of memory";
		ca = &cfg->cas[cfg->ncas];
		memset(ca, 0, sizeof(*ca));
		if ((ca->name = strdup(cname)) == NULL)
			return "out of memory";
		cfg->ncas++;
	}
	if (strcmp(name, "cert_days") == 0 || strcmp(name, "clock_skew_seconds") == 0 ||
	    strcmp(name, "crl_days") == 0)
		return "applies to every CA: set it in [ca]";
	if (strcmp(name, "timeout_ms") == 0) { /* a remote CA's ([ca] type = cfssl) */
		char *end;
		errno = 0;
		long long t = strtoll(value, &end, 10);
		if (errno || end == value || *end != '\0')
			return "not an integer";
		if (t < 100 || t > 600000)
			return "out of range";
		ca->timeout_ms = (int)t;
		return NULL;
	}
	static const struct {
		const char *name;
		size_t off;
		int path;
	} remote_keys[] = {
		{"type", offsetof(crt_ca_config, type), 0},
		{"url", offsetof(crt_ca_config, url), 0},
		{"auth_key_file", offsetof(crt_ca_config, auth_key_file), 1},
		{"profile", offsetof(crt_ca_config, profile), 0},
		{"label", offsetof(crt_ca_config, label), 0},
		{"ca_file", offsetof(crt_ca_config, tls_ca_file), 1},
		{"crl_url", offsetof(crt_ca_config, crl_url), 0},
		{"ca_issuers_url", offsetof(crt_ca_config, ca_issuers_url), 0},
		{"ocsp_url", offsetof(crt_ca_config, ocsp_url), 0},
	};
	for (size_t i = 0; i < sizeof(remote_keys) / sizeof(remote_keys[0]); i++) {
		if (strcmp(remote_keys[i].name, name) != 0)
			continue;
		char **f = (char **)((char *)ca + remote_keys[i].off);
		if (*value == '\0')
			return remote_keys[i].path ? "empty path" : "empty value";
		char *copy = remote_keys[i].path ? resolve_path(cfg, value) : strdup(value);
		if (copy == NULL)
			return "out of memory";
		free(*f);
		*f = copy;
		return NULL;
	}
	for (size_t i = 0; i < sizeof(ca_keys) / sizeof(ca_keys[0]); i++) {
		if (strcmp(ca_keys[i].name, name) != 0)
			continue;
		char **f = (char **)((char *)ca + ca_keys[i].off);
		if (*value == '\0')
			return "empty path";
		int uri = ca_keys[i].off == offsetof(crt_ca_config, key) && ca_is_pkcs11_uri(value);
		char *copy = uri ? strdup(value) : resolve_path(cfg, value);
		if (copy == NULL)
			return "out of memory";
		free(*f);
		*f = copy;
		return NULL;
	}
	return "unknown key";
}

/* A key of a [profile NAME] section: the profile (made on its first key)
 * takes it (rules/profile.c). */
static int on_profile_key(struct parse_state *ps, const char *section, const char *name,
			  const char *value)
{
	crt_config *cfg = ps->cfg;
	const char *pname = section + strlen("profile");
	char why[400];
	size_t i, cap;

	while (*pname == ' ')
		pname++;
	if (!certprof_name_ok(pname)) {
		snprintf(ps->err, ps->errlen,
			 "%s: [%s]: a profile name is 1-64 of a-z 0-9 - _ ([profile NAME])",
			 cfg->path, section);
		ps->failed = 1;
		return 0;
	}
	for (i = 0; i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, pname) == 0)
			break;
	if (i == cfg->nprofiles) {
		cap = cfg->nprofiles;
		if (cfg->nprofiles >= 256) {
			snprintf(ps->err, ps->errlen, "%s: more than 256 profiles", cfg->path);
			ps->failed = 1;
			return 0;
		}
		if (array_grow(&cfg->profiles, &cap, cfg->nprofiles, sizeof(*cfg->profiles)) != 0 ||
		    certprof_init(&cfg->profiles[cfg->nprofiles], pname) != 0) {
			snprintf(ps->err, ps->errlen, "out of memory");
			ps->failed = 1;
			return 0;
		}
		cfg->nprofiles++;
	}
	if (certprof_set(&cfg->profiles[i], name, value, why, sizeof(why)) != 0) {
		snprintf(ps->err, ps->errlen, "%s: [%s] %s", cfg->path, section, why);
		ps->failed = 1;
		return 0;
	}
	return 1;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	if (ps->failed)
		return 0;
	if (strncmp(section, "ca ", 3) == 0) {
		const char *msg = on_ca_key(ps->cfg, section + 3, name, value);
		if (msg == NULL)
			return 1;
		snprintf(ps->err, ps->errlen, "%s: [%s] %s = \"%s\": %s", ps->cfg->path, section,
			 name, value, msg);
		ps->failed = 1;
		return 0;
	}
	if (strncmp(section, "profile", 7) == 0 && (section[7] == ' ' || section[7] == '\0'))
		return on_profile_key(ps, section, name, value);
	if (strncmp(section, SINK_PREFIX, strlen(SINK_PREFIX)) == 0) {
		const char *msg = sink_value(ps->cfg, section, name, value);
		if (msg != NULL) {
			snprintf(ps->err, ps->errlen, "%s: [%s] %s = \"%s\": %s", ps->cfg->path,
				 section, name, value, msg);
			ps->failed = 1;
			return 0;
		}
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const struct key *k = &keys[i];
		if (strcmp(k->section, section) != 0 || strcmp(k->name, name) != 0)
			continue;
		const char *msg = set_value(ps->cfg, k, value);
		if (msg != NULL) {
			snprintf(ps->err, ps->errlen, "%s: [%s] %s = \"%s\": %s", ps->cfg->path,
				 section, name, value, msg);
			ps->failed = 1;
			return 0;
		}
		ps->seen[i] = 1;
		return 1;
	}
	snprintf(ps->err, ps->errlen, "%s: unknown key [%s] %s", ps->cfg->path, section, name);
	ps->failed = 1;
	return 0;
}

void crt_config_clear(crt_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->path);
	free(cfg->dir);
	for (size_t i = 0; i < cfg->ncas; i++) {
		crt_ca_config *ca = &cfg->cas[i];
		free(ca->name);
		free(ca->cert);
		free(ca->key);
		free(ca->chain);
		free(ca->pin_file);
		free(ca->module);
		free(ca->crl_file);
		free(ca->type);
		free(ca->url);
		free(ca->auth_key_file);
		free(ca->profile);
		free(ca->label);
		free(ca->tls_ca_file);
		free(ca->crl_url);
		free(ca->ca_issuers_url);
		free(ca->ocsp_url);
	}
	free(cfg->cas);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].type == K_PATH || keys[i].type == K_STR) {
			char **s = (char **)((char *)cfg + keys[i].off);
			free(*s);
		}
	for (size_t i = 0; i < cfg->event_nsinks; i++)
		sink_clear(&cfg->event_sinks[i]);
	free(cfg->event_sinks);
	for (size_t i = 0; i < cfg->nprofiles; i++)
		certprof_clear(&cfg->profiles[i]);
	free(cfg->profiles);
	memset(cfg, 0, sizeof(*cfg));
}

/* Resolve every profile against [ca] / [tokens], and add the implied
 * default one (first) when the file names none. */
static crt_status profiles_finish(crt_config *cfg, char *err, size_t errlen)
{
	certprof_defaults d = {.days = cfg->cert_days,
			       .token_lifetime = cfg->token_lifetime,
			       .token_max_lifetime = cfg->token_max_lifetime,
			       .crl_url = cfg->crl_url,
			       .ca_issuers_url = cfg->ca_issuers_url,
			       .ocsp_url = cfg->ocsp_url,
			       .pin_mac = cfg->radius_pin_mac,
			       .renew_days = cfg->renew_window_days,
			       .allow_same_key = cfg->renew_allow_same_key,
			       .session_timeout = cfg->radius_max_session_timeout};
	char why[400];

	if (crt_cert_profile_find(cfg, CRT_CERT_PROFILE_DEFAULT) == NULL) {
		size_t cap = cfg->nprofiles;
		if (array_grow(&cfg->profiles, &cap, cfg->nprofiles, sizeof(*cfg->profiles)) != 0)
			return CRT_E_NOMEM;
		memmove(cfg->profiles + 1, cfg->profiles, cfg->nprofiles * sizeof(*cfg->profiles));
		cfg->nprofiles++;
		if (certprof_init(&cfg->profiles[0], CRT_CERT_PROFILE_DEFAULT) != 0)
			return CRT_E_NOMEM;
	}
	for (size_t i = 0; i < cfg->nprofiles; i++)
		if (certprof_finish(&cfg->profiles[i], &d, why, sizeof(why)) != 0) {
			snprintf(err, errlen, "%s: %s", cfg->path, why);
			return strcmp(why, "out of memory") == 0 ? CRT_E_NOMEM : CRT_E_CONFIG;
		}
	return CRT_OK;
}

const crt_cert_profile *crt_cert_profile_find(const crt_config *cfg, const char *name)
{
	if (name == NULL || *name == '\0')
		name = CRT_CERT_PROFILE_DEFAULT;
	for (size_t i = 0; cfg != NULL && i < cfg->nprofiles; i++)
		if (strcmp(cfg->profiles[i].name, name) == 0)
			return &cfg->profiles[i];
	return NULL;
}

const char *crt_config_default_path(void)
{
	/* secure_getenv: a setuid/setgid program (su, sudo) linking libcrtoken
	 * must not take its configuration from the caller's environment. */
	const char *env = secure_getenv("CRTOKEN_CONF");
	return (env != NULL && *env != '\0') ? env : CRT_SYSTEM_CONFIG;
}

/*
 * inih cuts a line longer than its buffer and parses the rest as a new
 * line, so the tail of a long comment would take effect as a key. Refuse
 * such lines (and NUL bytes, where inih would stop reading) instead.
 * Returns the 1-based number of the first bad line, or 0.
 */
static int overlong_line(const char *text, size_t len, const char **what)
{
	size_t start = 0;
	int line = 1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] == '\0') {
			*what = "contains a NUL byte";
			return line;
		}
		if (i == len || text[i] == '\n') {
			if (i - start > CONFIG_MAX_LINE) {
				*what = "is longer than " CONFIG_MAX_LINE_TEXT " bytes";
				return line;
			}
			start = i + 1;
			line++;
		}
	}
	return 0;
}

/* Whether [section] name was given in the file (not defaulted). */
static int key_seen(const struct parse_state *ps, const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
			return ps->seen[i];
	return 0;
}

/* Is every name in the comma-separated list a profile format? */
static int formats_known(const char *list)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(list) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save))
		if (crt_profile_format_find(tok) == NULL)
			return 0;
	return 1;
}

static int same_path(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/*
 * The rules of the [ca NAME] sections: certificate and key present, the
 * default CRL file crl-NAME.pem, pin_file/module_path only beside a
 * pkcs11: key, and no certificate, key file or CRL file shared with
 * another CA (one would overwrite or impersonate the other). A message in
 * buf, or NULL.
 */
static const char *cas_check(crt_config *cfg, char *buf, size_t n)
{
	for (size_t i = 0; i < cfg->ncas; i++) {
		crt_ca_config *ca = &cfg->cas[i];
		const char *why = NULL;
		ca_cfssl_conf rc = {.url = ca->url,
				    .auth_key_file = ca->auth_key_file,
				    .profile = ca->profile,
				    .label = ca->label,
				    .tls_ca_file = ca->tls_ca_file};
		if (ca->timeout_ms == 0)
			ca->timeout_ms = 10000;
		if (ca->cert == NULL)
			why = "needs certificate";
		else if ((ca->crl_url && !certprof_url_ok(ca->crl_url)) ||
			 (ca->ca_issuers_url && !certprof_url_ok(ca->ca_issuers_url)) ||
			 (ca->ocsp_url && !certprof_url_ok(ca->ocsp_url)))
			why = "crl_url, ca_issuers_url and ocsp_url must be http://, https:// or "
			      "ldap:// URLs of printable ASCII";
		else if ((why = ca_type_check(&ca->type, ca->key, ca->key != NULL, ca->pin_file,
					      ca->module, &rc)) != NULL)
			;
		else if (strcmp(ca->type, "cfssl") == 0)
			why = NULL; /* the remote signs: no key here */
		else if (ca->key == NULL)
			why = "needs key";
		else if (ca_is_pkcs11_uri(ca->key))
			why = ca_pkcs11_uri_refusal(ca->key);
		else if (ca->pin_file != NULL || ca->module != NULL)
			why = "pin_file and module_path apply only to a key = pkcs11:... URI";
		if (why == NULL && ca->crl_file == NULL) {
			char name[64];
			snprintf(name, sizeof(name), "crl-%s.pem", ca->name);
			if ((ca->crl_file = resolve_path(cfg, name)) == NULL)
				why = "out of memory";
		}
		if (why == NULL && (same_path(ca->cert, cfg->ca_cert) || same_path(ca->key, cfg->ca_key) ||
				    same_path(ca->crl_file, cfg->crl_file)))
			why = "shares its certificate, key or crl_file with [ca]";
		for (size_t k = 0; why == NULL && k < i; k++)
			if (same_path(ca->cert, cfg->cas[k].cert) ||
			    same_path(ca->key, cfg->cas[k].key) ||
			    same_path(ca->crl_file, cfg->cas[k].crl_file)) {
				snprintf(buf, n, "[ca %s] shares its certificate, key or crl_file "
						 "with [ca %s]",
					 ca->name, cfg->cas[k].name);
				return buf;
			}
		if (why != NULL) {
			snprintf(buf, n, "[ca %s] %s", ca->name, why);
			return buf;
		}
	}
	return NULL;
}

crt_status crt_config_load(const char *path, crt_config *cfg, char *err, size_t errlen)
{
	struct parse_state ps = {.cfg = cfg, .err = err, .errlen = errlen};
	char abs[PATH_MAX], why[600];
	char *text = NULL;
	size_t len = 0;
	const char *what = NULL;
	crt_status r;
	int rc, bad_line;

	memset(cfg, 0, sizeof(*cfg));
	if (err && errlen)
		err[0] = '\0';
	if (path == NULL)
		path = crt_config_default_path();
	if (realpath(path, abs) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return CRT_E_CONFIG_NOT_FOUND;
	}
	cfg->path = strdup(abs);
	char *slash = strrchr(abs, '/');
	*slash = '\0';
	cfg->dir = strdup(abs[0] ? abs : "/");
	if (cfg->path == NULL || cfg->dir == NULL) {
		crt_config_clear(cfg);
		return CRT_E_NOMEM;
	}

	/* Read through a checked descriptor: whoever can write the config
	 * decides where the store and keys are. */
	r = read_trusted(cfg->path, CONFIG_MAX_SIZE, CRT_TRUST_FILE, &text, &len, why,
			     sizeof(why));
	if (r != CRT_OK) {
		snprintf(err, errlen, "%s", why);
		crt_config_clear(cfg);
		return r == CRT_E_UNSAFE_PERMISSIONS || r == CRT_E_NOMEM ? r
									 : CRT_E_CONFIG_NOT_FOUND;
	}
	if ((bad_line = overlong_line(text, len, &what)) != 0) {
		snprintf(err, errlen, "%s:%d: line %s", cfg->path, bad_line, what);
		free(text);
		crt_config_clear(cfg);
		return CRT_E_CONFIG;
	}
	rc = ini_parse_string(text, on_key, &ps);
	free(text);
	if (ps.failed || rc != 0) {
		if (!ps.failed)
			snprintf(err, errlen, "%s:%d: syntax error", cfg->path, rc);
		crt_config_clear(cfg);
		return CRT_E_CONFIG;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (ps.seen[i] || keys[i].def == NULL)
			continue;
		const char *msg = set_value(cfg, &keys[i], keys[i].def);
		if (msg != NULL) {
			snprintf(err, errlen, "default for %s: %s", keys[i].name, msg);
			crt_config_clear(cfg);
			return CRT_E_NOMEM;
		}
	}
	/* Cross-key rules. */
	const char *bad = NULL;
	char badbuf[512];
	uint32_t fw;
	if (strcmp(cfg->backend, "sqlite") != 0 && strcmp(cfg->backend, "postgresql") != 0)
		bad = "[store] backend must be sqlite or postgresql";
	else if (strcmp(cfg->backend, "postgresql") == 0 && cfg->conninfo == NULL)
		bad = "[store] backend = postgresql needs conninfo";
	else if (conninfo_has_password(cfg->conninfo) || conninfo_has_password(cfg->read_conninfo))
		bad = "[store] conninfo must not hold a password (crtoken.conf is readable by "
		      "the RADIUS server): put it in ~/.pgpass or the file PGPASSFILE names";
	else if (cfg->token_lifetime > cfg->token_max_lifetime)
		bad = "[tokens] lifetime is longer than max_lifetime";
	else if (strcasecmp(cfg->otp_algorithm, "SHA1") != 0 &&
		 strcasecmp(cfg->otp_algorithm, "SHA256") != 0 &&
		 strcasecmp(cfg->otp_algorithm, "SHA512") != 0)
		bad = "[otp] algorithm must be SHA1, SHA256 or SHA512";
	else if (cfg->otp_digits != 6 && cfg->otp_digits != 8)
		bad = "[otp] digits must be 6 or 8";
	else if ((cfg->tls_cert == NULL) != (cfg->tls_key == NULL))
		bad = "[server] tls_cert and tls_key go together";
	else if (strcmp(cfg->net_type, "wifi") != 0 && strcmp(cfg->net_type, "wired") != 0)
		bad = "[network] type must be wifi or wired";
	else if ((cfg->net_mc_signer_cert == NULL) != (cfg->net_mc_signer_key == NULL))
		bad = "[network] mobileconfig_signer_cert and mobileconfig_signer_key go together";
	else if (cfg->net_mc_signer_chain != NULL && cfg->net_mc_signer_cert == NULL)
		bad = "[network] mobileconfig_signer_chain needs mobileconfig_signer_cert";
	else if (!formats_known(cfg->portal_formats))
		bad = "[portal] formats: unknown format (see crtoken.conf for the list)";
	else if ((bad = ca_type_resolve(cfg, key_seen(&ps, "ca", "key"), badbuf, sizeof(badbuf))) != NULL)
		;
	else if (ca_is_pkcs11_uri(cfg->ca_key))
		bad = ca_pkcs11_uri_refusal(cfg->ca_key);
	else if (cfg->ca_pin_file != NULL || cfg->ca_module != NULL)
		bad = "[ca] pin_file and module_path apply only to a key = pkcs11:... URI";
	else if (attest_mode_parse(cfg->attest_mode) < 0)
		bad = "[attestation] mode must be ignore, verify or require";
	else if (cfg->attest_pin_policy != NULL && attest_pin_parse(cfg->attest_pin_policy) == 0)
		bad = "[attestation] pin_policy must be never, once or always";
	else if (cfg->attest_touch_policy != NULL &&
		 attest_touch_parse(cfg->attest_touch_policy) == 0)
		bad = "[attestation] touch_policy must be never, cached or always";
	else if (cfg->attest_min_firmware != NULL &&
		 attest_firmware_parse(cfg->attest_min_firmware, &fw) != CRT_OK)
		bad = "[attestation] min_firmware must be a version like 5.4.3";
	else if ((cfg->crl_url && !certprof_url_ok(cfg->crl_url)) ||
		 (cfg->ca_issuers_url && !certprof_url_ok(cfg->ca_issuers_url)) ||
		 (cfg->ocsp_url && !certprof_url_ok(cfg->ocsp_url)))
		bad = "[ca] crl_url, ca_issuers_url and ocsp_url must be http://, https:// or "
		      "ldap:// URLs of printable ASCII";
	if (bad == NULL)
		bad = cas_check(cfg, badbuf, sizeof(badbuf));
	if (bad != NULL) {
		snprintf(err, errlen, "%s: %s", cfg->path, bad);
		crt_config_clear(cfg);
		return CRT_E_CONFIG;
	}
	for (size_t i = 0; i < cfg->event_nsinks; i++) {
		char msg[200];
		if (!sink_valid(&cfg->event_sinks[i], msg, sizeof(msg))) {
			snprintf(err, errlen, "%s: [" SINK_PREFIX "%s] %s", cfg->path,
				 cfg->event_sinks[i].name, msg);
			crt_config_clear(cfg);
			return CRT_E_CONFIG;
		}
	}
	if ((r = profiles_finish(cfg, err, errlen)) != CRT_OK) {
		crt_config_clear(cfg);
		return r;
	}
	return CRT_OK;
}

/*
 * rules/profile.c — certificate profiles as functions of values
 * (rules/profile.h): one key of a [profile NAME] section at a time, then
 * the whole profile resolved against [ca] / [tokens] and checked.
 *
 * Unset values are marked while the section is read (NULL strings, -1
 * numbers) so a key given twice is refused and certprof_finish knows what
 * to inherit; after certprof_finish every value is set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/profile.h"

#define UNSET (-1)

int certprof_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

int certprof_init(crt_cert_profile *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	p->days = p->max_days = UNSET;
	p->locked = (unsigned)UNSET;
	p->token_lifetime = p->token_max_lifetime = UNSET;
	p->approval = p->renew_days = p->allow_same_key = p->pin_mac = UNSET;
	p->session_timeout = UNSET;
	p->name = strdup(name);
	return p->name != NULL ? 0 : -1;
}

void certprof_clear(crt_cert_profile *p)
{
	if (p == NULL)
		return;
	char *strs[] = {p->name,     p->description, p->key_usage, p->ext_key_usage,
	                p->key_types, p->san_email,  p->san_upn,   p->san_dns,
	                p->san_uri,  p->reply,       p->crl_url,   p->ca_issuers_url,
	                p->ocsp_url};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		free(strs[i]);
	memset(p, 0, sizeof(*p));
}

/* Is every comma-separated item of list accepted by ok()? */
static int list_ok(const char *list, int (*ok)(const char *item, size_t n))
{
	const char *p = list;
	int items = 0;

	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		size_t n = strcspn(p, ", ");
		if (!ok(p, n))
			return 0;
		items++;
		p += n;
	}
	return items > 0;
}

static int item_is(const char *item, size_t n, const char *name)
{
	return strlen(name) == n && strncmp(item, name, n) == 0;
}

static int key_usage_item(const char *item, size_t n)
{
	static const char *const names[] = {"digitalSignature", "nonRepudiation",
	                                    "keyEncipherment", "dataEncipherment",
	                                    "keyAgreement"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (item_is(item, n, names[i]))
			return 1;
	return 0;
}

/* A dotted OID: at least two arcs of digits. */
static int dotted_oid(const char *item, size_t n)
{
	int dots = 0;
	if (n == 0 || item[0] < '0' || item[0] > '2')
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (item[i] == '.') {
			if (i + 1 == n || item[i + 1] == '.')
				return 0;
			dots++;
		} else if (item[i] < '0' || item[i] > '9') {
			return 0;
		}
	}
	return dots >= 1;
}

static int eku_item(const char *item, size_t n)
{
	static const char *const names[] = {"clientAuth",   "serverAuth",      "emailProtection",
	                                    "codeSigning",  "timeStamping",    "msSmartcardLogin",
	                                    "ipsecIKE"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (item_is(item, n, names[i]))
			return 1;
	return dotted_oid(item, n);
}

/* "rsa-N" → N (0 when item is not one). */
static long rsa_bits_of(const char *item, size_t n)
{
	char buf[16];
	char *end;
	if (n < 5 || n >= sizeof(buf) || strncmp(item, "rsa-", 4) != 0)
		return 0;
	memcpy(buf, item + 4, n - 4);
	buf[n - 4] = '\0';
	errno = 0;
	long v = strtol(buf, &end, 10);
	if (errno || *end != '\0' || end == buf)
		return 0;
	return v;
}

static int key_type_item(const char *item, size_t n)
{
	long bits;
	if (item_is(item, n, "rsa") || item_is(item, n, "ec") || item_is(item, n, "ec-p256") ||
	    item_is(item, n, "ec-p384") || item_is(item, n, "ed25519"))
		return 1;
	bits = rsa_bits_of(item, n);
	return bits >= 2048 && bits <= 8192;
}

/* An http, https or ldap URL of printable ASCII without spaces, quotes or
 * angle brackets (it goes verbatim into an IA5String). */
int certprof_url_ok(const char *v)
{
	const char *rest;
	if (strncmp(v, "http://", 7) == 0)
		rest = v + 7;
	else if (strncmp(v, "https://", 8) == 0)
		rest = v + 8;
	else if (strncmp(v, "ldap://", 7) == 0)
		rest = v + 7;
	else
		return 0;
	if (*rest == '\0' || *rest == '/' || strlen(v) > 1024)
		return 0;
	for (const char *p = v; *p; p++)
		if (*p <= ' ' || *p >= 0x7f || strchr("\"<>\\^`{|}", *p) != NULL)
			return 0;
	return 1;
}

int certprof_template_ok(const char *tmpl, const char **why)
{
	static const char *const known[] = {"owner", "cn", "name", "org", "ou"};
	const char *p = tmpl;

	*why = NULL;
	if (*tmpl == '\0') {
		*why = "is empty";
		return 0;
	}
	while ((p = strpbrk(p, "{}")) != NULL) {
		if (*p == '}') {
			*why = "has a '}' without '{'";
			return 0;
		}
		const char *end = strchr(p, '}');
		if (end == NULL) {
			*why = "has a '{' without '}'";
			return 0;
		}
		size_t n = (size_t)(end - p - 1), i;
		for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			if (item_is(p + 1, n, known[i]))
				break;
		if (i == sizeof(known) / sizeof(known[0])) {
			*why = "names an unknown placeholder (known: {owner} {cn} {name} {org} {ou})";
			return 0;
		}
		p = end + 1;
	}
	for (p = tmpl; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f) {
			*why = "contains a control character";
			return 0;
		}
	return 1;
}

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

static int parse_int(const char *v, long lo, long hi, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(v, &end, 10);
	if (errno || end == v || *end != '\0' || n < lo || n > hi)
		return -1;
	*out = (int)n;
	return 0;
}

/* Append line to the '\n'-joined *list. 0, or -1 out of memory. */
static int append_line(char **list, const char *line)
{
	size_t old = *list ? strlen(*list) : 0;
	char *n = realloc(*list, old + strlen(line) + 2);
	if (n == NULL)
		return -1;
	if (old)
		n[old++] = '\n';
	strcpy(n + old, line);
	*list = n;
	return 0;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -1;                                                                         \
	} while (0)

/* Set string *dst to a copy of v, refusing a second value. */
static int set_once(char **dst, const char *key, const char *v, char *err, size_t errlen)
{
	if (*dst != NULL)
		FAIL("%s is given twice", key);
	if ((*dst = strdup(v)) == NULL)
		FAIL("out of memory");
	return 0;
}

int certprof_set(crt_cert_profile *p, const char *key, const char *v, char *err, size_t errlen)
{
	const char *why;
	int64_t d;
	int n;

	if (*v == '\0')
		FAIL("%s: empty value", key);
	if (strcmp(key, "description") == 0)
		return set_once(&p->description, key, v, err, errlen);
	if (strcmp(key, "days") == 0 || strcmp(key, "max_days") == 0) {
		int *dst = key[0] == 'd' ? &p->days : &p->max_days;
		if (*dst != UNSET)
			FAIL("%s is given twice", key);
		if (parse_int(v, 1, 36500, dst) != 0)
			FAIL("%s = \"%s\": days must be 1..36500", key, v);
		return 0;
	}
	if (strcmp(key, "key_usage") == 0) {
		if (!list_ok(v, key_usage_item))
			FAIL("key_usage = \"%s\": a list of digitalSignature, nonRepudiation, "
			     "keyEncipherment, dataEncipherment, keyAgreement",
			     v);
		return set_once(&p->key_usage, key, v, err, errlen);
	}
	if (strcmp(key, "extended_key_usage") == 0) {
		if (!list_ok(v, eku_item))
			FAIL("extended_key_usage = \"%s\": a list of clientAuth, serverAuth, "
			     "emailProtection, codeSigning, timeStamping, msSmartcardLogin, "
			     "ipsecIKE or dotted OIDs",
			     v);
		return set_once(&p->ext_key_usage, key, v, err, errlen);
	}
	if (strcmp(key, "key_types") == 0) {
		if (!list_ok(v, key_type_item))
			FAIL("key_types = \"%s\": a list of rsa, rsa-N (2048..8192: at least N "
			     "bits), ec, ec-p256, ec-p384, ed25519",
			     v);
		return set_once(&p->key_types, key, v, err, errlen);
	}
	if (strncmp(key, "san_", 4) == 0) {
		char **dst = strcmp(key, "san_email") == 0 ? &p->san_email
		             : strcmp(key, "san_upn") == 0 ? &p->san_upn
		             : strcmp(key, "san_dns") == 0 ? &p->san_dns
		             : strcmp(key, "san_uri") == 0 ? &p->san_uri
		                                           : NULL;
		if (dst == NULL)
			FAIL("unknown key %s (san_email, san_upn, san_dns, san_uri)", key);
		if (!certprof_template_ok(v, &why))
			FAIL("%s = \"%s\" %s", key, v, why);
		return set_once(dst, key, v, err, errlen);
	}
	if (strcmp(key, "reply") == 0) {
		if (crt_reply_validate(v) != CRT_OK || strchr(v, '\n') != NULL)
			FAIL("reply = \"%s\": one Attribute=value per reply line", v);
		if (append_line(&p->reply, v) != 0)
			FAIL("out of memory");
		if (crt_reply_validate(p->reply) != CRT_OK)
			FAIL("reply: the attributes exceed 4096 bytes");
		return 0;
	}
	if (strcmp(key, "vlan") == 0) {
		char line[64];
		if (parse_int(v, 1, 4094, &n) != 0)
			FAIL("vlan = \"%s\": a VLAN id 1..4094", v);
		snprintf(line, sizeof(line), "Tunnel-Private-Group-Id=%d", n);
		if (p->reply != NULL && strstr(p->reply, "Tunnel-Private-Group-Id=") != NULL)
			FAIL("vlan: the reply attributes already set Tunnel-Private-Group-Id");
		if (append_line(&p->reply, "Tunnel-Type=VLAN") != 0 ||
		    append_line(&p->reply, "Tunnel-Medium-Type=IEEE-802") != 0 ||
		    append_line(&p->reply, line) != 0)
			FAIL("out of memory");
		return 0;
	}
	if (strcmp(key, "lock") == 0) {
		unsigned m;
		if (p->locked != (unsigned)UNSET)
			FAIL("lock is given twice");
		if (crt_fields_parse(v, &m) != CRT_OK)
			FAIL("lock = \"%s\": a list of cn, org, ou (or none)", v);
		p->locked = m;
		return 0;
	}
	if (strcmp(key, "lifetime") == 0 || strcmp(key, "max_lifetime") == 0) {
		int64_t *dst = key[0] == 'l' ? &p->token_lifetime : &p->token_max_lifetime;
		if (*dst != UNSET)
			FAIL("%s is given twice", key);
		if (crt_duration_parse(v, &d) != CRT_OK || d < 60)
			FAIL("%s = \"%s\": a duration of at least 60s (e.g. 7d, 12h)", key, v);
		*dst = d;
		return 0;
	}
	if (strcmp(key, "approval") == 0) {
		if (p->approval != UNSET)
			FAIL("approval is given twice");
		if (strcmp(v, "none") == 0)
			p->approval = CRT_APPROVAL_NONE;
		else if (strcmp(v, "required") == 0)
			p->approval = CRT_APPROVAL_REQUIRED;
		else
			FAIL("approval = \"%s\": none or required", v);
		return 0;
	}
	if (strcmp(key, "renew_days") == 0) {
		if (p->renew_days != UNSET)
			FAIL("renew_days is given twice");
		if (parse_int(v, 0, 3650, &p->renew_days) != 0)
			FAIL("renew_days = \"%s\": 0..3650 (0: no renewal)", v);
		return 0;
	}
	if (strcmp(key, "allow_same_key") == 0) {
		if (p->allow_same_key != UNSET)
			FAIL("allow_same_key is given twice");
		if (parse_bool(v, &p->allow_same_key) != 0)
			FAIL("allow_same_key = \"%s\": yes or no", v);
		return 0;
	}
	if (strcmp(key, "pin_mac") == 0) {
		if (p->pin_mac != UNSET)
			FAIL("pin_mac is given twice");
		if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0 || strcmp(v, "none") == 0)
			p->pin_mac = CRT_PIN_MAC_OFF;
		else if (strcmp(v, "first") == 0)
			p->pin_mac = CRT_PIN_MAC_FIRST;
		else
			FAIL("pin_mac = \"%s\": off or first", v);
		return 0;
	}
	if (strcmp(key, "session_timeout") == 0) {
		if (p->session_timeout != UNSET)
			FAIL("session_timeout is given twice");
		if (strcmp(v, "0") == 0 || strcmp(v, "none") == 0)
			p->session_timeout = 0;
		else if (crt_duration_parse(v, &d) != CRT_OK || d < 60 || d > 366LL * 86400)
			FAIL("session_timeout = \"%s\": a duration from 60s to 366d, or none", v);
		else
			p->session_timeout = d;
		return 0;
	}
	if (strcmp(key, "crl_url") == 0 || strcmp(key, "ca_issuers_url") == 0 ||
	    strcmp(key, "ocsp_url") == 0) {
		char **dst = key[1] == 'r' ? &p->crl_url : key[1] == 'a' ? &p->ca_issuers_url
		                                                           : &p->ocsp_url;
		if (!certprof_url_ok(v))
			FAIL("%s = \"%s\": an http://, https:// or ldap:// URL of printable ASCII",
			     key, v);
		p->urls_own |= key[1] == 'r' ? CERTPROF_URL_CRL
		               : key[1] == 'a' ? CERTPROF_URL_ISSUERS
		                               : CERTPROF_URL_OCSP;
		return set_once(dst, key, v, err, errlen);
	}
	FAIL("unknown key %s", key);
}

/* *dst = a copy of def when unset (def may be NULL). */
static int inherit(char **dst, const char *def)
{
	if (*dst != NULL || def == NULL)
		return 0;
	return (*dst = strdup(def)) != NULL ? 0 : -1;
}

int certprof_finish(crt_cert_profile *p, const certprof_defaults *d, char *err, size_t errlen)
{
	const char *name = p->name;

	if (p->days == UNSET)
		p->days = d->days;
	if (p->max_days == UNSET)
		p->max_days = p->days;
	if (p->max_days < p->days)
		FAIL("[profile %s] max_days (%d) is less than days (%d)", name, p->max_days,
		     p->days);
	if (p->locked == (unsigned)UNSET)
		p->locked = 0;
	if (p->token_lifetime == UNSET)
		p->token_lifetime = d->token_lifetime;
	if (p->token_max_lifetime == UNSET)
		p->token_max_lifetime =
		    d->token_max_lifetime > p->token_lifetime ? d->token_max_lifetime
		                                              : p->token_lifetime;
	if (p->token_lifetime > p->token_max_lifetime)
		FAIL("[profile %s] lifetime is longer than max_lifetime", name);
	if (p->approval == UNSET)
		p->approval = CRT_APPROVAL_NONE;
	if (p->renew_days == UNSET)
		p->renew_days = d->renew_days;
	if (p->allow_same_key == UNSET)
		p->allow_same_key = d->allow_same_key;
	if (p->pin_mac == UNSET)
		p->pin_mac = d->pin_mac;
	if (p->session_timeout == UNSET)
		p->session_timeout = d->session_timeout;
	if (inherit(&p->key_types, "rsa,ec,ed25519") != 0 ||
	    inherit(&p->ext_key_usage, "clientAuth") != 0 ||
	    inherit(&p->crl_url, d->crl_url) != 0 ||
	    inherit(&p->ca_issuers_url, d->ca_issuers_url) != 0 ||
	    inherit(&p->ocsp_url, d->ocsp_url) != 0)
		FAIL("out of memory");
	return 0;
}

int certprof_key_allowed(const crt_cert_profile *p, const char *key_type)
{
	const char *list = p->key_types ? p->key_types : "rsa,ec,ed25519", *s = list;
	int is_rsa = strncmp(key_type, "rsa-", 4) == 0;
	int is_ec = strncmp(key_type, "ec-", 3) == 0;
	long bits = is_rsa ? rsa_bits_of(key_type, strlen(key_type)) : 0;

	while (*s) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t n = strcspn(s, ", ");
		if (n == 0)
			break;
		if ((is_rsa && item_is(s, n, "rsa")) || (is_ec && item_is(s, n, "ec")) ||
		    item_is(s, n, key_type))
			return 1;
		if (is_rsa && rsa_bits_of(s, n) > 0 && bits >= rsa_bits_of(s, n))
			return 1;
		s += n;
	}
	return 0;
}

crt_status certprof_valid_days(const crt_cert_profile *p, int asked, int *days, const char **why)
{
	*why = NULL;
	if (asked < 0) {
		*why = "validDays must be positive";
		return CRT_E_VALIDITY;
	}
	if (asked > p->max_days) {
		*why = "validDays exceeds the profile's max_days";
		return CRT_E_VALIDITY;
	}
	*days = asked ? asked : p->days;
	return CRT_OK;
}

/*
 * rules/events.c — the event rules (rules/events.h): types, filters, the
 * retry schedule, templates and webhook URLs, as functions of values.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/events.h"

const char *const event_types[] = {
	"token.created",       "token.deleted",       "request.pending",
	"request.approved",    "request.denied",      "certificate.issued",
	"certificate.revoked", "certificate.expiring", "otp.locked",
	"request.expired",     "request.cancelled",   NULL,
};

int event_type_known(const char *name)
{
	for (size_t i = 0; name != NULL && event_types[i] != NULL; i++)
		if (strcmp(event_types[i], name) == 0)
			return 1;
	return 0;
}

/* 1 when some type starts with area + "." (area given with its length). */
static int area_known(const char *area, size_t n)
{
	for (size_t i = 0; event_types[i] != NULL; i++)
		if (strncmp(event_types[i], area, n) == 0 && event_types[i][n] == '.')
			return 1;
	return 0;
}

/* Call each(item, len, arg) for every item of a comma list, blanks trimmed;
 * stops at the first nonzero answer and returns it. */
static int each_item(const char *list, int (*each)(const char *, size_t, void *), void *arg)
{
	const char *p = list;
	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		while (n > 0 && (*s == ' ' || *s == '\t'))
			s++, n--;
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		int r = each(s, n, arg);
		if (r != 0)
			return r;
		p = end ? end + 1 : NULL;
	}
	return 0;
}

static int item_valid(const char *s, size_t n)
{
	if (n == 1 && s[0] == '*')
		return 1;
	if (n > 2 && s[n - 1] == '*' && s[n - 2] == '.')
		return area_known(s, n - 2);
	for (size_t i = 0; event_types[i] != NULL; i++)
		if (strlen(event_types[i]) == n && strncmp(event_types[i], s, n) == 0)
			return 1;
	return 0;
}

struct check_arg {
	char *bad;
	size_t len;
};

static int check_one(const char *s, size_t n, void *arg)
{
	struct check_arg *a = arg;
	if (item_valid(s, n))
		return 0;
	if (a->bad != NULL && a->len > 0)
		snprintf(a->bad, a->len, "%.*s", (int)n, s);
	return -1;
}

int event_filter_check(const char *filter, char *bad, size_t len)
{
	struct check_arg a = {bad, len};
	return each_item(filter, check_one, &a);
}

static int match_one(const char *s, size_t n, void *arg)
{
	const char *type = arg;
	if (n == 1 && s[0] == '*')
		return 1;
	if (n > 2 && s[n - 1] == '*' && s[n - 2] == '.')
		return strncmp(type, s, n - 1) == 0;
	return strlen(type) == n && strncmp(type, s, n) == 0;
}

int event_filter_match(const char *filter, const char *type)
{
	if (filter == NULL || *filter == '\0')
		return 1;
	return each_item(filter, match_one, (void *)type) == 1;
}

int event_retry_at(int attempts, int64_t now, int64_t first_at, int64_t base, int64_t max,
		   int64_t give_up_after, int64_t *next_at)
{
	int64_t wait = base > 0 ? base : 1;
	for (int i = 1; i < attempts && wait < max; i++)
		wait *= 2;
	if (wait > max)
		wait = max;
	if (now + wait > first_at + give_up_after)
		return 0;
	*next_at = now + wait;
	return 1;
}

const char *const event_placeholders[] = {
	"id",     "type",       "time",   "actor",      "tokenId", "tokenName", "owner",
	"ownerEmail", "serial", "commonName", "notAfter", "reason",  "user",      "requestId",
	NULL,
};

static int placeholder_known(const char *s, size_t n)
{
	for (size_t i = 0; event_placeholders[i] != NULL; i++)
		if (strlen(event_placeholders[i]) == n && strncmp(event_placeholders[i], s, n) == 0)
			return 1;
	return 0;
}

int event_template_check(const char *tmpl, char *bad, size_t len)
{
	for (const char *p = tmpl; p != NULL && *p != '\0'; p++) {
		if (*p != '{')
			continue;
		if (p[1] == '{') {
			p++;
			continue;
		}
		const char *end = strchr(p, '}');
		if (end == NULL) {
			snprintf(bad, len, "unclosed {");
			return -1;
		}
		if (!placeholder_known(p + 1, (size_t)(end - p - 1))) {
			snprintf(bad, len, "{%.*s}", (int)(end - p - 1), p + 1);
			return -1;
		}
		p = end;
	}
	return 0;
}

typedef struct sbuf {
	char *s;
	size_t n, cap;
	int oom;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->n + n + 1)
			cap *= 2;
		char *p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->n, s, n);
	b->n += n;
	b->s[b->n] = '\0';
}

char *event_template_render(const char *tmpl, const char *(*lookup)(const char *name, void *arg),
			    void *arg, int one_line)
{
	sbuf b = {0};
	char name[32];

	if (tmpl == NULL || event_template_check(tmpl, name, sizeof(name)) != 0)
		return NULL;
	sb_add(&b, "", 0);
	for (const char *p = tmpl; *p != '\0'; p++) {
		if (*p != '{') {
			sb_add(&b, p, 1);
			continue;
		}
		if (p[1] == '{') {
			sb_add(&b, "{", 1);
			p++;
			continue;
		}
		const char *end = strchr(p, '}');
		size_t n = (size_t)(end - p - 1);
		snprintf(name, sizeof(name), "%.*s", (int)n, p + 1);
		const char *v = lookup(name, arg);
		for (const char *q = v ? v : ""; *q != '\0'; q++) {
			char c = *q;
			if (one_line && ((unsigned char)c < 0x20 || c == 0x7f))
				c = ' ';
			sb_add(&b, &c, 1);
		}
		p = end;
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

/* The host of url (after scheme://, before :port, / or end; IPv6 in []),
 * copied into host; 0, or -1 when there is none or it does not fit. */
static int url_host(const char *url, char *host, size_t len, const char **rest)
{
	const char *p = strstr(url, "://");
	if (p == NULL)
		return -1;
	p += 3;
	size_t auth = strcspn(p, "/?#");
	if (memchr(p, '@', auth) != NULL)
		return -2;
	size_t n;
	if (*p == '[') {
		const char *e = memchr(p, ']', auth);
		if (e == NULL)
			return -1;
		n = (size_t)(e - p + 1);
	} else {
		n = strcspn(p, ":/?#");
	}
	if (n == 0 || n >= len)
		return -1;
	memcpy(host, p, n);
	host[n] = '\0';
	if (rest)
		*rest = p + n;
	return 0;
}

static int host_loopback(const char *h)
{
	if (strcasecmp(h, "localhost") == 0 || strcmp(h, "[::1]") == 0)
		return 1;
	if (strncmp(h, "127.", 4) != 0)
		return 0;
	int dots = 0;
	for (const char *p = h; *p; p++) {
		if (*p == '.')
			dots++;
		else if (!isdigit((unsigned char)*p))
			return 0;
	}
	return dots == 3;
}

int event_url_loopback(const char *url)
{
	char host[256];
	return url != NULL && url_host(url, host, sizeof(host), NULL) == 0 && host_loopback(host);
}

int event_url_check(const char *url, const char **why)
{
	char host[256];
	int r;

	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
			*why = "contains blanks or control characters";
			return -1;
		}
	int https = strncasecmp(url, "https://", 8) == 0;
	int http = strncasecmp(url, "http://", 7) == 0;
	if (!https && !http) {
		*why = "must be an https:// URL";
		return -1;
	}
	if ((r = url_host(url, host, sizeof(host), NULL)) != 0) {
		*why = r == -2 ? "must not carry a user name or password" : "has no host";
		return -1;
	}
	if (http && !host_loopback(host)) {
		*why = "must be https:// (http:// is allowed to a loopback address only)";
		return -1;
	}
	return 0;
}

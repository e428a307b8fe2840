/*
 * rules/san.c — SubjectAltName values as functions of values
 * (rules/san.h): what each kind accepts, the token's "kind=value" lines,
 * template expansion.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rules/san.h"

static const char *const kind_names[SAN_KIND_COUNT] = {"email", "upn", "dns", "uri"};

const char *san_kind_name(san_kind k)
{
	return k >= 0 && k < SAN_KIND_COUNT ? kind_names[k] : "?";
}

int san_kind_parse(const char *name, size_t n)
{
	for (int k = 0; k < SAN_KIND_COUNT; k++)
		if (strlen(kind_names[k]) == n && strncmp(name, kind_names[k], n) == 0)
			return k;
	return -1;
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int is_hex(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* RFC 3492 Punycode: does the n bytes at in (after "xn--") decode to at
 * least one code point beyond ASCII, every one a Unicode scalar value? */
static int punycode_ok(const char *in, size_t n)
{
	enum { BASE = 36, TMIN = 1, TMAX = 26, SKEW = 38, DAMP = 700, IBIAS = 72, IN = 128 };
	uint32_t out = 0, i = 0, code = IN, bias = IBIAS;
	size_t j = 0;
	int beyond = 0;

	for (size_t d = 0; d < n; d++) /* the basic code points end at the last '-' */
		if (in[d] == '-')
			out = (uint32_t)d, j = d + 1;
	if (j >= n)
		return 0; /* nothing encoded: not an A-label */
	while (j < n) {
		uint32_t oldi = i, w = 1;
		for (uint32_t k = BASE;; k += BASE) {
			int c = (unsigned char)in[j++], d;
			if (c >= 'a' && c <= 'z')
				d = c - 'a';
			else if (c >= 'A' && c <= 'Z')
				d = c - 'A';
			else if (c >= '0' && c <= '9')
				d = c - '0' + 26;
			else
				return 0;
			if ((uint32_t)d > (UINT32_MAX - i) / w)
				return 0;
			i += (uint32_t)d * w;
			uint32_t t = k <= bias ? TMIN : k >= bias + TMAX ? TMAX : k - bias;
			if ((uint32_t)d < t)
				break;
			if (w > UINT32_MAX / (BASE - t) || j >= n)
				return 0;
			w *= BASE - t;
		}
		out++;
		/* adapt the bias */
		uint32_t delta = oldi == 0 ? (i - oldi) / DAMP : (i - oldi) / 2, k = 0;
		delta += delta / out;
		while (delta > ((BASE - TMIN) * TMAX) / 2) {
			delta /= BASE - TMIN;
			k += BASE;
		}
		bias = k + (BASE - TMIN + 1) * delta / (delta + SKEW);
		if (i / out > 0x10FFFF - code)
			return 0;
		code += i / out;
		i %= out;
		if (code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) || code < 0xA0)
			return 0; /* not a scalar value, or a C1 control */
		if (code >= 0x80)
			beyond = 1;
		i++;
	}
	return beyond;
}

/* A DNS name as rules/san.h says; *why on failure. */
static int dns_ok(const char *v, size_t n, const char **why)
{
	size_t start = 0;

	if (n == 0)
		return *why = "is empty", 0;
	if (n > 253)
		return *why = "is longer than 253 characters", 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)v[i] >= 0x80)
			return *why = "is not ASCII: give the A-label (xn--...) of an "
				      "internationalised name",
			       0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && v[i] != '.')
			continue;
		const char *l = v + start;
		size_t len = i - start;
		if (len == 0)
			return *why = "has an empty label (\"..\", or a dot at either end)", 0;
		if (len > 63)
			return *why = "has a label longer than 63 characters", 0;
		if (len == 1 && l[0] == '*')
			return *why = "is a wildcard (not for a client certificate)", 0;
		for (size_t j = 0; j < len; j++)
			if (!is_alpha(l[j]) && !is_digit(l[j]) && l[j] != '-')
				return *why = "has a character outside a-z 0-9 - in a label", 0;
		if (l[0] == '-' || l[len - 1] == '-')
			return *why = "has a label beginning or ending with '-'", 0;
		if (len >= 4 && l[2] == '-' && l[3] == '-') {
			if (!((l[0] == 'x' || l[0] == 'X') && (l[1] == 'n' || l[1] == 'N')))
				return *why = "has a label with \"--\" in positions 3-4 that is not "
					      "an A-label (xn--)",
				       0;
			if (!punycode_ok(l + 4, len - 4))
				return *why = "has an xn-- label that is not valid Punycode", 0;
		}
		start = i + 1;
	}
	return 1;
}

static int atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static int email_ok(const char *v, const char **why)
{
	const char *at = strrchr(v, '@');
	size_t n = strlen(v), local;

	if (at == NULL)
		return *why = "has no '@'", 0;
	if (n > 254)
		return *why = "is longer than 254 characters", 0;
	local = (size_t)(at - v);
	if (local == 0)
		return *why = "has an empty local part", 0;
	if (local > 64)
		return *why = "has a local part longer than 64 characters", 0;
	if (v[0] == '.' || v[local - 1] == '.')
		return *why = "has a local part beginning or ending with '.'", 0;
	for (size_t i = 0; i < local; i++) {
		if ((unsigned char)v[i] >= 0x80)
			return *why = "is not ASCII (an rfc822Name is IA5String)", 0;
		if (v[i] == '.' && v[i + 1] == '.')
			return *why = "has \"..\" in the local part", 0;
		if (v[i] != '.' && !atext((unsigned char)v[i]))
			return *why = "has a character a dot-atom local part does not allow "
				      "(quoted local parts are not accepted)",
			       0;
	}
	if (at[1] == '[')
		return *why = "has an address literal as domain (not accepted)", 0;
	const char *dwhy;
	if (!dns_ok(at + 1, strlen(at + 1), &dwhy)) {
		*why = "has a domain that is not a valid DNS name";
		return 0;
	}
	return 1;
}

static int uri_ok(const char *v, const char **why)
{
	size_t n = strlen(v), i = 0;

	if (n > 1024)
		return *why = "is longer than 1024 characters", 0;
	if (!is_alpha((unsigned char)v[0]))
		return *why = "has no scheme (a URI starts with a letter, e.g. https: or urn:)", 0;
	while (is_alpha((unsigned char)v[i]) || is_digit((unsigned char)v[i]) || v[i] == '+' ||
	       v[i] == '-' || v[i] == '.')
		i++;
	if (v[i] != ':')
		return *why = "has no scheme (letters, digits, + - . followed by ':')", 0;
	if (v[i + 1] == '\0')
		return *why = "has nothing after its scheme", 0;
	for (const char *p = v; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c <= ' ' || c >= 0x7f)
			return *why = "has a space, control or non-ASCII character (percent-encode it)",
			       0;
		if (strchr("\"<>\\^`{|}", c) != NULL)
			return *why = "has a character a URI does not allow (\" < > \\ ^ ` { | })", 0;
		if (c == '%' && (!is_hex((unsigned char)p[1]) || !is_hex((unsigned char)p[2])))
			return *why = "has a '%' not followed by two hex digits", 0;
	}
	return 1;
}

/* Valid UTF-8 (no overlong forms, surrogates or code points past U+10FFFF)
 * without control characters. */
static int utf8_ok(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned char c = s[i];
		uint32_t cp;
		size_t len;
		if (c < 0x80) {
			if (c < 0x20 || c == 0x7f)
				return 0;
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, cp = c & 0x07;
		else
			return 0;
		if (i + len > n)
			return 0;
		for (size_t j = 1; j < len; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF) || (cp >= 0x80 && cp <= 0x9f))
			return 0;
		i += len;
	}
	return 1;
}

static int upn_ok(const char *v, const char **why)
{
	const char *at = strrchr(v, '@');
	size_t prefix;

	if (at == NULL)
		return *why = "has no '@' (a UPN is prefix@suffix)", 0;
	prefix = (size_t)(at - v);
	if (prefix == 0)
		return *why = "has an empty prefix", 0;
	if (prefix > 256)
		return *why = "has a prefix longer than 256 bytes", 0;
	if (!utf8_ok((const unsigned char *)v, prefix))
		return *why = "has a prefix that is not UTF-8 text without control characters", 0;
	for (size_t i = 0; i < prefix; i++)
		if (v[i] == ' ' || v[i] == '@' || strchr("\"/\\[]:;|=,+*?<>", v[i]) != NULL)
			return *why = "has a character a UPN prefix does not allow (space @ \" / \\ "
				      "[ ] : ; | = , + * ? < >)",
			       0;
	const char *dwhy;
	if (!dns_ok(at + 1, strlen(at + 1), &dwhy))
		return *why = "has a suffix that is not a valid DNS name", 0;
	return 1;
}

int san_value_ok(san_kind k, const char *v, const char **why)
{
	*why = NULL;
	if (v == NULL || *v == '\0')
		return *why = "is empty", 0;
	switch (k) {
	case SAN_EMAIL: return email_ok(v, why);
	case SAN_UPN: return upn_ok(v, why);
	case SAN_DNS: return dns_ok(v, strlen(v), why);
	case SAN_URI: return uri_ok(v, why);
	default: break;
	}
	*why = "is of an unknown kind";
	return 0;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return 0;                                                                          \
	} while (0)

int san_lines_ok(const char *lines, char *err, size_t errlen)
{
	int count[SAN_KIND_COUNT] = {0};
	const char *p = lines, *why;
	char value[1100];

	if (lines == NULL || *lines == '\0')
		return 1;
	if (strlen(lines) > SAN_MAX_TEXT)
		FAIL("the SubjectAltNames exceed %d bytes", SAN_MAX_TEXT);
	while (*p) {
		size_t n = strcspn(p, "\n");
		const char *eq = memchr(p, '=', n);
		int k = eq != NULL ? san_kind_parse(p, (size_t)(eq - p)) : -1;
		if (k < 0)
			FAIL("\"%.*s\": a SubjectAltName is email=, upn=, dns= or uri=",
			     (int)(n > 64 ? 64 : n), p);
		size_t vn = n - (size_t)(eq + 1 - p);
		if (vn >= sizeof(value))
			FAIL("%s \"%.40s...\" is longer than 1024 characters", kind_names[k], eq + 1);
		memcpy(value, eq + 1, vn);
		value[vn] = '\0';
		if (!san_value_ok((san_kind)k, value, &why))
			FAIL("%s \"%.200s\" %s", kind_names[k], value, why);
		if (++count[k] > (k == SAN_UPN ? 1 : SAN_MAX_PER_KIND)) {
			if (k == SAN_UPN)
				FAIL("upn \"%.200s\": one UPN per certificate", value);
			FAIL("%s \"%.200s\": at most %d %s values", kind_names[k], value,
			     SAN_MAX_PER_KIND, kind_names[k]);
		}
		/* the same value twice (case-insensitively for the names) */
		for (const char *q = lines; q < p;) {
			size_t qn = strcspn(q, "\n");
			if (qn == n && (k == SAN_URI || k == SAN_UPN ? strncmp(q, p, n) == 0
								       : strncasecmp(q, p, n) == 0))
				FAIL("%s \"%.200s\" is given twice", kind_names[k], value);
			q += qn;
			if (*q == '\n')
				q++;
		}
		p += n;
		if (*p == '\n') {
			p++;
			if (*p == '\0')
				FAIL("the SubjectAltNames end with an empty line");
		}
	}
	return 1;
}

int san_lines_have(const char *lines, san_kind k)
{
	const char *name = san_kind_name(k), *p = lines;
	size_t n = strlen(name);

	while (p != NULL && *p) {
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			return 1;
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return 0;
}

char *san_expand(const char *tmpl, const san_vars *v)
{
	static const char *const names[] = {"owner", "cn", "name", "org", "ou"};
	const char *vals[] = {v->owner, v->cn, v->name, v->org, v->ou};
	size_t cap = strlen(tmpl) + 1, o = 0;
	char *out;

	for (size_t i = 0; i < 5; i++) /* every placeholder may be every value */
		cap += vals[i] ? strlen(vals[i]) * (strlen(tmpl) / 3 + 1) : 0;
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (const char *p = tmpl; *p;) {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t i;
			for (i = 0; end != NULL && i < 5; i++)
				if (strlen(names[i]) == (size_t)(end - p - 1) &&
				    strncmp(p + 1, names[i], (size_t)(end - p - 1)) == 0)
					break;
			if (end != NULL && i < 5) {
				size_t n = vals[i] ? strlen(vals[i]) : 0;
				memcpy(out + o, vals[i] ? vals[i] : "", n);
				o += n;
				p = end + 1;
				continue;
			}
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
	return out;
}

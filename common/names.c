/*
 * names.c — the text rules for what names people and certificates: the
 * fields of a certificate subject (CN, O, OU) and user names. One rule
 * each, used by every adapter through libcrtoken.
 *
 * A subject field is what a RADIUS policy or a person compares, in the
 * one-line form FreeRADIUS prints ("/O=x/OU=y/CN=z"), so two different
 * fields must never look alike there: no backslash (OU "IT\" then CN "bob"
 * prints exactly as the one OU "IT/CN=bob", whose '/' is escaped), no
 * invisible format characters (zero-width, bidi overrides), no spaces at
 * either end.
 *
 * A user name is the same string for the token owner, the OTP user, the
 * HTTP login and the audit row, so one rule (crt_user_name_check) decides
 * for all of them.
 */
#include <stdint.h>
#include <string.h>

#include "internal.h"

#define SUBJECT_FIELD_MAX 64 /* RFC 5280 ub-common-name (and O, OU): bytes here */
#define USER_NAME_MAX 128

/* The code point at *p (valid UTF-8, as field_check has made sure); *p moves on. */
static uint32_t next_cp(const unsigned char **p)
{
	uint32_t cp = 0;
	size_t n = crt_utf8_next(*p, 4, &cp);

	*p += n ? n : 1;
	return cp;
}

/* Unicode format characters (general category Cf), line and paragraph
 * separators, and noncharacters: invisible, or reorder what is around them. */
static int invisible(uint32_t c)
{
	static const struct {
		uint32_t lo, hi;
	} ranges[] = {
	    {0x00ad, 0x00ad},   {0x0600, 0x0605},   {0x061c, 0x061c},   {0x06dd, 0x06dd},
	    {0x070f, 0x070f},   {0x0890, 0x0891},   {0x08e2, 0x08e2},   {0x180e, 0x180e},
	    {0x200b, 0x200f},   {0x2028, 0x202e},   {0x2060, 0x2064},   {0x2066, 0x206f},
	    {0xfdd0, 0xfdef},   {0xfeff, 0xfeff},   {0xfff9, 0xfffb},   {0x110bd, 0x110bd},
	    {0x110cd, 0x110cd}, {0x13430, 0x1343f}, {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a},
	    {0xe0001, 0xe0001}, {0xe0020, 0xe007f},
	};
	if ((c & 0xfffe) == 0xfffe) /* U+xxFFFE, U+xxFFFF */
		return 1;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (c >= ranges[i].lo && c <= ranges[i].hi)
			return 1;
	return 0;
}

/* Space separators (general category Zs). */
static int space(uint32_t c)
{
	return c == 0x20 || c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
	       c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Why v is not a good subject field, or NULL if it is. */
static const char *subject_field_problem(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	uint32_t c = 0;

	if (v == NULL || *v == '\0')
		return "is empty";
	if (field_check(v, SUBJECT_FIELD_MAX) != CRT_OK)
		return "must be at most 64 bytes of printable UTF-8";
	if (strchr(v, '\\') != NULL)
		return "must not contain a backslash";
	if (space(next_cp(&p)))
		return "must not begin or end with a space";
	for (p = (const unsigned char *)v; *p;)
		if (invisible(c = next_cp(&p)))
			return "must not contain invisible (format) characters such as zero-width "
			       "or bidi controls";
	if (space(c))
		return "must not begin or end with a space";
	return NULL;
}

crt_status subject_field_check(const char *v, const char **why)
{
	*why = subject_field_problem(v);
	return *why == NULL ? CRT_OK : CRT_E_FIELD_INVALID;
}

/*
 * A user name crtoken stores, audits (as JSON: valid UTF-8 only), hands to
 * PAM and puts in an otpauth label: no ':' (the label's issuer separator and
 * HTTP Basic's), no spaces, nothing invisible.
 */
crt_status crt_user_name_check(const char *user)
{
	const unsigned char *p = (const unsigned char *)user;
	uint32_t c;

	if (user == NULL || *user == '\0' || field_check(user, USER_NAME_MAX) != CRT_OK ||
	    strchr(user, ':') != NULL)
		return CRT_E_FIELD_INVALID;
	while (*p)
		if (space(c = next_cp(&p)) || invisible(c))
			return CRT_E_FIELD_INVALID;
	return CRT_OK;
}

/* One domain label: 1-63 of A-Z a-z 0-9 '-', not starting or ending with '-'. */
static int label_ok(const char *s, size_t n)
{
	if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return 0;
	return 1;
}

/*
 * An address crtoken hands to an SMTP relay as one recipient (no display
 * name, no comments, no quoting): nothing that could end the command or
 * add a header.
 */
crt_status crt_email_check(const char *addr)
{
	const char *at;
	size_t len;

	if (addr == NULL || (len = strlen(addr)) > 254 || (at = strchr(addr, '@')) == NULL ||
	    at == addr || strchr(at + 1, '@') != NULL || at - addr > 64)
		return CRT_E_FIELD_INVALID;
	for (const char *p = addr; p < at; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("()<>[]\\,;:\"", *p) != NULL)
			return CRT_E_FIELD_INVALID;
	if (addr[0] == '.' || at[-1] == '.' || strstr(addr, "..") != NULL)
		return CRT_E_FIELD_INVALID;
	int labels = 0;
	for (const char *p = at + 1;; labels++) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!label_ok(p, n))
			return CRT_E_FIELD_INVALID;
		if (dot == NULL)
			break;
		p = dot + 1;
	}
	return labels >= 1 ? CRT_OK : CRT_E_FIELD_INVALID;
}

/*
 * rules/scope.c — API key scopes and profile lists (rules/scope.h).
 */
#include <string.h>

#include "rules/scope.h"

static const struct {
	const char *name;
	unsigned bit;
} scopes[] = {
    {"tokens:read", CRT_SCOPE_TOKENS_READ},     {"tokens:write", CRT_SCOPE_TOKENS_WRITE},
    {"certs:read", CRT_SCOPE_CERTS_READ},       {"certs:revoke", CRT_SCOPE_CERTS_REVOKE},
    {"requests:read", CRT_SCOPE_REQUESTS_READ}, {"requests:approve", CRT_SCOPE_REQUESTS_APPROVE},
    {"audit:read", CRT_SCOPE_AUDIT_READ},
};
#define NSCOPES (sizeof(scopes) / sizeof(scopes[0]))
#define PROFILE_NAME_MAX 64

const char *crt_scope_name(unsigned bit)
{
	for (size_t i = 0; i < NSCOPES; i++)
		if (scopes[i].bit == bit)
			return scopes[i].name;
	return NULL;
}

/* The bit of the n bytes at s ("all": CRT_SCOPE_ALL), 0 if none. */
static unsigned scope_bit(const char *s, size_t n)
{
	if (n == 3 && memcmp(s, "all", 3) == 0)
		return CRT_SCOPE_ALL;
	for (size_t i = 0; i < NSCOPES; i++)
		if (strlen(scopes[i].name) == n && memcmp(scopes[i].name, s, n) == 0)
			return scopes[i].bit;
	return 0;
}

/* Walk "a, b,c": each entry without the blanks around it. strict: an
 * unknown name fails; otherwise it is skipped. */
static crt_status parse(const char *list, int strict, unsigned *mask)
{
	const char *p = list, *end;
	unsigned m = 0, bit;
	size_t n;

	*mask = 0;
	if (list == NULL)
		return CRT_E_SCOPE_UNKNOWN;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		bit = n > 0 ? scope_bit(p, n) : 0;
		if (bit == 0 && strict)
			return CRT_E_SCOPE_UNKNOWN;
		m |= bit;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	*mask = m;
	return CRT_OK;
}

crt_status crt_scopes_parse(const char *list, unsigned *mask)
{
	unsigned m = 0;
	crt_status r;

	if (mask == NULL)
		return CRT_E_INVALID_ARGUMENT;
	*mask = 0;
	if ((r = parse(list, 1, &m)) != CRT_OK)
		return r;
	*mask = m;
	return CRT_OK;
}

crt_status crt_scopes_format(unsigned mask, char *buf, size_t len)
{
	size_t used = 0, n;

	if (buf == NULL || len == 0)
		return CRT_E_NOMEM;
	buf[0] = '\0';
	if ((mask & CRT_SCOPE_ALL) == CRT_SCOPE_ALL) {
		if (len < 4)
			return CRT_E_NOMEM;
		memcpy(buf, "all", 4);
		return CRT_OK;
	}
	for (size_t i = 0; i < NSCOPES; i++) {
		if (!(mask & scopes[i].bit))
			continue;
		n = strlen(scopes[i].name);
		if (used + (used ? 1 : 0) + n + 1 > len) {
			buf[0] = '\0';
			return CRT_E_NOMEM;
		}
		if (used)
			buf[used++] = ',';
		memcpy(buf + used, scopes[i].name, n + 1);
		used += n;
	}
	return CRT_OK;
}

int scope_grants(unsigned mask, unsigned need)
{
	return need != 0 && (mask & need) == need;
}

unsigned scope_from_stored(const char *text)
{
	unsigned m = 0;

	if (text == NULL)
		return CRT_SCOPE_ALL;
	(void)parse(text, 0, &m);
	return m;
}

static int profile_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* The length of the entry at p ending at ',' or NUL. */
static size_t entry_len(const char *p)
{
	return strcspn(p, ",");
}

crt_status scope_profiles_check(const char *list, const char **why)
{
	const char *p = list, *q;
	size_t n, m, i;

	if (why != NULL)
		*why = NULL;
	if (list == NULL || *list == '\0')
		goto empty;
	for (;;) {
		n = entry_len(p);
		if (n == 0)
			goto empty;
		if (n > PROFILE_NAME_MAX) {
			if (why != NULL)
				*why = "a profile name is at most 64 characters";
			return CRT_E_FIELD_INVALID;
		}
		for (i = 0; i < n; i++)
			if (!profile_char(p[i])) {
				if (why != NULL)
					*why = "profile names are a-z, 0-9, '-' and '_'";
				return CRT_E_FIELD_INVALID;
			}
		for (q = list; q < p; q += m + 1) {
			m = entry_len(q);
			if (m == n && memcmp(q, p, n) == 0) {
				if (why != NULL)
					*why = "a profile is listed twice";
				return CRT_E_FIELD_INVALID;
			}
		}
		if (p[n] == '\0')
			return CRT_OK;
		p += n + 1;
	}
empty:
	if (why != NULL)
		*why = "the profile list has an empty entry";
	return CRT_E_FIELD_INVALID;
}

int scope_profile_allowed(const char *list, const char *profile)
{
	const char *p = list;
	size_t n, want;

	if (list == NULL)
		return 1;
	if (profile == NULL || *profile == '\0')
		profile = CRT_CERT_PROFILE_DEFAULT;
	want = strlen(profile);
	for (;;) {
		n = entry_len(p);
		if (n == want && memcmp(p, profile, n) == 0)
			return 1;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

int crt_apikey_allows_profile(const crt_apikey *k, const char *profile)
{
	return k != NULL && scope_profile_allowed(k->profiles, profile);
}

/*
 * rules/admit.c — the admission rule (rules/admit.h): is the presented
 * certificate the stored one, and may it be admitted now?
 *
 * Admission binds the presented certificate to the stored one by its key
 * identifiers: the Authority Key Identifier names the key that signed it
 * and the Subject Key Identifier the key it certifies. Any CA radiusd
 * trusts can reuse crtoken's CA name and a stored serial; when ca_file
 * holds crtoken's CA, OpenSSL builds the chain of a certificate whose AKI
 * names that CA through that CA itself (trusted first), so the AKI is
 * backed by a signature check.
 */
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "rules/admit.h"

int admit_keyid_canon(const char *in, char *out, size_t outlen)
{
	const char *p = in;
	size_t n = 0;

	if (in == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (strncasecmp(p, "keyid:", 6) == 0)
		p += 6;
	while (isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1])) {
		if (n + 3 > outlen)
			return -1;
		out[n++] = (char)tolower((unsigned char)p[0]);
		out[n++] = (char)tolower((unsigned char)p[1]);
		p += 2;
		if (p[0] == ':' && isxdigit((unsigned char)p[1]))
			p++;
	}
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	if (*p != '\0' || n == 0)
		return -1;
	out[n] = '\0';
	return 0;
}

int admit_asn1_time(const char *s, int64_t *out)
{
	ASN1_TIME *t;
	struct tm tm;
	int ok = 0;

	if (s == NULL || (t = ASN1_TIME_new()) == NULL)
		return -1;
	if (ASN1_TIME_set_string(t, s) == 1) {
		*out = ASN1_TIME_to_tm(t, &tm) ? (int64_t)timegm(&tm) : 0;
		ok = 1;
	}
	ASN1_TIME_free(t);
	ERR_clear_error();
	return ok ? 0 : -1;
}

crt_status admit_status(const admit_stored *s, int64_t now, const char **why)
{
	const char *unused;

	if (why == NULL)
		why = &unused;
	*why = "";
	if (s->aki == NULL || s->ski == NULL)
		return *why = "the stored certificate has no key identifiers", CRT_E_CERT_MISMATCH;
	if (s->revoked)
		return *why = "revoked", CRT_E_CERT_REVOKED;
	if (now < s->not_before)
		return *why = "not valid yet", CRT_E_CERT_NOT_YET_VALID;
	if (now > s->not_after)
		return *why = "expired", CRT_E_CERT_EXPIRED;
	return CRT_OK;
}

crt_status admit_decide(const crt_presented *p, const admit_stored *s, int64_t now,
			const char **why)
{
	char serial[72], kid[160];
	const char *unused;
	int64_t t;

	if (why == NULL)
		why = &unused;
	*why = "";
	if (p == NULL || s == NULL)
		return *why = "nothing presented", CRT_E_INVALID_ARGUMENT;
	if (crt_serial_normalize(p->serial, serial, sizeof(serial)) != CRT_OK)
		return *why = "the serial is not hex", CRT_E_SERIAL_INVALID;
	if (s->serial == NULL || strcmp(serial, s->serial) != 0)
		return *why = "another serial", CRT_E_CERT_NOT_FOUND;
	if (p->issuer != NULL && (s->issuer == NULL || strcmp(p->issuer, s->issuer) != 0))
		return *why = "the issuer name is not the stored one", CRT_E_CERT_WRONG_ISSUER;
	if (s->aki == NULL || s->ski == NULL)
		return *why = "the stored certificate has no key identifiers", CRT_E_CERT_MISMATCH;
	if (p->aki == NULL)
		return *why = "no Authority Key Identifier presented", CRT_E_CERT_MISMATCH;
	if (admit_keyid_canon(p->aki, kid, sizeof(kid)) != 0)
		return *why = "the Authority Key Identifier is not a plain key id", CRT_E_CERT_MISMATCH;
	if (strcmp(kid, s->aki) != 0)
		return *why = "signed by another CA key (Authority Key Identifier differs)",
		       CRT_E_CERT_WRONG_ISSUER;
	if (p->ski == NULL)
		return *why = "no Subject Key Identifier presented", CRT_E_CERT_MISMATCH;
	if (admit_keyid_canon(p->ski, kid, sizeof(kid)) != 0)
		return *why = "the Subject Key Identifier is not a key id", CRT_E_CERT_MISMATCH;
	if (strcmp(kid, s->ski) != 0)
		return *why = "another key (Subject Key Identifier differs)", CRT_E_CERT_MISMATCH;
	if (p->not_before == NULL || p->not_after == NULL)
		return *why = "no validity period presented", CRT_E_CERT_MISMATCH;
	if (admit_asn1_time(p->not_before, &t) != 0 || t != s->not_before)
		return *why = "the start of validity is not the stored one", CRT_E_CERT_MISMATCH;
	if (admit_asn1_time(p->not_after, &t) != 0 || t != s->not_after)
		return *why = "the end of validity is not the stored one", CRT_E_CERT_MISMATCH;
	return admit_status(s, now, why);
}

static admit_stored of_cert(const crt_cert *c)
{
	return (admit_stored){
		.serial = c->serial,
		.issuer = c->issuer,
		.ski = c->ski,
		.aki = c->aki,
		.not_before = c->not_before,
		.not_after = c->not_after,
		.revoked = c->revoked,
	};
}

crt_status crt_cert_check_status(const crt_cert *stored, int64_t now, const char **why)
{
	admit_stored s = of_cert(stored);
	return admit_status(&s, now, why);
}

crt_status crt_cert_admit(const crt_presented *p, const crt_cert *stored, int64_t now,
			  const char **why)
{
	admit_stored s;

	if (p == NULL || stored == NULL) {
		if (why != NULL)
			*why = "nothing presented";
		return CRT_E_INVALID_ARGUMENT;
	}
	s = of_cert(stored);
	return admit_decide(p, &s, now, why);
}

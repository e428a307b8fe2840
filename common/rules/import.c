/*
 * rules/import.c — the upload rules of rules/import.h: functions of values.
 */
#include <stdio.h>
#include <string.h>

#include "rules/import.h"
#include "rules/token.h"

/* The next "-----BEGIN <label>-----" line in [p, end), or NULL; *label and
 * *llen the label. */
static const char *next_begin(const char *p, const char *end, const char **label, size_t *llen)
{
	static const char tag[] = "-----BEGIN ";
	const size_t tl = sizeof(tag) - 1;

	for (; p != NULL && p + tl <= end; p++) {
		p = memchr(p, '-', (size_t)(end - p));
		if (p == NULL || p + tl > end)
			return NULL;
		if (memcmp(p, tag, tl) != 0)
			continue;
		const char *l = p + tl, *q = l;
		while (q + 5 <= end && memcmp(q, "-----", 5) != 0 && *q != '\n')
			q++;
		if (q + 5 > end || *q == '\n')
			continue;
		*label = l;
		*llen = (size_t)(q - l);
		return q + 5;
	}
	return NULL;
}

static int label_is(const char *l, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(l, want, n) == 0;
}

static int label_ends(const char *l, size_t n, const char *tail)
{
	size_t t = strlen(tail);
	return n >= t && memcmp(l + n - t, tail, t) == 0;
}

crt_status import_pem_shape(const char *text, size_t len, const char **why)
{
	const char *p = text, *end = text + len, *label;
	size_t llen;
	int certs = 0, keys = 0;

	*why = "";
	if (text == NULL || len == 0) {
		*why = "nothing was given";
		return CRT_E_CERT_MALFORMED;
	}
	if (memchr(text, '\0', len) != NULL) {
		*why = "it is not PEM text (a NUL byte; DER is not accepted)";
		return CRT_E_CERT_MALFORMED;
	}
	while ((p = next_begin(p, end, &label, &llen)) != NULL) {
		if (label_is(label, llen, "CERTIFICATE") || label_is(label, llen, "X509 CERTIFICATE") ||
		    label_is(label, llen, "TRUSTED CERTIFICATE"))
			certs++;
		else if (label_ends(label, llen, "PRIVATE KEY"))
			keys++;
	}
	if (keys > 0) {
		*why = "the text holds a private key: it is not stored, not logged, and must not "
		       "be sent; send the certificate only";
		return CRT_E_CERT_PRIVATE_KEY;
	}
	if (certs > 1) {
		*why = "the text holds several certificates (a chain?); send the client "
		       "certificate alone, its issuers are in [import] trusted_issuers";
		return CRT_E_CERT_MULTIPLE;
	}
	if (certs == 0) {
		*why = "no -----BEGIN CERTIFICATE----- block";
		return CRT_E_CERT_MALFORMED;
	}
	return CRT_OK;
}

crt_status import_leaf_decide(const import_facts *f, int64_t now, const char **why)
{
	*why = "";
	if (!f->chain_ok) {
		*why = "it does not chain to a certificate in [import] trusted_issuers";
		return CRT_E_CERT_UNTRUSTED;
	}
	if (f->is_ca || (f->has_key_usage && (f->key_usage & IMPORT_KU_KEY_CERT_SIGN))) {
		*why = "it is a CA certificate (basicConstraints CA:TRUE or keyUsage keyCertSign)";
		return CRT_E_CERT_IS_CA;
	}
	if (now > f->not_after) {
		*why = "its notAfter is in the past";
		return CRT_E_CERT_EXPIRED;
	}
	if (now < f->not_before) {
		*why = "its notBefore is in the future";
		return CRT_E_CERT_NOT_YET_VALID;
	}
	if (f->has_eku && !f->eku_client_auth && !f->eku_any) {
		*why = "its extendedKeyUsage does not include clientAuth";
		return CRT_E_CERT_USAGE;
	}
	if (f->has_key_usage && !(f->key_usage & IMPORT_KU_DIGITAL_SIGNATURE)) {
		*why = "its keyUsage does not include digitalSignature (TLS client authentication "
		       "signs with the key)";
		return CRT_E_CERT_USAGE;
	}
	if (!f->has_ski || !f->has_aki) {
		*why = !f->has_ski ? "it has no Subject Key Identifier (RADIUS admission binds to it)"
				   : "it has no Authority Key Identifier keyid (RADIUS admission "
				     "binds to it)";
		return CRT_E_CERT_KEY_ID;
	}
	return CRT_OK;
}

/* The override a certificate field amounts to: its value, or when absent
 * "" (clear the token's value) — NULL when the token has none either. */
static const char *as_override(const char *cert_value, const char *token_value)
{
	if (cert_value != NULL)
		return cert_value;
	return token_value != NULL ? "" : NULL;
}

static int same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

crt_status import_subject_decide(const crt_token *t, const crt_redeem_req *req,
				 const import_subject *s, int64_t now, char *why, size_t whylen)
{
	crt_redeem_req r = *req;
	token_refusal tr;
	const char *cn, *org, *ou;
	crt_status st;

	why[0] = '\0';
	if (s->ncn > 1 || s->norg > 1 || s->nou > 1) {
		snprintf(why, whylen, "the subject has more than one %s",
			 s->ncn > 1 ? "commonName" : s->norg > 1 ? "organization"
							  : "organizationalUnit");
		return CRT_E_CERT_SUBJECT;
	}
	if (s->cn == NULL) {
		snprintf(why, whylen, "the subject has no commonName");
		return CRT_E_CERT_SUBJECT;
	}
	r.cn = as_override(s->cn, t->cn ? t->cn : t->name);
	r.org = as_override(s->org, t->org);
	r.ou = as_override(s->ou, t->ou);
	st = token_redeem_decide(t, &r, now, &cn, &org, &ou, &tr);
	if (st == CRT_E_FIELD_LOCKED || st == CRT_E_FIELD_INVALID) {
		snprintf(why, whylen, "%s", tr.msg);
		return CRT_E_CERT_SUBJECT;
	}
	if (st != CRT_OK) {
		snprintf(why, whylen, "%s", tr.msg);
		return st;
	}
	if (!same(cn, s->cn) || !same(org, s->org) || !same(ou, s->ou)) {
		snprintf(why, whylen, "the subject is not the one the token gives");
		return CRT_E_CERT_SUBJECT; /* unreachable by the rule above; fail closed */
	}
	return CRT_OK;
}

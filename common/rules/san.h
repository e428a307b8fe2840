/*
 * rules/san.h — SubjectAltNames of issued certificates as functions of
 * values: the four kinds crtoken writes (email = rfc822Name, upn = the
 * Microsoft UPN otherName 1.3.6.1.4.1.311.20.2.3 as a UTF8String, dns =
 * dNSName, uri = uniformResourceIdentifier), the check of each value, the
 * "kind=value" lines a token stores them as, and the expansion of a
 * profile's template ({owner} {cn} {name} {org} {ou}). No ctx, no store:
 * token_store.c and cert.c ask. Unit-tested without a database
 * (tests/unit/test_rules_san.c).
 *
 * Decisions: a DNS name is given as its A-label (xn--…): a U-label (any
 * byte outside ASCII) is refused with a message saying so, rather than
 * converted, so what the admin typed is what the certificate carries; an
 * A-label must decode as Punycode (RFC 3492). Wildcards, trailing dots and
 * empty labels are refused; labels are LDH, 1-63 characters, no hyphen at
 * either end, "--" in positions 3-4 only for "xn--"; the name at most 253.
 * An email address is an RFC 5321 mailbox in ASCII: a dot-atom local part
 * (at most 64) @ a DNS name as above (at most 254 in all); quoted local
 * parts and address literals are refused. A URI has a scheme (RFC 3986:
 * ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"), something after it,
 * printable ASCII without spaces, quotes, angle brackets, braces, "|",
 * "\", "^" or "`", and well-formed %HH escapes; at most 1024. A UPN is
 * prefix@suffix: valid UTF-8 without control characters, whitespace or any
 * of " / \ [ ] : ; | = , + * ? < > in the prefix (at most 256 bytes, as
 * Active Directory allows), the suffix a DNS name as above.
 */
#ifndef CRTOKEN_RULES_SAN_H
#define CRTOKEN_RULES_SAN_H

#include <stddef.h>

typedef enum san_kind { SAN_EMAIL = 0, SAN_UPN, SAN_DNS, SAN_URI, SAN_KIND_COUNT } san_kind;

/* At most this many values of one kind (a UPN: one), and this many bytes
 * of "kind=value" lines in all. */
#define SAN_MAX_PER_KIND 16
#define SAN_MAX_TEXT 4096

/* "email", "upn", "dns", "uri". */
const char *san_kind_name(san_kind k);
/* The kind named by the n bytes at name, or -1. */
int san_kind_parse(const char *name, size_t n);

/* One value of kind k: 1 when it is one, else 0 with *why (static text
 * saying what is wrong with it). */
int san_value_ok(san_kind k, const char *v, const char **why);

/*
 * A token's SubjectAltNames, "kind=value" lines ('\n'-separated; "" or NULL
 * is none): every line a known kind with a valid value, no value twice, at
 * most SAN_MAX_PER_KIND of a kind (one UPN), at most SAN_MAX_TEXT bytes.
 * 1, else 0 with the reason in err (naming the bad value).
 */
int san_lines_ok(const char *lines, char *err, size_t errlen);

/* Whether lines hold at least one value of kind k. */
int san_lines_have(const char *lines, san_kind k);

/* The values a template's placeholders stand for (NULL: empty). */
typedef struct san_vars {
	const char *owner, *cn, *name, *org, *ou;
} san_vars;

/* tmpl (rules/profile.h: certprof_template_ok) with its placeholders
 * replaced by v's values; malloc'd, NULL when out of memory. */
char *san_expand(const char *tmpl, const san_vars *v);

#endif /* CRTOKEN_RULES_SAN_H */

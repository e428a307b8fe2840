/*
 * rules/attest.h — the key attestation policy of a token and the decision
 * on a redemption's attestation, pure functions of values (no ctx, no
 * store, no OpenSSL). What a YubiKey PIV attestation says about the key
 * (attest_facts) is read from the certificates by attest.c; these rules
 * only judge it. Unit-tested without a database: tests/unit/test_rules_attest.c.
 *
 * The modes are privacyIDEA's:
 *   ignore   an attestation sent with the CSR is not looked at;
 *   verify   one that is sent must be valid and meet the minimums; none is fine;
 *   require  one must be sent, valid, and meet the minimums.
 * Minimums: the PIN policy (never < once < always), the touch policy
 * (never < cached < always) and the firmware version (major.minor.patch).
 */
#ifndef CRTOKEN_RULES_ATTEST_H
#define CRTOKEN_RULES_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "crtoken.h"

enum attest_mode { ATTEST_IGNORE = 0, ATTEST_VERIFY = 1, ATTEST_REQUIRE = 2 };

/* Yubico's codes, as the attestation certificate carries them
 * (1.3.6.1.4.1.41482.3.8: first byte PIN, second byte touch). */
enum attest_pin { ATTEST_PIN_NEVER = 1, ATTEST_PIN_ONCE = 2, ATTEST_PIN_ALWAYS = 3 };
enum attest_touch { ATTEST_TOUCH_NEVER = 1, ATTEST_TOUCH_ALWAYS = 2, ATTEST_TOUCH_CACHED = 3 };

/* A firmware version major.minor.patch as one comparable number. */
#define ATTEST_FW(ma, mi, pa) (((uint32_t)(ma) << 16) | ((uint32_t)(mi) << 8) | (uint32_t)(pa))

/* Which members of an attest_policy are set (the others come from the
 * defaults, attest_policy_merge). */
enum attest_set {
	ATTEST_SET_MODE = 1 << 0,
	ATTEST_SET_PIN = 1 << 1,
	ATTEST_SET_TOUCH = 1 << 2,
	ATTEST_SET_FIRMWARE = 1 << 3,
};

typedef struct attest_policy {
	unsigned set;          /* enum attest_set */
	int mode;              /* enum attest_mode */
	int pin_min;           /* enum attest_pin; 0 or ATTEST_PIN_NEVER: no minimum */
	int touch_min;         /* enum attest_touch; 0 or ATTEST_TOUCH_NEVER: no minimum */
	uint32_t firmware_min; /* ATTEST_FW(...); 0: no minimum */
} attest_policy;

/* What a verified attestation says about the key and the device. */
typedef struct attest_facts {
	int64_t serial;    /* device serial (1.3.6.1.4.1.41482.3.7); -1 if absent */
	uint32_t firmware; /* ATTEST_FW (.3.3); 0 if absent */
	int pin_policy;    /* enum attest_pin (.3.8); 0 if absent */
	int touch_policy;  /* enum attest_touch (.3.8); 0 if absent */
	int form_factor; /* low bits of .3.9 (0 unspecified, 1 USB-A keychain, ...); -1 if absent */
	int fips, cspn;  /* .3.9 high bits */
	char slot[8];    /* "9a" from the subject "YubiKey PIV Attestation 9a", "" if not */
	char root_sha256[65]; /* hex SHA-256 of the trusted root the chain ends at */
} attest_facts;

/* Names ↔ codes. "never"/"once"/"always"; "never"/"always"/"cached";
 * "ignore"/"verify"/"require". Parsers return 0 for an unknown name. */
const char *attest_mode_name(int mode);
int attest_mode_parse(const char *s); /* -1 if unknown */
const char *attest_pin_name(int pin);
int attest_pin_parse(const char *s);
const char *attest_touch_name(int touch);
int attest_touch_parse(const char *s);
/* "usb-a-keychain", ... ("unknown" beyond the known codes). */
const char *attest_form_factor_name(int ff);
/* "5.4.3" → ATTEST_FW(5,4,3) (each part 0-255, exactly three parts, "5.4"
 * means 5.4.0, "5" 5.0.0); CRT_E_FIELD_INVALID otherwise. */
crt_status attest_firmware_parse(const char *s, uint32_t *out) CRT_MUST_CHECK;
/* "5.4.3" into buf (>= 12 bytes). */
void attest_firmware_format(uint32_t fw, char *buf, size_t len);

/*
 * The stored form of a token's policy: "mode=require;pin=once;touch=cached;
 * firmware=5.4.3", only the members that are set, in that order (NULL or ""
 * = none set: every member from the defaults). Parsing is strict (unknown
 * keys, repeats, bad values: CRT_E_FIELD_INVALID, *why set).
 */
crt_status attest_policy_parse(const char *text, attest_policy *out,
                               const char **why) CRT_MUST_CHECK;
/* The stored form of p, malloc'd; NULL when nothing is set (or out of
 * memory: *oom set). */
char *attest_policy_format(const attest_policy *p, int *oom);
/*
 * Change p as an admin (or the config) asks: each argument NULL leaves its
 * member as it is, "" unsets it, anything else is parsed and set (mode
 * "ignore"/"verify"/"require", pin "never"/"once"/"always", touch
 * "never"/"cached"/"always", firmware "x.y.z"). CRT_E_FIELD_INVALID with
 * *why on a bad value (p unchanged then).
 */
crt_status attest_policy_apply(attest_policy *p, const char *mode, const char *pin,
                               const char *touch, const char *firmware,
                               const char **why) CRT_MUST_CHECK;
/* The effective policy: each member of token when set, else of defaults. */
attest_policy attest_policy_merge(const attest_policy *token, const attest_policy *defaults);

/*
 * The decision on a redemption, given the effective policy p, whether an
 * attestation was sent (present) and — when it was verified — the status
 * of its verification (verified: CRT_OK, or the attest.c refusal:
 * CRT_E_ATTEST_MALFORMED, _UNTRUSTED, _KEY_MISMATCH) and the facts it gave.
 * attest_needs_verify says whether to verify at all (mode is not ignore and
 * one was sent); the facts of a verified one are stored with the
 * certificate. attest_decide returns CRT_OK, CRT_E_ATTEST_MISSING (require
 * without one), the verification's refusal, or CRT_E_ATTEST_POLICY (a
 * minimum not met), with the reason in why_buf ("" on CRT_OK).
 */
int attest_needs_verify(const attest_policy *p, int present);
crt_status attest_decide(const attest_policy *p, int present, crt_status verified,
                         const attest_facts *f, char *why_buf, size_t why_len) CRT_MUST_CHECK;

#endif /* CRTOKEN_RULES_ATTEST_H */

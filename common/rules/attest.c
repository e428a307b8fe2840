/*
 * rules/attest.c — the token's attestation policy and the decision on a
 * redemption's attestation (rules/attest.h): names, the stored policy text,
 * the minimums. Values in, decision out.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/attest.h"

static const char *const mode_names[] = {"ignore", "verify", "require"};
static const char *const pin_names[] = {NULL, "never", "once", "always"};
static const char *const touch_names[] = {NULL, "never", "always", "cached"};

const char *attest_mode_name(int mode)
{
	return mode >= 0 && mode <= ATTEST_REQUIRE ? mode_names[mode] : "unknown";
}

int attest_mode_parse(const char *s)
{
	for (int i = 0; s != NULL && i <= ATTEST_REQUIRE; i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

const char *attest_pin_name(int pin)
{
	return pin >= ATTEST_PIN_NEVER && pin <= ATTEST_PIN_ALWAYS ? pin_names[pin] : "unknown";
}

int attest_pin_parse(const char *s)
{
	for (int i = ATTEST_PIN_NEVER; s != NULL && i <= ATTEST_PIN_ALWAYS; i++)
		if (strcmp(s, pin_names[i]) == 0)
			return i;
	return 0;
}

const char *attest_touch_name(int touch)
{
	return touch >= ATTEST_TOUCH_NEVER && touch <= ATTEST_TOUCH_CACHED ? touch_names[touch]
	                                                                   : "unknown";
}

int attest_touch_parse(const char *s)
{
	for (int i = ATTEST_TOUCH_NEVER; s != NULL && i <= ATTEST_TOUCH_CACHED; i++)
		if (strcmp(s, touch_names[i]) == 0)
			return i;
	return 0;
}

const char *attest_form_factor_name(int ff)
{
	/* Yubico's PIV attestation OID arc, 1.3.6.1.4.1.41482.3.9 */
	static const char *const names[] = {
	    "unspecified", "usb-a-keychain",  "usb-a-nano",         "usb-c-keychain",
	    "usb-c-nano",  "usb-c-lightning", "usb-a-bio-keychain", "usb-c-bio-keychain"};
	return ff >= 0 && ff < (int)(sizeof(names) / sizeof(names[0])) ? names[ff] : "unknown";
}

/* Strength order of the policies: a higher rank asks more of the user. */
static int pin_rank(int pin)
{
	return pin == ATTEST_PIN_ALWAYS ? 2 : pin == ATTEST_PIN_ONCE ? 1 : 0;
}

static int touch_rank(int touch)
{
	return touch == ATTEST_TOUCH_ALWAYS ? 2 : touch == ATTEST_TOUCH_CACHED ? 1 : 0;
}

crt_status attest_firmware_parse(const char *s, uint32_t *out)
{
	unsigned part[3] = {0, 0, 0};
	int n = 0;

	*out = 0;
	if (s == NULL || *s == '\0')
		return CRT_E_FIELD_INVALID;
	for (const char *p = s;; p++) {
		if (*p < '0' || *p > '9')
			return CRT_E_FIELD_INVALID;
		unsigned v = 0;
		int digits = 0;
		for (; *p >= '0' && *p <= '9'; p++)
			if (++digits > 3 || (v = v * 10 + (unsigned)(*p - '0')) > 255)
				return CRT_E_FIELD_INVALID;
		part[n++] = v;
		if (*p == '\0')
			break;
		if (*p != '.' || n == 3)
			return CRT_E_FIELD_INVALID;
	}
	*out = ATTEST_FW(part[0], part[1], part[2]);
	return CRT_OK;
}

void attest_firmware_format(uint32_t fw, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u", (fw >> 16) & 0xff, (fw >> 8) & 0xff, fw & 0xff);
}

crt_status attest_policy_parse(const char *text, attest_policy *out, const char **why)
{
	char item[64];

	memset(out, 0, sizeof(*out));
	*why = "";
	if (text == NULL || *text == '\0')
		return CRT_OK;
	for (const char *p = text;;) {
		const char *end = strchr(p, ';');
		size_t n = end != NULL ? (size_t)(end - p) : strlen(p);
		char *eq;
		if (n == 0 || n >= sizeof(item)) {
			*why = "an attestation policy item is empty or too long";
			return CRT_E_FIELD_INVALID;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if ((eq = strchr(item, '=')) == NULL) {
			*why = "an attestation policy item is not key=value";
			return CRT_E_FIELD_INVALID;
		}
		*eq++ = '\0';
		if (strcmp(item, "mode") == 0 && !(out->set & ATTEST_SET_MODE)) {
			if ((out->mode = attest_mode_parse(eq)) < 0) {
				*why = "the attestation mode must be ignore, verify or require";
				return CRT_E_FIELD_INVALID;
			}
			out->set |= ATTEST_SET_MODE;
		} else if (strcmp(item, "pin") == 0 && !(out->set & ATTEST_SET_PIN)) {
			if ((out->pin_min = attest_pin_parse(eq)) == 0) {
				*why = "the attested PIN policy must be never, once or always";
				return CRT_E_FIELD_INVALID;
			}
			out->set |= ATTEST_SET_PIN;
		} else if (strcmp(item, "touch") == 0 && !(out->set & ATTEST_SET_TOUCH)) {
			if ((out->touch_min = attest_touch_parse(eq)) == 0) {
				*why = "the attested touch policy must be never, cached or always";
				return CRT_E_FIELD_INVALID;
			}
			out->set |= ATTEST_SET_TOUCH;
		} else if (strcmp(item, "firmware") == 0 && !(out->set & ATTEST_SET_FIRMWARE)) {
			if (attest_firmware_parse(eq, &out->firmware_min) != CRT_OK) {
				*why = "the minimum firmware must be a version like 5.4.3";
				return CRT_E_FIELD_INVALID;
			}
			out->set |= ATTEST_SET_FIRMWARE;
		} else {
			*why = "unknown or repeated attestation policy item";
			return CRT_E_FIELD_INVALID;
		}
		if (end == NULL)
			return CRT_OK;
		p = end + 1;
	}
}

char *attest_policy_format(const attest_policy *p, int *oom)
{
	char buf[128] = "", fw[16];
	size_t len = 0;

	*oom = 0;
	if ((p->set & ATTEST_SET_MODE) != 0)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";mode=%s",
		                        attest_mode_name(p->mode));
	if ((p->set & ATTEST_SET_PIN) != 0)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";pin=%s",
		                        attest_pin_name(p->pin_min));
	if ((p->set & ATTEST_SET_TOUCH) != 0)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";touch=%s",
		                        attest_touch_name(p->touch_min));
	if ((p->set & ATTEST_SET_FIRMWARE) != 0) {
		attest_firmware_format(p->firmware_min, fw, sizeof(fw));
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, ";firmware=%s", fw);
	}
	if (len == 0)
		return NULL;
	char *s = strdup(buf + 1);
	*oom = s == NULL;
	return s;
}

crt_status attest_policy_apply(attest_policy *p, const char *mode, const char *pin,
                               const char *touch, const char *firmware, const char **why)
{
	attest_policy n = *p;

	*why = "";
	if (mode != NULL && *mode == '\0') {
		n.set &= ~(unsigned)ATTEST_SET_MODE;
		n.mode = ATTEST_IGNORE;
	} else if (mode != NULL) {
		if ((n.mode = attest_mode_parse(mode)) < 0) {
			*why = "the attestation mode must be ignore, verify or require";
			return CRT_E_FIELD_INVALID;
		}
		n.set |= ATTEST_SET_MODE;
	}
	if (pin != NULL && *pin == '\0') {
		n.set &= ~(unsigned)ATTEST_SET_PIN;
		n.pin_min = 0;
	} else if (pin != NULL) {
		if ((n.pin_min = attest_pin_parse(pin)) == 0) {
			*why = "the attested PIN policy must be never, once or always";
			return CRT_E_FIELD_INVALID;
		}
		n.set |= ATTEST_SET_PIN;
	}
	if (touch != NULL && *touch == '\0') {
		n.set &= ~(unsigned)ATTEST_SET_TOUCH;
		n.touch_min = 0;
	} else if (touch != NULL) {
		if ((n.touch_min = attest_touch_parse(touch)) == 0) {
			*why = "the attested touch policy must be never, cached or always";
			return CRT_E_FIELD_INVALID;
		}
		n.set |= ATTEST_SET_TOUCH;
	}
	if (firmware != NULL && *firmware == '\0') {
		n.set &= ~(unsigned)ATTEST_SET_FIRMWARE;
		n.firmware_min = 0;
	} else if (firmware != NULL) {
		if (attest_firmware_parse(firmware, &n.firmware_min) != CRT_OK) {
			*why = "the minimum firmware must be a version like 5.4.3";
			return CRT_E_FIELD_INVALID;
		}
		n.set |= ATTEST_SET_FIRMWARE;
	}
	*p = n;
	return CRT_OK;
}

attest_policy attest_policy_merge(const attest_policy *token, const attest_policy *defaults)
{
	attest_policy p = *defaults;
	if (token->set & ATTEST_SET_MODE)
		p.mode = token->mode;
	if (token->set & ATTEST_SET_PIN)
		p.pin_min = token->pin_min;
	if (token->set & ATTEST_SET_TOUCH)
		p.touch_min = token->touch_min;
	if (token->set & ATTEST_SET_FIRMWARE)
		p.firmware_min = token->firmware_min;
	p.set = token->set | defaults->set;
	return p;
}

int attest_needs_verify(const attest_policy *p, int present)
{
	return present && p->mode != ATTEST_IGNORE;
}

crt_status attest_decide(const attest_policy *p, int present, crt_status verified,
                         const attest_facts *f, char *why, size_t len)
{
	char have[16], want[16];

	snprintf(why, len, "%s", "");
	if (p->mode == ATTEST_IGNORE)
		return CRT_OK;
	if (!present) {
		if (p->mode != ATTEST_REQUIRE)
			return CRT_OK;
		snprintf(why, len,
		         "send the attestation certificate of the CSR's key followed by "
		         "the device's intermediate (slot f9), PEM");
		return CRT_E_ATTEST_MISSING;
	}
	if (verified != CRT_OK)
		return verified; /* attest.c said why */
	if (pin_rank(p->pin_min) > 0 && pin_rank(f->pin_policy) < pin_rank(p->pin_min)) {
		snprintf(why, len, "the key's PIN policy is %s; this token requires %s or stronger",
		         f->pin_policy ? attest_pin_name(f->pin_policy) : "not attested",
		         attest_pin_name(p->pin_min));
		return CRT_E_ATTEST_POLICY;
	}
	if (touch_rank(p->touch_min) > 0 &&
	    touch_rank(f->touch_policy) < touch_rank(p->touch_min)) {
		snprintf(why, len,
		         "the key's touch policy is %s; this token requires %s or stronger",
		         f->touch_policy ? attest_touch_name(f->touch_policy) : "not attested",
		         attest_touch_name(p->touch_min));
		return CRT_E_ATTEST_POLICY;
	}
	if (p->firmware_min != 0 && f->firmware < p->firmware_min) {
		attest_firmware_format(f->firmware, have, sizeof(have));
		attest_firmware_format(p->firmware_min, want, sizeof(want));
		snprintf(why, len, "the device's firmware is %s; this token requires %s or newer",
		         f->firmware ? have : "not attested", want);
		return CRT_E_ATTEST_POLICY;
	}
	return CRT_OK;
}

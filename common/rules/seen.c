/*
 * rules/seen.c — the RADIUS session rules of rules/seen.h.
 */
#include <ctype.h>
#include <string.h>

#include "rules/seen.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

crt_status seen_mac_normalize(const char *in, char out[CRT_MAC_MAX])
{
	const char *b, *e;
	char hex[12];
	size_t n = 0, seps = 0, len;
	int ok = 1;

	out[0] = '\0';
	if (in == NULL)
		return CRT_E_FIELD_INVALID;
	for (b = in; *b == ' ' || *b == '\t'; b++)
		;
	for (e = b + strlen(b); e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	len = (size_t)(e - b);
	if (len == 0 || len >= CRT_MAC_MAX)
		return CRT_E_FIELD_INVALID;
	for (const char *p = b; p < e; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return CRT_E_FIELD_INVALID;
		if (hexval((unsigned char)*p) >= 0) {
			if (n == sizeof(hex)) {
				ok = 0;
				continue;
			}
			hex[n++] = (char)tolower((unsigned char)*p);
		} else if (*p == ':' || *p == '-' || *p == '.') {
			seps++;
		} else {
			ok = 0;
		}
	}
	/* Six octets: aa:bb:cc:dd:ee:ff, AA-BB-.., aabb.ccdd.eeff, aabbccddeeff. */
	if (ok && n == 12 && (seps == 0 || seps == 5 || seps == 2)) {
		for (int i = 0; i < 6; i++) {
			out[3 * i] = hex[2 * i];
			out[3 * i + 1] = hex[2 * i + 1];
			out[3 * i + 2] = i < 5 ? ':' : '\0';
		}
		return CRT_OK;
	}
	for (size_t i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)b[i]);
	out[len] = '\0';
	return CRT_OK;
}

crt_status seen_pin_decide(int pin, const char *pinned, const char *mac, int *claim,
			   const char **why)
{
	*claim = 0;
	*why = "";
	if (pin != CRT_PIN_MAC_FIRST)
		return CRT_OK;
	if (mac == NULL || *mac == '\0') {
		*why = "pinned to its first MAC address, and no Calling-Station-Id was presented";
		return CRT_E_CERT_MAC_PINNED;
	}
	if (pinned == NULL || *pinned == '\0') {
		*claim = 1;
		return CRT_OK;
	}
	if (strcmp(pinned, mac) != 0) {
		*why = "pinned to the MAC address of its first admission, presented from another "
		       "(a cloned certificate?)";
		return CRT_E_CERT_MAC_PINNED;
	}
	return CRT_OK;
}

int seen_pin_effective(int own, int profile, int site)
{
	if (own == CRT_PIN_MAC_OFF || own == CRT_PIN_MAC_FIRST)
		return own;
	if (profile == CRT_PIN_MAC_OFF || profile == CRT_PIN_MAC_FIRST)
		return profile;
	return site;
}

int seen_pin_parse(const char *s)
{
	if (s == NULL)
		return -1;
	if (strcmp(s, "first") == 0)
		return CRT_PIN_MAC_FIRST;
	if (strcmp(s, "off") == 0)
		return CRT_PIN_MAC_OFF;
	return -1;
}

int64_t seen_session_timeout(int64_t not_after, int64_t now, int64_t cap)
{
	int64_t left = not_after - now;

	if (cap > 0 && left > cap)
		left = cap;
	return left < 1 ? 1 : left;
}

void seen_merge(crt_sighting *into, const crt_sighting *newer)
{
	if (newer->first_at < into->first_at) {
		into->first_at = newer->first_at;
		if (newer->first_mac[0] != '\0')
			memcpy(into->first_mac, newer->first_mac, sizeof(into->first_mac));
	} else if (into->first_mac[0] == '\0') {
		memcpy(into->first_mac, newer->first_mac, sizeof(into->first_mac));
	}
	if (newer->last_at >= into->last_at) {
		into->last_at = newer->last_at;
		memcpy(into->mac, newer->mac, sizeof(into->mac));
		memcpy(into->nas_ip, newer->nas_ip, sizeof(into->nas_ip));
		memcpy(into->nas_id, newer->nas_id, sizeof(into->nas_id));
		memcpy(into->user_name, newer->user_name, sizeof(into->user_name));
		memcpy(into->acct_session_id, newer->acct_session_id,
		       sizeof(into->acct_session_id));
	}
}

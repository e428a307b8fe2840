/*
 * seen.c — what RADIUS saw of each certificate: the batched record of
 * admissions rlm_crtoken queues (crt_cert_seen_record, one transaction per
 * flush), the MAC pin of pin_mac = first (crt_cert_pin_claim, written on
 * the request path once per certificate) and the small value helpers the
 * module shares with the rules (rules/seen.c).
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "rules/seen.h"

crt_status crt_mac_normalize(const char *in, char out[CRT_MAC_MAX])
{
	return seen_mac_normalize(in, out);
}

int crt_pin_mac_parse(const char *s, int *pin)
{
	int v = seen_pin_parse(s);
	if (v < 0)
		return -1;
	*pin = v;
	return 0;
}

const char *crt_pin_mac_name(int pin)
{
	return pin == CRT_PIN_MAC_FIRST ? "first" : "off";
}

void crt_sighting_merge(crt_sighting *into, const crt_sighting *newer)
{
	seen_merge(into, newer);
}

void crt_admission_clear(crt_admission *a)
{
	if (a == NULL)
		return;
	free(a->reply);
	memset(a, 0, sizeof(*a));
}

crt_status crt_cert_pin_claim(crt_ctx *ctx, const char *serial, const char *mac, int64_t now)
{
	char norm[72], m[CRT_MAC_MAX], winner[CRT_MAC_MAX];
	char *detail = NULL;
	crt_status r;
	int pinned = 0;
	jbuf j;

	ctx_clear_detail(ctx);
	if (crt_serial_normalize(serial, norm, sizeof(norm)) != CRT_OK)
		return ctx_fail(ctx, CRT_E_SERIAL_INVALID, "\"%s\" is not a hex serial",
				serial ? serial : "(none)");
	if (crt_mac_normalize(mac, m) != CRT_OK)
		return ctx_fail(ctx, CRT_E_CERT_MAC_PINNED,
				"serial %s: no usable Calling-Station-Id to pin", norm);
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_cert_pin_claim(ctx, norm, m, now, winner, sizeof(winner), &pinned)) !=
	    CRT_OK)
		goto fail;
	if (winner[0] == '\0') {
		r = ctx_fail(ctx, CRT_E_CERT_NOT_FOUND, "serial %s was never issued by crtoken",
			     norm);
		goto fail;
	}
	if (!pinned) { /* nothing written: somebody pinned it first */
		store_rollback(ctx);
		if (strcmp(winner, m) == 0)
			return CRT_OK;
		return ctx_fail(ctx, CRT_E_CERT_MAC_PINNED,
				"serial %s is pinned to %s, presented from %s (a cloned "
				"certificate?)",
				norm, winner, m);
	}
	jb_begin(&j);
	jb_str(&j, "mac", m);
	if ((detail = jb_end(&j)) == NULL) {
		r = CRT_E_NOMEM;
		goto fail;
	}
	if ((r = audit_write(ctx, "radius", "cert.pin", norm, detail)) != CRT_OK)
		goto fail;
	r = store_commit(ctx);
	goto out;
fail:
	store_rollback(ctx);
out:
	free(detail);
	return r;
}

crt_status crt_cert_seen_record(crt_ctx *ctx, const crt_sighting *v, size_t n)
{
	char norm[72];
	char *detail = NULL;
	crt_status r;
	int inserted;
	jbuf j;

	ctx_clear_detail(ctx);
	if (n == 0)
		return CRT_OK;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (crt_serial_normalize(v[i].serial, norm, sizeof(norm)) != CRT_OK)
			continue; /* never queued by the module: it admitted the serial */
		store_seen s = {
			.serial = norm,
			.first_at = v[i].first_at,
			.last_at = v[i].last_at,
			.first_mac = v[i].first_mac,
			.mac = v[i].mac,
			.nas_ip = v[i].nas_ip,
			.nas_id = v[i].nas_id,
			.user_name = v[i].user_name,
			.acct_session_id = v[i].acct_session_id,
		};
		if ((r = store_cert_seen_merge(ctx, &s, &inserted)) != CRT_OK)
			goto fail;
		if (!inserted)
			continue;
		jb_begin(&j);
		jb_int(&j, "at", v[i].first_at);
		jb_str(&j, "mac", v[i].first_mac[0] ? v[i].first_mac : NULL);
		jb_str(&j, "nasIp", v[i].nas_ip[0] ? v[i].nas_ip : NULL);
		jb_str(&j, "nasId", v[i].nas_id[0] ? v[i].nas_id : NULL);
		if ((detail = jb_end(&j)) == NULL) {
			r = CRT_E_NOMEM;
			goto fail;
		}
		r = audit_write(ctx, "radius", "cert.first_seen", norm, detail);
		free(detail);
		detail = NULL;
		if (r != CRT_OK)
			goto fail;
	}
	return store_commit(ctx);
fail:
	store_rollback(ctx);
	return r;
}

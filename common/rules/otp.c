/*
 * rules/otp.c — the OTP decision (replay, window, lockout) as a pure
 * function of values; the rule is stated in rules/otp.h.
 */
#include <string.h>

#include "rules/otp.h"

int otp_is_locked(const crt_otp_lockout *lk, int64_t now)
{
	return lk->locked_until > now;
}

int64_t otp_lockout_step(const otp_policy *p, crt_otp_lockout *lk, int success, int64_t now)
{
	int64_t len, cap;

	if (lk->locked_until != 0 && lk->locked_until <= now) {
		/* lockout over: a fresh series of attempts (the lockout still counts) */
		lk->locked_until = 0;
		lk->failures = 0;
	}
	if (success) {
		lk->failures = 0;
		lk->lockouts = 0;
		lk->locked_until = 0;
		return 0;
	}
	if (++lk->failures < p->max_failures)
		return 0;
	lk->lockouts++;
	len = p->lockout_seconds;
	cap = p->lockout_max_seconds > len ? p->lockout_max_seconds : len;
	for (int i = 1; i < lk->lockouts && len < cap; i++)
		len *= 2;
	if (len > cap)
		len = cap;
	lk->locked_until = now + len;
	return len;
}

int otp_code_wellformed(const char *code, int digits)
{
	if (code == NULL || strlen(code) != (size_t)digits)
		return 0;
	for (const char *p = code; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/* Constant-time equality of n bytes (no early exit on the first mismatch). */
static int same_code(const char *a, const char *b, size_t n)
{
	unsigned char d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/*
 * Look for code among the steps around step, nearest first. *kind: 1 =
 * matched a step after last_step (offset in *match), 2 = matched only steps
 * at or before last_step (a replay; the nearest such offset in *match),
 * 0 = no match.
 */
static crt_status find_step(const otp_state *s, const otp_attempt *a, otp_code_fn code_of,
			    void *arg, int *match, int *kind)
{
	char want[16];
	int64_t step = a->now / a->period;
	int replay = 0, replay_off = 0;
	crt_status r = CRT_OK;

	*kind = 0;
	*match = 0;
	for (int k = 0; k <= 2 * a->window; k++) {
		int off = (k + 1) / 2 * (k % 2 ? -1 : 1); /* 0, -1, +1, -2, +2, ... */
		int64_t t = step + off;
		if (t < 0)
			continue;
		if ((r = code_of(arg, (uint64_t)t, want, sizeof(want))) != CRT_OK)
			goto out;
		if (!same_code(want, a->code, (size_t)a->digits))
			continue;
		if (t > s->last_step) {
			*match = off;
			*kind = 1;
			goto out;
		}
		if (!replay) {
			replay = 1;
			replay_off = off;
		}
	}
	if (replay) {
		*match = replay_off;
		*kind = 2;
	}
out:
	explicit_bzero(want, sizeof(want));
	return r;
}

crt_status otp_decide(const otp_state *s, const otp_attempt *a, const otp_policy *p,
		      otp_code_fn code_of, void *arg, otp_verdict *v)
{
	int off = 0, kind = 0;
	crt_status r;

	memset(v, 0, sizeof(*v));
	if (a->now < 0 || a->window < 0 || a->period <= 0 || (a->digits != 6 && a->digits != 8))
		return CRT_E_INVALID_ARGUMENT;
	v->next = *s;
	if (otp_is_locked(&s->lk, a->now)) {
		/* refused without looking at the code: no oracle while locked */
		v->outcome = OTP_LOCKED;
		return CRT_OK;
	}
	if (otp_code_wellformed(a->code, a->digits) &&
	    (r = find_step(s, a, code_of, arg, &off, &kind)) != CRT_OK)
		return r;
	v->write = 1;
	v->lockout_started = otp_lockout_step(p, &v->next.lk, kind == 1, a->now);
	v->offset = off;
	if (kind == 1) {
		v->outcome = OTP_ACCEPTED;
		v->next.last_step = a->now / a->period + off;
	} else {
		v->outcome = kind == 2 ? OTP_REPLAYED : OTP_BAD_CODE;
	}
	return CRT_OK;
}

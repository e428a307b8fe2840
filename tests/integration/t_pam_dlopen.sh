#!/bin/sh
# t_pam_dlopen.sh — pam_crtoken loaded and unloaded again and again in one
# process, as in any long-running PAM host: libpam dlopens the module at
# pam_start and dlcloses it at pam_end. Every login gets the right answer
# (the store written by one load is read by the next), the module is really
# unloaded after each pam_end (nothing pins it: no -z nodelete), logins from
# several threads share it, and under SANITIZE=1 ASan — leak detection on —
# finds no invalid access and no leak across the cycles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/pam_lib.sh"

NOW=1800000015 # 15 s into time step 60000000
CYCLES=8
THREADS=4
new_instance "$T/inst" || { not_ok "instance created"; finish; exit 1; }
CONF=$CRTOKEN_CONF
service crtoken "auth required $PAM_SO config=$CONF"

cat >"$T/cycle.c" <<'EOF'
/* cycle SO seq USER=CODE... | cycle SO threads ROUNDS USER=CODE... :
 * one login per USER=CODE (seq), or ROUNDS logins per USER=CODE, one thread
 * each (threads). Prints "USER RC LOADED" per login (seq) or per thread
 * (threads: the last RC), LOADED being whether pam_crtoken is still mapped
 * once that login's pam_end returned (seq) or all threads ended (threads). */
#include <dlfcn.h>
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *so;
static int rounds = 1;
static pthread_barrier_t go;

struct login {
	char user[64];
	const char *code;
	int rc;
	pthread_t th;
};

static int conv(int n, const struct pam_message **m, struct pam_response **r, void *d)
{
	struct pam_response *p = calloc((size_t)n, sizeof(*p));
	for (int i = 0; p != NULL && i < n; i++)
		if (m[i]->msg_style == PAM_PROMPT_ECHO_OFF || m[i]->msg_style == PAM_PROMPT_ECHO_ON)
			p[i].resp = strdup(d);
	*r = p;
	return p ? PAM_SUCCESS : PAM_BUF_ERR;
}

static int login(const char *user, const char *code)
{
	struct pam_conv c = {conv, (void *)code};
	pam_handle_t *h = NULL;
	int rc;
	if (pam_start("crtoken", user, &c, &h) != PAM_SUCCESS)
		return -1;
	rc = pam_authenticate(h, 0);
	pam_end(h, rc);
	return rc;
}

static int loaded(void)
{
	void *h = dlopen(so, RTLD_NOW | RTLD_NOLOAD);
	if (h != NULL)
		dlclose(h);
	return h != NULL;
}

static void parse(struct login *l, const char *arg)
{
	const char *eq = strchr(arg, '=');
	snprintf(l->user, sizeof(l->user), "%.*s", (int)(eq - arg), arg);
	l->code = eq + 1;
}

static void *thread(void *arg)
{
	struct login *l = arg;
	pthread_barrier_wait(&go);
	for (int i = 0; i < rounds; i++)
		l->rc = login(l->user, l->code);
	return NULL;
}

int main(int argc, char **argv)
{
	struct login l[16];
	int first = 3, n;
	so = argv[1];
	if (strcmp(argv[2], "seq") == 0) {
		for (int i = first; i < argc; i++) {
			parse(&l[0], argv[i]);
			l[0].rc = login(l[0].user, l[0].code);
			printf("%s %d %d\n", l[0].user, l[0].rc, loaded());
		}
		return 0;
	}
	rounds = atoi(argv[3]);
	first = 4;
	n = argc - first;
	if (n < 1 || n > 16)
		return 2;
	pthread_barrier_init(&go, NULL, (unsigned)n);
	for (int i = 0; i < n; i++) {
		parse(&l[i], argv[first + i]);
		pthread_create(&l[i].th, NULL, thread, &l[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(l[i].th, NULL);
	for (int i = 0; i < n; i++)
		printf("%s %d %d\n", l[i].user, l[i].rc, loaded());
	pthread_barrier_destroy(&go);
	return 0;
}
EOF
${CC:-cc} -o "$T/cycle" "$T/cycle.c" -lpam -ldl -lpthread ||
	{ not_ok "the cycle helper compiles"; finish; exit 1; }

# cycle ARGS... : the helper at frozen time NOW through pam_wrapper (ASan
# with leak detection under SANITIZE=1); output in $T/cycle.out, errors in
# $T/cycle.err; returns its status.
cycle() {
	LD_PRELOAD="$FAKETIME_LIB $PRELOAD_SAN$WRAPPER" FAKETIME_FMT=%s FAKETIME="$NOW" \
		PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$SVC" \
		ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 \
		"$T/cycle" "$PAM_SO" "$@" >"$T/cycle.out" 2>"$T/cycle.err"
}

# sanitizer_clean NAME STATUS : the helper exited 0 and ASan/LSan said nothing.
sanitizer_clean() {
	if [ "$2" -eq 0 ] && ! grep -q "Sanitizer" "$T/cycle.err"; then
		ok "$1"
	else
		not_ok "$1 (status $2)"
		sed 's/^/#   /' "$T/cycle.err" | head -40
	fi
}

right= wrong_codes= replays=
i=1
while [ $i -le $CYCLES ]; do
	secret=$(enroll "u$i") || { not_ok "u$i enrolled"; finish; exit 1; }
	code=$(totp "$secret" $NOW)
	right="$right u$i=$code"
	replays="$replays u$i=$code"
	i=$((i + 1))
done
i=1
while [ $i -le $THREADS ]; do
	secret=$(enroll "t$i") || { not_ok "t$i enrolled"; finish; exit 1; }
	wrong_codes="$wrong_codes t$i=$(wrong "$(totp "$secret" $NOW)")"
	i=$((i + 1))
done

# shellcheck disable=SC2086 # word splitting of the USER=CODE lists is wanted
cycle seq $right $replays
rc=$?
sanitizer_clean "$((2 * CYCLES)) load/unload cycles of the module are sanitizer-clean" $rc
check_eq "each of $CYCLES users logs in with the right code, one load of the module each" \
	"$CYCLES" "$(head -n $CYCLES "$T/cycle.out" | awk '$2 == 0' | wc -l)"
check_eq "the same codes in the next $CYCLES loads are refused as replays (the store carried over)" \
	"$CYCLES" "$(tail -n $CYCLES "$T/cycle.out" | awk '$2 == 7' | wc -l)"
check_eq "the module is unloaded after every pam_end (not pinned)" \
	"$((2 * CYCLES))" "$(awk '$3 == 0' "$T/cycle.out" | wc -l)"
check_eq "the replays were audited" "$CYCLES" "$(audit_count otp.replay)"

# Four threads, three wrong codes each (below the lockout), concurrently.
# shellcheck disable=SC2086
cycle threads 3 $wrong_codes
rc=$?
sanitizer_clean "logins from $THREADS threads at once are sanitizer-clean" $rc
check_eq "every thread's wrong code is refused" \
	"$THREADS" "$(awk '$2 == 7' "$T/cycle.out" | wc -l)"
check_eq "the module is unloaded once the last thread's pam_end returned" \
	"$THREADS" "$(awk '$3 == 0' "$T/cycle.out" | wc -l)"
check_contains "every failure was counted" '"failures": 3' "$("$ADMIN" otp show t1 --json)"

finish

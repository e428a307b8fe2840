/*
 * cmd_events.c — `crtoken-admin events list|show|deliver|check-expiring`:
 * the event outbox, its delivery state, one delivery pass (for sites
 * without crtokend) and the daily certificate.expiring check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_events(admin_env *env, int argc, char **argv);

enum { EV_PENDING = 1, EV_JSON, EV_LIMIT, EV_NODE, EV_WINDOW };

static const char events_help[] =
    "usage: crtoken-admin events list [--pending] [--limit N] [--json]\n"
    "       crtoken-admin events show ID [--json]\n"
    "       crtoken-admin events deliver [--node NAME] [--json]\n"
    "       crtoken-admin events check-expiring [--window DURATION] [--json]\n\n"
    "The event outbox: token.created, token.deleted, certificate.issued,\n"
    "certificate.revoked, certificate.expiring, otp.locked (request.* are defined\n"
    "for the approval workflow). Each is written in the transaction of its change\n"
    "and delivered at least once to the [events.sink NAME] sinks of crtoken.conf\n"
    "whose events filter takes it. list shows events with their deliveries\n"
    "(--pending: those not delivered yet); show lists every attempt of one event.\n"
    "deliver makes one delivery pass (crtokend does this itself); check-expiring\n"
    "raises certificate.expiring once per certificate whose notAfter is within\n"
    "the window ([events] expiring_window by default) — run it daily.\n";

static const struct option list_opts[] = {
    {"pending", no_argument, NULL, EV_PENDING},
    {"limit", required_argument, NULL, EV_LIMIT},
    {"json", no_argument, NULL, EV_JSON},
    {NULL, 0, NULL, 0},
};

static int events_list(admin_env *env, admin_call *call)
{
	crt_event *ev = NULL;
	size_t n = 0;
	int pending = 0, limit = 100, c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case EV_PENDING: pending = 1; break;
		case EV_JSON: env->json = 1; break;
		case EV_LIMIT:
			limit = atoi(optarg);
			if (limit <= 0 || limit > 100000 || strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error(call->cmd, "--limit must be 1..100000");
			break;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_event_list(env->ctx, pending, limit, &ev, &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, admin_json_or_null(crt_event_json(&ev[i])));
		admin_json_print(a);
	} else {
		char b[32];
		printf("%-20s %-21s %-46s %s\n", "AT", "TYPE", "ID", "DELIVERIES");
		for (size_t i = 0; i < n; i++) {
			printf("%-20s %-21s %-46s", admin_time(ev[i].at, b), ev[i].type, ev[i].id);
			if (!ev[i].routed)
				printf(" (not routed yet)");
			else if (ev[i].ndeliveries == 0)
				printf(" (no sink takes it)");
			for (size_t k = 0; k < ev[i].ndeliveries; k++)
				printf(" %s=%s/%d", ev[i].deliveries[k].sink, ev[i].deliveries[k].state,
				       ev[i].deliveries[k].attempts);
			printf("\n");
		}
	}
	crt_event_list_free(ev, n);
	return EXIT_OK;
}

static const struct option show_opts[] = {
    {"json", no_argument, NULL, EV_JSON},
    {NULL, 0, NULL, 0},
};

static int events_show(admin_env *env, admin_call *call)
{
	crt_event_attempt *a = NULL;
	size_t n = 0;
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0)
		if (c == EV_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "an event id") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_event_attempts(env->ctx, call->argv[optind], &a, &n)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    arr, json_pack("{s:o,s:s,s:o,s:b,s:o,s:I}", "at", admin_json_time(a[i].at),
					   "sink", a[i].sink ? a[i].sink : "", "node",
					   admin_json_str(a[i].node), "ok", a[i].ok, "result",
					   admin_json_str(a[i].result), "durationMs",
					   (json_int_t)a[i].duration_ms));
		admin_json_print(arr);
	} else {
		char b[32];
		for (size_t i = 0; i < n; i++)
			printf("%s  %-16s %-4s %6lldms  %s  (%s)\n", admin_time(a[i].at, b), a[i].sink,
			       a[i].ok ? "ok" : "FAIL", (long long)a[i].duration_ms,
			       a[i].result ? a[i].result : "", a[i].node ? a[i].node : "");
	}
	crt_event_attempts_free(a, n);
	return EXIT_OK;
}

static const struct option deliver_opts[] = {
    {"node", required_argument, NULL, EV_NODE},
    {"json", no_argument, NULL, EV_JSON},
    {NULL, 0, NULL, 0},
};

static int events_deliver(admin_env *env, admin_call *call)
{
	crt_events_pass p = {0};
	const char *node = NULL;
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		if (c == EV_NODE)
			node = optarg;
		else if (c == EV_JSON)
			env->json = 1;
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_events_deliver(env->ctx, node, &p)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		admin_json_print(json_pack("{s:I,s:I,s:I,s:I,s:I}", "routed", (json_int_t)p.routed,
					   "attempted", (json_int_t)p.attempted, "delivered",
					   (json_int_t)p.delivered, "retrying", (json_int_t)p.retrying,
					   "failed", (json_int_t)p.failed));
	else
		printf("routed %zu, attempted %zu: delivered %zu, retrying %zu, failed %zu\n",
		       p.routed, p.attempted, p.delivered, p.retrying, p.failed);
	return EXIT_OK;
}

static const struct option expiring_opts[] = {
    {"window", required_argument, NULL, EV_WINDOW},
    {"json", no_argument, NULL, EV_JSON},
    {NULL, 0, NULL, 0},
};

static int events_check_expiring(admin_env *env, admin_call *call)
{
	int64_t window = 0;
	size_t raised = 0;
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		if (c == EV_WINDOW) {
			if (crt_duration_parse(optarg, &window) != CRT_OK || window <= 0)
				return admin_usage_error(call->cmd,
							 "--window takes a duration (14d, 36h, ...)");
		} else if (c == EV_JSON) {
			env->json = 1;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_events_check_expiring(env->ctx, window, admin_actor(), &raised)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		admin_json_print(json_pack("{s:I}", "raised", (json_int_t)raised));
	else
		printf("certificate.expiring raised for %zu certificate(s)\n", raised);
	return EXIT_OK;
}

static const admin_action list_action = {"list", list_opts, NULL, NULL, events_list};
static const admin_action show_action = {"show", show_opts, NULL, NULL, events_show};
static const admin_action deliver_action = {"deliver", deliver_opts, NULL, NULL, events_deliver};
static const admin_action expiring_action = {"check-expiring", expiring_opts, NULL, NULL,
					     events_check_expiring};

static const admin_action *const events_actions[] = {
    &list_action, &show_action, &deliver_action, &expiring_action, NULL,
};

static const admin_group events_group = {
    .name = "events",
    .help = events_help,
    .actions = events_actions,
};

int cmd_events(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &events_group, argc, argv);
}

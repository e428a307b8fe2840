/*
 * cmd_request.c — `crtoken-admin request list|show|approve|deny|cancel`: the
 * certificate requests that redemptions of tokens requiring approval
 * stored (the approval workflow; rules and transactions in libcrtoken's
 * request.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

int cmd_request(admin_env *env, int argc, char **argv);

enum { RQ_STATE = 1, RQ_JSON, RQ_USER, RQ_LIMIT, RQ_REASON, RQ_OUT };

static const char request_help[] =
    "usage: crtoken-admin request list [--state pending|approved|denied|issued|expired|\n"
    "                                  cancelled]\n"
    "                                  [--user USER] [--limit N | --page N --size N\n"
    "                                  --sort createdAt|expiresAt|decidedAt] [--json]\n"
    "       crtoken-admin request show ID [--json]\n"
    "       crtoken-admin request approve ID [--out FILE] [--json]\n"
    "       crtoken-admin request deny ID --reason TEXT [--json]\n"
    "       crtoken-admin request cancel ID [--json]\n\n"
    "Certificate requests: a redemption of a token that requires approval (made so\n"
    "at creation, or by a profile with approval = required) stores its CSR, the\n"
    "subject fields\n"
    "it asked for, the requester and address as a pending request, and uses the\n"
    "token up. approve signs the stored CSR as the redemption would have (the\n"
    "token's CA, profile and reply attributes), stores the certificate and marks the\n"
    "request issued (--out writes the certificate, PEM); deny records the reason.\n"
    "Both raise their event (request.approved + certificate.issued, request.denied)\n"
    "in the same transaction. A request no longer pending (approved, denied, or\n"
    "expired after [requests] pending_lifetime) is request_state; an unknown id\n"
    "request_unknown (exit status 3). list is newest first; --state approved lists\n"
    "the issued ones (approval issues at once). cancel withdraws a pending request\n"
    "(as its requester may, with its poll secret or login): it becomes cancelled,\n"
    "nothing is issued for it, the token stays used; request.cancelled is raised.\n";

static void print_request(const crt_request *q)
{
	char a[32], b[32], c[32];

	printf("id:        %s\nstate:     %s\ntoken:     %s (%s)\n", q->id,
	       crt_request_state_name(q->state), q->token_id,
	       q->token_name ? q->token_name : "purged");
	printf("CN:        %s\nO:         %s\nOU:        %s\n", q->cn ? q->cn : "(token name)",
	       q->org ? q->org : "-", q->ou ? q->ou : "-");
	printf("requester: %s\nremote:    %s\n", q->requester ? q->requester : "-",
	       q->remote ? q->remote : "-");
	printf("created:   %s\nexpires:   %s\n", admin_time(q->created_at, a),
	       admin_time(q->expires_at, b));
	if (q->decided_at)
		printf("decided:   %s by %s\n", admin_time(q->decided_at, c),
		       q->decided_by ? q->decided_by : "-");
	if (q->reason)
		printf("reason:    %s\n", q->reason);
	if (q->serial)
		printf("certificate: %s\n", q->serial);
	if (q->attestation)
		printf("attestation: %s\n", q->attestation);
}

static const struct option list_opts[] = {
    {"state", required_argument, NULL, RQ_STATE},
    {"user", required_argument, NULL, RQ_USER},
    {"limit", required_argument, NULL, RQ_LIMIT},
    {"json", no_argument, NULL, RQ_JSON},
    ADMIN_PAGE_OPTIONS,
    {NULL, 0, NULL, 0},
};

static int request_list(admin_env *env, admin_call *call)
{
	crt_request_filter f = {.state = -1};
	crt_request *list = NULL;
	size_t n = 0;
	int c, rc;
	admin_paging pp = {0};
	crt_page pg;
	int64_t total = 0;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case RQ_STATE:
			if ((f.state = crt_request_state_parse(optarg)) < 0)
				return admin_usage_error(
				    call->cmd,
				    "--state takes pending, approved, denied, issued, expired or "
				    "cancelled");
			break;
		case RQ_USER: f.user = optarg; break;
		case RQ_LIMIT:
			f.limit = atoi(optarg);
			if (f.limit <= 0 || f.limit > 100000 ||
			    strspn(optarg, "0123456789") != strlen(optarg))
				return admin_usage_error(call->cmd, "--limit must be 1..100000");
			break;
		case RQ_JSON: env->json = 1; break;
		default: admin_paging_opt(&pp, c, optarg); break;
		}
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if (admin_paging_given(&pp) && f.limit > 0)
		return admin_usage_error(call->cmd, "--limit is for the unpaged list: use --size");
	if (admin_paging_given(&pp) &&
	    (rc = admin_paging_parse(call->cmd, &pp, crt_request_sort_fields, 1, 0, &pg)) != 0)
		return rc;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	r = admin_paging_given(&pp) ? crt_request_page(env->ctx, &f, &pg, &list, &n, &total)
	                            : crt_request_list(env->ctx, &f, &list, &n);
	if (r != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, admin_json_or_null(crt_request_json(&list[i], 0)));
		admin_json_print(admin_paging_given(&pp) ? admin_page_json(a, &pg, total) : a);
	} else {
		char b[32];
		printf("%-46s %-8s %-20s %-16s %s\n", "ID", "STATE", "CREATED", "REQUESTER", "CN");
		for (size_t i = 0; i < n; i++)
			printf("%-46s %-8s %-20s %-16s %s\n", list[i].id,
			       crt_request_state_name(list[i].state), admin_time(list[i].created_at, b),
			       list[i].requester ? list[i].requester : "-",
			       list[i].cn ? list[i].cn : (list[i].token_name ? list[i].token_name : "-"));
		if (admin_paging_given(&pp))
			admin_page_footer(&pg, n, total);
	}
	crt_request_list_free(list, n);
	return EXIT_OK;
}

static const struct option show_opts[] = {
    {"json", no_argument, NULL, RQ_JSON},
    {NULL, 0, NULL, 0},
};

static int request_show(admin_env *env, admin_call *call)
{
	crt_request q = {0};
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0)
		if (c == RQ_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "a request id") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_request_get(env->ctx, call->argv[optind], &q)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		rc = admin_json_print_shape(crt_request_json(&q, 1));
	else
		print_request(&q);
	crt_request_clear(&q);
	return rc;
}

static const struct option approve_opts[] = {
    {"out", required_argument, NULL, RQ_OUT},
    {"json", no_argument, NULL, RQ_JSON},
    {NULL, 0, NULL, 0},
};

static int request_approve(admin_env *env, admin_call *call)
{
	crt_cert cert = {0};
	const char *out = NULL;
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		if (c == RQ_OUT)
			out = optarg;
		else if (c == RQ_JSON)
			env->json = 1;
	}
	if (c < 0 || admin_operands(call, 1, "a request id") != 0)
		return call->exit;
	if (out != NULL && (rc = admin_write_out(out, "", 1)) != 0)
		return rc;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		return rc;
	if ((r = crt_request_approve(env->ctx, call->argv[optind], admin_actor(), &cert)) != CRT_OK)
		return admin_fail(env, r);
	rc = EXIT_OK;
	if (out != NULL && admin_write_out(out, cert.pem, 0) != 0) {
		fprintf(stderr, "crtoken-admin: the certificate %s was issued and stored; "
				"get it with: crtoken-admin cert show %s --json\n",
			cert.serial, cert.serial);
		rc = EXIT_SYSTEM;
	}
	if (env->json)
		admin_json_print_shape(crt_cert_json(&cert, 1));
	else if (out == NULL || strcmp(out, "-") != 0)
		printf("Approved request %s: issued certificate %s\n  subject: %s\n",
		       call->argv[optind], cert.serial, cert.subject);
	crt_cert_clear(&cert);
	return rc;
}

static const struct option deny_opts[] = {
    {"reason", required_argument, NULL, RQ_REASON},
    {"json", no_argument, NULL, RQ_JSON},
    {NULL, 0, NULL, 0},
};

static int request_deny(admin_env *env, admin_call *call)
{
	crt_request q = {0};
	const char *reason = NULL;
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0) {
		if (c == RQ_REASON)
			reason = optarg;
		else if (c == RQ_JSON)
			env->json = 1;
	}
	if (c < 0 || admin_operands(call, 1, "a request id") != 0)
		return call->exit;
	if (reason == NULL)
		return admin_usage_error(call->cmd, "--reason TEXT is required");
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_request_deny(env->ctx, call->argv[optind], reason, admin_actor())) != CRT_OK)
		return admin_fail(env, r);
	if ((r = crt_request_get(env->ctx, call->argv[optind], &q)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		rc = admin_json_print_shape(crt_request_json(&q, 0));
	else
		printf("Denied request %s: %s\n", q.id, q.reason ? q.reason : "");
	crt_request_clear(&q);
	return rc;
}

static int request_cancel(admin_env *env, admin_call *call)
{
	crt_request q = {0};
	crt_request_canceller by = {.actor = admin_actor()};
	int c, rc;
	crt_status r;

	while ((c = admin_getopt(call)) > 0)
		if (c == RQ_JSON)
			env->json = 1;
	if (c < 0 || admin_operands(call, 1, "a request id") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_request_cancel(env->ctx, call->argv[optind], &by, &q)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		rc = admin_json_print_shape(crt_request_json(&q, 0));
	else
		printf("Cancelled request %s\n", q.id);
	crt_request_clear(&q);
	return rc;
}

static const admin_action list_action = {"list", list_opts, NULL, NULL, request_list};
static const admin_action show_action = {"show", show_opts, NULL, NULL, request_show};
static const admin_action approve_action = {"approve", approve_opts, NULL, NULL, request_approve};
static const admin_action deny_action = {"deny", deny_opts, NULL, NULL, request_deny};
static const admin_action cancel_action = {"cancel", show_opts, NULL, NULL, request_cancel};

static const admin_action *const request_actions[] = {
    &list_action, &show_action, &approve_action, &deny_action, &cancel_action, NULL,
};

static const admin_group request_group = {
    .name = "request",
    .help = request_help,
    .actions = request_actions,
};

int cmd_request(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &request_group, argc, argv);
}

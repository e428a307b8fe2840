/*
 * cmd_store.c — `crtoken-admin store`: status (which store, its schema,
 * replication role and lag, what it holds) and copy (every row into a new
 * store of either backend, verified before it commits: the way from one
 * SQLite file to PostgreSQL and back). The work is crt_store_status_get and
 * crt_store_copy.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "admin.h"

int cmd_store(admin_env *env, int argc, char **argv);

static const char store_usage[] =
	"usage: crtoken-admin store status [--json]\n"
	"       crtoken-admin store copy --to postgresql --conninfo CONNINFO [--json]\n"
	"       crtoken-admin store copy --to sqlite --database FILE [--json]\n"
	"       crtoken-admin store heartbeat [--json]\n"
	"\n"
	"  status   the backend and where it is, the schema version, the replication\n"
	"           role (file, primary, standby) and lag, the connected standbys, how\n"
	"           many tokens, certificates, OTP users and API keys it holds, and a\n"
	"           warning when a primary has no synchronous standby\n"
	"  copy     copy every row of this instance's store into a new store: a SQLite\n"
	"           FILE that must not exist yet, or a PostgreSQL database (CONNINFO, no\n"
	"           password in it: use ~/.pgpass) without crtoken data. The source is\n"
	"           read in one snapshot while crtokend keeps running (a redemption\n"
	"           committed after it started is not in the copy); the target is\n"
	"           loaded in one transaction and read back before it commits: every\n"
	"           table's row count and SHA-256 must equal the source's, or nothing\n"
	"           is committed (and a new FILE is removed). Audited on both sides\n"
	"           (store.copy.out, store.copy.in). Then point [store] at the copy.\n"
	"  heartbeat  write the store's heartbeat (now): readers with [store]\n"
	"           max_staleness refuse admission once it is older than that; crtokend\n"
	"           writes it every 2 s on PostgreSQL, run this from a timer where no\n"
	"           crtokend runs\n"
	"Each action takes only the options shown for it; any other is a usage error.\n";

static json_t *count_json(int64_t n)
{
	return n < 0 ? json_null() : json_integer(n);
}

static int store_status(admin_env *env, admin_call *call)
{
	crt_store_status st;
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == 'j')
			env->json = 1;
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_store_status_get(env->ctx, &st)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object();
		json_object_set_new(o, "backend", json_string(st.backend));
		json_object_set_new(o, "location", json_string(st.location));
		json_object_set_new(o, "role", json_string(st.role));
		json_object_set_new(o, "serverVersion", json_string(st.server_version));
		json_object_set_new(o, "schemaVersion", json_integer(st.schema_version));
		json_object_set_new(o, "minCompatible", json_integer(st.min_compatible));
		json_object_set_new(o, "sizeBytes", count_json(st.size_bytes));
		json_object_set_new(o, "replayLagMs", count_json(st.replay_lag_ms));
		json_object_set_new(o, "standbys", count_json(st.standbys));
		json_object_set_new(o, "syncStandbys",
				    st.standbys < 0 ? json_null() : json_integer(st.sync_standbys));
		json_object_set_new(o, "standbyDetail", json_string(st.standby_detail));
		json_object_set_new(o, "tokens", count_json(st.tokens));
		json_object_set_new(o, "certificates", count_json(st.certificates));
		json_object_set_new(o, "revoked", count_json(st.revoked));
		json_object_set_new(o, "otpUsers", count_json(st.otp_users));
		json_object_set_new(o, "apiKeys", count_json(st.api_keys));
		json_object_set_new(o, "auditRows", count_json(st.audit_rows));
		json_object_set_new(o, "heartbeat", admin_json_time(st.heartbeat));
		json_object_set_new(o, "warning",
				    st.warning[0] ? json_string(st.warning) : json_null());
		admin_json_print(o);
		return EXIT_OK;
	}
	printf("backend:        %s (%s)\n", st.backend, st.server_version);
	printf("location:       %s\n", st.location);
	printf("role:           %s\n", st.role);
	printf("schema:         %d (usable by binaries of schema %lld and later)\n",
	       st.schema_version, (long long)st.min_compatible);
	if (st.size_bytes >= 0)
		printf("size:           %lld bytes\n", (long long)st.size_bytes);
	if (strcmp(st.role, "standby") == 0)
		printf("replay lag:     %s%lld ms\n", st.replay_lag_ms < 0 ? "unknown " : "",
		       (long long)(st.replay_lag_ms < 0 ? 0 : st.replay_lag_ms));
	if (st.standbys >= 0) {
		printf("standbys:       %d (%d synchronous)\n", st.standbys, st.sync_standbys);
		for (char *l = st.standby_detail, *e; *l; l = e + 1) {
			if ((e = strchr(l, '\n')) == NULL)
				break;
			printf("  %.*s\n", (int)(e - l), l);
		}
	}
	printf("tokens:         %lld\ncertificates:   %lld (%lld revoked)\n"
	       "OTP users:      %lld\nAPI keys:       %lld\naudit rows:     %lld\n",
	       (long long)st.tokens, (long long)st.certificates, (long long)st.revoked,
	       (long long)st.otp_users, (long long)st.api_keys, (long long)st.audit_rows);
	char hb[32];
	printf("heartbeat:      %s\n", st.heartbeat ? admin_time(st.heartbeat, hb) : "never written");
	if (st.warning[0])
		printf("WARNING: %s\n", st.warning);
	return EXIT_OK;
}

static int store_copy(admin_env *env, admin_call *call)
{
	const char *to = NULL, *conninfo = NULL, *database = NULL, *target;
	char abs[PATH_MAX];
	crt_copy_report rep;
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		if (c == 't')
			to = optarg;
		else if (c == 'c')
			conninfo = optarg;
		else if (c == 'd')
			database = optarg;
		else if (c == 'j')
			env->json = 1;
	}
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if (to == NULL)
		return admin_usage_error(call->cmd, "needs --to postgresql or --to sqlite");
	if (strcmp(to, "postgresql") == 0) {
		if (conninfo == NULL || database != NULL)
			return admin_usage_error(call->cmd,
						 "--to postgresql takes --conninfo CONNINFO");
		target = conninfo;
	} else if (strcmp(to, "sqlite") == 0) {
		if (database == NULL || conninfo != NULL)
			return admin_usage_error(call->cmd, "--to sqlite takes --database FILE");
		/* The config's relative paths are the config's; this one is the shell's. */
		if (database[0] != '/') {
			if (getcwd(abs, sizeof(abs)) == NULL ||
			    strlen(abs) + strlen(database) + 2 > sizeof(abs))
				return admin_usage_error(call->cmd, "--database: path too long");
			strcat(abs, "/");
			strcat(abs, database);
			database = abs;
		}
		target = database;
	} else {
		return admin_usage_error(call->cmd, "--to %s: the backends are postgresql and sqlite",
					 to);
	}
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_store_copy(env->ctx, to, target, admin_actor(), &rep)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json) {
		json_t *o = json_object(), *arr = json_array();
		for (int i = 0; i < rep.ntables; i++)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:s}", "name",
							     rep.tables[i].name, "rows",
							     (json_int_t)rep.tables[i].rows,
							     "sha256", rep.tables[i].sha256));
		json_object_set_new(o, "to", json_string(to));
		json_object_set_new(o, "tables", arr);
		json_object_set_new(o, "rows", json_integer(rep.rows));
		json_object_set_new(o, "seconds", json_real(rep.seconds));
		admin_json_print(o);
		return EXIT_OK;
	}
	printf("%-16s %10s  %s\n", "TABLE", "ROWS", "SHA-256 (source = target)");
	for (int i = 0; i < rep.ntables; i++)
		printf("%-16s %10lld  %s\n", rep.tables[i].name, (long long)rep.tables[i].rows,
		       rep.tables[i].sha256);
	printf("Copied %lld rows in %d tables to %s in %.2f s; verified.\n", (long long)rep.rows,
	       rep.ntables, to, rep.seconds);
	return EXIT_OK;
}

static int store_heartbeat(admin_env *env, admin_call *call)
{
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0)
		if (c == 'j')
			env->json = 1;
	if (c < 0 || admin_operands(call, 0, "") != 0)
		return call->exit;
	if ((rc = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return rc;
	if ((r = crt_store_heartbeat(env->ctx)) != CRT_OK)
		return admin_fail(env, r);
	if (env->json)
		admin_json_print(json_pack("{s:o}", "heartbeat", admin_json_time(crt_now())));
	else
		printf("heartbeat written\n");
	return EXIT_OK;
}

static const struct option json_opts[] = {
	{"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};
static const struct option copy_opts[] = {
	{"to", required_argument, NULL, 't'},
	{"conninfo", required_argument, NULL, 'c'},
	{"database", required_argument, NULL, 'd'},
	{"json", no_argument, NULL, 'j'},
	{NULL, 0, NULL, 0},
};

static const admin_action status_action = {
	.name = "status", .opts = json_opts, .shortopts = "jh", .run = store_status};
static const admin_action copy_action = {
	.name = "copy", .opts = copy_opts, .shortopts = "jh", .run = store_copy};
static const admin_action heartbeat_action = {
	.name = "heartbeat", .opts = json_opts, .shortopts = "jh", .run = store_heartbeat};
static const admin_action *const store_actions[] = {&status_action, &copy_action,
						    &heartbeat_action, NULL};
static const admin_group store_group = {
	.name = "store", .help = store_usage, .actions = store_actions};

int cmd_store(admin_env *env, int argc, char **argv)
{
	return admin_dispatch(env, &store_group, argc, argv);
}

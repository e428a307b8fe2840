/*
 * action.c — command groups with actions (`crtoken-admin token list ...`):
 * the dispatch from an action's name to its function, and the command line
 * of one action parsed against that action's own option table.
 *
 * An option of another action of the group (`token list --cn`) is a usage
 * error naming the option, the action and what it does take — never
 * silently ignored; so is an option no action knows.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"

#define MAX_OPTS 32
#define HELP_VAL 0x7f00 /* no action option uses it */

static size_t count_opts(const struct option *o)
{
	size_t n = 0;
	while (o != NULL && o[n].name != NULL)
		n++;
	return n;
}

/* "create, list or show": the group's action names, for messages. */
static void action_names(const admin_group *g, char *buf, size_t len)
{
	size_t n = 0, used = 0;

	while (g->actions[n] != NULL)
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
		                         i == 0       ? ""
		                         : i + 1 == n ? " or "
		                                      : ", ",
		                         g->actions[i]->name);
}

/* "--state, --json": what this action takes, for messages. */
static void takes(const admin_action *a, char *buf, size_t len)
{
	size_t used = 0;
	size_t n = count_opts(a->opts);

	snprintf(buf, len, "it takes no options");
	if (n == 0)
		return;
	used = (size_t)snprintf(buf, len, "it takes ");
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s--%s", i ? ", " : "",
		                         a->opts[i].name);
}

/* The long option of table o that name (as typed, without "--" and any
 * "=value") stands for: an exact match, else its only abbreviation. NULL
 * when none or ambiguous (*ambiguous set). */
static const struct option *lookup(const struct option *o, const char *name, size_t len,
                                   int *ambiguous)
{
	const struct option *hit = NULL;
	int hits = 0;

	for (size_t i = 0; o != NULL && o[i].name != NULL; i++) {
		if (strncmp(o[i].name, name, len) != 0)
			continue;
		if (strlen(o[i].name) == len)
			return &o[i];
		hit = &o[i];
		hits++;
	}
	if (ambiguous != NULL)
		*ambiguous = hits > 1;
	return hits == 1 ? hit : NULL;
}

/* A long option (arg as typed: "--cn" or "--cn=x") this action does not
 * take: name it, and say whether another action of the group would. */
static int refuse_long(admin_call *call, const char *arg)
{
	const admin_group *g = call->group;
	const struct option *other = NULL;
	const char *name = arg + 2;
	size_t len = strcspn(name, "=");
	char list[512];
	int ambiguous = 0;

	takes(call->action, list, sizeof(list));
	if (lookup(call->action->opts, name, len, &ambiguous) == NULL && ambiguous)
		return admin_usage_error(call->cmd, "--%.*s is ambiguous (%s)", (int)len, name,
		                         list);
	for (size_t i = 0; g->actions[i] != NULL && other == NULL; i++)
		if (g->actions[i] != call->action)
			other = lookup(g->actions[i]->opts, name, len, NULL);
	if (other != NULL)
		return admin_usage_error(call->cmd, "--%s does not apply (%s)", other->name, list);
	return admin_usage_error(call->cmd, "unknown option '--%.*s' (%s)",
	                         (int)(len < 64 ? len : 64), name, list);
}

/* The same for a short option letter. */
static int refuse_short(admin_call *call, int c)
{
	const admin_group *g = call->group;
	int other = 0;
	char list[512];

	takes(call->action, list, sizeof(list));
	for (size_t i = 0; g->actions[i] != NULL; i++)
		if (g->actions[i] != call->action && g->actions[i]->shortopts != NULL &&
		    strchr(g->actions[i]->shortopts, c) != NULL)
			other = 1;
	if (other)
		return admin_usage_error(call->cmd, "-%c does not apply (%s)", c, list);
	if (c > ' ' && c < 127)
		return admin_usage_error(call->cmd, "unknown option '-%c' (%s)", c, list);
	return admin_usage_error(call->cmd, "unknown option (%s)", list);
}

int admin_getopt(admin_call *call)
{
	struct option all[MAX_OPTS + 2];
	const struct option *own;
	char optstring[64];
	size_t n = count_opts(call->action->opts);
	int c;

	/* the action's options and --help */
	if (n > MAX_OPTS)
		n = MAX_OPTS;
	memcpy(all, call->action->opts, n * sizeof(all[0]));
	all[n] = (struct option){"help", no_argument, NULL, HELP_VAL};
	all[n + 1] = (struct option){NULL, 0, NULL, 0};
	/* ':' first: a missing value is told apart from an unknown option */
	snprintf(optstring, sizeof(optstring), ":%s",
	         call->action->shortopts ? call->action->shortopts : "");
	opterr = 0;
	c = getopt_long(call->argc, call->argv, optstring, all, NULL);
	if (c == -1)
		return 0;
	if (c == HELP_VAL || (c == 'h' && strchr(optstring, 'h') != NULL)) {
		fputs(call->action->help ? call->action->help : call->group->help, stdout);
		call->exit = EXIT_OK;
		return -1;
	}
	if (c == ':') {
		const char *arg = call->argv[optind - 1];
		if (strncmp(arg, "--", 2) == 0)
			call->exit = admin_usage_error(call->cmd, "%s needs a value", arg);
		else
			call->exit = admin_usage_error(call->cmd, "-%c needs a value", optopt);
		return -1;
	}
	if (c == '?') {
		const char *arg = call->argv[optind - 1];
		if (optopt == 0) /* a long option: getopt moved past it */
			call->exit = refuse_long(call, arg);
		else if (strncmp(arg, "--", 2) == 0 &&
		         (own = lookup(all, arg + 2, strcspn(arg + 2, "="), NULL)) != NULL &&
		         own->val == optopt)
			call->exit = admin_usage_error(call->cmd, "--%s takes no value", own->name);
		else
			call->exit = refuse_short(call, optopt);
		return -1;
	}
	return c;
}

int admin_operands(admin_call *call, int n, const char *what)
{
	int have = call->argc - optind;

	if (have < n) {
		call->exit = admin_usage_error(call->cmd, "needs %s", what);
		return -1;
	}
	if (have > n) {
		call->exit = admin_usage_error(call->cmd, "unexpected argument '%s'",
		                               call->argv[optind + n]);
		return -1;
	}
	return 0;
}

int admin_dispatch(admin_env *env, const admin_group *g, int argc, char **argv)
{
	admin_call call = {.group = g};
	char names[256];
	const char *name = argc > 1 ? argv[1] : NULL;

	action_names(g, names, sizeof(names));
	if (name == NULL)
		return admin_usage_error(g->name, "expected an action: %s", names);
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		fputs(g->help, stdout);
		return EXIT_OK;
	}
	for (size_t i = 0; g->actions[i] != NULL; i++) {
		if (strcmp(name, g->actions[i]->name) != 0)
			continue;
		call.action = g->actions[i];
		snprintf(call.cmd, sizeof(call.cmd), "%s %s", g->name, name);
		call.argc = argc - 1;
		call.argv = argv + 1;
		optind = 0; /* full getopt re-initialisation (glibc) */
		return call.action->run(env, &call);
	}
	if (name[0] == '-')
		return admin_usage_error(g->name, "expected an action before '%s': %s", name,
		                         names);
	return admin_usage_error(g->name, "unknown action '%s' (%s)", name, names);
}

/*
 * main.c — crtokend: the enrollment REST service.
 *
 *   crtokend [--config FILE] [--listen ADDR:PORT] [--foreground] [--workers N]
 *   crtokend --routes
 *
 * Life cycle: check the instance (config, store, CA) before listening, so a
 * broken setup fails at start with a clear message; then serve until
 * SIGTERM/SIGINT, which stop accepting connections and let in-flight
 * requests finish (up to DRAIN_SECONDS). SIGHUP reloads the configuration
 * and the CA: a new instance and a complete set of sessions over it are
 * opened and replace the old ones only if all opened (pool.c), so a broken
 * file is refused and the service keeps running as it was. The scheduled
 * work (maintain.c) runs every [maintenance] interval; SIGUSR1 runs it now. The listen address and the TLS
 * certificate are bound at start; changing them needs a restart.
 */
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crtokend.h"

#define DRAIN_SECONDS 30

/*
 * jansson free that wipes: request bodies hold passphrases and CSRs,
 * responses hold tokens and PKCS#12 files, and jansson copies strings into
 * its own allocations. Allocation stays plain malloc, so strings jansson
 * returns (json_dumps) may still be released with free() anywhere.
 */
static void wipe_free(void *p)
{
	if (p != NULL)
		explicit_bzero(p, malloc_usable_size(p));
	free(p);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: crtokend [--config FILE] [--listen ADDR:PORT] [--foreground] "
	           "[--workers N]\n"
	           "       crtokend --routes\n"
	           "  --config FILE       instance configuration (default $CRTOKEN_CONF or\n"
	           "                      /etc/crtoken/crtoken.conf)\n"
	           "  --listen ADDR:PORT  override [server] listen\n"
	           "  --foreground        stay in the foreground and log to stderr\n"
	           "                      (default: detach and log to syslog)\n"
	           "  --workers N         requests processed at once, each with its own store\n"
	           "                      connection (default: 4 per CPU, at least 16)\n"
	           "  --routes            print the HTTP routes and exit\n"
	           "  --route-scopes      ... with the API key scope of each admin route\n");
}

/* Open the instance once to check it (before detaching, so the reason
 * reaches the terminal); prints the reason on failure. */
static int check_instance(const char *config, int quiet_ok)
{
	crt_ctx *ctx = NULL;
	crt_status s = crt_open(config, 0, &ctx);

	if (s != CRT_OK) {
		log_msg(LOG_ERR, "%s: %s%s%s", crt_status_name(s), crt_status_message(s),
		        ctx && *crt_errdetail(ctx) ? ": " : "", ctx ? crt_errdetail(ctx) : "");
		crt_close(ctx);
		return -1;
	}
	if (!quiet_ok)
		log_msg(LOG_NOTICE, "instance %s", crt_get_config(ctx)->path);
	crt_close(ctx);
	return 0;
}

/* What is bound at start and needs a restart to change, as one string. */
static void bound_signature(const crt_config *cfg, const char *listen_opt, char *buf, size_t len)
{
	snprintf(buf, len, "%s|%s|%s", listen_opt ? listen_opt : cfg->listen,
	         cfg->tls_cert ? cfg->tls_cert : "", cfg->tls_key ? cfg->tls_key : "");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"listen", required_argument, NULL, 'l'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"workers", required_argument, NULL, 'w'},
	    {"routes", no_argument, NULL, 'r'},
	    {"route-scopes", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	server srv;
	maintainer *mt = NULL;
	struct listen_addr addr;
	const char *listen_opt = NULL;
	crt_instance *inst = NULL;
	const crt_config *cfg;
	char bound[1024], now_bound[1024], config_abs[PATH_MAX];
	sigset_t sigs;
	int c, sig, foreground = 0, rc = 1;
	long workers;

	memset(&srv, 0, sizeof(srv));
	while ((c = getopt_long(argc, argv, "c:l:fw:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			srv.config_path = optarg;
			break;
		case 'l':
			listen_opt = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'w':
			workers = strtol(optarg, NULL, 10);
			if (workers < 1 || workers > 1024) {
				fprintf(stderr, "crtokend: --workers: 1 to 1024\n");
				return 2;
			}
			srv.workers = (unsigned)workers;
			break;
		case 'r':
			routes_print(0);
			return 0;
		case 'S':
			routes_print(1);
			return routes_check() == 0 ? 0 : 1;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("crtokend 0.1");
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	json_set_alloc_funcs(malloc, wipe_free);
	signal(SIGPIPE, SIG_IGN);

	if (routes_check() != 0)
		return 1;

	if (check_instance(srv.config_path, 1) != 0)
		return 1;
	/* Detaching changes to /, and reloads reopen the file by name. */
	if (realpath(srv.config_path ? srv.config_path : crt_config_default_path(), config_abs) ==
	    NULL) {
		perror("crtokend: config");
		return 1;
	}
	srv.config_path = config_abs;
	if (!foreground) {
		if (daemon(0, 0) != 0) {
			perror("crtokend: daemon");
			return 1;
		}
		log_use_syslog();
	}
	/* Signals are taken by sigwait() below; workers inherit the mask. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (srv.workers == 0) {
		/* Requests mostly wait (write lock, fsync, PAM): more than the CPUs. */
		workers = sysconf(_SC_NPROCESSORS_ONLN);
		srv.workers = workers > 4 ? 4 * (unsigned)workers : 16;
	}
	if ((srv.pool = pool_open(srv.config_path, srv.workers)) == NULL ||
	    (srv.rl = ratelimit_new()) == NULL)
		goto out;
	inst = pool_instance(srv.pool);
	cfg = crt_instance_config(inst);
	if (listen_parse(listen_opt ? listen_opt : cfg->listen, &addr) != 0) {
		log_msg(LOG_ERR, "bad listen address \"%s\" (want HOST:PORT or [V6]:PORT)",
		        listen_opt ? listen_opt : cfg->listen);
		goto out;
	}
	if ((srv.events = deliverer_start(srv.pool)) == NULL) {
		log_msg(LOG_ERR, "cannot start the event delivery thread");
		goto out;
	}
	if (server_start(&srv, &addr, cfg) != 0)
		goto out;
	bound_signature(cfg, listen_opt, bound, sizeof(bound));
	pam_gate_hold(cfg->require_login ? cfg->pam_service : NULL);
	crt_instance_unref(inst);
	inst = NULL;
	if (heartbeat_start(srv.pool) != 0)
		goto out;
	if ((mt = maintainer_start(&srv)) == NULL)
		log_msg(LOG_ERR, "cannot start the scheduled work thread");

	for (;;) {
		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGUSR1) {
			maintainer_kick(mt);
			continue;
		}
		if (sig != SIGHUP)
			break;
		if (pool_reload(srv.pool) == 0) {
			log_msg(LOG_NOTICE, "reloaded configuration and CA");
			inst = pool_instance(srv.pool);
			cfg = crt_instance_config(inst);
			bound_signature(cfg, listen_opt, now_bound, sizeof(now_bound));
			pam_gate_hold(cfg->require_login ? cfg->pam_service : NULL);
			crt_instance_unref(inst);
			inst = NULL;
			if (strcmp(bound, now_bound) != 0)
				log_msg(LOG_WARNING, "listen, tls_cert or tls_key changed: "
				                     "restart crtokend to apply");
		} else {
			log_msg(LOG_ERR,
			        "reload refused; still serving the previous configuration");
		}
	}
	log_msg(LOG_NOTICE, "signal %d: draining in-flight requests", sig);
	server_stop(&srv, DRAIN_SECONDS);
	deliverer_stop(srv.events);
	srv.events = NULL;
	heartbeat_stop();
	maintainer_stop(mt);
	mt = NULL;
	pam_gate_hold(NULL);
	log_msg(LOG_NOTICE, "stopped");
	rc = 0;
out:
	deliverer_stop(srv.events);
	heartbeat_stop();
	maintainer_stop(mt);
	crt_instance_unref(inst);
	pool_close(srv.pool);
	ratelimit_free(srv.rl);
	return rc;
}

/*
 * server.c — libmicrohttpd setup and the life cycle of one request.
 *
 * Threads: one thread per connection (libmicrohttpd). A request blocks on
 * things other requests do not need — the store's write lock and fsync, a
 * PAM stack — so a small thread pool would make connections queue behind
 * one another's waits (measured: 2 pool threads at 8 connections gave
 * 160 redemptions/s with a p99 of 800 ms; a thread each, 4x that). What
 * bounds the work is the crt_ctx pool (pool.c, --workers): a callback that
 * needs the store borrows a context and returns it before it ends, so a
 * slow upload never holds one, and neither does a login while PAM runs
 * (auth.c).
 *
 * Denial of service: connections are bounded in all and per client address
 * ([server] max_connections, max_connections_per_address), every request
 * has a whole-request deadline (deadline.c, request_timeout), logins at
 * once are bounded (max_logins), and the public routes (/healthz, /ca.pem)
 * read only the instance, never a session. Only routes that take a
 * body buffer one.
 *
 * Request life cycle (access handler calls):
 *   1st call   route, Content-Type (415), Content-Length (413), then
 *              authentication — refusals are answered before any body is
 *              read;
 *   upload     the body is collected up to [server] max_body (413 past it);
 *   last call  the route's handler runs and its response is queued.
 * The completion callback writes the access log line and wipes the body.
 * The limits are bound at start (a change needs a restart), except
 * max_logins and max_body, which a reload applies to new requests.
 */
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "crtokend.h"

/*
 * GnuTLS priorities for HTTPS: TLS 1.2 and 1.3 only, and no static-RSA key
 * exchange — every session has forward secrecy (ECDHE/DHE; TLS 1.3 always).
 */
#define TLS_PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-RSA"

/* ------------------------------------------------------------ helpers */

static int64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void remote_addr(struct MHD_Connection *conn, char *buf, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa;
	socklen_t sl;

	snprintf(buf, len, "unknown");
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	sl = sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (getnameinfo(sa, sl, buf, (socklen_t)len, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(buf, len, "unknown");
}

/* Copy url for logs with every segment that looks like a secret masked. */
static void mask_path(const char *url, char *out, size_t len)
{
	size_t o = 0;
	const char *p = url;

	while (*p != '\0' && o + 1 < len) {
		if (p[0] == '/' &&
		    (strncmp(p + 1, "crt_", 4) == 0 || strncmp(p + 1, "crk_", 4) == 0)) {
			int n = snprintf(out + o, len - o, "/%.4s***", p + 1);
			o += (n > 0 && (size_t)n < len - o) ? (size_t)n : 0;
			p++;
			while (*p != '\0' && *p != '/')
				p++;
			continue;
		}
		out[o++] = *p++;
	}
	out[o < len ? o : len - 1] = '\0';
}

/* Is the Content-Type want (parameters allowed)? */
static int is_type(const char *ct, const char *want)
{
	size_t n = strlen(want);

	if (ct == NULL || strncasecmp(ct, want, n) != 0)
		return 0;
	return ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ';
}

static int is_json_type(const char *ct)
{
	return is_type(ct, "application/json");
}

void request_borrow(struct request *rq)
{
	rq->pe = pool_acquire(rq->srv->pool);
	rq->ctx = pool_ctx(rq->pe);
	rq->cfg = crt_get_config(rq->ctx);
}

void request_give_back(struct request *rq)
{
	pool_release(rq->srv->pool, rq->pe);
	rq->pe = NULL;
	rq->ctx = NULL;
	rq->cfg = crt_instance_config(rq->inst);
}

/* This connection's deadline (deadline.c), or NULL. */
static struct deadline_conn *conn_deadline(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci != NULL ? ci->socket_context : NULL;
}

/*
 * R_RENEW: keep the certificate the client presented in the handshake
 * (GnuTLS verified its CertificateVerify, i.e. the client holds the key;
 * whether crtoken issued it is crt_cert_renew's to decide). 0, or -1 after
 * replying client_certificate_required.
 */
static int peer_certificate(struct request *rq)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	const gnutls_datum_t *peers;
	unsigned n = 0;

	if (!rq->cfg->renew_enabled) {
		reply_error(rq, CRT_E_RENEWAL_NOT_ALLOWED, "renewal is not enabled ([renewal] enabled)");
		return -1;
	}
	if (ci == NULL || ci->tls_session == NULL) {
		reply_error(rq, CRT_E_CLIENT_CERT_REQUIRED, "renewal needs HTTPS (tls_cert, tls_key)");
		return -1;
	}
	if (rq->srv->tls_trust == NULL) {
		reply_error(rq, CRT_E_CLIENT_CERT_REQUIRED,
		            "renewal was enabled after crtokend started: restart it");
		return -1;
	}
	peers = gnutls_certificate_get_peers((gnutls_session_t)ci->tls_session, &n);
	if (peers == NULL || n == 0 || peers[0].size == 0) {
		reply_error(rq, CRT_E_CLIENT_CERT_REQUIRED,
		            "present the current certificate and its key (TLS client authentication)");
		return -1;
	}
	if ((rq->peer_cert = malloc(peers[0].size)) == NULL) {
		reply_error(rq, CRT_E_NOMEM, NULL);
		return -1;
	}
	memcpy(rq->peer_cert, peers[0].data, peers[0].size);
	rq->peer_cert_len = peers[0].size;
	return 0;
}

/* First call: everything that can be refused before reading the body. */
static void request_begin(struct request *rq)
{
	char allow[64];
	const char *cl, *te;
	unsigned status;
	int has_body;

	rq->max_body = (size_t)rq->cfg->max_body;
	rq->route = route_match(rq->method, rq->url, rq->param, sizeof(rq->param), &status, allow,
	                        sizeof(allow));
	if (rq->route == NULL) {
		if (status == 405) {
			reply_error(rq, CRT_E_METHOD, NULL);
			reply_header(rq, MHD_HTTP_HEADER_ALLOW, allow);
		} else {
			reply_error(rq, CRT_E_NOT_FOUND, NULL);
		}
		return;
	}
	snprintf(rq->logpath, sizeof(rq->logpath), "%s", rq->route->pattern);
	cl = req_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
	te = req_header(rq, MHD_HTTP_HEADER_TRANSFER_ENCODING);
	has_body = (cl != NULL && strcmp(cl, "0") != 0) || te != NULL;
	if (has_body && (rq->route->flags & (R_BODY | R_BODY_OPT)) &&
	    !is_json_type(req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		reply_error(rq, CRT_E_MEDIA_TYPE, "send Content-Type: application/json");
		return;
	}
	if (rq->route->flags & R_OCSP) {
		if (!is_type(req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE),
		             "application/ocsp-request")) {
			reply_error(rq, CRT_E_MEDIA_TYPE, "send Content-Type: application/ocsp-request");
			return;
		}
		if (rq->max_body > OCSP_MAX_BODY)
			rq->max_body = OCSP_MAX_BODY;
	}
	if (cl != NULL && strtoull(cl, NULL, 10) > (unsigned long long)rq->max_body) {
		reply_error(rq, CRT_E_REQUEST_TOO_LARGE, NULL);
		return;
	}
	if ((rq->route->flags & (R_ADMIN | R_ME)) == (R_ADMIN | R_ME) && auth_is_basic(rq)) {
		/* the requester's own login instead of a key (no store context
		 * held while PAM runs, as for any login) */
		(void)auth_redeemer(rq);
		return;
	}
	if (rq->route->flags & R_ADMIN) {
		request_borrow(rq);
		if (rq->route->flags & R_POLL)
			(void)auth_poll(rq);
		else
			(void)auth_admin(rq);
		request_give_back(rq);
		return;
	}
	if (rq->route->flags & R_RENEW) {
		if (peer_certificate(rq) == 0 && rq->cfg->renew_require_otp)
			(void)auth_redeemer(rq);
		return;
	}
	if ((rq->route->flags & (R_REDEEM | R_ME)) && auth_redeemer(rq) != 0)
		return;
}

static void body_append(struct request *rq, const char *data, size_t n)
{
	size_t max = rq->max_body, cap;
	char *nb;

	if (rq->too_large)
		return;
	if (n > max - rq->body_len) {
		rq->too_large = 1;
		crt_freezero(rq->body, rq->body_cap);
		rq->body = NULL;
		rq->body_len = rq->body_cap = 0;
		return;
	}
	if (rq->body_len + n + 1 > rq->body_cap) {
		cap = rq->body_cap ? rq->body_cap : 4096;
		while (cap < rq->body_len + n + 1)
			cap *= 2;
		if (cap > max + 1)
			cap = max + 1;
		/* Not realloc: the old buffer may hold a passphrase; wipe it. */
		if ((nb = malloc(cap)) == NULL) {
			rq->too_large = 1; /* answered as 413: no memory for this body */
			return;
		}
		if (rq->body != NULL)
			memcpy(nb, rq->body, rq->body_len);
		crt_freezero(rq->body, rq->body_cap);
		rq->body = nb;
		rq->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, n);
	rq->body_len += n;
	rq->body[rq->body_len] = '\0';
}

static enum MHD_Result queue(struct request *rq)
{
	enum MHD_Result ret;

	ret = MHD_queue_response(rq->conn, rq->http_status, rq->resp);
	MHD_destroy_response(rq->resp);
	rq->resp = NULL;
	rq->queued = 1;
	/* Anything but a read may have raised an event (a redemption, a
	 * delete, a login that locked an OTP user): deliver it now. */
	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		deliverer_wake(rq->srv->events);
	return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
	server *srv = cls;
	struct request *rq = *con_cls;
	struct deadline_conn *dc;

	(void)version;
	if (rq == NULL) {
		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		*con_cls = rq;
		rq->srv = srv;
		rq->conn = conn;
		rq->method = method;
		rq->url = url;
		rq->start_us = now_us();
		__atomic_add_fetch(&srv->inflight, 1, __ATOMIC_ACQ_REL);
		rq->inst = pool_instance(srv->pool);
		rq->cfg = crt_instance_config(rq->inst);
		remote_addr(conn, rq->remote, sizeof(rq->remote));
		mask_path(rq->url, rq->logpath, sizeof(rq->logpath));
		dc = conn_deadline(conn);
		deadline_pause(srv->dl, dc); /* a login's PAM time is ours */
		request_begin(rq);
		if (rq->resp == NULL) {
			deadline_resume(srv->dl, dc);
			return MHD_YES;
		}
		deadline_restart(srv->dl, dc);
		return queue(rq);
	}
	if (rq->queued) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size != 0) {
		/* Only routes that take a body keep one. */
		if (rq->route->flags & (R_BODY | R_BODY_OPT | R_OCSP))
			body_append(rq, upload_data, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	dc = conn_deadline(conn);
	deadline_pause(srv->dl, dc);
	if (rq->too_large) {
		reply_error(rq, CRT_E_REQUEST_TOO_LARGE, NULL);
	} else if (rq->route->flags & R_NO_CTX) {
		rq->route->fn(rq);
	} else {
		request_borrow(rq);
		rq->route->fn(rq);
		request_give_back(rq);
	}
	if (rq->resp == NULL)
		reply_error(rq, CRT_E_INTERNAL, "handler made no response");
	deadline_restart(srv->dl, dc); /* now for sending the response */
	return queue(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
	server *srv = cls;
	struct request *rq = *con_cls;

	if (rq == NULL)
		return;
	log_msg(LOG_INFO, "%s \"%s %s\" %u%s%s%s user=%s %.1fms", rq->remote, rq->method,
	        rq->logpath, rq->http_status, rq->code ? " (" : "", rq->code ? rq->code : "",
	        rq->code ? ")" : "", rq->user[0] ? rq->user : "-",
	        (double)(now_us() - rq->start_us) / 1000.0);
	if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK && rq->queued)
		log_msg(LOG_NOTICE, "%s: connection ended before the response was sent (%d)",
		        rq->remote, (int)toe);
	auth_attempt_done(rq, 0); /* never left reserved */
	/* The next request on this connection gets a deadline of its own. */
	deadline_restart(srv->dl, conn_deadline(conn));
	crt_freezero(rq->body, rq->body_cap);
	free(rq->peer_cert);
	crt_apikey_clear(&rq->apikey);
	if (rq->resp != NULL)
		MHD_destroy_response(rq->resp);
	crt_instance_unref(rq->inst);
	explicit_bzero(rq, sizeof(*rq));
	free(rq);
	*con_cls = NULL;
	__atomic_sub_fetch(&srv->inflight, 1, __ATOMIC_ACQ_REL);
}

/* A connection opens or closes: its deadline starts or ends. */
static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
	server *srv = cls;
	const union MHD_ConnectionInfo *ci;
	char remote[64];

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		remote_addr(conn, remote, sizeof(remote));
		*socket_context = ci != NULL ? deadline_add(srv->dl, ci->connect_fd, remote) : NULL;
		if (*socket_context == NULL)
			log_msg(LOG_WARNING, "%s: no deadline for this connection (out of memory)",
			        remote);
		return;
	}
	deadline_remove(srv->dl, *socket_context);
	*socket_context = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char buf[512];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	buf[strcspn(buf, "\n")] = '\0';
	log_msg(LOG_WARNING, "libmicrohttpd: %s", buf);
}

/* Read a whole PEM file for libmicrohttpd's TLS options; malloc'd, or NULL. */
static char *read_pem(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < 1024 * 1024 &&
	    fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
		if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
			crt_freezero(buf, (size_t)n + 1);
			buf = NULL;
		} else {
			buf[n] = '\0';
			*len = (size_t)n + 1;
		}
	}
	fclose(f);
	return buf;
}

static void tls_free(server *srv)
{
	crt_freezero(srv->tls_key, srv->tls_key_len);
	free(srv->tls_cert);
	free(srv->tls_trust);
	srv->tls_key = srv->tls_cert = srv->tls_trust = NULL;
	srv->tls_key_len = srv->tls_cert_len = 0;
}

int server_start(server *srv, const struct listen_addr *addr, const crt_config *cfg)
{
	struct MHD_OptionItem opts[16];
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
	                 MHD_USE_AUTO | MHD_USE_ITC | MHD_USE_ERROR_LOG;
	int use_tls = cfg->tls_cert != NULL && cfg->tls_key != NULL;
	size_t i = 0;

	if (!use_tls && !cfg->plain_http) {
		log_msg(LOG_ERR, "no TLS: set [server] tls_cert and tls_key (plain_http = yes is "
		                 "for loopback tests only)");
		return -1;
	}
	if (!use_tls && !addr->loopback) {
		log_msg(LOG_ERR, "plain_http is allowed on loopback addresses only, not %s",
		        addr->text);
		return -1;
	}
	/* The logger first, so libmicrohttpd uses it for everything after it. */
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL};
	if (use_tls) {
		if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
			log_msg(LOG_ERR, "this libmicrohttpd has no TLS support");
			return -1;
		}
		srv->tls_cert = read_pem(cfg->tls_cert, &srv->tls_cert_len);
		srv->tls_key = read_pem(cfg->tls_key, &srv->tls_key_len);
		if (srv->tls_cert == NULL || srv->tls_key == NULL) {
			log_msg(LOG_ERR, "cannot read %s",
			        srv->tls_cert ? cfg->tls_key : cfg->tls_cert);
			goto fail;
		}
		flags |= MHD_USE_TLS;
		opts[i++] =
		    (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)TLS_PRIORITIES};
		opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, srv->tls_cert};
		opts[i++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, srv->tls_key};
		/* Renewal: every handshake asks for an optional client certificate
		 * of this CA (libmicrohttpd cannot ask on one route: no
		 * renegotiation, no post-handshake authentication); only the renew
		 * route looks at it (peer_certificate). */
		if (cfg->renew_enabled) {
			crt_instance *inst = pool_instance(srv->pool);
			const char *ca = inst != NULL ? crt_instance_ca_pem(inst) : "";
			srv->tls_trust = ca[0] != '\0' ? strdup(ca) : NULL;
			crt_instance_unref(inst);
			if (srv->tls_trust == NULL) {
				log_msg(LOG_ERR, "[renewal] enabled, but the CA certificate is not loaded");
				goto fail;
			}
			opts[i++] =
			    (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_TRUST, 0, srv->tls_trust};
		}
	}
	if (addr->ipv6)
		flags |= MHD_USE_IPv6;
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, (void *)&addr->ss};
	/* Idle timeout too: no idle connection outlives a request's deadline. */
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
	                                    (intptr_t)cfg->request_timeout, NULL};
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT,
	                                    (intptr_t)cfg->max_connections, NULL};
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	                                    (intptr_t)cfg->max_connections_per_address, NULL};
	opts[i++] =
	    (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
	opts[i++] =
	    (struct MHD_OptionItem){MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, srv};
	opts[i++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

	if ((srv->dl = deadlines_start(cfg->request_timeout)) == NULL) {
		log_msg(LOG_ERR, "cannot start the request deadline thread");
		goto fail;
	}
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
	                            MHD_OPTION_END);
	if (srv->mhd == NULL) {
		log_msg(LOG_ERR, "cannot listen on %s", addr->text);
		goto fail;
	}
	log_msg(LOG_NOTICE,
	        "listening on %s (%s%s, %u workers, %d connections, %d per address, "
	        "request timeout %d s, %d logins at once)",
	        addr->text, use_tls ? "https" : "plain http",
	        srv->tls_trust != NULL ? " asking for client certificates" : "", srv->workers, cfg->max_connections,
	        cfg->max_connections_per_address, cfg->request_timeout, cfg->max_logins);
	return 0;
fail:
	deadlines_stop(srv->dl);
	srv->dl = NULL;
	tls_free(srv);
	return -1;
}

void server_stop(server *srv, int drain_seconds)
{
	MHD_socket fd;
	int waited = 0;

	if (srv->mhd == NULL)
		return;
	fd = MHD_quiesce_daemon(srv->mhd);
	if (fd != MHD_INVALID_SOCKET)
		close(fd);
	while (__atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE) > 0 &&
	       waited < drain_seconds * 20) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
		waited++;
	}
	if (__atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE) > 0)
		log_msg(LOG_WARNING, "stopping with %ld requests still in flight",
		        __atomic_load_n(&srv->inflight, __ATOMIC_ACQUIRE));
	MHD_stop_daemon(srv->mhd);
	srv->mhd = NULL;
	deadlines_stop(srv->dl);
	srv->dl = NULL;
	tls_free(srv);
}

/*
 * coa.c — revocation reaches live sessions: after a revocation commits,
 * an RFC 5176 Disconnect-Request to the NAS of the certificate's last
 * session as rlm_crtoken recorded it (cert_seen: NAS-IP-Address, User-Name,
 * Acct-Session-Id, Calling-Station-Id, NAS-Identifier), signed with the
 * [coa] secret (per NAS from nas_file, else secret_file), with
 * Event-Timestamp and Message-Authenticator. Best effort: its outcome
 * (ack, nak, timeout, unreachable, ...) is audited as cert.disconnect in a
 * transaction of its own and never changes the revocation's status.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define COA_DISCONNECT_REQUEST 40
#define COA_DISCONNECT_ACK 41
#define COA_DISCONNECT_NAK 42
#define A_USER_NAME 1
#define A_NAS_IP_ADDRESS 4
#define A_CALLING_STATION_ID 31
#define A_NAS_IDENTIFIER 32
#define A_ACCT_SESSION_ID 44
#define A_EVENT_TIMESTAMP 55
#define A_MESSAGE_AUTHENTICATOR 80
#define A_ERROR_CAUSE 101
#define COA_MAX 4096
#define SECRET_MAX 256

typedef struct pkt {
	unsigned char b[COA_MAX];
	size_t len;
} pkt;

static void put_attr(pkt *p, int type, const void *v, size_t n)
{
	if (n == 0 || n > 253 || p->len + 2 + n > sizeof(p->b))
		return;
	p->b[p->len] = (unsigned char)type;
	p->b[p->len + 1] = (unsigned char)(2 + n);
	memcpy(p->b + p->len + 2, v, n);
	p->len += 2 + n;
}

static void put_str(pkt *p, int type, const char *s)
{
	if (s != NULL)
		put_attr(p, type, s, strlen(s));
}

static int md5_of(const unsigned char *a, size_t an, const unsigned char *b, size_t bn,
		  unsigned char out[16])
{
	unsigned int n = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	int ok = m != NULL && EVP_DigestInit_ex(m, EVP_md5(), NULL) &&
		 EVP_DigestUpdate(m, a, an) && EVP_DigestUpdate(m, b, bn) &&
		 EVP_DigestFinal_ex(m, out, &n) && n == 16;
	EVP_MD_CTX_free(m);
	return ok ? 0 : -1;
}

/* The Disconnect-Request for c, signed with secret (RFC 5176 §2.3, §3.5). */
static int build_request(const crt_cert *c, unsigned char id, const unsigned char *secret,
			 size_t slen, pkt *p)
{
	unsigned char ma[16] = {0}, auth[16];
	struct in_addr a4;
	uint32_t ts = htonl((uint32_t)time(NULL));
	size_t ma_at;
	unsigned int hn = 0;

	memset(p, 0, sizeof(*p));
	p->b[0] = COA_DISCONNECT_REQUEST;
	p->b[1] = id;
	p->len = 20;
	put_str(p, A_USER_NAME, c->seen_user);
	put_str(p, A_ACCT_SESSION_ID, c->acct_session_id);
	put_str(p, A_CALLING_STATION_ID, c->last_mac);
	if (c->nas_ip != NULL && inet_pton(AF_INET, c->nas_ip, &a4) == 1)
		put_attr(p, A_NAS_IP_ADDRESS, &a4, 4);
	put_str(p, A_NAS_IDENTIFIER, c->nas_id);
	put_attr(p, A_EVENT_TIMESTAMP, &ts, 4);
	ma_at = p->len + 2;
	put_attr(p, A_MESSAGE_AUTHENTICATOR, ma, 16);
	p->b[2] = (unsigned char)(p->len >> 8);
	p->b[3] = (unsigned char)p->len;
	/* Message-Authenticator over the packet with a zero authenticator,
	 * then the Request Authenticator over the packet holding it. */
	if (HMAC(EVP_md5(), secret, (int)slen, p->b, p->len, ma, &hn) == NULL || hn != 16)
		return -1;
	memcpy(p->b + ma_at, ma, 16);
	if (md5_of(p->b, p->len, secret, slen, auth) != 0)
		return -1;
	memcpy(p->b + 4, auth, 16);
	return 0;
}

/* Whether r (n bytes) is a well-formed answer to req, signed with secret. */
static int response_ok(const unsigned char *r, size_t n, const pkt *req,
		       const unsigned char *secret, size_t slen)
{
	unsigned char copy[COA_MAX], want[16];
	size_t len;

	if (n < 20 || n > sizeof(copy))
		return 0;
	len = ((size_t)r[2] << 8) | r[3];
	if (len < 20 || len > n || r[1] != req->b[1])
		return 0;
	memcpy(copy, r, len);
	memcpy(copy + 4, req->b + 4, 16);
	if (md5_of(copy, len, secret, slen, want) != 0)
		return 0;
	return CRYPTO_memcmp(want, r + 4, 16) == 0;
}

/* The Error-Cause of a NAK, 0 when none. */
static unsigned error_cause(const unsigned char *r, size_t len)
{
	for (size_t i = 20; i + 2 <= len && r[i + 1] >= 2 && i + r[i + 1] <= len; i += r[i + 1])
		if (r[i] == A_ERROR_CAUSE && r[i + 1] == 6)
			return ((unsigned)r[i + 2] << 24) | ((unsigned)r[i + 3] << 16) |
			       ((unsigned)r[i + 4] << 8) | r[i + 5];
	return 0;
}

/* The secret and port for nas: its line in nas_file, else secret_file and
 * [coa] port. *secret malloc'd (the caller wipes and frees); 1 when none
 * is configured for it, -1 on a file error (why filled). */
static int secret_for(crt_ctx *ctx, const char *nas, char **secret, size_t *slen, int *port,
		      char *why, size_t wn)
{
	const crt_config *cfg = &ctx->cfg;
	char *text = NULL;
	size_t len = 0;

	*secret = NULL;
	*port = cfg->coa_port;
	if (cfg->coa_nas_file != NULL) {
		if (read_trusted(cfg->coa_nas_file, 1 << 20, CRT_TRUST_SECRET, &text, &len, why,
				 wn) != CRT_OK)
			return -1;
		char *save = NULL;
		for (char *line = strtok_r(text, "\n", &save); line != NULL;
		     line = strtok_r(NULL, "\n", &save)) {
			char addr[80], sec[SECRET_MAX + 1];
			int p = *port;
			while (*line == ' ' || *line == '\t')
				line++;
			if (*line == '#' || *line == '\0')
				continue;
			if (sscanf(line, "%79s %256s", addr, sec) != 2)
				continue;
			char *colon = strrchr(addr, ':');
			if (colon != NULL && strchr(addr, '.') != NULL) { /* IPv4:PORT */
				*colon = '\0';
				p = atoi(colon + 1);
			}
			if (strcmp(addr, nas) == 0 && p > 0 && p < 65536) {
				*port = p;
				*secret = strdup(sec);
				*slen = strlen(sec);
				OPENSSL_cleanse(sec, sizeof(sec));
				break;
			}
			OPENSSL_cleanse(sec, sizeof(sec));
		}
		OPENSSL_cleanse(text, len);
		free(text);
		if (*secret != NULL)
			return 0;
	}
	if (cfg->coa_secret_file == NULL)
		return 1;
	if (read_trusted(cfg->coa_secret_file, SECRET_MAX + 2, CRT_TRUST_SECRET, &text, &len,
			 why, wn) != CRT_OK)
		return -1;
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	if (len == 0) {
		snprintf(why, wn, "%s is empty", cfg->coa_secret_file);
		free(text);
		return -1;
	}
	*secret = text;
	*slen = len;
	return 0;
}

/* Send req to nas:port and wait for its answer: "ack", "nak", "timeout",
 * "unreachable: ..." into result. */
static void exchange(const char *nas, int port, const pkt *req, const unsigned char *secret,
		     size_t slen, int timeout_ms, int tries, char *result, size_t rn)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned char r[COA_MAX];
	int fd, af;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, nas, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		af = AF_INET;
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, nas, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		af = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
		sl = sizeof(struct sockaddr_in6);
	} else {
		snprintf(result, rn, "no NAS address (\"%s\")", nas);
		return;
	}
	if ((fd = socket(af, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		snprintf(result, rn, "unreachable: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	snprintf(result, rn, "timeout");
	for (int t = 0; t < tries; t++) {
		if (send(fd, req->b, req->len, 0) < 0) {
			snprintf(result, rn, "unreachable: %s", strerror(errno));
			if (errno != ECONNREFUSED)
				break;
			continue;
		}
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (;;) {
			clock_gettime(CLOCK_MONOTONIC, &t1);
			long left = timeout_ms - ((t1.tv_sec - t0.tv_sec) * 1000 +
						  (t1.tv_nsec - t0.tv_nsec) / 1000000);
			struct pollfd pf = {.fd = fd, .events = POLLIN};
			if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
				break;
			ssize_t n = recv(fd, r, sizeof(r), 0);
			if (n < 0) {
				snprintf(result, rn, "unreachable: %s", strerror(errno));
				break; /* ICMP port unreachable: try again */
			}
			if (!response_ok(r, (size_t)n, req, secret, slen))
				continue; /* not our answer: keep waiting */
			if (r[0] == COA_DISCONNECT_ACK) {
				snprintf(result, rn, "ack");
			} else if (r[0] == COA_DISCONNECT_NAK) {
				unsigned ec = error_cause(r, (size_t)n);
				if (ec)
					snprintf(result, rn, "nak (Error-Cause %u)", ec);
				else
					snprintf(result, rn, "nak");
			} else {
				snprintf(result, rn, "unexpected answer code %u", r[0]);
			}
			close(fd);
			return;
		}
	}
	close(fd);
}

void coa_disconnect(crt_ctx *ctx, const char *serial, const char *actor)
{
	const crt_config *cfg = &ctx->cfg;
	crt_cert c = {0};
	char *secret = NULL, *detail = NULL;
	char why[512] = "", result[600];
	size_t slen = 0;
	unsigned char id;
	int port, rc;
	char saved[sizeof(ctx->detail)];
	pkt req;
	jbuf j;

	if (cfg->coa_secret_file == NULL && cfg->coa_nas_file == NULL)
		return;
	memcpy(saved, ctx->detail, sizeof(saved));
	if (crt_cert_get(ctx, serial, &c) != CRT_OK)
		goto out;
	if (c.nas_ip == NULL)
		goto out; /* never admitted: no session to end */
	rc = secret_for(ctx, c.nas_ip, &secret, &slen, &port, why, sizeof(why));
	if (rc == 1) {
		snprintf(result, sizeof(result), "no [coa] secret for this NAS");
	} else if (rc < 0) {
		snprintf(result, sizeof(result), "secret unreadable: %s", why);
	} else if (random_bytes(&id, 1) != CRT_OK ||
		   build_request(&c, id, (unsigned char *)secret, slen, &req) != 0) {
		snprintf(result, sizeof(result), "could not build the request");
	} else {
		exchange(c.nas_ip, port, &req, (unsigned char *)secret, slen, cfg->coa_timeout_ms,
			 cfg->coa_retries + 1, result, sizeof(result));
	}
	jb_begin(&j);
	jb_str(&j, "nas", c.nas_ip);
	jb_int(&j, "port", port);
	jb_str(&j, "userName", c.seen_user);
	jb_str(&j, "acctSessionId", c.acct_session_id);
	jb_str(&j, "callingStationId", c.last_mac);
	jb_str(&j, "result", result);
	if ((detail = jb_end(&j)) == NULL)
		goto out;
	/* Its own transaction: the revocation is committed whatever happens. */
	if (store_begin_write(ctx) != CRT_OK)
		goto out;
	if (audit_write(ctx, actor, "cert.disconnect", c.serial, detail) != CRT_OK ||
	    store_commit(ctx) != CRT_OK)
		store_rollback(ctx);
out:
	if (secret != NULL) {
		OPENSSL_cleanse(secret, slen);
		free(secret);
	}
	free(detail);
	crt_cert_clear(&c);
	memcpy(ctx->detail, saved, sizeof(saved)); /* the revocation's, as it was */
}

/*
 * events_deliver.c — one delivery pass over the outbox (crt_events_deliver)
 * and the three sinks: webhook (HTTPS POST, HMAC-SHA256 signature), e-mail
 * (libcurl SMTP to a relay) and command (exec with the event on stdin, no
 * shell).
 *
 * A pass: route the new events (a delivery per sink whose filter takes the
 * event; the routing of an event is a conditional update, so two nodes
 * never both route it), claim due deliveries under a lease (port_events.h),
 * send each outside any transaction, then record the attempt and the
 * delivery's new state (rules/events.h: retry with backoff, give up).
 * At least once: a node that dies after sending but before recording lets
 * the lease run out and another node sends the event again.
 */
#define _GNU_SOURCE /* memfd_create, posix_spawn_file_actions_addclosefrom_np */
#include <curl/curl.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/hmac.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "rules/events.h"

#define ROUTE_BATCH 500
#define SECRET_MAX 4096

typedef struct send_result {
	int ok;
	char text[700];
} send_result;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const crt_event_sink *sink_named(const crt_config *cfg, const char *name, size_t *idx)
{
	for (size_t i = 0; i < cfg->event_nsinks; i++)
		if (strcmp(cfg->event_sinks[i].name, name) == 0) {
			*idx = i;
			return &cfg->event_sinks[i];
		}
	return NULL;
}

/* ---------------------------------------------------------------- values */

/* The event body parsed, for the headers and the templates. */
typedef struct event_view {
	json_t *root, *subject;
} event_view;

static const char *view_str(const event_view *v, const char *name)
{
	json_t *x = json_object_get(v->root, name);
	if (!json_is_string(x) && v->subject != NULL)
		x = json_object_get(v->subject, name);
	return json_is_string(x) ? json_string_value(x) : NULL;
}

static const char *view_lookup(const char *name, void *arg)
{
	return view_str(arg, name);
}

/* ---------------------------------------------------------------- webhook */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	return size * n;
}

/* The key: the secret file's bytes without trailing blanks or newlines. */
static int read_key(const crt_event_sink *s, char **key, size_t *len, send_result *out)
{
	char why[600];
	crt_status r = read_trusted(s->secret_file, SECRET_MAX, CRT_TRUST_SECRET, key, len, why,
				    sizeof(why));
	if (r != CRT_OK) {
		snprintf(out->text, sizeof(out->text), "secret_file: %s", why);
		return -1;
	}
	while (*len > 0 && ((*key)[*len - 1] == '\n' || (*key)[*len - 1] == '\r' ||
			    (*key)[*len - 1] == ' ' || (*key)[*len - 1] == '\t'))
		(*key)[--*len] = '\0';
	if (*len < 16) {
		crt_freezero(*key, *len);
		snprintf(out->text, sizeof(out->text), "secret_file: the key is shorter than 16 bytes");
		return -1;
	}
	return 0;
}

/* c: the pass's handle for this sink (reset here; its connection is
 * reused for the next event of the pass). */
static void send_webhook(CURL *c, const crt_event_sink *s, const event_view *v, const char *body,
			 send_result *out)
{
	char *key = NULL, ts[24], hex[65], hdr[5][200];
	unsigned char mac[32];
	unsigned int maclen = 0;
	size_t keylen = 0;
	struct curl_slist *h = NULL;
	long code = 0;

	if (read_key(s, &key, &keylen, out) != 0)
		return;
	/* Signed: "<timestamp>.<body>", so a captured request cannot be
	 * replayed later under a fresh timestamp. */
	snprintf(ts, sizeof(ts), "%lld", (long long)crt_now());
	size_t blen = strlen(body), tlen = strlen(ts);
	unsigned char *msg = malloc(tlen + 1 + blen);
	if (msg == NULL) {
		snprintf(out->text, sizeof(out->text), "out of memory");
		goto out;
	}
	memcpy(msg, ts, tlen);
	msg[tlen] = '.';
	memcpy(msg + tlen + 1, body, blen);
	if (HMAC(EVP_sha256(), key, (int)keylen, msg, tlen + 1 + blen, mac, &maclen) == NULL) {
		free(msg);
		snprintf(out->text, sizeof(out->text), "HMAC failed");
		goto out;
	}
	free(msg);
	for (unsigned i = 0; i < maclen; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	snprintf(hdr[0], sizeof(hdr[0]), "Content-Type: application/json");
	snprintf(hdr[1], sizeof(hdr[1]), "X-Crtoken-Event: %s", view_str(v, "type"));
	snprintf(hdr[2], sizeof(hdr[2]), "X-Crtoken-Event-Id: %s", view_str(v, "id"));
	snprintf(hdr[3], sizeof(hdr[3]), "X-Crtoken-Timestamp: %s", ts);
	snprintf(hdr[4], sizeof(hdr[4]), "X-Crtoken-Signature: sha256=%s", hex);
	for (int i = 0; i < 5; i++) {
		struct curl_slist *n = curl_slist_append(h, hdr[i]);
		if (n == NULL) {
			snprintf(out->text, sizeof(out->text), "out of memory");
			goto out;
		}
		h = n;
	}
	if (c == NULL) {
		snprintf(out->text, sizeof(out->text), "curl_easy_init failed");
		goto out;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, s->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)blen);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "crtoken-events/1");
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	CURLcode cr = curl_easy_perform(c);
	if (cr != CURLE_OK) {
		snprintf(out->text, sizeof(out->text), "%s", curl_easy_strerror(cr));
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	snprintf(out->text, sizeof(out->text), "HTTP %ld", code);
	out->ok = code >= 200 && code < 300;
out:
	if (c != NULL)
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL); /* h is freed below */
	curl_slist_free_all(h);
	crt_freezero(key, keylen);
}

/* ---------------------------------------------------------------- e-mail */

typedef struct mail_src {
	const char *data;
	size_t len, off;
} mail_src;

static size_t mail_read(char *p, size_t size, size_t n, void *arg)
{
	mail_src *m = arg;
	size_t left = m->len - m->off, k = size * n < left ? size * n : left;
	memcpy(p, m->data + m->off, k);
	m->off += k;
	return k;
}

/* An address we hand to the relay: no blanks, controls, <, >, or commas. */
static int address_ok(const char *a, size_t n)
{
	if (n == 0 || n > 254 || memchr(a, '@', n) == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)a[i] <= 0x20 || a[i] == 0x7f || a[i] == '<' || a[i] == '>' ||
		    a[i] == ',' || a[i] == '"')
			return 0;
	return 1;
}

static int add_rcpt(struct curl_slist **l, char *to_hdr, size_t hlen, const char *a, size_t n)
{
	char buf[260];
	if (!address_ok(a, n))
		return 0;
	snprintf(buf, sizeof(buf), "<%.*s>", (int)n, a);
	struct curl_slist *x = curl_slist_append(*l, buf);
	if (x == NULL)
		return -1;
	*l = x;
	size_t used = strlen(to_hdr);
	snprintf(to_hdr + used, hlen - used, "%s%.*s", used ? ", " : "", (int)n, a);
	return 1;
}

static void send_email(const crt_event_sink *s, const event_view *v, send_result *out)
{
	struct curl_slist *rcpt = NULL;
	char to_hdr[2048] = "", from[300], date[64], *subject = NULL, *text = NULL, *msg = NULL;
	int nrcpt = 0, k;
	CURL *c = NULL;
	long code = 0;

	for (const char *p = s->to; p != NULL && *p != '\0';) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		while (n > 0 && *p == ' ')
			p++, n--;
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if ((k = add_rcpt(&rcpt, to_hdr, sizeof(to_hdr), p, n)) < 0)
			goto oom;
		nrcpt += k;
		p = e ? e + 1 : NULL;
	}
	const char *owner = view_str(v, "ownerEmail");
	if (s->to_owner && owner != NULL) {
		if ((k = add_rcpt(&rcpt, to_hdr, sizeof(to_hdr), owner, strlen(owner))) < 0)
			goto oom;
		nrcpt += k;
	}
	if (nrcpt == 0) { /* nothing to send: done, and said so */
		out->ok = 1;
		snprintf(out->text, sizeof(out->text), "no recipient");
		goto out;
	}
	if ((subject = event_template_render(s->subject, view_lookup, (void *)v, 1)) == NULL ||
	    (text = event_template_render(s->body, view_lookup, (void *)v, 0)) == NULL)
		goto oom;
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
	snprintf(from, sizeof(from), "<%s>", s->from);
	size_t mlen = strlen(subject) + strlen(text) * 2 + strlen(to_hdr) + 1024;
	if ((msg = malloc(mlen)) == NULL)
		goto oom;
	int w = snprintf(msg, mlen,
			 "From: %s\r\nTo: %s\r\nSubject: %s\r\nDate: %s\r\n"
			 "Message-ID: <%s@crtoken>\r\nMIME-Version: 1.0\r\n"
			 "Content-Type: text/plain; charset=utf-8\r\n"
			 "Content-Transfer-Encoding: 8bit\r\n\r\n",
			 s->from, to_hdr, subject, date, view_str(v, "id"));
	if (w < 0 || (size_t)w + 3 > mlen) { /* a [from] longer than the room made */
		snprintf(out->text, sizeof(out->text), "the message headers are too long");
		goto out;
	}
	/* The body with CRLF line ends only: a bare CR or LF (from a value)
	 * becomes CRLF, so libcurl's dot-stuffing sees every line and no relay
	 * can be shown an end of data it would read differently (SMTP
	 * smuggling with "\r.\r" or "\n.\n"). */
	for (const char *p = text; *p && (size_t)w + 5 <= mlen; p++) {
		if (*p == '\r' && p[1] != '\n') {
			msg[w++] = '\r';
			msg[w++] = '\n';
			continue;
		}
		if (*p == '\n' && (p == text || p[-1] != '\r'))
			msg[w++] = '\r';
		msg[w++] = *p;
	}
	memcpy(msg + w, "\r\n", 3);
	w += 2;
	mail_src src = {msg, (size_t)w, 0};
	if ((c = curl_easy_init()) == NULL)
		goto oom;
	curl_easy_setopt(c, CURLOPT_URL, s->smtp_url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)(s->timeout * 1000));
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, mail_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &src);
	curl_easy_setopt(c, CURLOPT_INFILESIZE, (long)w);
	if (s->starttls)
		curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (s->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
	CURLcode cr = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cr != CURLE_OK)
		snprintf(out->text, sizeof(out->text), "%s (SMTP %ld)", curl_easy_strerror(cr), code);
	else {
		snprintf(out->text, sizeof(out->text), "SMTP %ld, %d recipient(s)", code, nrcpt);
		out->ok = 1;
	}
	goto out;
oom:
	snprintf(out->text, sizeof(out->text), "out of memory");
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	free(subject);
	free(text);
	free(msg);
}

/* ---------------------------------------------------------------- command */

#define CMD_MAX_ARGS 32

static void send_command(const crt_event_sink *s, const event_view *v, const char *body,
			 send_result *out)
{
	char *copy = strdup(s->command), *argv[CMD_MAX_ARGS + 1], *save = NULL;
	char env_type[96], env_id[96];
	char *envp[] = {"PATH=/usr/local/bin:/usr/bin:/bin", env_type, env_id, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	int argc = 0, fd = -1, fa_made = 0, sa_made = 0, status;
	pid_t pid;

	if (copy == NULL) {
		snprintf(out->text, sizeof(out->text), "out of memory");
		return;
	}
	for (char *t = strtok_r(copy, " \t", &save); t != NULL && argc < CMD_MAX_ARGS;
	     t = strtok_r(NULL, " \t", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	snprintf(env_type, sizeof(env_type), "CRTOKEN_EVENT_TYPE=%s", view_str(v, "type"));
	snprintf(env_id, sizeof(env_id), "CRTOKEN_EVENT_ID=%s", view_str(v, "id"));
	/* The event on stdin from a sealed-off memory file: the command reads
	 * it at its pace and we never block on a pipe it does not drain. */
	size_t blen = strlen(body);
	if ((fd = memfd_create("crtoken-event", MFD_CLOEXEC)) < 0 ||
	    write(fd, body, blen) != (ssize_t)blen || lseek(fd, 0, SEEK_SET) != 0) {
		snprintf(out->text, sizeof(out->text), "event file: %s", strerror(errno));
		goto out;
	}
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	fa_made = 1;
	if (posix_spawn_file_actions_adddup2(&fa, fd, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0) != 0 ||
	    posix_spawn_file_actions_addclosefrom_np(&fa, 3) != 0) {
		snprintf(out->text, sizeof(out->text), "spawn setup failed");
		goto out;
	}
	/* A process group of its own: a command that hangs is killed with
	 * everything it started (a script's children would outlive it). */
	if (posix_spawnattr_init(&sa) != 0) {
		snprintf(out->text, sizeof(out->text), "spawn setup failed");
		goto out;
	}
	sa_made = 1;
	if (posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETPGROUP) != 0 ||
	    posix_spawnattr_setpgroup(&sa, 0) != 0) {
		snprintf(out->text, sizeof(out->text), "spawn setup failed");
		goto out;
	}
	int e = posix_spawn(&pid, argv[0], &fa, &sa, argv, envp);
	if (e != 0) {
		snprintf(out->text, sizeof(out->text), "exec %s: %s", argv[0], strerror(e));
		goto out;
	}
	int64_t deadline = now_ms() + s->timeout * 1000;
	pid_t w;
	while ((w = waitpid(pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
		struct timespec nap = {0, 10 * 1000 * 1000};
		nanosleep(&nap, NULL);
	}
	if (w == 0) {
		kill(-pid, SIGKILL);
		waitpid(pid, &status, 0);
		snprintf(out->text, sizeof(out->text), "killed after the %llds timeout",
			 (long long)s->timeout);
	} else if (w < 0) {
		snprintf(out->text, sizeof(out->text), "waitpid: %s", strerror(errno));
	} else if (WIFEXITED(status)) {
		snprintf(out->text, sizeof(out->text), "exit %d", WEXITSTATUS(status));
		out->ok = WEXITSTATUS(status) == 0;
	} else {
		snprintf(out->text, sizeof(out->text), "signal %d", WTERMSIG(status));
	}
out:
	if (sa_made)
		posix_spawnattr_destroy(&sa);
	if (fa_made)
		posix_spawn_file_actions_destroy(&fa);
	if (fd >= 0)
		close(fd);
	free(copy);
}

/* ---------------------------------------------------------------- the pass */

/* An event id or type as written by event_make: letters, digits, '.', '-',
 * '_' (each goes into a header or the environment as it is). */
static int plain_word(const char *w)
{
	if (w == NULL || *w == '\0' || strlen(w) > 80)
		return 0;
	for (; *w; w++)
		if (!isalnum((unsigned char)*w) && *w != '.' && *w != '-' && *w != '_')
			return 0;
	return 1;
}

static void send_one(CURL *c, const crt_event_sink *s, const char *body, send_result *out)
{
	event_view v = {0};

	memset(out, 0, sizeof(*out));
	if ((v.root = json_loads(body, 0, NULL)) == NULL) {
		snprintf(out->text, sizeof(out->text), "the stored event is not JSON");
		return;
	}
	v.subject = json_object_get(v.root, "subject");
	/* A stored event altered behind crtoken's back must not add headers
	 * (X-Crtoken-Event, Message-ID) or environment lines: not sent. */
	if (!plain_word(json_string_value(json_object_get(v.root, "id"))) ||
	    !plain_word(json_string_value(json_object_get(v.root, "type")))) {
		snprintf(out->text, sizeof(out->text),
			 "the stored event's id or type is not a plain word: not sent");
		json_decref(v.root);
		return;
	}
	switch (s->type) {
	case CRT_SINK_WEBHOOK: send_webhook(c, s, &v, body, out); break;
	case CRT_SINK_EMAIL: send_email(s, &v, out); break;
	case CRT_SINK_COMMAND: send_command(s, &v, body, out); break;
	default: snprintf(out->text, sizeof(out->text), "unknown sink type");
	}
	json_decref(v.root);
}

/* Inside the pass's write transaction: route the events of refs to the
 * sinks whose filter takes them (one store call for them all). */
static crt_status route(crt_ctx *ctx, const store_event_ref *refs, size_t n, int64_t now,
			size_t *routed)
{
	const crt_config *cfg = &ctx->cfg;
	const char *(*names)[16] = NULL;
	store_route *ev = NULL;
	crt_status r;

	if (n == 0)
		return CRT_OK;
	names = calloc(n, sizeof(*names));
	ev = calloc(n, sizeof(*ev));
	if (names == NULL || ev == NULL) {
		r = ctx_fail(ctx, CRT_E_NOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		for (size_t s = 0; s < cfg->event_nsinks && k < 16; s++)
			if (event_filter_match(cfg->event_sinks[s].events, refs[i].type))
				names[i][k++] = cfg->event_sinks[s].name;
		ev[i] = (store_route){.seq = refs[i].seq, .sinks = names[i], .nsinks = k};
	}
	r = store_event_route_many(ctx, ev, n, now, routed);
out:
	free(names);
	free(ev);
	return r;
}

static crt_status record(crt_ctx *ctx, const store_attempt *a)
{
	int changed = 0;
	crt_status r;
	if ((r = store_begin_write(ctx)) != CRT_OK)
		return r;
	if ((r = store_event_finish(ctx, a, &changed)) != CRT_OK) {
		store_rollback(ctx);
		return r;
	}
	return store_commit(ctx);
}

crt_status crt_events_deliver(crt_ctx *ctx, const char *node, crt_events_pass *out)
{
	const crt_config *cfg = &ctx->cfg;
	store_delivery_job *jobs = NULL;
	size_t n = 0;
	char self[300];
	int64_t now = crt_now();
	crt_status r;

	ctx_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (node == NULL)
		node = cfg->events_node;
	if (node == NULL) {
		char host[256] = "localhost";
		gethostname(host, sizeof(host) - 1);
		snprintf(self, sizeof(self), "%s:%ld", host, (long)getpid());
		node = self;
	}
	/* Read first: a pass with nothing to do takes no write lock. The
	 * routing is conditional (routed = 0) and the claim guarded by the
	 * lease, so a stale read routes or sends nothing twice. Routing and the
	 * claim share one transaction (one commit). */
	store_event_ref *refs = NULL;
	size_t nref = 0;
	size_t routed = 0;
	int any = 0;
	if ((r = store_event_unrouted(ctx, ROUTE_BATCH, &refs, &nref)) != CRT_OK)
		return r;
	if (nref == 0 && (r = store_event_due(ctx, now, &any)) != CRT_OK)
		return r;
	if (nref == 0 && !any) {
		store_event_refs_free(refs, nref);
		return CRT_OK;
	}
	if ((r = store_begin_write(ctx)) != CRT_OK) {
		store_event_refs_free(refs, nref);
		return r;
	}
	r = route(ctx, refs, nref, now, &routed);
	store_event_refs_free(refs, nref);
	if (r == CRT_OK)
		r = store_event_claim(ctx, node, now, now + cfg->events_lease, cfg->events_batch,
				      &jobs, &n);
	if (r != CRT_OK) {
		store_rollback(ctx);
		store_delivery_jobs_free(jobs, n);
		return r;
	}
	if ((r = store_commit(ctx)) != CRT_OK) {
		store_delivery_jobs_free(jobs, n);
		return r; /* leases taken or not: they run out either way */
	}
	out->routed = routed;
	/* One handle per webhook sink for the pass: its connection (and TLS
	 * session) carries the sink's events one after another. */
	CURL *handles[16] = {0};
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		const crt_event_sink *s = sink_named(cfg, jobs[i].sink, &k);
		send_result res = {0};
		int64_t t0 = now_ms();
		if (s != NULL && s->type == CRT_SINK_WEBHOOK && k < 16 && handles[k] == NULL)
			handles[k] = curl_easy_init();
		if (s != NULL)
			send_one(k < 16 ? handles[k] : NULL, s, jobs[i].body, &res);
		else
			snprintf(res.text, sizeof(res.text), "sink %s is no longer configured",
				 jobs[i].sink);
		int64_t at = crt_now(), next = 0;
		store_attempt a = {.seq = jobs[i].seq,
				   .sink = jobs[i].sink,
				   .node = node,
				   .at = at,
				   .ok = res.ok,
				   .result = res.text,
				   .duration_ms = now_ms() - t0};
		if (res.ok) {
			a.state = "delivered";
			out->delivered++;
		} else if (s != NULL && event_retry_at(jobs[i].attempts + 1, at, jobs[i].first_at,
						      s->retry_base, s->retry_max,
						      s->give_up_after, &next)) {
			a.state = "pending";
			a.next_at = next;
			out->retrying++;
			if (out->next_due == 0 || next < out->next_due)
				out->next_due = next;
		} else {
			a.state = "failed";
			out->failed++;
		}
		out->attempted++;
		if ((r = record(ctx, &a)) != CRT_OK)
			break; /* the lease runs out: the delivery is tried again */
	}
	for (size_t k = 0; k < 16; k++)
		curl_easy_cleanup(handles[k]);
	store_delivery_jobs_free(jobs, n);
	return r;
}

/*
 * rlm_crtoken.c — FreeRADIUS 3.2 module: admit only certificates issued by crtoken.
 *
 * Placed in the authorize section of the check-eap-tls virtual server (see
 * check-eap-tls in this directory), it runs once per EAP-TLS authentication
 * after the TLS handshake verified the chain, reads what rlm_eap_tls tells
 * of the client certificate (serial, issuer name, Subject and Authority Key
 * Identifiers, validity) from the request, and asks libcrtoken whether it
 * is the certificate crtoken stored under that serial and may be admitted
 * (crt_cert_authorize / crt_cert_admit). Valid: the reply attributes stored
 * with the token are added (VLAN, Class, Reply-Message ...). Revoked,
 * expired, unknown serial, other issuer name or key, other subject key, a
 * missing or repeated key identifier: REJECT with the reason in
 * Module-Failure-Message. Store unavailable, lost or stale (store_stale: a
 * standby's heartbeat older than [store] max_staleness): FAIL (fail closed);
 * with on_store_failure = no_response also no reply at all (Do-Not-Respond on
 * the outer request), so the NAS fails over to its other RADIUS server.
 *
 * The module is a thin shell: the lookup and status rules live in common/.
 * The module instance holds one crtoken instance (the config, read once at
 * instantiate, without the CA or the OTP key); each pool connection is one
 * read-only session over it (one SQLite connection in WAL mode), so readers
 * never block on the admin or enrollment writers.
 * Revocation is live because every request reads the store.
 *
 * What RADIUS sees (first and last admission, NAS, Calling-Station-Id,
 * User-Name, Acct-Session-Id per certificate) is recorded off the request
 * path: an admission only updates a bounded in-memory queue (coalesced by
 * serial; when full the oldest entry is dropped and counted, a RADIUS
 * thread never waits for the store), and a flusher thread writes the queue
 * every seen_flush_interval seconds in one transaction through its own
 * writable session (crt_cert_seen_record). The one write on the request
 * path is the MAC pin of [radius] pin_mac = first: a certificate's first
 * admission claims its MAC in the store before it is accepted
 * (crt_cert_pin_claim, atomic across RADIUS nodes), so the pin never waits
 * for a flush and a clone presented in that window loses. Every
 * Access-Accept carries Session-Timeout, at most the seconds left until the
 * certificate's notAfter (and [radius] max_session_timeout).
 *
 * A connection whose database file has been removed or replaced since it
 * was opened is reconnected before use: SQLite keeps reading an unlinked
 * file through its open descriptor, which would admit certificates from a
 * store that no longer exists.
 */
RCSID("$Id$")

#include <freeradius/radiusd.h>
#include <freeradius/modules.h>

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "crtoken.h"

/*
 * The queue of sightings: a ring of at most cap entries in arrival order
 * (the oldest at head), each serial once (hash chains through next[]).
 */
typedef struct seen_queue {
	crt_sighting *e;
	int32_t *next;   /* per slot: the next slot in its bucket, -1 */
	int32_t *bucket; /* nb heads, -1 */
	uint32_t cap, nb, head, count;
} seen_queue;

/*
 *	Instance data and its configuration table.
 */
typedef struct rlm_crtoken_t {
	char const *name;             /* instance name, for log lines */
	char const *config_file;      /* crtoken.conf (never from the environment) */
	char const *serial_attr;      /* TLS-Client-Cert-Serial */
	char const *issuer_attr;      /* TLS-Client-Cert-Issuer; "" = no issuer check */
	DICT_ATTR const *serial_da;
	DICT_ATTR const *issuer_da;   /* NULL when issuer_attr is "" */
	DICT_ATTR const *ski_da;      /* TLS-Client-Cert-X509v3-Subject-Key-Identifier */
	DICT_ATTR const *aki_da;      /* TLS-Client-Cert-X509v3-Authority-Key-Identifier */
	DICT_ATTR const *since_da;    /* TLS-Client-Cert-Valid-Since */
	DICT_ATTR const *until_da;    /* TLS-Client-Cert-Expiration */
	char const *attest_attr;      /* control attribute for the attested facts; "" = none */
	DICT_ATTR const *attest_da;
	char const *on_store_failure; /* "fail" | "no_response" */
	bool no_response;             /* on_store_failure = no_response */
	DICT_ATTR const *rpt_da;      /* Response-Packet-Type */
	char *db_path;                /* the store file, learned from the config */
	bool file_store;              /* sqlite: check db_path's identity per request */
	crt_instance *crt;            /* the config, shared by the pool's sessions */
	fr_connection_pool_t *pool;
	pthread_mutex_t warn_mutex;   /* guards warned[] */
	bool warn_mutex_init;
	char **warned;                /* attribute names already warned about */
	size_t nwarned;

	/* What RADIUS saw (the queue and its flusher). */
	bool record_seen;             /* config: record_seen */
	uint32_t flush_interval;      /* config: seen_flush_interval, seconds */
	uint32_t queue_size;          /* config: seen_queue_size */
	DICT_ATTR const *mac_da, *nas_ip_da, *nas_ip6_da, *nas_id_da, *user_da, *acct_da;
	pthread_mutex_t q_mutex;      /* guards q, dropped, stop, flusher_started */
	pthread_cond_t q_cond;        /* wakes the flusher to stop */
	bool q_init;
	seen_queue q;
	crt_sighting *batch;          /* the flusher's copy of the queue (cap entries) */
	uint64_t dropped;             /* updates dropped because the queue was full */
	bool stop, flusher_started;
	pthread_t flusher;
	/* The writable session (flusher and MAC pins), opened on first use. */
	pthread_mutex_t w_mutex;
	bool w_init;
	crt_ctx *writer;
	bool w_failing;               /* the last open failed (logged once per streak) */
	dev_t w_dev;
	ino_t w_ino;
} rlm_crtoken_t;

static const CONF_PARSER module_config[] = {
	{ "config", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_crtoken_t, config_file), CRT_SYSTEM_CONFIG },
	{ "serial_attribute", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_crtoken_t, serial_attr),
	  "TLS-Client-Cert-Serial" },
	{ "issuer_attribute", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_crtoken_t, issuer_attr),
	  "TLS-Client-Cert-Issuer" },
	{ "record_seen", FR_CONF_OFFSET(PW_TYPE_BOOLEAN, rlm_crtoken_t, record_seen), "yes" },
	{ "seen_flush_interval", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_crtoken_t, flush_interval),
	  "5" },
	{ "seen_queue_size", FR_CONF_OFFSET(PW_TYPE_INTEGER, rlm_crtoken_t, queue_size), "4096" },
	{ "attestation_attribute", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_crtoken_t, attest_attr), "" },
	{ "on_store_failure", FR_CONF_OFFSET(PW_TYPE_STRING, rlm_crtoken_t, on_store_failure),
	  "fail" },
	CONF_PARSER_TERMINATOR
};

/*
 * What binds the presented certificate to the stored one. Not configurable:
 * these are rlm_eap_tls's own names, and admission must not be weakened by
 * configuration.
 */
#define SKI_ATTR "TLS-Client-Cert-X509v3-Subject-Key-Identifier"
#define AKI_ATTR "TLS-Client-Cert-X509v3-Authority-Key-Identifier"
#define SINCE_ATTR "TLS-Client-Cert-Valid-Since"
#define UNTIL_ATTR "TLS-Client-Cert-Expiration"

/* Bound on stale connections replaced within one request. */
#define MAX_RECONNECTS 64

/* A lookup on a server store that failed (store_unavailable) within this
 * many ms is retried once on a new connection. */
#define RETRY_WITHIN_MS 250

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 *	One pool connection: a read-only crtoken session plus the identity
 *	of the database file it opened.
 */
typedef struct crtoken_conn_t {
	crt_ctx *ctx;
	dev_t dev;
	ino_t ino;
} crtoken_conn_t;

/* Close the crtoken session when the pool frees the connection. */
static int _mod_conn_free(crtoken_conn_t *conn)
{
	crt_close(conn->ctx);
	conn->ctx = NULL;
	return 0;
}

/*
 * Open one read-only crtoken session (connection pool create callback).
 * Returns NULL, after logging why, when the store cannot be opened
 * or the database file changed while it was being opened.
 */
static void *mod_conn_create(TALLOC_CTX *talloc_ctx, void *instance)
{
	rlm_crtoken_t *inst = instance;
	crtoken_conn_t *conn;
	crt_ctx *ctx = NULL;
	struct stat before = {0}, after;
	crt_status s;

	if (inst->file_store && stat(inst->db_path, &before) != 0) {
		ERROR("rlm_crtoken (%s): store %s: %s", inst->name, inst->db_path, strerror(errno));
		return NULL;
	}
	s = crt_session_open(inst->crt, CRT_OPEN_READONLY, &ctx);
	if (s != CRT_OK) {
		ERROR("rlm_crtoken (%s): opening %s: %s (%s) %s", inst->name,
		      inst->config_file,
		      crt_status_message(s), crt_status_name(s), ctx ? crt_errdetail(ctx) : "");
		crt_close(ctx);
		return NULL;
	}
	if (inst->file_store && (stat(inst->db_path, &after) != 0 ||
				 after.st_dev != before.st_dev || after.st_ino != before.st_ino)) {
		ERROR("rlm_crtoken (%s): store %s changed while opening it", inst->name,
		      inst->db_path);
		crt_close(ctx);
		return NULL;
	}

	conn = talloc_zero(talloc_ctx, crtoken_conn_t);
	if (!conn) {
		crt_close(ctx);
		return NULL;
	}
	conn->ctx = ctx;
	conn->dev = before.st_dev;
	conn->ino = before.st_ino;
	talloc_set_destructor(conn, _mod_conn_free);
	return conn;
}

/* True when the database file at db_path is still the one conn opened. A
 * server store (postgresql) has no file: its connection is used as is, and
 * a failing one is closed by the lookup's failure path (the pool reconnects). */
static bool conn_current(rlm_crtoken_t const *inst, crtoken_conn_t const *conn)
{
	struct stat st;

	if (!inst->file_store) return true;
	if (stat(inst->db_path, &st) != 0) return false;
	return st.st_dev == conn->dev && st.st_ino == conn->ino;
}

/* ------------------------------------------------------------ the queue */

static uint32_t serial_hash(char const *s, uint32_t nb)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
	return h % nb;
}

static int queue_alloc(TALLOC_CTX *t, seen_queue *q, uint32_t cap)
{
	q->cap = cap;
	q->nb = cap * 2;
	q->e = talloc_zero_array(t, crt_sighting, cap);
	q->next = talloc_array(t, int32_t, cap);
	q->bucket = talloc_array(t, int32_t, q->nb);
	if (!q->e || !q->next || !q->bucket) return -1;
	memset(q->bucket, 0xff, sizeof(int32_t) * q->nb);
	q->head = q->count = 0;
	return 0;
}

static int32_t queue_find(seen_queue const *q, char const *serial)
{
	int32_t i;

	for (i = q->bucket[serial_hash(serial, q->nb)]; i >= 0; i = q->next[i]) {
		if (strcmp(q->e[i].serial, serial) == 0) return i;
	}
	return -1;
}

/* Take slot out of its bucket chain. */
static void queue_unlink(seen_queue *q, int32_t slot)
{
	int32_t *link = &q->bucket[serial_hash(q->e[slot].serial, q->nb)];

	while (*link >= 0 && *link != slot) link = &q->next[*link];
	if (*link == slot) *link = q->next[slot];
}

/* Coalesce v into its serial's entry, or append it (dropping the oldest
 * entry when full: counted in *dropped). */
static void queue_push(seen_queue *q, crt_sighting const *v, uint64_t *dropped)
{
	int32_t slot = queue_find(q, v->serial);
	uint32_t b;

	if (slot >= 0) {
		crt_sighting_merge(&q->e[slot], v);
		return;
	}
	if (q->count == q->cap) {
		queue_unlink(q, (int32_t)q->head);
		q->head = (q->head + 1) % q->cap;
		q->count--;
		(*dropped)++;
	}
	slot = (int32_t)((q->head + q->count) % q->cap);
	q->e[slot] = *v;
	b = serial_hash(v->serial, q->nb);
	q->next[slot] = q->bucket[b];
	q->bucket[b] = slot;
	q->count++;
}

/* Move every entry, oldest first, into out (cap entries); empties q. */
static uint32_t queue_take(seen_queue *q, crt_sighting *out)
{
	uint32_t i, n = q->count;

	for (i = 0; i < n; i++) out[i] = q->e[(q->head + i) % q->cap];
	memset(q->bucket, 0xff, sizeof(int32_t) * q->nb);
	q->head = q->count = 0;
	return n;
}

/* ------------------------------------------------------------ the writer */

/* The writable session, (re)opened when missing or when the store file was
 * replaced. Call with w_mutex held. NULL (logged) when it cannot be opened. */
static crt_ctx *writer_get(rlm_crtoken_t *inst)
{
	struct stat st;
	crt_status s;

	memset(&st, 0, sizeof(st));
	if (inst->writer && !inst->file_store) return inst->writer;
	if (inst->writer && stat(inst->db_path, &st) == 0 && st.st_dev == inst->w_dev &&
	    st.st_ino == inst->w_ino) {
		return inst->writer;
	}
	crt_close(inst->writer);
	inst->writer = NULL;
	if (inst->file_store && stat(inst->db_path, &st) != 0) {
		if (!inst->w_failing) {
			ERROR("rlm_crtoken (%s): store %s: %s", inst->name, inst->db_path,
			      strerror(errno));
		}
		inst->w_failing = true;
		return NULL;
	}
	s = crt_session_open(inst->crt, 0, &inst->writer);
	if (s != CRT_OK) {
		/* Once per streak: a read-only install (README) would log it
		 * every flush. */
		if (!inst->w_failing) {
			ERROR("rlm_crtoken (%s): opening %s for writing (what RADIUS saw, MAC "
			      "pins) failed, admissions stay unrecorded until it works: %s (%s) %s",
			      inst->name, inst->db_path, crt_status_message(s), crt_status_name(s),
			      inst->writer ? crt_errdetail(inst->writer) : "");
		}
		inst->w_failing = true;
		crt_close(inst->writer);
		inst->writer = NULL;
		return NULL;
	}
	if (inst->w_failing) INFO("rlm_crtoken (%s): store %s writable again", inst->name,
				  inst->db_path);
	inst->w_failing = false;
	inst->w_dev = st.st_dev;
	inst->w_ino = st.st_ino;
	return inst->writer;
}

/* Write n queued sightings in one transaction. On failure they go back into
 * the queue (coalescing with what arrived meanwhile) for the next flush. */
static void flush_batch(rlm_crtoken_t *inst, uint32_t n)
{
	crt_ctx *w;
	crt_status s = CRT_E_STORE_UNAVAILABLE;
	uint32_t i;

	if (n == 0) return;
	pthread_mutex_lock(&inst->w_mutex);
	w = writer_get(inst);
	if (w) {
		s = crt_cert_seen_record(w, inst->batch, n);
		if (s != CRT_OK) {
			ERROR("rlm_crtoken (%s): recording %u sightings failed, kept for the next "
			      "flush: %s (%s) %s", inst->name, n, crt_status_message(s),
			      crt_status_name(s), crt_errdetail(w));
			if (crt_status_kind(s) == CRT_KIND_FAILURE || s == CRT_E_STORE_UNAVAILABLE) {
				crt_close(inst->writer); /* reopen next time */
				inst->writer = NULL;
			}
		}
	}
	pthread_mutex_unlock(&inst->w_mutex);
	if (s == CRT_OK) {
		DEBUG2("rlm_crtoken (%s): recorded %u sightings", inst->name, n);
		return;
	}
	pthread_mutex_lock(&inst->q_mutex);
	for (i = 0; i < n; i++) queue_push(&inst->q, &inst->batch[i], &inst->dropped);
	pthread_mutex_unlock(&inst->q_mutex);
}

/* The flusher: every flush_interval seconds, the queue in one transaction;
 * a last flush when the module is detached. */
static void *flusher_main(void *arg)
{
	rlm_crtoken_t *inst = arg;
	uint64_t reported = 0, dropped;
	struct timespec until;
	bool stop;
	uint32_t n;

	for (;;) {
		pthread_mutex_lock(&inst->q_mutex);
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += inst->flush_interval;
		while (!inst->stop &&
		       pthread_cond_timedwait(&inst->q_cond, &inst->q_mutex, &until) != ETIMEDOUT)
			;
		stop = inst->stop;
		n = queue_take(&inst->q, inst->batch);
		dropped = inst->dropped;
		pthread_mutex_unlock(&inst->q_mutex);

		if (dropped != reported) {
			WARN("rlm_crtoken (%s): the sighting queue was full: %llu updates dropped "
			     "(%llu in all; raise seen_queue_size)", inst->name,
			     (unsigned long long)(dropped - reported), (unsigned long long)dropped);
			reported = dropped;
		}
		flush_batch(inst, n);
		if (stop) break;
	}
	return NULL;
}

/* Start the flusher on the first admission (not at instantiate: radiusd may
 * fork into the background after loading modules, and threads do not
 * survive a fork). Call with q_mutex held. */
static void flusher_start(rlm_crtoken_t *inst)
{
	if (inst->flusher_started || inst->stop) return;
	if (pthread_create(&inst->flusher, NULL, flusher_main, inst) != 0) {
		ERROR("rlm_crtoken (%s): cannot start the sighting flusher: %s", inst->name,
		      strerror(errno));
		return;
	}
	inst->flusher_started = true;
}

/* The value of attribute da in the request as text ("" when absent). */
static void attr_text(REQUEST *request, DICT_ATTR const *da, char *out, size_t outlen)
{
	VALUE_PAIR *vp = da ? fr_pair_find_by_da(request->packet->vps, da, TAG_ANY) : NULL;

	out[0] = '\0';
	if (vp) vp_prints_value(out, outlen, vp, '\0');
}

/* Queue this admission of serial (mac already normalised). Never waits for
 * the store: only for the queue's mutex, held for a copy. */
static void record_sighting(rlm_crtoken_t *inst, REQUEST *request, char const *serial,
			    char const *mac, time_t now)
{
	crt_sighting v;
	fr_ipaddr_t const *src = &request->packet->src_ipaddr;

	memset(&v, 0, sizeof(v));
	snprintf(v.serial, sizeof(v.serial), "%s", serial);
	v.first_at = v.last_at = now;
	snprintf(v.first_mac, sizeof(v.first_mac), "%s", mac);
	snprintf(v.mac, sizeof(v.mac), "%s", mac);
	attr_text(request, inst->nas_ip_da, v.nas_ip, sizeof(v.nas_ip));
	if (!v.nas_ip[0]) attr_text(request, inst->nas_ip6_da, v.nas_ip, sizeof(v.nas_ip));
	if (!v.nas_ip[0]) { /* the address the request came from */
		if (src->af == AF_INET) {
			inet_ntop(AF_INET, &src->ipaddr.ip4addr, v.nas_ip, sizeof(v.nas_ip));
		} else if (src->af == AF_INET6) {
			inet_ntop(AF_INET6, &src->ipaddr.ip6addr, v.nas_ip, sizeof(v.nas_ip));
		}
	}
	attr_text(request, inst->nas_id_da, v.nas_id, sizeof(v.nas_id));
	attr_text(request, inst->user_da, v.user_name, sizeof(v.user_name));
	attr_text(request, inst->acct_da, v.acct_session_id, sizeof(v.acct_session_id));

	pthread_mutex_lock(&inst->q_mutex);
	flusher_start(inst);
	queue_push(&inst->q, &v, &inst->dropped);
	pthread_mutex_unlock(&inst->q_mutex);
}

/*
 * Resolve the configured attributes, learn the store's path from the config
 * and start the connection pool (optional pool { } subsection).
 */
static int mod_instantiate(CONF_SECTION *conf, void *instance)
{
	rlm_crtoken_t *inst = instance;
	crt_ctx *probe = NULL;
	char err[640];
	crt_status s;

	inst->name = cf_section_name2(conf);
	if (!inst->name) inst->name = cf_section_name1(conf);

	inst->serial_da = dict_attrbyname(inst->serial_attr);
	if (!inst->serial_da) {
		cf_log_err_cs(conf, "Unknown attribute '%s' in serial_attribute", inst->serial_attr);
		return -1;
	}
	if (inst->issuer_attr && inst->issuer_attr[0] != '\0') {
		inst->issuer_da = dict_attrbyname(inst->issuer_attr);
		if (!inst->issuer_da) {
			cf_log_err_cs(conf, "Unknown attribute '%s' in issuer_attribute",
				      inst->issuer_attr);
			return -1;
		}
	} else {
		WARN("rlm_crtoken (%s): issuer_attribute is empty: certificates are not checked "
		     "against the crtoken CA's name", inst->name);
	}

	if (inst->attest_attr && inst->attest_attr[0] != '\0') {
		inst->attest_da = dict_attrbyname(inst->attest_attr);
		if (!inst->attest_da || inst->attest_da->type != PW_TYPE_STRING) {
			cf_log_err_cs(conf, "attestation_attribute '%s' is not a string attribute of "
				      "the dictionary", inst->attest_attr);
			return -1;
		}
	}

	if (strcmp(inst->on_store_failure, "fail") == 0) {
		inst->no_response = false;
	} else if (strcmp(inst->on_store_failure, "no_response") == 0) {
		inst->no_response = true;
		inst->rpt_da = dict_attrbyvalue(PW_RESPONSE_PACKET_TYPE, 0);
		if (!inst->rpt_da) {
			cf_log_err_cs(conf, "The dictionary lacks Response-Packet-Type");
			return -1;
		}
	} else {
		cf_log_err_cs(conf, "on_store_failure must be fail or no_response, not '%s'",
			      inst->on_store_failure);
		return -1;
	}

	inst->ski_da = dict_attrbyname(SKI_ATTR);
	inst->aki_da = dict_attrbyname(AKI_ATTR);
	inst->since_da = dict_attrbyname(SINCE_ATTR);
	inst->until_da = dict_attrbyname(UNTIL_ATTR);
	if (!inst->ski_da || !inst->aki_da || !inst->since_da || !inst->until_da) {
		cf_log_err_cs(conf, "The dictionary lacks %s, %s, %s or %s", SKI_ATTR, AKI_ATTR,
			      SINCE_ATTR, UNTIL_ATTR);
		return -1;
	}

	/* The instance: the config, once. A first session reports store errors
	 * at startup; the config tells us which file the store is, for the
	 * per-request freshness check. */
	s = crt_instance_open(inst->config_file, CRT_OPEN_NO_CA | CRT_OPEN_NO_OTP_KEY, &inst->crt,
			      err, sizeof(err));
	if (s == CRT_OK) {
		s = crt_session_open(inst->crt, CRT_OPEN_READONLY, &probe);
		snprintf(err, sizeof(err), "%s", crt_errdetail(probe));
		crt_close(probe);
	}
	if (s != CRT_OK) {
		cf_log_err_cs(conf, "Opening crtoken config %s failed: %s (%s) %s",
			      inst->config_file,
			      crt_status_message(s), crt_status_name(s), err);
		return -1;
	}
	inst->file_store = strcmp(crt_instance_config(inst->crt)->backend, "sqlite") == 0;
	/* db_path names the store in log lines; only a sqlite store has a
	 * file whose identity is checked per request. */
	inst->db_path = talloc_strdup(inst, inst->file_store ?
				      crt_instance_config(inst->crt)->database :
				      crt_instance_config(inst->crt)->backend);
	if (!inst->db_path) return -1;

	if (pthread_mutex_init(&inst->warn_mutex, NULL) != 0) return -1;
	inst->warn_mutex_init = true;

	/* What RADIUS saw: the request attributes, the queue and its mutexes. */
	inst->mac_da = dict_attrbyvalue(PW_CALLING_STATION_ID, 0);
	inst->nas_ip_da = dict_attrbyvalue(PW_NAS_IP_ADDRESS, 0);
	inst->nas_ip6_da = dict_attrbyname("NAS-IPv6-Address");
	inst->nas_id_da = dict_attrbyvalue(PW_NAS_IDENTIFIER, 0);
	inst->user_da = dict_attrbyvalue(PW_USER_NAME, 0);
	inst->acct_da = dict_attrbyvalue(PW_ACCT_SESSION_ID, 0);
	if (inst->queue_size < 16 || inst->queue_size > 1048576) {
		cf_log_err_cs(conf, "seen_queue_size must be 16 .. 1048576");
		return -1;
	}
	if (inst->flush_interval < 1 || inst->flush_interval > 3600) {
		cf_log_err_cs(conf, "seen_flush_interval must be 1 .. 3600 seconds");
		return -1;
	}
	if (queue_alloc(inst, &inst->q, inst->queue_size) != 0) return -1;
	inst->batch = talloc_zero_array(inst, crt_sighting, inst->queue_size);
	if (!inst->batch) return -1;
	if (pthread_mutex_init(&inst->q_mutex, NULL) != 0) return -1;
	if (pthread_cond_init(&inst->q_cond, NULL) != 0) {
		pthread_mutex_destroy(&inst->q_mutex);
		return -1;
	}
	inst->q_init = true;
	if (pthread_mutex_init(&inst->w_mutex, NULL) != 0) return -1;
	inst->w_init = true;

	inst->pool = fr_connection_pool_module_init(conf, inst, mod_conn_create, NULL, NULL);
	if (!inst->pool) return -1;

	return 0;
}

/*
 * Warn about an attribute line that cannot be added, once per name and
 * instance; later requests only mention it in the debug log.
 */
static void warn_attr_once(rlm_crtoken_t *inst, REQUEST *request, char const *name,
			   char const *why)
{
	bool first = true;
	size_t i;
	char **grown;

	pthread_mutex_lock(&inst->warn_mutex);
	for (i = 0; i < inst->nwarned; i++) {
		if (strcmp(inst->warned[i], name) == 0) {
			first = false;
			break;
		}
	}
	if (first) {
		grown = talloc_realloc(inst, inst->warned, char *, inst->nwarned + 1);
		if (grown) {
			inst->warned = grown;
			inst->warned[inst->nwarned] = talloc_strdup(inst->warned, name);
			if (inst->warned[inst->nwarned]) inst->nwarned++;
		}
	}
	pthread_mutex_unlock(&inst->warn_mutex);

	if (first) {
		WARN("rlm_crtoken (%s): skipping reply attribute '%s': %s", inst->name, name, why);
	}
	RWDEBUG("Skipping reply attribute '%s': %s", name, why);
}

/*
 * Add the stored reply attributes to the reply list through the dictionary.
 * The lines are read by libcrtoken's one grammar (crt_reply_next, the one
 * crt_reply_validate applies when they are stored), so each value is sent
 * exactly as stored. A refused line, an unknown name or an unparsable value
 * is warned about and skipped. Returns the number of attributes added.
 */
static int add_reply_attrs(rlm_crtoken_t *inst, REQUEST *request, char const *reply)
{
	char const *cursor = reply;
	char name[CRT_REPLY_NAME_MAX + 1];
	char *value;
	crt_reply_attr a;
	int added = 0;
	VALUE_PAIR *vp;

	while (*cursor) {
		if (crt_reply_next(&cursor, &a) != CRT_OK) {
			warn_attr_once(inst, request, "(malformed line)", "expected Name=value");
			continue;
		}
		memcpy(name, a.name, a.name_len);
		name[a.name_len] = '\0';
		value = talloc_strndup(request, a.value, a.value_len);
		if (!value) return added;

		/* Dictionary names only: fr_pair_make alone would also
		 * invent "unknown" attributes for names it cannot find. */
		if (!dict_attrbyname(name)) {
			warn_attr_once(inst, request, name, "not in the dictionary");
			vp = NULL;
		} else if ((vp = fr_pair_make(request->reply, &request->reply->vps, name,
					      value, T_OP_EQ)) == NULL) {
			warn_attr_once(inst, request, name, fr_strerror());
		}
		if (vp) {
			RDEBUG2("&reply:%s = %s", name, value);
			added++;
		}
		talloc_free(value);
	}
	return added;
}

/* True for the statuses that mean "this certificate is not admitted". */
/* (From the library's one classification: everything but a failure of the
 * store or the library itself is an answer about the certificate.) */
static bool status_is_refusal(crt_status s)
{
	switch (crt_status_kind(s)) {
	case CRT_KIND_OK:
	case CRT_KIND_BUSY:
	case CRT_KIND_FAILURE:
		return false;
	default:
		return true;
	}
}

/*
 * The value of attribute da in the request, or NULL when it is absent. An
 * attribute that occurs more than once sets *repeated: a certificate with
 * two key identifiers is refused rather than guessed about.
 */
static char const *one_value(REQUEST *request, DICT_ATTR const *da, bool *repeated)
{
	VALUE_PAIR *vp = fr_pair_find_by_da(request->packet->vps, da, TAG_ANY);

	if (!vp) return NULL;
	if (fr_pair_find_by_da(vp->next, da, TAG_ANY)) *repeated = true;
	return vp->vp_strvalue;
}

/*
 * Session-Timeout in the reply: at most seconds (what is left of the
 * certificate, capped by [radius] max_session_timeout). A stored reply
 * attribute may shorten it, never extend it.
 */
static void set_session_timeout(REQUEST *request, int64_t seconds)
{
	VALUE_PAIR *vp = fr_pair_find_by_num(request->reply->vps, PW_SESSION_TIMEOUT, 0, TAG_ANY);
	char buf[24];

	if (seconds > UINT32_MAX) seconds = UINT32_MAX;
	if (vp && vp->vp_integer > 0 && (int64_t)vp->vp_integer <= seconds) return;
	snprintf(buf, sizeof(buf), "%lld", (long long)seconds);
	if (pair_make_reply("Session-Timeout", buf, T_OP_SET)) {
		RDEBUG2("&reply:Session-Timeout := %s", buf);
	}
}

/*
 * Check the client certificate of this request against the crtoken store.
 * NOOP when the request carries no certificate serial (not an EAP-TLS
 * request, or an earlier round in the outer server); REJECT for any
 * certificate crtoken does not admit; FAIL when the store cannot be read;
 * OK, or UPDATED when reply attributes were added, for an admitted one.
 */
/*
 * attestation_attribute: what the certificate's key attestation said, as
 * "serial=... firmware=... pin=... touch=... form=... slot=..." in that
 * control attribute (set, replacing any), for unlang policy after this
 * module (e.g. a VLAN only for pin=always). A certificate without a
 * verified attestation gets none. One more point lookup of the admitted
 * serial; its failure fails the request like the admission's would.
 */
static crt_status add_attestation(rlm_crtoken_t const *inst, crtoken_conn_t *conn,
				  REQUEST *request, char const *serial)
{
	crt_cert c;
	char text[512];
	crt_status s;
	VALUE_PAIR *vp;

	fr_pair_delete_by_num(&request->config, inst->attest_da->attr, inst->attest_da->vendor,
			      TAG_ANY);
	if ((s = crt_cert_get(conn->ctx, serial, &c)) != CRT_OK) return s;
	if (c.attestation != NULL) {
		if ((s = crt_attestation_text(c.attestation, text, sizeof(text))) != CRT_OK) {
			crt_cert_clear(&c);
			return s;
		}
		vp = fr_pair_afrom_da(request, inst->attest_da);
		if (!vp) {
			crt_cert_clear(&c);
			return CRT_E_NOMEM;
		}
		fr_pair_value_strcpy(vp, text);
		fr_pair_add(&request->config, vp);
		RDEBUG2("Certificate %s: attested %s", serial, text);
	}
	crt_cert_clear(&c);
	return CRT_OK;
}

/*
 * The store failed (unreachable, lost, stale, or the MAC pin could not be
 * written): FAIL, which rejects. With on_store_failure = no_response the
 * request that came from the NAS also gets control:Response-Packet-Type :=
 * Do-Not-Respond, so radiusd sends no reply at all and the NAS fails over to
 * its other RADIUS server (an Access-Reject would end the authentication).
 * In the check-eap-tls virtual server this request is rlm_eap_tls's copy
 * (request_alloc_fake: its parent is the outer request; nested tunnels add
 * parents), and only the outer request's control list decides the reply
 * (request_finish in process.c, checked again after post-auth), so the
 * attribute goes to the outermost request. FAIL stays the return code:
 * should the attribute not take effect the answer is still a reject, never
 * an accept (HANDLED in post-auth would leave an Access-Accept).
 */
static rlm_rcode_t store_failed(rlm_crtoken_t const *inst, REQUEST *request)
{
	REQUEST *outer = request;
	VALUE_PAIR *vp;

	if (!inst->no_response) return RLM_MODULE_FAIL;
	while (outer->parent) outer = outer->parent;
	vp = fr_pair_afrom_da(outer, inst->rpt_da);
	if (!vp) {
		RERROR("Cannot drop the request (out of memory): rejecting");
		return RLM_MODULE_FAIL;
	}
	vp->vp_integer = 256; /* Do-Not-Respond */
	fr_pair_delete_by_num(&outer->config, PW_RESPONSE_PACKET_TYPE, 0, TAG_ANY);
	fr_pair_add(&outer->config, vp);
	RWARN("on_store_failure = no_response: no reply to this request (the NAS may fail "
	      "over to another RADIUS server)");
	return RLM_MODULE_FAIL;
}

static rlm_rcode_t CC_HINT(nonnull) mod_authorize(void *instance, REQUEST *request)
{
	rlm_crtoken_t *inst = instance;
	VALUE_PAIR *serial_vp, *issuer_vp = NULL;
	char serial[72]; /* as crt_sighting holds it */
	crt_presented presented = { 0 };
	bool repeated = false;
	crtoken_conn_t *conn;
	crt_admission adm;
	int64_t now;
	crt_status s;
	int added, tries;

	serial_vp = fr_pair_find_by_da(request->packet->vps, inst->serial_da, TAG_ANY);
	if (!serial_vp) {
		RDEBUG2("No &%s in the request: not a client certificate check", inst->serial_attr);
		return RLM_MODULE_NOOP;
	}
	if (inst->issuer_da) {
		issuer_vp = fr_pair_find_by_da(request->packet->vps, inst->issuer_da, TAG_ANY);
		if (!issuer_vp) {
			REDEBUG("Certificate %s: no &%s in the request", serial_vp->vp_strvalue,
				inst->issuer_attr);
			return RLM_MODULE_REJECT;
		}
		presented.issuer = issuer_vp->vp_strvalue;
	}
	/* Absent ones are left NULL: crt_cert_admit refuses those (fail closed). */
	presented.ski = one_value(request, inst->ski_da, &repeated);
	presented.aki = one_value(request, inst->aki_da, &repeated);
	presented.not_before = one_value(request, inst->since_da, &repeated);
	presented.not_after = one_value(request, inst->until_da, &repeated);
	presented.mac = one_value(request, inst->mac_da, &repeated);
	if (repeated || fr_pair_find_by_da(serial_vp->next, inst->serial_da, TAG_ANY) ||
	    (issuer_vp && fr_pair_find_by_da(issuer_vp->next, inst->issuer_da, TAG_ANY))) {
		REDEBUG("Certificate %s: a certificate attribute occurs more than once",
			serial_vp->vp_strvalue);
		return RLM_MODULE_REJECT;
	}

	s = crt_serial_normalize(serial_vp->vp_strvalue, serial, sizeof(serial));
	if (s != CRT_OK) {
		REDEBUG("Certificate serial '%s': %s (%s)", serial_vp->vp_strvalue,
			crt_status_message(s), crt_status_name(s));
		return RLM_MODULE_REJECT;
	}
	presented.serial = serial;

	/* A failed reconnect hands back another pooled connection, which may
	 * be just as stale: check every connection we are given. */
	conn = fr_connection_get(inst->pool);
	for (tries = 0; conn && !conn_current(inst, conn); tries++) {
		if (tries >= MAX_RECONNECTS) {
			fr_connection_release(inst->pool, conn);
			conn = NULL;
			break;
		}
		RWDEBUG("Store %s was removed or replaced; reconnecting", inst->db_path);
		conn = fr_connection_reconnect(inst->pool, conn);
	}
	if (!conn) {
		RERROR("crtoken store %s unavailable: failing closed", inst->db_path);
		return store_failed(inst, request);
	}

	now = crt_now();
	for (tries = 0;; tries++) {
		int64_t t0 = mono_ms();

		s = crt_cert_admission(conn->ctx, &presented, now, &adm);
		if (s == CRT_OK && inst->attest_da &&
		    (s = add_attestation(inst, conn, request, serial)) != CRT_OK)
			crt_admission_clear(&adm);
		/* A server connection that failed at once (lost, reset: the
		 * server went away or failed over) is replaced and the lookup
		 * tried once more, so a pooled connection to a dead server
		 * costs no reject while another server answers. Not one that
		 * took its time (a reader gives up after 1 s): the request has
		 * spent its budget. */
		if (s != CRT_E_STORE_UNAVAILABLE || tries > 0 || inst->file_store ||
		    mono_ms() - t0 >= RETRY_WITHIN_MS)
			break;
		RWDEBUG("crtoken lookup of %s failed at once: %s (%s) %s; retrying on a new "
			"connection", serial, crt_status_message(s), crt_status_name(s),
			crt_errdetail(conn->ctx));
		conn = fr_connection_reconnect(inst->pool, conn);
		if (!conn) {
			RERROR("crtoken store %s unavailable: failing closed", inst->db_path);
			return store_failed(inst, request);
		}
	}

	if (s == CRT_OK) {
		fr_connection_release(inst->pool, conn);
		if (adm.pin_claim) {
			/* The first admission of a pinned certificate: its MAC goes
			 * into the store before the Accept, so a clone presented
			 * before the next flush (or at another node) loses. */
			crt_ctx *w;
			pthread_mutex_lock(&inst->w_mutex);
			w = writer_get(inst);
			s = w ? crt_cert_pin_claim(w, serial, adm.mac, now) : CRT_E_STORE_UNAVAILABLE;
			if (s != CRT_OK) {
				if (status_is_refusal(s)) {
					REDEBUG("Certificate %s rejected: %s (%s): %s", serial,
						crt_status_message(s), crt_status_name(s),
						crt_errdetail(w));
				} else {
					RERROR("Pinning the MAC of %s failed: %s (%s) %s: failing closed",
					       serial, crt_status_message(s), crt_status_name(s),
					       w ? crt_errdetail(w) : "no writable store session");
					/* A failing session is reopened next time. */
					crt_close(inst->writer);
					inst->writer = NULL;
				}
			} else {
				RDEBUG2("Certificate %s pinned to %s (its first admission)", serial,
					adm.mac);
			}
			pthread_mutex_unlock(&inst->w_mutex);
			if (s != CRT_OK) {
				crt_admission_clear(&adm);
				return status_is_refusal(s) ? RLM_MODULE_REJECT
							    : store_failed(inst, request);
			}
		}
		RDEBUG2("Certificate %s issued by crtoken: admitted", serial);
		added = adm.reply ? add_reply_attrs(inst, request, adm.reply) : 0;
		set_session_timeout(request, adm.session_timeout);
		if (inst->record_seen) record_sighting(inst, request, serial, adm.mac, (time_t)now);
		crt_admission_clear(&adm);
		return added > 0 ? RLM_MODULE_UPDATED : RLM_MODULE_OK;
	}

	if (status_is_refusal(s)) {
		/* The detail lives in the context: log it before releasing. */
		REDEBUG("Certificate %s rejected: %s (%s): %s", serial, crt_status_message(s),
			crt_status_name(s), crt_errdetail(conn->ctx));
		fr_connection_release(inst->pool, conn);
		return RLM_MODULE_REJECT;
	}

	/* Anything else is the store failing: drop this connection so the
	 * next request opens a fresh one, and fail closed. */
	RERROR("crtoken lookup of %s failed: %s (%s) %s", serial, crt_status_message(s),
	       crt_status_name(s), crt_errdetail(conn->ctx));
	fr_connection_close(inst->pool, conn, crt_status_name(s));
	return store_failed(inst, request);
}

/*
 * post-auth: the same check, for placement in the outer server. A REJECT
 * or FAIL there turns the Access-Accept into an Access-Reject.
 */
static rlm_rcode_t CC_HINT(nonnull) mod_post_auth(void *instance, REQUEST *request)
{
	return mod_authorize(instance, request);
}

/* Stop the flusher (it flushes what is queued first), close the writer and
 * the pool (every crtoken session in it) and drop the instance. */
static int mod_detach(void *instance)
{
	rlm_crtoken_t *inst = instance;

	if (inst->q_init) {
		bool started;
		pthread_mutex_lock(&inst->q_mutex);
		inst->stop = true;
		started = inst->flusher_started;
		pthread_cond_broadcast(&inst->q_cond);
		pthread_mutex_unlock(&inst->q_mutex);
		if (started) pthread_join(inst->flusher, NULL);
		pthread_cond_destroy(&inst->q_cond);
		pthread_mutex_destroy(&inst->q_mutex);
	}
	if (inst->w_init) {
		crt_close(inst->writer);
		inst->writer = NULL;
		pthread_mutex_destroy(&inst->w_mutex);
	}

	fr_connection_pool_free(inst->pool);
	inst->pool = NULL;
	crt_instance_unref(inst->crt); /* after the sessions, which hold it too */
	inst->crt = NULL;
	if (inst->warn_mutex_init) pthread_mutex_destroy(&inst->warn_mutex);
	return 0;
}

extern module_t rlm_crtoken;
module_t rlm_crtoken = {
	.magic = RLM_MODULE_INIT,
	.name = "crtoken",
	.type = RLM_TYPE_THREAD_SAFE,
	.inst_size = sizeof(rlm_crtoken_t),
	.config = module_config,
	.instantiate = mod_instantiate,
	.detach = mod_detach,
	.methods = {
		[MOD_AUTHORIZE] = mod_authorize,
		[MOD_POST_AUTH] = mod_post_auth,
	},
};

/*
 * port_certs.h — the storage port's certificate verbs (issued certificates,
 * revocation, the admission lookup of the RADIUS hot path, the published
 * CRL). Included by store/port.h; implemented by store/sqlite_certs.c.
 *
 * Rows cross the port as values: the domain (cert.c) computes every column
 * of a new row from the X509 (subject, key ids, fingerprints, PEM); the
 * backend stores and returns them and decides nothing (admission is the
 * pure rule of rules/admit.c, CRL freshness that of rules/crl.c).
 */
#ifndef CRTOKEN_STORE_PORT_CERTS_H
#define CRTOKEN_STORE_PORT_CERTS_H

/* A new certificate row. Strings are borrowed from the caller; NULL stores
 * SQL NULL (only token_id, cn, org, ou, username, reply, ski, aki and
 * attestation may be NULL). serial is the normalised form (crt_serial_normalize). */
typedef struct store_cert_row {
	const char *serial;
	const char *issuer;   /* oneline issuer name of the certificate */
	const char *token_id; /* the redeemed token, NULL when none */
	const char *name, *subject, *cn, *org, *ou;
	const char *username; /* who redeemed it */
	const char *reply;    /* reply attributes copied from the token */
	const char *key_type, *pubkey_sha256, *pem;
	const char *ski, *aki, *cert_sha256; /* lowercase hex (x509_ids.h) */
	const char *attestation; /* the attested facts (JSON), NULL when none */
	const char *renewed_from; /* a renewal: the serial it replaces; NULL otherwise */
	const char *ca;       /* the issuing CA's name (NULL: "default") */
	int64_t not_before, not_after, issued_at;
	const char *profile;  /* the certificate profile's name */
	const char *pin_mac;  /* the token's pin_mac ("first" / "off"), NULL: the profile's */
} store_cert_row;

/* A renewal whose predecessor may be superseded (supersede_due). */
typedef struct store_renewal {
	char serial[72];       /* the renewed certificate */
	char renewed_from[72]; /* the one it replaces, not yet revoked */
	int64_t issued_at;
	int64_t first_seen;    /* RADIUS first admitted the renewed one; 0: never */
} store_renewal;

/* What admission reads of one row. The strings point into buf (one
 * allocation, the caller frees it with free(buf)); NULL for SQL NULL. */
typedef struct store_cert_admission {
	const char *issuer, *ski, *aki, *reply;
	const char *first_mac; /* the pinned MAC (cert_seen), NULL when none */
	const char *profile;   /* the certificate's profile (NULL: default) */
	const char *pin_mac;   /* its own pin_mac ("first" / "off"), NULL: the profile's */
	int64_t not_before, not_after, revoked_at;
	int revoked, reason;
	/* meta('heartbeat') as this reader's copy has it, read with the row
	 * (0: never written), or HEARTBEAT_NONE (-1) when the backend keeps
	 * none for this session (SQLite, a writer's session) */
	int64_t heartbeat;
	char *buf;
} store_cert_admission;

/* One sighting to merge into a certificate's cert_seen row. Strings are
 * borrowed; NULL or "" stores SQL NULL. */
typedef struct store_seen {
	const char *serial;
	int64_t first_at, last_at;
	const char *first_mac, *mac, *nas_ip, *nas_id, *user_name, *acct_session_id;
} store_seen;

/* One revoked certificate, as the CRL lists it. */
typedef struct store_revoked {
	char serial[72];
	int64_t revoked_at;
	int reason;
} store_revoked;

/* The published CRL of one CA (the default's: the crl table's one row) and the newest revocation
 * (highest certificates.revoked_seq, 0 when none). have = 0: none
 * published yet (then meta is zeroed). der is malloc'd when asked for. */
enum store_crl_flags {
	STORE_CRL_DER = 1 << 0,  /* load the DER too */
	/* Inside a write transaction: take the store's publication lock, held
	 * until commit or rollback. Every revocation and every publication takes
	 * it first, so on a store with several writers they are serialised: a
	 * CRL signed under it lists every revocation committed before it, and no
	 * revocation commits with a revoked_seq a concurrent CRL claims to cover.
	 * (SQLite: the write transaction already is that lock. PostgreSQL: a row
	 * lock on a row that always exists, e.g. meta crl_number FOR UPDATE.) */
	STORE_CRL_LOCK = 1 << 1,
};
typedef struct store_crl {
	int have;
	crt_crl_meta meta;
	int64_t newest_revocation;
	unsigned char *der;
	size_t der_len;
} store_crl;

struct store_cert_ops {
	/* Insert row; CRT_E_EXISTS when its serial (or token, or renewed_from)
	 * is stored already: never for our random serials, possible for an
	 * uploaded certificate stored by another writer meanwhile (import.c). */
	crt_status (*insert)(crt_ctx *ctx, const store_cert_row *row);
	/* The row of serial into out (every stored column; status, chain_pem
	 * left 0/NULL for the domain); *found = 0 when there is none. */
	crt_status (*get)(crt_ctx *ctx, const char *serial, crt_cert *out, int *found);
	/* Rows matching f (NULL: all) at now, newest issued first, then by
	 * serial; status left for the domain. *out malloc'd (crt_cert_list_free). */
	crt_status (*list)(crt_ctx *ctx, const crt_cert_filter *f, int64_t now, crt_cert **out,
			   size_t *n);
	/* One page of the rows f selects at now in page p's order
	 * (crt_cert_sort_fields, the serial breaking ties), cut by the store
	 * (store/list_sql.h); *total = how many f selects. */
	crt_status (*page)(crt_ctx *ctx, const crt_cert_filter *f, int64_t now, const crt_page *p,
			   crt_cert **out, size_t *n, int64_t *total);
	/* Guarded revoke: sets revoked_at, reason and the next revoked_seq only
	 * if serial is not revoked yet, atomically by its own statement;
	 * *changed is the row count (0: already revoked or absent, e.g. by
	 * another node a moment earlier). */
	crt_status (*revoke)(crt_ctx *ctx, const char *serial, int64_t now, int reason,
			     int *changed);
	/* The admission lookup (RADIUS hot path): *found = 0 when serial was
	 * never stored. */
	crt_status (*admission)(crt_ctx *ctx, const char *serial, store_cert_admission *out,
				int *found);
	/* Every revoked certificate of CA ca (its name), by serial. *out
	 * malloc'd (free). */
	crt_status (*revoked)(crt_ctx *ctx, const char *ca, store_revoked **out, size_t *n);
	/* The published CRL of CA ca and its newest revocation (flags: enum
	 * store_crl_flags; the lock is ca's own). With STORE_CRL_LOCK the CA's
	 * CRL number counter exists afterwards (meta_bump "crl_number" for the
	 * default CA, "crl_number.NAME" for another). */
	crt_status (*crl_load)(crt_ctx *ctx, const char *ca, unsigned flags, store_crl *out);
	/* Publish (insert or replace) the CRL of CA ca: m and its DER. */
	crt_status (*crl_save)(crt_ctx *ctx, const char *ca, const crt_crl_meta *m,
			       const unsigned char *der, size_t der_len);
	/* Merge s into its certificate's cert_seen row: none yet → inserted
	 * (*inserted = 1); else first_seen the earlier, last_seen the later
	 * with the session fields of the later one, first_mac kept once set.
	 * A serial with no certificate row is skipped (*inserted = 0). */
	crt_status (*seen_merge)(crt_ctx *ctx, const store_seen *s, int *inserted);
	/* Pin mac as serial's first_mac unless one is set, atomically by its own
	 * statements; the pinned MAC afterwards into winner ("" when serial has
	 * no certificate row), *pinned = 1 when this call set it. */
	crt_status (*pin_claim)(crt_ctx *ctx, const char *serial, const char *mac, int64_t now,
				char *winner, size_t winner_len, int *pinned);
	/* The serial of the certificate that renewed serial into child (72
	 * bytes); *found = 0 when none did. */
	crt_status (*renewal_of)(crt_ctx *ctx, const char *serial, char *child, int *found);
	/* Renewals whose predecessor is still unrevoked while the renewed
	 * certificate is not revoked either, and which were issued at or before
	 * issued_before or have been admitted by RADIUS (cert_seen); oldest
	 * first. *out malloc'd (free). */
	crt_status (*supersede_due)(crt_ctx *ctx, int64_t issued_before, store_renewal **out,
				    size_t *n);
};

static inline crt_status store_cert_insert(crt_ctx *ctx, const store_cert_row *row)
{
	return STORE_CALL(ctx, certs, insert, row);
}

static inline crt_status store_cert_get(crt_ctx *ctx, const char *serial, crt_cert *out,
					int *found)
{
	return STORE_CALL(ctx, certs, get, serial, out, found);
}

static inline crt_status store_cert_list(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
					 crt_cert **out, size_t *n)
{
	return STORE_CALL(ctx, certs, list, f, now, out, n);
}
static inline crt_status store_cert_page(crt_ctx *ctx, const crt_cert_filter *f, int64_t now,
				       const crt_page *p, crt_cert **out, size_t *n,
				       int64_t *total)
{
	return STORE_CALL(ctx, certs, page, f, now, p, out, n, total);
}

static inline crt_status store_cert_revoke(crt_ctx *ctx, const char *serial, int64_t now,
					   int reason, int *changed)
{
	return STORE_CALL(ctx, certs, revoke, serial, now, reason, changed);
}

static inline crt_status store_cert_admission_get(crt_ctx *ctx, const char *serial,
						  store_cert_admission *out, int *found)
{
	return STORE_CALL(ctx, certs, admission, serial, out, found);
}

static inline crt_status store_cert_revoked(crt_ctx *ctx, const char *ca, store_revoked **out,
					    size_t *n)
{
	return STORE_CALL(ctx, certs, revoked, ca, out, n);
}

static inline crt_status store_crl_load(crt_ctx *ctx, const char *ca, unsigned flags,
					store_crl *out)
{
	return STORE_CALL(ctx, certs, crl_load, ca, flags, out);
}

static inline crt_status store_crl_save(crt_ctx *ctx, const char *ca, const crt_crl_meta *m,
					const unsigned char *der, size_t der_len)
{
	return STORE_CALL(ctx, certs, crl_save, ca, m, der, der_len);
}

static inline crt_status store_cert_seen_merge(crt_ctx *ctx, const store_seen *s, int *inserted)
{
	return STORE_CALL(ctx, certs, seen_merge, s, inserted);
}

static inline crt_status store_cert_pin_claim(crt_ctx *ctx, const char *serial, const char *mac,
					      int64_t now, char *winner, size_t winner_len,
					      int *pinned)
{
	return STORE_CALL(ctx, certs, pin_claim, serial, mac, now, winner, winner_len, pinned);
}

static inline crt_status store_cert_renewal_of(crt_ctx *ctx, const char *serial, char *child,
					       int *found)
{
	return STORE_CALL(ctx, certs, renewal_of, serial, child, found);
}

static inline crt_status store_cert_supersede_due(crt_ctx *ctx, int64_t issued_before,
						  store_renewal **out, size_t *n)
{
	return STORE_CALL(ctx, certs, supersede_due, issued_before, out, n);
}

#endif /* CRTOKEN_STORE_PORT_CERTS_H */

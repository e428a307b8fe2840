/*
 * port_pkcs12.h — the storage port's kept-PKCS#12 verbs ([generate]
 * keep_pkcs12): table kept_pkcs12, one row per certificate whose PKCS#12
 * (made by GENERATE / token issue) its owner may download again. Included
 * by store/port.h; implemented by store/sqlite_pkcs12.c and
 * store/pg_pkcs12.c. The blob is sealed by the domain (seal.c) before it
 * gets here; the backend stores bytes and decides nothing.
 */
#ifndef CRTOKEN_STORE_PORT_PKCS12_H
#define CRTOKEN_STORE_PORT_PKCS12_H

/* A kept PKCS#12. Strings and sealed are borrowed (put) or malloc'd (get:
 * store_p12_clear). */
typedef struct store_p12_row {
	char serial[72];
	char owner[CRT_ID_LEN * 3]; /* the certificate's user (<= 128 bytes) */
	unsigned char *sealed;
	size_t sealed_len;
	int64_t created_at;
} store_p12_row;

static inline void store_p12_clear(store_p12_row *r)
{
	crt_freezero(r->sealed, r->sealed_len);
	r->sealed = NULL;
	r->sealed_len = 0;
}

struct store_pkcs12_ops {
	/* Insert row (inside the caller's write transaction: the redemption's). */
	crt_status (*put)(crt_ctx *ctx, const store_p12_row *row);
	/* The row of serial into *out (sealed malloc'd); *found = 0 when none. */
	crt_status (*get)(crt_ctx *ctx, const char *serial, store_p12_row *out, int *found);
	/* Overwrite the sealed bytes, then delete the row of serial (inside the
	 * caller's write transaction: the revocation's); *wiped = row count. */
	crt_status (*wipe)(crt_ctx *ctx, const char *serial, int *wiped);
	/* The serials of owner's kept rows; *out malloc'd (free), *n of them. */
	crt_status (*owned)(crt_ctx *ctx, const char *owner, char (**out)[72], size_t *n);
};

static inline crt_status __attribute__((warn_unused_result))
store_p12_put(crt_ctx *ctx, const store_p12_row *row)
{
	return STORE_CALL(ctx, pkcs12, put, row);
}
static inline crt_status __attribute__((warn_unused_result))
store_p12_get(crt_ctx *ctx, const char *serial, store_p12_row *out, int *found)
{
	return STORE_CALL(ctx, pkcs12, get, serial, out, found);
}
static inline crt_status __attribute__((warn_unused_result))
store_p12_wipe(crt_ctx *ctx, const char *serial, int *wiped)
{
	return STORE_CALL(ctx, pkcs12, wipe, serial, wiped);
}
static inline crt_status __attribute__((warn_unused_result))
store_p12_owned(crt_ctx *ctx, const char *owner, char (**out)[72], size_t *n)
{
	return STORE_CALL(ctx, pkcs12, owned, owner, out, n);
}

#endif /* CRTOKEN_STORE_PORT_PKCS12_H */

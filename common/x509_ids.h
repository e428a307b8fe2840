/*
 * x509_ids.h — the identifiers crtoken stores for a certificate, computed
 * from its values alone (no ctx, no store): the Subject and Authority Key
 * Identifiers and the SHA-256 of its DER, as lowercase hex. Used by the
 * domain when it stores a certificate (cert.c) and by a backend's migration
 * when it back-fills rows stored before the columns existed.
 */
#ifndef CRTOKEN_X509_IDS_H
#define CRTOKEN_X509_IDS_H

#include <openssl/x509.h>

#include "crtoken.h"

/* x's key identifiers (NULL when x has none) and fingerprint, malloc'd
 * lowercase hex. CRT_E_NOMEM (all NULL) when a copy fails. */
crt_status x509_ids(X509 *x, char **ski, char **aki, char **sha256);
/* The same for a PEM certificate; CRT_E_CERT_MISMATCH when pem is NULL or
 * does not parse (all NULL). */
crt_status x509_ids_from_pem(const char *pem, char **ski, char **aki, char **sha256);

#endif /* CRTOKEN_X509_IDS_H */

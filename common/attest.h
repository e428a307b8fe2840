/*
 * attest.h — YubiKey PIV key attestation, read and verified (attest.c):
 * the attestation certificate (made by the device for the key in a PIV
 * slot, `yubico-piv-tool -a attest -s 9a`) and the intermediate it is
 * signed with (the device's slot f9 certificate, `-a read-certificate -s
 * f9`) are checked to chain up to a trusted root, to attest the CSR's key,
 * and their Yubico extensions (OID arc 1.3.6.1.4.1.41482.3) are read
 * strictly. No ctx, no store: values in, a status and the facts out, so the
 * fuzz harness (tests/fuzz/fuzz_attest.c) and the unit tests call it as the
 * redemption does. The policy judging the facts is rules/attest.h.
 */
#ifndef CRTOKEN_ATTEST_H
#define CRTOKEN_ATTEST_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crtoken.h"
#include "rules/attest.h"

/* Most bytes of an attestation (PEM) and certificates in it. */
#define ATTEST_MAX_BYTES (32 * 1024)
#define ATTEST_MAX_CERTS 4

/*
 * Split the PEM text (len bytes, no NUL needed) into the attestation
 * certificate *leaf (the first) and the certificates after it *chain
 * (1..ATTEST_MAX_CERTS-1 of them: the device's f9 certificate and any
 * intermediates above it). Only CERTIFICATE blocks, each one DER
 * certificate exactly. Both are the caller's (X509_free,
 * sk_X509_pop_free). CRT_E_ATTEST_MALFORMED with why otherwise.
 */
crt_status attest_chain_parse(const unsigned char *pem, size_t len, X509 **leaf,
                              STACK_OF(X509) * *chain, char *why, size_t n) CRT_MUST_CHECK;

/*
 * The Yubico extensions of an attestation certificate into *f: firmware
 * (.3.3: exactly 3 octets), serial (.3.7: a DER INTEGER, 0..2^63-1), PIN and
 * touch policy (.3.8: exactly 2 octets, each 1..3), form factor (.3.9:
 * exactly 1 octet: the low nibble, 0x80 FIPS, 0x40 CSPN, nothing else), and
 * the slot from the subject ("YubiKey PIV Attestation 9a"). Any of them
 * malformed or repeated: CRT_E_ATTEST_MALFORMED with why. Absent ones stay
 * unset (attest_facts in rules/attest.h).
 */
crt_status attest_extensions_parse(const X509 *leaf, attest_facts *f, char *why,
                                   size_t n) CRT_MUST_CHECK;

/*
 * The whole check of one attestation (PEM as above) for a CSR's public key
 * at now: parsed (attest_chain_parse, attest_extensions_parse), the
 * attestation certificate verified through the given chain to one of roots
 * (at least three certificates: leaf, device certificate, root; signatures
 * and validity at now), its key equal to key. CRT_OK with *f filled (the
 * root's SHA-256 included), or CRT_E_ATTEST_MALFORMED, CRT_E_ATTEST_UNTRUSTED
 * (no roots, not chaining to one, expired, bad signature),
 * CRT_E_ATTEST_KEY_MISMATCH, CRT_E_NOMEM; why says which.
 */
crt_status attest_verify(const unsigned char *pem, size_t len, STACK_OF(X509) * roots,
                         EVP_PKEY *key, int64_t now, attest_facts *f, char *why,
                         size_t n) CRT_MUST_CHECK;

/*
 * The trusted roots: every certificate in the *.pem and *.crt files of
 * directory dir ([attestation] trusted_roots). The directory and each file
 * are checked on their open descriptors (owned by root or us, not writable
 * by others; files regular, no symbolic links), at most 64 files of at most
 * 256 KiB. *out is the caller's (sk_X509_pop_free). CRT_E_CONFIG (no
 * certificate in it, a file that is not PEM certificates),
 * CRT_E_UNSAFE_PERMISSIONS or CRT_E_IO, why says which.
 */
crt_status attest_roots_load(const char *dir, STACK_OF(X509) * *out, char *why,
                             size_t n) CRT_MUST_CHECK;

/* The facts as the JSON object stored with the certificate and written to
 * the audit row: {"serial":..,"firmware":"5.4.3","pinPolicy":"always",
 * "touchPolicy":"cached","formFactor":"usb-c-keychain","fips":0,"cspn":0,
 * "slot":"9a","root":"<sha256>"} (absent facts left out); malloc'd, NULL
 * when out of memory. */
char *attest_facts_json(const attest_facts *f);

#endif /* CRTOKEN_ATTEST_H */

/*
 * renewutil.h — helpers shared by the renewal suites (test_renew,
 * test_fault_renew): a certificate issued for a key the test keeps, and a
 * renewal request presenting it with a CSR for another (or the same) key.
 * Header-only, after testutil.h.
 */
#ifndef CRTOKEN_RENEWUTIL_H
#define CRTOKEN_RENEWUTIL_H

/* A certificate of the token spec for a fresh P-256 key, kept in *key (the
 * caller frees both); ru_issue: of profile (NULL: default). */
TU void ru_issue_spec(crt_ctx *ctx, const crt_token_spec *spec, crt_cert *c, EVP_PKEY **key)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	size_t len;

	tu_token(ctx, spec, tok, &t);
	crt_token_clear(&t);
	*key = tu_key("ec-p256");
	X509_REQ *req = tu_req(*key, "device", 0);
	char *csr = tu_req_pem(req, &len);
	X509_REQ_free(req);
	crt_redeem_req rr = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
	                     .admin = 1, .actor = "test"};
	crt_status r = crt_redeem(ctx, &rr, c);
	free(csr);
	if (r != CRT_OK)
		fail_msg("redeem: %s: %s", crt_status_name(r), crt_errdetail(ctx));
}

TU void ru_issue(crt_ctx *ctx, const char *profile, crt_cert *c, EVP_PKEY **key)
{
	crt_token_spec spec = {.name = "device", .cn = "device", .profile = profile};
	ru_issue_spec(ctx, &spec, c, key);
}

/* Renew c presenting its PEM, with a CSR for key (NULL: a fresh one). */
TU crt_status ru_renew(crt_ctx *ctx, const crt_cert *c, EVP_PKEY *key, crt_cert *out)
{
	size_t len;
	EVP_PKEY *k = key ? key : tu_key("ec-p256");
	X509_REQ *req = tu_req(k, "device", 0);
	char *csr = tu_req_pem(req, &len);
	crt_renew_req rq = {.cert = (const unsigned char *)c->pem,
	                    .cert_len = strlen(c->pem),
	                    .csr = (unsigned char *)csr,
	                    .csr_len = len,
	                    .actor = "test"};
	crt_status r = crt_cert_renew(ctx, &rq, out);

	X509_REQ_free(req);
	free(csr);
	if (key == NULL)
		EVP_PKEY_free(k);
	return r;
}

#endif /* CRTOKEN_RENEWUTIL_H */

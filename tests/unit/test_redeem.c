/*
 * test_redeem.c — the redemption state machine and the certificate profile,
 * checked by parsing the issued certificate back.
 */
#include "testutil.h"
#include <openssl/bn.h>


static char *tok_for(const crt_token_spec *spec, crt_token *t)
{
	static char tok[CRT_TOKEN_STRLEN + 1];
	tu_token(ti.ctx, spec, tok, t);
	return tok;
}

static crt_status redeem_as(const char *tok, const char *user, const char *cn, const char *org,
			    const char *ou, crt_cert *out)
{
	size_t len;
	char *csr = tu_csr("ec-p256", &len);
	crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len,
			      .user = user, .cn = cn, .org = org, .ou = ou, .actor = "t"};
	crt_status r = crt_redeem(ti.ctx, &req, out);
	free(csr);
	return r;
}

/* ---------------------------------------------------------------- profile */

static void issued_certificate_follows_the_client_profile(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "profile", .cn = "alice", .org = "Example", .ou = "IT"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	X509 *x = tu_x509(c.pem);
	int crit = -1;

	assert_int_equal(X509_get_version(x), X509_VERSION_3);
	/* subject only from the token, never from the CSR ("from-the-csr") */
	assert_string_equal(c.subject, "/O=Example/OU=IT/CN=alice");
	BASIC_CONSTRAINTS *bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	assert_non_null(bc);
	assert_false(bc->ca);
	assert_int_equal(crit, 1);
	BASIC_CONSTRAINTS_free(bc);
	assert_true(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT);
	assert_false(X509_get_extended_key_usage(x) & XKU_SSL_SERVER);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	assert_non_null(X509_get0_subject_key_id(x));
	assert_non_null(X509_get0_authority_key_id(x));
	/* AKI = CA's SKI */
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(ti.ctx, &ci), CRT_OK);
	X509 *ca = tu_x509(ci.pem);
	assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(x),
					       X509_get0_subject_key_id(ca)), 0);
	/* signed by the CA */
	assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
	X509_free(ca);
	crt_ca_info_clear(&ci);

	/* serial: positive, 16 bytes, stored as FreeRADIUS prints it */
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	assert_int_equal(sn->type, V_ASN1_INTEGER);
	assert_int_equal(sn->length, 16);
	assert_int_equal(strlen(c.serial), 32);
	char hex[33];
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", sn->data[i]);
	assert_string_equal(hex, c.serial);

	/* validity: back-dated for skew, 365 days */
	int64_t now = crt_now();
	assert_true(c.not_before <= now - 290 && c.not_before >= now - 310);
	assert_true(c.not_after >= now + 365 * 86400 - 10 && c.not_after <= now + 365 * 86400 + 10);
	/* named after the token, chain included */
	assert_string_equal(c.name, "profile");
	assert_string_equal(c.token_id, t.id);
	assert_non_null(strstr(c.chain_pem, "BEGIN CERTIFICATE"));
	X509_free(x);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void rsa_certificates_also_get_key_encipherment(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "rsa"};
	char *tok = tok_for(&spec, &t);
	size_t len;
	char *csr = tu_csr("rsa-2048", &len);
	crt_redeem_req req = {.token = tok, .csr = (unsigned char *)csr, .csr_len = len, .admin = 1};
	assert_int_equal(crt_redeem(ti.ctx, &req, &c), CRT_OK);
	X509 *x = tu_x509(c.pem);
	assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT);
	assert_string_equal(c.key_type, "rsa-2048");
	X509_free(x);
	free(csr);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void a_csr_asking_for_ca_true_still_gets_ca_false(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "sneaky"};
	char *tok = tok_for(&spec, &t);
	EVP_PKEY *k = tu_key("ec-p256");
	X509_REQ *req = tu_req(k, "evil CA", 1);
	size_t len;
	char *pem = tu_req_pem(req, &len);
	crt_redeem_req rq = {.token = tok, .csr = (unsigned char *)pem, .csr_len = len, .admin = 1};
	assert_int_equal(crt_redeem(ti.ctx, &rq, &c), CRT_OK);
	X509 *x = tu_x509(c.pem);
	assert_int_equal(X509_check_ca(x), 0);
	assert_string_equal(c.subject, "/CN=sneaky"); /* CN defaults to the token name */
	X509_free(x);
	X509_REQ_free(req);
	EVP_PKEY_free(k);
	free(pem);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void validity_never_exceeds_the_ca(void **s)
{
	test_instance short_ca;
	crt_init_opts o = {0};
	char err[256];
	memset(&short_ca, 0, sizeof(short_ca));
	snprintf(short_ca.dir, sizeof(short_ca.dir), "%s/crtoken-unit.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(short_ca.dir));
	strcat(short_ca.dir, "/i");
	snprintf(short_ca.conf, sizeof(short_ca.conf), "%s/crtoken.conf", short_ca.dir);
	o.dir = short_ca.dir;
	o.ca_days = 30;
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_OK);
	tu_open(&short_ca);
	crt_token t;
	crt_cert c;
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "short"};
	tu_token(short_ca.ctx, &spec, tok, &t);
	assert_int_equal(tu_redeem(short_ca.ctx, tok, &c), CRT_OK);
	crt_ca_info ci;
	assert_int_equal(crt_ca_get(short_ca.ctx, &ci), CRT_OK);
	assert_true(c.not_after <= ci.not_after);
	assert_true(c.not_after >= ci.not_after - 5);
	crt_ca_info_clear(&ci);
	crt_cert_clear(&c);
	crt_token_clear(&t);
	tu_instance_free(&short_ca);
}

/* ---------------------------------------------------------------- states */

static void a_token_redeems_exactly_once(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "once"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_USED);
	crt_token u;
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_USED);
	assert_non_null(u.serial);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

static void an_unknown_token_is_unknown(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_cert c;
	extern crt_status token_generate(const char *, char *);
	assert_int_equal(token_generate(CRT_TOKEN_PREFIX, tok), CRT_OK);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_UNKNOWN);
}

static void a_mistyped_token_is_mistyped(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "typo"};
	char *tok = tok_for(&spec, &t);
	tok[10] = tok[10] == 'a' ? 'b' : 'a';
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_MISTYPED);
	crt_token_clear(&t);
}

static void a_deleted_token_says_deleted(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "gone"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(crt_token_delete(ti.ctx, t.id, "t"), CRT_OK);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_DELETED);
	assert_int_equal(crt_token_delete(ti.ctx, t.id, "t"), CRT_E_TOKEN_DELETED);
	crt_token_clear(&t);
}

static void an_expired_token_says_expired(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "late", .lifetime = 60};
	char *tok = tok_for(&spec, &t);
	/* Age the token by editing its row: time itself is not mocked. */
	char db[512], sql[256];
	tu_db_path(&ti, db, sizeof(db));
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	snprintf(sql, sizeof(sql), "UPDATE tokens SET expires_at = %lld WHERE id = '%s'",
		 (long long)crt_now() - 1, t.id);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_EXPIRED);
	crt_token u;
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_EXPIRED);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

static void an_owned_token_redeems_only_for_its_owner(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "owned", .owner = "alice"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, "bob", NULL, NULL, NULL, &c), CRT_E_TOKEN_OWNER);
	assert_int_equal(redeem_as(tok, NULL, NULL, NULL, NULL, &c), CRT_E_TOKEN_OWNER);
	assert_int_equal(redeem_as(tok, "alice", NULL, NULL, NULL, &c), CRT_OK);
	assert_string_equal(c.user, "alice");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void the_redeemer_may_set_opened_and_empty_fields(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "ovr", .cn = "default", .org = "Org",
			       .opened = CRT_FIELD_CN};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, NULL, "my-laptop", NULL, "Lab", &c), CRT_OK);
	assert_string_equal(c.subject, "/O=Org/OU=Lab/CN=my-laptop");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void a_locked_field_refuses_a_different_value(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "lock", .cn = "fixed", .locked = CRT_FIELD_CN};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, NULL, "other", NULL, NULL, &c), CRT_E_FIELD_LOCKED);
	/* the same value is not an override */
	assert_int_equal(redeem_as(tok, NULL, "fixed", "Free Org", NULL, &c), CRT_OK);
	assert_string_equal(c.subject, "/O=Free Org/CN=fixed");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void overrides_must_be_printable_and_short(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "fields"};
	char *tok = tok_for(&spec, &t);
	char longcn[80];
	memset(longcn, 'a', sizeof(longcn) - 1);
	longcn[sizeof(longcn) - 1] = '\0';
	assert_int_equal(redeem_as(tok, NULL, longcn, NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "bad\x01", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "\xff\xfe", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "Zoë's laptop", NULL, NULL, &c), CRT_OK);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* ---------------------------------------------------------------- subject policy */

/* Alice's token names alice's certificate: her login can't make it CN=bob. */
static void alices_token_cannot_issue_cn_bob(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "alice-laptop", .owner = "alice"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, "alice", "bob", NULL, NULL, &c), CRT_E_FIELD_LOCKED);
	crt_token_clear(&t);
	crt_token_spec spec2 = {.name = "alice-phone", .cn = "alice", .owner = "alice"};
	tok = tok_for(&spec2, &t);
	assert_int_equal(redeem_as(tok, "alice", "bob", NULL, NULL, &c), CRT_E_FIELD_LOCKED);
	assert_int_equal(redeem_as(tok, "alice", NULL, NULL, NULL, &c), CRT_OK);
	assert_string_equal(c.subject, "/CN=alice");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* What the admin filled in is fixed unless opened; empty fields stay free. */
static void fields_the_admin_filled_are_locked_by_default(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "filled", .cn = "default", .org = "Org"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, NULL, "mine", NULL, NULL, &c), CRT_E_FIELD_LOCKED);
	assert_int_equal(redeem_as(tok, NULL, NULL, "Other Org", NULL, &c), CRT_E_FIELD_LOCKED);
	assert_int_equal(redeem_as(tok, NULL, NULL, "", NULL, &c), CRT_E_FIELD_LOCKED);
	assert_int_equal(redeem_as(tok, NULL, "default", NULL, "Lab", &c), CRT_OK);
	assert_string_equal(c.subject, "/O=Org/OU=Lab/CN=default");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void an_opened_field_may_be_overridden_even_with_an_owner(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "opened", .cn = "x", .owner = "dave",
			       .opened = CRT_FIELD_CN | CRT_FIELD_O, .org = "Org"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(t.opened, CRT_FIELD_CN | CRT_FIELD_O);
	assert_int_equal(crt_token_overridable(&t), CRT_FIELD_ALL);
	assert_int_equal(redeem_as(tok, "dave", "dave-laptop", "", NULL, &c), CRT_OK);
	assert_string_equal(c.subject, "/CN=dave-laptop");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void a_field_cannot_be_both_locked_and_opened(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "both", .locked = CRT_FIELD_O, .opened = CRT_FIELD_O};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_FIELD_INVALID);
}

/* Opening a field on update unlocks it, locking one closes it. */
static void updates_move_a_field_between_locked_and_opened(void **s)
{
	crt_token t, u;
	crt_token_spec spec = {.name = "move", .cn = "c", .locked = CRT_FIELD_OU};
	char *tok = tok_for(&spec, &t);
	(void)tok;
	crt_token_spec open_ou = {.set_opened = 1, .opened = CRT_FIELD_OU | CRT_FIELD_CN};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &open_ou, "t", &u), CRT_OK);
	assert_int_equal(u.locked, 0);
	assert_int_equal(crt_token_overridable(&u), CRT_FIELD_ALL);
	crt_token_clear(&u);
	crt_token_spec lock_cn = {.set_locked = 1, .locked = CRT_FIELD_CN};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &lock_cn, "t", &u), CRT_OK);
	assert_int_equal(u.locked, CRT_FIELD_CN);
	assert_int_equal(u.opened, CRT_FIELD_OU);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

/* No certificate with an empty subject (and crtoken adds no SAN). */
static void redeem_empty_subject_rejected(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "free-cn"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, NULL, "", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "", "", "", &c), CRT_E_FIELD_INVALID);
	crt_token_clear(&t);
}

/* Invisible characters make two different subjects look alike. */
static void subject_zero_width_and_bidi_characters_rejected(void **s)
{
	static const char *tricks[] = {
		"bob\xe2\x80\x8b",   /* U+200B zero width space */
		"b\xe2\x80\x8d" "ob", /* U+200D zero width joiner */
		"\xe2\x80\xae" "bob", /* U+202E right-to-left override */
		"bob\xe2\x81\xa6",   /* U+2066 left-to-right isolate */
		"\xef\xbb\xbf" "bob", /* U+FEFF byte order mark */
		"b\xc2\xad" "ob",    /* U+00AD soft hyphen */
		"bob\xe2\x80\xa8",   /* U+2028 line separator */
		"\xf3\xa0\x80\x81" "bob", /* U+E0001 language tag */
	};
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "bidi"};
	char *tok = tok_for(&spec, &t);
	char ttok[CRT_TOKEN_STRLEN + 1];
	for (size_t i = 0; i < sizeof(tricks) / sizeof(tricks[0]); i++) {
		assert_int_equal(redeem_as(tok, NULL, tricks[i], NULL, NULL, &c),
				 CRT_E_FIELD_INVALID);
		assert_int_equal(redeem_as(tok, NULL, NULL, tricks[i], NULL, &c),
				 CRT_E_FIELD_INVALID);
		crt_token_spec bad = {.name = "admin", .ou = tricks[i]};
		assert_int_equal(crt_token_create(ti.ctx, &bad, "t", NULL, ttok),
				 CRT_E_FIELD_INVALID);
	}
	assert_int_equal(redeem_as(tok, NULL, "Zoë — ünïcödé ok", NULL, NULL, &c), CRT_OK);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

/* OU "IT\" followed by CN=bob prints as /OU=IT\/CN=bob, exactly as the one
 * field OU "IT/CN=bob" does: no backslash in a subject field. */
static void subject_trailing_backslash_rejected(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "slash"};
	char *tok = tok_for(&spec, &t);
	char ttok[CRT_TOKEN_STRLEN + 1];
	assert_int_equal(redeem_as(tok, NULL, "bob", NULL, "IT\\", &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "a\\xC3", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	crt_token_spec bad = {.name = "admin", .ou = "IT\\"};
	assert_int_equal(crt_token_create(ti.ctx, &bad, "t", NULL, ttok), CRT_E_FIELD_INVALID);
	/* a slash is escaped by the one-line form and stays allowed */
	assert_int_equal(redeem_as(tok, NULL, "bob", NULL, "IT/CN=bob", &c), CRT_OK);
	assert_string_equal(c.subject, "/OU=IT\\/CN=bob/CN=bob");
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void subject_leading_or_trailing_spaces_rejected(void **s)
{
	crt_token t;
	crt_cert c = {0};
	crt_token_spec spec = {.name = "spaces"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(redeem_as(tok, NULL, " bob", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "bob ", NULL, NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "bob\xc2\xa0", NULL, NULL, &c),
			 CRT_E_FIELD_INVALID); /* no-break space */
	assert_int_equal(redeem_as(tok, NULL, NULL, " ", NULL, &c), CRT_E_FIELD_INVALID);
	assert_int_equal(redeem_as(tok, NULL, "bob smith", NULL, NULL, &c), CRT_OK);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void refusals_are_audited_and_success_writes_one_audit_row(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "audited"};
	char *tok = tok_for(&spec, &t);
	char db[512], sql[256];
	tu_db_path(&ti, db, sizeof(db));
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_E_TOKEN_USED);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM audit WHERE object = '%s' AND action = 'token.redeem'", t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM audit WHERE object = '%s' AND action = 'token.redeem_refused'"
		 " AND detail LIKE '%%token_used%%'", t.id);
	assert_int_equal(tu_sql_int(db, sql), 1);
	crt_token_clear(&t);
}

static void generate_refuses_a_used_token_before_making_a_key(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "gen-used"};
	char *tok = tok_for(&spec, &t);
	char db[512], sql[256];
	unsigned char *p12 = NULL;
	size_t p12len = 0;
	char *pass = NULL;
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	crt_cert_clear(&c);
	crt_redeem_req req = {.token = tok, .admin = 1, .actor = "t"};
	assert_int_equal(crt_redeem_generate(ti.ctx, &req, "rsa-3072", NULL, &c, &p12, &p12len,
					     &pass),
			 CRT_E_TOKEN_USED);
	assert_null(p12);
	assert_null(pass);
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql),
		 "SELECT count(*) FROM audit WHERE object = '%s' AND action = 'token.redeem_refused'",
		 t.id);
	assert_int_equal(tu_sql_int(db, sql), 1); /* refused once, audited once */
	crt_token_clear(&t);
}

/* Without a CN the name is the CN: a name the subject rule refuses would
 * make a token nobody can ever redeem. */
static void a_long_name_without_cn_is_refused_at_create(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1], name[71];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	crt_token_spec spec = {.name = name};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_FIELD_INVALID);
	spec.name = "IT\\";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_FIELD_INVALID);
	spec.name = name;
	spec.cn = "short";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_OK);
}

static void an_update_that_makes_a_long_name_the_cn_is_refused(void **s)
{
	crt_token t, u;
	char name[71];
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	crt_token_spec spec = {.name = name, .cn = "short"};
	(void)tok_for(&spec, &t);
	crt_token_spec clear_cn = {.cn = ""};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &clear_cn, "t", &u), CRT_E_FIELD_INVALID);
	crt_token_spec rename = {.name = name, .cn = "short"};
	crt_token_clear(&t);
	spec.name = "short-name";
	(void)tok_for(&spec, &t);
	crt_token_spec long_name_no_cn = {.name = name, .cn = ""};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &long_name_no_cn, "t", &u),
			 CRT_E_FIELD_INVALID);
	assert_int_equal(crt_token_update(ti.ctx, t.id, &rename, "t", &u), CRT_OK);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

/* A token stored before the rule, whose subject can't be signed: GENERATE
 * refuses it before it looks at the key type, i.e. before making a key. */
static void generate_refuses_an_unredeemable_token_before_making_a_key(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "gen-subject"};
	char *tok = tok_for(&spec, &t);
	char db[512], sql[256];
	sqlite3 *h;
	unsigned char *p12 = NULL;
	size_t p12len = 0;
	char *pass = NULL;
	tu_db_path(&ti, db, sizeof(db));
	snprintf(sql, sizeof(sql), "UPDATE tokens SET name = '%070d' WHERE id = '%s'", 0, t.id);
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	sqlite3_busy_timeout(h, 5000);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	crt_redeem_req req = {.token = tok, .admin = 1, .actor = "t"};
	assert_int_equal(crt_redeem_generate(ti.ctx, &req, "no-such-type", NULL, &c, &p12,
					     &p12len, &pass),
			 CRT_E_FIELD_INVALID);
	assert_null(p12);
	crt_token_clear(&t);
}

/* GENERATE makes only the documented key types (RSA-4096 took seconds). */
static void generate_makes_only_the_documented_key_types(void **s)
{
	crt_token t, u;
	crt_cert c;
	crt_token_spec spec = {.name = "gen-types"};
	char *tok = tok_for(&spec, &t);
	unsigned char *p12 = NULL;
	size_t p12len = 0;
	char *pass = NULL;
	crt_redeem_req req = {.token = tok, .admin = 1, .actor = "t"};
	assert_int_equal(crt_redeem_generate(ti.ctx, &req, "rsa-4096", NULL, &c, &p12, &p12len,
					     &pass),
			 CRT_E_KEY_TYPE);
	assert_null(p12);
	assert_int_equal(crt_token_get(ti.ctx, t.id, &u), CRT_OK);
	assert_int_equal(u.state, CRT_TOKEN_ACTIVE);
	crt_token_clear(&u);
	crt_token_clear(&t);
}

/* ---------------------------------------------------------------- tokens */

static void a_token_needs_a_name(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.cn = "x"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_NAME_REQUIRED);
	spec.name = "";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_NAME_REQUIRED);
}

static void lifetimes_beyond_the_maximum_are_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "long", .lifetime = 91 * 86400};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_LIFETIME);
	spec.lifetime = 0;
	spec.expires_at = crt_now() - 10;
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_LIFETIME);
}

/* One precedence rule for every adapter: a lifetime and an absolute expiry
 * together are ambiguous, refused on create and on update alike. */
static void a_lifetime_and_an_expiry_time_together_are_refused(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "both", .lifetime = 3600, .expires_at = crt_now() + 7200};
	crt_token_spec upd = {.lifetime = 3600, .expires_at = crt_now() + 7200};
	crt_token_spec plain = {.name = "plain"};

	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_LIFETIME);
	tu_token(ti.ctx, &plain, tok, &t);
	assert_int_equal(crt_token_update(ti.ctx, t.id, &upd, "t", NULL), CRT_E_LIFETIME);
	crt_token_clear(&t);
}

static void the_default_lifetime_is_seven_days(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token t;
	crt_token_spec spec = {.name = "default"};
	tu_token(ti.ctx, &spec, tok, &t);
	assert_true(t.expires_at - t.created_at == 7 * 86400);
	crt_token_clear(&t);
}

static void reply_attributes_must_be_attribute_equals_value(void **s)
{
	char tok[CRT_TOKEN_STRLEN + 1];
	crt_token_spec spec = {.name = "r", .reply = "Tunnel-Type=VLAN\nnovalue"};
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_REPLY_ATTR);
	spec.reply = "=x";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_REPLY_ATTR);
	spec.reply = "Bad Name=x";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_E_REPLY_ATTR);
	spec.reply = "Tunnel-Type=VLAN\nTunnel-Private-Group-Id=42";
	assert_int_equal(crt_token_create(ti.ctx, &spec, "t", NULL, tok), CRT_OK);
}

static void reply_attributes_travel_to_the_certificate(void **s)
{
	crt_token t;
	crt_cert c;
	crt_token_spec spec = {.name = "vlan", .reply = "Tunnel-Private-Group-Id=42"};
	char *tok = tok_for(&spec, &t);
	assert_int_equal(tu_redeem(ti.ctx, tok, &c), CRT_OK);
	assert_string_equal(c.reply, "Tunnel-Private-Group-Id=42");
	char *reply = NULL;
	tu_presented_buf pb;
	assert_int_equal(crt_cert_authorize(ti.ctx, tu_presented(&c, &pb), crt_now(), &reply),
			 CRT_OK);
	assert_string_equal(reply, "Tunnel-Private-Group-Id=42");
	free(reply);
	crt_cert_clear(&c);
	crt_token_clear(&t);
}

static void metadata_updates_only_while_unused(void **s)
{
	crt_token t, u;
	crt_cert c;
	crt_token_spec spec = {.name = "upd", .cn = "a"};
	char *tok = tok_for(&spec, &t);
	crt_token_spec ch = {.cn = "b", .ou = "", .owner = "carol", .set_locked = 1,
			     .locked = CRT_FIELD_ALL};
	assert_int_equal(crt_token_update(ti.ctx, t.id, &ch, "t", &u), CRT_OK);
	assert_string_equal(u.cn, "b");
	assert_string_equal(u.owner, "carol");
	assert_int_equal(u.locked, CRT_FIELD_ALL);
	crt_token_clear(&u);
	assert_int_equal(redeem_as(tok, "carol", NULL, NULL, NULL, &c), CRT_OK);
	assert_string_equal(c.subject, "/CN=b");
	crt_cert_clear(&c);
	assert_int_equal(crt_token_update(ti.ctx, t.id, &ch, "t", &u), CRT_E_TOKEN_NOT_ACTIVE);
	assert_int_equal(crt_token_update(ti.ctx, "token-nope", &ch, "t", &u),
			 CRT_E_TOKEN_NOT_FOUND);
	crt_token_clear(&t);
}

static void purge_removes_old_finished_tokens_but_keeps_certificates(void **s)
{
	test_instance p;
	tu_instance(&p);
	crt_token t1, t2, t3;
	crt_cert c;
	char tok[CRT_TOKEN_STRLEN + 1], db[512];
	crt_token_spec spec = {.name = "used"};
	tu_token(p.ctx, &spec, tok, &t1);
	assert_int_equal(tu_redeem(p.ctx, tok, &c), CRT_OK);
	spec.name = "deleted";
	tu_token(p.ctx, &spec, tok, &t2);
	assert_int_equal(crt_token_delete(p.ctx, t2.id, "t"), CRT_OK);
	spec.name = "active";
	tu_token(p.ctx, &spec, tok, &t3);
	size_t n = 99;
	assert_int_equal(crt_token_purge(p.ctx, 1, "t", &n), CRT_OK);
	assert_int_equal(n, 0); /* nothing finished more than a day ago */
	/* Age the finished tokens by two days (time itself is not mocked). */
	tu_db_path(&p, db, sizeof(db));
	sqlite3 *h;
	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, "UPDATE tokens SET used_at = used_at - 172800 WHERE used_at"
					 " IS NOT NULL; UPDATE tokens SET deleted_at = deleted_at -"
					 " 172800 WHERE deleted_at IS NOT NULL", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(h);
	assert_int_equal(crt_token_purge(p.ctx, 1, "t", &n), CRT_OK);
	assert_int_equal(n, 2);
	crt_token gone;
	assert_int_equal(crt_token_get(p.ctx, t1.id, &gone), CRT_E_TOKEN_NOT_FOUND);
	crt_token_clear(&t1);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM certificates"), 1);
	assert_int_equal(tu_sql_int(db, "SELECT count(*) FROM audit WHERE action = 'token.purge'"), 2);
	crt_token a;
	assert_int_equal(crt_token_get(p.ctx, t3.id, &a), CRT_OK);
	crt_token_clear(&a);
	crt_cert_clear(&c);
	crt_token_clear(&t2);
	crt_token_clear(&t3);
	tu_instance_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(issued_certificate_follows_the_client_profile),
		cmocka_unit_test(rsa_certificates_also_get_key_encipherment),
		cmocka_unit_test(a_csr_asking_for_ca_true_still_gets_ca_false),
		cmocka_unit_test(validity_never_exceeds_the_ca),
		cmocka_unit_test(a_token_redeems_exactly_once),
		cmocka_unit_test(an_unknown_token_is_unknown),
		cmocka_unit_test(a_mistyped_token_is_mistyped),
		cmocka_unit_test(a_deleted_token_says_deleted),
		cmocka_unit_test(an_expired_token_says_expired),
		cmocka_unit_test(an_owned_token_redeems_only_for_its_owner),
		cmocka_unit_test(the_redeemer_may_set_opened_and_empty_fields),
		cmocka_unit_test(a_locked_field_refuses_a_different_value),
		cmocka_unit_test(overrides_must_be_printable_and_short),
		cmocka_unit_test(alices_token_cannot_issue_cn_bob),
		cmocka_unit_test(fields_the_admin_filled_are_locked_by_default),
		cmocka_unit_test(an_opened_field_may_be_overridden_even_with_an_owner),
		cmocka_unit_test(a_field_cannot_be_both_locked_and_opened),
		cmocka_unit_test(updates_move_a_field_between_locked_and_opened),
		cmocka_unit_test(redeem_empty_subject_rejected),
		cmocka_unit_test(subject_zero_width_and_bidi_characters_rejected),
		cmocka_unit_test(subject_trailing_backslash_rejected),
		cmocka_unit_test(subject_leading_or_trailing_spaces_rejected),
		cmocka_unit_test(refusals_are_audited_and_success_writes_one_audit_row),
		cmocka_unit_test(generate_refuses_a_used_token_before_making_a_key),
		cmocka_unit_test(generate_refuses_an_unredeemable_token_before_making_a_key),
		cmocka_unit_test(generate_makes_only_the_documented_key_types),
		cmocka_unit_test(a_token_needs_a_name),
		cmocka_unit_test(a_long_name_without_cn_is_refused_at_create),
		cmocka_unit_test(an_update_that_makes_a_long_name_the_cn_is_refused),
		cmocka_unit_test(lifetimes_beyond_the_maximum_are_refused),
		cmocka_unit_test(a_lifetime_and_an_expiry_time_together_are_refused),
		cmocka_unit_test(the_default_lifetime_is_seven_days),
		cmocka_unit_test(reply_attributes_must_be_attribute_equals_value),
		cmocka_unit_test(reply_attributes_travel_to_the_certificate),
		cmocka_unit_test(metadata_updates_only_while_unused),
		cmocka_unit_test(purge_removes_old_finished_tokens_but_keeps_certificates),
	};
	return cmocka_run_group_tests(tests, tu_group_setup, tu_group_teardown);
}

/*
 * test_pkcs11.c — the CA key crt_init makes in a PKCS#11 token (SoftHSM2 in
 * a token directory of the test's own, removed at the end) stays there:
 * the private key object is sensitive and not extractable, and reading its
 * value through the module is refused.
 */
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "crtoken.h"

#define MODULE "/usr/lib/softhsm/libsofthsm2.so"

static char dir[256];

static void rmrf(const char *d)
{
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
}

static void the_token_key_is_sensitive_and_not_extractable(void **state)
{
	char path[700], pin[300], inst[300], err[600];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/crtoken-p11.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tokens", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/softhsm2.conf", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n",
		dir);
	fclose(f);
	setenv("SOFTHSM2_CONF", path, 1);
	assert_int_equal(system("softhsm2-util --init-token --free --label unit --pin 1357 "
				"--so-pin 97531 >/dev/null"),
			 0);
	snprintf(pin, sizeof(pin), "%s/pin", dir);
	f = fopen(pin, "w");
	assert_non_null(f);
	fputs("1357\n", f);
	fclose(f);
	assert_int_equal(chmod(pin, 0600), 0);
	snprintf(inst, sizeof(inst), "%s/inst", dir);
	crt_init_opts o = {.dir = inst,
			   .ca_key_uri = "pkcs11:token=unit;object=unit-ca",
			   .ca_pin_file = pin,
			   .ca_module = MODULE};
	assert_int_equal(crt_init(&o, err, sizeof(err)), CRT_OK);
	snprintf(path, sizeof(path), "%s/ca.key", inst);
	assert_int_not_equal(access(path, F_OK), 0);

	/* Look at the key object through the module itself. */
	void *dl = dlopen(MODULE, RTLD_NOW);
	assert_non_null(dl);
	CK_C_GetFunctionList gfl = (CK_C_GetFunctionList)dlsym(dl, "C_GetFunctionList");
	CK_FUNCTION_LIST_PTR fl = NULL;
	assert_non_null(gfl);
	assert_int_equal(gfl(&fl), CKR_OK);
	/* The engine crt_init used may have left the module initialised. */
	CK_RV rv = fl->C_Initialize(NULL);
	assert_true(rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED);
	CK_SLOT_ID slots[8];
	CK_ULONG n = 8;
	assert_int_equal(fl->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
	CK_SLOT_ID slot = (CK_SLOT_ID)-1;
	for (CK_ULONG i = 0; i < n; i++) {
		CK_TOKEN_INFO ti;
		if (fl->C_GetTokenInfo(slots[i], &ti) == CKR_OK && memcmp(ti.label, "unit ", 5) == 0)
			slot = slots[i];
	}
	assert_true(slot != (CK_SLOT_ID)-1);
	CK_SESSION_HANDLE s;
	assert_int_equal(fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s), CKR_OK);
	rv = fl->C_Login(s, CKU_USER, (CK_UTF8CHAR_PTR) "1357", 4);
	assert_true(rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN);
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE find[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_LABEL, "unit-ca", 7}};
	CK_OBJECT_HANDLE h[4];
	CK_ULONG nh = 0;
	assert_int_equal(fl->C_FindObjectsInit(s, find, 2), CKR_OK);
	assert_int_equal(fl->C_FindObjects(s, h, 4, &nh), CKR_OK);
	fl->C_FindObjectsFinal(s);
	assert_int_equal(nh, 1);
	CK_BBOOL extractable = CK_TRUE, sensitive = CK_FALSE;
	CK_KEY_TYPE kt = 0;
	CK_ATTRIBUTE a[] = {{CKA_EXTRACTABLE, &extractable, sizeof(extractable)},
			    {CKA_SENSITIVE, &sensitive, sizeof(sensitive)},
			    {CKA_KEY_TYPE, &kt, sizeof(kt)}};
	assert_int_equal(fl->C_GetAttributeValue(s, h[0], a, 3), CKR_OK);
	assert_int_equal(extractable, CK_FALSE);
	assert_int_equal(sensitive, CK_TRUE);
	assert_int_equal(kt, CKK_EC);
	unsigned char value[256];
	CK_ATTRIBUTE v = {CKA_VALUE, value, sizeof(value)};
	assert_int_equal(fl->C_GetAttributeValue(s, h[0], &v, 1), CKR_ATTRIBUTE_SENSITIVE);
	fl->C_Logout(s);
	fl->C_CloseSession(s);
	if (rv == CKR_OK)
		fl->C_Finalize(NULL);
	dlclose(dl);
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0])
		rmrf(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(the_token_key_is_sensitive_and_not_extractable, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * cert_import.c — `crtoken-admin cert import FILE --name N [--owner U]
 * [--reply A=v]... [--json]`: store an existing client certificate (one
 * PEM certificate, no key) that chains to [import] trusted_issuers, so
 * rlm_crtoken admits it like one crtoken issued; show it as cert show does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"

static const struct option import_opts[] = {
    {"name", required_argument, NULL, CERT_NAME},
    {"owner", required_argument, NULL, CERT_OWNER},
    {"reply", required_argument, NULL, CERT_REPLY},
    {"json", no_argument, NULL, CERT_JSON},
    {NULL, 0, NULL, 0},
};

/* list += "\n" line (the reply attribute lines); -1 when out of memory. */
static int add_line(char **list, const char *line)
{
	size_t old = *list ? strlen(*list) : 0;
	char *n = realloc(*list, old + strlen(line) + 2);
	if (n == NULL)
		return -1;
	if (old)
		n[old++] = '\n';
	strcpy(n + old, line);
	*list = n;
	return 0;
}

static int cert_import(admin_env *env, admin_call *call)
{
	crt_import_req req = {.actor = admin_actor()};
	char *reply = NULL, *pem = NULL;
	const char *file;
	size_t len = 0;
	crt_cert cert = {0};
	crt_status r;
	int c, rc;

	while ((c = admin_getopt(call)) > 0) {
		switch (c) {
		case CERT_NAME:
			req.name = optarg;
			break;
		case CERT_OWNER:
			req.owner = optarg;
			break;
		case CERT_REPLY:
			if (add_line(&reply, optarg) != 0) {
				fprintf(stderr, "crtoken-admin: error: out_of_memory: out of memory\n");
				free(reply);
				return EXIT_SYSTEM;
			}
			break;
		case CERT_JSON:
			env->json = 1;
			break;
		}
	}
	if (c < 0 || admin_operands(call, 1, "exactly one FILE (the PEM certificate)") != 0) {
		free(reply);
		return call->exit;
	}
	if (req.name == NULL) {
		free(reply);
		return admin_usage_error("cert import", "--name N is required");
	}
	file = call->argv[optind];
	req.reply = reply;
	if ((r = admin_read_file(file, 1 << 20, &pem, &len)) != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s: %s\n", crt_status_name(r),
			crt_status_message(r), file);
		free(reply);
		return admin_exit_for(r);
	}
	req.pem = (const unsigned char *)pem;
	req.pem_len = len;
	if ((rc = admin_open(env, 0)) != EXIT_OK)
		goto out;
	if ((r = crt_cert_import(env->ctx, &req, &cert)) != CRT_OK) {
		rc = admin_fail(env, r);
		goto out;
	}
	if (!env->json)
		printf("Imported. RADIUS admits it while it is valid and not revoked.\n\n");
	rc = cert_print(env, &cert);
	crt_cert_clear(&cert);
out:
	if (pem != NULL) /* a pasted private key is refused, but was in this buffer */
		explicit_bzero(pem, len);
	free(pem);
	free(reply);
	return rc;
}

const admin_action cert_import_action = {
    .name = "import",
    .opts = import_opts,
    .run = cert_import,
};

/*
 * render.c — libcrtoken objects as jansson values for responses. The shapes
 * themselves are libcrtoken's (crt_token_json, crt_cert_json), shared with
 * crtoken-admin --json, so the CLI and the API never disagree; this file
 * only turns them into values a handler can extend or put in an array.
 * Every function returns a new reference, or NULL when out of memory.
 */
#include <stdlib.h>
#include <string.h>

#include "crtokend.h"

/* Parse and wipe a JSON text made by libcrtoken (it may hold a token). */
static json_t *from_text(char *text)
{
	json_t *v;

	if (text == NULL)
		return NULL;
	v = json_loads(text, 0, NULL);
	crt_strfree_secret(text);
	return v;
}

json_t *render_token(const crt_token *t, const char *token)
{
	return from_text(crt_token_json(t, token));
}

json_t *render_cert(const crt_cert *c, int with_pem)
{
	return from_text(crt_cert_json(c, with_pem));
}

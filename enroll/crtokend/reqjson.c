/*
 * reqjson.c — reading the request: the JSON body (an object, duplicate keys
 * refused, unknown keys refused so a typo never goes unnoticed), query
 * arguments, headers, and RFC 3339 times given by clients.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crtokend.h"

json_t *req_body_object(struct request *rq)
{
	json_error_t e;
	json_t *v;
	char msg[200];

	if (rq->body == NULL || rq->body_len == 0) {
		reply_error(rq, CRT_E_REQUEST_INVALID, "a JSON object body is required");
		return NULL;
	}
	v = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &e);
	if (v == NULL) {
		snprintf(msg, sizeof(msg), "malformed JSON at line %d column %d: %s", e.line,
		         e.column, e.text);
		reply_error(rq, CRT_E_REQUEST_INVALID, msg);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		reply_error(rq, CRT_E_REQUEST_INVALID, "the body must be a JSON object");
		return NULL;
	}
	return v;
}

int req_only_keys(struct request *rq, json_t *obj, const char *const *allowed)
{
	const char *key;
	json_t *val;
	char msg[160];
	size_t i;

	json_object_foreach(obj, key, val)
	{
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(key, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL) {
			snprintf(msg, sizeof(msg), "unknown field \"%.64s\"", key);
			reply_error(rq, CRT_E_REQUEST_INVALID, msg);
			return -1;
		}
	}
	return 0;
}

int req_str(struct request *rq, json_t *obj, const char *key, const char **out, int *is_null)
{
	json_t *v = json_object_get(obj, key);
	char msg[160];

	*out = NULL;
	if (is_null != NULL)
		*is_null = 0;
	if (v == NULL)
		return 0;
	if (json_is_null(v)) {
		if (is_null != NULL)
			*is_null = 1;
		return 0;
	}
	if (!json_is_string(v)) {
		snprintf(msg, sizeof(msg), "\"%.64s\" must be a string", key);
		reply_error(rq, CRT_E_REQUEST_INVALID, msg);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

const char *req_query(struct request *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(struct request *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

static int digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (**p - '0');
		(*p)++;
	}
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t days_from_civil(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int rfc3339_parse(const char *s, int64_t *t)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	const char *p = s;

	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' ||
	    digits(&p, 2, &d) || (*p != 'T' && *p != 't' && *p != ' '))
		return -1;
	p++;
	if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
	    digits(&p, 2, &sec))
		return -1;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++; /* sub-second precision is dropped */
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (digits(&p, 2, &oh) || *p++ != ':' || digits(&p, 2, &om) || oh > 23 || om > 59)
			return -1;
	} else {
		return -1;
	}
	if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    sec > 60)
		return -1;
	if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + (sec == 60 ? 59 : sec) -
	     sign * (oh * 3600 + om * 60);
	return 0;
}

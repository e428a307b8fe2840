/*
 * rules/audit.h — the audit trail's list filter, pure functions of values
 * (no ctx, no store): crt_time_parse and crt_audit_filter_parse
 * (crtoken.h) live here, and the check crt_audit_page applies to a filter
 * it is handed. Unit-tested without a database: tests/unit/test_rules_audit.c.
 */
#ifndef CRTOKEN_RULES_AUDIT_H
#define CRTOKEN_RULES_AUDIT_H

#include "crtoken.h"

/* The longest filter string (bytes). */
#define AUDIT_FILTER_MAX 256

/*
 * CRT_OK when f (NULL: no filter) is one crt_audit_filter_parse could
 * have made: each string 1-AUDIT_FILTER_MAX bytes without control
 * characters (CRT_E_FILTER_INVALID), since and until not negative and
 * since <= until when both are set (CRT_E_TIME_INVALID). *why (may be
 * NULL) a static explanation.
 */
crt_status audit_filter_check(const crt_audit_filter *f, const char **why);

#endif /* CRTOKEN_RULES_AUDIT_H */

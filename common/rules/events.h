/*
 * rules/events.h — the event rules as functions of values: which event
 * types exist, which a sink's filter takes, when a failed delivery is tried
 * again or given up, what a template may name and what it renders to, and
 * which webhook URLs are acceptable. No ctx, no store.
 */
#ifndef CRTOKEN_RULES_EVENTS_H
#define CRTOKEN_RULES_EVENTS_H

#include <stddef.h>
#include <stdint.h>

/* Every event type, NULL-terminated, in a stable order. */
extern const char *const event_types[];
/* 1 when name is an event type. */
int event_type_known(const char *name);

/*
 * A sink filter: a comma-separated list (blanks around items ignored) of
 * event types, "area.*" (every type of that area, e.g. certificate.*) or
 * "*". NULL or "" takes every type. event_filter_check: 0 when every item
 * names a type or an area that exists, else -1 with *bad (the item, in
 * buf of len bytes). event_filter_match: 1 when the filter takes type.
 */
int event_filter_check(const char *filter, char *bad, size_t len);
int event_filter_match(const char *filter, const char *type);

/*
 * Retry schedule of a delivery whose attempt number attempts (1 = the
 * first) failed at now, routed at first_at: the next try is at now +
 * min(base * 2^(attempts-1), max); when that lies beyond first_at +
 * give_up_after the delivery is given up (returns 0), else 1 with *next_at.
 */
int event_retry_at(int attempts, int64_t now, int64_t first_at, int64_t base, int64_t max,
		   int64_t give_up_after, int64_t *next_at);

/*
 * Templates (e-mail subject and body): text with {placeholder}s; "{{" is a
 * literal "{". The placeholders are event_placeholders. event_template_check:
 * 0, or -1 with the offending placeholder (or "unclosed {") in bad.
 * event_template_render: the text with each placeholder replaced by
 * lookup(name, arg) ("" when it answers NULL); for a header (one_line)
 * CR, LF and other control characters of the values become spaces.
 * malloc'd, NULL when out of memory or the template is invalid.
 */
extern const char *const event_placeholders[];
int event_template_check(const char *tmpl, char *bad, size_t len);
char *event_template_render(const char *tmpl, const char *(*lookup)(const char *name, void *arg),
			    void *arg, int one_line);

/*
 * A webhook URL is https://, or http:// to a loopback host (127.0.0.0/8,
 * [::1], localhost) — nothing else leaves the machine in the clear. No
 * user:password@ either (the signature key is the credential). 0 when
 * acceptable, else -1 with the reason in *why.
 */
int event_url_check(const char *url, const char **why);
/* 1 when url's host is loopback (same hosts as above), for any scheme. */
int event_url_loopback(const char *url);

#endif /* CRTOKEN_RULES_EVENTS_H */

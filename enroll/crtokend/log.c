/*
 * log.c — crtokend's log lines: to stderr (foreground, tests, systemd's
 * journal) or to syslog (daemon facility). Never a secret in a log line:
 * callers pass identifiers, addresses and status codes only.
 *
 * A line may carry what a client sent (the URL path, a user name), so
 * control characters and the backslash are written as \xNN: a "%0A" in a
 * URL cannot start a forged line, nor an escape sequence reach a terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "crtokend.h"

static int use_syslog;

void log_use_syslog(void)
{
	openlog("crtokend", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	use_syslog = 1;
}

static const char *level_name(int level)
{
	switch (level) {
	case LOG_ERR:
		return "error";
	case LOG_WARNING:
		return "warning";
	case LOG_NOTICE:
		return "notice";
	default:
		return "info";
	}
}

/* Copy in to out with control characters and '\\' as \xNN. */
static void escape_line(const char *in, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	unsigned char c;

	for (; (c = (unsigned char)*in) != '\0' && o + 5 <= len; in++) {
		if (c < 0x20 || c == 0x7f || c == '\\') {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void log_msg(int level, const char *fmt, ...)
{
	char raw[1024], line[4 * sizeof(raw) + 1], ts[32];
	struct tm tm;
	time_t now;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	escape_line(raw, line, sizeof(line));
	if (use_syslog) {
		syslog(level, "%s", line);
		return;
	}
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* One fprintf per line: stdio locks the stream, so lines never interleave. */
	fprintf(stderr, "%s crtokend %s: %s\n", ts, level_name(level), line);
}

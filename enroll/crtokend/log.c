/*
 * log.c — crtokend's log lines: to stderr (foreground, tests, systemd's
 * journal) or to syslog (daemon facility). Never a secret in a log line:
 * callers pass identifiers, addresses and status codes only.
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

void log_msg(int level, const char *fmt, ...)
{
	char line[1024], ts[32];
	struct tm tm;
	time_t now;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
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

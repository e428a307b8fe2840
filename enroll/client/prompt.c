/*
 * prompt.c — asking for a secret (one-time password, password, PKCS#12
 * passphrase) on the controlling terminal with echo off. Reads /dev/tty so
 * that stdin/stdout stay free for scripts.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "enroll.h"

#define ANSWER_MAX 1024

char *prompt_secret(const char *question)
{
	struct termios old, quiet;
	char buf[ANSWER_MAX], *answer = NULL;
	ssize_t n;
	size_t len = 0;
	int fd, restore = 0;
	char ch;

	if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
		return NULL;
	if (tcgetattr(fd, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		restore = tcsetattr(fd, TCSAFLUSH, &quiet) == 0;
	}
	if (write(fd, question, strlen(question)) < 0)
		goto out;
	for (;;) {
		n = read(fd, &ch, 1);
		if (n <= 0 || ch == '\n' || ch == '\r')
			break;
		if (len + 1 < sizeof(buf))
			buf[len++] = ch;
	}
	buf[len] = '\0';
	if (write(fd, "\n", 1) < 0) {
		/* nothing to do: the answer is still valid */
	}
	if (n >= 0 && (answer = malloc(len + 1)) != NULL)
		memcpy(answer, buf, len + 1);
out:
	if (restore)
		tcsetattr(fd, TCSAFLUSH, &old);
	explicit_bzero(buf, sizeof(buf));
	ch = 0;
	close(fd);
	return answer;
}

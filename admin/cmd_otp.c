/*
 * cmd_otp.c — `crtoken-admin otp`: enroll, list, show, remove, unlock and
 * verify one-time passwords (TOTP) of PAM users.
 *
 * The secret is shown exactly once, at enrollment: as an otpauth:// URI, a
 * QR code drawn in the terminal, optionally a PNG (--png FILE, written
 * 0600) and in --json output. Everything else — generation, sealing,
 * verification, replay and lockout — is libcrtoken's (common/otp.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <qrencode.h>
#include <zlib.h>

#include "admin.h"

int cmd_otp(admin_env *env, int argc, char **argv);

static const char otp_usage[] =
    "usage: crtoken-admin otp COMMAND [options]\n"
    "\n"
    "One-time passwords (TOTP) for the PAM service that gates redemption.\n"
    "\n"
    "commands:\n"
    "  enroll USER   make a secret, store it sealed, show the URI and QR code once\n"
    "  list          all enrolled users with their counters\n"
    "  show USER     one user's parameters and state (never the secret)\n"
    "  remove USER   delete the user's OTP\n"
    "  unlock USER   clear failures and lockout\n"
    "  verify USER CODE  check a code (counts like a login: replay, failures)\n"
    "\n"
    "Run `crtoken-admin otp COMMAND --help` for a command's options.\n";

static const char enroll_usage[] =
    "usage: crtoken-admin otp enroll USER [options]\n"
    "\n"
    "  --algorithm ALG  SHA1 (default from config), SHA256 or SHA512\n"
    "  --digits N       6 or 8\n"
    "  --period SECS    time step (10-300)\n"
    "  --issuer NAME    issuer shown in authenticator apps\n"
    "  --png FILE       also write the QR code as a PNG image (mode 0600)\n"
    "  --no-qr          do not draw the QR code in the terminal\n"
    "  --json           print {\"user\",\"uri\",\"secret\",\"algorithm\",\"digits\",\"period\"}\n"
    "\n"
    "The secret is shown only now; it is stored sealed and cannot be shown again.\n";

static const char list_usage[] = "usage: crtoken-admin otp list [--json]\n";
static const char show_usage[] = "usage: crtoken-admin otp show USER [--json]\n";
static const char remove_usage[] = "usage: crtoken-admin otp remove USER [--json]\n";
static const char unlock_usage[] = "usage: crtoken-admin otp unlock USER [--json]\n";
static const char verify_usage[] =
    "usage: crtoken-admin otp verify USER CODE [--json]\n"
    "\n"
    "Checks CODE against the current time like a PAM login would: a used time\n"
    "step is refused as a replay, and a wrong code counts towards the lockout.\n"
    "Exit status 0 if accepted, 1 if refused.\n";

/* ------------------------------------------------------------------ QR output */

/*
 * Draw qr in the terminal with half blocks, two modules per character cell,
 * colours set explicitly so it scans on dark and light themes alike.
 */
static void qr_print_terminal(FILE *f, const QRcode *qr)
{
	const int margin = 2, w = qr->width;

	for (int y = -margin; y < w + margin; y += 2) {
		fputs("\033[97;40m", f);
		for (int x = -margin; x < w + margin; x++) {
			/* 1 = light; outside the symbol is quiet zone */
			int top =
			    !(y >= 0 && y < w && x >= 0 && x < w && (qr->data[y * w + x] & 1));
			int bot = !(y + 1 >= 0 && y + 1 < w && x >= 0 && x < w &&
			            (qr->data[(y + 1) * w + x] & 1));
			fputs(top && bot ? "\u2588" : top ? "\u2580" : bot ? "\u2584" : " ", f);
		}
		fputs("\033[0m\n", f);
	}
}

/* Append one PNG chunk (length, type, data, CRC) to f. */
static int png_chunk(FILE *f, const char type[4], const unsigned char *data, uint32_t len)
{
	unsigned char hdr[8] = {(unsigned char)(len >> 24), (unsigned char)(len >> 16),
	                        (unsigned char)(len >> 8), (unsigned char)len};
	uLong crc;

	memcpy(hdr + 4, type, 4);
	crc = crc32(0L, hdr + 4, 4);
	if (len > 0)
		crc = crc32(crc, data, len);
	unsigned char c[4] = {(unsigned char)(crc >> 24), (unsigned char)(crc >> 16),
	                      (unsigned char)(crc >> 8), (unsigned char)crc};
	if (fwrite(hdr, 1, 8, f) != 8 || (len > 0 && fwrite(data, 1, len, f) != len) ||
	    fwrite(c, 1, 4, f) != 4)
		return -1;
	return 0;
}

/*
 * Write qr as a 1-bit greyscale PNG (scale px per module, 4-module quiet
 * zone) to path with mode 0600: it holds the secret. Written by
 * crt_file_write — a new file renamed into place, never one that already
 * exists (someone else's would receive the secret) nor through a symlink.
 * Returns 0 or -1 with the detail in err.
 */
static int qr_write_png(const QRcode *qr, const char *path, char *err, size_t errlen)
{
	static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	const int scale = 8, margin = 4;
	const uint32_t px = (uint32_t)(qr->width + 2 * margin) * scale;
	const size_t stride = 1 + (px + 7) / 8;
	unsigned char *raw = NULL, *z = NULL;
	uLongf zlen;
	FILE *f = NULL;
	char *img = NULL;
	size_t img_len = 0;
	int r = -1;

	if ((raw = calloc(px, stride)) == NULL)
		goto nomem;
	for (uint32_t y = 0; y < px; y++) {
		unsigned char *row = raw + (size_t)y * stride; /* row[0]: filter 0 */
		int my = (int)(y / scale) - margin;
		for (uint32_t x = 0; x < px; x++) {
			int mx = (int)(x / scale) - margin;
			int dark = my >= 0 && my < qr->width && mx >= 0 && mx < qr->width &&
			           (qr->data[my * qr->width + mx] & 1);
			if (!dark)
				row[1 + x / 8] |= (unsigned char)(0x80 >> (x % 8));
		}
	}
	zlen = compressBound((uLong)(px * stride));
	if ((z = malloc(zlen)) == NULL)
		goto nomem;
	if (compress2(z, &zlen, raw, (uLong)(px * stride), 9) != Z_OK) {
		snprintf(err, errlen, "compressing the image failed");
		goto out;
	}
	unsigned char ihdr[13] = {(unsigned char)(px >> 24), (unsigned char)(px >> 16),
	                          (unsigned char)(px >> 8), (unsigned char)px};
	memcpy(ihdr + 4, ihdr, 4); /* square */
	ihdr[8] = 1;               /* bit depth */
	ihdr[9] = 0;               /* greyscale */
	ihdr[10] = 0;              /* deflate */
	ihdr[11] = 0;              /* adaptive filtering */
	ihdr[12] = 0;              /* no interlace */

	if ((f = open_memstream(&img, &img_len)) == NULL)
		goto nomem;
	int bad = fwrite(sig, 1, sizeof(sig), f) != sizeof(sig) || png_chunk(f, "IHDR", ihdr, 13) ||
	          png_chunk(f, "IDAT", z, (uint32_t)zlen) || png_chunk(f, "IEND", NULL, 0);
	if (fclose(f) != 0 || bad) {
		f = NULL;
		goto nomem;
	}
	f = NULL;
	if (crt_file_write(path, img, img_len, 0600, CRT_WRITE_REPLACE, err, errlen) != CRT_OK)
		goto out;
	r = 0;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
out:
	if (f != NULL)
		fclose(f);
	crt_freezero(img, img_len);
	free(raw);
	free(z);
	return r;
}

/* ------------------------------------------------------------------ helpers */

/* Print object v (pretty), then wipe the printed text and v's string
 * values before releasing them: they hold the secret. */
static void json_print_secret(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	const char *key;
	json_t *val;

	if (s != NULL) {
		puts(s);
		explicit_bzero(s, strlen(s));
		free(s);
	}
	json_object_foreach(v, key, val)
	{
		if (json_is_string(val))
			explicit_bzero((char *)json_string_value(val), json_string_length(val));
	}
	json_decref(v);
}

static json_t *otp_info_json(const crt_otp_info *o, int64_t now)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:I, s:i, s:o, s:i, s:b, s:o}", "user", o->user,
	                 "algorithm", o->algorithm, "digits", o->digits, "period", o->period,
	                 "last_step", (json_int_t)o->last_step, "failures", o->failures,
	                 "locked_until", admin_json_time(o->locked_until), "lockouts",
	                 o->lockouts, "locked",
	                 o->locked_until > now, "created_at", admin_json_time(o->created_at));
}

/* Parse a positive int option value; -1 if malformed. */
static int parse_int(const char *s)
{
	char *end = NULL;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v <= 0 || v > 100000)
		return -1;
	return (int)v;
}

/*
 * Common option parsing for the simple subcommands: --help and --json, then
 * exactly nargs positional arguments (returned in argv[optind...]).
 * Returns -1 to continue, else the exit status.
 */
static int simple_opts(admin_env *env, const char *cmd, const char *usage, int argc, char **argv,
                       int nargs)
{
	static const struct option lopts[] = {
	    {"help", no_argument, NULL, 'h'}, {"json", no_argument, NULL, 'j'}, {0, 0, 0, 0}};
	int c;

	optind = 0; /* full getopt re-initialisation (glibc) */
	while ((c = getopt_long(argc, argv, "hj", lopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		case 'j':
			env->json = 1;
			break;
		default:
			return admin_usage_error(cmd, "unknown option");
		}
	}
	if (argc - optind != nargs)
		return admin_usage_error(cmd, "expected %d argument%s", nargs,
		                         nargs == 1 ? "" : "s");
	return -1;
}

/* ------------------------------------------------------------------ commands */

static int otp_enroll(admin_env *env, int argc, char **argv)
{
	static const struct option lopts[] = {{"help", no_argument, NULL, 'h'},
	                                      {"json", no_argument, NULL, 'j'},
	                                      {"algorithm", required_argument, NULL, 'a'},
	                                      {"digits", required_argument, NULL, 'd'},
	                                      {"period", required_argument, NULL, 'p'},
	                                      {"issuer", required_argument, NULL, 'i'},
	                                      {"png", required_argument, NULL, 'P'},
	                                      {"no-qr", no_argument, NULL, 'n'},
	                                      {0, 0, 0, 0}};
	const char *alg = NULL, *issuer = NULL, *png = NULL, *user;
	int digits = 0, period = 0, noqr = 0, c, r;
	char *uri = NULL, *secret = NULL;
	QRcode *qr = NULL;
	crt_otp_info info;
	crt_status s;
	char err[256];

	memset(&info, 0, sizeof(info));
	optind = 0; /* full getopt re-initialisation (glibc) */
	while ((c = getopt_long(argc, argv, "hja:d:p:i:P:n", lopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(enroll_usage, stdout);
			return EXIT_OK;
		case 'j':
			env->json = 1;
			break;
		case 'a':
			alg = optarg;
			break;
		case 'd':
			if ((digits = parse_int(optarg)) < 0)
				return admin_usage_error("otp enroll", "bad --digits: %s", optarg);
			break;
		case 'p':
			if ((period = parse_int(optarg)) < 0)
				return admin_usage_error("otp enroll", "bad --period: %s", optarg);
			break;
		case 'i':
			issuer = optarg;
			break;
		case 'P':
			png = optarg;
			break;
		case 'n':
			noqr = 1;
			break;
		default:
			return admin_usage_error("otp enroll", "unknown option");
		}
	}
	if (argc - optind != 1)
		return admin_usage_error("otp enroll", "expected one USER");
	user = argv[optind];
	if ((r = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return r;
	/* refuse a --png target we would not write before making the secret */
	if (png && (s = crt_file_write(png, "", 0, 0600, CRT_WRITE_REPLACE | CRT_WRITE_CHECK, err,
	                               sizeof(err))) != CRT_OK) {
		fprintf(stderr, "crtoken-admin: error: %s: %s\n", crt_status_name(s), err);
		return admin_exit_for(s);
	}
	s = crt_otp_enroll(env->ctx, user, alg, digits, period, issuer, admin_actor(), &uri,
	                   &secret);
	if (s != CRT_OK)
		return admin_fail(env, s);
	if ((s = crt_otp_get(env->ctx, user, &info)) != CRT_OK) {
		r = admin_fail(env, s);
		goto out;
	}
	if ((png || (!env->json && !noqr && isatty(STDOUT_FILENO))) &&
	    (qr = QRcode_encodeString(uri, 0, QR_ECLEVEL_M, QR_MODE_8, 1)) == NULL) {
		fprintf(stderr, "crtoken-admin: error: cannot make the QR code\n");
		r = EXIT_SYSTEM;
		goto out;
	}
	if (png && qr_write_png(qr, png, err, sizeof(err)) != 0) {
		/* enrolled already; say so, the URI below still works */
		fprintf(stderr, "crtoken-admin: error: PNG not written: %s\n", err);
		r = EXIT_SYSTEM;
	} else {
		r = EXIT_OK;
	}
	if (env->json) {
		json_print_secret(json_pack("{s:s, s:s, s:s, s:s, s:i, s:i}", "user", user, "uri",
		                            uri, "secret", secret, "algorithm", info.algorithm,
		                            "digits", info.digits, "period", info.period));
		goto out;
	}
	printf("enrolled %s (%s, %d digits, %d s)\n", user, info.algorithm, info.digits,
	       info.period);
	printf("secret: %s\n", secret);
	printf("uri:    %s\n", uri);
	if (qr != NULL && !noqr && isatty(STDOUT_FILENO))
		qr_print_terminal(stdout, qr);
	if (png && r == EXIT_OK)
		printf("QR code written to %s\n", png);
	printf("The secret is shown only now; scan it into an authenticator app.\n");
out:
	QRcode_free(qr);
	crt_strfree_secret(uri);
	crt_strfree_secret(secret);
	crt_otp_info_clear(&info);
	return r;
}

static int otp_list(admin_env *env, int argc, char **argv)
{
	crt_otp_info *list = NULL;
	size_t n = 0;
	int64_t now = crt_now();
	crt_status s;
	int r;

	if ((r = simple_opts(env, "otp list", list_usage, argc, argv, 0)) >= 0)
		return r;
	if ((r = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return r;
	if ((s = crt_otp_list(env->ctx, &list, &n)) != CRT_OK)
		return admin_fail(env, s);
	if (env->json) {
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(a, otp_info_json(&list[i], now));
		admin_json_print(a);
	} else {
		printf("%-24s %-7s %6s %6s %8s  %s\n", "USER", "ALG", "DIGITS", "PERIOD",
		       "FAILURES", "STATE");
		for (size_t i = 0; i < n; i++) {
			const crt_otp_info *o = &list[i];
			char t[32] = "";
			if (o->locked_until > now)
				crt_time_rfc3339(o->locked_until, t, sizeof(t));
			printf("%-24s %-7s %6d %6d %8d  %s%s\n", o->user, o->algorithm, o->digits,
			       o->period, o->failures, t[0] ? "locked until " : "active", t);
		}
	}
	crt_otp_list_free(list, n);
	return EXIT_OK;
}

static int otp_show(admin_env *env, int argc, char **argv)
{
	crt_otp_info o;
	int64_t now = crt_now();
	char t[32];
	crt_status s;
	int r;

	if ((r = simple_opts(env, "otp show", show_usage, argc, argv, 1)) >= 0)
		return r;
	if ((r = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return r;
	if ((s = crt_otp_get(env->ctx, argv[optind], &o)) != CRT_OK)
		return admin_fail(env, s);
	if (env->json) {
		admin_json_print(otp_info_json(&o, now));
	} else {
		printf("user:         %s\n", o.user);
		printf("algorithm:    %s\n", o.algorithm);
		printf("digits:       %d\n", o.digits);
		printf("period:       %d\n", o.period);
		crt_time_rfc3339(o.created_at, t, sizeof(t));
		printf("created:      %s\n", t);
		if (o.last_step >= 0) {
			crt_time_rfc3339(o.last_step * o.period, t, sizeof(t));
			printf("last used:    %s (time step %lld)\n", t, (long long)o.last_step);
		} else {
			printf("last used:    never\n");
		}
		printf("failures:     %d\n", o.failures);
		if (o.locked_until > now) {
			crt_time_rfc3339(o.locked_until, t, sizeof(t));
			printf("locked until: %s\n", t);
		}
	}
	crt_otp_info_clear(&o);
	return EXIT_OK;
}

/* remove / unlock: one user, one state change. */
static int otp_change(admin_env *env, int argc, char **argv, int unlock)
{
	const char *user;
	crt_status s;
	int r;

	if ((r = simple_opts(env, unlock ? "otp unlock" : "otp remove",
	                     unlock ? unlock_usage : remove_usage, argc, argv, 1)) >= 0)
		return r;
	user = argv[optind];
	if ((r = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return r;
	s = unlock ? crt_otp_unlock(env->ctx, user, admin_actor())
	           : crt_otp_remove(env->ctx, user, admin_actor());
	if (s != CRT_OK)
		return admin_fail(env, s);
	if (env->json)
		admin_json_print(json_pack("{s:s, s:s}", "user", user, "result",
		                           unlock ? "unlocked" : "removed"));
	else
		printf("%s %s\n", unlock ? "unlocked" : "removed OTP of", user);
	return EXIT_OK;
}

static int otp_verify(admin_env *env, int argc, char **argv)
{
	const char *user, *code;
	int offset = 0, r;
	crt_status s;

	if ((r = simple_opts(env, "otp verify", verify_usage, argc, argv, 2)) >= 0)
		return r;
	user = argv[optind];
	code = argv[optind + 1];
	if ((r = admin_open(env, CRT_OPEN_NO_CA)) != EXIT_OK)
		return r;
	s = crt_otp_verify(env->ctx, user, code, crt_now(), "crtoken-admin", NULL, &offset);
	if (s != CRT_OK)
		return admin_fail(env, s);
	if (env->json)
		admin_json_print(
		    json_pack("{s:s, s:s, s:i}", "user", user, "result", "ok", "offset", offset));
	else
		printf("ok: code accepted for %s (time step offset %d)\n", user, offset);
	return EXIT_OK;
}

int cmd_otp(admin_env *env, int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (sub == NULL)
		return admin_usage_error("otp", "a command is required");
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
		fputs(otp_usage, stdout);
		return EXIT_OK;
	}
	/* subcommands see argv[0] = their own name */
	argc--;
	argv++;
	if (strcmp(sub, "enroll") == 0)
		return otp_enroll(env, argc, argv);
	if (strcmp(sub, "list") == 0)
		return otp_list(env, argc, argv);
	if (strcmp(sub, "show") == 0)
		return otp_show(env, argc, argv);
	if (strcmp(sub, "remove") == 0)
		return otp_change(env, argc, argv, 0);
	if (strcmp(sub, "unlock") == 0)
		return otp_change(env, argc, argv, 1);
	if (strcmp(sub, "verify") == 0)
		return otp_verify(env, argc, argv);
	return admin_usage_error("otp", "unknown command: %s", sub);
}

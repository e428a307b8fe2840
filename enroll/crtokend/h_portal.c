/*
 * h_portal.c — the self-service enrollment page ([portal] enabled):
 *   GET /enroll              the page (enroll/web/index.html)
 *   GET /enroll/app.js       its script (plain JavaScript, no library)
 *   GET /enroll/app.css      its style sheet
 *   GET /enroll/portal.json  the [portal] texts and whether a login is needed
 * The files are embedded at build time (portal_assets.S); nothing is read
 * from disk and nothing comes from elsewhere. The page talks to the REST API
 * (redemption, /network-profiles) like any other client; it holds no state on
 * the server and needs no cookie. Every response carries a Content-Security-
 * Policy that allows only this origin's script, style and fetches, and no
 * inline script or style, so even an escaping mistake in the page cannot run
 * injected script. The [portal] texts go out as JSON only; the page puts
 * them in with textContent, never as HTML.
 * With [portal] enabled = no, every route here is 404 not_found.
 */
#include <string.h>

#include "crtokend.h"

extern const char portal_index_html[], portal_index_html_end[];
extern const char portal_app_js[], portal_app_js_end[];
extern const char portal_app_css[], portal_app_css_end[];

#define PORTAL_CSP                                                                                 \
	"default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "            \
	"img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"

/* The headers every portal response carries (respond.c adds no-store and nosniff). */
static void portal_headers(struct request *rq)
{
	reply_header(rq, "Content-Security-Policy", PORTAL_CSP);
	reply_header(rq, "Referrer-Policy", "no-referrer");
	reply_header(rq, "X-Frame-Options", "DENY");
	reply_header(rq, "Cross-Origin-Opener-Policy", "same-origin");
	reply_header(rq, "Cross-Origin-Resource-Policy", "same-origin");
}

/* 0 when the portal is on; else replies 404 and returns -1. */
static int portal_on(struct request *rq)
{
	if (rq->cfg->portal_enabled)
		return 0;
	reply_error(rq, CRT_E_NOT_FOUND, "the enrollment page is disabled ([portal] enabled = no)");
	return -1;
}

static void asset(struct request *rq, const char *type, const char *start, const char *end)
{
	if (portal_on(rq) != 0)
		return;
	reply_data(rq, 200, type, start, (size_t)(end - start));
	portal_headers(rq);
}

void h_portal_page(struct request *rq)
{
	asset(rq, "text/html; charset=utf-8", portal_index_html, portal_index_html_end);
}

void h_portal_js(struct request *rq)
{
	asset(rq, "text/javascript; charset=utf-8", portal_app_js, portal_app_js_end);
}

void h_portal_css(struct request *rq)
{
	asset(rq, "text/css; charset=utf-8", portal_app_css, portal_app_css_end);
}

void h_portal_settings(struct request *rq)
{
	const crt_config *cfg = rq->cfg;

	if (portal_on(rq) != 0)
		return;
	reply_json(rq, 200,
	           json_pack("{s:s, s:s?, s:s?, s:b}", "title", cfg->portal_title, "organization",
	                     cfg->portal_organization, "help", cfg->portal_help, "loginRequired",
	                     cfg->require_login));
	portal_headers(rq);
}

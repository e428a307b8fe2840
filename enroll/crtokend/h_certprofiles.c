/*
 * h_certprofiles.c — the certificate profiles of the configuration, for
 * admins (Bearer API key):
 *   GET /profiles         every profile, resolved (crt_cert_profile_json)
 *   GET /profiles/{name}  one (404 profile_unknown)
 * Not to be confused with /network-profiles (onboarding files, h_profiles.c).
 */
#include "crtokend.h"

void h_cert_profile_list(struct request *rq)
{
	json_t *a = json_array();

	for (size_t i = 0; a != NULL && i < rq->cfg->nprofiles; i++) {
		json_t *o = crt_cert_profile_json(&rq->cfg->profiles[i]);
		if (o == NULL || json_array_append_new(a, o) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	reply_json(rq, 200, a);
}

void h_cert_profile_get(struct request *rq)
{
	const crt_cert_profile *p = crt_cert_profile_find(rq->cfg, rq->param);

	if (p == NULL) {
		reply_error(rq, CRT_E_PROFILE_UNKNOWN, NULL);
		return;
	}
	reply_json(rq, 200, crt_cert_profile_json(p));
}

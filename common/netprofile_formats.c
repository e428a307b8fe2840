/*
 * netprofile_formats.c — the network profile formats crtoken renders
 * (netprofile.c): name, title, file name suffix, content type, and the
 * PKCS#12 form each target imports. A table of values, no store: part of
 * libcrtoken-client (crtoken-enroll looks a format up before asking for it).
 */
#include <string.h>

#include "internal.h"

static const crt_profile_format formats[] = {
    {"wpa_supplicant", "Linux — wpa_supplicant network block", "-wpa_supplicant.conf",
     "text/plain; charset=utf-8", 0, CRT_P12_MODERN},
    {"networkmanager", "Linux — NetworkManager connection (keyfile)", ".nmconnection",
     "text/plain; charset=utf-8", 0, CRT_P12_MODERN},
    {"nmcli", "Linux — nmcli command", "-nmcli.sh", "text/x-shellscript; charset=utf-8", 0,
     CRT_P12_MODERN},
    {"windows", "Windows — WLAN/LAN profile (XML)", ".xml", "application/xml", 0, CRT_P12_LEGACY},
    {"netsh", "Windows — certutil + netsh commands", "-install.cmd", "text/plain; charset=utf-8",
     0, CRT_P12_LEGACY},
    {"mobileconfig", "Apple iOS / iPadOS / macOS — configuration profile", ".mobileconfig",
     "application/x-apple-aspen-config", 1, CRT_P12_LEGACY},
    {"eap-config", "geteduroam app (Android, iOS, Windows) — eap-config", ".eap-config",
     "application/eap-config", 1, CRT_P12_LEGACY},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const crt_profile_format *crt_profile_formats(size_t *n)
{
	if (n != NULL)
		*n = NFORMATS;
	return formats;
}

const crt_profile_format *crt_profile_format_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < NFORMATS; i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

/*
 * app.js — the self-service enrollment page (/enroll), plain JavaScript, no
 * library. It is a client of crtokend's REST API like crtoken-enroll:
 *   1. the token's format and checksum are checked here (the rule of
 *      crt_token_check_format in common/token.c), so a typo is reported
 *      before anything is sent;
 *   2. user name + one-time code (+ password) go as HTTP Basic credentials
 *      of the preview (POST /certificate-request-tokens/preview), which
 *      shows what the certificate will contain before anything is issued,
 *      and of the redemption (POST /client-certificates/token/{token}) with
 *      the next code (a code works once), the password part
 *      "password\nOTP" when a password is given (pamgate.c);
 *   3. the key is made either here (WebCrypto ECDSA P-256, a PKCS#10 CSR
 *      built here, the PKCS#12 assembled here: PBES2 / PBKDF2-HMAC-SHA-256 /
 *      AES-256-CBC with an HMAC-SHA-256 MAC) or by the server (GENERATE);
 *   4. the network profiles come from POST /network-profiles/{format};
 *   5. a token that needs an administrator's approval answers the
 *      redemption with 202 and a request id + poll secret: the page waits,
 *      polling GET /certificate-requests/{id} with "Authorization: Bearer
 *      <pollSecret>" (h_requests.c) with backoff, and builds the same files
 *      when it is issued (the browser-made key stayed in this page's memory
 *      meanwhile); a denial or expiry is shown with its reason; "Cancel this
 *      request" withdraws it (POST /certificate-requests/{id}/cancel with the
 *      poll secret) — after a reload, when the key is gone, the page asks
 *      for that first, so that no certificate is issued for a lost key;
 *   6. "My certificates": GET /me after a sign-in (the certificates and the
 *      certificate requests with one code), with the kept PKCS#12 (GET
 *      /me/certificates/{serial}/pkcs12) and a revocation (POST
 *      /me/certificates/{serial}/revoke) per certificate, and a cancel (POST
 *      /certificate-requests/{id}/cancel with the login) per pending request.
 * Everything from the server or the config is put into the page with
 * textContent (never as HTML). The page keeps no cookie. The private key
 * and the passphrases never leave this page's memory; only while a request
 * waits for approval does sessionStorage (this tab only, gone when it is
 * closed) keep the request id and its poll secret — which fetch the
 * certificate, never a key — so a reload still shows the decision.
 */
'use strict';

/* ------------------------------------------------------------ bytes */

const enc = new TextEncoder();

function cat(...parts) {
	let n = 0;
	for (const p of parts) n += p.length;
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64(bytes, url) {
	const tbl = url ? B64.slice(0, 62) + '-_' : B64;
	let s = '';
	let i = 0;
	for (; i + 2 < bytes.length; i += 3) {
		const v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
		s += tbl[(v >> 18) & 63] + tbl[(v >> 12) & 63] + tbl[(v >> 6) & 63] + tbl[v & 63];
	}
	const rest = bytes.length - i;
	if (rest === 1) {
		const v = bytes[i] << 16;
		s += tbl[(v >> 18) & 63] + tbl[(v >> 12) & 63] + (url ? '' : '==');
	} else if (rest === 2) {
		const v = (bytes[i] << 16) | (bytes[i + 1] << 8);
		s += tbl[(v >> 18) & 63] + tbl[(v >> 12) & 63] + tbl[(v >> 6) & 63] + (url ? '' : '=');
	}
	return s;
}

function unbase64(s) {
	s = s.replace(/[\s=]/g, '');
	const out = new Uint8Array(Math.floor((s.length * 3) / 4));
	let bits = 0;
	let acc = 0;
	let o = 0;
	for (const c of s) {
		const v = B64.indexOf(c);
		if (v < 0) throw new Error('not base64');
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (acc >> bits) & 255;
		}
	}
	return out.slice(0, o);
}

/* ------------------------------------------------------------ the token rule */

/* CRC-32 (IEEE, reflected), as common/token.c. */
function crc32(bytes) {
	let c = 0xffffffff;
	for (const b of bytes) {
		c ^= b;
		for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
	}
	return (c ^ 0xffffffff) >>> 0;
}

const TOKEN_PREFIX = 'crt_';
const TOKEN_LEN = 53; /* "crt_" + 43 body + 6 checksum */

/*
 * crt_token_check_format: 'ok', 'token_malformed' (not a crtoken token at
 * all) or 'token_mistyped' (wrong length, a character outside base64url, or
 * the checksum does not match: a changed character or two swapped
 * neighbours always changes the CRC-32).
 */
function tokenCheck(token) {
	if (typeof token !== 'string' || !token.startsWith(TOKEN_PREFIX)) return 'token_malformed';
	if (token.length !== TOKEN_LEN) return 'token_mistyped';
	if (!/^[A-Za-z0-9_-]*$/.test(token.slice(4))) return 'token_mistyped';
	const c = crc32(enc.encode(token.slice(0, 47)));
	const sum = base64(new Uint8Array([c >>> 24, (c >>> 16) & 255, (c >>> 8) & 255, c & 255]), true);
	return sum === token.slice(47) ? 'ok' : 'token_mistyped';
}

/* ------------------------------------------------------------ DER */

function derLen(n) {
	if (n < 128) return [n];
	const b = [];
	for (; n > 0; n = Math.floor(n / 256)) b.unshift(n & 255);
	return [0x80 | b.length, ...b];
}
function tlv(tag, ...parts) {
	const body = cat(...parts);
	return cat(new Uint8Array([tag, ...derLen(body.length)]), body);
}
const SEQ = (...p) => tlv(0x30, ...p);
/* SET OF in DER order (encodings sorted). */
function SET(...p) {
	p.sort((a, b) => {
		for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
		return a.length - b.length;
	});
	return tlv(0x31, ...p);
}
const CTX = (n, ...p) => tlv(0xa0 | n, ...p); /* [n] EXPLICIT / constructed */
const OCTETS = (b) => tlv(0x04, b);
const BITS = (b) => tlv(0x03, new Uint8Array([0]), b);
const NULL = new Uint8Array([0x05, 0x00]);
const UTF8 = (s) => tlv(0x0c, enc.encode(s));
function OID(dotted) {
	const a = dotted.split('.').map(Number);
	const out = [40 * a[0] + a[1]];
	for (const v0 of a.slice(2)) {
		let v = v0;
		const t = [v & 127];
		for (v = Math.floor(v / 128); v > 0; v = Math.floor(v / 128)) t.unshift(0x80 | (v & 127));
		out.push(...t);
	}
	return tlv(0x06, new Uint8Array(out));
}
/* INTEGER from a non-negative number or unsigned big-endian bytes. */
function INT(x) {
	let b;
	if (typeof x === 'number') {
		const t = [];
		for (; x > 0; x = Math.floor(x / 256)) t.unshift(x & 255);
		b = new Uint8Array(t);
	} else {
		b = x;
	}
	let i = 0;
	while (i < b.length - 1 && b[i] === 0) i++;
	b = b.slice(i);
	if (b.length === 0) b = new Uint8Array([0]);
	if (b[0] & 0x80) b = cat(new Uint8Array([0]), b);
	return tlv(0x02, b);
}
/* BMPString: UTF-16BE code units. */
function utf16be(s) {
	const out = new Uint8Array(2 * s.length);
	for (let i = 0; i < s.length; i++) {
		out[2 * i] = s.charCodeAt(i) >> 8;
		out[2 * i + 1] = s.charCodeAt(i) & 255;
	}
	return out;
}

const O = {
	cn: '2.5.4.3',
	ecdsaSha256: '1.2.840.10045.4.3.2',
	data: '1.2.840.113549.1.7.1',
	pbes2: '1.2.840.113549.1.5.13',
	pbkdf2: '1.2.840.113549.1.5.12',
	hmacSha256: '1.2.840.113549.2.9',
	aes256cbc: '2.16.840.1.101.3.4.1.42',
	sha256: '2.16.840.1.101.3.4.2.1',
	keyBag: '1.2.840.113549.1.12.10.1.2', /* pkcs8ShroudedKeyBag */
	certBag: '1.2.840.113549.1.12.10.1.3',
	x509: '1.2.840.113549.1.9.22.1',
	friendlyName: '1.2.840.113549.1.9.20',
	localKeyId: '1.2.840.113549.1.9.21',
};

function pem(label, der) {
	const b = base64(der).replace(/.{64}/g, '$&\n').replace(/\n$/, '');
	return `-----BEGIN ${label}-----\n${b}\n-----END ${label}-----\n`;
}
/* Every CERTIFICATE block of a PEM text, DER. */
function pemCerts(text) {
	const out = [];
	const re = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g;
	for (let m = re.exec(text || ''); m !== null; m = re.exec(text)) out.push(unbase64(m[1]));
	return out;
}

/* ------------------------------------------------------------ CSR, PKCS#12 */

const subtle = () => {
	if (!window.crypto || !window.crypto.subtle)
		throw new PageError('no_webcrypto', 'This browser offers no WebCrypto here (the page must be opened over HTTPS). Choose "By the server" instead.');
	return window.crypto.subtle;
};
const random = (n) => window.crypto.getRandomValues(new Uint8Array(n));

/* A PKCS#10 request for keyPair, signed with ECDSA-SHA-256. Its subject is
 * a placeholder: the server takes the subject from the token. */
async function makeCsr(keyPair) {
	const spki = new Uint8Array(await subtle().exportKey('spki', keyPair.publicKey));
	const name = SEQ(SET(SEQ(OID(O.cn), UTF8('crtoken browser key'))));
	const info = SEQ(INT(0), name, spki, CTX(0));
	const raw = new Uint8Array(
		await subtle().sign({ name: 'ECDSA', hash: 'SHA-256' }, keyPair.privateKey, info));
	const sig = SEQ(INT(raw.slice(0, 32)), INT(raw.slice(32)));
	return SEQ(info, SEQ(OID(O.ecdsaSha256)), BITS(sig));
}

function repeatTo(b, n) {
	const out = new Uint8Array(n);
	for (let i = 0; i < n; i++) out[i] = b[i % b.length];
	return out;
}

/* The PKCS#12 key derivation (RFC 7292 appendix B) with SHA-256 (u 32, v 64). */
async function pkcs12Kdf(pass, salt, id, iterations, n) {
	const v = 64;
	const p0 = cat(utf16be(pass), new Uint8Array(2));
	const D = new Uint8Array(v).fill(id);
	const I = cat(repeatTo(salt, v * Math.ceil(salt.length / v)),
		repeatTo(p0, v * Math.ceil(p0.length / v)));
	let out = new Uint8Array(0);
	for (;;) {
		let A = new Uint8Array(await subtle().digest('SHA-256', cat(D, I)));
		for (let i = 1; i < iterations; i++) A = new Uint8Array(await subtle().digest('SHA-256', A));
		out = cat(out, A);
		if (out.length >= n) break;
		const B = repeatTo(A, v);
		for (let j = 0; j < I.length; j += v) {
			let c = 1;
			for (let k = v - 1; k >= 0; k--) {
				c += I[j + k] + B[k];
				I[j + k] = c & 255;
				c >>= 8;
			}
		}
	}
	p0.fill(0);
	I.fill(0);
	return out.slice(0, n);
}

const PBKDF2_ITERATIONS = 210000;
const MAC_ITERATIONS = 2048;

/*
 * The PKCS#12 (RFC 7292) holding the PKCS#8 key pkcs8 (shrouded: PBES2 with
 * PBKDF2-HMAC-SHA-256 and AES-256-CBC), the certificate and its chain
 * (certs[0] first), with an HMAC-SHA-256 MAC — the form OpenSSL 3 writes by
 * default. friendly names the key and certificate.
 */
async function makePkcs12(pkcs8, certs, pass, friendly) {
	const s = subtle();
	const salt = random(16);
	const iv = random(16);
	const base = await s.importKey('raw', enc.encode(pass), 'PBKDF2', false, ['deriveKey']);
	const aes = await s.deriveKey({ name: 'PBKDF2', salt, iterations: PBKDF2_ITERATIONS, hash: 'SHA-256' },
		base, { name: 'AES-CBC', length: 256 }, false, ['encrypt']);
	const sealed = new Uint8Array(await s.encrypt({ name: 'AES-CBC', iv }, aes, pkcs8));
	const pbes2 = SEQ(OID(O.pbes2), SEQ(
		SEQ(OID(O.pbkdf2), SEQ(OCTETS(salt), INT(PBKDF2_ITERATIONS), INT(32), SEQ(OID(O.hmacSha256), NULL))),
		SEQ(OID(O.aes256cbc), OCTETS(iv))));
	const keyId = new Uint8Array(await s.digest('SHA-1', certs[0]));
	const attrs = SET(SEQ(OID(O.friendlyName), SET(tlv(0x1e, utf16be(friendly)))),
		SEQ(OID(O.localKeyId), SET(OCTETS(keyId))));
	const keyBag = SEQ(OID(O.keyBag), CTX(0, SEQ(pbes2, OCTETS(sealed))), attrs);
	const certBags = certs.map((der, i) =>
		SEQ(OID(O.certBag), CTX(0, SEQ(OID(O.x509), CTX(0, OCTETS(der)))), ...(i === 0 ? [attrs] : [])));
	const authSafe = SEQ(
		SEQ(OID(O.data), CTX(0, OCTETS(SEQ(...certBags)))),
		SEQ(OID(O.data), CTX(0, OCTETS(SEQ(keyBag)))));
	const macSalt = random(16);
	const macKey = await pkcs12Kdf(pass, macSalt, 3, MAC_ITERATIONS, 32);
	const hk = await s.importKey('raw', macKey, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
	macKey.fill(0);
	const mac = new Uint8Array(await s.sign('HMAC', hk, authSafe));
	return SEQ(INT(3), SEQ(OID(O.data), CTX(0, OCTETS(authSafe))),
		SEQ(SEQ(SEQ(OID(O.sha256), NULL), OCTETS(mac)), OCTETS(macSalt), INT(MAC_ITERATIONS)));
}

/* ------------------------------------------------------------ messages */

class PageError extends Error {
	constructor(code, message, detail, retryAfter) {
		super(message);
		this.code = code;
		this.detail = detail;
		this.retryAfter = retryAfter;
	}
}

/* A human message for every machine code the page can meet. */
const MESSAGES = {
	token_malformed: 'This is not a certificate request token: tokens start with "crt_". Copy the whole token from the message you received.',
	token_mistyped: 'This token has a typing mistake: its checksum does not match. Copy it again, or compare it character by character (53 characters, starting with "crt_").',
	token_unknown: 'This token is not known here. It may belong to another service, or it was removed. Ask your administrator for a new one.',
	token_deleted: 'This token was withdrawn by your administrator. Ask for a new one.',
	token_used: 'This token has already been used to get a certificate. Each token works once: if that was not you, tell your administrator.',
	token_expired: 'This token has expired. Ask your administrator for a new one.',
	token_owner_mismatch: 'This token was issued to another person. Sign in with the user name it was issued to.',
	authentication_required: 'Please sign in with your user name and one-time code.',
	authentication_failed: 'Sign-in failed: the user name, the one-time code or the password was not accepted. Wait for the next code in your authenticator app and try again.',
	otp_bad_code: 'The one-time code was not accepted. Wait for the next code and try again.',
	otp_replayed: 'That one-time code was already used. Wait for the next code.',
	otp_locked: 'Too many wrong one-time codes: signing in as this user is locked for a while. Try again later, or ask your administrator to unlock it.',
	otp_not_enrolled: 'No authenticator app is set up for this user. Ask your administrator.',
	rate_limited: 'Too many failed attempts from this network. Please wait and try again.',
	store_busy: 'The service is busy right now. Try again in a few seconds.',
	store_unavailable: 'The service cannot reach its data right now. Try again later.',
	store_commit_unknown: 'The service lost its connection while saving. Your token may have been used: try again, and if it says the token is used, ask your administrator.',
	field_invalid: 'The certificate name is not valid. Ask your administrator.',
	field_locked: 'Your administrator fixed the certificate name for this token.',
	csr_malformed: 'The server could not read the certificate request this browser made. Try "By the server" instead.',
	csr_bad_signature: 'The certificate request this browser made has a bad signature. Try again or choose "By the server".',
	csr_weak_key: 'The server refused this key as too weak. Choose "By the server".',
	csr_unsupported_key: 'The server does not accept this kind of key. Choose "By the server".',
	csr_weak_digest: 'The server refused the request\'s signature algorithm. Choose "By the server".',
	csr_too_large: 'The certificate request is too large.',
	key_type_invalid: 'The server cannot make that kind of key.',
	ca_missing: 'The service has no certificate authority set up yet. Tell your administrator.',
	ca_expired: 'The service\'s certificate authority has expired. Tell your administrator.',
	cert_not_found: 'The certificate is not known to this service.',
	profile_format_unknown: 'This service does not offer that profile format.',
	network_not_configured: 'The network settings are not configured on the server yet. Tell your administrator; the certificate itself is fine.',
	invalid_argument: 'The server could not make this profile.',
	request_invalid: 'The server did not understand the request.',
	request_too_large: 'The request was too large for the server.',
	not_found: 'The server does not offer this.',
	internal_error: 'The server met an internal error. Try again later.',
	out_of_memory: 'The server is out of memory. Try again later.',
	network_error: 'The service cannot be reached. Check your connection and try again.',
	no_webcrypto: 'This browser cannot make keys here. Choose "By the server" instead.',
	passphrase_short: 'Choose a passphrase of at least 8 characters.',
	passphrase_mismatch: 'The two passphrases are not the same.',
	user_required: 'Enter your user name.',
	otp_required: 'Enter the one-time code from your authenticator app.',
	approval_required: 'This token needs an administrator\'s approval, which works only with a key made in this browser: choose "In this browser".',
	request_denied: 'An administrator denied this certificate request. Ask your administrator why, or for a new token.',
	request_expired: 'Nobody approved this certificate request before it expired. Ask your administrator for a new token.',
	request_cancelled: 'This certificate request was cancelled: no certificate will be issued for it. For a certificate, ask your administrator for a new token.',
	request_state: 'This certificate request is no longer waiting for a decision.',
	request_unknown: 'This certificate request is not known to the service (any more).',
	request_key_lost: 'The request was approved, but this page was reloaded while it waited: the key made in this browser was lost with it, so the certificate cannot be used. Revoke it under "My certificates" and ask your administrator for a new token.',
	pkcs12_not_kept: 'The service keeps no PKCS#12 file for this certificate.',
	cert_revoked: 'This certificate is already revoked.',
	revocation_reason_invalid: 'Choose why the certificate is revoked.',
};
/* Codes the page itself gives (nothing was sent). */
const LOCAL_CODES = new Set(['token_malformed', 'token_mistyped', 'no_webcrypto', 'passphrase_short',
	'passphrase_mismatch', 'user_required', 'otp_required', 'network_error', 'request_denied',
	'request_expired', 'request_key_lost', 'request_cancelled']);
function messageFor(code, serverMessage) {
	if (MESSAGES[code]) return MESSAGES[code];
	return serverMessage ? `The server refused: ${serverMessage}` : 'Something went wrong. Try again later.';
}

/* ------------------------------------------------------------ API */

async function api(method, path, body, auth) {
	const headers = { Accept: 'application/json' };
	if (body !== undefined) headers['Content-Type'] = 'application/json';
	if (auth) headers.Authorization = auth;
	let r;
	try {
		/* credentials 'omit': no cookie, no browser login dialog on 401. */
		r = await fetch(path, {
			method, headers, body: body === undefined ? undefined : JSON.stringify(body),
			credentials: 'omit', cache: 'no-store', redirect: 'error',
		});
	} catch (e) {
		throw new PageError('network_error', messageFor('network_error'));
	}
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (!r.ok) {
		const err = (data && data.error) || {};
		const code = err.code || 'internal_error';
		throw new PageError(code, messageFor(code, err.message), err.detail,
			r.headers.get('Retry-After'));
	}
	return data;
}

/* A GET whose answer is a file (the kept PKCS#12): its bytes; a refusal
 * as api(). */
async function apiBytes(path, auth) {
	let r;
	try {
		r = await fetch(path, {
			method: 'GET', headers: { Accept: 'application/x-pkcs12, application/json', Authorization: auth },
			credentials: 'omit', cache: 'no-store', redirect: 'error',
		});
	} catch (e) {
		throw new PageError('network_error', messageFor('network_error'));
	}
	if (!r.ok) {
		let data = null;
		try {
			data = await r.json();
		} catch (e) {
			data = null;
		}
		const err = (data && data.error) || {};
		const code = err.code || 'internal_error';
		throw new PageError(code, messageFor(code, err.message), err.detail,
			r.headers.get('Retry-After'));
	}
	return new Uint8Array(await r.arrayBuffer());
}

function basicAuth(user, secret) {
	return 'Basic ' + base64(enc.encode(`${user}:${secret}`));
}

/* ------------------------------------------------------------ page */

const $ = (id) => document.getElementById(id);
const state = { settings: null, profiles: null, token: null, cert: null, p12: null, pass: null, form: 'modern', wait: null };

function showError(err) {
	const box = $('error');
	box.textContent = '';
	const strong = document.createElement('strong');
	strong.textContent = err.message;
	box.appendChild(strong);
	const code = document.createElement('span');
	code.className = 'hint';
	let extra = `Error code: ${err.code}`;
	if (err.retryAfter) extra += ` — try again in ${duration(err.retryAfter)}`;
	if (err.detail) extra += ` (${err.detail})`;
	code.textContent = extra;
	box.appendChild(code);
	box.dataset.code = err.code;
	box.hidden = false;
	box.focus();
}
/* Retry-After seconds in words. */
function duration(sec) {
	const n = Number(sec);
	if (!Number.isFinite(n) || n < 0) return `${sec} s`;
	if (n < 90) return `${n} seconds`;
	const min = Math.ceil(n / 60);
	return min < 90 ? `about ${min} minutes` : `about ${Math.ceil(min / 60)} hours`;
}
function clearError() {
	$('error').hidden = true;
	$('error').textContent = '';
	delete $('error').dataset.code;
	for (const el of document.querySelectorAll('[aria-invalid]')) {
		el.removeAttribute('aria-invalid');
		el.removeAttribute('aria-errormessage');
	}
}
function setStatus(text) {
	$('status').textContent = text;
}
/* Mark field id invalid, its message the error box (aria-errormessage). */
function markInvalid(id) {
	$(id).setAttribute('aria-invalid', 'true');
	$(id).setAttribute('aria-errormessage', 'error');
}
function invalid(id, code) {
	markInvalid(id);
	showError(new PageError(code, messageFor(code)));
	$(id).focus();
}
const SECTIONS = ['s-token', 's-login', 's-choose', 's-done'];
/* Sections outside the four steps: the wait for an approval (in the place of
 * step 4) and "My certificates" (no step). */
const OTHER = { wait: ['s-wait', 4], mine: ['s-mine', 0] };
function step(n) {
	const other = OTHER[n];
	const section = other ? other[0] : SECTIONS[n - 1];
	const at = other ? other[1] : n;
	for (const id of SECTIONS.concat(Object.values(OTHER).map((o) => o[0]))) $(id).hidden = id !== section;
	document.querySelector('.steps').hidden = at === 0;
	for (let i = 1; i <= SECTIONS.length; i++) {
		const li = $(`step-${i}`);
		if (i === at) li.setAttribute('aria-current', 'step');
		else li.removeAttribute('aria-current');
		li.classList.toggle('done', i < at);
		/* "done" is a colour on screen: say it to screen readers too */
		let sr = li.querySelector('.sr-only');
		if (i < at && !sr) {
			sr = document.createElement('span');
			sr.className = 'sr-only';
			sr.textContent = ' (done)';
			li.appendChild(sr);
		} else if (i >= at && sr) {
			sr.remove();
		}
	}
	document.body.dataset.step = String(n);
}
function addRow(dl, label, value) {
	if (value === null || value === undefined || value === '') return;
	const dt = document.createElement('dt');
	dt.textContent = label;
	const dd = document.createElement('dd');
	dd.textContent = value;
	dl.append(dt, dd);
}
function when(iso) {
	const d = new Date(iso);
	return isNaN(d) ? iso : `${d.toLocaleString()} (${iso})`;
}
function networkText(p) {
	if (!p || !p.configured) return null;
	return p.type === 'wired' ? `${p.name} — wired 802.1X (EAP-TLS)` : `${p.name} — Wi-Fi "${p.ssid}" (WPA2-Enterprise, EAP-TLS)`;
}
function safeName(s) {
	return (s || 'certificate').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[.-]+/, '').slice(0, 64) || 'certificate';
}
function download(container, label, filename, bytes, type, id) {
	const a = document.createElement('a');
	a.className = 'button';
	a.href = URL.createObjectURL(new Blob([bytes], { type }));
	a.download = filename;
	a.textContent = label;
	if (id) a.id = id;
	a.dataset.filename = filename;
	container.appendChild(a);
	return a;
}

async function loadSettings() {
	try {
		state.settings = await api('GET', '/enroll/portal.json');
	} catch (e) {
		showError(e);
		return;
	}
	const s = state.settings;
	document.title = s.organization ? `${s.title} — ${s.organization}` : s.title;
	$('title').textContent = s.title;
	if (s.organization) {
		$('org').textContent = s.organization;
		$('org').hidden = false;
	}
	if (s.help) {
		$('help').textContent = s.help;
		$('help').hidden = false;
	}
	$('login-fields').hidden = !s.loginRequired;
	try {
		state.profiles = await api('GET', '/network-profiles');
	} catch (e) {
		state.profiles = null;
	}
}

function loginRequired() {
	return Boolean(state.settings && state.settings.loginRequired);
}

function onToken(ev) {
	ev.preventDefault();
	clearError();
	const t = $('token').value.replace(/\s+/g, '');
	const r = tokenCheck(t);
	if (r !== 'ok') {
		invalid('token', r);
		return;
	}
	state.token = t;
	if (!loginRequired()) {
		preview(null, $('b-token'));
		return;
	}
	step(2);
	setStatus('Token checked (its checksum is correct). Sign in to see your certificate.');
	$('user').focus();
}

/* The Basic credentials with the code of field otpId; undefined (and the
 * field marked) when something is missing; null without a login. */
function credentials(otpId) {
	if (!loginRequired()) return null;
	const user = $('user').value.trim();
	const otp = $(otpId).value.replace(/\s+/g, '');
	const pw = $('want-password').checked ? $('password').value : '';
	if (!user) return invalid('user', 'user_required');
	if (!otp) return invalid(otpId, 'otp_required');
	return basicAuth(user, pw ? `${pw}\n${otp}` : otp);
}

const AUTH_CODES = ['authentication_failed', 'otp_bad_code', 'otp_replayed', 'otp_locked'];
/* After a refusal the server saw, the code is spent (or was wrong): empty
 * its field for the next one. */
function codeSpent(err, otpId) {
	if (LOCAL_CODES.has(err.code) || !loginRequired()) return;
	$(otpId).value = '';
	if (AUTH_CODES.includes(err.code)) markInvalid(otpId);
}

function onLogin(ev) {
	ev.preventDefault();
	clearError();
	const auth = credentials('otp');
	if (auth === undefined) return;
	preview(auth, $('b-login'));
}

const FIELD_LABELS = { commonName: 'Name in the certificate (CN)', organization: 'Organisation (O)', organizationalUnit: 'Unit (OU)' };

async function preview(auth, button) {
	button.disabled = true;
	setStatus('Asking the server what your certificate will contain…');
	try {
		const p = await api('POST', '/certificate-request-tokens/preview', { token: state.token }, auth);
		state.preview = p;
		$('otp').value = '';
		showPreview(p);
		step(3);
		setStatus('Check what your certificate will contain, then choose where the key is made.');
		$('h-choose').focus();
	} catch (e) {
		const err = e instanceof PageError ? e : new PageError('internal_error', messageFor('internal_error'));
		setStatus('');
		showError(err);
		codeSpent(err, 'otp');
	} finally {
		button.disabled = false;
	}
}

function showPreview(p) {
	const dl = $('preview-list');
	dl.textContent = '';
	addRow(dl, 'Name', p.name);
	addRow(dl, 'Subject', p.subject);
	addRow(dl, 'Name (CN)', p.commonName);
	addRow(dl, 'Organisation (O)', p.organization);
	addRow(dl, 'Unit (OU)', p.organizationalUnit);
	addRow(dl, 'For user', p.owner);
	addRow(dl, 'Valid', p.validityDays
		? `${p.validityDays} days, until ${when(p.notAfter)}`
		: 'as long as the certificate authority decides');
	addRow(dl, 'Token valid until', p.tokenExpiresAt ? when(p.tokenExpiresAt) : null);
	addRow(dl, 'Network', networkText(p.network) || 'not configured on the server (you get the certificate only)');
	addRow(dl, 'Token', `${state.token.slice(0, 8)}…${state.token.slice(-6)} (checksum correct)`);
	const box = $('fields');
	box.textContent = '';
	for (const f of p.mayChange || []) {
		const id = `field-${f}`;
		const label = document.createElement('label');
		label.htmlFor = id;
		label.textContent = FIELD_LABELS[f] || f;
		const input = document.createElement('input');
		input.id = id;
		input.dataset.field = f;
		input.value = p[f] || '';
		input.autocomplete = 'off';
		input.maxLength = 64;
		box.append(label, input);
	}
	$('fields-box').hidden = !(p.mayChange && p.mayChange.length);
	$('otp2-box').hidden = !loginRequired();
	$('otp2').value = '';
}

/* The fields the user changed from the preview, as redemption overrides. */
function overrides() {
	const o = {};
	for (const input of document.querySelectorAll('#fields input')) {
		const f = input.dataset.field;
		if (input.value.trim() !== (state.preview[f] || '')) o[f] = input.value.trim();
	}
	return o;
}

async function redeemBrowser(auth, extra) {
	const p1 = $('pass1').value;
	if (p1.length < 8) return invalid('pass1', 'passphrase_short');
	if (p1 !== $('pass2').value) return invalid('pass2', 'passphrase_mismatch');
	setStatus('Making your key in this browser…');
	/* Extractable: the PKCS#12 needs the private key (see the page's note). */
	const keys = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
	const csr = await makeCsr(keys);
	setStatus('Asking the server for your certificate…');
	const cert = await api('POST', `/client-certificates/token/${encodeURIComponent(state.token)}`,
		{ type: 'CSR', value: pem('CERTIFICATE REQUEST', csr), ...extra }, auth);
	if (isPending(cert)) {
		/* 202: an administrator decides first; the key waits in memory. */
		startWait(cert, keys, p1);
		return undefined;
	}
	await browserFiles(cert, keys, p1);
	return cert;
}

/* The PKCS#12 of the certificate cert (its PEM and chain) for the key made
 * here, under pass, into state. */
async function browserFiles(cert, keys, pass) {
	setStatus('Certificate issued. Building your PKCS#12 file…');
	const pkcs8 = new Uint8Array(await subtle().exportKey('pkcs8', keys.privateKey));
	const certs = pemCerts(cert.certificate).concat(pemCerts(cert.chain));
	state.p12 = await makePkcs12(pkcs8, certs, pass, cert.commonName || cert.name || 'crtoken');
	pkcs8.fill(0);
	state.pass = pass;
	state.form = 'modern';
}

async function redeemServer(auth, extra) {
	setStatus('Asking the server to make your key and certificate…');
	const form = $('p12form').value;
	const cert = await api('POST', `/client-certificates/token/${encodeURIComponent(state.token)}`,
		{ type: 'GENERATE', pkcs12Form: form, ...extra }, auth);
	state.p12 = unbase64(cert.pkcs12);
	state.pass = cert.passphrase;
	state.form = form;
	return cert;
}

async function onRedeem(ev) {
	ev.preventDefault();
	clearError();
	const auth = credentials('otp2');
	if (auth === undefined) return;
	const button = $('b-redeem');
	button.disabled = true;
	try {
		const browser = $('k-browser').checked;
		const extra = overrides();
		const cert = browser ? await redeemBrowser(auth, extra) : await redeemServer(auth, extra);
		if (cert === undefined) {
			/* refused in the page, or waiting for an approval: the code is spent then */
			if (state.wait) {
				$('otp2').value = '';
				$('password').value = '';
			}
			return;
		}
		state.cert = cert;
		$('otp2').value = '';
		$('password').value = '';
		showDone(cert, browser);
	} catch (e) {
		const err = e instanceof PageError ? e : new PageError('internal_error', `${messageFor('internal_error')} (${e.message})`);
		setStatus('');
		showError(err);
		codeSpent(err, 'otp2');
	} finally {
		button.disabled = false;
	}
}

function showDone(cert, browser) {
	const dl = $('cert-list');
	dl.textContent = '';
	addRow(dl, 'Name', cert.name);
	addRow(dl, 'Subject', cert.subject);
	addRow(dl, 'Issued by', cert.issuer);
	addRow(dl, 'Valid from', when(cert.notBefore));
	addRow(dl, 'Valid until', when(cert.notAfter));
	addRow(dl, 'Serial', cert.serial);
	addRow(dl, 'Key', `${cert.keyType} — made ${browser ? 'in this browser' : 'by the server'}`);
	addRow(dl, 'Issued to', cert.user);
	addRow(dl, 'Network', networkText(state.profiles));
	const base = safeName(cert.commonName || cert.name);
	state.base = base;
	state.browserKey = browser;
	if (!browser && state.pass) {
		$('passphrase').textContent = state.pass;
		$('passphrase-box').hidden = false;
	} else {
		$('passphrase-box').hidden = true;
	}
	const files = $('files');
	files.textContent = '';
	const p12name = state.form === 'legacy' ? `${base}-legacy-3des.p12` : `${base}.p12`;
	download(files, `PKCS#12 (key + certificate): ${p12name}`, p12name, state.p12, 'application/x-pkcs12', 'dl-p12');
	download(files, `Certificate: ${base}.crt`, `${base}.crt`, enc.encode(cert.certificate), 'application/x-pem-file', 'dl-crt').classList.add('secondary');
	showProfiles();
	step(4);
	setStatus('Your certificate is ready. Download the files below.');
	$('h-done').focus();
}

function showProfiles() {
	const box = $('profiles');
	box.textContent = '';
	const p = state.profiles;
	if (!p || !p.configured || !p.formats.length) {
		$('profiles-hint').textContent = 'The network settings are not configured on this server: no profile to download.';
		$('profile-pass').parentElement.hidden = true;
		return;
	}
	$('profiles-hint').textContent = `Profiles configure ${networkText(p)} on your device with this certificate.`;
	const passOk = state.pass && !/["\u0000-\u001f\u007f]/.test(state.pass);
	$('profile-pass').parentElement.hidden = !passOk;
	for (const f of p.formats) {
		const row = document.createElement('div');
		row.className = 'profile';
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'secondary';
		b.textContent = f.title;
		b.id = `profile-${f.name}`;
		row.appendChild(b);
		if (f.embedsPkcs12 && f.pkcs12Form !== state.form) {
			/* The file embeds a PKCS#12 in a form this one is not. */
			b.disabled = true;
			const why = document.createElement('p');
			why.className = 'hint';
			why.id = `why-${f.name}`;
			why.textContent = f.pkcs12Form !== 'legacy'
				? 'Needs the modern PKCS#12 form: ask for a new token and choose the modern form.'
				: state.browserKey
					? 'Needs the compatible PKCS#12 form, which a browser cannot make: with a new token, choose "By the server" and the compatible form.'
					: 'Needs the compatible PKCS#12 form: with a new token, choose "By the server" and the compatible form.';
			b.setAttribute('aria-describedby', why.id);
			row.appendChild(why);
		}
		b.addEventListener('click', () => makeProfile(f, b, passOk));
		box.appendChild(row);
	}
}

async function makeProfile(f, button, passOk) {
	clearError();
	const body = { certificate: state.cert.certificate, name: state.base };
	if (f.embedsPkcs12) body.pkcs12 = base64(state.p12);
	if (['wpa_supplicant', 'networkmanager', 'nmcli'].includes(f.name)) {
		/* The device keeps the PKCS#12 downloaded above as its key file. */
		body.keyPath = `/etc/crtoken/network/${state.base}${state.form === 'legacy' ? '-legacy-3des' : ''}.p12`;
		if (passOk && $('profile-pass').checked) body.keyPassword = state.pass;
	}
	button.disabled = true;
	try {
		const r = await api('POST', `/network-profiles/${encodeURIComponent(f.name)}`, body);
		const links = $('files');
		if (!document.getElementById('dl-ca')) {
			download(links, `RADIUS server CA: ${r.caFilename}`, r.caFilename, enc.encode(r.caCertificate), 'application/x-pem-file', 'dl-ca').classList.add('secondary');
		}
		const a = download(button.parentElement, `Save ${r.filename}`, r.filename, unbase64(r.data), r.contentType, `dl-${f.name}`);
		a.dataset.format = f.name;
		setStatus(`Profile ${r.filename} is ready: use "Save ${r.filename}".`);
		a.focus();
	} catch (e) {
		showError(e instanceof PageError ? e : new PageError('internal_error', messageFor('internal_error')));
		button.disabled = false;
	}
}

/* ------------------------------------------------------------ approval */

const PENDING_KEY = 'crtoken.pendingRequest';
/* Seconds between checks: soon at first, then less often (a decision takes
 * minutes or hours); a 429/503 answer's Retry-After when it asks for more. */
const POLL_BACKOFF = [2, 3, 5, 8, 13, 20, 30, 60];

function isPending(r) {
	return Boolean(r && r.requestId && r.pollSecret && r.state === 'pending');
}

/* sessionStorage may be refused (privacy settings): then a reload just
 * forgets the request. */
function remember(w) {
	try {
		if (w) {
			sessionStorage.setItem(PENDING_KEY, JSON.stringify({
				requestId: w.id, pollSecret: w.secret, createdAt: w.createdAt,
				expiresAt: w.expiresAt, commonName: w.commonName, tokenName: w.tokenName,
			}));
		} else {
			sessionStorage.removeItem(PENDING_KEY);
		}
	} catch (e) {
		/* nothing kept */
	}
}

function recalled() {
	try {
		const r = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
		if (r && typeof r.requestId === 'string' && /^[a-z0-9-]{1,64}$/.test(r.requestId) &&
			typeof r.pollSecret === 'string' && /^crq_[A-Za-z0-9_-]{1,100}$/.test(r.pollSecret))
			return { ...r, state: 'pending' };
	} catch (e) {
		/* unreadable: forgotten below */
	}
	remember(null);
	return null;
}

function onBeforeUnload(ev) {
	/* Leaving now loses the key the pending certificate is for. */
	if (state.wait && state.wait.keys) {
		ev.preventDefault();
		ev.returnValue = '';
	}
}

/* Wait for the decision on request r (the 202's body, or what sessionStorage
 * kept: then keys is null, the key having gone with the reload). */
function startWait(r, keys, pass) {
	stopWait();
	const w = {
		id: r.requestId, secret: r.pollSecret, createdAt: r.createdAt, expiresAt: r.expiresAt,
		commonName: r.commonName, tokenName: r.tokenName, keys, pass, attempt: 0, timer: null,
		checked: null,
	};
	state.wait = w;
	remember(w);
	window.addEventListener('beforeunload', onBeforeUnload);
	$('wait-text').textContent = keys
		? 'Your certificate request was sent. An administrator must approve it before the certificate is issued.'
		: 'This page was reloaded while a certificate request waited for approval. Its key was made in the page that was closed, so the certificate cannot be used from here; this page still shows the decision.';
	const dl = $('wait-list');
	dl.textContent = '';
	addRow(dl, 'Request', w.id);
	addRow(dl, 'State', 'waiting for an administrator\'s approval');
	addRow(dl, 'Name', w.tokenName);
	addRow(dl, 'Name (CN)', w.commonName);
	addRow(dl, 'Sent', w.createdAt ? when(w.createdAt) : null);
	addRow(dl, 'Expires unless approved', w.expiresAt ? when(w.expiresAt) : null);
	$('wait-key-hint').hidden = !keys;
	$('wait-lost-hint').hidden = Boolean(keys);
	$('b-check').hidden = false;
	$('b-cancel').hidden = false;
	$('b-cancel').disabled = false;
	$('b-cancel').textContent = keys ? 'Cancel this request' : 'Cancel this request now';
	/* without the key, cancelling is what the page recommends */
	$('b-cancel').className = keys ? 'secondary' : '';
	$('wait-progress').textContent = '';
	step('wait');
	setStatus(keys ? `Request ${w.id} is waiting for approval.`
		: `Request ${w.id} is still waiting for approval, but its key is gone: cancel it unless the page that made it is still open.`);
	$('h-wait').focus();
	schedulePoll(w);
}

/* The wait ends (decided, or the user moves on): no more checks, the key
 * and passphrase dropped, nothing kept in sessionStorage. */
function stopWait() {
	const w = state.wait;
	if (!w) return;
	clearTimeout(w.timer);
	w.keys = null;
	w.pass = null;
	state.wait = null;
	remember(null);
	window.removeEventListener('beforeunload', onBeforeUnload);
}

function schedulePoll(w, retryAfter) {
	let sec = POLL_BACKOFF[Math.min(w.attempt, POLL_BACKOFF.length - 1)];
	const ra = Number(retryAfter);
	if (Number.isFinite(ra) && ra > sec) sec = Math.min(ra, 3600);
	w.attempt++;
	clearTimeout(w.timer);
	w.timer = setTimeout(() => pollWait(w), sec * 1000);
	const last = w.checked ? `Last checked ${w.checked.toLocaleTimeString()}; ` : '';
	$('wait-progress').textContent = `${last}next check in ${duration(sec)}.`;
}

const TRANSIENT = new Set(['network_error', 'store_busy', 'store_unavailable', 'rate_limited', 'internal_error']);

async function pollWait(w) {
	if (state.wait !== w) return;
	clearTimeout(w.timer);
	let q;
	try {
		q = await api('GET', `/certificate-requests/${encodeURIComponent(w.id)}`, undefined, `Bearer ${w.secret}`);
	} catch (e) {
		if (state.wait !== w) return;
		if (e instanceof PageError && TRANSIENT.has(e.code)) {
			schedulePoll(w, e.retryAfter);
			return;
		}
		waitOver(e instanceof PageError ? e : new PageError('internal_error', messageFor('internal_error')));
		return;
	}
	if (state.wait !== w) return; /* forgotten meanwhile */
	w.checked = new Date();
	if (q.state === 'pending' || q.state === 'approved') {
		schedulePoll(w);
		return;
	}
	if (q.state === 'issued' && q.issued && q.issued.certificate) {
		if (!w.keys) {
			waitOver(new PageError('request_key_lost', messageFor('request_key_lost'), `serial ${q.issued.serial}`),
				`Approved and issued (serial ${q.issued.serial}), but the key is gone.`);
			return;
		}
		const keys = w.keys;
		const pass = w.pass;
		try {
			await browserFiles(q.issued, keys, pass);
		} catch (e) {
			waitOver(new PageError('internal_error', `${messageFor('internal_error')} (${e.message})`));
			return;
		}
		stopWait();
		state.cert = q.issued;
		showDone(q.issued, true);
		return;
	}
	if (q.state === 'denied') {
		const why = q.reason ? `Reason given: ${q.reason}` : 'No reason was given.';
		waitOver(new PageError('request_denied', messageFor('request_denied'), why),
			`Denied${q.decidedAt ? ` on ${when(q.decidedAt)}` : ''}. ${why}`);
		return;
	}
	if (q.state === 'expired') {
		waitOver(new PageError('request_expired', messageFor('request_expired')),
			`Expired${q.expiresAt ? ` on ${when(q.expiresAt)}` : ''} without a decision.`);
		return;
	}
	if (q.state === 'cancelled') {
		waitOver(new PageError('request_cancelled', messageFor('request_cancelled')),
			`Cancelled${q.decidedAt ? ` on ${when(q.decidedAt)}` : ''}${q.decidedBy ? ` by ${q.decidedBy}` : ''}.`);
		return;
	}
	waitOver(new PageError('internal_error', messageFor('internal_error'), `state ${q.state}`));
}

/* The wait ended without a certificate: say why, in the card and the alert. */
function waitOver(err, stateText) {
	stopWait();
	const dl = $('wait-list');
	for (const dt of dl.querySelectorAll('dt')) {
		if (dt.textContent === 'State' && stateText) dt.nextElementSibling.textContent = stateText;
	}
	$('wait-key-hint').hidden = true;
	$('wait-lost-hint').hidden = true;
	$('b-check').hidden = true;
	$('b-cancel').hidden = true;
	$('wait-progress').textContent = '';
	setStatus('');
	if (err) showError(err);
}

/* "Cancel this request": withdraw the waiting request with its poll
 * secret. Cancelled: the wait ends, nothing will be issued. Decided
 * meanwhile (request_state): a check shows what it became. */
async function cancelWait() {
	const w = state.wait;
	if (!w) return;
	clearError();
	$('b-cancel').disabled = true;
	setStatus(`Cancelling request ${w.id}…`);
	let q;
	try {
		q = await api('POST', `/certificate-requests/${encodeURIComponent(w.id)}/cancel`, undefined, `Bearer ${w.secret}`);
	} catch (e) {
		if (state.wait !== w) return;
		$('b-cancel').disabled = false;
		if (e instanceof PageError && e.code === 'request_state') {
			setStatus('');
			pollWait(w);
			return;
		}
		setStatus('');
		showError(e instanceof PageError ? e : new PageError('internal_error', messageFor('internal_error')));
		return;
	}
	if (state.wait !== w) return;
	waitOver(null, `Cancelled by you${q.decidedAt ? ` on ${when(q.decidedAt)}` : ''}: no certificate will be issued for it.`);
	setStatus(`Request ${w.id} is cancelled: no certificate will be issued for it. For a certificate, ask your administrator for a new token.`);
	$('h-wait').focus();
}

/* ------------------------------------------------------------ my certificates */

const mine = { user: null, list: [], requests: [] };

/* Basic credentials from the "My certificates" form: the code is taken
 * (and the field emptied: it works once). undefined when missing. */
function mineCredentials() {
	const user = $('mine-user').value.trim();
	const otp = $('mine-otp').value.replace(/\s+/g, '');
	const pw = $('mine-password').value;
	if (!user) return invalid('mine-user', 'user_required');
	if (!otp) return invalid('mine-otp', 'otp_required');
	$('mine-otp').value = '';
	mine.user = user;
	return basicAuth(user, pw ? `${pw}\n${otp}` : otp);
}

function mineFailed(e) {
	const err = e instanceof PageError ? e : new PageError('internal_error', messageFor('internal_error'));
	setStatus('');
	showError(err);
	if (AUTH_CODES.includes(err.code)) markInvalid('mine-otp');
}

async function onMine(ev) {
	ev.preventDefault();
	clearError();
	const auth = mineCredentials();
	if (auth === undefined) return;
	const button = $('b-mine');
	button.disabled = true;
	setStatus('Asking the server for your certificates…');
	try {
		const me = await api('GET', '/me', undefined, auth);
		mine.list = me.certificates;
		mine.requests = me.requests;
		showMine();
		const n = mine.list.length;
		const pending = mine.requests.filter((r) => r.state === 'pending').length;
		setStatus(`${n} certificate${n === 1 ? '' : 's'} and ${mine.requests.length} certificate request${mine.requests.length === 1 ? '' : 's'}${pending ? ` (${pending} pending)` : ''} for ${mine.user}. For a download, a revocation or a cancellation, enter the next one-time code first.`);
		$('b-mine').textContent = 'Show them again';
	} catch (e) {
		mineFailed(e);
	} finally {
		button.disabled = false;
	}
}

function showMine() {
	const box = $('mine-list');
	box.textContent = '';
	$('mine-empty').hidden = mine.list.length !== 0;
	for (const c of mine.list) box.appendChild(mineCard(c));
	const rbox = $('mine-requests');
	rbox.textContent = '';
	$('mine-requests-box').hidden = false;
	$('mine-requests-empty').hidden = mine.requests.length !== 0;
	for (const r of mine.requests) rbox.appendChild(requestCard(r));
}

const REQUEST_STATES = {
	pending: 'waiting for an administrator\'s approval',
	issued: 'approved: the certificate was issued',
	denied: 'denied',
	expired: 'expired without a decision',
	cancelled: 'cancelled',
};

/* One certificate request of the user's, with a cancel while it is pending. */
function requestCard(r) {
	const card = document.createElement('div');
	card.className = 'card request';
	card.dataset.request = r.requestId;
	const h = document.createElement('h3');
	h.textContent = r.tokenName || r.commonName || r.requestId;
	const dl = document.createElement('dl');
	addRow(dl, 'State', REQUEST_STATES[r.state] || r.state);
	if (r.state === 'denied') addRow(dl, 'Reason given', r.reason || 'none');
	addRow(dl, 'Request', r.requestId);
	addRow(dl, 'Name (CN)', r.commonName);
	addRow(dl, 'Sent', r.createdAt ? when(r.createdAt) : null);
	if (r.state === 'pending') addRow(dl, 'Expires unless approved', r.expiresAt ? when(r.expiresAt) : null);
	else addRow(dl, 'Decided', r.decidedAt ? when(r.decidedAt) : null);
	if (r.state === 'issued') addRow(dl, 'Serial', r.serial);
	card.append(h, dl);
	if (r.state === 'pending') {
		const buttons = document.createElement('div');
		buttons.className = 'buttons';
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'secondary';
		b.id = `cancel-${r.requestId.replace(/[^a-z0-9-]/g, '')}`;
		b.textContent = 'Cancel this request';
		b.addEventListener('click', () => mineCancel(r, b));
		buttons.appendChild(b);
		card.appendChild(buttons);
	}
	return card;
}

async function mineCancel(r, button) {
	clearError();
	const auth = mineCredentials();
	if (auth === undefined) return;
	button.disabled = true;
	try {
		const q = await api('POST', `/certificate-requests/${encodeURIComponent(r.requestId)}/cancel`, undefined, auth);
		const i = mine.requests.findIndex((x) => x.requestId === r.requestId);
		if (i >= 0) mine.requests[i] = q;
		const card = [...document.querySelectorAll('.request')].find((e) => e.dataset.request === r.requestId);
		const fresh = requestCard(q);
		if (card) card.replaceWith(fresh);
		setStatus(`Request ${r.requestId} is cancelled: no certificate will be issued for it.`);
		fresh.querySelector('h3').tabIndex = -1;
		fresh.querySelector('h3').focus();
	} catch (e) {
		mineFailed(e);
		button.disabled = false;
	}
}

const REASONS = [
	['keyCompromise', 'The device was lost or stolen'],
	['cessationOfOperation', 'I no longer use it'],
];

function mineCard(c) {
	const card = document.createElement('div');
	card.className = 'card mine';
	card.dataset.serial = c.serial;
	const h = document.createElement('h3');
	h.textContent = c.name || c.subject || c.serial;
	const dl = document.createElement('dl');
	addRow(dl, 'Status', c.status === 'revoked' && c.revocationReason ? `revoked (${c.revocationReason})` : c.status);
	addRow(dl, 'Subject', c.subject);
	addRow(dl, 'Serial', c.serial);
	addRow(dl, 'Valid until', when(c.notAfter));
	addRow(dl, 'Last used on the network', c.lastSeen ? when(c.lastSeen) : 'never');
	addRow(dl, 'PKCS#12 file', c.pkcs12Available ? 'kept by the service: you can download it again' : null);
	const buttons = document.createElement('div');
	buttons.className = 'buttons';
	card.append(h, dl, buttons);
	const id = c.serial.replace(/[^0-9a-f]/g, '');
	if (c.pkcs12Available && c.status === 'valid') {
		const b = document.createElement('button');
		b.type = 'button';
		b.id = `p12-${id}`;
		b.textContent = 'Download the PKCS#12 file';
		b.addEventListener('click', () => mineDownload(c, b));
		buttons.appendChild(b);
	}
	if (c.status === 'valid') {
		const b = document.createElement('button');
		b.type = 'button';
		b.className = 'secondary';
		b.id = `revoke-${id}`;
		b.textContent = 'Revoke…';
		b.setAttribute('aria-expanded', 'false');
		const panel = document.createElement('fieldset');
		panel.hidden = true;
		panel.id = `revoke-box-${id}`;
		b.setAttribute('aria-controls', panel.id);
		const legend = document.createElement('legend');
		legend.textContent = 'Why? RADIUS refuses the certificate from then on';
		panel.appendChild(legend);
		REASONS.forEach(([value, label], i) => {
			const row = document.createElement('div');
			row.className = 'choice';
			const input = document.createElement('input');
			input.type = 'radio';
			input.name = `reason-${id}`;
			input.id = `reason-${id}-${value}`;
			input.value = value;
			input.checked = i === 0;
			const l = document.createElement('label');
			l.htmlFor = input.id;
			l.textContent = label;
			row.append(input, l);
			panel.appendChild(row);
		});
		const go = document.createElement('button');
		go.type = 'button';
		go.id = `revoke-now-${id}`;
		go.textContent = 'Revoke it now';
		go.addEventListener('click', () => mineRevoke(c, go, panel));
		panel.appendChild(go);
		b.addEventListener('click', () => {
			panel.hidden = !panel.hidden;
			b.setAttribute('aria-expanded', String(!panel.hidden));
		});
		buttons.appendChild(b);
		card.appendChild(panel);
	}
	return card;
}

async function mineDownload(c, button) {
	clearError();
	const auth = mineCredentials();
	if (auth === undefined) return;
	button.disabled = true;
	try {
		const p12 = await apiBytes(`/me/certificates/${encodeURIComponent(c.serial)}/pkcs12`, auth);
		const name = `${safeName(c.name || c.serial)}.p12`;
		const id = `dl-mine-${c.serial.replace(/[^0-9a-f]/g, '')}`;
		const old = document.getElementById(id);
		if (old) old.remove();
		const a = download(button.parentElement, `Save ${name}`, name, p12, 'application/x-pkcs12', id);
		setStatus(`The PKCS#12 file is ready: use "Save ${name}". It opens with the passphrase it was issued with.`);
		a.focus();
	} catch (e) {
		mineFailed(e);
	} finally {
		button.disabled = false;
	}
}

async function mineRevoke(c, button, panel) {
	clearError();
	const reason = panel.querySelector('input[type=radio]:checked');
	const auth = mineCredentials();
	if (auth === undefined) return;
	button.disabled = true;
	try {
		const r = await api('POST', `/me/certificates/${encodeURIComponent(c.serial)}/revoke`,
			{ reason: reason ? reason.value : 'keyCompromise' }, auth);
		const i = mine.list.findIndex((x) => x.serial === c.serial);
		if (i >= 0) mine.list[i] = r;
		const card = [...document.querySelectorAll('.mine')].find((e) => e.dataset.serial === c.serial);
		const fresh = mineCard(r);
		if (card) card.replaceWith(fresh);
		setStatus(`Certificate ${c.serial} is revoked: RADIUS no longer admits it.`);
		fresh.querySelector('h3').tabIndex = -1;
		fresh.querySelector('h3').focus();
	} catch (e) {
		mineFailed(e);
		button.disabled = false;
	}
}

function init() {
	$('f-token').addEventListener('submit', onToken);
	$('f-login').addEventListener('submit', onLogin);
	$('f-redeem').addEventListener('submit', onRedeem);
	for (const id of ['b-back', 'b-back2', 'b-forget', 'b-mine-back']) {
		$(id).addEventListener('click', () => {
			stopWait();
			clearError();
			setStatus('');
			step(1);
			$('token').focus();
		});
	}
	$('b-cancel').addEventListener('click', cancelWait);
	$('b-check').addEventListener('click', () => {
		if (!state.wait) return;
		$('wait-progress').textContent = 'Checking…';
		pollWait(state.wait);
	});
	$('b-mine-open').addEventListener('click', () => {
		clearError();
		setStatus('Sign in to see your certificates.');
		step('mine');
		if (!$('mine-user').value && $('user').value) $('mine-user').value = $('user').value;
		$('h-mine').focus();
	});
	$('f-mine').addEventListener('submit', onMine);
	$('want-password').addEventListener('change', () => {
		$('password-box').hidden = !$('want-password').checked;
		$('want-password').setAttribute('aria-expanded', String($('want-password').checked));
	});
	for (const r of document.querySelectorAll('input[name="keysrc"]')) {
		r.addEventListener('change', () => {
			const browser = $('k-browser').checked;
			$('browser-box').hidden = !browser;
			$('server-box').hidden = browser;
		});
	}
	step(1);
	loadSettings().then(() => {
		const r = recalled();
		if (r) startWait(r, null, null);
		document.body.dataset.ready = '1';
	});
}

/* For the tests (tests/integration/t_portal.sh checks tokenCheck against
 * the C rule, and the DER/PKCS#12 code through openssl). */
window.crtokenPortal = { tokenCheck, crc32, base64, unbase64, makeCsr, makePkcs12, pkcs12Kdf };

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();

# -*- text -*-
#
#  crtoken — admit only client certificates issued by crtoken (EAP-TLS).
#
#  Install as /etc/freeradius/3.0/mods-available/crtoken and enable with
#      ln -s ../mods-available/crtoken /etc/freeradius/3.0/mods-enabled/crtoken
#  then call it from the check-eap-tls-crtoken virtual server (see
#  sites-available/check-eap-tls-crtoken) by setting, in mods-enabled/eap:
#      tls { tls = tls-common  virtual_server = check-eap-tls-crtoken }
#
#  Returns, per request:
#    noop     the request carries no client certificate serial
#    ok       admitted (updated: admitted and reply attributes added);
#             Session-Timeout is always set: at most the seconds left until
#             the certificate's notAfter, capped by [radius]
#             max_session_timeout (a stored Session-Timeout only shortens it)
#    reject   revoked, expired, not yet valid, unknown serial, other issuer
#             name or CA key, not the stored certificate (another subject
#             key or validity), a key identifier missing or repeated
#             (the reason is in Module-Failure-Message and the debug log);
#             with [radius] pin_mac = first also a certificate presented
#             from another MAC than its first (cert_mac_pinned)
#
#  Besides serial and issuer, the module always reads rlm_eap_tls's
#  TLS-Client-Cert-X509v3-Subject-Key-Identifier, -Authority-Key-Identifier,
#  TLS-Client-Cert-Valid-Since and -Expiration (not configurable). Set the
#  eap module's ca_file to crtoken's ca.pem only (README "Enabling it").
#    fail     the crtoken store cannot be read, was lost, or is stale (a
#             standby's heartbeat older than [store] max_staleness): fail
#             closed, an Access-Reject; with on_store_failure = no_response
#             no reply at all (below)
#
crtoken {
	#  The crtoken configuration file; its [store] database is read.
	#  Default: $CRTOKEN_CONF, else /etc/crtoken/crtoken.conf.
	#  The freerad user needs read access to it and to the database,
	#  see README "802.1X with FreeRADIUS".
	config = /etc/crtoken/crtoken.conf

	#  Request attributes holding the client certificate's serial number
	#  and issuer name. The defaults are what rlm_eap_tls sets in the
	#  check-eap-tls virtual server. An empty issuer_attribute disables
	#  the issuer check (not recommended).
	serial_attribute = TLS-Client-Cert-Serial
	issuer_attribute = TLS-Client-Cert-Issuer

	#  What RADIUS saw: each admission (time, Calling-Station-Id,
	#  NAS-IP-Address or the request's source address, NAS-Identifier,
	#  User-Name, Acct-Session-Id) goes into a bounded in-memory queue,
	#  one entry per certificate; a thread writes the queue to the store
	#  every seen_flush_interval seconds in one transaction (crtoken-admin
	#  cert show / cert list --never-seen / --stale-days report it). No
	#  store write per authentication: when the queue is full the oldest
	#  entry is dropped and counted (a warning in the log). The flusher
	#  (and [radius] pin_mac = first, which writes a certificate's first
	#  MAC before its first Access-Accept) opens the store for writing:
	#  the server's user needs write access to the database (and, for
	#  SQLite, its directory). Without it admissions go on, unrecorded,
	#  and pinned first admissions fail closed.
	record_seen = yes
	seen_flush_interval = 5
	seen_queue_size = 4096

	#  What a store failure means for the NAS (the store cannot be
	#  reached, a connection was lost, a statement timed out, a standby's
	#  heartbeat is older than [store] max_staleness):
	#    fail         Access-Reject (fail closed; the default). The NAS takes
	#                 it as the answer and does not ask another server.
	#    no_response  no reply at all: the module sets
	#                 control:Response-Packet-Type := Do-Not-Respond on the
	#                 request from the NAS (the outer one, also when the
	#                 module runs in the check-eap-tls-crtoken virtual
	#                 server) and returns fail, so the NAS times out and
	#                 fails over to its other RADIUS server. Keep
	#                 cleanup_delay (radiusd.conf, default 5) longer than
	#                 the NAS's retransmit interval: radiusd ignores a
	#                 retransmit of an unanswered request only that long,
	#                 later ones find no EAP session and are rejected
	#                 (README "Several servers").
	#  Either way nothing is admitted while the store fails.
	on_store_failure = fail

	#  Key attestation (YubiKey PIV) for policy: when set, an admitted
	#  certificate whose key was attested at redemption gets this control
	#  attribute (a string attribute of the dictionary), e.g.
	#    "serial=12345678 firmware=5.4.3 pin=always touch=cached form=usb-c-keychain slot=9a"
	#  (none when nothing was attested), for unlang after the module:
	#    if (&control:Tmp-String-9 =~ /pin=always/) { update reply { ... } }
	#  Costs one more point lookup per admission. Default: off.
	#attestation_attribute = Tmp-String-9

	#  Read-only store connections, one per server thread in use. Each is
	#  a SQLite connection in WAL mode: readers never wait for writers.
	#  With start > 0 the server refuses to start when the store cannot
	#  be opened; set start = 0 to start anyway (requests then fail
	#  until the store is readable).
	pool {
		start = ${thread[pool].start_servers}
		min = ${thread[pool].min_spare_servers}
		max = ${thread[pool].max_servers}
		spare = ${thread[pool].max_spare_servers}
		uses = 0
		retry_delay = 1
		lifetime = 0
		idle_timeout = 0
	}
}

-- ocsp.lua — wrk script for `make bench`: every request POSTs the same DER
-- OCSPRequest (one CertID of an issued certificate, with a nonce) to
-- /ocsp. A response counts as ok when it is HTTP 200 and longer than an
-- unsigned error response (those are 5 bytes: malformedRequest, tryLater,
-- internalError). Prints one WRKRESULT line like redeem.lua.
--   wrk ... -s ocsp.lua URL -- REQUESTFILE
local threads = {}

function setup(thread)
	table.insert(threads, thread)
end

function init(args)
	local f = assert(io.open(args[1], "rb"))
	body = f:read("*a")
	f:close()
	ok, other = 0, 0
end

function request()
	return wrk.format("POST", "/ocsp", { ["Content-Type"] = "application/ocsp-request" }, body)
end

function response(status, headers, b)
	if status == 200 and #b > 16 then
		ok = ok + 1
	else
		other = other + 1
	end
end

function done(summary, latency, requests)
	local o, x = 0, 0
	for _, t in ipairs(threads) do
		o = o + t:get("ok")
		x = x + t:get("other")
	end
	io.write(string.format("WRKRESULT ok=%d other=%d seconds=%.3f p50_ms=%.2f p99_ms=%.2f\n",
		o, x, summary.duration / 1e6, latency:percentile(50) / 1000,
		latency:percentile(99) / 1000))
end

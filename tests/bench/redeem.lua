-- redeem.lua — wrk script for `make bench`: every request redeems (or, for
-- cfssl, signs) the same kind of P-256 CSR; crtoken requests each use the
-- next unused token of this wrk thread's share, with HTTP Basic credentials
-- (user:current TOTP code, one user per request) when a credentials file is
-- given. Prints one WRKRESULT line with 2xx/other counts and latency.
--   wrk ... -s redeem.lua URL -- MODE BODYFILE THREADS [TOKENS [CREDS]]
--   MODE: crtoken | cfssl
local threads, counter = {}, 1

function setup(thread)
	thread:set("id", counter)
	table.insert(threads, thread)
	counter = counter + 1
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local function b64(s)
	return ((s:gsub(".", function(x)
		local r, b = "", x:byte()
		for i = 8, 1, -1 do r = r .. (b % 2 ^ i - b % 2 ^ (i - 1) > 0 and "1" or "0") end
		return r
	end) .. "0000"):gsub("%d%d%d?%d?%d?%d?", function(x)
		if #x < 6 then return "" end
		local c = 0
		for i = 1, 6 do c = c + (x:sub(i, i) == "1" and 2 ^ (6 - i) or 0) end
		return b64chars:sub(c + 1, c + 1)
	end) .. ({ "", "==", "=" })[#s % 3 + 1])
end

local function share(file, n)
	local out, k = {}, 0
	if file == nil or file == "" then return out end
	for line in io.lines(file) do
		if k % n == id - 1 then out[#out + 1] = line end
		k = k + 1
	end
	return out
end

function init(args)
	mode = args[1]
	local f = io.open(args[2], "rb")
	body = f:read("*a")
	f:close()
	local n = tonumber(args[3])
	tokens = share(args[4], n)
	creds = share(args[5], n)
	for i, c in ipairs(creds) do creds[i] = "Basic " .. b64(c) end
	i, ok, other = 0, 0, 0
end

function request()
	i = i + 1
	local headers = { ["Content-Type"] = "application/json" }
	if mode == "cfssl" then
		return wrk.format("POST", "/api/v1/cfssl/sign", headers, body)
	end
	if creds[i] then headers["Authorization"] = creds[i] end
	return wrk.format("POST", "/client-certificates/token/" .. (tokens[i] or "crt_exhausted"),
		headers, body)
end

function response(status, headers, b)
	if status == 201 or (mode == "cfssl" and status == 200) then
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

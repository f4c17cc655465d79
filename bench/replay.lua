-- wrk script: send a pre-generated set of request bodies, each once and in order, and
-- check that every answer is HTTP 200 with the header `result: SUCCESS`.
--
-- wrk -s bench/replay.lua URL -- PATH BODIES_FILE HEADERS MODE
--   BODIES_FILE  "<length>\n<bytes>" repeated (written by bench/bodies.py)
--   HEADERS      "name:value|name:value"
--   MODE         "once": never resend a body (a secure request may not be replayed);
--                "cycle": start again at the first body when all were sent
-- A JSON summary is printed on one line starting with "BENCH-JSON ".

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   path = args[1]
   bodies = {}
   count = 0
   local f = assert(io.open(args[2], "rb"))
   local data = f:read("*a")
   f:close()
   local pos = 1
   while pos <= #data do
      local nl = string.find(data, "\n", pos, true)
      local len = tonumber(string.sub(data, pos, nl - 1))
      count = count + 1
      bodies[count] = string.sub(data, nl + 1, nl + len)
      pos = nl + len + 1
   end
   headers = {}
   for pair in string.gmatch(args[3], "[^|]+") do
      local name, value = string.match(pair, "([^:]+):(.*)")
      headers[name] = value
   end
   cycle = args[4] == "cycle"
   nxt = 0
   exhausted = 0
   answered = 0
   refused = 0
   first_refusal = ""
end

function request()
   nxt = nxt + 1
   if nxt > count then
      if cycle then
         nxt = 1
      else
         -- Out of fresh bodies: resend the last one and count it, so the run is marked invalid.
         exhausted = exhausted + 1
         nxt = count
      end
   end
   return wrk.format("POST", path, headers, bodies[nxt])
end

function response(status, hdrs, body)
   answered = answered + 1
   local result = hdrs["result"]
   if status ~= 200 or result ~= "SUCCESS" then
      refused = refused + 1
      if first_refusal == "" then
         first_refusal = tostring(status) .. " " .. tostring(result)
      end
   end
end

function done(summary, latency, requests)
   local answered_all, refused_all, exhausted_all, first = 0, 0, 0, ""
   for _, t in ipairs(threads) do
      answered_all = answered_all + t:get("answered")
      refused_all = refused_all + t:get("refused")
      exhausted_all = exhausted_all + t:get("exhausted")
      if first == "" then first = t:get("first_refusal") end
   end
   local e = summary.errors
   io.write(string.format(
      'BENCH-JSON {"requests":%d,"duration_us":%d,"answered":%d,"refused":%d,"exhausted":%d,' ..
      '"first_refusal":"%s","socket_errors":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
      '"max_us":%d,"mean_us":%.1f}\n',
      summary.requests, summary.duration, answered_all, refused_all, exhausted_all, first,
      e.connect + e.read + e.write + e.status + e.timeout,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end

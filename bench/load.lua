-- wrk script driven by bench/run.py.
--   hello mode: wrk ... -- hello
--   token mode: wrk ... -- token CODES_FILE AUTHORIZATION REDIRECT_URI_ENCODED THREADS
-- In token mode every request POSTs a distinct pre-issued code; thread N takes the lines
-- N, N+THREADS, ... of CODES_FILE.  A response is "bad" unless it is a 200 (and, for a
-- token request, carries an id_token); done() prints one BENCH_JSON line for run.py.

local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

function init(args)
  mode = args[1]
  bad = 0
  used = 0
  if mode == "token" then
    local nthreads = tonumber(args[5])
    codes = {}
    local i = 0
    for line in io.lines(args[2]) do
      if i % nthreads == id then
        codes[#codes + 1] = line
      end
      i = i + 1
    end
    headers = {
      ["Authorization"] = args[3],
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
    tail = "&redirect_uri=" .. args[4]
  else
    static = wrk.format("GET", "/")
  end
end

function request()
  if mode ~= "token" then
    return static
  end
  used = used + 1
  local code = codes[used] or "exhausted"
  return wrk.format("POST", "/token", headers, "grant_type=authorization_code&code=" .. code .. tail)
end

function response(status, headers, body)
  if status ~= 200 or (mode == "token" and not body:find('"id_token"', 1, true)) then
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local bad_total = 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bad": %d, '
      .. '"socket_errors": %d, "status_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, bad_total,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)
  ))
end

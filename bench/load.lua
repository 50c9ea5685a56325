-- wrk script driven by bench/run.py: wrk ... -s load.lua URL -- PARAMS_FILE
--
-- PARAMS_FILE holds "key=value" lines written by run.py (scenarios.py); "mode" picks what a
-- request is:
--   get    GET the paths of "paths" (comma-separated) in turn, with "authorization" if given;
--   items  POST to "path" a form body "body" with its "%s" replaced by one line of
--          "items_file" (codes or refresh tokens); wrk thread N takes the lines N,
--          N+threads, ...; each line is sent once, and a thread that has sent all of its
--          lines stops (run.py sizes the inputs so that this is rare, and reports it);
--   flow   the code flow of a signed-in user who already consented: GET "authorize" with the
--          session "cookie", POST the code to "token_path", GET "userinfo_path" with the
--          access token.
--          Each answer queues the next step; a connection takes the most advanced step
--          waiting, so flows complete continuously.  One unit = one flow (3 requests);
--   login  a password login: GET "authorize" without a cookie, GET the login page it
--          redirects to, POST the email and password; the answer must redirect to
--          "redirect_uri" with a code.  One unit = one login (3 requests).
-- With "close=1" every request asks for the connection to be closed after the answer.
-- A response is "bad" unless its status is the expected one and its body contains every
-- "expect" string (comma-separated).  done() prints one BENCH_JSON line for run.py.

local threads = {}
local count = 0

function setup(thread)
  thread:set("id", count)
  count = count + 1
  table.insert(threads, thread)
end

local function split(text, sep)
  local parts = {}
  if text == nil or text == "" then
    return parts
  end
  for part in string.gmatch(text, "([^" .. sep .. "]+)") do
    parts[#parts + 1] = part
  end
  return parts
end

local function read_params(path)
  local params = {}
  for line in io.lines(path) do
    local key, value = string.match(line, "^([%w_]+)=(.*)$")
    if key then
      params[key] = value
    end
  end
  return params
end

local function header(headers, name)
  local lower = string.lower(name)
  for key, value in pairs(headers) do
    if string.lower(key) == lower then
      return value
    end
  end
  return nil
end

local function urlencode(text)
  return (string.gsub(text, "[^%w%-%._~]", function(c)
    return string.format("%%%02X", string.byte(c))
  end))
end

function init(args)
  p = read_params(args[1])
  mode = p.mode
  if p.close == "1" then -- one connection per request, as with gunicorn's sync workers
    local format = wrk.format
    wrk.format = function(method, path, headers, body)
      headers = headers or {}
      headers["Connection"] = "close"
      return format(method, path, headers, body)
    end
  end
  bad = 0
  units = 0
  exhausted = 0
  expect = split(p.expect, ",")
  if mode == "get" then
    paths = split(p.paths, ",")
    requests = {}
    local headers = {}
    if p.authorization then
      headers["Authorization"] = p.authorization
    end
    for i, path in ipairs(paths) do
      requests[i] = wrk.format("GET", path, headers)
    end
    turn = 0
  elseif mode == "items" then
    local nthreads = tonumber(p.threads)
    items = {}
    local i = 0
    for line in io.lines(p.items_file) do
      if i % nthreads == id then
        items[#items + 1] = line
      end
      i = i + 1
    end
    used = 0
    post_headers = {
      ["Authorization"] = p.authorization,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
  elseif mode == "flow" then
    codes, tokens = {}, {}
    cookie_headers = { ["Cookie"] = p.cookie }
    token_headers = {
      ["Authorization"] = p.authorization,
      ["Content-Type"] = "application/x-www-form-urlencoded",
    }
  elseif mode == "login" then
    pages, forms, cookies = {}, {}, {}
    form = "email=" .. urlencode(p.email) .. "&password=" .. urlencode(p.password)
  end
  -- The answers of a thread's connections come back in any order and wrk does not say
  -- which request an answer is for: flow_response() and login_response() recognise the
  -- kind of answer from the answer itself.
end

-- with "debug=N" in the parameters, the first N bad answers of each thread are printed
local shown = 0
local function bad_answer(status, headers, body)
  bad = bad + 1
  if p.debug and shown < tonumber(p.debug) then
    shown = shown + 1
    io.write(string.format("BAD %d %s %s\n", status, tostring(header(headers, "Location")),
      string.sub(body or "", 1, 300)))
  end
end

local function ok(status, wanted, body)
  if status ~= wanted then
    return false
  end
  for _, text in ipairs(expect) do
    if not string.find(body, text, 1, true) then
      return false
    end
  end
  return true
end

function request()
  if mode == "get" then
    turn = turn % #requests + 1
    return requests[turn]
  elseif mode == "items" then
    used = used + 1
    local item = items[used]
    if item == nil and exhausted == 0 then -- more requests than inputs: this thread ends
      exhausted = 1
      wrk.thread:stop()
    end
    local body = string.gsub(p.body, "%%s", item or "exhausted")
    return wrk.format("POST", p.path, post_headers, body)
  elseif mode == "flow" then
    local token = table.remove(tokens)
    if token then
      return wrk.format("GET", p.userinfo_path, { ["Authorization"] = "Bearer " .. token })
    end
    local code = table.remove(codes)
    if code then
      local body = "grant_type=authorization_code&code=" .. code .. "&redirect_uri="
        .. urlencode(p.redirect_uri) .. (p.token_extra or "")
      return wrk.format("POST", p.token_path, token_headers, body)
    end
    return wrk.format("GET", p.authorize, cookie_headers)
  else -- login
    local item = table.remove(forms)
    if item then
      local body = form .. "&interaction=" .. item.interaction .. "&csrf_token=" .. item.csrf
      return wrk.format("POST", "/login", {
        ["Cookie"] = item.cookie,
        ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
    end
    item = table.remove(pages)
    if item then
      return wrk.format("GET", item.location, { ["Cookie"] = item.cookie })
    end
    return wrk.format("GET", p.authorize)
  end
end

-- the path and query of a Location header (absolute or not)
local function local_path(location)
  return string.match(location, "^https?://[^/]+(/.*)$") or location
end

local function cookie_of(headers)
  local set = header(headers, "Set-Cookie")
  return set and string.match(set, "^([^;]+)")
end

local function flow_response(status, headers, body)
  local location = header(headers, "Location")
  if location then -- an authorization answer: the code goes to the token endpoint
    local code = (status == 302 or status == 303) and string.match(location, "[?&]code=([^&]+)")
    if code then
      codes[#codes + 1] = code
    else
      bad_answer(status, headers, body)
    end
    return
  end
  if string.find(body, '"access_token"', 1, true) then
    local token = status == 200 and string.find(body, '"id_token"', 1, true)
      and string.match(body, '"access_token"%s*:%s*"([^"]+)"')
    if token then
      tokens[#tokens + 1] = token
    else
      bad_answer(status, headers, body)
    end
    return
  end
  if status == 200 and string.find(body, '"sub"', 1, true) then
    units = units + 1 -- a userinfo answer ends a flow
  else
    bad_answer(status, headers, body)
  end
end

local function login_response(status, headers, body)
  local location = header(headers, "Location")
  if location and string.find(location, p.redirect_uri, 1, true) == 1 then
    if string.match(location, "[?&]code=") then -- the login's answer: back to the client
      units = units + 1
    else
      bad_answer(status, headers, body)
    end
    return
  end
  if location then -- the authorization request's answer: to the login page
    local cookie = cookie_of(headers)
    local handle = string.match(location, "[?&]interaction=([^&]+)")
    if (status == 302 or status == 303) and cookie and handle then
      pages[#pages + 1] = { location = local_path(location), cookie = cookie }
      cookies[handle] = cookie -- the login page does not echo the cookie it was sent
    else
      bad_answer(status, headers, body)
    end
    return
  end
  local interaction = string.match(body, 'name="interaction" value="([^"]*)"')
  local csrf = string.match(body, 'name="csrf_token" value="([^"]*)"')
  local cookie = interaction and cookies[interaction]
  if status == 200 and cookie and csrf then
    cookies[interaction] = nil
    forms[#forms + 1] = { interaction = interaction, csrf = csrf, cookie = cookie }
  else
    bad_answer(status, headers, body)
  end
end

function response(status, headers, body)
  if mode == "flow" then
    return flow_response(status, headers, body)
  elseif mode == "login" then
    return login_response(status, headers, body)
  end
  if ok(status, 200, body) then
    units = units + 1
  else
    bad_answer(status, headers, body)
  end
end

function done(summary, latency, requests)
  local bad_total, units_total, exhausted_total = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + thread:get("bad")
    units_total = units_total + thread:get("units")
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "units": %d, "duration_us": %d, "bad": %d, "exhausted": %d, '
      .. '"socket_errors": %d, "status_errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, units_total, summary.duration, bad_total, exhausted_total,
    e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99)
  ))
end

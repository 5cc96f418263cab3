-- One wrk target for bench/http.py: method, path, headers and body come from the environment.
--
--   BENCH_METHOD   GET (default) or POST
--   BENCH_PATH     the path and query string
--   BENCH_HEADERS  header lines "Name: value", separated by newlines
--   BENCH_BODY     the request body; every @@TOKEN@@ in it becomes a fresh request token
--   BENCH_TOKEN    a prefix making this run's tokens unique (thread and counter follow it)
--   BENCH_EXPECT   the status every answer must have (200 unless given)
--
-- done() prints one line, "BENCH {json}": requests, seconds, bytes, latency p50/p99/min/max in
-- microseconds, answers with another status than expected, and wrk's socket errors.

local method = os.getenv("BENCH_METHOD") or "GET"
local path = os.getenv("BENCH_PATH") or "/"
local body_template = os.getenv("BENCH_BODY")
local token_prefix = os.getenv("BENCH_TOKEN") or tostring(os.time())
local expected = tonumber(os.getenv("BENCH_EXPECT") or "200")
local headers = {}
for line in (os.getenv("BENCH_HEADERS") or ""):gmatch("[^\n]+") do
  local name, value = line:match("^([^:]+):%s*(.*)$")
  if name then
    headers[name] = value
  end
end

-- setup() runs in the main Lua state, once per thread: give each thread its own number so
-- tokens made by different threads never meet.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local counter = 0
unexpected = 0
first_unexpected = 0

function request()
  local body = nil
  if body_template then
    counter = counter + 1
    local token = token_prefix .. "-" .. tostring(thread_number) .. "-" .. tostring(counter)
    body = body_template:gsub("@@TOKEN@@", token)
  end
  return wrk.format(method, path, headers, body)
end

function response(status, response_headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == 0 then
      first_unexpected = status
    end
  end
end

function done(summary, latency, requests)
  local wrong, wrong_status = 0, 0
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("unexpected") or 0)
    local status = thread:get("first_unexpected") or 0
    if status ~= 0 then
      wrong_status = status
    end
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.6f, "bytes": %d, "p50_us": %d, "p99_us": %d, '
      .. '"min_us": %d, "max_us": %d, "unexpected": %d, "unexpected_status": %d, "connect_errors": %d, '
      .. '"read_errors": %d, "write_errors": %d, "timeouts": %d}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, latency:percentile(50),
    latency:percentile(99), latency.min, latency.max, wrong, wrong_status, errors.connect, errors.read,
    errors.write, errors.timeout
  ))
end

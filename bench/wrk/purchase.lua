-- wrk script: POST a purchase with a different shopper token on each request.
-- BENCH_TOKENS names a file of tokens of one length, one per line. It is kept as one string
-- and sliced per request: a table of 100,000s of strings would make wrk's garbage collector
-- the bottleneck. The request is built by hand with the token early in it: LuaJIT hashes long
-- strings from a few sampled bytes, and requests that differed only outside those bytes would
-- all land in one bucket of its string table. Each wrk thread takes every BENCH_THREADS-th
-- token from BENCH_TOKEN_OFFSET on, so no two requests share a shopper while the file lasts.
-- BENCH_XFF=1: each request also claims its own client address (X-Forwarded-For from a trusted
-- proxy, as behind a CDN), so nginx's per-IP limits see one client per request.
-- BENCH_PATHS=/a,/b,…: the requests go to these paths in turn (several sales) instead of wrk's.
local all, width, count, step, index, prefixes, paths, suffix, xff

-- wrk threads have no id of their own: number them as setup() sees them.
local threads_set_up = 0

function setup(thread)
  thread:set("thread_id", threads_set_up)
  threads_set_up = threads_set_up + 1
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_TOKENS"), "rb"))
  all = file:read("*a")
  file:close()
  width = all:find("\n", 1, true)
  count = math.floor(#all / width)
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
  index = ((tonumber(os.getenv("BENCH_TOKEN_OFFSET") or "0") or 0) + (tonumber(thread_id) or 0)) % count
  local body = '{"quantity":1}'
  xff = os.getenv("BENCH_XFF") == "1"
  prefixes = {}
  for p in (os.getenv("BENCH_PATHS") or wrk.path):gmatch("[^,]+") do
    prefixes[#prefixes + 1] = "POST " .. p .. " HTTP/1.1\r\nAuthorization: Bearer "
  end
  paths = #prefixes
  -- BENCH_CONNECTION_CLOSE=1: one connection per request, as distinct shoppers arrive.
  local connection = os.getenv("BENCH_CONNECTION_CLOSE") == "1" and "\r\nConnection: close" or ""
  suffix = "\r\nHost: " .. wrk.host .. ":" .. wrk.port .. connection .. "\r\nContent-Type: application/json\r\nContent-Length: "
    .. #body .. "\r\n\r\n" .. body
end

function request()
  local start = index * width + 1
  local client = index
  index = (index + step) % count
  local prefix = prefixes[client % paths + 1]
  if xff then
    return prefix .. all:sub(start, start + width - 2)
      .. string.format("\r\nX-Forwarded-For: 10.%d.%d.%d", math.floor(client / 65536) % 256, math.floor(client / 256) % 256, client % 256)
      .. suffix
  end
  return prefix .. all:sub(start, start + width - 2) .. suffix
end

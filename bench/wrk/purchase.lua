-- wrk script: POST a purchase with a different shopper token on each request.
-- BENCH_TOKENS names a file of tokens of one length, one per line (see shoppers.lua). The request
-- is built by hand with the token early in it: LuaJIT hashes long strings from a few sampled
-- bytes, and requests that differed only outside those bytes would all land in one bucket of its
-- string table. BENCH_XFF=1: each request from its own client address.
-- BENCH_PATHS=/a,/b,…: the requests go to these paths in turn (several sales) instead of wrk's.
local shoppers = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "shoppers.lua")
local all, width, count, step, index, prefixes, paths, suffix

function init(args)
  all, width, count, index, step = shoppers.read("BENCH_TOKENS")
  local body = '{"quantity":1}'
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
  if shoppers.xff then return prefix .. all:sub(start, start + width - 2) .. shoppers.client(client) .. suffix end
  return prefix .. all:sub(start, start + width - 2) .. suffix
end

-- wrk script: GET a waiting room's queue with a different shopper on each request, each with
-- the ticket the gateway signed for them (a poll the gateway answers from memory).
-- BENCH_POLLERS names a file of "<token> <ticket>" lines of one length; kept as one string and
-- sliced per request, like purchase.lua (whose notes apply). Each wrk thread takes every
-- BENCH_THREADS-th line from BENCH_TOKEN_OFFSET on. BENCH_XFF=1: each shopper from its own client
-- address, as in purchase.lua.
local all, width, count, step, index, prefix, suffix, tokenWidth, xff

local threads_set_up = 0

function setup(thread)
  thread:set("thread_id", threads_set_up)
  threads_set_up = threads_set_up + 1
end

function init(args)
  local file = assert(io.open(os.getenv("BENCH_POLLERS"), "rb"))
  all = file:read("*a")
  file:close()
  width = all:find("\n", 1, true)
  tokenWidth = all:find(" ", 1, true) - 1
  count = math.floor(#all / width)
  step = tonumber(os.getenv("BENCH_THREADS") or "1")
  index = ((tonumber(os.getenv("BENCH_TOKEN_OFFSET") or "0") or 0) + (tonumber(thread_id) or 0)) % count
  xff = os.getenv("BENCH_XFF") == "1"
  prefix = "GET " .. wrk.path .. "?ticket="
  suffix = "\r\nHost: " .. wrk.host .. ":" .. wrk.port .. "\r\n\r\n"
end

function request()
  local start = index * width + 1
  local client = index
  index = (index + step) % count
  local token = all:sub(start, start + tokenWidth - 1)
  local ticket = all:sub(start + tokenWidth + 1, start + width - 2)
  if xff then
    return prefix .. ticket .. " HTTP/1.1\r\nAuthorization: Bearer " .. token
      .. string.format("\r\nX-Forwarded-For: 10.%d.%d.%d", math.floor(client / 65536) % 256, math.floor(client / 256) % 256, client % 256)
      .. suffix
  end
  return prefix .. ticket .. " HTTP/1.1\r\nAuthorization: Bearer " .. token .. suffix
end

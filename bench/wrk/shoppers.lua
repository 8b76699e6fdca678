-- What purchase.lua and queue-poll.lua share (each loads it with dofile): a file of shoppers'
-- lines of one length, kept as one string and sliced per request, since a table of 100,000s of
-- strings would make wrk's garbage collector the bottleneck; each wrk thread takes every
-- BENCH_THREADS-th line from BENCH_TOKEN_OFFSET on, so no two requests share a shopper while the
-- file lasts; BENCH_XFF=1 gives each shopper a client address of its own (X-Forwarded-For from a
-- trusted proxy, as behind a CDN), so nginx's per-IP limits see one client per request.
local shoppers = {}

-- wrk threads have no id of their own: number them as setup() sees them.
local threads_set_up = 0

function setup(thread)
  thread:set("thread_id", threads_set_up)
  threads_set_up = threads_set_up + 1
end

-- The file named by the environment variable `name`: its text, line width (with the newline),
-- line count, this thread's first line and its step through them.
function shoppers.read(name)
  local file = assert(io.open(os.getenv(name), "rb"))
  local all = file:read("*a")
  file:close()
  local width = all:find("\n", 1, true)
  local count = math.floor(#all / width)
  local step = tonumber(os.getenv("BENCH_THREADS") or "1")
  local index = ((tonumber(os.getenv("BENCH_TOKEN_OFFSET") or "0") or 0) + (tonumber(thread_id) or 0)) % count
  return all, width, count, index, step
end

shoppers.xff = os.getenv("BENCH_XFF") == "1"

-- The X-Forwarded-For header of line `client`.
function shoppers.client(client)
  return string.format("\r\nX-Forwarded-For: 10.%d.%d.%d", math.floor(client / 65536) % 256, math.floor(client / 256) % 256, client % 256)
end

return shoppers

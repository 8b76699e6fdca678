-- wrk script: GET a waiting room's queue with a different shopper on each request, each with
-- the ticket the gateway signed for them (a poll the gateway answers from memory).
-- BENCH_POLLERS names a file of "<token> <ticket>" lines of one length (see shoppers.lua; the
-- notes in purchase.lua apply). BENCH_XFF=1: each shopper from its own client address.
local shoppers = dofile((debug.getinfo(1, "S").source:match("^@(.*/)") or "") .. "shoppers.lua")
local all, width, count, step, index, prefix, suffix, tokenWidth

function init(args)
  all, width, count, index, step = shoppers.read("BENCH_POLLERS")
  tokenWidth = all:find(" ", 1, true) - 1
  prefix = "GET " .. wrk.path .. "?ticket="
  suffix = "\r\nHost: " .. wrk.host .. ":" .. wrk.port .. "\r\n\r\n"
end

function request()
  local start = index * width + 1
  local client = index
  index = (index + step) % count
  local token = all:sub(start, start + tokenWidth - 1)
  local ticket = all:sub(start + tokenWidth + 1, start + width - 2)
  if shoppers.xff then return prefix .. ticket .. " HTTP/1.1\r\nAuthorization: Bearer " .. token .. shoppers.client(client) .. suffix end
  return prefix .. ticket .. " HTTP/1.1\r\nAuthorization: Bearer " .. token .. suffix
end

--[[
register-gateway.lua — a gateway checks in (each nginx worker about once a second) and learns
how many gateways are live, to take its share of every sale's admitPerSecond. Gateways that
stopped checking in are dropped with their metrics URL. Judged by Redis' clock (TIME), which
every gateway shares.

KEYS[1] gateways      sorted set: gateway id -> last check-in, epoch ms
KEYS[2] metricsUrls   hash: gateway id -> its metrics URL

ARGV[1] gatewayId
ARGV[2] metricsUrl: its own
ARGV[3] livenessMs: how long a gateway counts after its last check-in

Returns the number of live gateways (this one included)
]]
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[3]))
if #stale > 0 then
  redis.call('ZREM', KEYS[1], unpack(stale))
  redis.call('HDEL', KEYS[2], unpack(stale))
end
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])

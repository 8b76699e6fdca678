--[[
  Withdraws one sale's config from the gateways: removes its record, records the withdrawal (so
  that gateways forget the sale rather than hold it as lost by Redis) and bumps the version so
  that every gateway reloads the configs without it.

  KEYS[1] version       config version counter (CONFIG_VERSION_KEY)
  KEYS[2] configs       sale configs hash (SALE_CONFIGS_KEY; KEYS[1..4] share one hash tag)
  KEYS[3] epoch         config epoch (CONFIG_EPOCH_KEY)
  KEYS[4] withdrawals   withdrawn sales hash (SALE_WITHDRAWALS_KEY)

  ARGV[1] saleId

  Returns the new config version.
]]
redis.call('HDEL', KEYS[2], ARGV[1])
local version = redis.call('INCR', KEYS[1])
if version == 1 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[3], t[1] .. '.' .. t[2])
end
redis.call('HSET', KEYS[4], ARGV[1], version)
return version

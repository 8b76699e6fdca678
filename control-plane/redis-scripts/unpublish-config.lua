--[[
  Withdraws one sale's config from the gateways: removes its record and bumps the version so
  that every gateway reloads the configs without it.

  KEYS[1] config version counter     (CONFIG_VERSION_KEY)
  KEYS[2] sale configs hash           (SALE_CONFIGS_KEY; same hash tag as KEYS[1])

  ARGV[1] sale id

  Returns the new config version.
]]
redis.call('HDEL', KEYS[2], ARGV[1])
return redis.call('INCR', KEYS[1])

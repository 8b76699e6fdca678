--[[
  Publishes one sale's config to the gateways: a new version, written into the record.
  Run after prepare-sale.lua, so a gateway never sees a config whose stock is not loaded.

  KEYS[1] config version counter     (CONFIG_VERSION_KEY)
  KEYS[2] sale configs hash           (SALE_CONFIGS_KEY; same hash tag as KEYS[1])

  ARGV[1] sale id
  ARGV[2] the sale record, JSON, without `version`

  Returns the new config version.
]]
local record = cjson.decode(ARGV[2])
local version = redis.call('INCR', KEYS[1])
record['version'] = version
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
return version

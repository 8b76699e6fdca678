--[[
  Publishes one sale's config to the gateways, all at once.

  Input:
    KEYS[1] config version counter     (CONFIG_VERSION_KEY)
    KEYS[2] sale configs hash           (SALE_CONFIGS_KEY)
    KEYS[3] the sale's stock            (saleKeys(id).stock)
    KEYS[4] the sale's order stream     (saleKeys(id).stream)

    ARGV[1] sale id
    ARGV[2] the sale record, JSON, without `version`
    ARGV[3] total stock
    ARGV[4] consumer group of the order workers

  Output:
    {version, stockPreloaded}
      version         the new config version, also written into the record
      stockPreloaded  1 when this call set the stock; 0 when the sale already had one,
                      which is kept: a live sale's count must never be reset
]]
local record = cjson.decode(ARGV[2])

-- First, as it is the only step that can fail on existing data: a failure here
-- leaves the published config untouched (scripts do not roll back).
local group = redis.pcall('XGROUP', 'CREATE', KEYS[4], ARGV[4], '0', 'MKSTREAM')
if type(group) == 'table' and group.err and not string.find(group.err, 'BUSYGROUP', 1, true) then
  return group
end

local version = redis.call('INCR', KEYS[1])
record['version'] = version
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
local preloaded = redis.call('SET', KEYS[3], ARGV[3], 'NX')
return {version, preloaded and 1 or 0}

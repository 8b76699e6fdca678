--[[
  Publishes one sale's config to the gateways: a new version, written into the record. Run
  after the sale's own keys are built and applied, so a gateway never sees a config whose
  stock is not loaded. Ordered by the sale's revision (a member of the record): a record of
  the same or a newer revision in place is kept, so a retried or late publish never undoes a
  newer change.

  KEYS[1] config version counter     (CONFIG_VERSION_KEY)
  KEYS[2] sale configs hash           (SALE_CONFIGS_KEY; same hash tag as KEYS[1])

  ARGV[1] sale id
  ARGV[2] the sale record, JSON, without `version`, with `revision`

  Returns
    {1, version}   written with a new config version
    {0, version}   a record of this revision or a newer one was in place: nothing written;
                   its version
]]
local record = cjson.decode(ARGV[2])
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current then
  local old = cjson.decode(current)
  if tonumber(old['revision'] or 0) >= tonumber(record['revision']) then return {0, old['version']} end
end
local version = redis.call('INCR', KEYS[1])
record['version'] = version
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
return {1, version}

--[[
  Publishes one sale's config to the gateways: a new version, written into the record. Run
  after the sale's own keys are built and applied, so a gateway never sees a config whose
  stock is not loaded. Ordered by the sale's revision (a member of the record): a record of
  the same or a newer revision in place is kept, so a retried or late publish never undoes a
  newer change. A new version counter gets a new epoch, and a withdrawal of the sale is undone.

  KEYS[1] version       config version counter (CONFIG_VERSION_KEY)
  KEYS[2] configs       sale configs hash (SALE_CONFIGS_KEY; KEYS[1..4] share one hash tag)
  KEYS[3] epoch         config epoch (CONFIG_EPOCH_KEY)
  KEYS[4] withdrawals   withdrawn sales hash (SALE_WITHDRAWALS_KEY)

  ARGV[1] saleId
  ARGV[2] record: the sale's, JSON, without `version`, with `revision`

  Returns
    {1, version}   published: written with a new config version
    {0, version}   kept: a record of this revision or a newer one was in place: nothing written;
                   its version
]]
local record = cjson.decode(ARGV[2])
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current then
  local old = cjson.decode(current)
  if tonumber(old['revision'] or 0) >= tonumber(record['revision']) then return {0, old['version']} end
end
local version = redis.call('INCR', KEYS[1])
if version == 1 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[3], t[1] .. '.' .. t[2])
end
record['version'] = version
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(record))
redis.call('HDEL', KEYS[4], ARGV[1])
return {1, version}

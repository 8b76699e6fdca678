--[[
  withdraw-sale.lua — drops a sale's keys for its delete, unless Redis holds orders of it:
  order records, order numbers handed out, or stream entries the order workers have not
  acknowledged (not yet in Postgres). Atomic with purchases: once the keys are gone (the fence
  with them), nothing sells.

  KEYS[1] orders   KEYS[2] orderSeq   KEYS[3] stream
  KEYS[4 ..] saleKeys   every key of the sale (or of its bucket), dropped

  ARGV[1] group: the order workers' consumer group

  Returns
    {1}                                  dropped
    {0, orders, seq, unacknowledged}     refused: nothing written
]]
local orders = redis.call('HLEN', KEYS[1]) / 2 -- two fields per order: its record and its status
local seq = tonumber(redis.call('GET', KEYS[2]) or '0')
local unacked = 0
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- Without the group, or when it cannot tell its lag, every entry counts.
  unacked = redis.call('XLEN', KEYS[3])
  for _, g in ipairs(redis.call('XINFO', 'GROUPS', KEYS[3])) do
    local info = {}
    for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
    if info['name'] == ARGV[1] and type(info['lag']) == 'number' then unacked = info['pending'] + info['lag'] end
  end
end
if orders > 0 or seq > 0 or unacked > 0 then return {0, orders, seq, unacked} end
redis.call('DEL', unpack(KEYS, 4))
return {1}

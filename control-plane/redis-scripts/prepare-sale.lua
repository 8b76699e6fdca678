--[[
  Prepares one sale's keys before its config is published: stock preload and the order
  stream's consumer group. Only the sale's own keys (one hash tag, one cluster slot).

  KEYS[1] the sale's stock            (saleKeys(id).stock)
  KEYS[2] the sale's order stream     (saleKeys(id).stream)
  KEYS[3] the sale's units sold       (saleKeys(id).sold)

  ARGV[1] total stock
  ARGV[2] consumer group of the order workers

  Returns
    1   this call set the stock
    0   the sale already had stock, which is kept: a live sale's count is never reset; or it
        has units sold but no stock (Redis lost it): the total would oversell, so nothing is
        loaded and reconciliation reports the missing units
    an error reply when the consumer group cannot be created (nothing written then)
]]
-- First, as it is the only step that can fail on existing data (scripts do not roll back).
local group = redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[2], '0', 'MKSTREAM')
if type(group) == 'table' and group.err and not string.find(group.err, 'BUSYGROUP', 1, true) then
  return group
end
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local preloaded = redis.call('SET', KEYS[1], ARGV[1], 'NX')
return preloaded and 1 or 0

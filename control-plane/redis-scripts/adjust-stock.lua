--[[
  Raises or lowers the units left of a sale by the change of its total, atomically with the
  purchases: units left never go below 0, so the total never goes below what is sold or
  reserved.

  KEYS[1] the sale's stock (units left)   (saleKeys(id).stock)

  ARGV[1] change of the total, a whole number (negative to lower it)

  Returns {status, units left}
    {1, left after}   applied
    {0, left}         refused: left + change < 0 (nothing written)
    {-1, 0}           no stock loaded (never published, or Redis lost it): nothing to adjust,
                      the next publish preloads the new total
]]
local left = redis.call('GET', KEYS[1])
if not left then return {-1, 0} end
left = tonumber(left)
local change = tonumber(ARGV[1])
if left + change < 0 then return {0, left} end
return {1, redis.call('INCRBY', KEYS[1], change)}

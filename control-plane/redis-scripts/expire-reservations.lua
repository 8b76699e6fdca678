--[[
expire-reservations.lua — expire the unpaid orders that are due, each order once: mode
`reserve` gives their units back to stock; mode `payment` (no units taken yet) frees their
places under the bound on open unpaid orders. Orders are walked by number from a stored
cursor; acceptance times grow with the number (up to the gateways' clock skew, which can only
make an order expire a little late), so the walk stops at the first order not yet due. Atomic with purchases and payments
(redis-scripts/pay-order.lua of the gateway): an order paid first is skipped, an order expired
first can no longer be paid.

KEYS[1] stock          string: units left
KEYS[2] sold           string: units taken
KEYS[3] orderSeq       string: last order number
KEYS[4] orders         hash: <n> -> "user\tqty\tacceptedAtMs", <n>:s -> status
KEYS[5] expiryCursor   string: last order number walked past
KEYS[6] statusChanges  stream of status changes (fields: n status) for Postgres
KEYS[7] openUnpaid     string: open unpaid orders (mode `payment`)

ARGV[1] payment timeout, ms
ARGV[2] now, epoch ms
ARGV[3] most orders to walk in this call (bounds the time Redis is held)
ARGV[4] the sale's deduction: "reserve" or "payment"

Returns
  {expiredOrders, unitsReturned, cursor, more}   more = 1 when the walk stopped at ARGV[3];
                                                 unitsReturned is 0 in mode `payment`
]]
local timeout = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local returnsUnits = ARGV[4] == 'reserve'
local cursor = tonumber(redis.call('GET', KEYS[5]) or '0')
local last = tonumber(redis.call('GET', KEYS[3]) or '0')

local expired, units = 0, 0
local n = cursor + 1
while n <= last and n <= cursor + budget do
  local record = redis.call('HGET', KEYS[4], n)
  if record then
    local qty, acceptedAt = string.match(record, '\t(%d+)\t(%d+)$')
    if tonumber(acceptedAt) + timeout > now then break end
    local status = redis.call('HGET', KEYS[4], n .. ':s')
    if status == 'pending' or status == 'confirmed' then
      redis.call('HSET', KEYS[4], n .. ':s', 'expired')
      redis.call('XADD', KEYS[6], '*', 'n', n, 'status', 'expired')
      expired = expired + 1
      if returnsUnits then units = units + tonumber(qty) end
    end
  end
  n = n + 1
end

if n - 1 > cursor then redis.call('SET', KEYS[5], n - 1) end
if units > 0 then
  redis.call('INCRBY', KEYS[1], units)
  redis.call('DECRBY', KEYS[2], units)
end
if not returnsUnits and expired > 0 then redis.call('DECRBY', KEYS[7], expired) end
local more = 0
if n <= last and n > cursor + budget then more = 1 end
return {expired, units, n - 1, more}

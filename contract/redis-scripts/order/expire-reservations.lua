--[[
expire-reservations.lua — expire the unpaid orders that are due, each order once: mode
`reserve` gives their units back to stock; mode `payment` (no units taken yet) frees their
places under the bound on open unpaid orders. Orders are walked by number from a stored
cursor; acceptance times grow with the number (both come from this Redis, in one script), so
the walk stops at the first order not yet due. Atomic with purchases and payments
(redis-scripts/pay-order.lua of the gateway): an order paid first is skipped, an order expired
first can no longer be paid.

KEYS[1] stock          string: units left
KEYS[2] sold           string: units taken
KEYS[3] orderSeq       string: last order number
KEYS[4] orders         hash: <n> -> order record (includes/order-record.lua), <n>:s -> status
KEYS[5] expiryCursor   string: last order number walked past
KEYS[6] statusChanges  stream of status changes (includes/order-status.lua)
KEYS[7] openUnpaid     string: open unpaid orders (mode `payment`)
KEYS[8] meta           hash: fence ("<run id>:<epoch>")

ARGV[1] timeoutMs: the payment timeout
ARGV[2] budget: most orders to walk in this call (bounds the time Redis is held)
ARGV[3] deduction: the sale's, "reserve" or "payment"

Judged by Redis' clock (TIME), the one that stamped the orders' acceptance. Does nothing while
the sale is held (its state not built on this Redis process: see purchase.lua).

Returns
  {expiredOrders, unitsReturned, cursor, more}   walked: more = 1 when the walk stopped at ARGV[2];
                                                 unitsReturned is 0 in mode `payment`
  {-1}                                           held: nothing done
]]
-- @include order-record
-- @include order-status
-- @include fence
if not builtFence(KEYS[8]) then return {-1} end

local timeout = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local budget = tonumber(ARGV[2])
local returnsUnits = ARGV[3] == 'reserve'
local cursor = tonumber(redis.call('GET', KEYS[5]) or '0')
local last = tonumber(redis.call('GET', KEYS[3]) or '0')

local expired, units = 0, 0
local n = cursor + 1
while n <= last and n <= cursor + budget do
  local record = redis.call('HGET', KEYS[4], n)
  if record then
    local user, qty, acceptedAt, epoch = parseOrderRecord(record)
    if tonumber(acceptedAt) + timeout > now then break end
    local status = redis.call('HGET', KEYS[4], statusField(n))
    if status == 'pending' or status == 'confirmed' then
      changeStatus(KEYS[4], KEYS[6], n, epoch, user, 'expired')
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

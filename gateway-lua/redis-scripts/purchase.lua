--[[
purchase.lua — accept one shopper's order, all or nothing, in one round trip. Modes `order`
and `reserve` take the units now; mode `payment` (ARGV[7] > 0) takes none: it counts the
order as open and unpaid, and pay-order.lua takes the units when the order is paid.

Validates everything before the first write (Redis scripts do not roll back).

KEYS[1] stock       string: units left
KEYS[2] sold        string: units taken for good
KEYS[3] buyers      hash: user id -> units granted
KEYS[4] orderSeq    string: last order number
KEYS[5] orders      hash: <n> -> "user\tqty\tacceptedAtMs", <n>:s -> status
KEYS[6] stream      stream of accepted orders (fields: order sale user qty uunits at rid)
KEYS[7] openUnpaid  string: open unpaid orders (mode `payment`)
KEYS[8] usedChallenge  (only for sales with a challenge) string set once the challenge is used

ARGV[1] sale id
ARGV[2] user id
ARGV[3] quantity (whole, >= 1)
ARGV[4] per-user limit (units)
ARGV[5] now, epoch ms
ARGV[6] request id
ARGV[7] most open unpaid orders (mode `payment`); 0: the units are taken now (`order`, `reserve`)
ARGV[8] (with KEYS[8]) how long to keep the used-challenge mark, ms: the challenge's remaining life

Returns
  {0, orderNo, unitsLeft}   accepted; order id is "<sale id>.<orderNo>"
  {1}                       sold out: no units left
  {2}                       limit reached: the user would exceed the per-user limit
  {3, unitsLeft}            fewer units left than asked for
  {4}                       stock not loaded for this sale
  {5}                       the challenge was used already (by another gateway)
  {6}                       mode `payment`: the most open unpaid orders are waiting for payment
]]
local stock = tonumber(redis.call('GET', KEYS[1]))
if stock == nil then return {4} end
if stock <= 0 then return {1} end

local user = ARGV[2]
local qty = tonumber(ARGV[3])
local held = tonumber(redis.call('HGET', KEYS[3], user) or '0')
if held + qty > tonumber(ARGV[4]) then return {2} end
if stock < qty then return {3, stock} end
local openUnpaidBound = tonumber(ARGV[7])
local takesUnitsNow = openUnpaidBound == 0
if not takesUnitsNow and tonumber(redis.call('GET', KEYS[7]) or '0') >= openUnpaidBound then return {6} end
-- The first write, made only when every check above passed; a used challenge writes nothing.
if KEYS[8] and not redis.call('SET', KEYS[8], '1', 'NX', 'PX', ARGV[8]) then return {5} end

local left = stock
if takesUnitsNow then
  left = redis.call('DECRBY', KEYS[1], qty)
  redis.call('INCRBY', KEYS[2], qty)
else
  redis.call('INCR', KEYS[7])
end
local units = redis.call('HINCRBY', KEYS[3], user, qty)
local n = redis.call('INCR', KEYS[4])
local orderId = ARGV[1] .. '.' .. n
redis.call('HSET', KEYS[5], n, user .. '\t' .. qty .. '\t' .. ARGV[5], n .. ':s', 'pending')
redis.call('XADD', KEYS[6], '*',
  'order', orderId, 'sale', ARGV[1], 'user', user, 'qty', qty,
  'uunits', units, 'at', ARGV[5], 'rid', ARGV[6])
return {0, n, left}

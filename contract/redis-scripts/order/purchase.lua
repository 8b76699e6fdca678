--[[
purchase.lua — accept one shopper's order, all or nothing, in one round trip. Modes `order`
and `reserve` take the units now; mode `payment` (ARGV[6] > 0) takes none: it counts the
order as open and unpaid, and pay-order.lua takes the units when the order is paid.

Validates everything before the first write (Redis scripts do not roll back; refusal {10} counts
itself in the meta hash, whose type the first read established, and writes nothing else): the only write
that can fail (XADD: a stream key of another type, or out of memory, which Redis checks at a
script's first write only) comes first; after it come MSET, which overwrites any type, and
HSETs of hashes whose type a read above has established (buyers, orders, userOrders). So an error leaves nothing
half-written. The sale's window is judged by Redis' clock (TIME), the one clock every gateway
shares, and so is the order's acceptance time.

KEYS[1] stock       string: units left
KEYS[2] sold        string: units taken for good
KEYS[3] buyers      hash: user id -> units granted
KEYS[4] orderSeq    string: last order number
KEYS[5] orders      hash: <n> -> order record (includes/order-record.lua), <n>:s -> status
KEYS[6] stream      stream of accepted orders (fields: order sale user qty uunits at rid price cur)
KEYS[7] openUnpaid  string: open unpaid orders (mode `payment`)
KEYS[8] meta        hash: fence ("<run id>:<epoch>"), startsAt, endsAt (epoch ms), paused; for a
                    sale in stock buckets (core/buckets.ts) also step (K), first (the bucket's
                    first order number), shared ("1" while another bucket may hold units) and
                    wants (refusals {10} counted for the control plane, which moves units to
                    the buckets where shoppers wait)
KEYS[9] userOrders  hash: user id -> the user's order numbers, space-separated (GET /api/orders)
KEYS[10 ..] usedChallenge  (only for sales with a challenge) string set once the challenge is used

ARGV[1] saleId
ARGV[2] userId
ARGV[3] quantity (whole, >= 1)
ARGV[4] perUserLimit (units)
ARGV[5] requestId
ARGV[6] openUnpaidBound: most open unpaid orders (mode `payment`); 0: the units are taken now (`order`, `reserve`)
ARGV[7] runId: of the Redis process the caller's connection reached (INFO server, read when
        the connection was made: a connection never outlives its server process)
ARGV[8] passEpoch: the epoch of the waiting-room pass the purchase carries, or "" (no waiting room): a pass
        is for the queue of one build of the sale; after a rebuild (a new epoch) it is refused
ARGV[9] price: per unit, minor units (whole, >= 0): the sale's as the caller has it published
        (what GET /api/sales/{id} shows); the order keeps it, whatever the sale's price becomes
ARGV[10] currency: of the price (ISO 4217, e.g. "USD")
ARGV[11 ..] challengeTtlMs: (with usedChallenge) how long to keep the used-challenge mark, ms: the challenge's remaining life

Returns
  {0, orderId, unitsLeft}   accepted; orderId is "<sale id>.<epoch>.<n>"
  {1}                       sold out: no units left
  {2}                       limit reached: the user would exceed the per-user limit
  {3, unitsLeft}            fewer units left than asked for
  {4}                       state not loaded: units left, the counter (sold or openUnpaid) or
                            orderSeq missing, or of another type (all three set by open-sale.lua)
  {5}                       the challenge was used already (by another gateway)
  {6}                       mode `payment`: the most open unpaid orders are waiting for payment
  {-1}                      held: the sale's state was not built on this Redis process (a
                            restart, a failover, lost keys): nothing is sold until it is rebuilt
  {8, why}                  not open by Redis' clock: why is "upcoming", "ended" or "paused"
  {9}                       the pass is of another epoch: the queue it was given in is gone
  {10}                      stock buckets: this bucket has fewer units than asked for, and another
                            bucket may have some (not sold out: the control plane moves units here)
]]
-- @include order-record
-- @include order-status
-- @include fence
local meta = redis.call('HMGET', KEYS[8], 'fence', 'startsAt', 'endsAt', 'paused', 'step', 'first', 'shared')
local fence = meta[1]
if not fenceHolds(fence, ARGV[7]) then return {-1} end
local epoch = fenceEpoch(fence)
if ARGV[8] and ARGV[8] ~= '' and ARGV[8] ~= epoch then return {9} end
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
if now < tonumber(meta[2]) then return {8, 'upcoming'} end
if now >= tonumber(meta[3]) then return {8, 'ended'} end
if meta[4] == '1' then return {8, 'paused'} end

local openUnpaidBound = tonumber(ARGV[6])
local takesUnitsNow = openUnpaidBound == 0
-- Mode `order`/`reserve` counts the units taken (sold); mode `payment` the open unpaid orders.
local counterKey = takesUnitsNow and KEYS[2] or KEYS[7]
-- MGET answers nil for a missing key and for one of another type: a built sale has all three
-- (open-sale.lua), so a nil refuses, and a value that is no number raises, before any write.
local counters = redis.call('MGET', KEYS[1], counterKey, KEYS[4])
if not (counters[1] and counters[2] and counters[3]) then return {4} end
local stock = tonumber(counters[1])
local shared = meta[7] == '1'
-- The one write of a refusal: counted demand tells the control plane where to move units.
local function bucketEmpty()
  redis.call('HINCRBY', KEYS[8], 'wants', 1)
  return {10}
end
if stock <= 0 then return shared and bucketEmpty() or {1} end

local user = ARGV[2]
local qty = tonumber(ARGV[3])
local units = tonumber(redis.call('HGET', KEYS[3], user) or '0') + qty
if units > tonumber(ARGV[4]) then return {2} end
if stock < qty then return shared and bucketEmpty() or {3, stock} end
local counted = tonumber(counters[2]) + (takesUnitsNow and qty or 1)
if not takesUnitsNow and counted > openUnpaidBound then return {6} end
-- One bucket (no step): 1, 2, 3 …; bucket b of K: b + 1, then every K-th.
local seq = tonumber(counters[3])
local n = seq > 0 and seq + tonumber(meta[5] or '1') or tonumber(meta[6] or '1')
-- A taken number means the counter is behind its orders (lost alone): never overwrite one.
if redis.call('HEXISTS', KEYS[5], n) == 1 then return redis.error_reply('ERR order number ' .. n .. ' is taken: the counter is behind') end
if KEYS[10] and redis.call('EXISTS', KEYS[10]) == 1 then return {5} end
local mine = redis.call('HGET', KEYS[9], user)

local orderId = ARGV[1] .. '.' .. epoch .. '.' .. n
-- Before the first write: a price or currency missing raises here, with nothing written.
local record = formatOrderRecord(user, qty, now, epoch, ARGV[9], ARGV[10])
redis.call('XADD', KEYS[6], '*',
  'order', orderId, 'sale', ARGV[1], 'user', user, 'qty', qty,
  'uunits', units, 'at', now, 'rid', ARGV[5], 'price', ARGV[9], 'cur', ARGV[10])
if KEYS[10] then redis.call('SET', KEYS[10], '1', 'PX', ARGV[11]) end
local left = stock
if takesUnitsNow then left = stock - qty end
redis.call('MSET', KEYS[1], left, counterKey, counted, KEYS[4], n)
redis.call('HSET', KEYS[3], user, units)
redis.call('HSET', KEYS[5], n, record, statusField(n), 'pending')
redis.call('HSET', KEYS[9], user, mine and (mine .. ' ' .. n) or n)
return {0, orderId, left}

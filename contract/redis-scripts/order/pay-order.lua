--[[
pay-order.lua — mark one unpaid order paid, atomically with the order expiry
(control-plane/redis-scripts/expire-reservations.lua): whichever runs first decides the order.
Mode `reserve`: the order's units were taken at acceptance. Mode `payment`: the payment takes
them now, or, when too few are left, the order fails; either way it is no longer open.
Run by the gateway (POST /api/orders/{id}/pay, the shopper) and by the control plane (the
payment provider's signed webhook).

Validates before the first write (Redis scripts do not roll back); paying an order already
paid, or already failed, writes nothing and answers as the first payment did. Refuses while
the sale is held (its state not built on this Redis process: see purchase.lua); a payment is
rare, so the script reads the run id itself (INFO) rather than trusting a caller's.

KEYS[1] orders         hash: <n> -> order record (includes/order-record.lua), <n>:s -> status
KEYS[2] paid           string: units paid
KEYS[3] statusChanges  stream of status changes (includes/order-status.lua)
KEYS[4] stock          string: units left (mode `payment`)
KEYS[5] sold           string: units taken (mode `payment`)
KEYS[6] openUnpaid     string: open unpaid orders (mode `payment`)
KEYS[7] meta           hash: fence ("<run id>:<epoch>")

ARGV[1] orderNo
ARGV[2] userId: the order must belong to (the shopper's); empty for the signed webhook
ARGV[3] deduction: the sale's, "reserve" or "payment"
ARGV[4] epoch: of the order id; an order of this number from another epoch is another order

Returns
  {0, qty, price, currency}   paid now; price per unit (minor units) and currency are the order's
                              own (absent for a record written before orders carried them)
  {1, qty, price, currency}   already paid: nothing written
  {2}                         the order expired (or is otherwise not payable): nothing written
  {3}                         no such order for this user
  {4}                         mode `payment`: too few units were left, the order failed (now or before)
  {-1}                        held: the sale is being rebuilt; nothing written
]]
-- @include order-record
-- @include order-status
-- @include fence
if not builtFence(KEYS[7]) then return {-1} end

local n = ARGV[1]
local record = redis.call('HGET', KEYS[1], n)
if not record then return {3} end
local user, qty, _, epoch, price, currency = parseOrderRecord(record)
if epoch ~= ARGV[4] then return {3} end
if ARGV[2] ~= '' and user ~= ARGV[2] then return {3} end
qty = tonumber(qty)

local status = redis.call('HGET', KEYS[1], statusField(n))
if status == 'paid' then return {1, qty, price, currency} end
if status == 'failed' then return {4} end
if status ~= 'pending' and status ~= 'confirmed' then return {2} end

if ARGV[3] == 'payment' then
  redis.call('DECR', KEYS[6])
  if tonumber(redis.call('GET', KEYS[4]) or '0') < qty then
    changeStatus(KEYS[1], KEYS[3], n, epoch, user, 'failed')
    return {4}
  end
  redis.call('DECRBY', KEYS[4], qty)
  redis.call('INCRBY', KEYS[5], qty)
end
redis.call('INCRBY', KEYS[2], qty)
changeStatus(KEYS[1], KEYS[3], n, epoch, user, 'paid')
return {0, qty, price, currency}

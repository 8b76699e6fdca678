--[[
confirm-orders.lua — after the worker committed a batch to Postgres: mark the batch's orders
confirmed and acknowledge its entries of the sale's two streams (orders, status changes), in one
round trip. One sale per call (all keys of a sale share the hash tag {sale:<id>}, so this also
runs on Redis Cluster).

KEYS[1] orders         hash: <n> -> "user\tqty\tacceptedAtMs\tepoch", <n>:s -> order status
KEYS[2] stream         the sale's order stream
KEYS[3] statusChanges  the sale's status change stream

ARGV[1]                   consumer group
ARGV[2]                   k: how many orders follow
ARGV[3]                   j: how many order stream entry ids follow them
ARGV[4 .. 3+2k]           the orders now in Postgres: number, epoch (a pair each)
ARGV[4+2k .. 3+2k+j]      order stream entry ids to acknowledge (committed, set aside and malformed)
ARGV[4+2k+j .. #ARGV]     status change entry ids to acknowledge (applied in Postgres, malformed)

Only a `pending` status becomes `confirmed`, and only when the record of that number is of
the same epoch (the number may be another order's after a rebuild): a status already moved on
(paid, expired, failed) is left alone, and a missing field is not created.

Returns
  {confirmed, acked}   statuses moved pending -> confirmed, entries acknowledged (both streams)
]]
local k, j = tonumber(ARGV[2]), tonumber(ARGV[3])
local confirmed = 0
for i = 4, 2 + 2 * k, 2 do
  local n, epoch = ARGV[i], ARGV[i + 1]
  local status = n .. ':s'
  if redis.call('HGET', KEYS[1], status) == 'pending' then
    local record = redis.call('HGET', KEYS[1], n)
    if record and string.match(record, '\t(%d+)$') == epoch then
      redis.call('HSET', KEYS[1], status, 'confirmed')
      confirmed = confirmed + 1
    end
  end
end

-- XACK in slices: unpack() is bounded by Lua's C stack (about 8000 values).
local acked = 0
local slice = 1000
local function ack(stream, from, to)
  for i = from, to, slice do
    acked = acked + redis.call('XACK', stream, ARGV[1], unpack(ARGV, i, math.min(i + slice - 1, to)))
  end
end
ack(KEYS[2], 4 + 2 * k, 3 + 2 * k + j)
ack(KEYS[3], 4 + 2 * k + j, #ARGV)
return {confirmed, acked}

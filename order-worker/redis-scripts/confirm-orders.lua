--[[
confirm-orders.lua — after the worker committed a batch to Postgres: mark the batch's orders
confirmed and acknowledge their stream entries, in one round trip. One sale per call (all
keys of a sale share the hash tag {sale:<id>}, so this also runs on Redis Cluster).

KEYS[1] orders   hash: <n> -> "user\tqty\tacceptedAtMs\tepoch", <n>:s -> order status
KEYS[2] stream   the sale's order stream

ARGV[1]                consumer group
ARGV[2]                k: how many orders follow
ARGV[3 .. 2+2k]        the orders now in Postgres: number, epoch (a pair each)
ARGV[3+2k .. #ARGV]    stream entry ids to acknowledge (committed, set aside and malformed entries)

Only a `pending` status becomes `confirmed`, and only when the record of that number is of
the same epoch (the number may be another order's after a rebuild): a status the control
plane has already moved on (paid, expired) is left alone, and a missing field is not created.

Returns
  {confirmed, acked}   statuses moved pending -> confirmed, entries acknowledged
]]
local k = tonumber(ARGV[2])
local confirmed = 0
for i = 3, 1 + 2 * k, 2 do
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
for i = 3 + 2 * k, #ARGV, slice do
  acked = acked + redis.call('XACK', KEYS[2], ARGV[1], unpack(ARGV, i, math.min(i + slice - 1, #ARGV)))
end
return {confirmed, acked}

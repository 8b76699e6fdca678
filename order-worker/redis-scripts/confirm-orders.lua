--[[
confirm-orders.lua — after the worker committed a batch to Postgres: mark the batch's orders
confirmed and acknowledge their stream entries, in one round trip. One sale per call (all
keys of a sale share the hash tag {sale:<id>}, so this also runs on Redis Cluster).

KEYS[1] orders   hash: <n>:s -> order status
KEYS[2] stream   the sale's order stream

ARGV[1]              consumer group
ARGV[2]              k: how many status fields follow
ARGV[3 .. 2+k]       status fields (`<n>:s`) of the orders now in Postgres
ARGV[3+k .. #ARGV]   stream entry ids to acknowledge (committed, set aside and malformed entries)

Only a `pending` status becomes `confirmed`: a status the control plane has already moved
on (paid, expired) is left alone, and a missing field is not created.

Returns
  {confirmed, acked}   statuses moved pending -> confirmed, entries acknowledged
]]
local k = tonumber(ARGV[2])
local confirmed = 0
for i = 3, 2 + k do
  if redis.call('HGET', KEYS[1], ARGV[i]) == 'pending' then
    redis.call('HSET', KEYS[1], ARGV[i], 'confirmed')
    confirmed = confirmed + 1
  end
end

-- XACK in slices: unpack() is bounded by Lua's C stack (about 8000 values).
local acked = 0
local slice = 1000
for i = 3 + k, #ARGV, slice do
  acked = acked + redis.call('XACK', KEYS[2], ARGV[1], unpack(ARGV, i, math.min(i + slice - 1, #ARGV)))
end
return {confirmed, acked}

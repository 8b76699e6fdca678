--[[
confirm-orders.lua — after the worker committed a batch to Postgres: mark orders confirmed and
acknowledge entries of the sale's two streams (orders, status changes). The worker sends a batch
in chunks (order-confirmer.ts: up to 50 orders or 200 entries a call) so that one call holds
Redis well under a millisecond; a chunk may carry orders, entries or both. One sale per call
(all keys of a sale share the hash tag {sale:<id>}, so this also runs on Redis Cluster).

KEYS[1] orders         hash: <n> -> order record (includes/order-record.lua), <n>:s -> order status
KEYS[2] stream         the sale's order stream
KEYS[3] statusChanges  the sale's status change stream

ARGV[1] group        consumer group
ARGV[2] orderCount   k: how many orders follow
ARGV[3] entryCount   j: how many order stream entry ids follow them
ARGV[4 ..] batch     then, in this order:
                     2k values: orders now in Postgres, number then epoch (ARGV[4 .. 3+2k]);
                     j order stream entry ids to acknowledge (committed, set aside, malformed);
                     the rest: status change entry ids to acknowledge (applied, malformed)

Only a `pending` status becomes `confirmed`, and only when the record of that number is of
the same epoch (the number may be another order's after a rebuild): a status already moved on
(paid, expired, failed) is left alone, and a missing field is not created. Running a chunk
again changes nothing (a redelivered batch, a retried call).

Returns
  {confirmed, acked}   statuses moved pending -> confirmed, entries acknowledged (both streams)
]]
-- @include order-record
-- @include order-status
local k, j = tonumber(ARGV[2]), tonumber(ARGV[3])
local confirmed = 0
if k > 0 then
  -- Every status and record of the chunk in one read, every change in one write: a call per
  -- order would cost several times as much Redis time.
  local fields = {}
  for i = 1, k do
    local n = ARGV[2 + 2 * i]
    fields[2 * i - 1], fields[2 * i] = statusField(n), n
  end
  local found = redis.call('HMGET', KEYS[1], unpack(fields))
  local changes, seen = {}, {}
  for i = 1, k do
    local status, record = fields[2 * i - 1], found[2 * i]
    if found[2 * i - 1] == 'pending' and not seen[status] and record and select(4, parseOrderRecord(record)) == ARGV[3 + 2 * i] then
      seen[status] = true
      changes[#changes + 1], changes[#changes + 2] = status, 'confirmed'
    end
  end
  if #changes > 0 then
    redis.call('HSET', KEYS[1], unpack(changes))
  end
  confirmed = #changes / 2
end

local acked = 0
local function ack(stream, from, to)
  if to >= from then acked = acked + redis.call('XACK', stream, ARGV[1], unpack(ARGV, from, to)) end
end
ack(KEYS[2], 4 + 2 * k, 3 + 2 * k + j)
ack(KEYS[3], 4 + 2 * k + j, #ARGV)
return {confirmed, acked}

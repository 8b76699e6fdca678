--[[
  open-sale.lua — the last step of building a sale's state in Redis (projection/sale-builder.ts):
  writes the counters computed from Postgres and what Redis still held, makes the consumer
  group on the order stream and on the status change stream, and sets the fence that lets the scripts sell again. Run while the
  fence is absent (the builder removes it first), so no purchase, payment or expiry interleaves.

  KEYS[1] stock       KEYS[2] sold        KEYS[3] paid       KEYS[4] openUnpaid
  KEYS[5] orderSeq    KEYS[6] stream      KEYS[7] meta       KEYS[8] statusChanges

  ARGV[1] left: units left      ARGV[2] taken: units taken     ARGV[3] paidUnits: units paid
  ARGV[4] openUnpaidOrders      ARGV[5] lastOrderNo: the highest order number known
  ARGV[6] group: the order workers' consumer group
  ARGV[7] epoch (issued by Postgres for this build)
  ARGV[8] startsAt, ARGV[9] endsAt (epoch ms), ARGV[10] paused ("0"/"1"), ARGV[11] revision
  ARGV[12 ..] bucket: (a sale in stock buckets only) step (the number of buckets), first (this
          bucket's first order number), shared ("1" while units are left in some bucket)

  Returns the run id of this Redis process, as written into the fence, or an error reply
  when the consumer group cannot be made (nothing written then).
]]
-- @include fence
-- From the first entry: a payment or an expiry may come before any worker has read the sale.
for _, stream in ipairs({KEYS[6], KEYS[8]}) do
  local group = redis.pcall('XGROUP', 'CREATE', stream, ARGV[6], '0', 'MKSTREAM')
  if type(group) == 'table' and group.err and not string.find(group.err, 'BUSYGROUP', 1, true) then
    return group
  end
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
redis.call('SET', KEYS[4], ARGV[4])
-- Always set, never lowered: the purchase script refuses a sale without it.
local seq = tonumber(redis.call('GET', KEYS[5]) or '0')
redis.call('SET', KEYS[5], math.max(seq, tonumber(ARGV[5])))
local runId = thisRunId()
if ARGV[12] then redis.call('HSET', KEYS[7], 'step', ARGV[12], 'first', ARGV[13], 'shared', ARGV[14]) end
redis.call('HSET', KEYS[7], 'fence', fenceOf(runId, ARGV[7]),
  'startsAt', ARGV[8], 'endsAt', ARGV[9], 'paused', ARGV[10], 'revision', ARGV[11])
return runId

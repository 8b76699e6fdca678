--[[
  bucket-transfer-out.lua — the first step of moving units between two stock buckets of a sale
  (projection/bucket-rebalancer.ts): takes them from this bucket and records the move, in one step,
  so a crash after it leaves a record the next run finishes (bucket-transfer-in.lua on the
  target, then the record is dropped). The buckets are on different slots: no script reaches both.

  KEYS[1] meta       hash: fence ("<run id>:<epoch>")
  KEYS[2] stock      string: units left in this bucket
  KEYS[3] transfers  hash: out:<id> -> "<to bucket> <units> <epoch>"

  ARGV[1] transferId (unique)
  ARGV[2] toBucket: the bucket the units go to
  ARGV[3] units: wanted (whole, >= 1); fewer are taken when fewer are left

  Returns
    {1, units, epoch}   taken: and recorded (units >= 1)
    {0}                 none_left: nothing written
    {-1}                held: the bucket is not built on this Redis process; nothing written
]]
-- @include fence
local fence = builtFence(KEYS[1])
if not fence then return {-1} end
local epoch = fenceEpoch(fence)
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
local units = math.min(left, tonumber(ARGV[3]))
if units <= 0 then return {0} end
redis.call('SET', KEYS[2], left - units)
redis.call('HSET', KEYS[3], 'out:' .. ARGV[1], ARGV[2] .. ' ' .. units .. ' ' .. epoch)
return {1, units, tonumber(epoch)}

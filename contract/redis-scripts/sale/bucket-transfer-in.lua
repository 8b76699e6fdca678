--[[
  bucket-transfer-in.lua — the second step of a move between stock buckets (see
  bucket-transfer-out.lua): adds the units to this bucket once per transfer id, whatever the
  number of tries (a crash before the source's record is dropped repeats this step).

  KEYS[1] meta       hash: fence ("<run id>:<epoch>")
  KEYS[2] stock      string: units left in this bucket
  KEYS[3] transfers  hash: in:<id> -> units, kept: the mark that the move was applied

  ARGV[1] transferId
  ARGV[2] units
  ARGV[3] epoch: the units were taken in

  Returns
    {1}    applied: now
    {0}    applied_before: nothing written
    {-1}   held: the bucket is not built on this Redis process; nothing written (try again)
    {-2}   rebuilt: the bucket was rebuilt since (another epoch): the rebuild counted the units from the
           orders already; nothing written, the move is void
]]
-- @include fence
local fence = builtFence(KEYS[1])
if not fence then return {-1} end
if fenceEpoch(fence) ~= ARGV[3] then return {-2} end
if redis.call('HSETNX', KEYS[3], 'in:' .. ARGV[1], ARGV[2]) == 0 then return {0} end
redis.call('INCRBY', KEYS[2], ARGV[2])
return {1}

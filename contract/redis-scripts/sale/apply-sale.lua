--[[
  apply-sale.lua — applies a sale as committed in Postgres to its own keys, after the commit:
  its window and pause (judged by the scripts with Redis' clock) and its units left, as
  absolute values, atomically with purchases, payments and expiries. Ordered by the sale's
  revision: a revision already applied, or an older one, writes nothing, so a retried or late
  apply never undoes a newer change.

  KEYS[1] meta    hash: fence ("<run id>:<epoch>"), startsAt, endsAt, paused, revision, and
                  a lowering's intent (lowerIntent, lowerTotal, lowerRevision: lower-stock.lua)
  KEYS[2] stock   string: units left
  KEYS[3] sold    string: units taken (reserved and paid; `payment` mode: paid)

  ARGV[1] revision (of the sale's row in Postgres)
  ARGV[2] total: units (the sale's stock in Postgres), or "" for a bucket of a sale in stock
          buckets (its units are set by the build and moved between buckets, never by an apply)
  ARGV[3] startsAt, ARGV[4] endsAt (epoch ms), ARGV[5] paused ("0"/"1")
  ARGV[6] undoIntent: of a lowering that never committed (its revision is above ARGV[1], read
          under the row lock), to undo; or "". Named, not "any", so that an apply Redis runs
          late never undoes a newer lowering.

  Units left become total − taken. Refuses nothing silently: a total below the units taken
  leaves 0 left and answers how many were taken. A lowering's intent in place caps the total at
  its lowerTotal until its revision is applied, which clears it; the intent named in ARGV[6] is
  dropped and units left set from this revision's total, even when this revision was applied.

  Returns
    {1, left, taken, leftBefore}   applied
    {2, 0, taken, leftBefore}      below_taken: applied, but the total is below the units taken: 0 left
    {3, left, taken, leftBefore}   undone: the intent in ARGV[6] undone (units left from this total)
    {0, revision}                  already_applied: this revision (or a newer one) was; nothing written
    {-1}                           held: the state is not built on this Redis process (see
                                   purchase.lua); nothing written, the builder applies the sale
]]
-- @include fence
if not builtFence(KEYS[1]) then return {-1} end

local meta = redis.call('HMGET', KEYS[1], 'revision', 'lowerIntent', 'lowerTotal', 'lowerRevision')
local applied = tonumber(meta[1] or '0')
local revision = tonumber(ARGV[1])
local undo = meta[2] ~= false and meta[2] == ARGV[6]
if revision <= applied and not undo then return {0, applied} end

local taken = tonumber(redis.call('GET', KEYS[3]) or '0')
local leftBefore = tonumber(redis.call('GET', KEYS[2]) or '0')
local total = tonumber(ARGV[2]) or (leftBefore + taken)
if meta[2] and not undo and revision < tonumber(meta[4]) then
  total = math.min(total, tonumber(meta[3]))
elseif meta[2] then
  redis.call('HDEL', KEYS[1], 'lowerIntent', 'lowerTotal', 'lowerRevision')
end
local left = math.max(total - taken, 0)
redis.call('SET', KEYS[2], left)
if revision > applied then
  redis.call('HSET', KEYS[1], 'startsAt', ARGV[3], 'endsAt', ARGV[4], 'paused', ARGV[5], 'revision', ARGV[1])
end
if total < taken then return {2, 0, taken, leftBefore} end
if undo then return {3, left, taken, leftBefore} end
return {1, left, taken, leftBefore}

--[[
  lower-stock.lua — the first step of lowering a sale's stock (sales/changes.ts): takes the units
  out of Redis, atomically with purchases, payments and expiries, before the lower total is
  committed to Postgres, so that Redis never sells on a total Postgres no longer holds. Only if
  the new total still covers the units taken; else nothing is written and the caller answers 409.

  The step is recorded in meta as an intent (lowerIntent, lowerTotal, lowerRevision): an apply of
  an older revision keeps units left within lowerTotal (apply-sale.lua); the apply of
  lowerRevision or later clears it (the lowering committed); an apply that names the intent
  undoes it (the lowering never committed: the change failed, or its control plane died).

  KEYS[1] meta    hash: fence, revision (applied), lowerIntent, lowerTotal, lowerRevision
  KEYS[2] stock   string: units left
  KEYS[3] sold    string: units taken (reserved and paid; `payment` mode: paid)

  ARGV[1] total: the new one (whole, >= 0)
  ARGV[2] revision: the change will commit as (the locked row's revision + 1)
  ARGV[3] intent: its id (unique per call)

  A call that Redis runs late (its caller timed out and gave up) must not lower on top of a newer
  change: it writes nothing when that revision or a later one was applied, or when another
  lowering's intent is in place (under the row lock, the caller undoes that one first when its
  revision never committed).

  Returns
    {1, left, taken}       lowered: units left are now total − taken, the intent recorded
    {0, left, taken}       refused: the new total is below the units taken; nothing written
    {2, intent, revision}  other_intent: another lowering's is in place; nothing written
    {3, revision}          already_applied: this revision (or a newer one) was; nothing written
    {-1}                   held: the state is not built on this Redis process (nothing sells
                           until the builder rebuilds it from Postgres); nothing written
]]
-- @include fence
local meta = redis.call('HMGET', KEYS[1], 'fence', 'revision', 'lowerIntent', 'lowerRevision')
if not fenceHolds(meta[1], thisRunId()) then return {-1} end

local revision = tonumber(ARGV[2])
local applied = tonumber(meta[2] or '0')
if applied >= revision then return {3, applied} end
if meta[3] and meta[3] ~= ARGV[3] then return {2, meta[3], tonumber(meta[4])} end

local taken = tonumber(redis.call('GET', KEYS[3]) or '0')
local left = tonumber(redis.call('GET', KEYS[2]) or '0')
local total = tonumber(ARGV[1])
if total < taken then return {0, left, taken} end
redis.call('SET', KEYS[2], total - taken)
redis.call('HSET', KEYS[1], 'lowerIntent', ARGV[3], 'lowerTotal', total, 'lowerRevision', revision)
return {1, total - taken, taken}

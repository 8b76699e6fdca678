--[[
  apply-sale.lua — applies a sale as committed in Postgres to its own keys, after the commit:
  its window and pause (judged by the scripts with Redis' clock) and its units left, as
  absolute values, atomically with purchases, payments and expiries. Ordered by the sale's
  revision: a revision already applied, or an older one, writes nothing, so a retried or late
  apply never undoes a newer change.

  KEYS[1] meta    hash: fence ("<run id>:<epoch>"), startsAt, endsAt, paused, revision
  KEYS[2] stock   string: units left
  KEYS[3] sold    string: units taken (reserved and paid; `payment` mode: paid)

  ARGV[1] revision (of the sale's row in Postgres)
  ARGV[2] total units (the sale's stock in Postgres), or "" for a bucket of a sale in stock
          buckets (its units are set by the build and moved between buckets, never by an apply)
  ARGV[3] startsAt, ARGV[4] endsAt (epoch ms), ARGV[5] paused ("0"/"1")

  Units left become total − taken. Refuses nothing silently: a total below the units taken
  leaves 0 left and answers how many were taken.

  Returns
    {1, left, taken, leftBefore}   applied
    {2, 0, taken, leftBefore}      applied, but the total is below the units taken: 0 left
    {0, revision}                  this revision (or a newer one) was applied already: nothing written
    {-1}                           held: the state is not built on this Redis process (see
                                   purchase.lua); nothing written, the builder applies the sale
]]
local fence = redis.call('HGET', KEYS[1], 'fence')
local runId = string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
if not fence or string.sub(fence, 1, 40) ~= runId then return {-1} end

local applied = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if tonumber(ARGV[1]) <= applied then return {0, applied} end

local taken = tonumber(redis.call('GET', KEYS[3]) or '0')
local leftBefore = tonumber(redis.call('GET', KEYS[2]) or '0')
local total = tonumber(ARGV[2]) or (leftBefore + taken)
local left = math.max(total - taken, 0)
redis.call('SET', KEYS[2], left)
redis.call('HSET', KEYS[1], 'startsAt', ARGV[3], 'endsAt', ARGV[4], 'paused', ARGV[5], 'revision', ARGV[1])
if total < taken then return {2, 0, taken, leftBefore} end
return {1, left, taken, leftBefore}

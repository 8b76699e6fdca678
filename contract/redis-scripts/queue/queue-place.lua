--[[
queue-place.lua — a shopper's place in a sale's waiting room: joins (one place per shopper:
joining again finds the same one) or only looks. Judged by Redis' clock (TIME): before the
sale's start a joiner gets the random score the gateway drew, so that the order of everyone who
joined before the start is a uniform shuffle, revealed at the start; from the start a joiner
lines up behind, in arrival order (score 2^48 + arrival number, above every random score).
A shopper whose turn is over unused (the place is settled, and they bought nothing) may join
again while the sale is on and has units: a new member "<user id> <k>" at the back (a space is
no user id's character), k counted in queueState; places never move, so positions stay ranks.
The queue is of the sale's epoch (its build's, in the fence): a rebuild empties it.

KEYS[1] meta        hash: startsAt, endsAt (epoch ms), fence ("<run id>:<epoch>"), as the sale's build wrote them
KEYS[2] queue       sorted set: member ("<user id>", or "<user id> <k>" after k rejoins) -> score
KEYS[3] queueState  hash: arrivals (joiners since the start), settled (positions whose pass time
                    is over), "rejoins:<user id>" (k)
KEYS[4] buyers      hash: user id -> units bought
KEYS[5] stock       string: units left

ARGV[1] userId
ARGV[2] mode: "join" or "look"
ARGV[3] score: (join) random, a whole number below 2^48, decimal
ARGV[4] perUserLimit: (join) a shopper who holds it has nothing to queue for (after a
        rebuild, the buyers of the old queue would otherwise take places they cannot use)

Returns
  {position, length, epoch}   the place, 1-based, the queue's length and the sale's epoch
  {0, length, epoch}          drawn_at_start: in the queue before the start, the place drawn then
  {-1}                        not_in_queue: (look)
  {-2}                        not_built: the sale's state is not in this Redis, or is being built
  {-3}                        limit_reached: (join) the shopper holds the per-user limit already
  Nothing is written but a join's place (and a rejoin's count).
]]
-- @include fence
local RANDOM_SCORES_BELOW = 281474976710656 -- 2^48
local meta = redis.call('HMGET', KEYS[1], 'startsAt', 'fence', 'endsAt')
local startsAt = tonumber(meta[1])
if not startsAt or not meta[2] then return {-2} end
local epoch = tonumber(fenceEpoch(meta[2]))
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)

local rejoinField = 'rejoins:' .. ARGV[1]
local rejoins = tonumber(redis.call('HGET', KEYS[3], rejoinField) or '0')
local member = rejoins > 0 and (ARGV[1] .. ' ' .. rejoins) or ARGV[1]
local score = redis.call('ZSCORE', KEYS[2], member)

local function lineUp(m)
  local n = redis.call('HINCRBY', KEYS[3], 'arrivals', 1)
  redis.call('ZADD', KEYS[2], string.format('%d', RANDOM_SCORES_BELOW + n), m)
end

if not score then
  if ARGV[2] ~= 'join' then return {-1} end
  if tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0') >= tonumber(ARGV[4]) then return {-3} end
  if now < startsAt then
    redis.call('ZADD', KEYS[2], ARGV[3], member)
  else
    lineUp(member)
  end
elseif ARGV[2] == 'join' and now >= startsAt and now < tonumber(meta[3] or '0')
    and redis.call('ZRANK', KEYS[2], member) < tonumber(redis.call('HGET', KEYS[3], 'settled') or '0')
    and not redis.call('HGET', KEYS[4], ARGV[1])
    and tonumber(redis.call('GET', KEYS[5]) or '0') > 0 then
  -- The turn is over unused: a new place at the back; the old one stays, counted expired once.
  rejoins = rejoins + 1
  member = ARGV[1] .. ' ' .. rejoins
  redis.call('HSET', KEYS[3], rejoinField, rejoins)
  lineUp(member)
end
local length = redis.call('ZCARD', KEYS[2])
-- Before the start the ranks of the shuffled part still change with every joiner.
if now < startsAt then return {0, length, epoch} end
return {redis.call('ZRANK', KEYS[2], member) + 1, length, epoch}

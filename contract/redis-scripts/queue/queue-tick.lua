--[[
queue-tick.lua — advances a sale's admission cursor and reports the queue's state. Run by every
gateway worker's sync timer (about every 250 ms each): the cursor lives here, so the rate is
the fleet's, and each run advances it by the Redis time since the last advance, whoever ran it.

From the sale's start the cursor moves at admitPerSecond, stock-aware: shoppers admitted and
neither buying nor expired (outstanding passes) never outnumber the units left, so
  admitted <= expired + unitsLeft + buyers
(every buyer of a waiting-room sale bought with a pass; `buyers` counts those who bought since
the queue's first advance: a sale rebuilt from Postgres starts a new queue, and its earlier
buyers hold no place in it). It stops while the sale is paused,
ended, sold out or bound, without saving up: time spent stopped is not made up later. A pass
is settled when its time is over (admission + pass + grace: gateways may stamp a pass up to a
sync late): an admitted shopper who did not buy counts as expired, which frees a place for
the next one; so does a unit coming back (an expired reservation).

KEYS[1] meta        hash: startsAt, endsAt (epoch ms), paused ("1"), fence ("<run id>:<epoch>")
KEYS[2] queueState  hash: cursor (fractional), tickAt (ms), settled, expired, buyersBefore
                    (the buyers when the queue first advanced)
KEYS[3] queue       sorted set: member ("<user id>" or "<user id> <k>", a rejoin) -> score
                    (rank + 1 = position)
KEYS[4] admissions  sorted set: score = cursor after an advance, member = "<cursor>:<ms>"
KEYS[5] stock       string: units left
KEYS[6] buyers      hash: user id -> units

ARGV[1] admitPerSecond
ARGV[2] passAndGraceMs: pass lifetime + grace
ARGV[3] knownCursor: the caller's latest; admissions above it are returned
ARGV[4] knownEpoch: of that cursor; of another epoch, every admission is returned

Returns
  {admitted, length, unitsLeft, buyers, expired, settled, nowMs, epoch, cursor1, ms1, …}
        the admissions above ARGV[3], oldest first, at most MAX_RETURNED
  {-1}  not_built: the sale's state is not in this Redis (not built, being built, or its
        stock not loaded): nothing written
]]
-- @include fence
local SETTLE_PER_RUN = 5000   -- positions settled per run at most (bounds the time Redis is held)
local USERS_PER_HMGET = 500
local MAX_RETURNED = 1000

local meta = redis.call('HMGET', KEYS[1], 'startsAt', 'endsAt', 'paused', 'fence')
local startsAt, endsAt = tonumber(meta[1]), tonumber(meta[2])
local left = tonumber(redis.call('GET', KEYS[5]))
-- No fence: the builder is at work (it rewrites the buyers): nothing may be counted from them.
if not startsAt or not endsAt or not left or not meta[4] then return {-1} end
local epoch = tonumber(fenceEpoch(meta[4]))
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)

local st = redis.call('HMGET', KEYS[2], 'cursor', 'tickAt', 'settled', 'expired', 'buyersBefore')
local cursor = tonumber(st[1] or '0')
local tickAt = tonumber(st[2] or startsAt)
local settled = tonumber(st[3] or '0')
local expired = tonumber(st[4] or '0')
local length = redis.call('ZCARD', KEYS[3])
local allBuyers = redis.call('HLEN', KEYS[6])
-- Set at the first advance; a queue that advanced before this field existed counts every buyer.
local buyersBefore = tonumber(st[5] or (st[1] and 0) or allBuyers)
local buyers = allBuyers - buyersBefore

if now >= startsAt then
  -- Settle the admissions whose passes are over: who of them bought?
  local passAndGrace = tonumber(ARGV[2])
  local budget = SETTLE_PER_RUN
  local due = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', '+inf', 'LIMIT', 0, 100)
  for _, entry in ipairs(due) do
    local c, at = string.match(entry, '^(%d+):(%d+)$')
    c, at = tonumber(c), tonumber(at)
    if at + passAndGrace > now or budget <= 0 then break end
    local upto = math.min(c, settled + budget)
    while settled < upto do
      local last = math.min(upto, settled + USERS_PER_HMGET)
      local users = redis.call('ZRANGE', KEYS[3], settled, last - 1)
      for i, m in ipairs(users) do users[i] = string.match(m, '^(%S+) %d+$') or m end
      local used = 0
      if #users > 0 then
        for _, units in ipairs(redis.call('HMGET', KEYS[6], unpack(users))) do
          if units then used = used + 1 end
        end
      end
      expired = expired + (last - settled) - used
      budget = budget - (last - settled)
      settled = last
    end
    if settled >= c then redis.call('ZREM', KEYS[4], entry) end
  end

  if now > tickAt and now < endsAt and meta[3] ~= '1' and left > 0 then
    local bound = math.min(length, expired + left + buyers)
    local nextCursor = math.min(cursor + tonumber(ARGV[1]) * (now - tickAt) / 1000, bound)
    if nextCursor > cursor then
      if math.floor(nextCursor) > math.floor(cursor) then
        local whole = math.floor(nextCursor)
        redis.call('ZADD', KEYS[4], whole, whole .. ':' .. now)
      end
      cursor = nextCursor
    end
  end
  if now > tickAt then tickAt = now end
  redis.call('HSET', KEYS[2], 'cursor', cursor, 'tickAt', tickAt, 'settled', settled, 'expired', expired, 'buyersBefore', buyersBefore)
end

local reply = {math.floor(cursor), length, left, buyers, expired, settled, now, epoch}
local after = tonumber(ARGV[4]) == epoch and ARGV[3] or '0'
local fresh = redis.call('ZRANGEBYSCORE', KEYS[4], '(' .. after, '+inf', 'LIMIT', 0, MAX_RETURNED)
for _, entry in ipairs(fresh) do
  local c, at = string.match(entry, '^(%d+):(%d+)$')
  reply[#reply + 1] = tonumber(c)
  reply[#reply + 1] = tonumber(at)
end
return reply

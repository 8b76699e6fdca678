--[[
  set-sale-window.lua — applies a sale's window and pause, as stored in Postgres, to the
  sale's own keys, where the purchase script judges them by Redis' clock. Idempotent and
  ordered: a revision older than the one applied is ignored, so a retried or late apply never
  undoes a newer change.

  KEYS[1] meta   hash: startsAt, endsAt, paused, revision (and the builder's fence)

  ARGV[1] startsAt, ARGV[2] endsAt (epoch ms), ARGV[3] paused ("0"/"1"), ARGV[4] revision

  Returns 1 when applied, 0 when a newer revision was in place already
]]
local applied = tonumber(redis.call('HGET', KEYS[1], 'revision') or '0')
if tonumber(ARGV[4]) < applied then return 0 end
redis.call('HSET', KEYS[1], 'startsAt', ARGV[1], 'endsAt', ARGV[2], 'paused', ARGV[3], 'revision', ARGV[4])
return 1

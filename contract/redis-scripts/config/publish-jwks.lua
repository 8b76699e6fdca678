--[[
  Publishes the identity provider's key set to the gateways, ordered by when it was fetched:
  each fetch takes a number from the hash (HINCRBY `fetches`) as the provider's answer
  arrives, and the set is written only if no fetch with a higher number was written before,
  so a control plane that held an older answer (a slow body, a pause) never puts back a key the
  provider has removed since. The counter is raised to the number written, so a hash emptied
  between a fetch and its publish does not leave the next fetches below it.

  KEYS[1] jwks   the key set hash (JWKS_KEY: fields set, stamp, fetch, fetches)

  ARGV[1] fetch: the number of this fetch
  ARGV[2] stamp: the set's (SHA-256 of the set, hex)
  ARGV[3] set: JSON

  Returns
    {1, fetch}   written
    {0, fetch}   later_written: a later fetch was; nothing written; its number
]]
local fetch = tonumber(ARGV[1])
local written = tonumber(redis.call('HGET', KEYS[1], 'fetch') or 0)
if written >= fetch then return {0, written} end
redis.call('HSET', KEYS[1], 'fetch', fetch, 'stamp', ARGV[2], 'set', ARGV[3])
if tonumber(redis.call('HGET', KEYS[1], 'fetches') or 0) < fetch then redis.call('HSET', KEYS[1], 'fetches', fetch) end
return {1, fetch}

--[[
  sale-build-state.lua — what the control plane needs to tell whether a sale's Redis state
  must be (re)built: is it built on this Redis process, and does it still hold its counters.

  KEYS[1] meta   KEYS[2] orderSeq   KEYS[3] stock   KEYS[4] buyers

  Returns
    {built, seq, hasStock, buyers}
    built     1 when the fence names this Redis process (INFO run_id), else 0
    seq       the last order number handed out (0 when none)
    hasStock  1 when the units-left key exists
    buyers    entries of the buyers hash
]]
-- @include fence
local built = 0
if builtFence(KEYS[1]) then built = 1 end
return {built, tonumber(redis.call('GET', KEYS[2]) or '0'), redis.call('EXISTS', KEYS[3]), redis.call('HLEN', KEYS[4])}

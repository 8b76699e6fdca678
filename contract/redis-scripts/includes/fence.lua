-- The fence in a sale's meta hash, "<run id>:<epoch>" (sale/open-sale.lua writes it): the
-- sale's state was built on the Redis process of that run id, by the build of that epoch. A
-- fence of another process (a restart, a failover, lost keys) holds the sale: nothing may be
-- taken or written from its counters until it is rebuilt.
local function fenceOf(runId, epoch)
  return runId .. ':' .. epoch
end
-- The run id of this Redis process.
local function thisRunId()
  return string.match(redis.call('INFO', 'server'), 'run_id:(%x+)')
end
-- Whether the fence (false when missing) names the process of runId.
local function fenceHolds(fence, runId)
  return fence and string.sub(fence, 1, 40) == runId
end
-- The epoch of a fence, as text.
local function fenceEpoch(fence)
  return string.sub(fence, 42)
end
-- The fence of the meta hash when it names this process, else nil (held).
local function builtFence(metaKey)
  local fence = redis.call('HGET', metaKey, 'fence')
  if fenceHolds(fence, thisRunId()) then return fence end
  return nil
end

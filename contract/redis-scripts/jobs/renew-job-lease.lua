--[[
  Extends a job's lease while its run lasts (the scheduler's heartbeat), only for the instance
  that holds it: a lease that expired, or was taken by another instance, is not revived.

  KEYS[1] lease   the job's (jobKeys(job).lease)

  ARGV[1] token: the lease was claimed with
  ARGV[2] leaseMs: how long it holds from now if no later heartbeat comes

  Returns
    1   held: renewed
    0   not_held: not with this token (the run lost its lease)
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0

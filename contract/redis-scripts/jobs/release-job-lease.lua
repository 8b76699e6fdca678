--[[
  Releases a job's lease, only by the instance that holds it (a lease that expired and was
  claimed by another instance is left alone).

  KEYS[1] lease   the job's (jobKeys(job).lease)

  ARGV[1] token: the lease was claimed with

  Returns
    1   held: released
    0   not_held: not with this token
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

--[[
  Releases a job's lease, only by the instance that holds it (a lease that expired and was
  claimed by another instance is left alone).

  KEYS[1] the job's lease   (jobKeys(job).lease)

  ARGV[1] the token the lease was claimed with

  Returns 1 released, 0 not held with this token.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0

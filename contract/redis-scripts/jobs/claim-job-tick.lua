--[[
  Claims one tick of a scheduled job for one control-plane instance: the job runs once per
  tick, and never on two instances at once.

  KEYS[1] lease      the job's (jobKeys(job).lease)
  KEYS[2] lastTick   the job's last tick (jobKeys(job).lastTick; same hash tag as KEYS[1])

  ARGV[1] token: this instance's (unique per claim)
  ARGV[2] tick: its scheduled time, epoch ms
  ARGV[3] leaseMs: how long the claim holds unless its owner renews it (renew-job-lease.lua)

  Returns
    1   claimed: run the job, renewing the lease, then release with release-job-lease.lua
    0   ran: this tick (or a later one) already ran or is running elsewhere
    -1  running: an earlier tick still runs elsewhere (its lease has not expired)
]]
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
if last >= tonumber(ARGV[2]) then return 0 end
if redis.call('EXISTS', KEYS[1]) == 1 then return -1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[2], ARGV[2])
return 1

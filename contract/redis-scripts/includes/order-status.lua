-- An order's status: field <n>:s of the sale's orders hash (contract/src/keys.ts,
-- orderStatusField). A change to paid, expired or failed also goes on the sale's status change
-- stream, fields n epoch user status (contract/src/stream.ts, STATUS_FIELDS), which the order
-- workers apply to Postgres.
local function statusField(n)
  return n .. ':s'
end
local function changeStatus(ordersKey, statusChangesKey, n, epoch, user, status)
  redis.call('HSET', ordersKey, statusField(n), status)
  redis.call('XADD', statusChangesKey, '*', 'n', n, 'epoch', epoch, 'user', user, 'status', status)
end

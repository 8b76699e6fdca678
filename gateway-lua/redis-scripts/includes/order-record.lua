-- The order record in a sale's orders hash, field <n> (gateway-lua/src/core/order_record.ts):
-- "user \t quantity \t acceptedAtMs \t epoch".
local function formatOrderRecord(user, qty, acceptedAtMs, epoch)
  return user .. '\t' .. qty .. '\t' .. acceptedAtMs .. '\t' .. epoch
end
-- user, quantity, acceptedAtMs, epoch (strings); nil when the text is not a record.
local function parseOrderRecord(record)
  return string.match(record, '^([^\t]+)\t(%d+)\t(%d+)\t(%d+)$')
end

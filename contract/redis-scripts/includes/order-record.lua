-- The order record in a sale's orders hash, field <n> (contract/src/order_record.ts):
-- "user \t quantity \t acceptedAtMs \t epoch \t price \t currency".
local function formatOrderRecord(user, qty, acceptedAtMs, epoch, price, currency)
  return user .. '\t' .. qty .. '\t' .. acceptedAtMs .. '\t' .. epoch .. '\t' .. price .. '\t' .. currency
end
-- user, quantity, acceptedAtMs, epoch, price, currency (strings); price and currency nil in a
-- record written before orders carried them (four parts); nil when the text is not a record.
local function parseOrderRecord(record)
  local user, qty, acceptedAtMs, epoch, price, currency = string.match(record, '^([^\t]+)\t(%d+)\t(%d+)\t(%d+)\t(%d+)\t([^\t]+)$')
  if user then return user, qty, acceptedAtMs, epoch, price, currency end
  return string.match(record, '^([^\t]+)\t(%d+)\t(%d+)\t(%d+)$')
end

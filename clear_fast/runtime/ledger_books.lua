-- The books of one Redis ledger and the housekeeping every call starts with.
--
-- The ledger's script is this file, then ledger_admin.lua, ledger_operations.lua and
-- ledger_main.lua, run as one chunk. Redis runs a script to completion before it serves
-- anything else, so each call reads and writes one ledger's books as a single step,
-- whatever the number of clients. Every key is under one hash tag, so a Redis Cluster
-- keeps a ledger in one slot, and a script touches only the keys it is given:
--
--   KEYS[1] state     hash: settings, identity, the current window, the totals
--   KEYS[2] open      hash: query id -> "tokens deadline opener"
--   KEYS[3] deadline  sorted set: open query ids by expiry time
--   KEYS[4] overruns  list: "id reserved used" of the latest 1000 overruns
--   KEYS[5] closed    hash: query id -> "how by opener tokens deadline [used refunded overrun late]"
--   KEYS[6] forget    sorted set: closed query ids by the time they are forgotten
--
--   ARGV[1] operation        ARGV[2] clock time in seconds ("" = the server's clock)
--   ARGV[3] epoch the caller attached to ("" = any)
--   ARGV[4] generation and ARGV[5] operation count the caller has seen ("" = none)
--   ARGV[6] the call's token (the same on a retried call)   ARGV[7..] the operation's arguments
--
-- "opener" is the token of the call that made a reservation and "by" the token of the call
-- that closed it: a retried call (or a copy of it that arrives late, after the retry was
-- answered) finds its own token and returns the first call's outcome instead of acting twice.
-- Counts are integers below 1e14 per call (the client checks), so every Lua number here is
-- an exact double; totals are added with HINCRBY (exact 64-bit integers on the server).

local state, open, deadlines, overruns, closed, forget = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local op, token = ARGV[1], ARGV[6]
local MAX_ALLOWANCE = 1e15  -- limits.py: rollover stops adding here

local function server_time()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

local now = server_time()
if ARGV[2] ~= '' then now = tonumber(ARGV[2]) end

-- Full precision for times (tostring keeps 14 digits); whole numbers as digits, never "1e+15".
local function exact(x) return string.format('%.17g', x) end
local function int(x) return string.format('%.0f', x) end

local function num(field)
  return tonumber(redis.call('HGET', state, field) or '0')
end

-- Counter changes are summed in Lua and written once (flush); a sum is written early
-- before it could leave the range where doubles are exact.
local pending = {}
local function add(field, amount)
  local sum = (pending[field] or 0) + amount
  if math.abs(sum) > 2^52 then
    redis.call('HINCRBY', state, field, int(sum))
    sum = 0
  end
  pending[field] = sum
end
local function flush()
  for field, sum in pairs(pending) do
    if sum ~= 0 then redis.call('HINCRBY', state, field, int(sum)) end
  end
  pending = {}
end

local function append(list, values)
  for _, value in ipairs(values) do list[#list + 1] = value end
end

local function words(text)
  local found = {}
  for word in string.gmatch(text, '%S+') do found[#found + 1] = word end
  return found
end

-- An open entry: tokens held, deadline ('-' for none), the token of the call that made it.
local function open_entry(id)
  local entry = redis.call('HGET', open, id)
  if not entry then return nil end
  local parts = words(entry)
  return {held = tonumber(parts[1]), deadline = parts[2], opener = parts[3]}
end

-- A closed record: how ('settled', 'released', 'expired'), by which call, the call that opened
-- it, the tokens it held and its deadline; a settle adds used, refunded, overrun, late.
local function closed_record(id)
  local record = redis.call('HGET', closed, id)
  if not record then return nil end
  local parts = words(record)
  return {how = parts[1], by = parts[2], opener = parts[3], held = parts[4], deadline = parts[5],
          settled = {unpack(parts, 4)}}
end

local closed_ttl = nil
local function close(id, how, by, opener, fields)
  closed_ttl = closed_ttl or num('closed_ttl')
  redis.call('HSET', closed, id, how .. ' ' .. by .. ' ' .. opener .. ' ' .. table.concat(fields, ' '))
  redis.call('ZADD', forget, exact(now + closed_ttl), id)
end

-- How a closed reservation is named in errors (the in-process ledger words it the same).
local function described(record)
  if record.how == 'settled' then
    return 'settled (used ' .. record.settled[3] .. ' of ' .. record.held .. ')'
  end
  return record.how
end

-- Roll the window forward (window.py: carry = allowance - spent + (k - 1) * budget, capped).
local function roll_window()
  local period = num('period')
  if period <= 0 then return end
  local index = math.floor((now - num('origin')) / period)
  local current = num('window')
  if index <= current then return end
  local budget, allowance = num('budget'), num('budget')
  if num('rollover') == 1 then
    local carry = num('allowance') - num('spent') + (index - current - 1) * budget
    local cap = num('max_carry')
    if cap >= 0 and carry > cap then carry = cap end
    allowance = math.min(budget + carry, MAX_ALLOWANCE)
  end
  redis.call('HSET', state, 'window', int(index), 'allowance', int(allowance), 'spent', 0)
end

-- Return the reservations of workers that never came back; forget closed ids past their time.
local function sweep()
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', deadlines, '-inf', exact(now), 'LIMIT', 0, 1000)) do
    local entry = open_entry(id)
    redis.call('ZREM', deadlines, id)
    if entry then
      redis.call('HDEL', open, id)
      add('reserved', 0 - entry.held)
      add('expired', entry.held)
      close(id, 'expired', entry.opener, entry.opener, {int(entry.held), entry.deadline})
    end
  end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', forget, '-inf', exact(now), 'LIMIT', 0, 1000)) do
    redis.call('HDEL', closed, id)
    redis.call('ZREM', forget, id)
  end
  flush()
end

local function books()
  local fields = redis.call('HMGET', state, 'budget', 'allowance', 'spent', 'reserved', 'window', 'origin',
                            'period', 'granted', 'charged', 'refunded', 'released', 'expired', 'overrun',
                            'overrun_count', 'arrivals')
  for i = 1, #fields do
    if not fields[i] then fields[i] = '0' end
  end
  table.insert(fields, 1, int(redis.call('HLEN', open)))
  return fields
end

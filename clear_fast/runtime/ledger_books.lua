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
--   ARGV[6] the call's token (the same on a retried call)   ARGV[7..] the operation's arguments;
--   for a batch: ARGV[7] the number of queries, then its counts as one space-separated list
--   each, then the query ids (one argument each: an id may hold any character).
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

-- The state fields a call reads, fetched with one HMGET on first use and kept up to date
-- by the writes below (the totals are only written, with HINCRBY).
local STATE_FIELDS = {'epoch', 'generation', 'seq', 'halted', 'created', 'budget', 'period', 'rollover',
                      'max_carry', 'timeout', 'closed_ttl', 'origin', 'window', 'allowance', 'spent', 'reserved'}
local cached = nil
local function field(name)
  if not cached then
    cached = {}
    local values = redis.call('HMGET', state, unpack(STATE_FIELDS))
    for i, key in ipairs(STATE_FIELDS) do cached[key] = values[i] end
  end
  return cached[name]
end
local function num(name)
  return tonumber(field(name) or '0')
end

-- Counter changes are summed in Lua and written once (flush); a sum is written early
-- before it could leave the range where doubles are exact.
local pending = {}
local function increase(name, amount)
  local total = redis.call('HINCRBY', state, name, int(amount))
  if cached then cached[name] = total end
end
local function add(name, amount)
  local sum = (pending[name] or 0) + amount
  if math.abs(sum) > 2^52 then
    increase(name, sum)
    sum = 0
  end
  pending[name] = sum
end
local function flush()
  for name, sum in pairs(pending) do
    if sum ~= 0 then increase(name, sum) end
  end
  pending = {}
end

local function words(text)
  local found = {}
  for word in string.gmatch(text, '%S+') do found[#found + 1] = word end
  return found
end

-- Commands over many arguments go a thousand at a time (Lua's stack holds a few thousand values).
local CHUNK = 1000
local function call_in_chunks(command, key, values)
  for first = 1, #values, CHUNK do
    redis.call(command, key, unpack(values, first, math.min(first + CHUNK - 1, #values)))
  end
end
local function fetch_all(key, ids)
  local found = {}
  for first = 1, #ids, CHUNK do
    local part = redis.call('HMGET', key, unpack(ids, first, math.min(first + CHUNK - 1, #ids)))
    for i = 1, #part do found[first + i - 1] = part[i] end
  end
  return found
end

-- An open entry: tokens held, deadline ('-' for none), the token of the call that made it.
local function open_entry(text)
  if not text then return nil end
  local parts = words(text)
  return {held = tonumber(parts[1]), deadline = parts[2], opener = parts[3]}
end

-- A closed record: how ('settled', 'released', 'expired'), by which call, the call that opened
-- it, the tokens it held and its deadline; a settle adds used, refunded, overrun, late.
local function closed_record(text)
  if not text then return nil end
  local parts = words(text)
  return {how = parts[1], by = parts[2], opener = parts[3], held = parts[4], deadline = parts[5],
          settled = {unpack(parts, 4)}}
end

-- Closed records to write: (id, text) pairs for HSET and (time to forget, id) pairs for ZADD.
local function closing()
  return {records = {}, forgets = {}, at = exact(now + num('closed_ttl'))}
end
local function close(batch, id, how, by, opener, fields)
  local records, forgets = batch.records, batch.forgets
  records[#records + 1] = id
  records[#records + 1] = how .. ' ' .. by .. ' ' .. opener .. ' ' .. table.concat(fields, ' ')
  forgets[#forgets + 1] = batch.at
  forgets[#forgets + 1] = id
end
local function write_closed(batch)
  call_in_chunks('HSET', closed, batch.records)
  call_in_chunks('ZADD', forget, batch.forgets)
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
  cached.window, cached.allowance, cached.spent = index, allowance, 0
end

-- Return the reservations of workers that never came back; forget closed ids past their time.
local function sweep()
  local due = redis.call('ZRANGEBYSCORE', deadlines, '-inf', exact(now), 'LIMIT', 0, 1000)
  if #due > 0 then
    local entries, expiring, batch = fetch_all(open, due), {}, closing()
    for i, id in ipairs(due) do
      local entry = open_entry(entries[i])
      if entry then
        expiring[#expiring + 1] = id
        add('reserved', 0 - entry.held)
        add('expired', entry.held)
        close(batch, id, 'expired', entry.opener, entry.opener, {int(entry.held), entry.deadline})
      end
    end
    call_in_chunks('ZREM', deadlines, due)
    call_in_chunks('HDEL', open, expiring)
    write_closed(batch)
  end
  local forgotten = redis.call('ZRANGEBYSCORE', forget, '-inf', exact(now), 'LIMIT', 0, 1000)
  call_in_chunks('HDEL', closed, forgotten)
  call_in_chunks('ZREM', forget, forgotten)
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

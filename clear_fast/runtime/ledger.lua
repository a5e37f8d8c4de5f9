-- The Lua script that makes every Redis ledger operation atomic.
--
-- Redis runs a script to completion before serving any other command, so each
-- operation below reads and writes the books of one ledger as a single step,
-- whatever the number of processes or machines sharing it. Keys (all under one
-- hash tag, so a Redis Cluster keeps them in one slot):
--
--     KEYS[1]  <ns>:state     hash: configuration, current window, totals
--     KEYS[2]  <ns>:open      hash: query id -> tokens held
--     KEYS[3]  <ns>:deadline  sorted set: query id scored by its expiry time
--     KEYS[4]  <ns>:overruns  list: "id reserved used" of recent overruns
--     ARGV[1]  operation, ARGV[2] clock time in seconds ("" = the server's clock),
--     ARGV[3]  prefix of the per-id "closed" keys, ARGV[4] seconds a closed id is
--              remembered, ARGV[5..] the operation's arguments.
--
-- Replies are arrays whose first element names the outcome; the Python side
-- turns them into records or errors. Window arithmetic mirrors window.py.

local state, open, deadlines, overruns = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local op, closed_prefix = ARGV[1], ARGV[3]

local now
if ARGV[2] == "" then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
else
  now = tonumber(ARGV[2])
end

-- Negations are written 0 - x: -x of a zero is -0, which HINCRBY refuses as "-0".
-- Full precision for times: tostring keeps only 14 significant digits.
local function exact(x)
  return string.format('%.17g', x)
end

local function num(field)
  return tonumber(redis.call('HGET', state, field) or '0')
end

if op == 'init' then
  -- ARGV[5..9]: budget, period (0 = none), rollover (0/1), max_carry (-1 = none), timeout (0 = none)
  if redis.call('EXISTS', state) == 1 then
    return {'exists', redis.call('HGET', state, 'budget'), redis.call('HGET', state, 'period'),
            redis.call('HGET', state, 'rollover'), redis.call('HGET', state, 'max_carry'),
            redis.call('HGET', state, 'timeout')}
  end
  redis.call('HSET', state, 'budget', ARGV[5], 'period', ARGV[6], 'rollover', ARGV[7],
             'max_carry', ARGV[8], 'timeout', ARGV[9], 'origin', exact(now), 'window', 0,
             'allowance', ARGV[5], 'spent', 0, 'reserved', 0, 'granted', 0, 'charged', 0,
             'refunded', 0, 'released', 0, 'expired', 0, 'overrun', 0, 'overrun_count', 0)
  return {'created'}
end

if redis.call('EXISTS', state) == 0 then
  return {'missing'}
end

if op == 'arrive' then
  return {'ok', redis.call('HINCRBY', state, 'arrivals', ARGV[5])}
end

local budget, period, ttl = num('budget'), num('period'), tonumber(ARGV[4])

-- Roll the window forward (see window.py: carry = allowance - spent + (k - 1) * budget, capped).
if period > 0 then
  local index = math.floor((now - num('origin')) / period)
  local current = num('window')
  if index > current then
    local allowance = budget
    if num('rollover') == 1 then
      local carry = num('allowance') - num('spent') + (index - current - 1) * budget
      local cap = num('max_carry')
      if cap >= 0 and carry > cap then carry = cap end
      allowance = budget + carry
    end
    redis.call('HSET', state, 'window', index, 'allowance', allowance, 'spent', 0)
  end
end

-- Return reservations whose worker never came back.
local due = redis.call('ZRANGEBYSCORE', deadlines, '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  local held = tonumber(redis.call('HGET', open, id) or '0')
  redis.call('HDEL', open, id)
  redis.call('ZREM', deadlines, id)
  redis.call('HINCRBY', state, 'reserved', 0 - held)
  redis.call('HINCRBY', state, 'expired', held)
  redis.call('SET', closed_prefix .. id, 'expired', 'EX', ttl)
end

local function books()
  return {'books', num('budget'), num('allowance'), num('spent'), num('reserved'),
          redis.call('HLEN', open), num('window'), exact(num('origin')), exact(period),
          num('granted'), num('charged'), num('refunded'), num('released'), num('expired'),
          num('overrun'), num('overrun_count'), num('arrivals')}
end

if op == 'snapshot' then
  return books()
end

local id = ARGV[5]

if op == 'reserve' then
  local tokens, at_least = tonumber(ARGV[6]), tonumber(ARGV[7])  -- at_least: nil when ARGV[7] is ""
  local held = redis.call('HGET', open, id)
  if held then return {'open', held} end
  local allowance, spent, reserved = num('allowance'), num('spent'), num('reserved')
  local free = allowance - spent - reserved
  if tokens > free then
    if at_least == nil or free < at_least then
      if free < 0 then free = 0 end
      return {'refused', free, allowance, spent, reserved}
    end
    tokens = free  -- a smaller grant the caller said it can use
  end
  redis.call('HSET', open, id, tokens)
  local timeout = num('timeout')
  local deadline = ''
  if timeout > 0 then
    deadline = exact(now + timeout)
    redis.call('ZADD', deadlines, now + timeout, id)
  end
  redis.call('DEL', closed_prefix .. id)
  redis.call('HINCRBY', state, 'reserved', tokens)
  redis.call('HINCRBY', state, 'granted', tokens)
  return {'ok', deadline, tokens}
end

if op == 'settle' then
  local used = tonumber(ARGV[6])
  local held = redis.call('HGET', open, id)
  local reserved, late = 0, 0
  if held then
    reserved = tonumber(held)
    redis.call('HDEL', open, id)
    redis.call('ZREM', deadlines, id)
    redis.call('HINCRBY', state, 'reserved', 0 - reserved)
  else
    local how = redis.call('GET', closed_prefix .. id)
    if not how then return {'unknown'} end
    if how ~= 'expired' then return {'closed', how} end
    late = 1  -- a slow worker, not a dead one: its tokens were really spent
  end
  local refunded, overrun = math.max(reserved - used, 0), math.max(used - reserved, 0)
  redis.call('HINCRBY', state, 'spent', used)
  redis.call('HINCRBY', state, 'charged', used)
  redis.call('HINCRBY', state, 'refunded', refunded)
  if overrun > 0 then
    redis.call('HINCRBY', state, 'overrun', overrun)
    redis.call('HINCRBY', state, 'overrun_count', 1)
    redis.call('LPUSH', overruns, id .. ' ' .. reserved .. ' ' .. used)
    redis.call('LTRIM', overruns, 0, 999)
  end
  redis.call('SET', closed_prefix .. id, 'settled (used ' .. used .. ' of ' .. reserved .. ')', 'EX', ttl)
  return {'ok', reserved, used, refunded, overrun, late}
end

if op == 'release' then
  local held = redis.call('HGET', open, id)
  if not held then
    local how = redis.call('GET', closed_prefix .. id)
    if not how then return {'unknown'} end
    if how == 'expired' then return {'expired'} end
    return {'closed', how}
  end
  redis.call('HDEL', open, id)
  redis.call('ZREM', deadlines, id)
  redis.call('HINCRBY', state, 'reserved', 0 - tonumber(held))
  redis.call('HINCRBY', state, 'released', tonumber(held))
  redis.call('SET', closed_prefix .. id, 'released', 'EX', ttl)
  return {'ok', held}
end

return redis.error_reply('unknown ledger operation ' .. op)

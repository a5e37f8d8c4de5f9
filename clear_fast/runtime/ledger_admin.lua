-- Creating, attaching to, acknowledging and deleting a ledger: its identity on the server.
--
-- A ledger is created once, explicitly, with a random epoch. A handle attaches to an
-- existing one and remembers its epoch, its generation and the highest operation count
-- it has seen; ledger_main.lua compares them on every call, so a ledger that vanished,
-- was recreated, or went back in time (a restart from an old snapshot) is refused
-- instead of handing out its budget again. An operator's acknowledgement starts a new
-- generation, and handles accept the lower count from then on.

-- ARGV[7..13]: epoch, budget, period (0 = none), rollover (0/1), max_carry (-1 = none),
-- reservation timeout (0 = none), seconds closed ids are remembered.
local function create()
  if redis.call('EXISTS', state) == 1 then
    return {'exists', redis.call('HGET', state, 'created')}
  end
  redis.call('DEL', open, deadlines, overruns, closed, forget)
  redis.call('HSET', state, 'epoch', ARGV[7], 'generation', 0, 'seq', 0, 'created', exact(server_time()),
             'budget', ARGV[8], 'period', ARGV[9], 'rollover', ARGV[10], 'max_carry', ARGV[11],
             'timeout', ARGV[12], 'closed_ttl', ARGV[13], 'origin', exact(now), 'window', 0,
             'allowance', ARGV[8], 'spent', 0, 'reserved', 0, 'granted', 0, 'charged', 0, 'refunded', 0,
             'released', 0, 'expired', 0, 'overrun', 0, 'overrun_count', 0, 'arrivals', 0)
  return {'created'}
end

local function settings()
  return redis.call('HMGET', state, 'epoch', 'budget', 'period', 'rollover', 'max_carry', 'timeout',
                    'closed_ttl', 'created')
end

local function acknowledge()
  redis.call('HDEL', state, 'halted')
  return redis.call('HINCRBY', state, 'generation', 1)
end

local function delete()
  redis.call('DEL', state, open, deadlines, overruns, closed, forget)
  return {'deleted'}
end

local function recent_overruns()
  return redis.call('LRANGE', overruns, 0, -1)
end

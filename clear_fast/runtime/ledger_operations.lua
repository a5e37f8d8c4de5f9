-- Reserve, settle, release and withdraw, each on a batch of query ids in one call.
--
-- Each operation first checks every id of the batch and changes nothing if one is refused
-- (an id already open; unknown; already closed), then applies the items in order, as
-- single calls in that order would. The answer is {'done', lines}: one line per query of
-- space-separated values (a reserve's "g tokens deadline" or "r free allowance spent
-- reserved"; a settle's "reserved used refunded overrun late"; a release's "released
-- tokens" or "expired 0"). A query this same call already served (a retry, recognised by
-- the call's token) is answered as the first time. The in-process ledger (ledger.py)
-- follows the same rules.

-- ARGV[8]: the tokens asked for; ARGV[9]: the smallest grants accepted ('-' for all or nothing).
local function reserve()
  local n, caps, floors = tonumber(ARGV[7]), words(ARGV[8]), words(ARGV[9])
  local replayed, reused = {}, {}
  for i = 1, n do
    local id = ARGV[9 + i]
    local entry = open_entry(id)
    if entry then
      if entry.opener ~= token then return {'open', id, int(entry.held)} end
      replayed[i] = 'g ' .. int(entry.held) .. ' ' .. entry.deadline
    else
      local record = closed_record(id)
      if record and record.opener == token then
        replayed[i] = 'g ' .. record.held .. ' ' .. record.deadline
      end
      reused[i] = record ~= nil
    end
  end
  local allowance, spent, reserved, timeout = num('allowance'), num('spent'), num('reserved'), num('timeout')
  local lines = {}
  for i = 1, n do
    local id, tokens, at_least = ARGV[9 + i], tonumber(caps[i]), tonumber(floors[i])  -- at_least: nil for '-'
    local line = replayed[i]
    if not line then
      local free = allowance - spent - reserved
      if tokens > free and (at_least == nil or free < at_least) then
        line = 'r ' .. int(math.max(free, 0)) .. ' ' .. int(allowance) .. ' ' .. int(spent) .. ' ' .. int(reserved)
      else
        if tokens > free then tokens = free end  -- a smaller grant the caller said it can use
        local deadline = '-'
        if timeout > 0 then
          deadline = exact(now + timeout)
          redis.call('ZADD', deadlines, deadline, id)
        end
        redis.call('HSET', open, id, int(tokens) .. ' ' .. deadline .. ' ' .. token)
        if reused[i] then  -- an id reused after closing: its old record goes
          redis.call('HDEL', closed, id)
          redis.call('ZREM', forget, id)
        end
        reserved = reserved + tokens
        add('reserved', tokens)
        add('granted', tokens)
        line = 'g ' .. int(tokens) .. ' ' .. deadline
      end
    end
    lines[i] = line
  end
  return {'done', table.concat(lines, '\n')}
end

-- ARGV[8]: the tokens used.
local function settle()
  local n, usage, plan = tonumber(ARGV[7]), words(ARGV[8]), {}
  for i = 1, n do
    local id = ARGV[8 + i]
    local entry = open_entry(id)
    if entry then
      plan[i] = {entry = entry}
    else
      local record = closed_record(id)
      if not record then return {'unknown', id, ''} end
      if record.how == 'settled' and record.by == token then
        local s = record.settled
        plan[i] = {replay = table.concat({s[1], s[3], s[4], s[5], s[6]}, ' ')}
      elseif record.how == 'expired' then
        plan[i] = {late = record}  -- a slow worker, not a dead one: its tokens were really spent
      else
        return {'closed', id, described(record)}
      end
    end
  end
  local lines, overran = {}, false
  for i = 1, n do
    local id, used, step = ARGV[8 + i], tonumber(usage[i]), plan[i]
    local line = step.replay
    if not line then
      local held, late, source = 0, '1', step.late
      if step.entry then
        held, late, source = step.entry.held, '0', step.entry
        redis.call('HDEL', open, id)
        if step.entry.deadline ~= '-' then redis.call('ZREM', deadlines, id) end
        add('reserved', 0 - held)
      end
      local refunded, overrun = math.max(held - used, 0), math.max(used - held, 0)
      add('spent', used)
      add('charged', used)
      add('refunded', refunded)
      if overrun > 0 then
        add('overrun', overrun)
        add('overrun_count', 1)
        redis.call('LPUSH', overruns, id .. ' ' .. int(held) .. ' ' .. int(used))
        overran = true
      end
      local outcome = {int(held), int(used), int(refunded), int(overrun), late}
      close(id, 'settled', token, source.opener,
            {outcome[1], source.deadline, outcome[2], outcome[3], outcome[4], outcome[5]})
      line = table.concat(outcome, ' ')
    end
    lines[i] = line
  end
  if overran then redis.call('LTRIM', overruns, 0, 999) end
  return {'done', table.concat(lines, '\n')}
end

local function release()
  local n, plan = tonumber(ARGV[7]), {}
  for i = 1, n do
    local id = ARGV[7 + i]
    local entry = open_entry(id)
    if entry then
      plan[i] = {entry = entry}
    else
      local record = closed_record(id)
      if not record then return {'unknown', id, ''} end
      if record.how == 'released' and record.by == token then
        plan[i] = {replay = 'released ' .. record.held}
      elseif record.how == 'expired' then
        plan[i] = {replay = 'expired 0'}  -- its tokens went back at expiry: not an error
      else
        return {'closed', id, described(record)}
      end
    end
  end
  local lines = {}
  for i = 1, n do
    local id, step = ARGV[7 + i], plan[i]
    local line = step.replay
    if not line then
      local entry = step.entry
      redis.call('HDEL', open, id)
      if entry.deadline ~= '-' then redis.call('ZREM', deadlines, id) end
      add('reserved', 0 - entry.held)
      add('released', entry.held)
      close(id, 'released', token, entry.opener, {int(entry.held), entry.deadline})
      line = 'released ' .. int(entry.held)
    end
    lines[i] = line
  end
  return {'done', table.concat(lines, '\n')}
end

-- Undo the reservations a call made (its token is ARGV[6]) as if it had never run: its caller
-- was cancelled before it could learn of them. Entries it did not make are left alone.
local function withdraw()
  local n = tonumber(ARGV[7])
  for i = 1, n do
    local id = ARGV[7 + i]
    local entry = open_entry(id)
    if entry and entry.opener == token then
      redis.call('HDEL', open, id)
      if entry.deadline ~= '-' then redis.call('ZREM', deadlines, id) end
      add('reserved', 0 - entry.held)
      add('granted', 0 - entry.held)
    elseif not entry then
      local record = closed_record(id)
      if record and record.how == 'expired' and record.opener == token then
        redis.call('HDEL', closed, id)
        redis.call('ZREM', forget, id)
        add('expired', 0 - tonumber(record.held))
        add('granted', 0 - tonumber(record.held))
      end
    end
  end
  return {'done'}
end

local function arrive()
  return {'done', int(redis.call('HINCRBY', state, 'arrivals', ARGV[7]))}
end

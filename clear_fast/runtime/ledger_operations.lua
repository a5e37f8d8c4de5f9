-- Reserve, settle, release and withdraw, each on a batch of query ids in one call.
--
-- Each operation first checks every id of the batch and changes nothing if one is refused
-- (an id already open; unknown; already closed), then applies the items in order, as
-- single calls in that order would. Every item answers with five values (a settle's:
-- reserved, used, refunded, overrun, late; the others' start with what happened). An item
-- this same call already applied (a retry, recognised by the call's token) answers as it
-- did the first time. The in-process ledger (ledger.py) follows the same rules.

local function reserve()
  local n, replayed, reused = tonumber(ARGV[7]), {}, {}
  for i = 1, n do
    local id = ARGV[5 + 3 * i]
    local entry = open_entry(id)
    if entry then
      if entry.opener ~= token then return {'open', id, int(entry.held)} end
      replayed[i] = {'granted', int(entry.held), entry.deadline, '', ''}
    else
      local record = closed_record(id)
      if record and record.opener == token then
        replayed[i] = {'granted', record.held, record.deadline, '', ''}
      end
      reused[i] = record ~= nil
    end
  end
  local allowance, spent, reserved, timeout = num('allowance'), num('spent'), num('reserved'), num('timeout')
  local out = {'done'}
  for i = 1, n do
    local id, tokens, at_least = ARGV[5 + 3 * i], tonumber(ARGV[6 + 3 * i]), tonumber(ARGV[7 + 3 * i])
    local answer = replayed[i]
    if not answer then
      local free = allowance - spent - reserved
      if tokens > free and (at_least == nil or free < at_least) then
        answer = {'refused', int(math.max(free, 0)), int(allowance), int(spent), int(reserved)}
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
        answer = {'granted', int(tokens), deadline, '', ''}
      end
    end
    append(out, answer)
  end
  return out
end

local function settle()
  local n, plan = tonumber(ARGV[7]), {}
  for i = 1, n do
    local id = ARGV[6 + 2 * i]
    local entry = open_entry(id)
    if entry then
      plan[i] = {entry = entry}
    else
      local record = closed_record(id)
      if not record then return {'unknown', id, ''} end
      if record.how == 'settled' and record.by == token then
        local s = record.settled
        plan[i] = {replay = {s[1], s[3], s[4], s[5], s[6]}}
      elseif record.how == 'expired' then
        plan[i] = {late = record}  -- a slow worker, not a dead one: its tokens were really spent
      else
        return {'closed', id, described(record)}
      end
    end
  end
  local out, overran = {'done'}, false
  for i = 1, n do
    local id, used, step = ARGV[6 + 2 * i], tonumber(ARGV[7 + 2 * i]), plan[i]
    local answer = step.replay
    if not answer then
      local held, late, source = 0, '1', step.late
      if step.entry then
        held, late, source = step.entry.held, '0', step.entry
        redis.call('HDEL', open, id)
        redis.call('ZREM', deadlines, id)
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
      answer = {int(held), int(used), int(refunded), int(overrun), late}
      close(id, 'settled', token, source.opener,
            {answer[1], source.deadline, answer[2], answer[3], answer[4], answer[5]})
    end
    append(out, answer)
  end
  if overran then redis.call('LTRIM', overruns, 0, 999) end
  return out
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
        plan[i] = {replay = {'released', record.held, '', '', ''}}
      elseif record.how == 'expired' then
        plan[i] = {replay = {'expired', '0', '', '', ''}}  -- its tokens went back at expiry: not an error
      else
        return {'closed', id, described(record)}
      end
    end
  end
  local out = {'done'}
  for i = 1, n do
    local id, step = ARGV[7 + i], plan[i]
    local answer = step.replay
    if not answer then
      local entry = step.entry
      redis.call('HDEL', open, id)
      redis.call('ZREM', deadlines, id)
      add('reserved', 0 - entry.held)
      add('released', entry.held)
      close(id, 'released', token, entry.opener, {int(entry.held), entry.deadline})
      answer = {'released', int(entry.held), '', '', ''}
    end
    append(out, answer)
  end
  return out
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
      redis.call('ZREM', deadlines, id)
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

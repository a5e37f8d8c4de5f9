-- Reserve, settle, release and withdraw, each on a batch of query ids in one call.
--
-- Each operation first checks every id of the batch and changes nothing if one is refused
-- (an id already open; unknown; already closed), then applies the items in order, as
-- single calls in that order would. The answer is {'done', lines}: one line per query of
-- space-separated values (a reserve's "g tokens deadline" or "r free allowance spent
-- reserved"; a settle's "reserved used refunded overrun late"; a release's "released
-- tokens" or "expired 0"). A query this same call already served (a retry, recognised by
-- the call's token) is answered as the first time. The in-process ledger (ledger.py)
-- follows the same rules. The entries of the whole batch are read with one HMGET and
-- written with one command per key, so a batch costs little more than its items' Lua.

local function batch_ids(first, n)
  local ids = {}
  for i = 1, n do ids[i] = ARGV[first + i - 1] end
  return ids
end

-- ARGV[8]: the tokens asked for; ARGV[9]: the smallest grants accepted ('-' for all or nothing).
local function reserve()
  local n, caps, floors = tonumber(ARGV[7]), words(ARGV[8]), words(ARGV[9])
  local ids = batch_ids(10, n)
  local entries, records = fetch_all(open, ids), fetch_all(closed, ids)
  local replayed = {}
  for i, id in ipairs(ids) do
    local entry, record = open_entry(entries[i]), closed_record(records[i])
    if entry then
      if entry.opener ~= token then return {'open', id, int(entry.held)} end
      replayed[i] = 'g ' .. int(entry.held) .. ' ' .. entry.deadline
    elseif record and record.opener == token then
      replayed[i] = 'g ' .. record.held .. ' ' .. record.deadline
    end
  end
  local allowance, spent, reserved, timeout = num('allowance'), num('spent'), num('reserved'), num('timeout')
  local lines, opened, expiries, reused = {}, {}, {}, {}
  for i, id in ipairs(ids) do
    local tokens, at_least = tonumber(caps[i]), tonumber(floors[i])  -- at_least: nil for '-'
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
          expiries[#expiries + 1] = deadline
          expiries[#expiries + 1] = id
        end
        opened[#opened + 1] = id
        opened[#opened + 1] = int(tokens) .. ' ' .. deadline .. ' ' .. token
        if records[i] then reused[#reused + 1] = id end  -- an id reused after closing: its old record goes
        reserved = reserved + tokens
        add('reserved', tokens)
        add('granted', tokens)
        line = 'g ' .. int(tokens) .. ' ' .. deadline
      end
    end
    lines[i] = line
  end
  call_in_chunks('HSET', open, opened)
  call_in_chunks('ZADD', deadlines, expiries)
  call_in_chunks('HDEL', closed, reused)
  call_in_chunks('ZREM', forget, reused)
  return {'done', table.concat(lines, '\n')}
end

-- Closing open entries: the ids to take out of the open hash and of the deadline set.
local function removing()
  return {ids = {}, timed = {}}
end
local function remove(batch, id, entry)
  batch.ids[#batch.ids + 1] = id
  if entry.deadline ~= '-' then batch.timed[#batch.timed + 1] = id end
end
local function write_removed(batch)
  call_in_chunks('HDEL', open, batch.ids)
  call_in_chunks('ZREM', deadlines, batch.timed)
end

-- ARGV[8]: the tokens used.
local function settle()
  local n, usage = tonumber(ARGV[7]), words(ARGV[8])
  local ids = batch_ids(9, n)
  local entries, records, plan = fetch_all(open, ids), fetch_all(closed, ids), {}
  for i, id in ipairs(ids) do
    local entry = open_entry(entries[i])
    if entry then
      plan[i] = {entry = entry}
    else
      local record = closed_record(records[i])
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
  local lines, removed, closes, overran = {}, removing(), closing(), {}
  for i, id in ipairs(ids) do
    local used, step = tonumber(usage[i]), plan[i]
    local line = step.replay
    if not line then
      local held, late, source = 0, '1', step.late
      if step.entry then
        held, late, source = step.entry.held, '0', step.entry
        remove(removed, id, step.entry)
        add('reserved', 0 - held)
      end
      local refunded, overrun = math.max(held - used, 0), math.max(used - held, 0)
      add('spent', used)
      add('charged', used)
      add('refunded', refunded)
      if overrun > 0 then
        add('overrun', overrun)
        add('overrun_count', 1)
        overran[#overran + 1] = id .. ' ' .. int(held) .. ' ' .. int(used)
      end
      local outcome = {int(held), int(used), int(refunded), int(overrun), late}
      close(closes, id, 'settled', token, source.opener,
            {outcome[1], source.deadline, outcome[2], outcome[3], outcome[4], outcome[5]})
      line = table.concat(outcome, ' ')
    end
    lines[i] = line
  end
  write_removed(removed)
  write_closed(closes)
  if #overran > 0 then
    call_in_chunks('LPUSH', overruns, overran)
    redis.call('LTRIM', overruns, 0, 999)
  end
  return {'done', table.concat(lines, '\n')}
end

local function release()
  local n = tonumber(ARGV[7])
  local ids = batch_ids(8, n)
  local entries, records, plan = fetch_all(open, ids), fetch_all(closed, ids), {}
  for i, id in ipairs(ids) do
    local entry = open_entry(entries[i])
    if entry then
      plan[i] = {entry = entry}
    else
      local record = closed_record(records[i])
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
  local lines, removed, closes = {}, removing(), closing()
  for i, id in ipairs(ids) do
    local step = plan[i]
    local line = step.replay
    if not line then
      local entry = step.entry
      remove(removed, id, entry)
      add('reserved', 0 - entry.held)
      add('released', entry.held)
      close(closes, id, 'released', token, entry.opener, {int(entry.held), entry.deadline})
      line = 'released ' .. int(entry.held)
    end
    lines[i] = line
  end
  write_removed(removed)
  write_closed(closes)
  return {'done', table.concat(lines, '\n')}
end

-- Undo the reservations a call made (its token is ARGV[6]) as if it had never run: its caller
-- was cancelled before it could learn of them. Entries it did not make are left alone.
local function withdraw()
  local n = tonumber(ARGV[7])
  local ids = batch_ids(8, n)
  local entries, records = fetch_all(open, ids), fetch_all(closed, ids)
  local removed, forgotten = removing(), {}
  for i, id in ipairs(ids) do
    local entry, record = open_entry(entries[i]), closed_record(records[i])
    if entry and entry.opener == token then
      remove(removed, id, entry)
      add('reserved', 0 - entry.held)
      add('granted', 0 - entry.held)
    elseif not entry and record and record.how == 'expired' and record.opener == token then
      forgotten[#forgotten + 1] = id
      add('expired', 0 - tonumber(record.held))
      add('granted', 0 - tonumber(record.held))
    end
  end
  write_removed(removed)
  call_in_chunks('HDEL', closed, forgotten)
  call_in_chunks('ZREM', forget, forgotten)
  return {'done'}
end

local function arrive()
  return {'done', int(redis.call('HINCRBY', state, 'arrivals', ARGV[7]))}
end

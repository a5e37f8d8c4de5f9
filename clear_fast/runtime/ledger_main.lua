-- The entry point: check the ledger's identity against the caller's memory of it, then run
-- the operation.
--
-- Replies: {'missing'} (no such ledger; the caller named no epoch), {'lost'} (the ledger the
-- caller attached to is gone), {'replaced', created}, {'halted', why}, {'exists', created};
-- otherwise {outcome, generation, operation count, ...}.

if op == 'create' then return create() end

if redis.call('EXISTS', state) == 0 then
  if ARGV[3] == '' then return {'missing'} end
  return {'lost'}
end

local epoch, generation, seq, halted, created = field('epoch'), field('generation'), field('seq'), field('halted'), field('created')
if ARGV[3] ~= '' and ARGV[3] ~= epoch then return {'replaced', created} end

local function answer(outcome, changed)
  if changed then seq = redis.call('HINCRBY', state, 'seq', 1) end
  table.insert(outcome, 2, int(generation))
  table.insert(outcome, 3, int(seq))
  return outcome
end

if op == 'acknowledge' then
  generation = acknowledge()
  return answer({'acknowledged'}, false)
end
if halted then return {'halted', halted} end

-- A caller that has seen a later operation than the server holds: the books went back in time.
local seen_generation, seen_seq = tonumber(ARGV[4]), tonumber(ARGV[5])
if seen_generation and (seen_generation > tonumber(generation)
                        or (seen_generation == tonumber(generation) and seen_seq > tonumber(seq))) then
  local why = 'a client had seen operation ' .. ARGV[5] .. ' of generation ' .. ARGV[4] .. ', but the server holds '
              .. seq .. ' of generation ' .. generation
  redis.call('HSET', state, 'halted', why)
  return {'halted', why}
end

if op == 'attach' then return answer({'attached', unpack(settings())}, false) end
if op == 'delete' then return answer(delete(), false) end
if op == 'overruns' then return answer({'overruns', unpack(recent_overruns())}, false) end
if op == 'arrive' then return answer(arrive(), true) end

roll_window()
sweep()
local outcome
if op == 'snapshot' then return answer({'books', unpack(books())}, false)
elseif op == 'reserve' then outcome = reserve()
elseif op == 'settle' then outcome = settle()
elseif op == 'release' then outcome = release()
elseif op == 'withdraw' then outcome = withdraw()
else return redis.error_reply('unknown ledger operation ' .. op) end
flush()
return answer(outcome, outcome[1] == 'done')

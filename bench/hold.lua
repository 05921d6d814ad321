-- wrk script: every request holds one seat nobody asked for before (distinct seats),
-- or, with MODE=cycle, alternates: hold a seat, then book the hold it got back.
-- MODE=storm: every request asks for the same seat (S1); one wins, the rest are refused.
-- MODE=best: alternates: hold the best 4 seats together, then release the hold it got back
-- (so the show stays as full as it started).
-- MODE=extend: each wrk thread holds 256 seats (one per hold), then extends those holds in
-- turn (extend-hold, 600 s), so each hold is extended a few times in a run, and two
-- requests hardly ever wait for the same hold.
-- MODE=partial: each wrk thread keeps 64 holds of 20 seats and releases one seat of each in
-- turn (release-hold with seat_ids); a hold whose last seat goes is replaced by a new one.
-- MODE=status: every request reads the show's status (GET /shows/<id>/seats), as a seat map
-- kept up to date by polling; a 200 counts as ok.
-- In the extend and partial modes the holds made are part of the run (each counts as a
-- request), unless they were made ahead (HOLDS, a file of bench/make_holds.py): then each wrk
-- thread takes its share of them (every THREADS-th line) and makes holds only once they are
-- all used up.
-- Env: SHOW (show id), MODE (distinct | cycle | storm | best | extend | partial | status), SPAN (seats per
-- wrk thread), HOLDS, THREADS (wrk's -t, 2).
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local show, mode, span, base, counter
local pending = {}
-- MODE=extend: hold ids; MODE=partial: {id, seats left}; the next one to use; holds asked for.
local pool, turn, asked, ahead = {}, 0, 0, false
local POOL = { extend = 256, partial = 64 }
local PARTIAL_SEATS = 20
ok, refused, other, booked, extended, released = 0, 0, 0, 0, 0, 0

function init(args)
  show = os.getenv("SHOW")
  mode = os.getenv("MODE") or "distinct"
  span = tonumber(os.getenv("SPAN") or "100000")
  base = tid * span
  counter = 0
  local file = os.getenv("HOLDS")
  if file and file ~= "" then
    local threads, n = tonumber(os.getenv("THREADS") or "2"), 0
    for line in io.lines(file) do
      if n % threads == tid then
        local words = {}
        for w in string.gmatch(line, "%S+") do table.insert(words, w) end
        local id = table.remove(words, 1)
        table.insert(pool, mode == "partial" and { id = id, seats = words } or id)
      end
      n = n + 1
    end
    ahead = true
  end
end

local headers = { ["Content-Type"] = "application/json" }

local function hold(seat)
  return wrk.format("POST", "/shows/" .. show .. "/hold", headers,
    '{"seat_ids":["' .. seat .. '"],"hold_duration_seconds":600}')
end

local function hold_many(n)
  local seats = {}
  for i = 1, n do
    counter = counter + 1
    if counter > span then counter = 1 end
    seats[i] = '"S' .. (base + counter) .. '"'
  end
  return wrk.format("POST", "/shows/" .. show .. "/hold", headers,
    '{"seat_ids":[' .. table.concat(seats, ",") .. '],"hold_duration_seconds":600}')
end

-- The next hold of the pool, in turn.
local function next_in_pool()
  turn = turn % #pool + 1
  return pool[turn]
end

function request()
  if mode == "status" then
    return wrk.format("GET", "/shows/" .. show .. "/seats")
  end
  if mode == "storm" then
    return hold("S1")
  end
  if mode == "extend" then
    if (not ahead and asked < POOL.extend) or #pool == 0 then
      asked = asked + 1
      return hold_many(1)
    end
    return wrk.format("POST", "/shows/" .. show .. "/extend-hold", headers,
      '{"hold_id":"' .. next_in_pool() .. '","hold_duration_seconds":600}')
  end
  if mode == "partial" then
    if (not ahead and asked < POOL.partial) or #pool == 0 then
      asked = asked + 1
      return hold_many(PARTIAL_SEATS)
    end
    local h = next_in_pool()
    local seat = table.remove(h.seats)
    if #h.seats == 0 then
      -- its last seat: the hold goes, and a new one takes its place
      table.remove(pool, turn)
      turn = turn - 1
      asked = asked - 1
    end
    return wrk.format("POST", "/shows/" .. show .. "/release-hold", headers,
      '{"hold_id":"' .. h.id .. '","seat_ids":["' .. seat .. '"]}')
  end
  if mode == "cycle" and #pending > 0 then
    local id = table.remove(pending)
    return wrk.format("POST", "/shows/" .. show .. "/book", headers, '{"hold_id":"' .. id .. '"}')
  end
  if mode == "best" then
    if #pending > 0 then
      local id = table.remove(pending)
      return wrk.format("POST", "/shows/" .. show .. "/release-hold", headers, '{"hold_id":"' .. id .. '"}')
    end
    return wrk.format("POST", "/shows/" .. show .. "/hold-best", headers,
      '{"count":4,"hold_duration_seconds":600}')
  end
  counter = counter + 1
  if counter > span then counter = 1 end
  return hold("S" .. (base + counter))
end

function response(status, hdrs, body)
  if status == 201 then
    ok = ok + 1
    local id = string.match(body, '"hold_id"%s*:%s*"([^"]+)"')
    if (mode == "cycle" or mode == "best") and id then
      table.insert(pending, id)
    elseif mode == "extend" and id then
      table.insert(pool, id)
    elseif mode == "partial" and id then
      local seats = {}
      for seat in string.gmatch(string.match(body, '"seat_ids"%s*:%s*(%b[])'), '"([^"]+)"') do
        table.insert(seats, seat)
      end
      table.insert(pool, { id = id, seats = seats })
    end
  elseif status == 200 and mode == "extend" then
    extended = extended + 1
  elseif status == 200 and mode == "partial" then
    released = released + 1
  elseif status == 200 and mode == "status" then
    ok = ok + 1
  elseif status == 200 then
    booked = booked + 1
  elseif status == 409 then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, r, x, b, e, p = 0, 0, 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other"); b = b + t:get("booked")
    e = e + t:get("extended"); p = p + t:get("released")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"ok":%d,"refused":%d,"booked":%d,"extended":%d,' ..
    '"released":%d,"other":%d,"errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, secs, o, r, b, e, p, x,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
      summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

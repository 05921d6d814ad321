-- wrk script: every request holds one seat nobody asked for before (distinct seats),
-- or, with MODE=cycle, alternates: hold a seat, then book the hold it got back.
-- MODE=storm: every request asks for the same seat (S1); one wins, the rest are refused.
-- MODE=best: alternates: hold the best 4 seats together, then release the hold it got back
-- (so the show stays as full as it started).
-- Env: SHOW (show id), MODE (distinct | cycle | storm), SPAN (seats per wrk thread).
local threads = {}
local next_tid = 0

function setup(thread)
  thread:set("tid", next_tid)
  next_tid = next_tid + 1
  table.insert(threads, thread)
end

local show, mode, span, base, counter
local pending = {}
ok, refused, other, booked = 0, 0, 0, 0

function init(args)
  show = os.getenv("SHOW")
  mode = os.getenv("MODE") or "distinct"
  span = tonumber(os.getenv("SPAN") or "100000")
  base = tid * span
  counter = 0
end

local headers = { ["Content-Type"] = "application/json" }

local function hold(seat)
  return wrk.format("POST", "/shows/" .. show .. "/hold", headers,
    '{"seat_ids":["' .. seat .. '"],"hold_duration_seconds":600}')
end

function request()
  if mode == "storm" then
    return hold("S1")
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
    if mode == "cycle" or mode == "best" then
      local id = string.match(body, '"hold_id"%s*:%s*"([^"]+)"')
      if id then table.insert(pending, id) end
    end
  elseif status == 200 then
    booked = booked + 1
  elseif status == 409 then
    refused = refused + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, r, x, b = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok"); r = r + t:get("refused"); x = x + t:get("other"); b = b + t:get("booked")
  end
  local secs = summary.duration / 1e6
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"ok":%d,"refused":%d,"booked":%d,"other":%d,' ..
    '"errors":%d,"p50_ms":%.3f,"p99_ms":%.3f}\n',
    summary.requests, secs, o, r, b, x,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
      summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end

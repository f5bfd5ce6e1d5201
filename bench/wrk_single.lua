-- One event per request: a DonorRegistered with a donor_id no other request uses
-- (run id + wrk thread + per-thread counter), so every request is a new, valid event.
-- Arguments after "--": API key, run id.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  token, run, counter = args[1], args[2], 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local body = string.format(
    '{"type":"DonorRegistered","data":{"donor_id":"B1-%s-%d-%d","abo":"O","rhd":"POS"}}',
    run, thread_no, counter)
  return wrk.format(nil, "/v1/events", nil, body)
end

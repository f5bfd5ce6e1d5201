-- POST /v1/events/batch with BATCH DonorRegistered events per request, each donor_id
-- unique (run id + wrk thread + request counter + index).
-- Arguments after "--": API key, run id, batch size.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_no", #threads)
end

function init(args)
  token, run, batch, counter = args[1], args[2], tonumber(args[3]), 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local parts = {}
  for i = 1, batch do
    parts[i] = string.format('{"type":"DonorRegistered","data":{"donor_id":"B2-%s-%d-%d-%d"}}',
                             run, thread_no, counter, i)
  end
  return wrk.format(nil, "/v1/events/batch", nil,
                    '{"events":[' .. table.concat(parts, ",") .. ']}')
end

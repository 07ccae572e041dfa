-- One request after another to each path given after `--`, in turn on every connection, so
-- every path meets the same moments of a shared machine. bench/load.py reads each request's
-- time from gunicorn's access log; this prints only wrk's own counts, as one JSON line.
local paths = {}
local next_path = 0

init = function(args)
  for _, path in ipairs(args) do
    paths[#paths + 1] = path
  end
end

request = function()
  next_path = next_path % #paths + 1
  return wrk.format(nil, paths[next_path])
end

done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"status_errors":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end

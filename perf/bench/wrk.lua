-- Shared by every wrk run of the benchmark: one machine-readable result line at the end.
-- Mix scripts define `request` before this file is appended.
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("ASSAY_RESULT %d %d %d %.3f %.3f\n", summary.requests,
    e.connect + e.read + e.write + e.status + e.timeout, summary.duration,
    latency:percentile(95) / 1000, latency:percentile(50) / 1000))
end

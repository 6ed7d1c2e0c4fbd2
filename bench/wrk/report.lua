-- bench/wrk/report.lua: included by the other scripts.  At the end of a run
-- prints one line, "BENCHJSON {...}", that bench/bench.py reads: requests,
-- seconds, errors (socket errors and non-2xx/3xx answers), and latency
-- percentiles in microseconds.
function done(summary, latency, requests)
    local e = summary.errors
    local errors = e.connect + e.read + e.write + e.timeout + e.status
    io.write(string.format(
        'BENCHJSON {"requests":%d,"seconds":%.6f,"errors":%d,"status_errors":%d,' ..
        '"p50_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
        summary.requests, summary.duration / 1e6, errors, e.status,
        latency:percentile(50), latency:percentile(99), latency.max, latency.mean))
end

-- bench/wrk/submit.lua: POST /graphs/hugegraph/jobs/gremlin {"gremlin":"1"}.
wrk.method = "POST"
wrk.path = "/graphs/" .. (os.getenv("BENCH_GRAPH") or "hugegraph") .. "/jobs/gremlin"
wrk.body = '{"gremlin":"1"}'
wrk.headers["Content-Type"] = "application/json"

dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

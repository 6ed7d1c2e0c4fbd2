-- bench/wrk/get.lua: GET /graphs/hugegraph/tasks/{id}, id random in
-- 1..BENCH_MAXID (every such id exists).
local graph = os.getenv("BENCH_GRAPH") or "hugegraph"
local maxid = tonumber(os.getenv("BENCH_MAXID") or "1000")
local prefix = "/graphs/" .. graph .. "/tasks/"

function init(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
end

function request()
    return wrk.format("GET", prefix .. math.random(1, maxid))
end

dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

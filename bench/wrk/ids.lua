-- bench/wrk/ids.lua: GET /graphs/hugegraph/tasks?ids=..  with 10 random
-- existing ids (1..BENCH_MAXID) per request.
local graph = os.getenv("BENCH_GRAPH") or "hugegraph"
local maxid = tonumber(os.getenv("BENCH_MAXID") or "1000")
local prefix = "/graphs/" .. graph .. "/tasks?"

function init(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1000000) + #tostring({}))
end

function request()
    local parts = {}
    for i = 1, 10 do
        parts[i] = "ids=" .. math.random(1, maxid)
    end
    return wrk.format("GET", prefix .. table.concat(parts, "&"))
end

dofile((os.getenv("BENCH_WRK_DIR") or "bench/wrk") .. "/report.lua")

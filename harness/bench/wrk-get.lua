-- wrk script: GET /api/v1/log/entries?logIndex=N at random N in [0, size),
-- size being wrk's first script argument. One entry per request.
local size = 100000

function init(args)
    size = tonumber(args[1]) or size
    math.randomseed(os.time() * 1000 + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 1000)
end

function request()
    return wrk.format("GET", "/api/v1/log/entries?logIndex=" .. math.random(0, size - 1))
end

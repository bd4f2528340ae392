-- wrk script: POST /api/v1/log/entries/retrieve with 10 consecutive indices
-- (the batch rekor-backfill sends) at a random start in [0, size - 10],
-- size being wrk's first script argument. Ten entries per request.
local size = 100000
local headers = { ["Content-Type"] = "application/json" }

function init(args)
    size = tonumber(args[1]) or size
    math.randomseed(os.time() * 1000 + (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 1000)
end

function request()
    local first = math.random(0, size - 10)
    local indices = {}
    for i = 0, 9 do
        indices[#indices + 1] = tostring(first + i)
    end
    local body = '{"logIndexes":[' .. table.concat(indices, ",") .. "]}"
    return wrk.format("POST", "/api/v1/log/entries/retrieve", headers, body)
end

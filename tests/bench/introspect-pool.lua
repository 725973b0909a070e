-- wrk script: introspection of many distinct tokens (RFC 7662), rotating through a pool.
--   BENCH_TOKEN_POOL  file with one form-encoded token per line (written by pool.mjs)
--   BENCH_PEERS_LUA   the peers' common/wrk.lua: it sets the method, Content-Type and the
--                     Authorization header (WRK_AUTH) and prints the WRKJSON line bench.mjs reads
-- Every request is pre-formatted in init(), so the Lua cost per request is one table lookup.
-- Each wrk thread starts at a different offset of the pool.
dofile(assert(os.getenv("BENCH_PEERS_LUA"), "BENCH_PEERS_LUA not set"))

local pool_file = assert(os.getenv("BENCH_TOKEN_POOL"), "BENCH_TOKEN_POOL not set")
local requests = {}
local n, i = 0, 0
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
end

function init(args)
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  for line in io.lines(pool_file) do
    if line ~= "" then
      n = n + 1
      requests[n] = wrk.format(nil, nil, nil, "token=" .. line .. "&token_type_hint=access_token")
    end
  end
  assert(n > 0, "empty token pool " .. pool_file)
  i = ((thread_index or 0) * 997) % n
end

function request()
  i = i % n + 1
  return requests[i]
end

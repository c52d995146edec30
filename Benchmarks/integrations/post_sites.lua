-- wrk script: the ingest benchmark's /track body (Benchmarks/ingest/body.py) with its site url
-- varied per request. Every NEW_SITE_EVERY-th request (default 1: every one) comes from a new
-- site ("t<thread>-<n>.example.com"): its first event, so a `site.activated` lifecycle event,
-- an outbox entry and a webhook delivery. The others come from a pool of 500 sites per thread
-- ("p<thread>-<k>.example.com") that report again and again, as active sites do (a lifecycle
-- event only the first time). Same script for both sides of the A/B.
-- The ingest benchmark's script sets the body, the headers and the RESULT line (`done`).
dofile(assert(os.getenv("INGEST_POST_LUA"), "INGEST_POST_LUA names Benchmarks/ingest/post.lua"))
local body = wrk.body
local first, last = body:find("shop.example.com", 1, true)
assert(first, "the body has no shop.example.com url")
local prefix, suffix = body:sub(1, first - 1), body:sub(last + 1)

local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local every = tonumber(os.getenv("NEW_SITE_EVERY") or "1")
local counter = 0
function request()
  counter = counter + 1
  local host
  if counter % every == 0 then
    host = "t" .. tid .. "-" .. counter
  else
    host = "p" .. tid .. "-" .. (counter % 500)
  end
  return wrk.format(nil, nil, nil, prefix .. host .. ".example.com" .. suffix)
end

"""The Lua scripts the Redis store runs: settlement and admission in one, lease renewal.

Admission checks every limit of a request and, only if all allow, reserves on every one,
inside one script: Redis runs scripts one at a time, so replicas never interleave a
read and a write (no check-then-act race). Time is Redis's own clock (``TIME``), so
replicas with skewed clocks still share one window.

Keys, per limit (``K`` is the limit's base key, passed in KEYS):

* rpm: ``K`` sorted set, member = request id, score = admission time (ms): a sliding
  60 s log, exact at any instant (no fixed-window boundary burst).
* tpm: ``K:z`` sorted set (request id -> time), ``K:h`` hash (request id -> tokens),
  ``K:t`` the window's total. Settlement rewrites the request's own entry.
* concurrency: ``K`` sorted set, member = request id, score = lease expiry (ms).
  Expired leases (a killed replica stops renewing) are dropped before counting.
* budget: ``K:d:<days since epoch>`` and ``K:m:<year*12+month-1>`` counters of
  nano-dollars (integers: no float drift), UTC calendar.

One script call settles and admits a batch of requests (those that arrived while the
previous call was in flight): first the settlements, then the admissions, each request
evaluated after another exactly as separate calls would be.
ARGV: lease ms, number of settlements, then per settlement: id, n, (op, amount) * n;
then number of admissions, then per admission: id, n, (kind, limit, amount) * n.
KEYS: the n keys of each settlement in turn, then the n base keys of each admission.
Reply: {now ms, day, month, then per admission: index of the first refusing limit
(1-based, 0 = admitted), used before this request per limit..., ms until the window
frees per limit...}.
"""

from __future__ import annotations

WINDOW_MS = 60_000

# Settlement ops: "tpm" (K is the limit's base key: replace the request's own entry by
# ``amount`` if it is still in the window), "release" (drop the concurrency lease), "add"
# (add ``amount`` to a budget counter that still exists: a counter that expired belongs
# to a period long over).
SETTLE_THEN_ADMIT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
local window = 60000
local day = math.floor(now / 86400000)
-- UTC year and month from the day number (H. Hinnant's civil_from_days)
local z = day + 719468
local era = math.floor(z / 146097)
local doe = z - era * 146097
local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
local mp = math.floor((5 * doy + 2) / 153)
local m = mp < 10 and mp + 3 or mp - 9
local y = yoe + era * 400
if m <= 2 then y = y + 1 end
local month = y * 12 + m - 1

-- the settlements first: what they give back is free for the admissions
local a, base = 3, 0  -- ARGV cursor, KEYS offset of the current request
for _ = 1, tonumber(ARGV[2]) do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  for i = 1, n do
    local op, amount = ARGV[a + 2 * i - 2], tonumber(ARGV[a + 2 * i - 1])
    local k = KEYS[base + i]
    if op == 'tpm' then
      local old = redis.call('HGET', k .. ':h', id)
      if old and tonumber(old) ~= amount then
        redis.call('HSET', k .. ':h', id, amount)
        redis.call('INCRBY', k .. ':t', amount - tonumber(old))
      end
    elseif op == 'release' then
      redis.call('ZREM', k, id)
    elseif amount ~= 0 and redis.call('EXISTS', k) == 1 then
      redis.call('INCRBY', k, amount)
    end
  end
  a = a + 2 * n
  base = base + n
end

-- then the admissions
local reply = {now, day, month}
local requests = tonumber(ARGV[a])
a = a + 1
for _ = 1, requests do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  a = a + 2
  local used, frees = {}, {}
  local refused = 0
  for i = 1, n do
    local kind, limit, amount = ARGV[a + 3 * i - 3], tonumber(ARGV[a + 3 * i - 2]), tonumber(ARGV[a + 3 * i - 1])
    local k = KEYS[base + i]
    local u, free = 0, 0
    if kind == 'rpm' then
      redis.call('ZREMRANGEBYSCORE', k, '-inf', now - window)
      u = redis.call('ZCARD', k)
      if u > 0 then
        free = tonumber(redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')[2]) + window - now
      end
    elseif kind == 'tpm' then
      local zk, hk, tk = k .. ':z', k .. ':h', k .. ':t'
      while true do
        local old = redis.call('ZRANGEBYSCORE', zk, '-inf', now - window, 'LIMIT', 0, 500)
        if #old == 0 then break end
        local gone = 0
        for _, v in ipairs(redis.call('HMGET', hk, unpack(old))) do gone = gone + (tonumber(v) or 0) end
        redis.call('HDEL', hk, unpack(old))
        redis.call('ZREM', zk, unpack(old))
        if gone ~= 0 then redis.call('DECRBY', tk, gone) end
      end
      u = tonumber(redis.call('GET', tk) or '0')
      local first = redis.call('ZRANGE', zk, 0, 0, 'WITHSCORES')
      if #first > 0 then free = tonumber(first[2]) + window - now end
    elseif kind == 'concurrency' then
      redis.call('ZREMRANGEBYSCORE', k, '-inf', now)
      u = redis.call('ZCARD', k)
    elseif kind == 'day' then
      u = tonumber(redis.call('GET', k .. ':d:' .. day) or '0')
    else
      u = tonumber(redis.call('GET', k .. ':m:' .. month) or '0')
    end
    used[i], frees[i] = u, free
    if refused == 0 and u + amount > limit then refused = i end
  end
  reply[#reply + 1] = refused
  for i = 1, n do reply[#reply + 1] = used[i] end
  for i = 1, n do reply[#reply + 1] = frees[i] end
  if refused == 0 then
    for i = 1, n do
      local kind, amount = ARGV[a + 3 * i - 3], tonumber(ARGV[a + 3 * i - 1])
      local k = KEYS[base + i]
      if kind == 'rpm' then
        redis.call('ZADD', k, now, id)
        redis.call('PEXPIRE', k, window + 1000)
      elseif kind == 'tpm' then
        local zk, hk, tk = k .. ':z', k .. ':h', k .. ':t'
        redis.call('ZADD', zk, now, id)
        redis.call('HSET', hk, id, amount)
        redis.call('INCRBY', tk, amount)
        for _, key in ipairs({zk, hk, tk}) do redis.call('PEXPIRE', key, window + 1000) end
      elseif kind == 'concurrency' then
        redis.call('ZADD', k, now + lease, id)
        redis.call('PEXPIRE', k, lease + 1000)
      elseif kind == 'day' then
        redis.call('INCRBY', k .. ':d:' .. day, amount)
        redis.call('EXPIRE', k .. ':d:' .. day, 3 * 86400)
      else
        redis.call('INCRBY', k .. ':m:' .. month, amount)
        redis.call('EXPIRE', k .. ':m:' .. month, 63 * 86400)
      end
    end
  end
  a = a + 3 * n
  base = base + n
end
return reply
"""


# ARGV: expiry ms from now; KEYS: concurrency keys, ARGV[2..]: the request ids holding
# them (pairwise). Only existing leases are extended (XX): a released one stays gone.
RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 1, #KEYS do
  if redis.call('ZSCORE', KEYS[i], ARGV[i + 1]) then
    redis.call('ZADD', KEYS[i], now + lease, ARGV[i + 1])
    redis.call('PEXPIRE', KEYS[i], lease + 1000)
  end
end
return 1
"""

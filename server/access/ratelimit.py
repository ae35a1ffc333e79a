"""Rate limits: token buckets per key (an address, a principal), in memory.

Each instance limits what it sees; behind a load balancer the effective limit is the sum
over instances, which is still a bound. Buckets idle long enough to be full again are
dropped, so memory stays proportional to recent callers.
"""

from __future__ import annotations

import time


class Limiter:
    def __init__(self, rate_per_second: float, burst: float | None = None) -> None:
        self.rate = rate_per_second
        self.burst = burst if burst is not None else max(1.0, 2 * rate_per_second)
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)
        self._last_sweep = time.monotonic()

    def allow(self, key: str, cost: float = 1.0) -> bool:
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        allowed = tokens >= cost
        if allowed:
            tokens -= cost
        self._buckets[key] = (tokens, now)
        if now - self._last_sweep > 60:
            self._sweep(now)
        return allowed

    def exhausted(self, key: str) -> bool:
        """Whether a call now would be refused (without spending anything)."""
        now = time.monotonic()
        tokens, at = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - at) * self.rate) < 1

    def retry_after(self, key: str) -> int:
        tokens, _ = self._buckets.get(key, (self.burst, 0.0))
        return max(1, int((1 - tokens) / self.rate) + 1)

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}

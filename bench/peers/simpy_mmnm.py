#!/usr/bin/env python3
"""The M/M/500+M model of `mmnm-500.toml` in SimPy 4: Poisson arrivals at 95% offered load
(475 Erlang), exponential talk with mean 180 s, 500 agents, exponential patience with mean
30 s. Prints the calls simulated, answered and abandoned, and calls per second of wall time
(including the interpreter's start, as the comparison times the whole process).

    pip install simpy            # SimPy 4 from PyPI
    python3 simpy_mmnm.py [CALLS] [SEED]
"""
import random
import sys
import time

import simpy

AGENTS = 500
AHT_S = 180.0
PATIENCE_S = 30.0
RATE_PER_S = 0.95 * AGENTS / AHT_S


def caller(env, agents, rng, stats):
    """One call: wait for an agent or hang up when patience runs out."""
    patience = rng.expovariate(1.0 / PATIENCE_S)
    with agents.request() as req:
        got = yield req | env.timeout(patience)
        if req in got:
            stats["answered"] += 1
            yield env.timeout(rng.expovariate(1.0 / AHT_S))
        else:
            stats["abandoned"] += 1


def arrivals(env, agents, rng, stats, calls):
    for _ in range(calls):
        yield env.timeout(rng.expovariate(RATE_PER_S))
        env.process(caller(env, agents, rng, stats))


def main():
    started = time.monotonic()
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rng = random.Random(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    env = simpy.Environment()
    agents = simpy.Resource(env, capacity=AGENTS)
    stats = {"answered": 0, "abandoned": 0}
    env.process(arrivals(env, agents, rng, stats, calls))
    env.run()
    wall = time.monotonic() - started
    print(
        f"simpy {simpy.__version__}: {calls} calls, {stats['answered']} answered, "
        f"{stats['abandoned']} abandoned (P(ab) {stats['abandoned'] / calls:.4f}), "
        f"{calls / wall:,.0f} calls/s in the loop"
    )


if __name__ == "__main__":
    main()

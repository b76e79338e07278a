package org.lmcache4j.bench.workload;

import org.lmcache4j.api.HostKvMemory;

/** Computes the KV of prompt tokens {@code [from, n)} into engine memory: the work a cache hit saves. */
@FunctionalInterface
public interface Prefill {

    /**
     * @return the compute time to charge, in nanoseconds, in addition to the time the call itself took when
     *         {@link #countsItsOwnTime} (0 for a real engine; the simulated model time for {@link SyntheticPrefill},
     *         which replaces the call's own time)
     */
    long prefill(int[] tokens, int from, HostKvMemory kv, int[] slots);

    /**
     * The compute time {@link #prefill} will charge for {@code tokens} tokens from {@code from}, known before
     * it runs: the time the device computes while the host waits (0 for a real engine, whose compute is
     * the call itself).
     */
    default long chargedNanos(int tokens, int from) {
        return 0;
    }

    /**
     * False when the call's own time stands in for device work and is not counted: its KV writes stand for
     * the device writing its own memory, which takes no host time, so the charged time is the prefill's
     * whole time (true for a real engine, whose compute is the call itself).
     */
    default boolean countsItsOwnTime() {
        return true;
    }
}

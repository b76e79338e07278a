package org.lmcache4j.bench.workload;

/**
 * What a workload benchmark ran, for the report's labels: the engine, the model shape whose KV it
 * produced, and its prefill rate, either assumed (the connector alone, with a synthetic prefill) or
 * measured (a real engine: prompt tokens over the TTFT of the no-cache runs).
 *
 * @param engine                        the engine, for people (e.g. {@code reference engine smollm-135m})
 * @param modelShape                    the model shape of the KV that was stored and retrieved
 * @param assumedPrefillTokensPerSecond the synthetic prefill's rate, or NaN when the engine computes for real
 */
public record BenchSubject(String engine, String modelShape, double assumedPrefillTokensPerSecond) {

    public BenchSubject {
        if (engine == null || modelShape == null) {
            throw new IllegalArgumentException("engine and modelShape: must not be null");
        }
    }

    /** A real engine, whose prefill rate the benchmark measures. */
    public static BenchSubject measured(String engine, String modelShape) {
        return new BenchSubject(engine, modelShape, Double.NaN);
    }

    /** The connector alone with a synthetic prefill at {@code tokensPerSecond}. */
    public static BenchSubject assumed(String engine, String modelShape, double tokensPerSecond) {
        if (!(tokensPerSecond > 0)) {
            throw new IllegalArgumentException("tokensPerSecond: " + tokensPerSecond + " (expected: > 0)");
        }
        return new BenchSubject(engine, modelShape, tokensPerSecond);
    }

    /** True when the prefill rate is measured, not assumed. */
    public boolean measuresPrefill() {
        return Double.isNaN(assumedPrefillTokensPerSecond);
    }
}

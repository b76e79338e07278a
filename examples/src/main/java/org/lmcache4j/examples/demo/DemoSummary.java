package org.lmcache4j.examples.demo;

import java.util.List;

/**
 * Everything the demo reports: the setup, each scenario's row, and the checks over all of them.
 *
 * @param model                  the model's name (the GGUF file's base name)
 * @param modelFile              the GGUF file the weights were read from
 * @param parameters             parameters of the model
 * @param kvBytesPerToken        bytes of KV per token (all layers, K and V, FP32)
 * @param threads                compute threads
 * @param chunkTokens            the connector's chunk size
 * @param prefillTokensPerSecond prompt tokens per second of the longest uncached prefill
 * @param wallSeconds            wall time of the demo, model loading included
 * @param scenarios              the rows, in the order they ran
 * @param rag                    the RAG (CacheBlend) scenario, or null when skipped
 */
record DemoSummary(String model, String modelFile, long parameters, int kvBytesPerToken, int threads, int chunkTokens,
                   double prefillTokensPerSecond, double wallSeconds, List<ScenarioResult> scenarios, RagResult rag) {

    DemoSummary {
        scenarios = List.copyOf(scenarios);
    }

    /** True when every row's KV matched byte for byte (and there is at least one row). */
    boolean kvIdentical() {
        return !scenarios.isEmpty() && scenarios.stream().allMatch(ScenarioResult::kvIdentical);
    }

    /** True when every row generated the same tokens with and without the cache. */
    boolean tokensIdentical() {
        return !scenarios.isEmpty() && scenarios.stream().allMatch(ScenarioResult::tokensIdentical);
    }

    /** True when every row's first-token logits matched bit for bit. */
    boolean logitsIdentical() {
        return !scenarios.isEmpty() && scenarios.stream().allMatch(ScenarioResult::logitsIdentical);
    }
}

package org.lmcache4j.examples.bench;

import java.util.List;
import java.util.function.IntConsumer;
import org.lmcache4j.api.CacheStats;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.bench.workload.Workload;
import org.lmcache4j.bench.workload.WorkloadRunner;
import org.lmcache4j.bench.workload.Workloads;
import org.lmcache4j.examples.engine.Generation;
import org.lmcache4j.examples.engine.LlamaEngine;

/** Runs benchmark workloads through the reference engine: each request is a real prefill and first token. */
final class EngineWorkloads {

    private EngineWorkloads() {
    }

    /** Workload sizes for the reference engine (a few hundred prefill tokens/s on two cores). */
    static List<Workload> workloads(boolean quick) {
        int s = quick ? 1 : 3;
        return List.of(
                Workloads.multiRoundQa(1, 2, 3 * s, 512, 32, 64),
                Workloads.documentQa(2, 2, 1024, 3 * s, 32),
                Workloads.prefixRepetition(3, 6, 512, 10 * s, 32),
                Workloads.ragChunks(4, 12, 256, 3, 6 * s, 256, 32),
                Workloads.missOnly(5, 5 * s, 512));
    }

    /** The engine's KV capacity these workloads need, in tokens. */
    static int capacityTokens(List<Workload> workloads) {
        return workloads.stream().flatMap(w -> w.requests().stream()).mapToInt(r -> r.length).max().orElse(1) + 64;
    }

    /**
     * The workload's token ids folded into a vocabulary of {@code vocab} (the workloads draw from 32,000;
     * the tiny model has 512): equal tokens stay equal, so shared prefixes stay shared.
     */
    static int[] inVocabulary(int[] tokens, int vocab) {
        int[] folded = tokens.clone();
        for (int i = 0; i < folded.length; i++) {
            folded[i] %= vocab;
        }
        return folded;
    }

    /** Runs {@code workload} request by request: TTFT from the engine, hits and bytes from the connector's stats. */
    static WorkloadRunner.Result run(LlamaEngine engine, Workload workload, KvConnector cache, IntConsumer progress) {
        double[] ttft = new double[workload.requests().size()];
        long prompt = 0;
        long hit = 0;
        CacheStats before = cache == null ? null : cache.stats();
        long start = System.nanoTime();
        for (int i = 0; i < ttft.length; i++) {
            int[] tokens = inVocabulary(workload.requests().get(i), engine.shape().vocabSize());
            try (Generation g = engine.generate(tokens, 1, cache, done -> { })) {
                ttft[i] = g.ttftMillis();
                hit += g.cachedTokens();
            }
            prompt += tokens.length;
            progress.accept(i + 1);
        }
        double wall = (System.nanoTime() - start) / 1e9;
        return WorkloadRunner.result(workload.name(), cache, before, ttft, prompt, hit, wall);
    }
}

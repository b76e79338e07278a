package org.lmcache4j.bench.workload;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * LMCache's benchmark workloads, generated at token level from a seed: multi-round QA, long-document
 * QA, prefix repetition under memory pressure, RAG-like chunk reuse, and a miss-only workload.
 */
public final class Workloads {

    private static final int VOCAB = 32_000;

    private Workloads() {
    }

    /**
     * Many users chat round-robin; each prompt is a shared system prompt, the user's whole history, and
     * a new question; the answer joins the history.
     */
    public static Workload multiRoundQa(long seed, int users, int rounds, int systemTokens, int questionTokens, int answerTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] system = tokens(r, systemTokens);
        List<int[]> histories = new ArrayList<>();
        for (int u = 0; u < users; u++) {
            histories.add(system);
        }
        List<int[]> requests = new ArrayList<>();
        for (int round = 0; round < rounds; round++) {
            for (int u = 0; u < users; u++) {
                int[] prompt = concat(histories.get(u), tokens(r, questionTokens));
                requests.add(prompt);
                histories.set(u, concat(prompt, tokens(r, answerTokens)));
            }
        }
        return new Workload("multi_round_qa", requests);
    }

    /** A few long documents, each asked about {@code questionsPerDocument} times, interleaved. */
    public static Workload documentQa(long seed, int documents, int documentTokens, int questionsPerDocument, int questionTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> docs = new ArrayList<>();
        for (int d = 0; d < documents; d++) {
            docs.add(tokens(r, documentTokens));
        }
        List<int[]> requests = new ArrayList<>();
        for (int q = 0; q < questionsPerDocument; q++) {
            for (int[] doc : docs) {
                requests.add(concat(doc, tokens(r, questionTokens)));
            }
        }
        return new Workload("document_qa", requests);
    }

    /**
     * More distinct prefixes than the cpu tier holds, each repeated in random order with new suffixes:
     * hits come from disk once the cpu tier has evicted a prefix.
     */
    public static Workload prefixRepetition(long seed, int prefixes, int prefixTokens, int requests, int suffixTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> pool = new ArrayList<>();
        for (int p = 0; p < prefixes; p++) {
            pool.add(tokens(r, prefixTokens));
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            out.add(concat(pool.get(r.nextInt(prefixes)), tokens(r, suffixTokens)));
        }
        return new Workload("prefix_repetition", out);
    }

    /**
     * RAG-like: each prompt is a system prompt, {@code perRequest} passages drawn from a pool, and a
     * question. Prefix caching reuses the system prompt and any repeated leading passages only.
     */
    public static Workload ragChunks(long seed, int passages, int passageTokens, int perRequest, int requests,
                                     int systemTokens, int questionTokens) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] system = tokens(r, systemTokens);
        List<int[]> pool = new ArrayList<>();
        for (int p = 0; p < passages; p++) {
            pool.add(tokens(r, passageTokens));
        }
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            int[] prompt = system;
            for (int k = 0; k < perRequest; k++) {
                // popular passages first, as retrievers rank them: a skewed draw makes leading passages repeat
                int pick = (int) Math.min(passages - 1, Math.floor(Math.pow(r.nextDouble(), 3) * passages));
                prompt = concat(prompt, pool.get(pick));
            }
            out.add(concat(prompt, tokens(r, questionTokens)));
        }
        return new Workload("rag_chunks", out);
    }

    /** Nothing repeats: the price of having the cache. */
    public static Workload missOnly(long seed, int requests, int tokens) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int i = 0; i < requests; i++) {
            out.add(tokens(r, tokens));
        }
        return new Workload("miss_only", out);
    }

    static int[] tokens(SplittableRandom r, int n) {
        return r.ints(n, 0, VOCAB).toArray();
    }

    static int[] concat(int[] a, int[] b) {
        int[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }
}

package org.lmcache4j.bench.workload;

import java.util.List;

/**
 * A named, deterministic sequence of prompts (token ids) in the order an engine receives them.
 *
 * @param name     short name used in reports ({@code multi_round_qa}, ...)
 * @param requests the prompts, in arrival order
 */
public record Workload(String name, List<int[]> requests) {

    public Workload {
        requests = List.copyOf(requests);
    }

    /** Tokens over all requests. */
    public long totalTokens() {
        return requests.stream().mapToLong(r -> r.length).sum();
    }
}

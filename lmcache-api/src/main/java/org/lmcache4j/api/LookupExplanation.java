package org.lmcache4j.api;

import java.util.List;

/**
 * A lookup with its reasons: the prefix a {@link KvConnector#lookup(int[])} would report now, and for each
 * chunk of the prompt whether it would be served and, if not, why.
 *
 * @param tokens    the prompt's length
 * @param hitTokens the cached prefix, as {@code lookup} counts it
 * @param chunks    every chunk of the prompt, in order
 */
public record LookupExplanation(int tokens, int hitTokens, List<ChunkExplanation> chunks) {

    public LookupExplanation {
        chunks = List.copyOf(chunks);
    }
}

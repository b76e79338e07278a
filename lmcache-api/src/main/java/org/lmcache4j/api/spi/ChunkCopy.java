package org.lmcache4j.api.spi;

import java.lang.foreign.MemorySegment;

/**
 * One chunk of a batch or layerwise device copy: prompt tokens {@code [from, to)} and the host chunk buffer
 * holding them, laid out {@code [K|V][layer][token][kvHeads*headDim]} ({@code [layer][token][latent]} for MLA)
 * with {@code to - from} tokens. The slot of token {@code t} is {@code slotMapping[t]} of the call.
 */
public record ChunkCopy(int from, int to, MemorySegment chunk) {

    public ChunkCopy {
        if (chunk == null || from < 0 || to < from) {
            throw new IllegalArgumentException("chunk copy: tokens [" + from + ", " + to + ") into " + chunk
                    + " (expected: 0 <= from <= to and a chunk buffer)");
        }
    }

    /** Tokens in the chunk. */
    public int tokens() {
        return to - from;
    }
}

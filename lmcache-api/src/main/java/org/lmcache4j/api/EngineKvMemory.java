package org.lmcache4j.api;

/**
 * Where an engine keeps its KV cache: host memory ({@link HostKvMemory}) or device memory
 * ({@link DeviceKvMemory}). Tokens are addressed by slot ({@code block * blockSize + offsetInBlock});
 * a slot mapping gives each token's slot, negative meaning "skip this token".
 */
public sealed interface EngineKvMemory permits HostKvMemory, DeviceKvMemory {

    /** The layout of every token in this memory. */
    KvLayout layout();

    /** Number of addressable slots: valid slots are {@code 0 .. numSlots() - 1}. */
    int numSlots();
}

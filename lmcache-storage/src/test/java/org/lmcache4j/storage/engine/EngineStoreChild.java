package org.lmcache4j.storage.engine;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.testing.SeededKv;

/** Child-process main of {@link EngineRestartIT}: opens a connector on a disk directory, stores one prompt, exits. */
public final class EngineStoreChild {

    private EngineStoreChild() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        int tokensCount = Integer.parseInt(args[1]);
        try (Arena arena = Arena.ofConfined();
             KvConnector connector = KvConnectors.open(EngineRestartIT.config(dir), Engines.SMALL)) {
            int[] tokens = SeededKv.tokens(EngineRestartIT.SEED, tokensCount);
            HostKvMemory kv = SeededKv.contiguous(arena, Engines.SMALL, tokensCount);
            int[] slots = SeededKv.identitySlots(tokensCount);
            SeededKv.fill(kv, tokens, slots);
            System.out.println("stored " + connector.store(tokens, kv, slots));
        }
    }
}

package org.lmcache4j.storage.metrics;

import java.io.InputStream;
import java.lang.foreign.Arena;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.admin.AdminOptions;
import org.lmcache4j.storage.admin.AdminServer;
import org.lmcache4j.testing.SeededKv;

/** Child main of {@link WithoutMicrometerIT}: stores, retrieves and scrapes /metrics with no Micrometer on the class path. */
public final class WithoutMicrometerChild {

    private WithoutMicrometerChild() {
    }

    public static void main(String[] args) throws Exception {
        boolean micrometer;
        try {
            Class.forName("io.micrometer.core.instrument.MeterRegistry");
            micrometer = true;
        } catch (ClassNotFoundException e) {
            micrometer = false;
        }
        KvLayout layout = KvLayout.standard(2, 2, 8, KvDtype.FP16);
        try (Arena arena = Arena.ofConfined();
             KvConnector c = KvConnectors.open(LmCacheConfig.builder().chunkTokens(16).noLocalDisk()
                     .maxLocalCpuBytes(1 << 20).build(), layout);
             AdminServer admin = AdminServer.start(c, AdminOptions.loopback())) {
            int[] tokens = SeededKv.tokens(1, 64);
            HostKvMemory kv = SeededKv.contiguous(arena, layout, 64);
            int[] slots = SeededKv.identitySlots(64);
            SeededKv.fill(kv, tokens, slots);
            c.store(tokens, kv, slots);
            int hit = c.retrieve(tokens, kv, slots);
            try (InputStream in = URI.create("http://127.0.0.1:" + admin.port() + "/metrics").toURL().openStream()) {
                String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                System.out.println("micrometer=" + micrometer + " retrieved=" + hit
                        + " metrics=" + text.contains("lmcache_stored_chunks_total 4"));
            }
        }
    }
}

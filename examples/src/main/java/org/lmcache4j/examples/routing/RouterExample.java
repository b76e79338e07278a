package org.lmcache4j.examples.routing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.storage.keys.PrefixKeys;

/**
 * Cache-aware routing with KV events: two engine replicas publish their chunk events; a router indexes
 * them and sends each request to the replica that already holds the longest prefix of it. Run with
 * {@code bin/lmcache route-example}; prints each routing decision.
 */
public final class RouterExample {

    static final KvLayout LAYOUT = KvLayout.standard(4, 2, 32, KvDtype.BF16);
    static final int CHUNK = 64;

    private RouterExample() {
    }

    public static void main(String[] args) throws Exception {
        for (String line : run()) {
            System.out.println(line);
        }
    }

    /** Runs the scenario and returns what it printed, one line per decision. */
    static List<String> run() throws Exception {
        List<String> out = new ArrayList<>();
        LmCacheConfig config = LmCacheConfig.builder().modelId("router-demo").chunkTokens(CHUNK).noLocalDisk()
                .maxLocalCpuBytes(8 * LAYOUT.chunkBytes(CHUNK)).build();
        BlockingQueue<String> bus = new ArrayBlockingQueue<>(10_000);
        PrefixRouterIndex router = new PrefixRouterIndex();
        PrefixKeys keys = PrefixKeys.of(config, LAYOUT);
        int[] docA = tokens(1, 4 * CHUNK);
        int[] docB = tokens(2, 4 * CHUNK);
        try (Arena arena = Arena.ofConfined();
             KvConnector a = KvConnectors.open(config, LAYOUT);
             KvConnector b = KvConnectors.open(config, LAYOUT);
             AutoCloseable pa = a.subscribe(new KvEventPublisher("replica-a", bus));
             AutoCloseable pb = b.subscribe(new KvEventPublisher("replica-b", bus))) {
            HostKvMemory kv = kv(arena, 8 * CHUNK);
            store(a, kv, docA);
            store(b, kv, docB);
            drain(bus, router);
            out.add(decision(router, keys, "question about document A", concat(docA, tokens(3, 20))));
            out.add(decision(router, keys, "question about document B", concat(docB, tokens(4, 20))));
            out.add(decision(router, keys, "a new document", tokens(5, 3 * CHUNK)));
            // replica A fills up with other work: document A is evicted there, and the router learns it
            store(a, kv, tokens(6, 8 * CHUNK));
            drain(bus, router);
            out.add(decision(router, keys, "document A after A evicted it", concat(docA, tokens(7, 20))));
            out.add("events lost in transit: " + router.gaps());
            if (pa == null || pb == null) {
                throw new IllegalStateException("subscriptions");
            }
        }
        return out;
    }

    private static String decision(PrefixRouterIndex router, PrefixKeys keys, String what, int[] prompt) {
        var promptKeys = keys.keys(prompt);
        String target = router.route(promptKeys).orElse("any (no replica holds a prefix)");
        int held = router.route(promptKeys).map(r -> router.prefixChunks(r, promptKeys)).orElse(0);
        return String.format("%-32s -> %-34s (%d of %d chunks cached there)", what, target, held, promptKeys.size());
    }

    private static void drain(BlockingQueue<String> bus, PrefixRouterIndex router) {
        for (String line; (line = bus.poll()) != null; ) {
            router.apply(line);
        }
    }

    private static void store(KvConnector c, HostKvMemory kv, int[] tokens) {
        int[] slots = new int[tokens.length];
        for (int i = 0; i < slots.length; i++) {
            slots[i] = i;
        }
        c.store(tokens, kv, slots);
    }

    private static HostKvMemory kv(Arena arena, int slots) {
        List<MemorySegment> k = new ArrayList<>();
        List<MemorySegment> v = new ArrayList<>();
        for (int l = 0; l < LAYOUT.numLayers(); l++) {
            k.add(arena.allocate((long) slots * LAYOUT.rowBytes()));
            v.add(arena.allocate((long) slots * LAYOUT.rowBytes()));
        }
        return HostKvMemory.contiguous(LAYOUT, k, v);
    }

    private static int[] tokens(long seed, int n) {
        return new SplittableRandom(seed).ints(n, 0, 32000).toArray();
    }

    private static int[] concat(int[] x, int[] y) {
        int[] r = java.util.Arrays.copyOf(x, x.length + y.length);
        System.arraycopy(y, 0, r, x.length, y.length);
        return r;
    }
}

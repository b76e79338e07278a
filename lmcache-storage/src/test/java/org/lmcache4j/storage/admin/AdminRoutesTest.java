package org.lmcache4j.storage.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.HostKvMemory;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.KvConnectors;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.api.PrefixPin;
import org.lmcache4j.testing.SeededKv;

/** The admin endpoint's table of pins: bounded, and a pin it drops is closed, not leaked. */
class AdminRoutesTest {

    private static final KvLayout LAYOUT = KvLayout.standard(2, 2, 8, KvDtype.FP16);
    private static final int CHUNK = 16;

    private final Arena arena = Arena.ofShared();
    private final AtomicInteger pinsClosed = new AtomicInteger();
    private KvConnector connector;
    private KvConnector counting;
    private String tokensJson;

    @BeforeEach
    void setUp() {
        connector = KvConnectors.open(LmCacheConfig.builder().modelId("admin-routes-test").chunkTokens(CHUNK)
                .maxLocalCpuBytes(8 * LAYOUT.chunkBytes(CHUNK)).noLocalDisk().build(), LAYOUT);
        int[] tokens = SeededKv.tokens(1, 2 * CHUNK);
        HostKvMemory kv = SeededKv.contiguous(arena, LAYOUT, tokens.length);
        int[] slots = SeededKv.identitySlots(tokens.length);
        SeededKv.fill(kv, tokens, slots);
        connector.store(tokens, kv, slots);
        tokensJson = "{\"tokens\":[" + Arrays.stream(tokens).mapToObj(Integer::toString).collect(Collectors.joining(",")) + "]}";
        counting = countingPinCloses(connector);
    }

    @AfterEach
    void tearDown() {
        connector.close();
        arena.close();
    }

    /** {@code delegate}, whose pins count their first close in {@link #pinsClosed}. */
    private KvConnector countingPinCloses(KvConnector delegate) {
        return (KvConnector) Proxy.newProxyInstance(KvConnector.class.getClassLoader(), new Class<?>[] {KvConnector.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (!(result instanceof PrefixPin pin)) {
                        return result;
                    }
                    return new PrefixPin() {
                        private boolean closed;

                        @Override
                        public int tokens() {
                            return pin.tokens();
                        }

                        @Override
                        public synchronized void close() {
                            if (!closed) {
                                closed = true;
                                pinsClosed.incrementAndGet();
                            }
                            pin.close();
                        }
                    };
                });
    }

    private String pin(AdminRoutes routes) {
        AdminRoutes.Response r = routes.route("POST", "/pin", tokensJson);
        assertEquals(200, r.status(), r.body());
        return r.body().substring(r.body().indexOf("pin-"), r.body().indexOf('"', r.body().indexOf("pin-")));
    }

    @Test
    void theTableOfPinsIsBoundedAndClosesWhatItDrops() {
        // regression: every /pin without its /unpin stayed in the table (and pinned) for good
        try (AdminRoutes routes = new AdminRoutes(counting, new LatencyHistograms())) {
            int made = AdminRoutes.MAX_PINS + 50;
            for (int i = 0; i < made; i++) {
                pin(routes);
            }
            long held = routes.heldPins();
            assertTrue(held <= AdminRoutes.MAX_PINS, "held: " + held);
            assertEquals(made - held, pinsClosed.get(), "every pin dropped from the table was closed");
        }
        assertEquals(AdminRoutes.MAX_PINS + 50, pinsClosed.get(), "closing the routes closes the rest");
    }

    @Test
    void aPinPastItsHoldIsClosedAndItsIdIsUnknown() {
        AtomicLong now = new AtomicLong();
        Duration hold = Duration.ofMinutes(1);
        try (AdminRoutes routes = new AdminRoutes(counting, new LatencyHistograms(), 100, hold, now::get)) {
            String old = pin(routes);
            now.addAndGet(hold.toNanos() / 2);
            String recent = pin(routes);
            now.addAndGet(hold.toNanos() / 2);
            AdminRoutes.Response expired = routes.route("POST", "/unpin", "{\"pin_id\":\"" + old + "\"}");
            assertEquals(404, expired.status(), expired.body());
            assertTrue(expired.body().contains("pin_id: " + old + " (expected: a pin that is still held)"), expired.body());
            assertEquals(1, routes.heldPins());
            assertEquals(1, pinsClosed.get(), "the expired pin was closed");
            assertEquals(200, routes.route("POST", "/unpin", "{\"pin_id\":\"" + recent + "\"}").status());
            assertEquals(2, pinsClosed.get());
            assertEquals(0, routes.heldPins());
        }
    }
}

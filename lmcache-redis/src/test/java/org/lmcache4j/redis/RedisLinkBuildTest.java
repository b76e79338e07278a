package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Regression: {@link RedisLink} built its client while holding its monitor, and a cluster client's slot
 * discovery takes up to nodes x timeout against servers that do not answer; every other call waited for
 * it, even those the open circuit refuses at once. The servers here accept connections and never reply.
 */
class RedisLinkBuildTest {

    private static final int TIMEOUT_MILLIS = 1000;
    private static final int NODES = 5;

    private final List<ServerSocket> silent = new ArrayList<>();
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    private RedisLink link;

    @BeforeEach
    void start() throws IOException {
        for (int i = 0; i < NODES; i++) {
            ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            silent.add(server);
            Thread.ofPlatform().daemon().name("silent-redis-" + i).start(() -> {
                while (!server.isClosed()) {
                    try {
                        accepted.add(server.accept()); // and never answer
                        connections.incrementAndGet();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
        }
    }

    @AfterEach
    void stop() throws IOException {
        if (link != null) {
            link.close();
        }
        for (ServerSocket s : silent) {
            s.close();
        }
        for (Socket s : accepted) {
            s.close();
        }
    }

    private RedisLink clusterLink(int breakerFailures) {
        String nodes = silent.stream().map(s -> "127.0.0.1:" + s.getLocalPort()).collect(Collectors.joining(","));
        link = new RedisLink(RemoteUrl.parse("redis-cluster://" + nodes + "?timeoutMillis=" + TIMEOUT_MILLIS
                + "&breakerFailures=" + breakerFailures + "&breakerOpenMillis=60000"), System::nanoTime);
        return link;
    }

    /** Starts a call that builds the client, and returns once the build is talking to the first node. */
    private CompletableFuture<Void> buildingCall(RedisLink l) throws InterruptedException {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("building-call").start(() -> {
            try {
                l.call("ping", r -> r.ping());
            } catch (RuntimeException expected) {
                // the servers never answer
            } finally {
                done.complete(null);
            }
        });
        while (connections.get() == 0) {
            Thread.sleep(5);
        }
        return done;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aCallTheOpenCircuitRefusesDoesNotWaitForTheBuild() throws Exception {
        RedisLink l = clusterLink(1);
        CompletableFuture<Void> building = buildingCall(l);
        l.breaker().failed(); // the circuit opens (say another call failed meanwhile)
        long start = System.nanoTime();
        UncheckedIOException refused = assertThrows(UncheckedIOException.class, () -> l.call("contains", r -> r.ping()));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(refused.getMessage().contains("circuit open"), refused.getMessage());
        assertTrue(millis < TIMEOUT_MILLIS / 2, "refused at once, not after the build: " + millis + " ms");
        assertFalse(building.isDone(), "refused while the client is still being built (not after)");
        assertFalse(l.healthy(), "and health is told without waiting either");
        assertFalse(building.isDone());
        building.get(30, TimeUnit.SECONDS);
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aSecondCallerWaitsAtMostItsTimeoutNotForTheWholeBuild() throws Exception {
        RedisLink l = clusterLink(100);
        CompletableFuture<Void> building = buildingCall(l);
        long start = System.nanoTime();
        assertThrows(UncheckedIOException.class, () -> l.call("contains", r -> r.ping()));
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertTrue(millis < TIMEOUT_MILLIS + 1500, "waited " + millis + " ms (expected: about its own timeout, "
                + TIMEOUT_MILLIS + " ms)");
        assertFalse(building.isDone(), "the second caller gave up while the build (" + NODES + " nodes x "
                + TIMEOUT_MILLIS + " ms) still runs");
        building.get(30, TimeUnit.SECONDS);
        assertEquals(RemoteCircuitBreaker.State.CLOSED, l.breaker().state());
    }
}

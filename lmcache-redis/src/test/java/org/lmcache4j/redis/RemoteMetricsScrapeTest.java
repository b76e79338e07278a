package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Measurement;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.storage.metrics.LmCacheMetrics;
import org.lmcache4j.testing.RedisServer;

/**
 * Regression: a metrics scrape read {@code connector.stats()} for its meters, and the remote tier asked
 * Redis for its usage each time; against a server that does not answer, each of those waited the whole
 * timeout. A scrape now costs at most one round trip, and never waits on the remote tier longer than
 * {@link RemoteTier#STATS_WAIT_MILLIS}.
 */
class RemoteMetricsScrapeTest {

    /** Reads every meter once, as a registry's scrape does; the number of values read. */
    private static int scrape(SimpleMeterRegistry registry) {
        int values = 0;
        for (Meter m : registry.getMeters()) {
            for (Measurement v : m.measure()) {
                v.getValue();
                values++;
            }
        }
        return values;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void aScrapeCostsAtMostOneRoundTrip() throws Exception {
        try (RedisServer redis = RedisServer.start();
             Arena arena = Arena.ofShared();
             KvConnector engine = RemoteEngines.open(RemoteEngines.config(), redis.url());
             LmCacheMetrics metrics = new LmCacheMetrics(engine)) {
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            metrics.bindTo(registry);
            RemoteEngines.Prompt p = RemoteEngines.Prompt.of(arena, 1, 3 * RemoteEngines.CHUNK);
            engine.store(p.tokens(), p.kv(), p.slots());
            RemoteEngines.awaitWriteBehind(engine);
            Thread.sleep(1100); // every snapshot taken so far is too old to serve the next scrape
            try (RedisServer.Monitor monitor = redis.monitor()) {
                int values = scrape(registry);
                assertTrue(values > 20, "values scraped: " + values);
                List<String> commands = monitor.clientCommands();
                assertTrue(commands.size() <= 1, "commands (round trips) of one scrape of " + values + " values: " + commands);
            }
            assertEquals(3, registry.get("lmcache.tier.chunks").tag("tier", "remote").gauge().value());
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aScrapeAgainstAServerThatDoesNotAnswerReturnsWithinTheBound() throws Exception {
        List<Socket> accepted = new CopyOnWriteArrayList<>();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread.ofPlatform().daemon().start(() -> {
                try {
                    for (;;) {
                        accepted.add(silent.accept()); // and never answer
                    }
                } catch (IOException closed) {
                    // done
                }
            });
            String url = "redis://127.0.0.1:" + silent.getLocalPort() + "?timeoutMillis=5000&breakerFailures=100";
            try (KvConnector engine = RemoteEngines.open(RemoteEngines.config(), url);
                 LmCacheMetrics metrics = new LmCacheMetrics(engine)) {
                SimpleMeterRegistry registry = new SimpleMeterRegistry();
                metrics.bindTo(registry);
                Thread.sleep(1100);
                long start = System.nanoTime();
                int values = scrape(registry);
                long millis = (System.nanoTime() - start) / 1_000_000;
                assertTrue(millis < 2 * RemoteTier.STATS_WAIT_MILLIS + 500, "a scrape of " + values + " values took " + millis
                        + " ms (expected: at most about " + RemoteTier.STATS_WAIT_MILLIS + " ms, not the 5000 ms timeout)");
                assertEquals(0, registry.get("lmcache.tier.healthy").tag("tier", "remote").gauge().value(),
                        "the remote tier is not healthy while its stats cannot be read");
            }
        } finally {
            for (Socket s : accepted) {
                s.close();
            }
        }
    }
}

package org.lmcache4j.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Function;
import java.util.function.LongSupplier;
import redis.clients.jedis.ClientSetInfoConfig;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.SslOptions;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code remote} tier's link to Redis: a pooled client (standalone or cluster) built on first use,
 * timeouts on every connect, read and wait for a connection, a {@link RemoteCircuitBreaker}, and the
 * translation of client exceptions into {@link UncheckedIOException}s that name the URL and the call.
 *
 * <p>When the breaker opens, the client is closed and dropped, so the probe after the open interval
 * runs on fresh connections (a restarted server leaves every pooled connection dead) and a cluster's
 * topology is read again. Calls while the circuit is open fail at once, without touching the network.
 */
final class RedisLink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);

    private final RemoteUrl url;
    private final RemoteCircuitBreaker breaker;
    private UnifiedJedis client; // guarded by this
    private boolean closed; // guarded by this

    RedisLink(RemoteUrl url, LongSupplier nanoClock) {
        this.url = url;
        this.breaker = new RemoteCircuitBreaker(url.breakerFailures(), url.breakerOpenMillis() * 1_000_000L, nanoClock);
    }

    RemoteUrl url() {
        return url;
    }

    RemoteCircuitBreaker breaker() {
        return breaker;
    }

    /** True while the circuit is closed and the link open. */
    synchronized boolean healthy() {
        return !closed && breaker.state() == RemoteCircuitBreaker.State.CLOSED;
    }

    /**
     * Runs {@code body} on the client, under the breaker.
     *
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException  when the circuit is open or the call fails (timeouts included)
     */
    <T> T call(String what, Function<UnifiedJedis, T> body) {
        ensureOpen();
        if (!breaker.tryAcquire()) {
            throw new UncheckedIOException(new IOException("remote tier " + url + ": " + what + " refused: circuit open after "
                    + breaker.consecutiveFailures() + " failures, next probe in " + breaker.remainingOpenMillis() + " ms"));
        }
        boolean reported = false;
        try {
            T result = body.apply(client());
            reported = true;
            if (breaker.succeeded()) {
                LOG.info("remote tier {}: reachable again; circuit closed", url);
            }
            return result;
        } catch (JedisException e) {
            reported = true;
            if (isOutage(e)) {
                failed(e);
            } else {
                breaker.succeeded(); // the server answered; the request was refused
            }
            throw new UncheckedIOException(new IOException("remote tier " + url + ": " + what + " failed: " + e, e));
        } finally {
            if (!reported) {
                failed(null); // an unexpected exception: count it, and never leave a probe hanging
            }
        }
    }

    private void failed(RuntimeException e) {
        RemoteCircuitBreaker.State from = breaker.failed();
        if (from == null) {
            return;
        }
        if (from == RemoteCircuitBreaker.State.CLOSED) {
            LOG.warn("remote tier {}: circuit open after {} failures (last: {}); calls fail fast, probing every {} ms",
                    url, breaker.consecutiveFailures(), e, url.breakerOpenMillis());
        }
        dropClient();
    }

    /** Closes the client; later calls throw {@link IllegalStateException}. Idempotent. */
    @Override
    public void close() {
        UnifiedJedis c;
        synchronized (this) {
            closed = true;
            c = client;
            client = null;
        }
        closeQuietly(c);
    }

    private synchronized UnifiedJedis client() {
        ensureOpen();
        if (client == null) {
            client = open(url);
        }
        return client;
    }

    /** @throws IllegalStateException after {@link #close()} */
    synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("remote tier " + url + ": closed");
        }
    }

    private void dropClient() {
        UnifiedJedis c;
        synchronized (this) {
            c = client;
            client = null;
        }
        closeQuietly(c);
    }

    private void closeQuietly(UnifiedJedis c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (RuntimeException e) {
            LOG.debug("remote tier {}: closing the client failed: {}", url, e.toString());
        }
    }

    /** Failures that say the server is unreachable or not serving, as opposed to a refused request. */
    private static boolean isOutage(JedisException e) {
        if (e instanceof JedisDataException) {
            String m = String.valueOf(e.getMessage());
            return m.startsWith("LOADING") || m.startsWith("BUSY") || m.startsWith("MASTERDOWN") || m.startsWith("CLUSTERDOWN")
                    || m.startsWith("TRYAGAIN");
        }
        return true; // connection errors, timeouts, an exhausted pool, cluster errors
    }

    /** A client for {@code url}: pooled connections with bounded timeouts, RESP2, no extra commands on connect. */
    static UnifiedJedis open(RemoteUrl url) {
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(url.timeoutMillis())
                .socketTimeoutMillis(url.timeoutMillis())
                .blockingSocketTimeoutMillis(url.timeoutMillis())
                .protocol(RedisProtocol.RESP2)
                .clientSetInfoConfig(ClientSetInfoConfig.DISABLED);
        if (url.tls()) {
            config.sslOptions(SslOptions.defaults()); // the JVM's trust store (javax.net.ssl.trustStore), full verification
        }
        url.user().ifPresent(config::user);
        url.password().ifPresent(config::password);
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(url.poolSize());
        pool.setMaxIdle(url.poolSize());
        pool.setMinIdle(0);
        pool.setBlockWhenExhausted(true);
        pool.setMaxWait(Duration.ofMillis(url.timeoutMillis()));
        pool.setJmxEnabled(false); // no MBeans: java.management need not be in the module graph
        if (url.cluster()) {
            Set<HostAndPort> nodes = new LinkedHashSet<>();
            url.endpoints().forEach(e -> nodes.add(new HostAndPort(e.host(), e.port())));
            return RedisClusterClient.builder().nodes(nodes).clientConfig(config.build()).poolConfig(pool)
                    .maxAttempts(3).maxTotalRetriesDuration(Duration.ofMillis(3L * url.timeoutMillis())).build();
        }
        RemoteUrl.Endpoint e = url.endpoints().getFirst();
        return RedisClient.builder().hostAndPort(e.host(), e.port()).clientConfig(config.database(url.database()).build())
                .poolConfig(pool).build();
    }
}

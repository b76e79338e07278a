package org.lmcache4j.redis;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.channels.ClosedByInterruptException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
import redis.clients.jedis.exceptions.JedisConnectionException;
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
 *
 * <p>Building a client can take long (a cluster client's slot discovery tries node after node, each up
 * to the timeout), so it is built by the call that needs it first, outside the monitor: calls the open
 * circuit refuses, health checks and {@link #close()} never wait for it, and other calls that need the
 * client wait for the build in flight at most the timeout.
 *
 * <p>For a standalone server without TLS, the bytes of chunk parts take a direct path of their own
 * ({@link RespPartWire}, {@link #callWire}) under the same breaker: the client reads every bulk reply through
 * an 8 KiB buffer into a new {@code byte[]}, which held reads to half the server's speed. Its idle
 * connections are closed when the circuit opens, as the client is.
 */
final class RedisLink implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RedisLink.class);

    private final RemoteUrl url;
    private final RemoteCircuitBreaker breaker;
    private final java.util.Optional<RespPartWire> wire;
    private CompletableFuture<UnifiedJedis> client; // guarded by this: the client, or its build in flight; null when none
    private volatile boolean closed; // set under this

    RedisLink(RemoteUrl url, LongSupplier nanoClock) {
        this.url = url;
        this.breaker = new RemoteCircuitBreaker(url.breakerFailures(), url.breakerOpenMillis() * 1_000_000L, nanoClock);
        this.wire = RespPartWire.forUrl(url);
    }

    RemoteUrl url() {
        return url;
    }

    RemoteCircuitBreaker breaker() {
        return breaker;
    }

    /** True while the circuit is closed and the link open. */
    boolean healthy() {
        return !closed && breaker.state() == RemoteCircuitBreaker.State.CLOSED;
    }

    /**
     * Runs {@code body} on the client, under the breaker.
     *
     * @throws IllegalStateException after {@link #close()}
     * @throws UncheckedIOException  when the circuit is open or the call fails (timeouts included)
     */
    <T> T call(String what, Function<UnifiedJedis, T> body) {
        return guarded(what, () -> body.apply(client()), r -> Verdict.SUCCESS);
    }

    /**
     * What a call that returned tells the breaker: {@code SUCCESS} (the server answered), or
     * {@code NEUTRAL} (some nodes of a cluster answered and some did not: neither proof that the remote
     * works, which would reset the failures the dead node's calls count, nor an outage of the whole
     * remote, which would open the circuit for every node's chunks).
     */
    enum Verdict { SUCCESS, NEUTRAL }

    /**
     * {@link #call}, with {@code verdict} deciding what a result tells the breaker; a call that must
     * count as a failure throws instead.
     */
    <T> T call(String what, Function<UnifiedJedis, T> body, Function<? super T, Verdict> verdict) {
        return guarded(what, () -> body.apply(client()), verdict);
    }

    /** The direct data path for chunk parts, when the URL allows one ({@link RespPartWire#forUrl}). */
    boolean hasWire() {
        return wire.isPresent();
    }

    /**
     * Runs {@code body} on the direct data path, under the breaker, as {@link #call} does on the client.
     *
     * @throws IllegalStateException after {@link #close()}, or when there is no wire ({@link #hasWire()})
     * @throws UncheckedIOException  when the circuit is open or the call fails (timeouts included)
     */
    <T> T callWire(String what, Function<RespPartWire, T> body) {
        RespPartWire w = wire.orElseThrow(() -> new IllegalStateException("remote tier " + url + ": no direct data path"));
        return guarded(what, () -> body.apply(w), r -> Verdict.SUCCESS);
    }

    /**
     * Runs {@code body} under the breaker. A call whose thread is interrupted ends with an
     * {@link UncheckedIOException} caused by an {@link InterruptedIOException}, the interrupt still set,
     * and counts neither way: the caller gave up, the server did not fail.
     */
    private <T> T guarded(String what, java.util.function.Supplier<T> body, Function<? super T, Verdict> verdict) {
        ensureOpen();
        if (!breaker.tryAcquire()) {
            throw new UncheckedIOException(new IOException("remote tier " + url + ": " + what + " refused: circuit open after "
                    + breaker.consecutiveFailures() + " failures, next probe in " + breaker.remainingOpenMillis() + " ms"));
        }
        boolean reported = false;
        try {
            T result = body.get();
            reported = true;
            if (verdict.apply(result) == Verdict.NEUTRAL) {
                breaker.released();
            } else if (breaker.succeeded()) {
                LOG.info("remote tier {}: reachable again; circuit closed", url);
            }
            return result;
        } catch (RuntimeException e) {
            if (interrupted(e)) {
                reported = true;
                breaker.released();
                Thread.currentThread().interrupt(); // a client may have taken it while giving up: the caller must see it
                InterruptedIOException cause = new InterruptedIOException("remote tier " + url + ": " + what + " interrupted");
                cause.initCause(e);
                throw new UncheckedIOException(cause);
            }
            if (!(e instanceof JedisException je)) {
                throw e; // an unexpected exception: counted below, and never leaves a probe hanging
            }
            reported = true;
            if (isOutage(je)) {
                failed(je);
            } else {
                breaker.succeeded(); // the server answered; the request was refused
            }
            throw new UncheckedIOException(new IOException("remote tier " + url + ": " + what + " failed: " + e, e));
        } finally {
            if (!reported) {
                failed(null);
            }
        }
    }

    /**
     * True when {@code e} ended a call because its thread was interrupted: the flag is set (a blocking
     * socket of a virtual thread, a selector, a wait for a pooled connection or for another thread leave
     * it set), or an interrupt is among the causes (some waits take the flag when they throw).
     */
    private static boolean interrupted(Throwable e) {
        if (Thread.currentThread().isInterrupted()) {
            return true;
        }
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException || t instanceof ClosedByInterruptException
                    || t.getClass() == InterruptedIOException.class) { // not its subclass SocketTimeoutException: a timeout
                return true;
            }
        }
        return false;
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
        wire.ifPresent(RespPartWire::dropIdle); // a restarted server leaves them dead too
    }

    /** Closes the client; later calls throw {@link IllegalStateException}. Idempotent; a build in flight closes its own. */
    @Override
    public void close() {
        UnifiedJedis c;
        synchronized (this) {
            closed = true;
            c = takeClient();
        }
        closeQuietly(c);
        wire.ifPresent(RespPartWire::close);
    }

    /** The client, built first if there is none: by this call, or by the one already building it. */
    private UnifiedJedis client() {
        CompletableFuture<UnifiedJedis> f;
        boolean builds = false;
        synchronized (this) {
            ensureOpen();
            if (client == null) {
                client = new CompletableFuture<>();
                builds = true;
            }
            f = client;
        }
        return builds ? build(f) : await(f);
    }

    private UnifiedJedis build(CompletableFuture<UnifiedJedis> f) {
        UnifiedJedis c;
        try {
            c = open(url);
        } catch (RuntimeException e) {
            synchronized (this) {
                if (client == f) {
                    client = null;
                }
            }
            f.completeExceptionally(e);
            throw e;
        }
        boolean kept;
        synchronized (this) { // completed under the monitor, so takeClient sees either no client or a done one
            kept = !closed && client == f;
            if (kept) {
                f.complete(c);
            }
        }
        if (!kept) {
            closeQuietly(c);
            RuntimeException e = closed ? new IllegalStateException("remote tier " + url + ": closed")
                    : new JedisConnectionException("remote tier " + url + ": client dropped while connecting (circuit opened)");
            f.completeExceptionally(e);
            throw e;
        }
        return c;
    }

    private UnifiedJedis await(CompletableFuture<UnifiedJedis> f) {
        try {
            return f.get(url.timeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new JedisConnectionException("remote tier " + url + ": still connecting after " + url.timeoutMillis() + " ms");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new JedisConnectionException("remote tier " + url + ": connecting failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new JedisConnectionException("remote tier " + url + ": interrupted while connecting", e);
        }
    }

    /** @throws IllegalStateException after {@link #close()} */
    void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("remote tier " + url + ": closed");
        }
    }

    private void dropClient() {
        UnifiedJedis c;
        synchronized (this) {
            c = takeClient();
        }
        closeQuietly(c);
    }

    /** Forgets the client and returns it to be closed; a build in flight will close its own. Under this. */
    private UnifiedJedis takeClient() {
        CompletableFuture<UnifiedJedis> f = client;
        client = null;
        return f != null && f.isDone() && !f.isCompletedExceptionally() ? f.join() : null;
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

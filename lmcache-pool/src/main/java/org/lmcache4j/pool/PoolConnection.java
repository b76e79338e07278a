package org.lmcache4j.pool;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An engine's connection to its node's pool coordinator, and its mapping of the pool. Requests go one at a time
 * (the coordinator answers each in microseconds); a request that fails (the coordinator died) is a miss, and the
 * connection is tried again at most every {@value #RETRY_MILLIS} ms. A request or attach the coordinator does not
 * answer within {@code timeout} (a stopped or hung process, whose socket still accepts) is a miss too: its connection
 * is closed under it, and the next attempt waits twice as long as the last, up to {@value #MAX_RETRY_MILLIS} ms, so that
 * an engine's calls do not each wait the timeout out. The first attach of a connection may also wait for the coordinator
 * to create the pool (it touches every page: seconds per GiB here), so it gets {@value #CREATE_MILLIS_PER_MIB} ms per MiB
 * of the pool on top; later attaches do not wait for a creation (a timed-out attach leaves it running in the coordinator,
 * and a retry finds the pool made). If no coordinator answers and
 * {@code embed} is set, this JVM starts one (the kernel's lock on {@code coordinator.lock} lets exactly one
 * process win). Each new connection maps the pool afresh, since a new coordinator may have recreated it; older
 * mappings stay until close, for buffers still reading them.
 */
final class PoolConnection implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PoolConnection.class);
    static final long RETRY_MILLIS = 500;
    static final long MAX_RETRY_MILLIS = 30_000;

    /** What the first attach allows for creating each MiB of the pool: five times the slowest first touch measured here. */
    static final long CREATE_MILLIS_PER_MIB = 20;

    /** Closes the channels of calls that outlived their timeout (one daemon thread for every connection of the JVM). */
    private static final java.util.concurrent.ScheduledThreadPoolExecutor WATCHDOG = watchdog();

    private static java.util.concurrent.ScheduledThreadPoolExecutor watchdog() {
        java.util.concurrent.ScheduledThreadPoolExecutor w = new java.util.concurrent.ScheduledThreadPoolExecutor(1,
                Thread.ofPlatform().daemon().name("lmcache-pool-watchdog").factory());
        w.setRemoveOnCancelPolicy(true);
        return w;
    }

    /** A request and its answer, over an open connection. */
    @FunctionalInterface
    interface Call<T> {
        T run(DataInputStream in, DataOutputStream out) throws IOException;
    }

    private final Path root;
    private final String name;
    private final long slotBytes;
    private final int slotsWanted;
    private final boolean embed;
    private final Duration lease;
    private final long timeoutMillis;
    private final AttachLock attach;
    private final List<PoolFile> mappings = new ArrayList<>();
    private final List<PoolCoordinator> started = new ArrayList<>();
    private SocketChannel channel;
    private DataInputStream in;
    private DataOutputStream out;
    private PoolFile file;
    private CompletableFuture<Void> mappedAhead = CompletableFuture.completedFuture(null);
    private long epoch;
    private long retryAt;
    private int stalls; // timeouts in a row: the next attempt waits RETRY_MILLIS * 2^stalls, at most MAX_RETRY_MILLIS
    private String lastProblem = "";
    private boolean closed;

    PoolConnection(Path root, String name, long slotBytes, int slotsWanted, boolean embed, Duration lease) throws IOException {
        this(root, name, slotBytes, slotsWanted, embed, lease, DEFAULT_TIMEOUT);
    }

    /** The default of {@code timeout}: far beyond the coordinator's microseconds, short of an engine's patience. */
    static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    /** @param timeout the longest a request or an attach waits for the coordinator's answer */
    PoolConnection(Path root, String name, long slotBytes, int slotsWanted, boolean embed, Duration lease, Duration timeout)
            throws IOException {
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout: " + timeout + " (expected: > 0)");
        }
        this.timeoutMillis = timeout.toMillis();
        this.root = root.toAbsolutePath().normalize();
        this.name = name;
        this.slotBytes = slotBytes;
        this.slotsWanted = slotsWanted;
        this.embed = embed;
        this.lease = lease;
        java.nio.file.Files.createDirectories(this.root);
        this.attach = AttachLock.acquire(this.root, name);
        this.retryAt = System.nanoTime();
    }

    /**
     * Runs {@code call} on the connection, (re)connecting first if needed; {@code onFailure} when it cannot. A caller
     * whose interrupt flag is set keeps it, and the connection stays: the channel is interruptible, and an I/O call
     * on it by an interrupted thread closes it, which would end the holds every other thread has on pool chunks.
     */
    synchronized <T> T call(Call<T> call, T onFailure) {
        boolean interrupted = Thread.interrupted();
        try {
            return callNow(call, onFailure);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private <T> T callNow(Call<T> call, T onFailure) {
        if (closed || !connected()) {
            return onFailure;
        }
        DataInputStream i = in;
        DataOutputStream o = out;
        try {
            return timed(channel, timeoutMillis, () -> {
                T result = call.run(i, o);
                o.flush();
                return result;
            });
        } catch (Stalled e) {
            stalled(e.getMessage());
            return onFailure;
        } catch (IOException e) {
            drop("the coordinator stopped answering: " + e);
            return onFailure;
        }
    }

    /** A body of I/O on a channel. */
    @FunctionalInterface
    private interface Io<T> {
        T run() throws IOException;
    }

    /** The coordinator did not answer in time (the channel was closed under the waiting call). */
    private static final class Stalled extends IOException {
        private static final long serialVersionUID = 1L;

        Stalled(String message) {
            super(message);
        }
    }

    /**
     * Runs {@code body} on {@code ch}, closing {@code ch} under it if it has not returned after {@code millis}, which
     * it then throws as {@link Stalled}.
     */
    private <T> T timed(SocketChannel ch, long millis, Io<T> body) throws IOException {
        // RUNNING, then RETURNED (the body's) or TIMED_OUT (the watchdog's), whichever comes first
        java.util.concurrent.atomic.AtomicInteger state = new java.util.concurrent.atomic.AtomicInteger(RUNNING);
        java.util.concurrent.ScheduledFuture<?> alarm = WATCHDOG.schedule(() -> {
            if (state.compareAndSet(RUNNING, TIMED_OUT)) {
                try {
                    ch.close();
                } catch (IOException e) {
                    LOG.debug("closing a stalled pool connection: {}", e.toString());
                }
            }
        }, millis, TimeUnit.MILLISECONDS);
        T result;
        try {
            result = body.run();
        } catch (IOException e) {
            if (!state.compareAndSet(RUNNING, RETURNED)) {
                throw new Stalled("the coordinator did not answer in " + millis + " ms (a stopped or hung process, or one still"
                        + " creating the pool)");
            }
            throw e;
        } finally {
            alarm.cancel(false);
        }
        if (!state.compareAndSet(RUNNING, RETURNED)) {
            throw new Stalled("the coordinator took over " + millis + " ms to answer");
        }
        return result;
    }

    private static final int RUNNING = 0;
    private static final int RETURNED = 1;
    private static final int TIMED_OUT = 2;

    /** The pool as mapped by the current connection (null before the first one). */
    synchronized PoolFile file() {
        return file;
    }

    /** Counts connections made: a hold taken under an earlier one is not released to a later coordinator. */
    synchronized long epoch() {
        return epoch;
    }

    synchronized boolean healthy() {
        return channel != null || (!closed && connected());
    }

    private boolean connected() {
        if (channel != null) {
            return true;
        }
        long now = System.nanoTime();
        if (now - retryAt < 0) {
            return false;
        }
        retryAt = now + RETRY_MILLIS * 1_000_000;
        try {
            SocketChannel ch = open();
            if (ch == null && embed) {
                Optional<PoolCoordinator> c = PoolCoordinator.tryStart(root, 0, lease);
                c.ifPresent(started::add);
                ch = open();
            }
            if (ch == null) {
                note("no pool coordinator answers at " + PoolCoordinator.socketPath(root));
                return false;
            }
            boolean kept = false;
            try {
                DataInputStream i = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch)));
                DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch)));
                String[] answer;
                try {
                    answer = timed(ch, attachMillis(), () -> attach(i, o));
                } catch (Stalled e) {
                    stalled(e.getMessage());
                    return false;
                }
                if (!Boolean.parseBoolean(answer[0])) {
                    note(answer[1]);
                    return false;
                }
                PoolFile f = PoolFile.open(Path.of(answer[1]), name);
                mappings.add(f);
                mappedAhead = mapAhead(f);
                channel = ch;
                in = i;
                out = o;
                file = f;
                epoch++;
                stalls = 0;
                kept = true;
            } finally {
                if (!kept) {
                    ch.close();
                }
            }
            if (!lastProblem.isEmpty()) {
                LOG.info("pool {}: connected to its coordinator again", name);
                lastProblem = "";
            }
            return true;
        } catch (IOException | RuntimeException e) {
            note("connecting to the pool coordinator failed: " + e);
            return false;
        }
    }

    /** Attaches to the pool of this engine's identity: {whether it did, the pool file's path or why not}. */
    private String[] attach(DataInputStream i, DataOutputStream o) throws IOException {
        o.writeInt(PoolProtocol.ATTACH);
        o.writeUTF(name);
        o.writeLong(slotBytes);
        o.writeInt(slotsWanted);
        o.flush();
        boolean attached = i.readBoolean();
        String pathOrProblem = i.readUTF();
        i.readInt();
        return new String[] {Boolean.toString(attached), pathOrProblem};
    }

    /**
     * How long an attach may wait: the timeout, and for a connection's first attach, which may wait for the
     * coordinator to create the pool, {@value #CREATE_MILLIS_PER_MIB} ms per MiB of it on top.
     */
    private long attachMillis() {
        return epoch == 0 ? timeoutMillis + CREATE_MILLIS_PER_MIB * ((long) slotsWanted * slotBytes >> 20) : timeoutMillis;
    }

    /**
     * Faults this process's page-table entries for the whole pool in, on a background thread, by reading a byte of
     * every page: the pages exist (the coordinator touched them), but a process's first access to each through a new
     * mapping is a fault, slow on the virtual machines this project is measured on, which {@code MADV_POPULATE_*} did
     * not remove (docs/PERFORMANCE.md, "The node-shared pool"); without this, a second engine's first pool hit paid it.
     */
    private static CompletableFuture<Void> mapAhead(PoolFile f) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("lmcache-pool-map-ahead").start(() -> {
            try {
                MemorySegment all = f.payloads();
                long sum = 0;
                for (long at = 0; at < all.byteSize(); at += 4096) {
                    sum += all.get(ValueLayout.JAVA_BYTE, at);
                }
                touched = sum;
            } catch (IllegalStateException e) {
                LOG.debug("pool: mapping ahead stopped: {}", e.toString()); // the tier closed meanwhile
            } finally {
                done.complete(null);
            }
        });
        return done;
    }

    /** True when the current mapping's pages are all mapped into this process (or there is no mapping). */
    synchronized boolean mapped() {
        return mappedAhead.isDone();
    }

    /**
     * Waits until the pool's pages are mapped into this process (the map-ahead of the current connection's
     * mapping; connecting first when there is no connection yet), at most {@code timeout}: true when they are,
     * or when no coordinator answers (there is nothing to map).
     */
    boolean awaitMapped(Duration timeout) {
        CompletableFuture<Void> mapping;
        synchronized (this) {
            if (!closed) {
                connected();
            }
            mapping = mappedAhead;
        }
        try {
            mapping.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (ExecutionException e) {
            return true; // never completed exceptionally
        }
    }

    /** Where the map-ahead reads go, so that the JIT keeps them. */
    @SuppressWarnings("unused")
    private static volatile long touched;

    private SocketChannel open() throws IOException {
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(PoolCoordinator.socketPath(root)));
            return ch;
        } catch (IOException e) {
            ch.close();
            return null;
        }
    }

    private void note(String problem) {
        if (!problem.equals(lastProblem)) {
            LOG.warn("pool {}: {}; its chunks are misses until a coordinator answers (tried again every {} ms)", name, problem,
                    RETRY_MILLIS);
            lastProblem = problem;
        }
    }

    /** A call or attach timed out: the connection is dropped, and the next attempt waits longer each time. */
    private void stalled(String why) {
        drop(why);
        long wait = Math.min(MAX_RETRY_MILLIS, RETRY_MILLIS << Math.min(stalls, 16));
        stalls++;
        retryAt = System.nanoTime() + wait * 1_000_000;
    }

    private void drop(String why) {
        note(why);
        try {
            if (channel != null) { // null when an attach stalled
                channel.close();
            }
        } catch (IOException e) {
            LOG.debug("closing: {}", e.toString());
        }
        channel = null;
        in = null;
        out = null;
        retryAt = System.nanoTime();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (channel != null) {
            channel.close();
            channel = null;
        }
        for (PoolCoordinator c : started) {
            c.close();
        }
        for (PoolFile f : mappings) {
            f.close();
        }
        attach.close();
    }
}

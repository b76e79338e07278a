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
 * connection is tried again at most every {@value #RETRY_MILLIS} ms: if no coordinator answers then and
 * {@code embed} is set, this JVM starts one (the kernel's lock on {@code coordinator.lock} lets exactly one
 * process win). Each new connection maps the pool afresh, since a new coordinator may have recreated it; older
 * mappings stay until close, for buffers still reading them.
 */
final class PoolConnection implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PoolConnection.class);
    static final long RETRY_MILLIS = 500;

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
    private String lastProblem = "";
    private boolean closed;

    PoolConnection(Path root, String name, long slotBytes, int slotsWanted, boolean embed, Duration lease) throws IOException {
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

    /** Runs {@code call} on the connection, (re)connecting first if needed; {@code onFailure} when it cannot. */
    synchronized <T> T call(Call<T> call, T onFailure) {
        if (closed || !connected()) {
            return onFailure;
        }
        try {
            T result = call.run(in, out);
            out.flush();
            return result;
        } catch (IOException e) {
            drop("the coordinator stopped answering: " + e);
            return onFailure;
        }
    }

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
            DataInputStream i = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch)));
            DataOutputStream o = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch)));
            o.writeInt(PoolProtocol.ATTACH);
            o.writeUTF(name);
            o.writeLong(slotBytes);
            o.writeInt(slotsWanted);
            o.flush();
            boolean ok = i.readBoolean();
            String pathOrProblem = i.readUTF();
            i.readInt();
            if (!ok) {
                ch.close();
                note(pathOrProblem);
                return false;
            }
            PoolFile f = PoolFile.open(Path.of(pathOrProblem), name);
            mappings.add(f);
            mappedAhead = mapAhead(f);
            channel = ch;
            in = i;
            out = o;
            file = f;
            epoch++;
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

    private void drop(String why) {
        note(why);
        try {
            channel.close();
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

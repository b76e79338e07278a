package org.lmcache4j.pool;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.lmcache4j.api.ChunkKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one process of a node that owns its pools' indexes, slot allocation, holds, pins and eviction; engines talk
 * to it over the Unix-domain socket {@code <root>/coordinator.sock}. At most one runs per root directory: it holds
 * an exclusive lock on {@code <root>/coordinator.lock} for as long as it runs, so the kernel, not a pid file,
 * says whether one is alive, and a new one can start the moment the old one dies. It runs embedded in the first
 * engine JVM that finds none (as Aeron embeds its media driver) or as a service ({@code bin/lmcache pool}).
 *
 * <p>One pool file per identity ({@code <root>/<identity directory name>.pool}): a coordinator that starts finds
 * it and takes it over as it is ({@link SlotTable}), or creates it when it is missing or unusable and no engine
 * is attached (each attached engine holds a shared lock on {@code <name>.attach}). When an engine's connection
 * closes (it exited, or was killed), everything it held, wrote or pinned ends at once.
 */
public final class PoolCoordinator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(PoolCoordinator.class);
    /** How long a hold or a write may last before the coordinator ends it (a client that hangs). */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
    private static final Map<Path, PoolCoordinator> IN_THIS_JVM = new HashMap<>();

    private final Path root;
    private final long poolBytes;
    private final long leaseNanos;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final ServerSocketChannel server;
    private final Map<String, Pool> pools = new ConcurrentHashMap<>();
    private final Map<Integer, SocketChannel> clients = new ConcurrentHashMap<>();
    private final Map<Integer, Pool> attachedTo = new ConcurrentHashMap<>();
    private final AtomicInteger nextClient = new AtomicInteger(1);
    private final Thread acceptor;
    private final Thread sweeper;
    private volatile boolean closed;

    /** One pool this coordinator serves: its file and the table of its slots, guarded by the Pool's monitor. */
    private record Pool(String name, PoolFile file, SlotTable table) {
    }

    private PoolCoordinator(Path root, long poolBytes, long leaseNanos, FileChannel lockChannel, FileLock lock,
                            ServerSocketChannel server) {
        this.root = root;
        this.poolBytes = poolBytes;
        this.leaseNanos = leaseNanos;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.server = server;
        this.acceptor = Thread.ofPlatform().daemon().name("lmcache-pool-coordinator").unstarted(this::accept);
        this.sweeper = Thread.ofPlatform().daemon().name("lmcache-pool-leases").unstarted(this::sweep);
    }

    /** The socket engines connect to. */
    static Path socketPath(Path root) {
        return root.resolve("coordinator.sock");
    }

    /**
     * Starts the coordinator of {@code root} unless one runs already, in this JVM or another: empty then.
     *
     * @param poolBytes the size of each pool it creates; 0 to take the size the first attaching engine asks for
     * @param lease     how long a hold or a write may last
     */
    public static Optional<PoolCoordinator> tryStart(Path root, long poolBytes, Duration lease) throws IOException {
        if (poolBytes < 0 || lease.isNegative() || lease.isZero()) {
            throw new IllegalArgumentException("poolBytes " + poolBytes + ", lease " + lease + " (expected: >= 0, > 0)");
        }
        Path dir = root.toAbsolutePath().normalize();
        synchronized (IN_THIS_JVM) {
            if (IN_THIS_JVM.containsKey(dir)) {
                return Optional.empty();
            }
            Files.createDirectories(dir);
            FileChannel ch = FileChannel.open(dir.resolve("coordinator.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock l;
            try {
                l = ch.tryLock();
            } catch (IOException | RuntimeException e) {
                ch.close();
                throw e;
            }
            if (l == null) {
                ch.close();
                return Optional.empty(); // another process coordinates
            }
            ServerSocketChannel server = null;
            try {
                Files.deleteIfExists(socketPath(dir)); // the last coordinator's: it is gone, we hold the lock
                server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
                server.bind(UnixDomainSocketAddress.of(socketPath(dir)));
            } catch (IOException | RuntimeException e) {
                if (server != null) {
                    server.close();
                }
                l.release();
                ch.close();
                throw e;
            }
            PoolCoordinator c = new PoolCoordinator(dir, poolBytes, lease.toNanos(), ch, l, server);
            IN_THIS_JVM.put(dir, c);
            c.acceptor.start();
            c.sweeper.start();
            LOG.info("lmcache4j pool coordinator: serving {} (pools of {}, lease {})", socketPath(dir),
                    poolBytes == 0 ? "the size engines ask for" : poolBytes + " bytes", lease);
            return Optional.of(c);
        }
    }

    public Path root() {
        return root;
    }

    /** The problems {@code fsck} finds in the pool named {@code name} (empty: consistent); empty when it serves no such pool. */
    public List<String> fsck(String name) {
        Pool p = pools.get(name);
        if (p == null) {
            return List.of();
        }
        synchronized (p) {
            return p.table().fsck(liveClients(p), System.nanoTime());
        }
    }

    /** The pool's ready chunks, slots being written, slots held by readers, and slot count; null when it serves no such pool. */
    public int[] counts(String name) {
        Pool p = pools.get(name);
        if (p == null) {
            return null;
        }
        synchronized (p) {
            int[] c = p.table().counts();
            return new int[] {c[0], c[1], c[2], p.table().slotCount()};
        }
    }

    /**
     * One line per pool served, for an operator: occupancy, engines attached, and what the engines did since this
     * coordinator took the pool over, e.g. {@code pool m-3f2a: 812 of 2048 slots ready (2.4 GiB of 6.0 GiB), 0
     * being written, 3 held, 4 engines attached; since start: 1234 hits, 56 misses, 870 stores, 12 evictions}.
     */
    public List<String> status() {
        List<String> lines = new ArrayList<>();
        for (Pool p : pools.values()) {
            int engines = liveClients(p).size();
            synchronized (p) {
                int[] c = p.table().counts();
                long[] a = p.table().activity();
                long slotBytes = p.table().slotBytes();
                int slots = p.table().slotCount();
                lines.add(String.format(java.util.Locale.ROOT, "pool %s: %d of %d slots ready (%.1f GiB of %.1f GiB), %d being"
                        + " written, %d held, %d engines attached; since start: %d hits, %d misses, %d stores, %d evictions",
                        p.name(), c[0], slots, c[0] * (double) slotBytes / (1L << 30), slots * (double) slotBytes / (1L << 30),
                        c[1], c[2], engines, a[0], a[1], a[2], a[3]));
            }
        }
        lines.sort(null);
        return lines;
    }

    /** Names of the pools served. */
    public Set<String> poolNames() {
        return Set.copyOf(pools.keySet());
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel ch = server.accept();
                int id = nextClient.getAndIncrement();
                clients.put(id, ch);
                Thread.ofPlatform().daemon().name("lmcache-pool-client-" + id).start(() -> serve(id, ch));
            } catch (IOException e) {
                if (!closed) {
                    LOG.warn("pool coordinator: accept failed: {}", e.toString());
                }
            }
        }
    }

    private void sweep() {
        while (!closed) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                return;
            }
            long now = System.nanoTime();
            for (Pool p : pools.values()) {
                synchronized (p) {
                    p.table().expireLeases(now);
                }
            }
        }
    }

    private void serve(int id, SocketChannel ch) {
        try (ch; DataInputStream in = new DataInputStream(new BufferedInputStream(Channels.newInputStream(ch)));
             DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Channels.newOutputStream(ch)))) {
            while (!closed) {
                int op = in.readInt();
                if (op == PoolProtocol.ATTACH) {
                    attach(id, in, out);
                } else {
                    Pool p = attachedTo.get(id);
                    if (p == null) {
                        throw new IOException("request " + op + " before ATTACH");
                    }
                    Action action = read(id, op, p, in);
                    Reply reply;
                    synchronized (p) {
                        reply = action.run(p.table(), System.nanoTime());
                    }
                    reply.write(out);
                }
                out.flush();
            }
        } catch (EOFException e) {
            // the engine closed its connection or died: its holds, writes and pins end below
        } catch (IOException | RuntimeException e) {
            if (!closed) {
                LOG.warn("pool coordinator: client {} dropped: {}", id, e.toString());
            }
        } finally {
            clients.remove(id);
            Pool p = attachedTo.get(id);
            if (p != null) {
                synchronized (p) { // one step under the pool's lock: fsck never sees the client gone but its slots not yet freed
                    attachedTo.remove(id);
                    p.table().clientGone(id);
                }
            }
        }
    }

    private void attach(int id, DataInputStream in, DataOutputStream out) throws IOException {
        String name = in.readUTF();
        long slotBytes = in.readLong();
        int slotsWanted = in.readInt();
        Pool p;
        try {
            p = pools.computeIfAbsent(name, n -> {
                try {
                    return openPool(n, slotBytes, slotsWanted);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        } catch (java.io.UncheckedIOException | IllegalArgumentException e) {
            out.writeBoolean(false);
            out.writeUTF(e.getCause() != null ? e.getCause().getMessage() : e.getMessage()); // the engine names the pool
            out.writeInt(0);
            return;
        }
        if (p.file().slotBytes() != slotBytes) {
            out.writeBoolean(false);
            out.writeUTF("its slots have " + p.file().slotBytes() + " bytes (expected: " + slotBytes
                    + ", this engine's chunks rounded to pages)");
            out.writeInt(0);
            return;
        }
        attachedTo.put(id, p);
        out.writeBoolean(true);
        out.writeUTF(p.file().path().toString());
        out.writeInt(p.file().slotCount());
    }

    private Pool openPool(String name, long slotBytes, int slotsWanted) throws IOException {
        Path path = root.resolve(name + ".pool");
        boolean nobodyAttached = AttachLock.nobodyAttached(root, name);
        if (Files.exists(path)) {
            try {
                PoolFile f = PoolFile.open(path, name);
                if (f.slotBytes() == slotBytes) {
                    LOG.info("pool {}: taking over {} ({} slots of {} bytes)", name, path, f.slotCount(), f.slotBytes());
                    return new Pool(name, f, new SlotTable(f, leaseNanos, nobodyAttached, System.nanoTime()));
                }
                f.close();
            } catch (IOException e) {
                LOG.warn("pool {}: {} is not usable: {}", name, path, e.getMessage());
            }
            if (!nobodyAttached) {
                throw new IOException(path + " cannot be taken over and engines are attached to it: not recreated under them");
            }
        }
        int slots = (int) Math.max(1, Math.min(Integer.MAX_VALUE, (poolBytes > 0 ? poolBytes / slotBytes : slotsWanted)));
        PoolFile f = PoolFile.create(path, name, slotBytes, slots);
        LOG.info("pool {}: created {} ({} slots of {} bytes, {} bytes of shared memory)", name, path, slots, slotBytes, f.bytes());
        return new Pool(name, f, new SlotTable(f, leaseNanos, true, System.nanoTime()));
    }

    /** An answer, written after the pool's lock is released. */
    @FunctionalInterface
    private interface Reply {
        void write(DataOutputStream out) throws IOException;
    }

    /** A request whose arguments are read: what it does to the pool, under the pool's lock. */
    @FunctionalInterface
    private interface Action {
        Reply run(SlotTable t, long now);
    }

    /**
     * Reads request {@code op} of client {@code id} whole, before the pool's lock is taken: a client that stalls in
     * the middle of a request holds up only its own connection.
     */
    private Action read(int id, int op, Pool p, DataInputStream in) throws IOException {
        switch (op) {
            case PoolProtocol.LOOKUP -> {
                ChunkKey[] keys = PoolProtocol.readKeys(in);
                return (t, now) -> {
                    boolean[] found = new boolean[keys.length];
                    for (int i = 0; i < keys.length; i++) {
                        found[i] = t.contains(keys[i]);
                    }
                    return out -> {
                        for (boolean f : found) {
                            out.writeBoolean(f);
                        }
                    };
                };
            }
            case PoolProtocol.ACQUIRE -> {
                ChunkKey key = PoolProtocol.readKey(in);
                return (t, now) -> {
                    long[] got = t.acquire(id, key, now);
                    return out -> {
                        out.writeInt(got == null ? PoolProtocol.MISS : (int) got[0]);
                        out.writeLong(got == null ? 0 : got[1]);
                    };
                };
            }
            case PoolProtocol.ACQUIRE_ALL -> {
                ChunkKey[] keys = PoolProtocol.readKeys(in);
                return (t, now) -> {
                    long[][] got = new long[keys.length][];
                    for (int i = 0; i < keys.length; i++) {
                        got[i] = t.acquire(id, keys[i], now);
                    }
                    return out -> {
                        for (long[] g : got) {
                            out.writeInt(g == null ? PoolProtocol.MISS : (int) g[0]);
                            out.writeLong(g == null ? 0 : g[1]);
                        }
                    };
                };
            }
            case PoolProtocol.RELEASE -> {
                int slot = in.readInt();
                long gen = in.readLong();
                return (t, now) -> {
                    t.release(id, slot, gen);
                    return out -> { }; // one way: the engine does not wait for it
                };
            }
            case PoolProtocol.RELEASE_ALL -> {
                int[] slots = new int[PoolProtocol.readCount(in)];
                long[] gens = new long[slots.length];
                for (int i = 0; i < slots.length; i++) {
                    slots[i] = in.readInt();
                    gens[i] = in.readLong();
                }
                return (t, now) -> {
                    for (int i = 0; i < slots.length; i++) {
                        t.release(id, slots[i], gens[i]);
                    }
                    return out -> { }; // one way
                };
            }
            case PoolProtocol.ALLOCATE -> {
                ChunkKey key = PoolProtocol.readKey(in);
                long length = in.readLong();
                return (t, now) -> {
                    long[] got = t.allocate(id, key, length, now);
                    return out -> {
                        out.writeInt((int) got[0]);
                        out.writeLong(got[1]);
                    };
                };
            }
            case PoolProtocol.COMMIT -> {
                int slot = in.readInt();
                long gen = in.readLong();
                return (t, now) -> {
                    boolean ok = t.commit(id, slot, gen);
                    return out -> out.writeBoolean(ok);
                };
            }
            case PoolProtocol.ABORT -> {
                int slot = in.readInt();
                long gen = in.readLong();
                return (t, now) -> {
                    t.abort(id, slot, gen);
                    return out -> out.writeByte(0);
                };
            }
            case PoolProtocol.INVALIDATE -> {
                int slot = in.readInt();
                return (t, now) -> {
                    t.invalidate(slot);
                    return out -> out.writeByte(0);
                };
            }
            case PoolProtocol.REMOVE -> {
                ChunkKey key = PoolProtocol.readKey(in);
                return (t, now) -> {
                    boolean was = t.remove(key);
                    return out -> out.writeBoolean(was);
                };
            }
            case PoolProtocol.PIN -> {
                ChunkKey key = PoolProtocol.readKey(in);
                long millis = in.readLong();
                return (t, now) -> {
                    boolean ok = t.pin(id, key, millis, now);
                    return out -> out.writeBoolean(ok);
                };
            }
            case PoolProtocol.UNPIN -> {
                ChunkKey key = PoolProtocol.readKey(in);
                return (t, now) -> {
                    t.unpin(id, key);
                    return out -> out.writeByte(0);
                };
            }
            case PoolProtocol.CLEAR -> {
                return (t, now) -> {
                    t.clear();
                    return out -> out.writeByte(0);
                };
            }
            case PoolProtocol.STATS -> {
                return (t, now) -> {
                    int[] c = t.counts();
                    int slots = t.slotCount();
                    long slotBytes = t.slotBytes();
                    return out -> {
                        out.writeInt(c[0]);
                        out.writeInt(c[1]);
                        out.writeInt(slots);
                        out.writeLong(slotBytes);
                        out.writeInt(c[2]);
                    };
                };
            }
            case PoolProtocol.FSCK -> {
                return (t, now) -> {
                    List<String> problems = t.fsck(liveClients(p), now);
                    return out -> {
                        out.writeInt(problems.size());
                        for (String s : problems) {
                            out.writeUTF(s.length() > 10_000 ? s.substring(0, 10_000) : s);
                        }
                    };
                };
            }
            default -> throw new IOException("unknown request " + op);
        }
    }

    private Set<Integer> liveClients(Pool p) {
        return Set.copyOf(attachedTo.entrySet().stream().filter(e -> e.getValue() == p).map(Map.Entry::getKey).toList());
    }

    /** Stops serving: engines see a dead coordinator (misses) until another starts; the pool files stay. */
    @Override
    public void close() {
        synchronized (IN_THIS_JVM) {
            if (closed) {
                return;
            }
            closed = true;
            IN_THIS_JVM.remove(root);
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing the server socket: {}", e.toString());
        }
        for (SocketChannel ch : clients.values()) {
            try {
                ch.close();
            } catch (IOException e) {
                LOG.debug("closing a client: {}", e.toString());
            }
        }
        sweeper.interrupt();
        try {
            acceptor.join(2000);
            sweeper.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(socketPath(root));
            lock.release();
            lockChannel.close();
        } catch (IOException | OverlappingFileLockException e) {
            LOG.debug("releasing the coordinator lock: {}", e.toString());
        }
        for (Pool p : pools.values()) {
            synchronized (p) {
                p.file().close();
            }
        }
        LOG.info("lmcache4j pool coordinator: stopped ({})", root);
    }
}

package org.lmcache4j.pool;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * The shared lock an engine holds on {@code <root>/<pool>.attach} while it uses the pool: the kernel drops it when
 * the process ends, however it ends, so a coordinator that can take the lock exclusively knows that no engine is
 * attached (and may recreate the pool). The JVM allows one lock per file, so connectors of one JVM share it,
 * counted.
 */
final class AttachLock implements AutoCloseable {

    private static final Map<Path, AttachLock> HELD = new HashMap<>();

    private final Path path;
    private final FileChannel channel;
    private final FileLock lock;
    private int users;

    private AttachLock(Path path, FileChannel channel, FileLock lock) {
        this.path = path;
        this.channel = channel;
        this.lock = lock;
    }

    private static Path path(Path root, String name) {
        return root.resolve(name + ".attach");
    }

    /** This JVM's hold on the pool's attach lock (shared with other processes' holds). */
    static AttachLock acquire(Path root, String name) throws IOException {
        Path p = path(root, name);
        synchronized (HELD) {
            AttachLock held = HELD.get(p);
            if (held == null) {
                FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                try {
                    held = new AttachLock(p, ch, ch.lock(0, Long.MAX_VALUE, true));
                } catch (IOException | RuntimeException e) {
                    ch.close();
                    throw e;
                }
                HELD.put(p, held);
            }
            held.users++;
            return held;
        }
    }

    /** True when no process (this one included) is attached to the pool now. */
    static boolean nobodyAttached(Path root, String name) throws IOException {
        Path p = path(root, name);
        synchronized (HELD) {
            if (HELD.containsKey(p)) {
                return false;
            }
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                FileLock l = ch.tryLock(0, Long.MAX_VALUE, false);
                if (l == null) {
                    return false;
                }
                l.release();
                return true;
            }
        }
    }

    @Override
    public void close() throws IOException {
        synchronized (HELD) {
            if (--users > 0) {
                return;
            }
            HELD.remove(path);
            lock.release();
            channel.close();
        }
    }
}

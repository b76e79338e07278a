package org.lmcache4j.nativeio;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes page-aligned ranges of memory resident ahead of use, so that the first access to them costs no
 * page faults, whatever the locked-memory limit allows: {@code mlock} where pinning is asked and allowed,
 * else {@code madvise(MADV_POPULATE_WRITE)} where the kernel has it (Linux 5.14+), else one write access
 * per 4 KiB page. None of them changes the contents (the write is an atomic add of zero), so a range may
 * be prefaulted while other threads use it.
 *
 * <p>{@code MADV_POPULATE_WRITE} is probed once per JVM; {@code mlock} is given up for the JVM after its
 * first refusal (one warning), as later calls would be refused too.
 */
public final class Prefaulter {

    /** How a range was made resident. */
    public enum Method {
        /** {@code mlock}: resident and pinned. */
        LOCKED,
        /** {@code madvise(MADV_POPULATE_WRITE)}: resident, not pinned. */
        POPULATED,
        /** A write to every page: resident, not pinned. */
        TOUCHED
    }

    private static final Logger LOG = LoggerFactory.getLogger(Prefaulter.class);
    private static final long PAGE_BYTES = OffHeapSlab.PAGE_BYTES;
    private static final int EINVAL = 22;
    private static final VarHandle LONG = ValueLayout.JAVA_LONG.varHandle();
    private static final AtomicBoolean MLOCK_WARNED = new AtomicBoolean();
    /** Bytes per read of {@code /dev/zero} ({@link #writeOnceByKernel}). */
    private static final int KERNEL_WRITE_STEP = 1 << 20;

    private final Optional<Libc> libc;
    private volatile boolean populate;
    private volatile boolean mlock;

    /**
     * @param libc     the C library, or empty (only touching is possible then)
     * @param populate use {@code MADV_POPULATE_WRITE} (the kernel must have it)
     * @param mlock    try {@code mlock} when pinning is asked
     */
    Prefaulter(Optional<Libc> libc, boolean populate, boolean mlock) {
        this.libc = libc;
        this.populate = populate && libc.isPresent();
        this.mlock = mlock && libc.isPresent();
    }

    private static final class Holder {
        static final Prefaulter INSTANCE = probe();
    }

    /** The JVM's prefaulter, its capabilities probed once. */
    public static Prefaulter instance() {
        return Holder.INSTANCE;
    }

    private static Prefaulter probe() {
        Optional<Libc> libc = Libc.instance();
        boolean populate = false;
        if (libc.isPresent()) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment page = arena.allocate(PAGE_BYTES, PAGE_BYTES);
                libc.get().madvise(page, Libc.MADV_POPULATE_WRITE);
                populate = true;
            } catch (NativeCallException e) {
                LOG.info("madvise(MADV_POPULATE_WRITE) unavailable ({}; it needs Linux 5.14+): cache memory is "
                        + "prefaulted by touching every page instead", e.getMessage());
            }
        }
        return new Prefaulter(libc, populate, true);
    }

    /** True when {@code MADV_POPULATE_WRITE} is used (probed, and not refused since). */
    public boolean populates() {
        return populate;
    }

    /**
     * Makes {@code range} resident.
     *
     * @param range page-aligned memory (address and size multiples of 4 KiB)
     * @param pin   lock it in RAM if the limits allow
     * @return how it was made resident
     * @throws IllegalArgumentException when the range is not page-aligned
     * @throws IllegalStateException    when the range's memory is already freed
     */
    public Method prefault(MemorySegment range, boolean pin) {
        if (range.address() % PAGE_BYTES != 0 || range.byteSize() % PAGE_BYTES != 0) {
            throw new IllegalArgumentException("prefault range: 0x" + Long.toHexString(range.address()) + " + "
                    + range.byteSize() + " bytes (expected: address and size multiples of " + PAGE_BYTES + ")");
        }
        if (pin && mlock) {
            try {
                libc.orElseThrow().mlock(range);
                return Method.LOCKED;
            } catch (NativeCallException e) {
                mlock = false;
                if (MLOCK_WARNED.compareAndSet(false, true)) {
                    LOG.warn("cannot pin off-heap cache memory: {}; it is prefaulted but not locked, and may be swapped. "
                            + "Raise the locked-memory limit (ulimit -l, LimitMEMLOCK) to pin it", e.getMessage());
                }
            }
        }
        if (populate) {
            try {
                libc.orElseThrow().madvise(range, Libc.MADV_POPULATE_WRITE);
                return Method.POPULATED;
            } catch (NativeCallException e) {
                if (e.errno() == EINVAL) {
                    populate = false; // the range is valid, so the kernel does not know the advice
                }
                LOG.debug("MADV_POPULATE_WRITE of {} bytes failed ({}): touching the pages instead", range.byteSize(),
                        e.getMessage());
            }
        }
        touch(range);
        return Method.TOUCHED;
    }

    /**
     * Zeroes {@code range} by reading {@code /dev/zero} into it, so that the kernel has written to every
     * page once: on virtual machines whose hypervisor keeps the kernel's view of user memory apart from
     * the program's (shadow paging), the first write by the kernel to a 4 KiB page the program has already
     * written costs a trip to the host (memory with huge pages granted does not pay it). Measured with
     * {@code MemoryTouchProbe kernel} (docs/PERFORMANCE.md, "The kernel's first write into cache memory"). A
     * disk-tier hit reads files into cpu pages with the kernel's writes, so the cpu tier's pages get this
     * before use. Contents become zeros: call it only on memory nobody uses. Does nothing without
     * {@code /dev/zero}.
     *
     * @return true when the range was written by the kernel
     * @throws IllegalStateException when the range's memory is already freed
     */
    public boolean writeOnceByKernel(MemorySegment range) {
        FileChannel zero = DevZero.CHANNEL;
        if (zero == null) {
            return false;
        }
        try {
            for (long at = 0; at < range.byteSize(); at += KERNEL_WRITE_STEP) {
                ByteBuffer b = range.asSlice(at, Math.min(KERNEL_WRITE_STEP, range.byteSize() - at)).asByteBuffer();
                while (b.hasRemaining()) {
                    if (zero.read(b, 0) <= 0) {
                        return false;
                    }
                }
            }
            return true;
        } catch (IOException e) {
            LOG.debug("reading /dev/zero into cache memory failed: {}", e.toString());
            return false;
        }
    }

    /** {@code /dev/zero}, opened once, or null where there is none. */
    private static final class DevZero {
        static final FileChannel CHANNEL = open();

        private static FileChannel open() {
            try {
                return FileChannel.open(Path.of("/dev/zero"), StandardOpenOption.READ);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                return null;
            }
        }
    }

    /** A write fault on every 4 KiB page, contents unchanged: an atomic add of zero to its first long. */
    static void touch(MemorySegment range) {
        for (long offset = 0; offset < range.byteSize(); offset += PAGE_BYTES) {
            long ignored = (long) LONG.getAndAdd(range, offset, 0L);
        }
    }
}

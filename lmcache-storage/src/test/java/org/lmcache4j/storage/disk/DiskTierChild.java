package org.lmcache4j.storage.disk;

import static org.lmcache4j.testing.StorageTierContract.key;
import static org.lmcache4j.testing.StorageTierContract.payload;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32;
import org.lmcache4j.api.spi.ChunkBuffer;

/**
 * Child-process main of {@link DiskRestartIT} and {@link DiskCrashIT}: opens a disk tier on a directory
 * and writes or reads seeded chunks (chunk {@code i} is {@code payload(i, CHUNK_BYTES)} under
 * {@code key(i)}), reporting on standard output, one line per chunk.
 *
 * <pre>
 *   put  DIR FIRST COUNT   puts chunks FIRST..FIRST+COUNT-1, prints "stored I" after each, closes
 *   loop DIR FIRST         puts chunks from FIRST on, printing "stored I", until killed (or 120 s pass)
 *   crc  DIR FIRST COUNT   prints "I CRC32-HEX" of each chunk read, or "I missing"
 *   lock DIR               tries to lock DIR as a disk tier would, prints "locked" or "busy", unlocks
 * </pre>
 */
public final class DiskTierChild {

    /** Bytes of every chunk's payload. */
    static final int CHUNK_BYTES = 256 * 1024;
    /** Budget of the tier in the child: far more than any test writes, so nothing is evicted. */
    static final long CAPACITY_BYTES = 1L << 32;

    private static final long LOOP_LIMIT_NANOS = 120_000_000_000L;

    private DiskTierChild() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[1]);
        if (args[0].equals("lock")) {
            lock(dir);
            return;
        }
        int first = Integer.parseInt(args[2]);
        try (DiskTier tier = new DiskTier(dir, CAPACITY_BYTES, DiskTierTest.FINGERPRINT);
                Arena arena = Arena.ofConfined()) {
            MemorySegment buffer = arena.allocate(CHUNK_BYTES, 64);
            switch (args[0]) {
                case "put" -> put(tier, buffer, first, Integer.parseInt(args[3]));
                case "loop" -> put(tier, buffer, first, Integer.MAX_VALUE - first);
                case "crc" -> crc(tier, first, Integer.parseInt(args[3]));
                default -> throw new IllegalArgumentException("mode: " + args[0] + " (expected: put, loop or crc)");
            }
        }
        System.out.flush();
    }

    // The lock alone, without the tier's start-up scan, which would delete files of another layout.
    private static void lock(Path dir) {
        try (DiskDirectoryLock _ = DiskDirectoryLock.acquire(dir, FileSystemDiskIo.INSTANCE)) {
            System.out.println("locked");
        } catch (DiskDirectoryBusyException e) {
            System.out.println("busy");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        System.out.flush();
    }

    private static void put(DiskTier tier, MemorySegment buffer, int first, int count) {
        long deadline = System.nanoTime() + LOOP_LIMIT_NANOS;
        for (int i = first; i < first + count && System.nanoTime() - deadline < 0; i++) {
            MemorySegment.copy(MemorySegment.ofArray(payload(i, CHUNK_BYTES)), 0, buffer, 0, CHUNK_BYTES);
            if (!tier.put(key(i), buffer)) {
                throw new IllegalStateException("put " + i + " refused");
            }
            System.out.println("stored " + i); // after put returned: the chunk must survive a kill from here on
            System.out.flush();
        }
    }

    private static void crc(DiskTier tier, int first, int count) {
        for (int i = first; i < first + count; i++) {
            Optional<ChunkBuffer> got = tier.get(key(i));
            if (got.isEmpty()) {
                System.out.println(i + " missing");
                continue;
            }
            try (ChunkBuffer b = got.get()) {
                CRC32 crc = new CRC32();
                crc.update(b.segment().asByteBuffer());
                System.out.println(i + " " + Long.toHexString(crc.getValue()));
            }
        }
    }

    /** CRC32 of chunk {@code i}'s seeded content, as {@code crc} prints it. */
    static String expectedCrc(int i) {
        CRC32 crc = new CRC32();
        crc.update(payload(i, CHUNK_BYTES));
        return Long.toHexString(crc.getValue());
    }

    /**
     * Runs a child JVM with {@code args} to its end, at most {@code timeoutSeconds}, and returns its
     * standard output's lines; fails unless it exits with status 0.
     */
    static List<String> run(long timeoutSeconds, String... args) throws Exception {
        Process p = start(args);
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String what = "child JVM '" + String.join(" ", args) + "'";
            assertTrue(p.waitFor(timeoutSeconds, TimeUnit.SECONDS), what + " finished within " + timeoutSeconds + " s");
            assertEquals(0, p.exitValue(), "exit status of " + what);
            return out.get(timeoutSeconds, TimeUnit.SECONDS).lines().toList();
        } finally {
            p.destroyForcibly();
        }
    }

    /** Starts a child JVM running this class with {@code args}; its standard error goes to ours. */
    static Process start(String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                "-cp", System.getProperty("java.class.path"), DiskTierChild.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    }
}

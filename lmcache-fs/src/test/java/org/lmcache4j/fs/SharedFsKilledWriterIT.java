package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.spi.ChunkBuffer;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.lmcache4j.storage.tier.TierCodec;
import org.lmcache4j.testing.ChildJvm;

/**
 * A writer killed with SIGKILL in the middle of its writes leaves nothing another process serves wrongly:
 * a child JVM writes 1 MiB chunks from three threads (each forced and renamed), and is killed at a random
 * moment once it writes, {@value #ROUNDS} times over. Then every file under a chunk's final name must be
 * whole (header, key, length and checksum right: a torn one would mean the publish is not atomic), every
 * chunk a reader in this process gets must hold exactly its key's bytes, and a sweep must delete the
 * temporary files the killed writers left, none remaining.
 */
class SharedFsKilledWriterIT {

    private static final int ROUNDS = 10;
    private static final int THREADS = 3;
    private static final int CHUNK_BYTES = 1 << 20;

    @TempDir
    Path dir;

    @Test
    void aWriterKilledMidWriteLeavesNoFileAnotherProcessServesWrongly() throws Exception {
        String url = FsTiers.url(dir, "capacity=" + 48L * CHUNK_BYTES);
        SplittableRandom random = new SplittableRandom();
        for (int round = 0; round < ROUNDS; round++) {
            Process writer = ChildJvm.start(FsWriterChild.class, url, Integer.toString(round), Integer.toString(THREADS),
                    Integer.toString(CHUNK_BYTES));
            try {
                BufferedReader out = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
                String line = CompletableFuture.supplyAsync(() -> {
                    try {
                        return out.readLine();
                    } catch (java.io.IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }).get(60, TimeUnit.SECONDS);
                assertEquals("writing", line, "the writer of round " + round + " started");
                Thread.sleep(50 + random.nextInt(400));
            } finally {
                writer.destroyForcibly(); // SIGKILL
                assertTrue(writer.waitFor(60, TimeUnit.SECONDS), "the writer of round " + round + " died");
            }
        }
        Path chunks = dir.resolve(FsTiers.IDENTITY.directoryName());
        List<Path> finals = files(chunks, f -> ChunkFileNames.keyOf(f).isPresent());
        List<Path> temps = files(chunks, ChunkFileNames::isTemp);
        assertTrue(!finals.isEmpty(), "the writers published chunks");
        List<String> torn = new ArrayList<>();
        for (Path f : finals) {
            wholeOrWhy(f).ifPresent(torn::add);
        }
        assertEquals(List.of(), torn, "files under a chunk's final name that are not whole and right (of " + finals.size() + ")");
        assertTrue(!temps.isEmpty(), "precondition: the kills left temporary files of writes in flight");

        try (SharedFsTier reader = FsTiers.open(FsTiers.url(dir, "capacity=1g&staleTempMillis=0&sweepMillis=0"), CHUNK_BYTES)) {
            int hits = 0;
            for (Path f : finals) {
                ChunkKey key = ChunkFileNames.keyOf(f).orElseThrow();
                Optional<ChunkBuffer> got = reader.get(key);
                if (got.isPresent()) {
                    try (ChunkBuffer b = got.get()) {
                        assertEquals(-1, MemorySegment.ofArray(FsWriterChild.payloadOf(key, CHUNK_BYTES)).mismatch(b.segment()),
                                "bytes of chunk " + key + " as read by another process");
                    }
                    hits++;
                }
            }
            assertEquals(finals.size(), hits, "every published chunk is served");
            SharedDirectorySweep.Result swept = reader.sweep();
            assertEquals(temps.size(), swept.staleTempsDeleted(), "temporary files the sweep deleted");
            assertEquals(List.of(), files(chunks, ChunkFileNames::isTemp), "temporary files left after the sweep");
            assertEquals(finals.size(), files(chunks, f -> ChunkFileNames.keyOf(f).isPresent()).size(),
                    "chunk files after the sweep (within budget: none evicted)");
        }
    }

    /** Empty when {@code f} is a whole chunk file holding its name's key and that key's bytes; else why not. */
    private static Optional<String> wholeOrWhy(Path f) throws Exception {
        ChunkKey key = ChunkFileNames.keyOf(f).orElseThrow();
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            DiskChunkFormat.Header h = new DiskChunkFormat(FsTiers.FINGERPRINT).readHeader(ch, f);
            if (!h.key().equals(key) || h.payloadBytes() != CHUNK_BYTES) {
                return Optional.of(f + ": holds key " + h.key() + ", " + h.payloadBytes() + " bytes");
            }
            MemorySegment payload = arena.allocate(CHUNK_BYTES);
            new SharedChunkFiles(f.getParent(), new DiskChunkFormat(FsTiers.FINGERPRINT), false, TierCodec.raw())
                    .readChunk(ch, f, h, payload);
            if (MemorySegment.ofArray(FsWriterChild.payloadOf(key, CHUNK_BYTES)).mismatch(payload) != -1) {
                return Optional.of(f + ": wrong bytes");
            }
            return Optional.empty();
        } catch (java.io.IOException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static List<Path> files(Path dir, java.util.function.Predicate<Path> which) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).filter(which).toList();
        }
    }
}

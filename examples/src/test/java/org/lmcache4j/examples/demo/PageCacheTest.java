package org.lmcache4j.examples.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's page-cache controls: a file just read is resident; evicted, it is not; residency of nothing is 0. */
class PageCacheTest {

    @TempDir
    Path dir;

    @Test
    void evictDropsAFileThatWasJustReadFromThePageCache() throws IOException {
        assumeTrue(PageCache.probe().isPresent(), "page-cache control needs Linux libc");
        assumeFalse(Files.getFileStore(dir).type().equals("tmpfs"), "tmpfs pages are the file itself and cannot be dropped");
        PageCache cache = PageCache.probe().orElseThrow();
        Path file = dir.resolve("chunk.kv");
        byte[] bytes = new byte[4 << 20];
        new Random(1).nextBytes(bytes);
        Files.write(file, bytes);
        assertEquals(bytes.length, Files.readAllBytes(file).length);
        assertTrue(cache.residentFraction(List.of(file)) > 0.9, "just written and read: " + cache.residentFraction(List.of(file)));
        cache.evict(List.of(file));
        assertTrue(cache.residentFraction(List.of(file)) <= 0.01, "evicted: " + cache.residentFraction(List.of(file)));
        assertEquals(bytes.length, Files.readAllBytes(file).length);
        assertTrue(cache.residentFraction(List.of(file)) > 0.9, "read again: " + cache.residentFraction(List.of(file)));
    }

    @Test
    void noFilesAreNoneResidentAndAMissingFileIsAnError() throws IOException {
        assumeTrue(PageCache.probe().isPresent(), "page-cache control needs Linux libc");
        PageCache cache = PageCache.probe().orElseThrow();
        assertEquals(0, cache.residentFraction(List.of()));
        IOException e = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> cache.evict(List.of(dir.resolve("absent.kv"))));
        assertTrue(e.getMessage().contains("absent.kv"), e.getMessage());
    }
}

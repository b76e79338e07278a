package org.lmcache4j.storage.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.lmcache4j.api.ChunkKey;

class ChunkFileNamesTest {

    private static final Path ROOT = Path.of("/cache/kv");
    private static final ChunkKey KEY = ChunkKey.of(new byte[] {(byte) 0xab, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15});

    @Test
    void aChunkLivesInTheShardOfItsFirstByteAndItsNameGivesTheKeyBack() {
        Path file = ChunkFileNames.pathOf(ROOT, KEY);
        assertEquals(ROOT.resolve("ab").resolve(KEY + ".kv"), file);
        assertTrue(ChunkFileNames.isChunk(file));
        assertFalse(ChunkFileNames.isTemp(file));
        assertEquals(Optional.of(KEY), ChunkFileNames.keyOf(file));
    }

    @Test
    void temporaryAndForeignNamesHoldNoKey() {
        Path temp = Path.of(ChunkFileNames.pathOf(ROOT, KEY) + ChunkFileNames.TEMP_MARK + "1f2e");
        assertTrue(ChunkFileNames.isTemp(temp));
        assertEquals(Optional.empty(), ChunkFileNames.keyOf(temp));
        for (String name : new String[] {".nfs000000000123", "AB0102030405060708090a0b0c0d0e0f.kv", "ab01.kv", "zz0102030405060708090a0b0c0d0e0f.kv",
                "ab0102030405060708090a0b0c0d0e0.kv"}) {
            assertEquals(Optional.empty(), ChunkFileNames.keyOf(ROOT.resolve(name)), name);
        }
    }
}

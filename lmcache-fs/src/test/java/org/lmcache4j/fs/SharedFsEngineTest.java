package org.lmcache4j.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;
import org.lmcache4j.api.KvConnector;
import org.lmcache4j.api.TierStats;
import org.lmcache4j.fs.FsEngines.Prompt;
import org.lmcache4j.storage.tier.ChunkFileNames;

/**
 * Engines opened from a config whose {@code tiers} names an {@code fs://} URL: what one stores, another
 * (with an empty cpu tier) retrieves from the directory byte for byte; a directory recorded for another
 * identity leaves the engine running without the tier, shown unhealthy with the reason.
 */
class SharedFsEngineTest {

    @TempDir
    Path dir;

    @Test
    void anotherEngineRetrievesFromTheDirectoryWhatOneStored() {
        String url = FsTiers.url(dir, "capacity=64m");
        try (Arena arena = Arena.ofShared()) {
            Prompt p = Prompt.of(arena, 7);
            try (KvConnector a = FsEngines.open(url, 16)) {
                assertEquals(FsEngines.PROMPT_TOKENS, p.store(a));
            } // close drains the write-behind queue into the directory
            try (KvConnector b = FsEngines.open(url, 16)) {
                assertEquals(FsEngines.PROMPT_TOKENS, p.retrieveAndCheck(b));
                assertEquals(FsEngines.PROMPT_TOKENS, b.stats().retrievedTokensByTier().get(SharedFsTier.NAME), "read from the fs tier");
                assertEquals(0, b.stats().tierErrors());
            }
        }
    }

    @Test
    void aDirectoryOfAnotherIdentityLeavesTheEngineRunningWithoutTheTier() throws Exception {
        String url = FsTiers.url(dir, "capacity=64m");
        try (SharedFsTier claimed = FsEngines.openTier(url)) {
            Path record = claimed.directory().resolve(SharedIdentityRecord.FILE_NAME);
            Files.writeString(record, new CacheIdentity(new CacheNamespace("someone-else", FsEngines.LAYOUT.fingerprint(), "", 0, 1),
                    FsEngines.CHUNK, HashAlgorithm.SHA_256).describe());
        }
        try (Arena arena = Arena.ofShared(); KvConnector engine = FsEngines.open(url, 16)) {
            Prompt p = Prompt.of(arena, 7);
            assertEquals(FsEngines.PROMPT_TOKENS, p.store(engine));
            assertEquals(FsEngines.PROMPT_TOKENS, p.retrieveAndCheck(engine), "the cpu tier still serves");
            TierStats fs = FsEngines.fs(engine.stats());
            assertFalse(fs.healthy(), "the refused tier is shown unhealthy: " + fs);
        }
        try (var files = Files.walk(dir)) {
            assertTrue(files.noneMatch(f -> ChunkFileNames.keyOf(f).isPresent()), "nothing written into the refused directory");
        }
    }
}

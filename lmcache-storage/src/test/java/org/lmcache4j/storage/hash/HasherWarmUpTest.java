package org.lmcache4j.storage.hash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.lmcache4j.api.CacheNamespace;
import org.lmcache4j.api.HashAlgorithm;

class HasherWarmUpTest {

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void hashesEveryBatchOnItsOwnThreadAndLeavesTheKeysAsTheyWere(HashAlgorithm algorithm) {
        int[] tokens = new int[600];
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = i * 7 + 3;
        }
        var before = ChunkHasherTest.keys(algorithm, ChunkHasherTest.NAMESPACE, tokens, 256);
        HasherWarmUp warmUp = HasherWarmUp.start(ChunkHasher.create(algorithm, ChunkHasherTest.NAMESPACE), 256);

        assertTrue(warmUp.await(TimeUnit.SECONDS.toNanos(60)), "the warm-up ends");
        assertEquals(HasherWarmUp.BATCH * HasherWarmUp.BATCHES, warmUp.hashed());
        assertArrayEquals(before, ChunkHasherTest.keys(algorithm, ChunkHasherTest.NAMESPACE, tokens, 256));
    }

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void aZeroTimeoutReturnsAtOnceWithTheWarmUpsState(HashAlgorithm algorithm) {
        HasherWarmUp warmUp = HasherWarmUp.start(ChunkHasher.create(algorithm, ChunkHasherTest.NAMESPACE), 256);
        boolean done = warmUp.await(0);
        assertEquals(done, warmUp.hashed() == HasherWarmUp.BATCH * HasherWarmUp.BATCHES);
        assertTrue(warmUp.await(TimeUnit.SECONDS.toNanos(60)));
    }

    @ParameterizedTest
    @EnumSource(HashAlgorithm.class)
    void theConnectorsOfOneJvmShareOneWarmUpPerAlgorithm(HashAlgorithm algorithm) {
        HasherWarmUp first = HasherWarmUp.of(algorithm, ChunkHasherTest.NAMESPACE, 256);
        assertSame(first, HasherWarmUp.of(algorithm, new CacheNamespace("another-model", "fp", "", 1, 2), 16));
        assertTrue(first.await(TimeUnit.SECONDS.toNanos(60)));
    }
}

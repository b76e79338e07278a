package org.lmcache4j.storage.hash;

import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.api.HashAlgorithm;

/** Child-process main of {@link CrossProcessKeysIT}: prints the golden prompt's keys, one per line. */
public final class KeyPrinter {

    private KeyPrinter() {
    }

    public static void main(String[] args) {
        HashAlgorithm algorithm = HashAlgorithm.parse(args[0]);
        for (ChunkKey k : ChunkHasherTest.keys(algorithm, ChunkHasherTest.NAMESPACE, ChunkHasherTest.goldenTokens(), 64)) {
            System.out.println(k);
        }
    }
}

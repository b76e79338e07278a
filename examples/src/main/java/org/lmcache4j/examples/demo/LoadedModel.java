package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.nio.file.Path;
import org.lmcache4j.api.LmCacheConfig;
import org.lmcache4j.examples.gguf.GgufFile;
import org.lmcache4j.examples.model.ByteTokenizer;
import org.lmcache4j.examples.model.ModelWeights;

/**
 * A model read from a GGUF file, with the tokenizer for it and the id its cache entries are keyed by.
 *
 * @param file      the GGUF file
 * @param id        the file's base name, for people; the connector's model id adds the weights' digest
 * @param weights   the weights in engine form
 * @param tokenizer byte-level tokenizer for the model's vocabulary
 */
record LoadedModel(Path file, String id, ModelWeights weights, ByteTokenizer tokenizer) {

    static LoadedModel load(Path file) throws IOException {
        try (GgufFile gguf = GgufFile.open(file)) {
            String name = file.getFileName().toString();
            String id = name.endsWith(".gguf") ? name.substring(0, name.length() - ".gguf".length()) : name;
            return new LoadedModel(file, id, ModelWeights.load(gguf), ByteTokenizer.forModel(gguf));
        }
    }

    /** The config of an engine on the node-shared pool at {@code poolUrl}: no cpu or disk tier of its own. */
    LmCacheConfig poolConfig(String poolUrl) {
        return LmCacheConfig.builder().modelId(weights.cacheModelId(id)).localCpu(false).localDisk(null)
                .tiers(java.util.List.of(poolUrl)).build();
    }

    /**
     * The connector config of the demo: the {@code LMCACHE_*} environment, then this model's id (its name and
     * the digest of its tensors), the disk
     * tier in {@code kvDir} with {@code diskBytes}, and the cpu budget when {@code cpuBytes} is set.
     */
    LmCacheConfig cacheConfig(Path kvDir, long cpuBytes, long diskBytes) {
        LmCacheConfig.Builder b = LmCacheConfig.builder().fromEnvironment().modelId(weights.cacheModelId(id)).localDisk(kvDir)
                .maxLocalDiskBytes(diskBytes);
        if (cpuBytes > 0) {
            b.maxLocalCpuBytes(cpuBytes);
        }
        return b.build();
    }
}

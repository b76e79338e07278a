package org.lmcache4j.examples.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.gguf.GgufFile;

/** Loads the seeded model of a named size, generating its GGUF file in {@code cacheDir/models} on first use. */
public final class SeededWeights {

    private SeededWeights() {
    }

    public static ModelWeights load(ModelSize size, Path cacheDir) throws IOException {
        Path models = Files.createDirectories(cacheDir.resolve("models"));
        Path file = SeededModel.cached(size.shape(), 1, GgmlType.F16, models);
        try (GgufFile gguf = GgufFile.open(file)) {
            return ModelWeights.load(gguf);
        }
    }
}

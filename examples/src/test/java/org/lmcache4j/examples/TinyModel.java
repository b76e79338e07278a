package org.lmcache4j.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.lmcache4j.examples.gguf.GgmlType;
import org.lmcache4j.examples.gguf.GgufFile;
import org.lmcache4j.examples.model.ModelSize;
import org.lmcache4j.examples.model.ModelWeights;
import org.lmcache4j.examples.model.SeededModel;

/** The tiny seeded model, generated once per test JVM into a temporary directory. */
public final class TinyModel {

    private static Path file;
    private static ModelWeights weights;

    private TinyModel() {
    }

    /** The GGUF file of the tiny model (seed 7, F16 matrices). */
    public static synchronized Path file() {
        if (file == null) {
            try {
                Path dir = Files.createTempDirectory("lmcache4j-tiny-model");
                dir.toFile().deleteOnExit();
                file = SeededModel.cached(ModelSize.TINY.shape(), 7, GgmlType.F16, dir);
                file.toFile().deleteOnExit();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }

    /** Its weights. */
    public static synchronized ModelWeights weights() {
        if (weights == null) {
            try (GgufFile gguf = GgufFile.open(file())) {
                weights = ModelWeights.load(gguf);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return weights;
    }
}

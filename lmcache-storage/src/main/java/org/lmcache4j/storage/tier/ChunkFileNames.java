package org.lmcache4j.storage.tier;

import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import org.lmcache4j.api.ChunkKey;

/**
 * How a tier of one file per chunk names its files, shared by the disk tier and the shared-filesystem
 * tier so that both lay out a directory the same way: {@code <root>/<first two hex digits>/<key hex>.kv},
 * and a file being written carries {@value #TEMP_MARK} in its name until it is renamed into place.
 */
public final class ChunkFileNames {

    /** The ending of every chunk file's name. */
    public static final String CHUNK_SUFFIX = ".kv";

    /** Marks a file being written: it is renamed to its chunk name once complete. */
    public static final String TEMP_MARK = ".tmp.";

    private ChunkFileNames() {
    }

    /** The path of {@code key}'s file under {@code root}, whether it exists or not. */
    public static Path pathOf(Path root, ChunkKey key) {
        String hex = key.toString();
        return root.resolve(hex.substring(0, 2)).resolve(hex + CHUNK_SUFFIX);
    }

    /** A temporary name beside {@code target}, made unique by a random suffix: where a write goes before its rename. */
    public static Path tempFor(Path target) {
        return target.resolveSibling(target.getFileName() + TEMP_MARK + Long.toHexString(ThreadLocalRandom.current().nextLong()));
    }

    /** True for the name of a file being written (or left behind by a writer that died). */
    public static boolean isTemp(Path file) {
        return file.getFileName().toString().contains(TEMP_MARK);
    }

    /** True for a name ending like a chunk file's (the name's key is not checked; see {@link #keyOf}). */
    public static boolean isChunk(Path file) {
        return file.getFileName().toString().endsWith(CHUNK_SUFFIX);
    }

    /**
     * The key a chunk file's name holds, or empty for any other name (temporary files, NFS's {@code .nfs*}
     * files, hex that is not lower case or not 16 to 64 bytes).
     */
    public static Optional<ChunkKey> keyOf(Path file) {
        String name = file.getFileName().toString();
        if (!name.endsWith(CHUNK_SUFFIX)) {
            return Optional.empty();
        }
        String hex = name.substring(0, name.length() - CHUNK_SUFFIX.length());
        if (hex.length() < 32 || hex.length() > 128 || hex.length() % 2 != 0 || !hex.chars().allMatch(c -> Character.digit(c, 16) >= 0
                && !Character.isUpperCase(c))) {
            return Optional.empty();
        }
        return Optional.of(ChunkKey.of(HexFormat.of().parseHex(hex)));
    }
}

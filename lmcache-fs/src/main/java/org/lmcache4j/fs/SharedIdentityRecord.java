package org.lmcache4j.fs;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.RecordText;

/**
 * The file {@value #FILE_NAME} in the tier's directory that records whose KV the directory holds
 * ({@link CacheIdentity#describe()}). Unlike the local disk tier, the directory is shared and nobody locks
 * it: engines that open it at once each publish the same record (temporary name, forced, renamed), which is
 * harmless; the first one renamed is never replaced by a different text, since the directory's name is the
 * identity's digest. A directory whose record differs, or that holds chunk files but no record, is refused
 * and nothing in it is read, changed or deleted.
 */
final class SharedIdentityRecord {

    /** Name of the record inside the tier's directory. */
    static final String FILE_NAME = "IDENTITY";

    private static final int MAX_BYTES = 64 * 1024;

    private SharedIdentityRecord() {
    }

    /**
     * Makes sure {@code dir} holds KV of {@code identity}, recording it when the directory has none yet.
     *
     * @return empty when the directory is ours; else why it is refused
     * @throws IOException when the record cannot be read or written
     */
    static Optional<String> claim(Path dir, CacheIdentity identity) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_NAME);
        Optional<String> recorded = read(file);
        if (recorded.isEmpty()) {
            // Chunk files without a record: refused, unless another engine recorded it just before its first chunk.
            if (holdsChunkFiles(dir) && (recorded = read(file)).isEmpty()) {
                return Optional.of("fs tier directory " + dir + " holds chunk files but no " + FILE_NAME
                        + " record of whose KV they are: refused, nothing in it is served or changed");
            }
            if (recorded.isEmpty()) {
                write(file, identity.describe());
                recorded = read(file);
            }
        }
        String differences = identity.differences(recorded.orElse(""));
        if (!differences.isEmpty()) {
            return Optional.of("fs tier directory " + dir + " holds KV of another cache identity (" + differences
                    + "; recorded in " + file + "): refused, nothing in it is served or changed");
        }
        return Optional.empty();
    }

    private static Optional<String> read(Path file) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return Optional.of(RecordText.read(ch, MAX_BYTES));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static boolean holdsChunkFiles(Path dir) throws IOException {
        try (var shards = Files.newDirectoryStream(dir, p -> p.getFileName().toString().matches("[0-9a-f]{2}"))) {
            for (Path shard : shards) {
                try (var files = Files.newDirectoryStream(shard)) {
                    for (Path f : files) {
                        if (ChunkFileNames.keyOf(f).isPresent()) {
                            return true;
                        }
                    }
                } catch (NoSuchFileException e) {
                    // swept away meanwhile
                }
            }
        }
        return false;
    }

    private static void write(Path file, String text) throws IOException {
        Path temp = SharedChunkFiles.tempFor(file);
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                RecordText.writeForced(ch, text);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }
}

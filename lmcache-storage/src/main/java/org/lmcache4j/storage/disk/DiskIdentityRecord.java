package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import org.lmcache4j.api.CacheIdentity;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.RecordText;

/**
 * The file {@value #FILE_NAME} in a {@code disk} tier's directory that records the
 * {@link CacheIdentity} of the chunks in it ({@link CacheIdentity#describe()}). A tier opening the
 * directory for a connector claims it: an empty directory gets the connector's record (written under a
 * temporary name, forced and renamed, before any chunk); a directory whose record differs, or that holds
 * chunk files but no record, is refused, and nothing in it is read, changed or deleted.
 */
final class DiskIdentityRecord {

    /** Name of the record inside the tier's directory. */
    static final String FILE_NAME = "IDENTITY";

    /** A record longer than this is not one of ours. */
    private static final int MAX_BYTES = 64 * 1024;

    private DiskIdentityRecord() {
    }

    /**
     * Makes sure {@code dir} holds chunks of {@code identity}, recording it when the directory has no chunks yet.
     *
     * @throws IdentityMismatchException when the directory belongs to another identity or to none recorded
     * @throws IOException               when the record cannot be read or written
     */
    static void claim(Path dir, CacheIdentity identity, DiskIo io) throws IOException {
        Path file = dir.resolve(FILE_NAME);
        Optional<String> recorded = read(file, io);
        if (recorded.isPresent()) {
            String differences = identity.differences(recorded.get());
            if (!differences.isEmpty()) {
                throw new IdentityMismatchException("disk tier directory " + dir + " holds KV of another cache identity ("
                        + differences + "; recorded in " + file + "): refused, nothing in it is served or changed");
            }
            return;
        }
        if (holdsChunkFiles(dir, io)) {
            throw new IdentityMismatchException("disk tier directory " + dir + " holds chunk files but no " + FILE_NAME
                    + " record of whose KV they are: refused, nothing in it is served or changed (move it away to start afresh)");
        }
        write(dir, file, identity.describe(), io);
    }

    private static Optional<String> read(Path file, DiskIo io) throws IOException {
        try (FileChannel ch = io.open(file, StandardOpenOption.READ)) {
            return Optional.of(RecordText.read(ch, MAX_BYTES));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    private static boolean holdsChunkFiles(Path dir, DiskIo io) throws IOException {
        for (DiskIo.Listing top : io.list(dir)) {
            if (top.directory() && top.path().getFileName().toString().matches("[0-9a-f]{2}")) {
                for (DiskIo.Listing f : io.list(top.path())) {
                    if (ChunkFileNames.isChunk(f.path())) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static void write(Path dir, Path file, String text, DiskIo io) throws IOException {
        Path temp = ChunkFileNames.tempFor(file);
        boolean moved = false;
        try {
            try (FileChannel ch = io.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                RecordText.writeForced(ch, text);
            }
            io.moveAtomically(temp, file);
            moved = true;
            io.syncDirectory(dir);
        } finally {
            if (!moved) {
                io.deleteIfExists(temp);
            }
        }
    }
}

package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;

/**
 * The file operations the {@code disk} tier performs, and nothing else: one seam through which tests
 * inject a full disk, a read-only file system or failing reads. {@link FileSystemDiskIo} is the real one.
 * Every method may throw {@link IOException}; none is called under the tier's index lock.
 */
interface DiskIo {

    /** Creates {@code dir} and its missing parents; no effect when it is a directory already. */
    void createDirectories(Path dir) throws IOException;

    /**
     * The real path of the existing {@code dir}, as {@link Path#toRealPath} gives it: absolute, with
     * symbolic links and {@code .} and {@code ..} names resolved, so one directory has one real path.
     */
    Path realPath(Path dir) throws IOException;

    /** The entries directly inside {@code dir}, with their type, size and modification time. */
    List<Listing> list(Path dir) throws IOException;

    /** Opens a file as {@link FileChannel#open(Path, OpenOption...)} does. */
    FileChannel open(Path file, OpenOption... options) throws IOException;

    /** Renames {@code source} to {@code target} atomically, replacing {@code target} if present. */
    void moveAtomically(Path source, Path target) throws IOException;

    /** Deletes {@code file}; false when it did not exist. */
    boolean deleteIfExists(Path file) throws IOException;

    /** Flushes the entries of {@code dir} (creations, renames) to the device, where the platform can. */
    void syncDirectory(Path dir) throws IOException;

    /**
     * One entry of a directory listing.
     *
     * @param path         the entry
     * @param directory    true for a directory
     * @param sizeBytes    length of a regular file
     * @param lastModified modification time
     */
    record Listing(Path path, boolean directory, long sizeBytes, FileTime lastModified) {
    }
}

package org.lmcache4j.storage.tier;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A stored chunk that must not be served: torn, corrupt, or written for another KV layout or format.
 * The message names where it is (a disk tier file, a remote tier value) and what mismatched. The tier
 * deletes such a chunk and counts it; callers see a miss.
 */
public class CorruptChunkException extends IOException {

    private static final long serialVersionUID = 1L;

    public CorruptChunkException(Path file, String what) {
        this(diskFile(file), what);
    }

    /** {@code where} names the resource, e.g. {@code "remote tier redis://h:6379: chunk 3fa9..."}. */
    public CorruptChunkException(String where, String what) {
        super(where + ": " + what);
    }

    /** How messages name a chunk file of the disk tier. */
    public static String diskFile(Path file) {
        return "disk tier " + file;
    }
}

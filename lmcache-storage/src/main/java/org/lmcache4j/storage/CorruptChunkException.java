package org.lmcache4j.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A chunk file of the {@code disk} tier that must not be served: torn, corrupt, or written for another
 * KV layout or format. The message names the file and what mismatched. The tier deletes such a file and
 * counts it; callers see a miss.
 */
final class CorruptChunkException extends IOException {

    private static final long serialVersionUID = 1L;

    CorruptChunkException(Path file, String what) {
        super("disk tier " + file + ": " + what);
    }
}

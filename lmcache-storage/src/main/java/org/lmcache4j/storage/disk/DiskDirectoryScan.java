package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.lmcache4j.api.ChunkKey;
import org.lmcache4j.storage.tier.ChunkFileNames;
import org.lmcache4j.storage.tier.CorruptChunkException;
import org.lmcache4j.storage.tier.DiskChunkFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The start-up pass over a {@code disk} tier's directory that rebuilds its index: deletes temporary files
 * left by a crash, reads only the header of each chunk file (the payload checksum is checked when the
 * chunk is read), deletes torn, corrupt and foreign files, and, when the files found exceed the budget,
 * deletes the oldest until they fit. It deletes the spare files a run kept ({@link DiskSpares}): a crash may
 * have left one half written over. Files and directories of other names are left alone.
 */
final class DiskDirectoryScan {

    private static final Logger LOG = LoggerFactory.getLogger(DiskDirectoryScan.class);
    private static final int LOGGED_FILES = 10; // a directory of another layout would otherwise flood the log

    private DiskDirectoryScan() {
    }

    /**
     * A chunk file found valid.
     *
     * @param key          its key
     * @param sizeBytes    length of its file
     * @param lastModified when it was written
     */
    record Found(ChunkKey key, long sizeBytes, FileTime lastModified) {
    }

    /**
     * What the scan found and did.
     *
     * @param chunks      valid chunks to index, least recently written first, within the budget
     * @param tempFiles   temporary files and spare files deleted
     * @param badFiles    torn, corrupt or foreign chunk files deleted
     * @param evicted     valid chunks deleted because the budget was exceeded
     * @param ioErrors    files that could not be read or deleted (left in place, not indexed)
     */
    record Result(List<Found> chunks, int tempFiles, int badFiles, int evicted, int ioErrors) {
    }

    /**
     * Scans the directory of {@code files}.
     *
     * @throws IOException when the directory itself cannot be listed
     */
    static Result scan(DiskChunkFiles files, DiskIo io, long capacityBytes) throws IOException {
        Scan s = new Scan(files);
        for (DiskIo.Listing top : io.list(files.root())) {
            if (top.directory() && top.path().getFileName().toString().matches("[0-9a-f]{2}")) {
                for (DiskIo.Listing f : io.list(top.path())) {
                    s.visit(f);
                }
            } else if (!top.directory() && ChunkFileNames.isTemp(top.path())) {
                s.visit(top);
            } else if (top.directory() && top.path().equals(files.spareDirectory())) {
                for (DiskIo.Listing f : io.list(top.path())) {
                    if (!f.directory() && s.delete(f.path())) {
                        s.tempFiles++;
                    }
                }
            }
        }
        s.found.sort(Comparator.comparing(Found::lastModified).thenComparing(Found::key));
        long total = s.found.stream().mapToLong(Found::sizeBytes).sum();
        int evicted = 0;
        while (total > capacityBytes) {
            Found oldest = s.found.removeFirst();
            total -= oldest.sizeBytes();
            evicted++;
            s.delete(files.pathOf(oldest.key()));
        }
        if (s.badFiles > LOGGED_FILES) {
            LOG.warn("disk tier {}: deleted {} torn, corrupt or foreign chunk files in all", files.root(), s.badFiles);
        }
        return new Result(List.copyOf(s.found), s.tempFiles, s.badFiles, evicted, s.ioErrors);
    }

    /** The counts and findings of one scan. */
    private static final class Scan {
        final DiskChunkFiles files;
        final List<Found> found = new ArrayList<>();
        int tempFiles;
        int badFiles;
        int ioErrors;

        Scan(DiskChunkFiles files) {
            this.files = files;
        }

        void visit(DiskIo.Listing f) {
            if (f.directory()) {
                return;
            }
            if (ChunkFileNames.isTemp(f.path())) {
                if (delete(f.path())) {
                    tempFiles++;
                }
            } else if (ChunkFileNames.isChunk(f.path())) {
                try {
                    DiskChunkFormat.Header h = files.readHeader(f.path());
                    found.add(new Found(h.key(), h.fileBytes(), f.lastModified()));
                } catch (CorruptChunkException e) {
                    badFiles++;
                    if (badFiles <= LOGGED_FILES) {
                        LOG.warn("{}; deleted", e.getMessage());
                    }
                    delete(f.path());
                } catch (IOException | RuntimeException e) {
                    ioErrors++;
                    LOG.warn("disk tier {}: cannot read {}, left in place and not indexed: {}", files.root(), f.path(), e.toString());
                }
            }
        }

        boolean delete(Path file) {
            try {
                return files.delete(file);
            } catch (IOException e) {
                ioErrors++;
                LOG.warn("disk tier {}: cannot delete {}: {}", files.root(), file, e.toString());
                return false;
            }
        }
    }
}

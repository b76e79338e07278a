package org.lmcache4j.storage.disk;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The {@link DiskIo} of the default file system: each method is one {@link Files} or {@link FileChannel} call. */
final class FileSystemDiskIo implements DiskIo {

    /** The shared instance; it holds no state. */
    static final FileSystemDiskIo INSTANCE = new FileSystemDiskIo();

    // Windows cannot open a directory as a channel; there a rename is durable once the call returns (NTFS journal).
    private static final boolean DIRECTORY_SYNC = !System.getProperty("os.name", "").toLowerCase(Locale.ROOT).startsWith("windows");

    private FileSystemDiskIo() {
    }

    @Override
    public void createDirectories(Path dir) throws IOException {
        Files.createDirectories(dir);
    }

    @Override
    public Path realPath(Path dir) throws IOException {
        return dir.toRealPath();
    }

    @Override
    public List<Listing> list(Path dir) throws IOException {
        List<Listing> entries = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
            for (Path p : stream) {
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException goneMeanwhile) {
                    continue;
                }
                entries.add(new Listing(p, a.isDirectory(), a.size(), a.lastModifiedTime()));
            }
        }
        return entries;
    }

    @Override
    public FileChannel open(Path file, OpenOption... options) throws IOException {
        return FileChannel.open(file, options);
    }

    @Override
    public void moveAtomically(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE);
    }

    @Override
    public boolean deleteIfExists(Path file) throws IOException {
        return Files.deleteIfExists(file);
    }

    @Override
    public void syncDirectory(Path dir) throws IOException {
        if (DIRECTORY_SYNC) {
            try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
    }
}

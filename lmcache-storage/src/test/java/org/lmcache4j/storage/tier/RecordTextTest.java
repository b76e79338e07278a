package org.lmcache4j.storage.tier;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordTextTest {

    @TempDir
    Path dir;

    @Test
    void writtenTextReadsBackWholeNonAsciiIncluded() throws IOException {
        Path file = dir.resolve("IDENTITY");
        String text = "model=qwen2.5-0.5b\nlayout=24x2x64 bf16\nnote=naïve ✓\n";
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            RecordText.writeForced(ch, text);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(text, RecordText.read(ch, 1024));
        }
    }

    @Test
    void aFileOverTheBoundIsNamedByItsSizeNotRead() throws IOException {
        Path file = Files.write(dir.resolve("IDENTITY"), new byte[100]);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals("(a file of 100 bytes)", RecordText.read(ch, 99));
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            assertEquals(100, RecordText.read(ch, 100).length());
        }
    }
}

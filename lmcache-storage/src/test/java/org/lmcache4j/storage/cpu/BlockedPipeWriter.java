package org.lmcache4j.storage.cpu;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.channels.Pipe;

/**
 * A thread stuck in a write of off-heap memory, as a write-behind thread is inside a slow file or socket
 * write: it writes a view of {@code memory} (more than a pipe holds, 64 KiB) into a pipe nobody reads.
 * NIO keeps the memory's session acquired for the whole write, so the arena owning that memory cannot
 * close until {@link #release()} ends the write.
 */
public final class BlockedPipeWriter {

    private final Pipe pipe;
    private final Thread thread;

    /** Starts the write and returns once it is under way (a byte of it arrived in the pipe). */
    public BlockedPipeWriter(MemorySegment memory) throws IOException {
        if (memory.byteSize() <= 64 << 10) {
            throw new IllegalArgumentException("memory: " + memory.byteSize() + " bytes (expected: more than a pipe's 64 KiB)");
        }
        this.pipe = Pipe.open();
        this.thread = Thread.ofPlatform().daemon().name("blocked-pipe-writer").start(() -> {
            try {
                pipe.sink().write(memory.asByteBuffer());
            } catch (IOException e) {
                // released: the pipe was closed under the write
            }
        });
        ByteBuffer first = ByteBuffer.allocate(1);
        while (first.hasRemaining()) {
            pipe.source().read(first); // the rest of the write cannot fit: the writer is inside it now
        }
    }

    /** Ends the write (the pipe closes under it) and waits for the writer to let go of the memory. */
    public void release() throws IOException, InterruptedException {
        pipe.source().close();
        thread.join(10_000);
        assertFalse(thread.isAlive(), "the writer ended");
        pipe.sink().close();
    }
}

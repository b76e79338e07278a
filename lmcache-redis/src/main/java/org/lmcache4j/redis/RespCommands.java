package org.lmcache4j.redis;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Commands in RESP2, pipelined: the small parts of each command (counts, lengths, names, keys) are
 * gathered into heap bytes, and a large argument given as a {@link MemorySegment} is sent from that
 * segment as it is, never copied into a buffer of this class.
 */
final class RespCommands {

    private final List<ByteBuffer> buffers = new ArrayList<>();
    private final ByteArrayOutputStream small = new ByteArrayOutputStream(256);

    /** Appends a command of small arguments. */
    RespCommands command(byte[]... args) {
        header(args.length);
        for (byte[] a : args) {
            bulk(a);
        }
        return this;
    }

    /** Appends {@code SET key value PX expiryMillis}, the value sent from {@code value}. */
    RespCommands setWithExpiry(byte[] key, MemorySegment value, long expiryMillis) {
        header(5);
        bulk(RespConnection.bytes("SET"));
        bulk(key);
        text("$" + value.byteSize() + "\r\n");
        flushSmall();
        buffers.add(value.asByteBuffer());
        text("\r\n");
        bulk(RespConnection.bytes("PX"));
        bulk(RespConnection.bytes(Long.toString(expiryMillis)));
        return this;
    }

    /** What to write, in order. */
    ByteBuffer[] buffers() {
        flushSmall();
        return buffers.toArray(ByteBuffer[]::new);
    }

    private void header(int args) {
        text("*" + args + "\r\n");
    }

    private void bulk(byte[] a) {
        text("$" + a.length + "\r\n");
        small.writeBytes(a);
        text("\r\n");
    }

    private void text(String s) {
        small.writeBytes(s.getBytes(StandardCharsets.US_ASCII));
    }

    private void flushSmall() {
        if (small.size() > 0) {
            buffers.add(ByteBuffer.wrap(small.toByteArray()));
            small.reset();
        }
    }
}

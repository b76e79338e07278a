package org.lmcache4j.redis;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32C;

/**
 * One plain-TCP connection to a Redis server speaking RESP2, for the bytes of chunk parts: bulk replies are
 * read straight into the caller's {@link MemorySegment} (one copy, from the kernel into the page) and
 * checksummed as they arrive; bulk arguments are written straight from the caller's segment.
 *
 * <p>Implementation notes. The channel is non-blocking with a selector of its own, so every wait for the
 * socket is bounded by the timeout, as a socket timeout bounds each read of a blocking client. Replies
 * other than bulk payloads (status lines, lengths, errors) go through a small buffer; a bulk payload
 * starts with what that buffer already holds and continues with reads into the target. Not thread-safe:
 * one caller at a time ({@link RespPartWire} pools them). Any {@link IOException} leaves the connection
 * in an unknown state: the caller closes it.
 */
final class RespConnection implements AutoCloseable {

    /** A server's error reply ({@code -ERR ...}); the connection stays usable. */
    static final class ErrorReply extends IOException {
        private static final long serialVersionUID = 1L;

        ErrorReply(String message) {
            super(message);
        }
    }

    private static final int LINE_BUFFER_BYTES = 16 << 10;

    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private final long timeoutMillis;
    private final ByteBuffer in = ByteBuffer.allocateDirect(LINE_BUFFER_BYTES).flip(); // unread bytes between position and limit

    private RespConnection(SocketChannel channel, Selector selector, long timeoutMillis) throws IOException {
        this.channel = channel;
        this.selector = selector;
        this.timeoutMillis = timeoutMillis;
        this.key = channel.register(selector, 0);
    }

    /** Connects within {@code timeoutMillis}, then authenticates and selects {@code database} when asked. */
    static RespConnection open(InetSocketAddress address, long timeoutMillis, String user, String password, int database)
            throws IOException {
        SocketChannel ch = SocketChannel.open();
        Selector sel = null;
        boolean ok = false;
        try {
            ch.configureBlocking(false);
            ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            sel = Selector.open();
            RespConnection c = new RespConnection(ch, sel, timeoutMillis);
            if (!ch.connect(address)) {
                c.await(SelectionKey.OP_CONNECT, "connecting");
                ch.finishConnect();
            }
            if (password != null) {
                c.command(user == null ? new byte[][] {bytes("AUTH"), bytes(password)}
                        : new byte[][] {bytes("AUTH"), bytes(user), bytes(password)});
            }
            if (database != 0) {
                c.command(new byte[][] {bytes("SELECT"), bytes(Integer.toString(database))});
            }
            ok = true;
            return c;
        } finally {
            if (!ok) {
                if (sel != null) {
                    sel.close();
                }
                ch.close();
            }
        }
    }

    /** Sends one command of small arguments and reads its status or integer reply. */
    void command(byte[][] args) throws IOException {
        RespCommands out = new RespCommands();
        out.command(args);
        write(out.buffers());
        readStatus();
    }

    /** Writes every byte of {@code buffers}, waiting at most the timeout each time the socket is full. */
    void write(ByteBuffer[] buffers) throws IOException {
        int first = 0;
        while (first < buffers.length) {
            if (channel.write(buffers, first, buffers.length - first) == 0) {
                await(SelectionKey.OP_WRITE, "writing");
            }
            while (first < buffers.length && !buffers[first].hasRemaining()) {
                first++;
            }
        }
    }

    /** Reads a status ({@code +OK}) or integer reply. */
    void readStatus() throws IOException {
        String line = readLine();
        char type = line.charAt(0);
        if (type == '-') {
            throw new ErrorReply(line.substring(1));
        }
        if (type != '+' && type != ':') {
            throw new IOException("reply '" + line + "' (expected: a status or an integer)");
        }
    }

    /**
     * Reads one bulk reply into {@code dst} when it has exactly {@code dst}'s length, updating {@code crc}
     * with it as it arrives; a reply of another length is read and dropped.
     *
     * @return the bulk's length ({@code dst.byteSize()} when read into it), or -1 for a null bulk (no such key)
     */
    long readBulkInto(MemorySegment dst, CRC32C crc) throws IOException {
        return readBulkBody(readBulkLength(), dst, crc);
    }

    /** Reads a whole bulk reply into a new array; null for a null bulk (a script's {@code false}, no such key). */
    byte[] readBulkBytes() throws IOException {
        long length = readBulkLength();
        if (length < 0) {
            return null;
        }
        if (length > Integer.MAX_VALUE - 8) {
            throw new IOException("bulk reply of " + length + " bytes (expected: a header, at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        byte[] out = new byte[(int) length];
        readBulkBody(length, MemorySegment.ofArray(out), new CRC32C());
        return out;
    }

    /**
     * Reads the start of a bulk reply: its length, or -1 for a null bulk (no such key); the bytes follow
     * ({@link #readBulkBody}).
     */
    long readBulkLength() throws IOException {
        String line = readLine();
        if (line.charAt(0) == '-') {
            throw new ErrorReply(line.substring(1));
        }
        if (line.charAt(0) != '$') {
            throw new IOException("reply '" + abbreviate(line) + "' (expected: a bulk string)");
        }
        return Long.parseLong(line, 1, line.length(), 10);
    }

    /**
     * Reads the bytes of a bulk reply of {@code length} (from {@link #readBulkLength}) into {@code dst} when
     * it has exactly {@code dst}'s length, updating {@code crc} with them as they arrive; else reads and drops them.
     *
     * @return {@code length}
     */
    long readBulkBody(long length, MemorySegment dst, CRC32C crc) throws IOException {
        return readBulkBody(length, dst, crc, null);
    }

    /**
     * As {@link #readBulkBody(long, MemorySegment, CRC32C)}, telling {@code progress} (unless null) how many
     * of {@code dst}'s bytes are in after each read from the socket, so a reader can work on them while the
     * rest is on its way.
     */
    long readBulkBody(long length, MemorySegment dst, CRC32C crc, java.util.function.LongConsumer progress) throws IOException {
        if (length < 0) {
            return -1;
        }
        if (length != dst.byteSize()) {
            skip(length + 2);
            return length;
        }
        ByteBuffer target = dst.asByteBuffer();
        int buffered = Math.min(in.remaining(), target.remaining());
        if (buffered > 0) {
            ByteBuffer part = in.slice(in.position(), buffered);
            crc.update(part.duplicate());
            target.put(part);
            in.position(in.position() + buffered);
            if (progress != null) {
                progress.accept(target.position());
            }
        }
        while (target.hasRemaining()) {
            int from = target.position();
            int n = channel.read(target);
            if (n < 0) {
                throw new EOFException("connection closed by the server");
            }
            if (n == 0) {
                await(SelectionKey.OP_READ, "reading");
                continue;
            }
            crc.update(target.slice(from, n)); // while the bytes are in the cache
            if (progress != null) {
                progress.accept(target.position());
            }
        }
        String end = readLine();
        if (!end.isEmpty()) {
            throw new IOException("bulk string not ended by CRLF");
        }
        return length;
    }

    /** Reads one line (without its CRLF) through the small buffer. */
    private String readLine() throws IOException {
        for (int scanned = in.position(); ; ) {
            for (int i = scanned; i + 1 < in.limit(); i++) {
                if (in.get(i) == '\r' && in.get(i + 1) == '\n') {
                    byte[] line = new byte[i - in.position()];
                    in.get(line);
                    in.position(i + 2);
                    return new String(line, StandardCharsets.US_ASCII);
                }
            }
            scanned = Math.max(in.position(), in.limit() - 1);
            int before = in.position();
            fill();
            scanned -= before; // fill moved the unread bytes to the start
        }
    }

    /** Reads and drops {@code n} bytes. */
    private void skip(long n) throws IOException {
        while (n > 0) {
            if (!in.hasRemaining()) {
                fill();
            }
            int k = (int) Math.min(n, in.remaining());
            in.position(in.position() + k);
            n -= k;
        }
    }

    /** Moves the unread bytes to the buffer's start and reads more after them. */
    private void fill() throws IOException {
        in.compact();
        try {
            if (!in.hasRemaining()) {
                throw new IOException("reply line longer than " + LINE_BUFFER_BYTES + " bytes");
            }
            for (;;) {
                int n = channel.read(in);
                if (n < 0) {
                    throw new EOFException("connection closed by the server");
                }
                if (n > 0) {
                    return;
                }
                await(SelectionKey.OP_READ, "reading");
            }
        } finally {
            in.flip();
        }
    }

    private void await(int op, String what) throws IOException {
        key.interestOps(op);
        try {
            if (selector.select(timeoutMillis) == 0) {
                if (Thread.currentThread().isInterrupted()) { // an interrupt wakes the selector and stays set
                    throw new InterruptedIOException(what + " interrupted");
                }
                throw new SocketTimeoutException(what + " timed out after " + timeoutMillis + " ms");
            }
            selector.selectedKeys().clear();
        } finally {
            key.interestOps(0);
        }
    }

    private static String abbreviate(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "..." : s;
    }

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        try {
            selector.close();
        } catch (IOException e) {
            // nothing left to do
        }
        try {
            channel.close();
        } catch (IOException e) {
            // nothing left to do
        }
    }
}

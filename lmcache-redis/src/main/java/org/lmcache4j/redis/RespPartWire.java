package org.lmcache4j.redis;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * The {@code remote} tier's data path to a standalone server without TLS: chunk parts read straight into
 * the caller's memory and written straight from it, over pooled {@link RespConnection}s, each batch
 * pipelined on one connection, at most {@code poolSize} connections at a time (callers beyond wait up to
 * the timeout for one). The index and its scripts stay on the Redis client ({@link RedisLink}); cluster
 * and TLS URLs use the client for parts too ({@link #forUrl} is empty for them).
 *
 * <p>Failures are thrown as the client's exceptions ({@link JedisConnectionException} when the server
 * cannot be reached in time, {@link JedisDataException} for an error reply), so {@link RedisLink} counts
 * them for its breaker as it counts the client's. A connection that failed is closed, never reused.
 */
final class RespPartWire implements AutoCloseable {

    private final RemoteUrl url;
    private final InetSocketAddress address;
    /**
     * Idle connections, the most recently used first. One idle longer than {@code maxIdleNanos} (default
     * {@value #MAX_IDLE_NANOS} ns) is
     * closed instead of used: a server's {@code timeout}, a load balancer or a NAT may have dropped it, and
     * each dead one would cost a call a failure (and the breaker a count).
     */
    private final ConcurrentLinkedDeque<IdleConnection> idle = new ConcurrentLinkedDeque<>();
    /**
     * One permit per connection in use (or being opened), {@code poolSize} in all: without it, many callers
     * at once would each open a socket of their own, without bound. A connection goes back to the idle
     * ones before its permit is returned, so in use plus idle never exceeds {@code poolSize} either.
     */
    private final Semaphore permits;

    static final long MAX_IDLE_NANOS = 30_000_000_000L;

    private final long maxIdleNanos;

    private record IdleConnection(RespConnection connection, long sinceNanos) {
    }
    private volatile boolean closed;

    private RespPartWire(RemoteUrl url) {
        this(url, MAX_IDLE_NANOS);
    }

    /** @param maxIdleNanos an idle connection older than this is closed instead of used (tests shorten it) */
    RespPartWire(RemoteUrl url, long maxIdleNanos) {
        this.url = url;
        this.maxIdleNanos = maxIdleNanos;
        this.permits = new Semaphore(url.poolSize());
        RemoteUrl.Endpoint e = url.endpoints().getFirst();
        this.address = InetSocketAddress.createUnresolved(e.host(), e.port());
    }

    /** The wire for {@code url}; empty for a cluster or TLS URL, whose parts go through the client. */
    static Optional<RespPartWire> forUrl(RemoteUrl url) {
        return url.cluster() || url.tls() ? Optional.empty() : Optional.of(new RespPartWire(url));
    }

    /**
     * What one read of parts found: all of them; one absent, of another length, or holding a value of another type
     * than a string (the server answered {@code WRONGTYPE}: damage, as another length is); or another error reply.
     */
    enum ReadOutcome { READ, MISSING, WRONG_LENGTH, WRONG_TYPE, ERROR_REPLY }

    /**
     * One chunk's share of a {@link #readChunks} call: the parts at {@code partKeys} (values of exactly
     * {@code lengths}) go one after the other into {@code dst}, every byte read also into {@code crc}.
     * After the call, {@link #outcome()} says what was found and {@link #firstBad()} names the first part
     * that was absent, of another length or answered by an error ({@link #error()}).
     */
    static final class PartRead {
        final byte[][] partKeys;
        final int[] lengths;
        final MemorySegment dst;
        final CRC32C crc;
        private ReadOutcome outcome = ReadOutcome.READ;
        private int firstBad = -1;
        private RespConnection.ErrorReply error;
        private java.util.function.LongConsumer arrived;

        PartRead(byte[][] partKeys, int[] lengths, MemorySegment dst, CRC32C crc) {
            this.partKeys = partKeys;
            this.lengths = lengths;
            this.dst = dst;
            this.crc = crc;
        }

        ReadOutcome outcome() {
            return outcome;
        }

        /**
         * Tells {@code arrived} (null: no one) how many of {@code dst}'s bytes are in, front to back, after
         * each read from the socket, so an encoded chunk decodes as it arrives. Not called once a part was
         * missing or wrong.
         */
        PartRead whenArrived(java.util.function.LongConsumer arrived) {
            this.arrived = arrived;
            return this;
        }

        int firstBad() {
            return firstBad;
        }

        /** The server's error reply to a part (outcome {@code ERROR_REPLY}), or null. */
        String error() {
            return error == null ? null : error.getMessage();
        }

        private void failed(int part, RespConnection.ErrorReply e) {
            if (RemotePartCommands.wrongType(e.getMessage())) {
                if (outcome == ReadOutcome.READ) { // a damaged part, never thrown
                    outcome = ReadOutcome.WRONG_TYPE;
                    firstBad = part;
                }
                return;
            }
            if (error == null) {
                error = e;
            }
            if (outcome != ReadOutcome.ERROR_REPLY) {
                outcome = ReadOutcome.ERROR_REPLY;
                firstBad = part;
            }
        }

        private void found(int part, long got) {
            if (outcome == ReadOutcome.READ && got != lengths[part]) {
                outcome = got < 0 ? ReadOutcome.MISSING : ReadOutcome.WRONG_LENGTH;
                firstBad = part;
            }
        }
    }

    /**
     * Reads the parts at {@code partKeys} (values of exactly {@code lengths}) one after the other into
     * {@code dst}, in one pipeline, updating {@code crc} with every byte read.
     *
     * @return READ when every part was read; MISSING when one was absent, WRONG_LENGTH when one had
     *         another length, WRONG_TYPE when one held another type of value (the first such part is named by
     *         {@code firstBad[0]}); {@code dst} then holds some of the bytes
     */
    ReadOutcome readParts(byte[][] partKeys, int[] lengths, MemorySegment dst, CRC32C crc, int[] firstBad) {
        PartRead read = new PartRead(partKeys, lengths, dst, crc);
        readChunks(List.of(read));
        if (read.outcome() != ReadOutcome.READ) {
            firstBad[0] = read.firstBad();
        }
        return read.outcome(); // never ERROR_REPLY: readChunks throws the first chunk's
    }

    /**
     * Reads the parts of several chunks, in order, on one connection, so the server streams the chunks
     * back to back without waiting for this client between them. A chunk with a missing part, one of
     * another length or type ({@code WRONGTYPE}), or another error reply does not stop the others; every reply is
     * drained, so the connection stays in step. An error reply other than {@code WRONGTYPE} to the first chunk is
     * thrown (as the client's {@link JedisDataException}), after the others were read; to a later one, it is that
     * chunk's outcome.
     *
     * <p>The GET of each part is sent when the reply to the one before it starts arriving, not all at
     * once: a server handles every command it has received before it sends any reply (Redis copies each
     * value into its reply buffer as it handles the GET), so with all sent at once nothing arrives until
     * every part is copied; one ahead, it copies the next part while this client reads the current one
     * (docs/PERFORMANCE.md, "The remote tier at wire speed").
     */
    void readChunks(List<PartRead> reads) {
        List<byte[]> partKeys = new java.util.ArrayList<>();
        for (PartRead r : reads) {
            partKeys.addAll(List.of(r.partKeys));
        }
        if (partKeys.isEmpty()) {
            return;
        }
        withConnection(c -> {
            int sent = send(c, partKeys, 0, 1);
            for (PartRead r : reads) {
                long off = 0;
                for (int i = 0; i < r.partKeys.length; i++) {
                    long length;
                    try {
                        length = c.readBulkLength();
                    } catch (RespConnection.ErrorReply e) {
                        r.failed(i, e);
                        length = ERROR;
                    }
                    if (sent < partKeys.size()) {
                        sent += send(c, partKeys, sent, 1);
                    }
                    if (length != ERROR) {
                        long base = off;
                        java.util.function.LongConsumer progress = r.arrived == null || r.outcome != ReadOutcome.READ ? null
                                : in -> r.arrived.accept(base + in);
                        // drained even after a bad one
                        r.found(i, c.readBulkBody(length, r.dst.asSlice(off, r.lengths[i]), r.crc, progress));
                    }
                    off += r.lengths[i];
                }
            }
            if (reads.getFirst().error != null) {
                throw reads.getFirst().error;
            }
            return null;
        });
    }

    private static final long ERROR = Long.MIN_VALUE;

    /** Sends GETs of {@code count} part keys from {@code from}; returns {@code count}. */
    private static int send(RespConnection c, List<byte[]> partKeys, int from, int count) throws IOException {
        RespCommands gets = new RespCommands();
        for (int i = from; i < from + count; i++) {
            gets.command(GET, partKeys.get(i));
        }
        c.write(gets.buffers());
        return count;
    }

    /**
     * Runs {@code script} once per element of {@code keys} (with the matching element of {@code args}) in
     * one pipeline, by its SHA-1, sending it whole to the calls the server answers {@code NOSCRIPT} (a new
     * or restarted server); element {@code i} of the result is call {@code i}'s bulk reply, null for a nil
     * (the script returned {@code false}). An error reply other than {@code NOSCRIPT} is thrown (as the
     * client's {@link JedisDataException}) once every reply is read.
     */
    byte[][] evalBulk(RemoteScript script, List<List<byte[]>> keys, List<byte[][]> args) {
        return withConnection(c -> {
            byte[][] out = new byte[keys.size()][];
            List<Integer> unknown = new java.util.ArrayList<>();
            RespConnection.ErrorReply error = null;
            c.write(scriptCalls(script, keys, args, null, false).buffers());
            for (int i = 0; i < out.length; i++) {
                try {
                    out[i] = c.readBulkBytes();
                } catch (RespConnection.ErrorReply e) {
                    if (e.getMessage().startsWith("NOSCRIPT")) {
                        unknown.add(i);
                    } else if (error == null) {
                        error = e;
                    }
                }
            }
            if (!unknown.isEmpty()) {
                c.write(scriptCalls(script, keys, args, unknown, true).buffers());
                for (int i : unknown) {
                    try {
                        out[i] = c.readBulkBytes();
                    } catch (RespConnection.ErrorReply e) {
                        error = error == null ? e : error;
                    }
                }
            }
            if (error != null) {
                throw error;
            }
            return out;
        });
    }

    /** EVALSHA (or EVAL, {@code whole}) of {@code script} for the calls {@code only} names (null: all). */
    private static RespCommands scriptCalls(RemoteScript script, List<List<byte[]>> keys, List<byte[][]> args, List<Integer> only,
                                            boolean whole) {
        RespCommands out = new RespCommands();
        int n = only == null ? keys.size() : only.size();
        for (int j = 0; j < n; j++) {
            int i = only == null ? j : only.get(j);
            List<byte[]> k = keys.get(i);
            byte[][] a = args.get(i);
            byte[][] command = new byte[3 + k.size() + a.length][];
            command[0] = whole ? EVAL : EVALSHA;
            command[1] = whole ? script.body() : script.sha1();
            command[2] = RespConnection.bytes(Integer.toString(k.size()));
            for (int x = 0; x < k.size(); x++) {
                command[3 + x] = k.get(x);
            }
            System.arraycopy(a, 0, command, 3 + k.size(), a.length);
            out.command(command);
        }
        return out;
    }

    /**
     * Writes {@code payload} as parts of {@code partBytes} (the last one shorter) at {@code partKeys}, each
     * expiring after {@code expiryMillis}, in one pipeline, updating {@code crc} with the payload.
     */
    void writeParts(byte[][] partKeys, MemorySegment payload, int partBytes, long expiryMillis, CRC32C crc) {
        RespCommands sets = new RespCommands();
        for (int i = 0; i < partKeys.length; i++) {
            long off = (long) i * partBytes;
            MemorySegment part = payload.asSlice(off, Math.min(partBytes, payload.byteSize() - off));
            crc.update(part.asByteBuffer());
            sets.setWithExpiry(partKeys[i], part, expiryMillis);
        }
        withConnection(c -> {
            c.write(sets.buffers());
            IOException first = null;
            for (int i = 0; i < partKeys.length; i++) {
                try {
                    c.readStatus();
                } catch (RespConnection.ErrorReply e) {
                    first = first == null ? e : first; // read every reply, then throw the first error (say, OOM)
                }
            }
            if (first != null) {
                throw first;
            }
            return null;
        });
    }

    private interface Exchange<T> {
        T run(RespConnection c) throws IOException;
    }

    private <T> T withConnection(Exchange<T> exchange) {
        takePermit();
        try {
            return onConnection(exchange);
        } finally {
            permits.release(); // after the connection went back to the idle ones: a waiter finds it there
        }
    }

    /**
     * Waits at most the timeout for one of the {@code poolSize} connections, as the client waits for a
     * pooled one; when none frees up, the call fails as on an exhausted client pool.
     */
    private void takePermit() {
        try {
            if (!permits.tryAcquire(url.timeoutMillis(), TimeUnit.MILLISECONDS)) {
                throw new JedisConnectionException("remote tier " + url + ": no direct connection free within " + url.timeoutMillis()
                        + " ms (poolSize " + url.poolSize() + ", all in use)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException cause = new InterruptedIOException("waiting for a direct connection");
            cause.initCause(e);
            throw new JedisConnectionException("remote tier " + url + ": interrupted", cause);
        }
    }

    private <T> T onConnection(Exchange<T> exchange) {
        RespConnection c = takeIdle();
        try {
            if (c == null) {
                c = RespConnection.open(new InetSocketAddress(address.getHostString(), address.getPort()), url.timeoutMillis(),
                        url.user().orElse(null), url.password().orElse(null), url.database());
            }
            T result = exchange.run(c);
            release(c);
            return result;
        } catch (RespConnection.ErrorReply e) {
            if (c != null) {
                release(c); // the exchanges read every reply before they throw one: the connection is in step
            }
            throw new JedisDataException(e.getMessage());
        } catch (IOException | RuntimeException e) {
            if (c != null) {
                c.close();
            }
            throw new JedisConnectionException("remote tier " + url + ": " + e, e);
        } catch (Error e) { // out of memory in the middle of a reply (a decode runs inside one): not in step, not returned
            if (c != null) {
                c.close();
            }
            throw e;
        }
    }

    /** The most recently used idle connection that has not been idle too long, or null; older ones are closed. */
    private RespConnection takeIdle() {
        for (IdleConnection i; (i = idle.pollFirst()) != null; ) {
            if (System.nanoTime() - i.sinceNanos() <= maxIdleNanos) {
                return i.connection();
            }
            i.connection().close();
        }
        return null;
    }

    private void release(RespConnection c) {
        if (closed || idle.size() >= url.poolSize()) {
            c.close();
            return;
        }
        idle.addFirst(new IdleConnection(c, System.nanoTime()));
        if (closed) { // closed meanwhile: do not leave it behind
            dropIdle();
        }
    }

    /** Closes the idle connections (after an outage they are dead; new ones are opened as needed). */
    void dropIdle() {
        for (IdleConnection i; (i = idle.pollFirst()) != null; ) {
            RespConnection c = i.connection();
            c.close();
        }
    }

    @Override
    public void close() {
        closed = true;
        dropIdle();
    }

    private static final byte[] GET = RespConnection.bytes("GET");
    private static final byte[] EVALSHA = RespConnection.bytes("EVALSHA");
    private static final byte[] EVAL = RespConnection.bytes("EVAL");
}

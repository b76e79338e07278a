package org.lmcache4j.redis;

import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.params.SetParams;

/**
 * The commands the {@code remote} tier sends for chunk parts, each batch in one pipeline (one round trip
 * per node holding parts): read, write with an expiry, and the end of a put. Parts live outside the
 * index's hash slot, so these run outside its scripts ({@link RemoteIndex}).
 */
final class RemotePartCommands {

    private RemotePartCommands() {
    }

    /** What {@link #read} gives for a part holding another type of value than a string (compare by identity). */
    static final byte[] WRONG_TYPE = new byte[0];

    /** True for the server's answer to a GET of a key holding another type of value than a string: a damaged part. */
    static boolean wrongType(String errorMessage) {
        return errorMessage != null && errorMessage.startsWith("WRONGTYPE");
    }

    /** The parts at {@code partKeys}, null for each one missing, {@link #WRONG_TYPE} for each one of another type. */
    static byte[][] read(UnifiedJedis redis, byte[][] partKeys) {
        List<Response<byte[]>> responses = new ArrayList<>(partKeys.length);
        try (AbstractPipeline p = redis.pipelined()) {
            for (byte[] k : partKeys) {
                responses.add(p.get(k));
            }
            p.sync();
        }
        byte[][] parts = new byte[partKeys.length][];
        for (int i = 0; i < parts.length; i++) {
            try {
                parts[i] = responses.get(i).get();
            } catch (redis.clients.jedis.exceptions.JedisDataException e) {
                if (!wrongType(e.getMessage())) {
                    throw e;
                }
                parts[i] = WRONG_TYPE; // damage, as a part of another length is
            }
        }
        return parts;
    }

    /** Writes the parts, each expiring after {@code expiryMillis}; throws the first error reply (say, OOM). */
    static Void write(UnifiedJedis redis, byte[][] partKeys, byte[][] parts, long expiryMillis) {
        SetParams expiry = SetParams.setParams().px(expiryMillis);
        List<Response<String>> responses = new ArrayList<>(parts.length);
        try (AbstractPipeline p = redis.pipelined()) {
            for (int i = 0; i < parts.length; i++) {
                responses.add(p.set(partKeys[i], parts[i], expiry));
            }
            p.sync();
        }
        responses.forEach(Response::get); // throws the first error reply (say, OOM over maxmemory)
        return null;
    }

    /**
     * The last step of a put: its own parts made persistent (or, with a TTL, set to expire at
     * {@code expireAtMillis}, server time), and the parts of dropped chunks deleted.
     */
    static Void finish(UnifiedJedis redis, byte[][] own, long expireAtMillis, List<byte[]> garbage) {
        List<Response<Long>> responses = new ArrayList<>();
        try (AbstractPipeline p = redis.pipelined()) {
            for (byte[] k : own) {
                responses.add(expireAtMillis > 0 ? p.pexpireAt(k, expireAtMillis) : p.persist(k));
            }
            for (byte[] k : garbage) {
                responses.add(p.unlink(k));
            }
            p.sync();
        }
        responses.forEach(Response::get);
        return null;
    }
}

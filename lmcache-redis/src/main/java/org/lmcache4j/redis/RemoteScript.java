package org.lmcache4j.redis;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Response;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisNoScriptException;

/**
 * A Lua script of the {@code remote} tier's index, run by its SHA-1 and sent whole once the server does
 * not know it (a new or restarted server), alone or queued in a pipeline ({@link RemoteShardCalls}).
 */
record RemoteScript(String name, byte[] body, byte[] sha1) {

    RemoteScript(String name, String body) {
        this(name, body.getBytes(StandardCharsets.UTF_8));
    }

    private RemoteScript(String name, byte[] body) {
        this(name, body, sha1Hex(body));
    }

    /** Runs the script on the node of {@code keys}' slot; its raw reply. */
    Object run(UnifiedJedis redis, List<byte[]> keys, byte[]... args) {
        List<byte[]> argList = List.of(args);
        try {
            return redis.evalsha(sha1, keys, argList);
        } catch (JedisNoScriptException e) {
            return redis.eval(body, keys, argList);
        }
    }

    /** Queues a run by SHA-1; its reply throws {@link JedisNoScriptException} when the server lacks the script. */
    Response<Object> queue(AbstractPipeline pipeline, List<byte[]> keys, List<byte[]> args) {
        return pipeline.evalsha(sha1, keys, args);
    }

    /** Queues a run that sends the whole script. */
    Response<Object> queueWhole(AbstractPipeline pipeline, List<byte[]> keys, List<byte[]> args) {
        return pipeline.eval(body, keys, args);
    }

    private static byte[] sha1Hex(byte[] body) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-1").digest(body);
            return HexFormat.of().formatHex(d).getBytes(StandardCharsets.US_ASCII);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is required by every Java platform", e);
        }
    }
}

package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.lmcache4j.testing.RedisServer;

/**
 * Two engine processes share KV through Redis: process A stores a prompt and exits; process B, another
 * JVM with an empty cpu tier, retrieves it byte for byte (checked against the seeded KV in B).
 */
class RemoteSharingIT {

    @Test
    void anEngineInAnotherJvmRetrievesWhatOneStored() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            int n = 8 * RemoteEngines.CHUNK;
            assertEquals(List.of("stored " + n), run("store", redis.url(), "7", Integer.toString(n)));
            assertEquals(List.of("retrieved " + n), run("retrieve", redis.url(), "7", Integer.toString(n)));
            assertEquals(List.of("retrieved 0"), run("retrieve", redis.url(), "8", Integer.toString(n)), "another prompt misses");
        }
    }

    /** Runs {@link RemoteEngineChild} with {@code args} in a new JVM; its output lines. */
    static List<String> run(String... args) throws Exception {
        return run(List.of(), args);
    }

    /** The same, with further JVM flags (system properties). */
    static List<String> run(List<String> jvmFlags, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-Xmx256m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=error"));
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), RemoteEngineChild.class.getName()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            String what = "child JVM '" + String.join(" ", args) + "'";
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), what + " finished within 60 s");
            assertEquals(0, p.exitValue(), "exit status of " + what);
            return out.get(60, TimeUnit.SECONDS).lines().filter(l -> !l.isBlank()).toList();
        } finally {
            p.destroyForcibly();
        }
    }
}

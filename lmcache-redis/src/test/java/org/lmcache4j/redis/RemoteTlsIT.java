package org.lmcache4j.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.lmcache4j.testing.RedisServer;

/**
 * {@code rediss://}: two engine processes share KV through a TLS port of redis-server whose self-signed
 * certificate the JVMs trust through {@code javax.net.ssl.trustStore}; a JVM that does not trust it gets
 * misses, never an error. Skipped when {@code openssl} is missing (it makes the certificate).
 */
class RemoteTlsIT {

    @TempDir
    Path dir;

    @Test
    void enginesShareKvOverTls() throws Exception {
        assumeTrue(runs("openssl", "version"), "openssl is not installed: cannot make a test certificate");
        Path key = dir.resolve("key.pem");
        Path cert = dir.resolve("cert.pem");
        Path trust = dir.resolve("trust.p12");
        exec("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", cert.toString(),
                "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1");
        exec(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-importcert", "-noprompt", "-alias", "redis",
                "-file", cert.toString(), "-keystore", trust.toString(), "-storepass", "changeit", "-storetype", "PKCS12");
        int tlsPort = freePort();
        try (RedisServer redis = RedisServer.start("--tls-port", Integer.toString(tlsPort), "--tls-cert-file", cert.toString(),
                "--tls-key-file", key.toString(), "--tls-ca-cert-file", cert.toString(), "--tls-auth-clients", "no")) {
            String url = "rediss://127.0.0.1:" + tlsPort;
            List<String> trusting = List.of("-Djavax.net.ssl.trustStore=" + trust, "-Djavax.net.ssl.trustStorePassword=changeit");
            int n = 4 * RemoteEngines.CHUNK;
            assertEquals(List.of("stored " + n), RemoteSharingIT.run(trusting, "store", url, "3", Integer.toString(n)));
            assertEquals(4L, redis.call("ZCARD", "lmc4j:{" + RemoteKeys.versioned(RemoteEngines.config().identity(Engines.SMALL).id()) + "}:lru"),
                    "the chunks arrived over TLS");
            assertEquals(List.of("retrieved " + n), RemoteSharingIT.run(trusting, "retrieve", url, "3", Integer.toString(n)));
            assertEquals(List.of("retrieved 0"), RemoteSharingIT.run("retrieve", url, "3", Integer.toString(n)),
                    "a JVM that does not trust the certificate gets misses");
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private void exec(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("exec.log").toFile()).start();
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed: " + Files.readString(dir.resolve("exec.log")));
        }
    }
}

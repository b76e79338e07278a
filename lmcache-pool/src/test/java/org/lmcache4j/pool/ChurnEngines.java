package org.lmcache4j.pool;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.lmcache4j.testing.ChildJvm;

/** Churning engine JVMs ({@link PoolEngineChild} {@code churn}) and what their output says: wrong bytes, hits, misses. */
final class ChurnEngines {

    /** Told each progress line's hits and misses, with the engine's number. */
    @FunctionalInterface
    interface Progress {
        void report(int engine, long hits, long misses);
    }

    private final ConcurrentLinkedQueue<String> bad = new ConcurrentLinkedQueue<>();
    private final Progress progress;

    ChurnEngines(Progress progress) {
        this.progress = progress;
    }

    /** Starts engine {@code engine} churning on {@code url} with random seed {@code seed}. */
    Process start(String url, int engine, long seed) throws IOException {
        Process p = ChildJvm.start(PoolEngineChild.class, "churn", url, Long.toString(seed));
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("BAD")) {
                        bad.add(line);
                    } else if (line.startsWith("progress ")) {
                        String[] f = line.split(" ");
                        progress.report(engine, Long.parseLong(f[1]), Long.parseLong(f[2]));
                    }
                }
            } catch (IOException e) {
                // the process ended or was killed
            }
        });
        return p;
    }

    /** The lines of every engine that saw a wrong byte. */
    List<String> bad() {
        return List.copyOf(bad);
    }
}

package org.lmcache4j.examples.demo;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link RestartChild} in a new JVM (same Java, class path and engine flags as this one) and reads
 * its report. The child's output goes to a log file next to the request, quoted when it fails.
 */
final class RestartProbe {

    private static final long TIMEOUT_SECONDS = 600;

    private RestartProbe() {
    }

    /** Runs the child on {@code request} in {@code workDir}; returns its report. */
    static Properties run(Path workDir, Properties request) throws IOException, InterruptedException {
        return run(workDir, request, RestartChild.class, "restart");
    }

    /** Runs {@code child}'s main (request and report files as arguments) in a new JVM, files named after {@code name}. */
    static Properties run(Path workDir, Properties request, Class<?> child, String name) throws IOException, InterruptedException {
        Files.createDirectories(workDir);
        Path in = workDir.resolve(name + "-request.properties");
        Path out = workDir.resolve(name + "-report.properties");
        Path log = workDir.resolve(name + "-child.log");
        Files.deleteIfExists(out);
        try (Writer w = Files.newBufferedWriter(in)) {
            request.store(w, "lmcache4j " + name + " request");
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmFlags());
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(child.getName());
        command.add(in.toString());
        command.add(out.toString());
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(name + " child: no result after " + TIMEOUT_SECONDS + " s; its log: " + log);
        }
        if (p.exitValue() != 0 || !Files.exists(out)) {
            throw new IOException(name + " child: exit code " + p.exitValue() + " (expected: 0); last lines of " + log + ":\n"
                    + tail(log, 20));
        }
        Properties report = new Properties();
        try (Reader r = Files.newBufferedReader(out)) {
            report.load(r);
        }
        return report;
    }

    /** The flags the engine needs, this JVM's heap limit, and quiet logging. */
    private static List<String> jvmFlags() {
        List<String> flags = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "--add-modules", "jdk.incubator.vector", "-Xmx" + Math.max(256, Runtime.getRuntime().maxMemory() >> 20) + "m",
                "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"));
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("-XX:ActiveProcessorCount")) {
                flags.add(arg);
            }
        }
        return flags;
    }

    private static String tail(Path log, int lines) throws IOException {
        if (!Files.exists(log)) {
            return "(no log)";
        }
        List<String> all = Files.readAllLines(log);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
}

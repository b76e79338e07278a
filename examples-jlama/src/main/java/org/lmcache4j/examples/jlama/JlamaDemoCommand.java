package org.lmcache4j.examples.jlama;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code bin/lmcache jlama-demo}: lmcache4j inside Jlama, with and without the cache, and in a fresh JVM. */
@Command(name = "jlama-demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Runs Jlama 0.8.4 (a random-weight Llama model) with and without lmcache4j: TTFT of a request without"
                + " the cache, a cold one, one sharing a long prefix, and one in a fresh JVM on the same disk tier;"
                + " checks the greedy tokens and the retrieved KV.")
public final class JlamaDemoCommand implements Callable<Integer> {

    @Option(names = "--model-size", defaultValue = "qwen2.5-0.5b-4l", paramLabel = "SHAPE",
            description = "Model shape: qwen2.5-0.5b-4l (Qwen2.5-0.5B widths, 4 layers) or tiny (default: ${DEFAULT-VALUE}).")
    String shape;

    @Option(names = "--seed", defaultValue = "1", description = "Seed of the random weights (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--prefix-tokens", defaultValue = "4096",
            description = "Tokens of the shared prefix, BOS included (default: ${DEFAULT-VALUE}).")
    int prefixTokens;

    @Option(names = "--new-tokens", defaultValue = "8", description = "Tokens generated per request (default: ${DEFAULT-VALUE}).")
    int newTokens;

    @Option(names = "--warmup-tokens", defaultValue = "512",
            description = "Tokens of each JIT warm-up prompt (default: ${DEFAULT-VALUE}).")
    int warmupTokens;

    @Option(names = "--cache-dir", defaultValue = "lmcache-jlama-cache", paramLabel = "DIR",
            description = "The disk tier's directory; this model's chunks in it are removed first (default: ${DEFAULT-VALUE}).")
    Path cacheDir;

    @Option(names = "--disk-cache-state", defaultValue = "cold", paramLabel = "STATE",
            description = "cold: drop the disk tier's files from the page cache before the fresh JVM starts; warm: leave"
                    + " them (default: ${DEFAULT-VALUE}).")
    String diskCacheState;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the results as JSON.")
    Path json;

    @Override
    public Integer call() throws Exception {
        if (!diskCacheState.equals("cold") && !diskCacheState.equals("warm")) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--disk-cache-state: " + diskCacheState
                    + " (expected: cold or warm)");
        }
        JlamaDemoOptions o;
        try {
            o = new JlamaDemoOptions(JlamaShape.named(shape), seed, prefixTokens, newTokens, warmupTokens, cacheDir,
                    diskCacheState.equals("cold"));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(new CommandLine(this), e.getMessage(), e);
        }
        JlamaDemoResult r = new JlamaDemo(o, System.out).run();
        System.out.println();
        System.out.print(r.table());
        if (json != null) {
            Files.writeString(json, r.json());
            System.out.println("JSON: " + json);
        }
        return r.checksPassed() ? 0 : 1;
    }

    public static void main(String[] args) {
        System.exit(new CommandLine(new JlamaDemoCommand()).execute(args));
    }
}

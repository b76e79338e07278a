package org.lmcache4j.gpu;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.lmcache4j.api.DeviceKvFormat;
import org.lmcache4j.api.DeviceKvMemory;
import org.lmcache4j.api.KvDtype;
import org.lmcache4j.api.KvLayout;
import org.lmcache4j.api.spi.ChunkCopy;
import org.lmcache4j.api.spi.HostRegistration;
import org.lmcache4j.nativeio.OffHeapSlab;

/**
 * Bandwidth of the CUDA copy engine on this machine's GPU: gather + device-to-host and host-to-device +
 * scatter, in GB/s, pipelined (all chunks in one call) and not (one call per chunk), staged and zero-copy,
 * against a plain {@code cuMemcpyAsync} of the same bytes between one device buffer and the same pinned
 * host memory. Without a GPU it prints the reason and exits 0.
 *
 * <p>Run it with {@code lmcache-gpu/scripts/benchmark.sh [options]} (see {@link Options#USAGE}).
 */
public final class KvCopyBenchmark {

    private KvCopyBenchmark() {
    }

    /** The benchmark's parameters; the defaults are Llama-3-8B-shaped KV (bf16) in vLLM's 16-token pages. */
    record Options(int layers, int kvHeads, int headDim, KvDtype dtype, DeviceKvFormat format, int blockSize, int chunkTokens,
                   int chunks, int iterations, int device, String json) {

        static final String USAGE = "usage: KvCopyBenchmark [--layers 32] [--kv-heads 8] [--head-dim 128] [--dtype BF16]"
                + " [--format VLLM|FLASH_INFER|MLA] [--block-size 16] [--chunk-tokens 256] [--chunks 16] [--iterations 10]"
                + " [--device 0] [--json FILE]";

        static Options parse(String[] args) {
            Map<String, String> v = new HashMap<>(Map.of("--layers", "32", "--kv-heads", "8", "--head-dim", "128",
                    "--dtype", "BF16", "--format", "VLLM", "--block-size", "16", "--chunk-tokens", "256", "--chunks", "16",
                    "--iterations", "10", "--device", "0"));
            v.put("--json", "");
            for (int i = 0; i < args.length; i += 2) {
                if (!v.containsKey(args[i]) || i + 1 >= args.length) {
                    throw new IllegalArgumentException(args[i] + ": " + (v.containsKey(args[i]) ? "missing value" : "unknown option"));
                }
                v.put(args[i], args[i + 1]);
            }
            return new Options(Integer.parseInt(v.get("--layers")), Integer.parseInt(v.get("--kv-heads")),
                    Integer.parseInt(v.get("--head-dim")), KvDtype.valueOf(v.get("--dtype")), DeviceKvFormat.valueOf(v.get("--format")),
                    Integer.parseInt(v.get("--block-size")), Integer.parseInt(v.get("--chunk-tokens")),
                    Integer.parseInt(v.get("--chunks")), Integer.parseInt(v.get("--iterations")), Integer.parseInt(v.get("--device")),
                    v.get("--json"));
        }

        KvLayout layout() {
            return format == DeviceKvFormat.MLA ? KvLayout.mla(layers, headDim, dtype) : KvLayout.standard(layers, kvHeads, headDim, dtype);
        }
    }

    public static void main(String[] args) {
        int status = run(args, System.out);
        if (status != 0) {
            System.exit(status);
        }
    }

    /** Runs the benchmark; 0 also when there is no GPU (after saying so), 2 for bad options. */
    static int run(String[] args, PrintStream out) {
        Options o;
        try {
            o = Options.parse(args);
            o.layout();
        } catch (IllegalArgumentException e) {
            out.println("KvCopyBenchmark: " + e.getMessage());
            out.println(Options.USAGE);
            return 2;
        }
        if (CudaAvailability.driverLibrary().isEmpty()) {
            return skipped(o, out, "no GPU: " + CudaAvailability.unavailableReason());
        }
        CudaDriver driver;
        try {
            driver = CudaDriver.open();
        } catch (IllegalStateException | CudaException e) {
            return skipped(o, out, "the CUDA driver is unusable: " + e.getMessage());
        }
        if (o.device() >= driver.deviceCount()) {
            return skipped(o, out, "no device " + o.device() + " (" + driver.deviceCount() + " CUDA devices)");
        }
        Measurement m = new Measurement(driver, o, out);
        m.run();
        if (!o.json().isEmpty()) {
            write(o.json(), m.json());
        }
        return 0;
    }

    /** Says why nothing ran, also as {@code {"gpu": false, "reason": ...}} with {@code --json}; exit status 0. */
    private static int skipped(Options o, PrintStream out, String reason) {
        out.println("KvCopyBenchmark: skipped, " + reason);
        if (!o.json().isEmpty()) {
            write(o.json(), "{\"gpu\": false, \"reason\": " + quote(reason) + "}\n");
        }
        return 0;
    }

    private static void write(String file, String json) {
        try {
            java.nio.file.Files.writeString(java.nio.file.Path.of(file), json);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("writing " + file, e);
        }
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", " ") + "\"";
    }

    /** One benchmark run on one device. */
    private static final class Measurement {
        private final CudaDriver driver;
        private final Options o;
        private final PrintStream out;
        private final KvLayout layout;
        private final int tokens;
        private final long totalBytes;
        private double plainD2h;
        private double plainH2d;
        private final List<String> rows = new ArrayList<>();
        private String deviceName = "";

        Measurement(CudaDriver driver, Options o, PrintStream out) {
            this.driver = driver;
            this.o = o;
            this.out = out;
            this.layout = o.layout();
            this.tokens = o.chunks() * o.chunkTokens();
            this.totalBytes = layout.chunkBytes(tokens);
        }

        void run() {
            int numBlocks = Math.ceilDiv(tokens, o.blockSize()) + 1;
            long layerBytes = (long) layout.planes() * numBlocks * o.blockSize() * layout.rowBytes();
            CudaContext context = driver.retainPrimaryContext(o.device());
            List<DevicePtr> allocations = new ArrayList<>();
            driver.pushContext(context);
            CudaStream stream = driver.createStream();
            long[] layerAddresses = new long[layout.numLayers()];
            for (int l = 0; l < layerAddresses.length; l++) {
                allocations.add(driver.allocate(layerBytes));
                layerAddresses[l] = allocations.getLast().address();
            }
            DevicePtr flat = driver.allocate(totalBytes);
            allocations.add(flat);
            driver.popContext();
            DeviceKvMemory kv = new DeviceKvMemory(layout, o.format(), o.device(), layerAddresses, numBlocks, o.blockSize());
            int[] slots = shuffledSlots(numBlocks);
            try (OffHeapSlab pinned = OffHeapSlab.allocate(totalBytes, false);
                 OffHeapSlab pageable = OffHeapSlab.allocate(totalBytes, false);
                 CudaCopyEngine staged = new CudaCopyEngine(() -> driver, false);
                 CudaCopyEngine zeroCopy = new CudaCopyEngine(() -> driver, true)) {
                List<ChunkCopy> chunks = chunks(pinned);
                List<ChunkCopy> pageableChunks = chunks(pageable);
                deviceName = driver.deviceName(o.device());
                out.printf("KvCopyBenchmark on %s (device %d): %s %s, %d B/token; %d chunks x %d tokens = %.1f MiB per pass,"
                                + " blocks of %d in shuffled order%n", driver.deviceName(o.device()), o.device(), o.format(), layout,
                        layout.bytesPerToken(), o.chunks(), o.chunkTokens(), totalBytes / 1048576.0, o.blockSize());
                out.printf("%-4s %-44s %10s %10s %8s%n", "dir", "path", "GB/s med", "GB/s best", "vs plain");
                try (HostRegistration _ = zeroCopy.registerHost(pinned.segment())) {
                    plainD2h = report("D2H", "plain cuMemcpyAsync into pinned memory", 0, () -> plainCopy(context, stream, flat, pinned, true));
                    report("D2H", "gather + D2H, pipelined (staged, one call)", plainD2h, () -> staged.gather(kv, slots, chunks));
                    report("D2H", "gather + D2H, not pipelined (a call per chunk)", plainD2h,
                            () -> chunks.forEach(c -> staged.gather(kv, slots, c.from(), c.to(), c.chunk())));
                    report("D2H", "gather into pinned memory (zero-copy)", plainD2h, () -> zeroCopy.gather(kv, slots, chunks));
                    plainH2d = report("H2D", "plain cuMemcpyAsync from pinned memory", 0, () -> plainCopy(context, stream, flat, pinned, false));
                    report("H2D", "H2D + scatter, pipelined (staged, one call)", plainH2d, () -> staged.scatter(chunks, kv, slots));
                    report("H2D", "H2D + scatter, not pipelined (a call per chunk)", plainH2d,
                            () -> chunks.forEach(c -> staged.scatter(c.chunk(), kv, slots, c.from(), c.to())));
                    report("H2D", "scatter from pinned memory (zero-copy)", plainH2d, () -> zeroCopy.scatter(chunks, kv, slots));
                }
                report("D2H", "gather + D2H into pageable memory, pipelined", plainD2h, () -> staged.gather(kv, slots, pageableChunks));
                report("H2D", "H2D + scatter from pageable memory, pipelined", plainH2d, () -> staged.scatter(pageableChunks, kv, slots));
                out.println("targets: PCIe Gen4 x16 ~25 GB/s, Gen5 x16 ~50 GB/s; the engine's pinned paths should reach"
                        + " 80% of the plain pinned copy");
            } finally {
                driver.pushContext(context);
                try {
                    allocations.forEach(driver::free);
                    driver.destroyStream(stream);
                } finally {
                    driver.popContext();
                    driver.releasePrimaryContext(context);
                }
            }
        }

        /** The run as JSON (the schema is in lmcache-gpu/README.md, "GPU check"). */
        String json() {
            return String.format(java.util.Locale.ROOT, "{\"gpu\": true, \"device\": %d, \"device_name\": %s, \"format\": \"%s\","
                            + " \"layout\": %s, \"bytes_per_pass\": %d, \"chunks\": %d, \"chunk_tokens\": %d, \"block_size\": %d,"
                            + " \"iterations\": %d, \"results\": [%s]}%n", o.device(), quote(deviceName), o.format(),
                    quote(layout.toString()), totalBytes, o.chunks(), o.chunkTokens(), o.blockSize(), o.iterations(),
                    String.join(", ", rows));
        }

        private void plainCopy(CudaContext context, CudaStream stream, DevicePtr flat, OffHeapSlab host, boolean toHost) {
            driver.pushContext(context);
            try {
                if (toHost) {
                    driver.copyToHost(host.segment().asSlice(0, totalBytes), flat, stream);
                } else {
                    driver.copyToDevice(flat, host.segment().asSlice(0, totalBytes), stream);
                }
                driver.synchronize(stream);
            } finally {
                driver.popContext();
            }
        }

        /** Times {@code pass} (2 warm-up passes, then {@code iterations}); prints and returns the median GB/s. */
        private double report(String direction, String path, double plain, Runnable pass) {
            pass.run();
            pass.run();
            double[] gbps = new double[Math.max(1, o.iterations())];
            for (int i = 0; i < gbps.length; i++) {
                long start = System.nanoTime();
                pass.run();
                gbps[i] = totalBytes / (double) (System.nanoTime() - start);
            }
            Arrays.sort(gbps);
            double median = gbps[gbps.length / 2];
            out.printf("%-4s %-44s %10.2f %10.2f %8s%n", direction, path, median, gbps[gbps.length - 1],
                    plain > 0 ? String.format("%.0f%%", 100 * median / plain) : "-");
            rows.add(String.format(java.util.Locale.ROOT, "{\"direction\": \"%s\", \"path\": %s, \"gbps_median\": %.3f,"
                    + " \"gbps_best\": %.3f, \"vs_plain\": %s}", direction, quote(path), median, gbps[gbps.length - 1],
                    plain > 0 ? String.format(java.util.Locale.ROOT, "%.4f", median / plain) : "null"));
            return median;
        }

        private List<ChunkCopy> chunks(OffHeapSlab slab) {
            List<ChunkCopy> chunks = new ArrayList<>();
            long chunkBytes = layout.chunkBytes(o.chunkTokens());
            for (int i = 0; i < o.chunks(); i++) {
                chunks.add(new ChunkCopy(i * o.chunkTokens(), (i + 1) * o.chunkTokens(), slab.segment().asSlice(i * chunkBytes, chunkBytes)));
            }
            return chunks;
        }

        /** Token t's slot through a shuffled block table, as a paged engine hands blocks out after a while. */
        private int[] shuffledSlots(int numBlocks) {
            int[] table = new int[numBlocks];
            Arrays.setAll(table, i -> i);
            SplittableRandom r = new SplittableRandom(42);
            for (int i = numBlocks - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = table[i];
                table[i] = table[j];
                table[j] = t;
            }
            int[] slots = new int[tokens];
            Arrays.setAll(slots, t -> table[t / o.blockSize()] * o.blockSize() + t % o.blockSize());
            return slots;
        }
    }
}

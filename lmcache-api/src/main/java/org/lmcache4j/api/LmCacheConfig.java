package org.lmcache4j.api;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The immutable configuration of a connector. Build it with {@link #builder()}; {@link Builder#fromEnvironment()}
 * reads LMCache's {@code LMCACHE_*} variables where they mean the same thing (table in the README).
 *
 * @param connector          name of the {@link org.lmcache4j.api.spi.KvConnectorProvider} to use
 * @param modelId            the model's identity ({@code LMCACHE_MODEL_ID}); part of every key. Empty (the default)
 *                           means not set, which only a connector without a disk or remote tier accepts:
 *                           KV kept across processes or machines must say which weights computed it. Use a
 *                           name that changes whenever the weights change (name + revision, such as
 *                           {@code Qwen/Qwen2.5-0.5B@7ae5c0e}, or a digest of the weights); no line breaks
 * @param chunkTokens        tokens per chunk ({@code LMCACHE_CHUNK_SIZE}, default 256)
 * @param localCpu           keep chunks in pinned off-heap CPU memory ({@code LMCACHE_LOCAL_CPU}, default true)
 * @param maxLocalCpuBytes   hard byte budget of the CPU tier ({@code LMCACHE_MAX_LOCAL_CPU_SIZE} in GiB, default 5)
 * @param localDisk          root directory of the disk tier, empty when off ({@code LMCACHE_LOCAL_DISK}; {@code off}
 *                           turns it off); default {@code $XDG_CACHE_HOME/lmcache4j} or {@code ~/.cache/lmcache4j}.
 *                           Each namespace (model, layout, tenant, rank) gets its own subdirectory
 * @param maxLocalDiskBytes  byte budget of the disk tier ({@code LMCACHE_MAX_LOCAL_DISK_SIZE} in GiB, default 10)
 * @param remoteUrl          URL of the shared remote store, empty when off ({@code LMCACHE_REMOTE_URL})
 * @param saveUnfullChunk    also store a prompt's partial last chunk ({@code LMCACHE_SAVE_UNFULL_CHUNK}, default false)
 * @param hashAlgorithm      chunk key hash ({@code LMCACHE_HASH_ALGORITHM}: sha256 (default) or xxh3_128)
 * @param tenantSalt         isolates tenants sharing a cache ({@code LMCACHE_TENANT_SALT}, default empty)
 * @param tpRank             tensor-parallel rank of this worker (default 0)
 * @param tpWorldSize        tensor-parallel world size (default 1)
 * @param pinTimeoutMillis   how long a pin from lookupAndPin lasts at most ({@code LMCACHE_PIN_TIMEOUT_MS}, default 30000,
 *                           at most one day)
 * @param recomputeTokensPerSecond the engine's prefill rate; when &gt; 0, lookups and retrieves leave out chunks
 *                           that would load slower than the engine recomputes them
 *                           ({@code LMCACHE_RECOMPUTE_TOKENS_PER_SECOND}, default 0 = off)
 * @param copyThreads        threads one store or retrieve may use to copy host KV ({@code LMCACHE_COPY_THREADS},
 *                           default the available processors, at most 4; 1 copies on the caller's thread only)
 * @param tiers              URLs of the tiers below the cpu tier, fastest first ({@code LMCACHE_TIERS}, comma-separated),
 *                           such as {@code file:///var/cache/kv,redis://cache:6379}; each is opened by the
 *                           {@link org.lmcache4j.api.spi.StorageTierProvider} of its scheme. Empty (the default)
 *                           means the list {@code localDisk} and {@code remoteUrl} make, which are shorthands for it:
 *                           when {@code tiers} is set, both are empty. See {@link #slowerTiers()}
 * @param diskCodec          how the disk tier of {@code localDisk} encodes chunks ({@code LMCACHE_DISK_CODEC}: raw (the
 *                           default), shuffle+nibble, shuffle+lz4, shuffle+zstd, or the lossy int8 or fp8-e4m3, with the lmcache-codec
 *                           module on the path); a tier in {@code tiers} takes a {@code codec=} option in its URL instead
 * @param remoteCodec        the same for the tier of {@code remoteUrl} ({@code LMCACHE_REMOTE_CODEC}, default raw)
 */
public record LmCacheConfig(String connector, String modelId, int chunkTokens, boolean localCpu, long maxLocalCpuBytes,
                            Optional<Path> localDisk, long maxLocalDiskBytes, Optional<String> remoteUrl,
                            boolean saveUnfullChunk, HashAlgorithm hashAlgorithm, String tenantSalt, int tpRank,
                            int tpWorldSize, long pinTimeoutMillis, double recomputeTokensPerSecond, int copyThreads,
                            List<String> tiers, String diskCodec, String remoteCodec) {

    /** The codec name of chunks stored as they are: the default of every tier. */
    public static final String RAW_CODEC = "raw";

    private static final long GIB = 1L << 30;

    /** The longest pin timeout: a pin is a hint for the next retrieve, not storage. */
    public static final long MAX_PIN_TIMEOUT_MILLIS = 86_400_000L;

    /**
     * The model id of the namespace of a connector whose {@code modelId} is not set (allowed only without
     * a disk or remote tier: its chunks never leave the process).
     */
    public static final String UNNAMED_MODEL = "unnamed-model";

    public LmCacheConfig {
        requireText("connector", connector);
        modelId = modelId == null ? "" : modelId;
        if (!modelId.isEmpty()) {
            CacheNamespace.requireModelId(modelId);
        }
        if (chunkTokens <= 0 || chunkTokens > (1 << 20)) {
            throw new IllegalArgumentException("chunkTokens: " + chunkTokens + " (expected: 1 to 1048576)");
        }
        if (maxLocalCpuBytes < 0) {
            throw new IllegalArgumentException("maxLocalCpuBytes: " + maxLocalCpuBytes + " (expected: >= 0)");
        }
        if (localCpu && maxLocalCpuBytes == 0) {
            throw new IllegalArgumentException("maxLocalCpuBytes: 0 (expected: > 0 when the local CPU tier is on)");
        }
        if (maxLocalDiskBytes < 0) {
            throw new IllegalArgumentException("maxLocalDiskBytes: " + maxLocalDiskBytes + " (expected: >= 0)");
        }
        if (localDisk == null || remoteUrl == null || hashAlgorithm == null) {
            throw new IllegalArgumentException("localDisk, remoteUrl and hashAlgorithm: must not be null (use Optional.empty())");
        }
        tenantSalt = tenantSalt == null ? "" : tenantSalt;
        CacheNamespace.requireWellFormed("tenantSalt", tenantSalt);
        if (tpWorldSize <= 0 || tpRank < 0 || tpRank >= tpWorldSize) {
            throw new IllegalArgumentException("tpRank: " + tpRank + ", tpWorldSize: " + tpWorldSize
                    + " (expected: tpWorldSize > 0 and 0 <= tpRank < tpWorldSize)");
        }
        if (!(recomputeTokensPerSecond >= 0) || Double.isInfinite(recomputeTokensPerSecond)) {
            throw new IllegalArgumentException("recomputeTokensPerSecond: " + recomputeTokensPerSecond
                    + " (expected: a finite rate >= 0; 0 turns the limit off)");
        }
        if (copyThreads < 1 || copyThreads > 256) {
            throw new IllegalArgumentException("copyThreads: " + copyThreads + " (expected: 1 to 256)");
        }
        if (pinTimeoutMillis <= 0 || pinTimeoutMillis > MAX_PIN_TIMEOUT_MILLIS) {
            throw new IllegalArgumentException("pinTimeoutMillis: " + pinTimeoutMillis + " (expected: 1 to "
                    + MAX_PIN_TIMEOUT_MILLIS + ", one day)");
        }
        tiers = tiers == null ? List.of() : List.copyOf(tiers);
        for (String url : tiers) {
            if (url.isBlank() || !url.matches("(?s)[A-Za-z][A-Za-z0-9+.-]*:.+")) {
                throw new IllegalArgumentException("tiers: '" + maskCredentials(url) + "' (expected: a URL with a scheme,"
                        + " such as file:///var/cache/kv or redis://cache:6379)");
            }
        }
        diskCodec = codecName("diskCodec", diskCodec);
        remoteCodec = codecName("remoteCodec", remoteCodec);
        if (tiers.isEmpty() && (localDisk.isEmpty() && !diskCodec.equals(RAW_CODEC) || remoteUrl.isEmpty() && !remoteCodec.equals(RAW_CODEC))) {
            throw new IllegalArgumentException("diskCodec " + diskCodec + " with localDisk " + localDisk.map(Path::toString).orElse("off")
                    + ", remoteCodec " + remoteCodec + " with remoteUrl " + remoteUrl.map(LmCacheConfig::maskCredentials).orElse("off")
                    + " (expected: a codec only for a tier that is on)");
        }
        if (!remoteCodec.equals(RAW_CODEC) && remoteUrl.filter(u -> u.matches("(?s)[^?#]*\\?([^#]*&)?codec=.*")).isPresent()) {
            throw new IllegalArgumentException("remoteCodec " + remoteCodec + " with remoteUrl " + maskCredentials(remoteUrl.get())
                    + " (expected: one of them naming the codec, not both)");
        }
        if (!tiers.isEmpty() && (!diskCodec.equals(RAW_CODEC) || !remoteCodec.equals(RAW_CODEC))) {
            throw new IllegalArgumentException("diskCodec " + diskCodec + ", remoteCodec " + remoteCodec + " with tiers "
                    + tiers.stream().map(LmCacheConfig::maskCredentials).toList() + " (expected: raw with a tiers list, whose"
                    + " URLs take a codec= option each, e.g. file:///var/cache/kv?codec=shuffle+zstd)");
        }
        if (!tiers.isEmpty() && (localDisk.isPresent() || remoteUrl.isPresent())) {
            throw new IllegalArgumentException("tiers: " + tiers.stream().map(LmCacheConfig::maskCredentials).toList()
                    + " with localDisk " + localDisk.map(Path::toString).orElse("off") + " and remoteUrl "
                    + remoteUrl.map(LmCacheConfig::maskCredentials).orElse("off") + " (expected: either the tiers list or its"
                    + " shorthands localDisk/remoteUrl (LMCACHE_LOCAL_DISK, LMCACHE_REMOTE_URL); put a disk tier in the"
                    + " list as file:///path)");
        }
    }

    /**
     * The URLs of the tiers below the cpu tier, fastest first: {@link #tiers()} when set, else the disk tier
     * at {@code localDisk} as a {@code file:} URL followed by {@code remoteUrl}, each when set.
     */
    public List<String> slowerTiers() {
        if (!tiers.isEmpty()) {
            return tiers;
        }
        List<String> urls = new ArrayList<>(2);
        localDisk.ifPresent(d -> urls.add(withCodec(d.toAbsolutePath().toUri().toString(), diskCodec)));
        remoteUrl.ifPresent(u -> urls.add(withCodec(u, remoteCodec)));
        return List.copyOf(urls);
    }

    /** The config of an earlier release, without codecs: every tier stores chunks raw. */
    public LmCacheConfig(String connector, String modelId, int chunkTokens, boolean localCpu, long maxLocalCpuBytes,
                         Optional<Path> localDisk, long maxLocalDiskBytes, Optional<String> remoteUrl,
                         boolean saveUnfullChunk, HashAlgorithm hashAlgorithm, String tenantSalt, int tpRank,
                         int tpWorldSize, long pinTimeoutMillis, double recomputeTokensPerSecond, int copyThreads,
                         List<String> tiers) {
        this(connector, modelId, chunkTokens, localCpu, maxLocalCpuBytes, localDisk, maxLocalDiskBytes, remoteUrl, saveUnfullChunk,
                hashAlgorithm, tenantSalt, tpRank, tpWorldSize, pinTimeoutMillis, recomputeTokensPerSecond, copyThreads, tiers,
                RAW_CODEC, RAW_CODEC);
    }

    /** {@code url} with a {@code codec=} option added, unless the codec is raw (the tiers' default). */
    private static String withCodec(String url, String codec) {
        if (codec.equals(RAW_CODEC)) {
            return url;
        }
        int fragment = url.indexOf('#');
        String base = fragment < 0 ? url : url.substring(0, fragment);
        String tail = fragment < 0 ? "" : url.substring(fragment);
        return base + (base.contains("?") ? "&" : "?") + "codec=" + codec + tail;
    }

    private static String codecName(String name, String value) {
        String v = value == null || value.isBlank() ? RAW_CODEC : value.strip().toLowerCase(Locale.ROOT);
        if (!v.matches("[a-z0-9][a-z0-9+._-]*")) {
            throw new IllegalArgumentException(name + ": '" + value + "' (expected: a codec name such as raw, shuffle+nibble, shuffle+lz4,"
                    + " shuffle+zstd, int8 or fp8-e4m3)");
        }
        return v;
    }

    /** True when {@code modelId} was set (the disk and remote tiers need it). */
    public boolean hasModelId() {
        return !modelId.isEmpty();
    }

    /** A builder holding the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** The defaults: CPU tier of 5 GiB, disk tier of 10 GiB under the user's cache directory, 256-token chunks, SHA-256 keys. */
    public static LmCacheConfig defaults() {
        return builder().build();
    }

    /**
     * The namespace of this config for an engine of {@code layout}; its model id is {@value #UNNAMED_MODEL}
     * when {@code modelId} is not set.
     */
    public CacheNamespace namespace(KvLayout layout) {
        return new CacheNamespace(hasModelId() ? modelId : UNNAMED_MODEL, layout.fingerprint(), tenantSalt, tpRank,
                tpWorldSize);
    }

    /** The full identity of this config's KV for an engine of {@code layout}: what disk and remote tiers record. */
    public CacheIdentity identity(KvLayout layout) {
        return new CacheIdentity(namespace(layout), chunkTokens, hashAlgorithm);
    }

    /**
     * The fields, with the remote URL's credentials masked and the tenant salt left out (the effective
     * config is logged at open).
     */
    @Override
    public String toString() {
        return "LmCacheConfig[connector=" + connector + ", modelId=" + (hasModelId() ? modelId : "(not set)")
                + ", chunkTokens=" + chunkTokens + ", localCpu=" + localCpu + ", maxLocalCpuBytes=" + maxLocalCpuBytes
                + ", localDisk=" + localDisk.map(Path::toString).orElse("off") + ", maxLocalDiskBytes=" + maxLocalDiskBytes
                + ", remoteUrl=" + remoteUrl.map(LmCacheConfig::maskCredentials).orElse("off")
                + ", saveUnfullChunk=" + saveUnfullChunk + ", hashAlgorithm=" + hashAlgorithm
                + ", tenantSalt=" + (tenantSalt.isEmpty() ? "(none)" : "(set)") + ", tpRank=" + tpRank
                + ", tpWorldSize=" + tpWorldSize + ", pinTimeoutMillis=" + pinTimeoutMillis
                + ", recomputeTokensPerSecond=" + recomputeTokensPerSecond + ", copyThreads=" + copyThreads
                + ", tiers=" + (tiers.isEmpty() ? "(localDisk, remoteUrl)" : tiers.stream().map(LmCacheConfig::maskCredentials).toList())
                + ", diskCodec=" + diskCodec + ", remoteCodec=" + remoteCodec + "]";
    }

    /** {@code url} with any user info and secret-looking query values replaced by {@code ***}. */
    static String maskCredentials(String url) {
        // Everything between "://" and the last '@' is user info, whatever characters a malformed URL puts there.
        int scheme = url.indexOf("://");
        int at = url.lastIndexOf('@');
        String masked = scheme >= 0 && at > scheme ? url.substring(0, scheme + 3) + "***" + url.substring(at) : url;
        return masked.replaceAll("(?i)((?:password|passwd|pass|pwd|token|secret|auth)[^=&]*=)[^&#]*", "$1***");
    }

    /** A builder starting from this config's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.connector = connector;
        b.modelId = modelId;
        b.chunkTokens = chunkTokens;
        b.localCpu = localCpu;
        b.maxLocalCpuBytes = maxLocalCpuBytes;
        b.localDisk = localDisk;
        b.maxLocalDiskBytes = maxLocalDiskBytes;
        b.remoteUrl = remoteUrl;
        b.saveUnfullChunk = saveUnfullChunk;
        b.hashAlgorithm = hashAlgorithm;
        b.tenantSalt = tenantSalt;
        b.tpRank = tpRank;
        b.tpWorldSize = tpWorldSize;
        b.pinTimeoutMillis = pinTimeoutMillis;
        b.recomputeTokensPerSecond = recomputeTokensPerSecond;
        b.copyThreads = copyThreads;
        b.tiers = tiers;
        b.diskCodec = diskCodec;
        b.remoteCodec = remoteCodec;
        return b;
    }

    /** {@code $XDG_CACHE_HOME/lmcache4j}, else {@code ~/.cache/lmcache4j}. */
    static Path defaultDiskDirectory() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("lmcache4j");
    }

    private static void requireText(String name, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(name + ": '" + value + "' (expected: non-blank text)");
        }
    }

    /** Builds an {@link LmCacheConfig}; every setter's default is the one documented on the record. */
    public static final class Builder {
        private String connector = "tiered";
        private String modelId = "";
        private int chunkTokens = 256;
        private boolean localCpu = true;
        private long maxLocalCpuBytes = 5 * GIB;
        private Optional<Path> localDisk = Optional.of(defaultDiskDirectory());
        private long maxLocalDiskBytes = 10 * GIB;
        private Optional<String> remoteUrl = Optional.empty();
        private boolean saveUnfullChunk = false;
        private HashAlgorithm hashAlgorithm = HashAlgorithm.SHA_256;
        private String tenantSalt = "";
        private int tpRank = 0;
        private int tpWorldSize = 1;
        private long pinTimeoutMillis = 30_000;
        private double recomputeTokensPerSecond = 0;
        private int copyThreads = Math.min(4, Runtime.getRuntime().availableProcessors());
        private List<String> tiers = List.of();
        private String diskCodec = RAW_CODEC;
        private String remoteCodec = RAW_CODEC;
        /** The builder's fields set from {@code LMCACHE_*} variables, field to variable, for the errors of {@link #build()}. */
        private final Map<String, String> fromEnvironment = new java.util.LinkedHashMap<>();
        /** True when {@link #localDisk} was called with a directory, not only left at the default. */
        private boolean localDiskChosen;

        private Builder() {
        }

        public Builder connector(String name) {
            this.connector = name;
            return this;
        }

        /**
         * The model's identity: a name that changes whenever the weights change (name + revision, or a
         * digest of the weights). Required by the disk and remote tiers.
         */
        public Builder modelId(String modelId) {
            this.modelId = modelId;
            return this;
        }

        public Builder chunkTokens(int chunkTokens) {
            this.chunkTokens = chunkTokens;
            return this;
        }

        public Builder localCpu(boolean on) {
            this.localCpu = on;
            return this;
        }

        public Builder maxLocalCpuBytes(long bytes) {
            this.maxLocalCpuBytes = bytes;
            return this;
        }

        /** The disk tier's root directory; null turns the disk tier off. */
        public Builder localDisk(Path directory) {
            this.localDisk = Optional.ofNullable(directory);
            this.localDiskChosen = directory != null;
            return this;
        }

        /** Turns the disk tier off (the cpu tier alone). */
        public Builder noLocalDisk() {
            return localDisk(null);
        }

        public Builder maxLocalDiskBytes(long bytes) {
            this.maxLocalDiskBytes = bytes;
            return this;
        }

        public Builder remoteUrl(String url) {
            this.remoteUrl = Optional.ofNullable(url).filter(u -> !u.isBlank());
            return this;
        }

        /**
         * The tiers below the cpu tier, fastest first, by URL ({@code file:///var/cache/kv},
         * {@code redis://cache:6379}); replaces the default disk tier. The {@code localDisk}/{@code remoteUrl}
         * shorthands cannot be set with it (build fails); an empty list goes back to them.
         */
        public Builder tiers(List<String> urls) {
            this.tiers = List.copyOf(urls);
            return this;
        }

        /** {@link #tiers(List)} of {@code urls}. */
        public Builder tiers(String... urls) {
            return tiers(Arrays.asList(urls));
        }

        public Builder saveUnfullChunk(boolean on) {
            this.saveUnfullChunk = on;
            return this;
        }

        public Builder hashAlgorithm(HashAlgorithm algorithm) {
            this.hashAlgorithm = algorithm;
            return this;
        }

        public Builder tenantSalt(String salt) {
            this.tenantSalt = salt;
            return this;
        }

        public Builder tensorParallel(int rank, int worldSize) {
            this.tpRank = rank;
            this.tpWorldSize = worldSize;
            return this;
        }

        public Builder pinTimeoutMillis(long millis) {
            this.pinTimeoutMillis = millis;
            return this;
        }

        /** The engine's prefill rate in tokens/s, so slow tiers never make TTFT worse; 0 turns it off. */
        public Builder recomputeTokensPerSecond(double tokensPerSecond) {
            this.recomputeTokensPerSecond = tokensPerSecond;
            return this;
        }

        /** Threads one store or retrieve may use to copy host KV; 1 keeps every copy on the caller's thread. */
        public Builder copyThreads(int threads) {
            this.copyThreads = threads;
            return this;
        }

        /** Applies the {@code LMCACHE_*} variables of the process environment that are set. */
        public Builder fromEnvironment() {
            return fromEnvironment(System.getenv());
        }

        /** Applies the {@code LMCACHE_*} entries of {@code env} that are set; unknown names are ignored. */
        public Builder fromEnvironment(Map<String, String> env) {
            EnvReader r = new EnvReader(env);
            r.text("LMCACHE_CONNECTOR").ifPresent(this::connector);
            fromEnv(env, "LMCACHE_CONNECTOR", "connector");
            r.text("LMCACHE_MODEL_ID").ifPresent(this::modelId);
            fromEnv(env, "LMCACHE_MODEL_ID", "modelId");
            r.integer("LMCACHE_CHUNK_SIZE").ifPresent(this::chunkTokens);
            fromEnv(env, "LMCACHE_CHUNK_SIZE", "chunkTokens");
            r.bool("LMCACHE_LOCAL_CPU").ifPresent(this::localCpu);
            r.gib("LMCACHE_MAX_LOCAL_CPU_SIZE").ifPresent(this::maxLocalCpuBytes);
            fromEnv(env, "LMCACHE_MAX_LOCAL_CPU_SIZE", "maxLocalCpuBytes");
            fromEnv(env, "LMCACHE_LOCAL_DISK", "localDisk");
            r.text("LMCACHE_LOCAL_DISK").ifPresent(v -> localDisk(switch (v.toLowerCase(Locale.ROOT)) {
                case "off", "none", "false" -> null;
                default -> r.path("LMCACHE_LOCAL_DISK").orElseThrow();
            }));
            r.gib("LMCACHE_MAX_LOCAL_DISK_SIZE").ifPresent(this::maxLocalDiskBytes);
            fromEnv(env, "LMCACHE_MAX_LOCAL_DISK_SIZE", "maxLocalDiskBytes");
            r.text("LMCACHE_REMOTE_URL").ifPresent(this::remoteUrl);
            fromEnv(env, "LMCACHE_REMOTE_URL", "remoteUrl");
            r.list("LMCACHE_TIERS").ifPresent(this::tiers);
            fromEnv(env, "LMCACHE_TIERS", "tiers");
            r.bool("LMCACHE_SAVE_UNFULL_CHUNK").ifPresent(this::saveUnfullChunk);
            r.hashAlgorithm("LMCACHE_HASH_ALGORITHM").ifPresent(this::hashAlgorithm);
            r.text("LMCACHE_TENANT_SALT").ifPresent(this::tenantSalt);
            fromEnv(env, "LMCACHE_TENANT_SALT", "tenantSalt");
            r.integer("LMCACHE_TP_RANK").ifPresent(rank -> this.tpRank = rank);
            fromEnv(env, "LMCACHE_TP_RANK", "tpRank");
            r.integer("LMCACHE_TP_WORLD_SIZE").ifPresent(size -> this.tpWorldSize = size);
            fromEnv(env, "LMCACHE_TP_WORLD_SIZE", "tpWorldSize");
            r.integer("LMCACHE_PIN_TIMEOUT_MS").ifPresent(this::pinTimeoutMillis);
            fromEnv(env, "LMCACHE_PIN_TIMEOUT_MS", "pinTimeoutMillis");
            r.decimal("LMCACHE_RECOMPUTE_TOKENS_PER_SECOND").ifPresent(this::recomputeTokensPerSecond);
            fromEnv(env, "LMCACHE_RECOMPUTE_TOKENS_PER_SECOND", "recomputeTokensPerSecond");
            r.integer("LMCACHE_COPY_THREADS").ifPresent(this::copyThreads);
            fromEnv(env, "LMCACHE_COPY_THREADS", "copyThreads");
            r.text("LMCACHE_DISK_CODEC").ifPresent(this::diskCodec);
            fromEnv(env, "LMCACHE_DISK_CODEC", "diskCodec");
            r.text("LMCACHE_REMOTE_CODEC").ifPresent(this::remoteCodec);
            fromEnv(env, "LMCACHE_REMOTE_CODEC", "remoteCodec");
            return this;
        }

        /** Remembers that {@code field} came from {@code variable}, when set in {@code env}: a refusal of it names the variable. */
        private void fromEnv(Map<String, String> env, String variable, String field) {
            String v = env.get(variable);
            if (v != null && !v.isBlank()) {
                fromEnvironment.put(field, variable);
            }
        }

        public LmCacheConfig build() {
            // A tiers list replaces the default disk tier; a disk directory chosen on this builder conflicts with it.
            Optional<Path> disk = tiers.isEmpty() || localDiskChosen ? localDisk : Optional.empty();
            try {
                return new LmCacheConfig(connector, modelId, chunkTokens, localCpu, maxLocalCpuBytes, disk,
                        maxLocalDiskBytes, remoteUrl, saveUnfullChunk, hashAlgorithm, tenantSalt, tpRank, tpWorldSize,
                        pinTimeoutMillis, recomputeTokensPerSecond, copyThreads, tiers, diskCodec, remoteCodec);
            } catch (IllegalArgumentException e) {
                List<String> variables = fromEnvironment.entrySet().stream()
                        .filter(f -> java.util.regex.Pattern.compile("\\b" + f.getKey() + "\\b").matcher(e.getMessage()).find())
                        .map(Map.Entry::getValue).toList();
                if (variables.isEmpty()) {
                    throw e;
                }
                throw new IllegalArgumentException(e.getMessage() + " (set from the environment: " + String.join(", ", variables) + ")", e);
            }
        }

        /** How the disk tier of {@link #localDisk} encodes chunks (see {@link LmCacheConfig#diskCodec()}). */
        public Builder diskCodec(String codec) {
            this.diskCodec = codec;
            return this;
        }

        /** How the tier of {@link #remoteUrl} encodes chunks (see {@link LmCacheConfig#remoteCodec()}). */
        public Builder remoteCodec(String codec) {
            this.remoteCodec = codec;
            return this;
        }
    }

    /** Parses environment values; every error names the variable, the value and what was expected. */
    private record EnvReader(Map<String, String> env) {

        Optional<String> text(String name) {
            String v = env.get(name);
            return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.trim());
        }

        /** A comma-separated list, blank entries left out. */
        Optional<List<String>> list(String name) {
            return text(name).map(v -> Arrays.stream(v.split(",")).map(String::trim).filter(e -> !e.isEmpty()).toList());
        }

        Optional<Integer> integer(String name) {
            return text(name).map(v -> {
                try {
                    return Integer.parseInt(v);
                } catch (NumberFormatException e) {
                    throw bad(name, v, "an integer");
                }
            });
        }

        Optional<Double> decimal(String name) {
            return text(name).map(v -> {
                try {
                    return Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw bad(name, v, "a number");
                }
            });
        }

        Optional<Boolean> bool(String name) {
            return text(name).map(v -> switch (v.toLowerCase(Locale.ROOT)) {
                case "true", "1", "yes", "on" -> true;
                case "false", "0", "no", "off" -> false;
                default -> throw bad(name, v, "true or false");
            });
        }

        Optional<Long> gib(String name) {
            return text(name).map(v -> {
                double gib;
                try {
                    gib = Double.parseDouble(v);
                } catch (NumberFormatException e) {
                    throw bad(name, v, "a size in GiB such as 5 or 0.5");
                }
                if (!(gib >= 0) || gib > 1 << 20) {
                    throw bad(name, v, "a size in GiB from 0 to 1048576");
                }
                return (long) (gib * GIB);
            });
        }

        Optional<HashAlgorithm> hashAlgorithm(String name) {
            return text(name).map(v -> {
                try {
                    return HashAlgorithm.parse(v);
                } catch (IllegalArgumentException e) {
                    throw bad(name, v, "sha256 or xxh3_128");
                }
            });
        }

        Optional<Path> path(String name) {
            return text(name).map(v -> {
                String p = v.startsWith("file://") ? v.substring("file://".length()) : v;
                if (p.isEmpty()) {
                    throw bad(name, v, "a directory path or file:///path");
                }
                return Path.of(p);
            });
        }

        private static IllegalArgumentException bad(String name, String value, String expected) {
            return new IllegalArgumentException(name + ": '" + value + "' (expected: " + expected + ")");
        }
    }
}

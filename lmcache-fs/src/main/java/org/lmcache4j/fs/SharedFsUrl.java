package org.lmcache4j.fs;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.lmcache4j.storage.tier.TierCodec;
import org.lmcache4j.storage.tier.TierUrl;

/**
 * Where the shared-filesystem tier lives and how it behaves, parsed from its URL:
 * <pre>
 *   fs:///mnt/kv?capacity=500g[&amp;option=value...]
 *   shared+file:///mnt/kv?capacity=500g[&amp;...]        the same
 * </pre>
 * Options: {@code capacity} (required: bytes all engines together may keep in the identity's directory,
 * with a {@code k}, {@code m}, {@code g} or {@code t} suffix; the directory is shared, so its size is the
 * operator's, never {@code LmCacheConfig.maxLocalDiskBytes}), {@code sweepMillis} (how often this engine
 * sweeps the directory down to the budget; default 30000; 0: never on its own, for an engine that leaves
 * sweeping to others), {@code staleTempMillis} (age after which a
 * sweep deletes a temporary file a killed writer left; default 600000), {@code touchMillis} (a read moves
 * a chunk file's modification time to now when it is older than this, so the sweep sees it as recently used;
 * default 60000), {@code fsync} ({@code true} or {@code false}: force each file before its rename;
 * default true) and {@code codec} (how this engine encodes the chunks it writes: raw by default, or a
 * {@link org.lmcache4j.api.spi.KvCodec} on the path such as {@code shuffle+zstd}; chunks are read with the
 * codec that wrote them, so engines with different settings share one directory).
 *
 * @param text            the URL as given
 * @param directory       the shared root; the tier's files go to the identity's subdirectory of it
 * @param capacityBytes   budget of the identity's directory, all engines together
 * @param sweepMillis     interval of this engine's sweeps; 0 for none in the background
 * @param staleTempMillis age of a temporary file that a sweep deletes
 * @param touchMillis     age of a chunk file's modification time that a read renews
 * @param fsync           force files before renaming them
 * @param codec           the {@code codec} option, or null when absent (raw)
 */
record SharedFsUrl(String text, Path directory, long capacityBytes, long sweepMillis, long staleTempMillis, long touchMillis,
                   boolean fsync, String codec) {

    static final Set<String> SCHEMES = Set.of("fs", "shared+file");
    static final long DEFAULT_SWEEP_MILLIS = 30_000;
    static final long DEFAULT_STALE_TEMP_MILLIS = 600_000;
    static final long DEFAULT_TOUCH_MILLIS = 60_000;
    private static final Set<String> OPTIONS = Set.of("capacity", "sweepMillis", "staleTempMillis", "touchMillis", "fsync",
            TierCodec.URL_OPTION);
    private static final String EXAMPLE = "fs:///mnt/kv?capacity=500g";

    /**
     * Parses {@code url}.
     *
     * @throws IllegalArgumentException naming the part and what was expected, when it is malformed
     */
    static SharedFsUrl parse(String url) {
        int sep = url == null ? -1 : url.indexOf("://");
        String scheme = sep < 0 ? "" : url.substring(0, sep).toLowerCase(Locale.ROOT);
        if (!SCHEMES.contains(scheme)) {
            throw bad(url, "scheme", "fs:// or shared+file://, such as " + EXAMPLE);
        }
        TierUrl parsed = TierUrl.parse(url, scheme, OPTIONS);
        Map<String, String> options = parsed.options();
        String path = parsed.path();
        if (!path.startsWith("/")) {
            throw bad(url, "path '" + path + "'", "an absolute directory path, such as " + EXAMPLE);
        }
        if (!options.containsKey("capacity")) {
            throw bad(url, "no capacity", "the bytes all engines may keep in the shared directory, such as " + EXAMPLE);
        }
        String fsync = options.getOrDefault("fsync", "true");
        if (!fsync.equals("true") && !fsync.equals("false")) {
            throw bad(url, "fsync '" + fsync + "'", "true or false");
        }
        return new SharedFsUrl(url, Path.of(path), parsed.bytes("capacity", 0, 1),
                parsed.millis("sweepMillis", DEFAULT_SWEEP_MILLIS, 0),
                parsed.millis("staleTempMillis", DEFAULT_STALE_TEMP_MILLIS, 0),
                parsed.millis("touchMillis", DEFAULT_TOUCH_MILLIS, 0), Boolean.parseBoolean(fsync), options.get(TierCodec.URL_OPTION));
    }

    private static IllegalArgumentException bad(String url, String what, String expected) {
        return TierUrl.bad(url, what, expected);
    }
}

package org.lmcache4j.nativeio;

import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probes native capabilities once per JVM and logs one warning naming what is missing. Set
 * {@code -Dlmcache.native.disable=true} to force the plain-JDK fallback.
 */
final class NativeProbe {

    static final String DISABLE_PROPERTY = "lmcache.native.disable";

    private static final Logger LOG = LoggerFactory.getLogger(NativeProbe.class);

    private NativeProbe() {
    }

    private static final class Holder {
        static final Optional<Libc> LIBC = probe();
    }

    static Optional<Libc> libc() {
        return Holder.LIBC;
    }

    private static Optional<Libc> probe() {
        if (Boolean.getBoolean(DISABLE_PROPERTY)) {
            LOG.warn("native libc access disabled by -D{}=true: off-heap slabs use plain Arena memory "
                    + "(not mlock'ed, no huge pages)", DISABLE_PROPERTY);
            return Optional.empty();
        }
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            LOG.warn("native libc access needs Linux (this is {}): off-heap slabs use plain Arena memory "
                    + "(not mlock'ed, no huge pages)", System.getProperty("os.name"));
            return Optional.empty();
        }
        try {
            Libc libc = Libc.link();
            // One real round trip proves the downcalls work (and that native access is enabled).
            long page = 4096;
            var probe = libc.mmapAnonymous(page);
            libc.munmap(probe.address(), page);
            return Optional.of(libc);
        } catch (RuntimeException | LinkageError e) {
            LOG.warn("native libc access unavailable ({}): off-heap slabs use plain Arena memory "
                    + "(not mlock'ed, no huge pages). Run with --enable-native-access=ALL-UNNAMED "
                    + "(or the module name) on Linux to enable it", e.toString());
            return Optional.empty();
        }
    }
}

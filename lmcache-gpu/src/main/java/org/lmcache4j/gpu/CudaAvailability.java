package org.lmcache4j.gpu;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the CUDA driver library can be loaded in this process, probed once per JVM.
 *
 * <p>The probe only asks the dynamic loader for {@code libcuda.so.1}; it never touches a CUDA binding,
 * because LWJGL's CUDA classes fail on first use without a driver and stay broken afterwards
 * ({@code UnsatisfiedLinkError}, then {@code NoClassDefFoundError}). Check here first, and link the GPU
 * copy engine only when {@link #driverLibrary()} is present.
 */
public final class CudaAvailability {

    /** The driver's versioned name: the only one a driver install guarantees (no unversioned symlink). */
    static final String DRIVER_LIBRARY = "libcuda.so.1";

    private static final Logger LOG = LoggerFactory.getLogger(CudaAvailability.class);

    private CudaAvailability() {
    }

    /** The outcome of the one probe: the library when it loaded, else why not. */
    private record Probe(Optional<String> library, String unavailableReason) {
    }

    private static final class Holder {
        static final Probe RESULT = probe();
    }

    /** The name of the CUDA driver library that loaded ({@code libcuda.so.1}), or empty when there is none. */
    public static Optional<String> driverLibrary() {
        return Holder.RESULT.library();
    }

    /** Why the driver is unavailable, naming the library; the empty string when it is available. */
    public static String unavailableReason() {
        return Holder.RESULT.unavailableReason();
    }

    @SuppressWarnings("restricted") // loading a native library: the one place this module does it
    private static Probe probe() {
        String reason;
        try {
            // Arena.global(): once loaded, the driver stays loaded for the life of the process.
            SymbolLookup.libraryLookup(DRIVER_LIBRARY, Arena.global());
            return new Probe(Optional.of(DRIVER_LIBRARY), "");
        } catch (IllegalArgumentException e) {
            reason = "CUDA driver library " + DRIVER_LIBRARY + " cannot be loaded (" + e.getMessage()
                    + "): no NVIDIA driver on this machine";
        } catch (IllegalCallerException e) {
            reason = "CUDA driver library " + DRIVER_LIBRARY + " not probed: native access is not enabled for "
                    + CudaAvailability.class.getModule() + " (run with --enable-native-access=org.lmcache4j.gpu, "
                    + "or ALL-UNNAMED on the class path)";
        }
        LOG.warn("{}; GPU copies are off and device-resident engine KV is not cached", reason);
        return new Probe(Optional.empty(), reason);
    }
}

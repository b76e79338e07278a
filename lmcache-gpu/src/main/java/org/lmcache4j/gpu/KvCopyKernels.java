package org.lmcache4j.gpu;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The gather and scatter kernels, loaded into the current context from the device code compiled out of
 * {@code src/main/cuda/kv_copy.cu} by {@code scripts/build-kernels.sh}: first the fatbin (SASS for sm_80 and
 * sm_90, PTX for newer GPUs), then the sm_90 PTX, then the sm_80 PTX ({@value #PTX_RESOURCE}), which the driver
 * JIT-compiles for any GPU of compute capability 8.0 or higher. The first image the driver loads is used.
 */
record KvCopyKernels(CudaModule module, CudaFunction gather, CudaFunction scatter) {

    /** The sm_80 PTX resource, beside this class: the last image tried, the one every supported GPU can load. */
    static final String PTX_RESOURCE = "kv_copy.ptx";
    /** The device code tried in order. */
    static final List<String> IMAGES = List.of("kv_copy.fatbin", "kv_copy_sm90.ptx", PTX_RESOURCE);
    static final String GATHER = "lmc_kv_gather";
    static final String SCATTER = "lmc_kv_scatter";

    /**
     * Loads the first image the driver takes and looks up both kernels; unloads it again if a lookup fails.
     *
     * @throws CudaException the sm_80 PTX's load failure when no image loads
     */
    static KvCopyKernels load(DeviceApi api) {
        CudaException failure = null;
        for (String resource : IMAGES) {
            CudaModule module;
            try {
                module = loadImage(api, resource(resource));
            } catch (CudaException e) {
                failure = e;
                continue;
            }
            boolean ok = false;
            try {
                KvCopyKernels kernels = new KvCopyKernels(module, api.function(module, GATHER), api.function(module, SCATTER));
                ok = true;
                return kernels;
            } finally {
                if (!ok) {
                    api.unloadModule(module);
                }
            }
        }
        throw failure;
    }

    private static CudaModule loadImage(DeviceApi api, byte[] bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment image = arena.allocate(bytes.length + 1L); // zeroed: the trailing NUL PTX text needs
            MemorySegment.copy(bytes, 0, image, JAVA_BYTE, 0, bytes.length);
            return api.loadModule(image);
        }
    }

    /** The sm_80 PTX text. */
    static byte[] ptx() {
        return resource(PTX_RESOURCE);
    }

    /** A device-code resource beside this class. */
    static byte[] resource(String name) {
        try (InputStream in = KvCopyKernels.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("kernel resource org/lmcache4j/gpu/" + name
                        + " missing from the lmcache-gpu jar (expected: built by scripts/build-kernels.sh)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("reading kernel resource " + name, e);
        }
    }

    void unload(DeviceApi api) {
        api.unloadModule(module);
    }
}

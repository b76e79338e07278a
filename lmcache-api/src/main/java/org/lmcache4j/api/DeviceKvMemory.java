package org.lmcache4j.api;

import java.util.Arrays;

/**
 * Engine KV kept in device (GPU) memory as paged blocks, one base address per layer. Declared here;
 * copies in and out are done by a {@link org.lmcache4j.api.spi.DeviceCopyEngine} found through
 * {@link java.util.ServiceLoader} (the {@code lmcache-gpu} module).
 */
public final class DeviceKvMemory implements EngineKvMemory {

    private final KvLayout layout;
    private final DeviceKvFormat format;
    private final int deviceOrdinal;
    private final long[] layerAddresses;
    private final int numBlocks;
    private final int blockSize;
    private final long engineStream;

    /**
     * @param layout         the KV layout
     * @param format         the paged format of every layer's tensor
     * @param deviceOrdinal  CUDA device ordinal, &gt;= 0
     * @param layerAddresses per layer, the device address of the layer's tensor (copied)
     * @param numBlocks      blocks per layer, &gt;= 0
     * @param blockSize      tokens per block, &gt; 0
     */
    public DeviceKvMemory(KvLayout layout, DeviceKvFormat format, int deviceOrdinal, long[] layerAddresses,
                          int numBlocks, int blockSize) {
        if (layout == null || format == null || layerAddresses == null) {
            throw new IllegalArgumentException("layout, format and layerAddresses: must not be null");
        }
        if ((format == DeviceKvFormat.MLA) != layout.mla()) {
            throw new IllegalArgumentException("format: " + format + " (expected: MLA exactly when the layout is MLA)");
        }
        if (layerAddresses.length != layout.numLayers()) {
            throw new IllegalArgumentException("layerAddresses: " + layerAddresses.length
                    + " (expected: " + layout.numLayers() + ", one per layer)");
        }
        if (deviceOrdinal < 0 || numBlocks < 0 || blockSize <= 0 || (long) numBlocks * blockSize > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("deviceOrdinal: " + deviceOrdinal + ", numBlocks: " + numBlocks
                    + ", blockSize: " + blockSize + " (expected: >= 0, >= 0, > 0, numBlocks * blockSize < 2^31)");
        }
        this.layout = layout;
        this.format = format;
        this.deviceOrdinal = deviceOrdinal;
        this.layerAddresses = layerAddresses.clone();
        this.numBlocks = numBlocks;
        this.blockSize = blockSize;
        this.engineStream = 0;
    }

    private DeviceKvMemory(DeviceKvMemory kv, long engineStream) {
        this.layout = kv.layout;
        this.format = kv.format;
        this.deviceOrdinal = kv.deviceOrdinal;
        this.layerAddresses = kv.layerAddresses;
        this.numBlocks = kv.numBlocks;
        this.blockSize = kv.blockSize;
        this.engineStream = engineStream;
    }

    /**
     * The same memory, with the engine's work on it queued on CUDA stream {@code engineStream} ({@code CUstream}):
     * the layerwise calls order their copies against that stream ({@code awaitLayer} makes it wait for a layer;
     * a layer announced done is copied after the work queued on it so far).
     */
    public DeviceKvMemory onStream(long engineStream) {
        return new DeviceKvMemory(this, engineStream);
    }

    /** The engine's CUDA stream for the layerwise calls; 0, the legacy default stream, unless set by {@link #onStream}. */
    public long engineStream() {
        return engineStream;
    }

    @Override
    public KvLayout layout() {
        return layout;
    }

    @Override
    public int numSlots() {
        return numBlocks * blockSize;
    }

    public DeviceKvFormat format() {
        return format;
    }

    public int deviceOrdinal() {
        return deviceOrdinal;
    }

    /** Device address of {@code layer}'s tensor. */
    public long layerAddress(int layer) {
        return layerAddresses[layer];
    }

    public int numBlocks() {
        return numBlocks;
    }

    public int blockSize() {
        return blockSize;
    }

    @Override
    public String toString() {
        return "DeviceKvMemory[" + format + ", device " + deviceOrdinal + ", " + numBlocks + "x" + blockSize
                + ", layers " + Arrays.toString(layerAddresses) + (engineStream == 0 ? "" : ", stream " + engineStream) + "]";
    }
}

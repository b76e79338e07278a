package org.lmcache4j.api;

/** Checks of layer indices for the layerwise calls. */
final class Layers {

    private Layers() {
    }

    static void require(int layer, int numLayers) {
        if (layer < 0 || layer >= numLayers) {
            throw new IllegalArgumentException("layer: " + layer + " (expected: 0 to " + (numLayers - 1) + ")");
        }
    }
}

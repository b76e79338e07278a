package org.lmcache4j.blend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link BlendModel} that computes nothing real and records everything: which positions each layer projected,
 * wrote and finished, and each K row written. Its "fresh" K of a position is a constant row whose value the test
 * sets, so the check layer's deviations are chosen by the test; its KV memory starts as the test fills it.
 */
final class RecordingModel implements BlendModel {

    final int layers;
    final int kvHeads;
    final RotaryEmbedding rope;
    final int rowFloats;
    /** K rows in "KV memory": layer -> position -> row. */
    final Map<Integer, Map<Integer, float[]>> keys = new HashMap<>();
    /** The value of every element of a position's fresh K (default 0). */
    final Map<Integer, Float> freshValue = new HashMap<>();
    final List<String> calls = new ArrayList<>();
    final Map<Integer, int[]> written = new HashMap<>();
    final Map<Integer, int[]> finished = new HashMap<>();
    final List<Integer> keyWrites = new ArrayList<>();

    RecordingModel(int layers, int kvHeads, RotaryEmbedding rope) {
        this.layers = layers;
        this.kvHeads = kvHeads;
        this.rope = rope;
        this.rowFloats = kvHeads * rope.headDim();
    }

    /** Puts a K row of {@code value} everywhere for {@code positions} of every layer (the "retrieved" KV). */
    void fill(int from, int to, float value) {
        for (int l = 0; l < layers; l++) {
            for (int p = from; p < to; p++) {
                float[] row = new float[rowFloats];
                Arrays.fill(row, value);
                keys.computeIfAbsent(l, x -> new HashMap<>()).put(p, row);
            }
        }
    }

    @Override
    public int numLayers() {
        return layers;
    }

    @Override
    public int kvHeads() {
        return kvHeads;
    }

    @Override
    public RotaryEmbedding rotary() {
        return rope;
    }

    @Override
    public void readKeys(int layer, int[] positions, float[] dst) {
        for (int i = 0; i < positions.length; i++) {
            float[] row = keys.getOrDefault(layer, Map.of()).getOrDefault(positions[i], new float[rowFloats]);
            System.arraycopy(row, 0, dst, i * rowFloats, rowFloats);
        }
    }

    @Override
    public void writeKeys(int layer, int[] positions, float[] src) {
        for (int i = 0; i < positions.length; i++) {
            keys.computeIfAbsent(layer, x -> new HashMap<>()).put(positions[i], Arrays.copyOfRange(src, i * rowFloats, (i + 1) * rowFloats));
            keyWrites.add(layer);
        }
    }

    @Override
    public void embed(int[] positions) {
        calls.add("embed " + positions.length);
    }

    @Override
    public void project(int layer, int[] positions, float[] freshKeys) {
        calls.add("project " + layer + " " + positions.length);
        for (int i = 0; i < positions.length; i++) {
            Arrays.fill(freshKeys, i * rowFloats, (i + 1) * rowFloats, freshValue.getOrDefault(positions[i], 0f));
        }
    }

    @Override
    public void writeKv(int layer, int[] positions) {
        written.put(layer, positions.clone());
    }

    @Override
    public void finishLayer(int layer, int[] positions) {
        finished.put(layer, positions.clone());
    }

    @Override
    public float[] logits(int position) {
        return new float[] {position};
    }
}

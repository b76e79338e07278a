package org.lmcache4j.examples.engine;

import org.lmcache4j.blend.BlendModel;
import org.lmcache4j.blend.RotaryEmbedding;
import org.lmcache4j.examples.model.ModelShape;

/** The reference engine as a {@link BlendModel}: one blended prefill of one sequence, through the transformer's steps. */
final class EngineBlendModel implements BlendModel {

    private final Transformer transformer;
    private final Sequence seq;
    private final int[] tokens;
    private final ModelShape shape;
    private final float[] row;
    private Transformer.Pass pass;

    EngineBlendModel(Transformer transformer, Sequence seq, int[] tokens, ModelShape shape) {
        this.transformer = transformer;
        this.seq = seq;
        this.tokens = tokens;
        this.shape = shape;
        this.row = new float[shape.kvDim()];
    }

    /** The engine's RoPE: every dimension rotated, no scaling; pairs as the model's type has them. */
    static RotaryEmbedding rotary(ModelShape shape) {
        return RotaryEmbedding.standard(shape.headDim(), shape.ropeTheta(),
                shape.neoxRope() ? RotaryEmbedding.Pairs.HALVES : RotaryEmbedding.Pairs.ADJACENT);
    }

    @Override
    public int numLayers() {
        return shape.layers();
    }

    @Override
    public int kvHeads() {
        return shape.kvHeads();
    }

    @Override
    public RotaryEmbedding rotary() {
        return rotary(shape);
    }

    @Override
    public void readKeys(int layer, int[] positions, float[] dst) {
        for (int i = 0; i < positions.length; i++) {
            seq.readKey(layer, positions[i], dst, i * shape.kvDim());
        }
    }

    @Override
    public void writeKeys(int layer, int[] positions, float[] src) {
        for (int i = 0; i < positions.length; i++) {
            seq.writeKey(layer, positions[i], src, i * shape.kvDim(), row);
        }
    }

    @Override
    public void embed(int[] positions) {
        pass = transformer.embed(tokens, positions);
    }

    @Override
    public void project(int layer, int[] positions, float[] freshKeys) {
        transformer.project(pass, layer, positions);
        transformer.projectedKeys(pass, positions, freshKeys);
    }

    @Override
    public void writeKv(int layer, int[] positions) {
        transformer.writeKv(seq, pass, layer, positions);
    }

    @Override
    public void finishLayer(int layer, int[] positions) {
        transformer.finishLayer(seq, pass, layer, positions);
    }

    @Override
    public float[] logits(int position) {
        return transformer.logits(pass, position);
    }
}

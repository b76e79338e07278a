/**
 * CacheBlend for any engine: {@link org.lmcache4j.blend.Blender} (re-rotation, deviation, selection, the layer
 * schedule), {@link org.lmcache4j.blend.BlendModel} (what the engine computes for it),
 * {@link org.lmcache4j.blend.RotaryEmbedding} (the positional encodings it can move).
 */
package org.lmcache4j.blend;

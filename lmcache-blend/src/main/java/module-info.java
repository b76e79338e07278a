/**
 * Non-prefix KV reuse (LMCache's CacheBlend): {@link org.lmcache4j.blend.Blender} drives a prefill in which
 * cached segments' KV is reused at new positions and only the tokens that depend most on the rest are
 * recomputed, over {@link org.lmcache4j.blend.BlendModel}, which the engine implements.
 */
module org.lmcache4j.blend {
    requires transitive org.lmcache4j.api;

    exports org.lmcache4j.blend;
}

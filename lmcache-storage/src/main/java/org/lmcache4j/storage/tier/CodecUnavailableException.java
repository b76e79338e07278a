package org.lmcache4j.storage.tier;

/**
 * A stored chunk names a codec this process cannot decode with (its module is not on the path, or the
 * tier was opened without a KV layout). The chunk may be fine for others: a tier shared by many engines
 * serves it as a miss here and leaves it in place, where a corrupt chunk would be dropped.
 */
public final class CodecUnavailableException extends CorruptChunkException {

    private static final long serialVersionUID = 1L;

    /** As {@link CorruptChunkException#CorruptChunkException(String, String)}. */
    public CodecUnavailableException(String where, String what) {
        super(where, what);
    }
}

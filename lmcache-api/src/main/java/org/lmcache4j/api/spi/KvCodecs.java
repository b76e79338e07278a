package org.lmcache4j.api.spi;

import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/**
 * Finds {@link KvCodec}s on the class or module path by name (configuration) or id (a stored chunk). An
 * unknown name is an error that names the codecs found and the module that provides lmcache4j's own.
 */
public final class KvCodecs {

    /** The configured name of "store chunks as they are", which needs no codec module. */
    public static final String RAW = "raw";

    private KvCodecs() {
    }

    /**
     * The codec configured as {@code name} (case-insensitive).
     *
     * @throws IllegalArgumentException when no codec on the path has that name ({@value #RAW} included: it is
     *                                  no codec, callers handle it themselves)
     */
    public static KvCodec byName(String name) {
        String key = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        Map<String, KvCodec> found = byName();
        KvCodec codec = found.get(key);
        if (codec == null) {
            throw new IllegalArgumentException("codec '" + name + "': not on the class or module path (expected: " + RAW
                    + " or one of " + found.keySet() + "; lmcache4j's codecs are in the lmcache-codec module, Maven artifact "
                    + "org.lmcache4j:lmcache-codec)");
        }
        return codec;
    }

    /**
     * The codec that stored a chunk under {@code id}.
     *
     * @throws IllegalArgumentException when no codec on the path has that id (the chunk cannot be read here)
     */
    public static KvCodec byId(int id) {
        KvCodec c = Registry.BY_ID.get(id);
        if (c == null) {
            throw new IllegalArgumentException("codec id " + id + ": no codec on the class or module path has it (expected: one of "
                    + Registry.BY_ID.values().stream().map(x -> x.id() + " (" + x.name() + ")").toList() + ")");
        }
        return c;
    }

    /** Every codec on the path by name, sorted. */
    public static Map<String, KvCodec> byName() {
        return Registry.BY_NAME;
    }

    /**
     * The codecs on the path, loaded once: a chunk's id is looked up on every read of an encoded chunk. Two
     * codecs of one id or name would make what a chunk decodes to depend on the class path's order, so they
     * are refused, as is an id outside 1-255 (what a chunk header holds).
     */
    private static final class Registry {
        static final Map<Integer, KvCodec> BY_ID;
        static final Map<String, KvCodec> BY_NAME;

        static {
            Map<Integer, KvCodec> byId = new TreeMap<>();
            Map<String, KvCodec> byName = new TreeMap<>();
            for (KvCodec c : ServiceLoader.load(KvCodec.class, KvCodecs.class.getClassLoader())) {
                if (c.id() < 1 || c.id() > 255) {
                    throw new IllegalStateException("codec " + c.name() + " (" + c.getClass().getName() + "): id " + c.id()
                            + " (expected: 1 to 255; 0 is raw)");
                }
                KvCodec sameId = byId.putIfAbsent(c.id(), c);
                KvCodec sameName = byName.putIfAbsent(c.name().toLowerCase(Locale.ROOT), c);
                if (sameId != null || sameName != null) {
                    KvCodec other = sameId != null ? sameId : sameName;
                    throw new IllegalStateException("codecs " + other.getClass().getName() + " and " + c.getClass().getName()
                            + " both claim " + (sameId != null ? "id " + c.id() : "name " + c.name()) + " (expected: one codec per id and"
                            + " name on the path; two lmcache-codec jars, or a codec reusing an id?)");
                }
            }
            BY_ID = java.util.Collections.unmodifiableMap(byId);
            BY_NAME = java.util.Collections.unmodifiableMap(byName);
        }
    }
}

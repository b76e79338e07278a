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
        for (KvCodec c : loaded()) {
            if (c.id() == id) {
                return c;
            }
        }
        throw new IllegalArgumentException("codec id " + id + ": no codec on the class or module path has it (expected: one of "
                + byName().values().stream().map(c -> c.id() + " (" + c.name() + ")").toList() + ")");
    }

    /** Every codec on the path by name, sorted. */
    public static Map<String, KvCodec> byName() {
        Map<String, KvCodec> found = new TreeMap<>();
        for (KvCodec c : loaded()) {
            found.putIfAbsent(c.name().toLowerCase(Locale.ROOT), c);
        }
        return found;
    }

    private static Iterable<KvCodec> loaded() {
        return ServiceLoader.load(KvCodec.class, KvCodecs.class.getClassLoader());
    }
}

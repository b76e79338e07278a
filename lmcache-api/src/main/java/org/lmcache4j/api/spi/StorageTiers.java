package org.lmcache4j.api.spi;

import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import org.lmcache4j.api.CacheIdentity;

/**
 * Opens tiers by the scheme of their URL through the {@link StorageTierProvider}s on the class or module
 * path: the one place a tier URL meets its implementation. An unknown scheme is an error that names the
 * schemes found and the module that provides the one asked for, when it is one of lmcache4j's.
 */
public final class StorageTiers {

    /** Modules of lmcache4j that provide a scheme, for the error when that module is missing. */
    private static final Map<String, String> MODULE_OF_SCHEME = Map.ofEntries(
            Map.entry("file", "lmcache-storage"),
            Map.entry("cpu", "lmcache-storage"),
            Map.entry("fs", "lmcache-fs"), Map.entry("shared+file", "lmcache-fs"),
            Map.entry("redis", "lmcache-redis"), Map.entry("rediss", "lmcache-redis"),
            Map.entry("valkey", "lmcache-redis"), Map.entry("valkeys", "lmcache-redis"),
            Map.entry("redis-cluster", "lmcache-redis"), Map.entry("rediss-cluster", "lmcache-redis"),
            Map.entry("valkey-cluster", "lmcache-redis"), Map.entry("valkeys-cluster", "lmcache-redis"),
            Map.entry("pool", "lmcache-pool"));

    private StorageTiers() {
    }

    /**
     * Opens the tier at {@code url} with the provider of its scheme ({@link StorageTierProvider#open}).
     *
     * @throws IllegalArgumentException when the URL has no scheme, no provider on the path opens its scheme,
     *                                  or the provider finds it malformed
     * @throws TierUnavailableException as {@link StorageTierProvider#open}
     */
    public static StorageTier open(String url, CacheIdentity identity, TierOptions options) {
        return provider(url).open(url, identity, options);
    }

    /**
     * The provider of {@code url}'s scheme.
     *
     * @throws IllegalArgumentException when the URL has no scheme or no provider on the path opens it
     */
    public static StorageTierProvider provider(String url) {
        String scheme = scheme(url);
        Map<String, StorageTierProvider> found = providers();
        StorageTierProvider provider = found.get(scheme);
        if (provider == null) {
            String module = MODULE_OF_SCHEME.get(scheme);
            throw new IllegalArgumentException("tier URL " + masked(url) + ": no tier provider for scheme '" + scheme
                    + "' on the class or module path (expected: one of " + found.keySet() + (module == null
                    ? "; add the module that provides '" + scheme + "'" : "; add the " + module + " module (Maven artifact "
                    + "org.lmcache4j:" + module + ") to the class or module path for '" + scheme + "'") + ")");
        }
        return provider;
    }

    /** Every scheme a provider on the class or module path opens, with its provider, sorted by scheme. */
    public static Map<String, StorageTierProvider> providers() {
        Map<String, StorageTierProvider> found = new TreeMap<>();
        for (StorageTierProvider p : ServiceLoader.load(StorageTierProvider.class, StorageTiers.class.getClassLoader())) {
            for (String s : p.schemes()) {
                found.putIfAbsent(s.toLowerCase(Locale.ROOT), p);
            }
        }
        return found;
    }

    /**
     * The scheme of {@code url}, lower case: what comes before its first {@code ':'}.
     *
     * @throws IllegalArgumentException when there is none
     */
    public static String scheme(String url) {
        if (url == null) {
            throw new IllegalArgumentException("tier URL: null (expected: a URL such as file:///var/cache/kv)");
        }
        int colon = url.indexOf(':');
        String scheme = colon <= 0 ? "" : url.substring(0, colon).toLowerCase(Locale.ROOT);
        if (scheme.isEmpty() || !scheme.matches("[a-z][a-z0-9+.-]*")) {
            throw new IllegalArgumentException("tier URL " + masked(url) + ": no scheme (expected: scheme://..., such as "
                    + "file:///var/cache/kv or redis://cache:6379)");
        }
        return scheme;
    }

    /** {@code url} with anything between {@code ://} and the last {@code '@'} (credentials) hidden. */
    static String masked(String url) {
        int start = url.indexOf("://");
        int at = url.lastIndexOf('@');
        return start >= 0 && at > start ? url.substring(0, start + 3) + "***" + url.substring(at) : "'" + url + "'";
    }
}

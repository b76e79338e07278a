package org.lmcache4j.storage.tier;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The URL of a tier on this machine ({@code file:///var/cache/kv?capacity=20g}, {@code cpu://?capacity=1g}),
 * split into its path and its query options; every error names the URL, the part and what was expected.
 * Tier modules parse their URLs with it ({@code fs://}), so every tier reads options the same way.
 *
 * @param url     the URL as written
 * @param path    the path, decoded; empty for none
 * @param options the query options, decoded, in order
 */
public record TierUrl(String url, String path, Map<String, String> options) {

    /**
     * Parses {@code url} of {@code scheme}, accepting only the option names in {@code known}.
     *
     * @throws IllegalArgumentException when it is not {@code scheme://[host]/path[?name=value&...]} or names
     *                                  an option not in {@code known}
     */
    public static TierUrl parse(String url, String scheme, Set<String> known) {
        String prefix = scheme + "://";
        if (!url.regionMatches(true, 0, prefix, 0, prefix.length())) {
            throw bad(url, "scheme", scheme + "://...");
        }
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        Map<String, String> options = new LinkedHashMap<>();
        if (q >= 0) {
            for (String pair : url.substring(q + 1).split("&")) {
                if (pair.isEmpty()) {
                    continue;
                }
                int eq = pair.indexOf('=');
                String name = decode(url, eq < 0 ? pair : pair.substring(0, eq));
                if (!known.contains(name)) {
                    throw bad(url, "option '" + name + "'", "one of " + known);
                }
                options.put(name, eq < 0 ? "" : decode(url, pair.substring(eq + 1)));
            }
        }
        String rest = base.substring(prefix.length());
        int slash = rest.indexOf('/');
        String path = slash < 0 ? "" : decode(url, rest.substring(slash));
        return new TierUrl(url, path, options);
    }

    /** The path as a directory of this machine, from a {@code file:} URL's absolute path. */
    public Path directory() {
        if (path.isEmpty() || !path.startsWith("/")) {
            throw bad(url, "path '" + path + "'", "an absolute directory path, such as file:///var/cache/kv");
        }
        return Path.of(path);
    }

    /** Option {@code name} in bytes (a number with an optional k, m, g or t suffix), or {@code dflt} when absent. */
    public long bytes(String name, long dflt, long min) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        String s = v.strip().toLowerCase(Locale.ROOT);
        int shift = switch (s.isEmpty() ? ' ' : s.charAt(s.length() - 1)) {
            case 'k' -> 10;
            case 'm' -> 20;
            case 'g' -> 30;
            case 't' -> 40;
            default -> 0;
        };
        if (shift > 0) {
            s = s.substring(0, s.length() - 1);
        }
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(s), 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad(url, name + " '" + v + "'", "bytes, optionally with a k, m, g or t suffix");
        }
        if (n < min) {
            throw bad(url, name + " " + v, "at least " + min + " bytes");
        }
        return n;
    }

    /** Option {@code name} in milliseconds, or {@code dflt} when absent. */
    public long millis(String name, long dflt, long min) {
        String v = options.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            long n = Long.parseLong(v.strip());
            if (n >= min) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw bad(url, name + " '" + v + "'", "milliseconds, at least " + min);
    }

    private static String decode(String url, String s) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw bad(url, "bad percent-encoding", "%XX with two hexadecimal digits");
        }
    }

    public static IllegalArgumentException bad(String url, String what, String expected) {
        return new IllegalArgumentException("tier URL '" + url + "': " + what + " (expected: " + expected + ")");
    }
}

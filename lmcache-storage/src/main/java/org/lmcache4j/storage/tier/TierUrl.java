package org.lmcache4j.storage.tier;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;

/**
 * The URL of a tier on this machine ({@code file:///var/cache/kv?capacity=20g}, {@code cpu://?capacity=1g}),
 * split into its path and its query options; every error names the URL, the part and what was expected.
 * Tier modules parse their URLs with it ({@code fs://}), so every tier reads options the same way; a tier whose
 * URL has more than a path ({@code redis://user:password@host}) reads its options with {@link UrlOptions}.
 *
 * @param url   the URL as written
 * @param path  the path, decoded; empty for none
 * @param query the query options, decoded, in order
 */
public record TierUrl(String url, String path, UrlOptions query) {

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
        String subject = subject(url);
        int q = url.indexOf('?');
        String base = q < 0 ? url : url.substring(0, q);
        UrlOptions query = UrlOptions.parse(subject, q < 0 ? "" : url.substring(q + 1), known);
        String rest = base.substring(prefix.length());
        int slash = rest.indexOf('/');
        String path = slash < 0 ? "" : UrlOptions.decode(subject, rest.substring(slash), "the path");
        return new TierUrl(url, path, query);
    }

    /** The query options, decoded, in order. */
    public Map<String, String> options() {
        return query.values();
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
        return query.bytes(name, dflt, min, Long.MAX_VALUE);
    }

    /** Option {@code name} in milliseconds, or {@code dflt} when absent. */
    public long millis(String name, long dflt, long min) {
        return query.millis(name, dflt, min);
    }

    /** An error about {@code url}: {@code "tier URL '<url>': <what> (expected: <expected>)"}. */
    public static IllegalArgumentException bad(String url, String what, String expected) {
        return UrlOptions.bad(subject(url), what, expected);
    }

    private static String subject(String url) {
        return "tier URL '" + url + "'";
    }
}

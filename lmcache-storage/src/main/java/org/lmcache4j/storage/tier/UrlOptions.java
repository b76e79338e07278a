package org.lmcache4j.storage.tier;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.SequencedSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * The query options of a tier URL ({@code ?capacity=20g&ttlSeconds=60}), decoded, checked against the names the
 * tier knows, and read by name as bytes, milliseconds or bounded whole numbers. Every tier reads its options with
 * it ({@link TierUrl} for the tiers of this machine, the remote tier for its {@code redis://} URL), so an option is
 * read, and refused, the same way in every URL.
 *
 * <p>Every error starts with {@code subject}, names the part and says what was expected:
 * {@code tier URL 'fs:///kv?capacity=lots': capacity 'lots' (expected: bytes, optionally with a k, m, g or t
 * suffix)}. A pair without a name or without {@code '='} is refused without being shown, and a malformed
 * percent-escape is named by where it is, never shown: either may be a password.
 *
 * @param subject how errors name the URL, such as {@code tier URL 'cpu://?capacity=1g'}; a URL with a password in
 *                it is given masked
 * @param values  the options, decoded, in the order written
 */
public record UrlOptions(String subject, Map<String, String> values) {

    /** Copies {@code values}, keeping their order. */
    public UrlOptions {
        values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /**
     * Parses {@code query} (what follows the {@code '?'}, empty for none), accepting only the names in {@code known}.
     * Empty pairs ({@code a=1&&b=2}, a trailing {@code '&'}) are skipped; of a name given twice the last value counts.
     *
     * @param known the option names the tier reads; a {@link SequencedSet} lists them in its order in errors,
     *              any other set in alphabetical order
     * @throws IllegalArgumentException when a pair has no {@code '='} or no name, an escape is malformed, or a
     *                                  name is not in {@code known}
     */
    public static UrlOptions parse(String subject, String query, Set<String> known) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                // not echoed: a value without its name may be a password
                throw bad(subject, eq < 0 ? "an option without '='" : "an option without a name", "name=value");
            }
            String name = decode(subject, pair.substring(0, eq), "an option name");
            if (!known.contains(name)) {
                throw bad(subject, "option '" + name + "'", oneOf(known));
            }
            values.put(name, decode(subject, pair.substring(eq + 1), "the value of option '" + name + "'"));
        }
        return new UrlOptions(subject, values);
    }

    /** The value of option {@code name}, as written (decoded), or empty when absent. */
    public Optional<String> value(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /**
     * Option {@code name} in bytes (a number with an optional {@code k}, {@code m}, {@code g} or {@code t} suffix,
     * powers of 1024), from {@code min} to {@code max}; {@code dflt} when absent.
     */
    public long bytes(String name, long dflt, long min, long max) {
        String v = values.get(name);
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
        boolean bounded = max < Long.MAX_VALUE;
        long n;
        try {
            n = Math.multiplyExact(Long.parseLong(s), 1L << shift);
        } catch (NumberFormatException | ArithmeticException e) {
            throw bad(name + " '" + v + "'", "bytes, optionally with a k, m, g or t suffix" + (bounded ? ", from " + min + " to " + max : ""));
        }
        if (n < min || n > max) {
            throw bad(name + " " + v, (bounded ? min + " to " + max : "at least " + min) + " bytes");
        }
        return n;
    }

    /** Option {@code name} in milliseconds, at least {@code min}; {@code dflt} when absent. */
    public long millis(String name, long dflt, long min) {
        String expected = "milliseconds, at least " + min;
        return number(name, dflt, min, Long.MAX_VALUE, expected, expected);
    }

    /** Option {@code name} as a whole number from {@code min} to {@code max}; {@code dflt} when absent. */
    public long wholeNumber(String name, long dflt, long min, long max) {
        return number(name, dflt, min, max, "a whole number from " + min + " to " + max, min + " to " + max);
    }

    private long number(String name, long dflt, long min, long max, String expectedNumber, String expectedRange) {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw bad(name + " '" + v + "'", expectedNumber);
        }
        if (n < min || n > max) {
            throw bad(name + " " + n, expectedRange);
        }
        return n;
    }

    /** An error about this URL: {@code what} was found, {@code expected} was expected. */
    public IllegalArgumentException bad(String what, String expected) {
        return bad(subject, what, expected);
    }

    /** An error about the URL {@code subject} names: {@code "<subject>: <what> (expected: <expected>)"}. */
    public static IllegalArgumentException bad(String subject, String what, String expected) {
        return new IllegalArgumentException(subject + ": " + what + " (expected: " + expected + ")");
    }

    /**
     * {@code s} percent-decoded, a {@code '+'} kept as it is (it means a space only in HTML forms); a malformed
     * escape is named by {@code where} ({@code "the path"}), never shown.
     */
    public static String decode(String subject, String s, String where) {
        try {
            return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            // no cause: the decoder's message shows the bytes around the bad escape
            throw bad(subject, "bad percent-encoding in " + where, "%XX with two hexadecimal digits, such as %40 for '@'");
        }
    }

    /** {@code "a, b or c"}: the names in the set's own order when it has one, else alphabetically. */
    private static String oneOf(Set<String> known) {
        List<String> names = List.copyOf(known instanceof SequencedSet<String> ordered ? ordered : new TreeSet<>(known));
        if (names.size() < 2) {
            return names.isEmpty() ? "no options" : names.getFirst();
        }
        return String.join(", ", names.subList(0, names.size() - 1)) + " or " + names.getLast();
    }
}
